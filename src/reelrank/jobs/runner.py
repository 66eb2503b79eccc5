"""Claims queued jobs and runs them: light ones in the scheduler thread, the rest in a process each.

Job processes come from a fork server that has already imported the job code, so one starts in tens of
milliseconds. A job process is killable, returns its memory when it ends, and dies with its parent
(PR_SET_PDEATHSIG; the fork server itself exits with the server).
Ownership is a token in the job row: whatever a run publishes is published in a transaction that checks
the token, so a run left over from before a restart can never publish.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import multiprocessing.forkserver
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path

from reelrank.config import Settings
from reelrank.store.datasets import DatasetFiles
from reelrank.store.metadata import Job, MetadataStore

from .context import JobContext, JobFailed, JobLost, failed_status, pending_status
from .handlers import HANDLERS
from .kinds import LIGHT_KINDS

log = logging.getLogger(__name__)
STOPPED = "CREATE STOPPED"
PERIODIC_SECONDS = 60.0
MAX_ATTEMPTS = 3
"""A job interrupted by a restart is resumed from the start until it has been tried this many times."""
_POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


def execute(context: JobContext) -> None:
    """Run one job to its end, recording success or a failure reason."""
    try:
        HANDLERS[context.kind](context)
    except JobLost as lost:
        log.warning("job %s stopped: %s", context.arn, lost)
    except JobFailed as failure:
        context.fail(str(failure))
    except Exception as error:
        log.error("job %s crashed:\n%s", context.arn, traceback.format_exc())
        context.fail(f"Internal error while running the job: {type(error).__name__}: {error}")


def _context(settings: Settings, store: MetadataStore, files: DatasetFiles, job: Job) -> JobContext:
    return JobContext(settings, store, files, job.arn, job.kind, job.token or "", job.payload)


def _child_main(settings: Settings, job: Job) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    logging.basicConfig(level=logging.INFO)
    store = MetadataStore(settings.database_url)
    try:
        execute(_context(settings, store, DatasetFiles(settings.datasets_dir), job))
    finally:
        store.dispose()


class JobRunner:
    def __init__(self, settings: Settings, store: MetadataStore, files: DatasetFiles) -> None:
        self.settings = settings
        self.store = store
        self.files = files
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._children: dict[str, BaseProcess] = {}
        self._thread: threading.Thread | None = None
        self.periodic: list[Callable[[float], object]] = []
        """Called with the time about once a minute from the scheduler thread (e.g. automatic training)."""
        self._next_periodic = 0.0
        self._processes = multiprocessing.get_context("forkserver")
        self._processes.set_forkserver_preload(["reelrank.jobs.runner"])

    def start(self) -> None:
        self.recover()
        multiprocessing.forkserver.ensure_running()  # pay the fork server's imports now, not on the first job
        self._thread = threading.Thread(target=self._loop, name="reelrank-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)
        for process in self._children.values():
            process.kill()
            process.join(timeout=5)

    def recover(self) -> None:
        """Resolve jobs left running by a crash: resume them, or fail them after MAX_ATTEMPTS tries."""
        with self.store.transaction() as tx:
            for job in tx.running_jobs():
                resource = tx.get_resource(job.arn)
                if resource is None:
                    tx.set_job_state(job.arn, "failed")
                    continue
                if job.attempts >= MAX_ATTEMPTS:
                    reason = (f"The job was interrupted by a server restart {job.attempts} times and was not "
                              "resumed again.")
                    tx.update_resource(job.arn, status=failed_status(job.kind),
                                       body=dict(resource.body, failureReason=reason))
                    tx.set_job_state(job.arn, "failed")
                else:
                    log.info("resuming job %s interrupted by a restart", job.arn)
                    tx.update_resource(job.arn, status=pending_status(job.kind, "CREATE PENDING"))
                    tx.set_job_state(job.arn, "queued")
        self._collect_garbage()

    def _collect_garbage(self) -> None:
        """Remove data set files that no published version lists (left by failed or killed jobs)."""
        with self.store.transaction() as tx:
            listed: dict[Path, set[str]] = {folder: set() for folder in self.files.existing_folders()}
            for dataset in tx.list_resources("dataset"):
                folder = self.files.folder(dataset.arn)
                if folder in listed:
                    listed[folder] = tx.all_dataset_files(dataset.arn)
        for folder, names in listed.items():
            for path in folder.iterdir():
                if self.files.relative(path) not in names:
                    path.unlink()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._run_periodic()
                self._reap()
                self._launch()
            except Exception:
                log.exception("job scheduler error")
            self._wake.wait(_POLL_SECONDS)
            self._wake.clear()

    def _run_periodic(self) -> None:
        now = time.time()
        if now < self._next_periodic:
            return
        self._next_periodic = now + PERIODIC_SECONDS
        for task in self.periodic:
            task(now)

    def _launch(self) -> None:
        """Start queued jobs: light ones always, the others while fewer than `max_concurrent_jobs` run."""
        while not self._stop.is_set():
            full = len(self._children) >= self.settings.max_concurrent_jobs
            with self.store.transaction() as tx:
                job = tx.claim_job(LIGHT_KINDS if full else None)
            if job is None:
                return
            if job.kind in LIGHT_KINDS:
                execute(_context(self.settings, self.store, self.files, job))
                continue
            process = self._processes.Process(target=_child_main, args=(self.settings, job),
                                          name=f"reelrank-job-{job.kind}", daemon=True)
            process.start()
            self._children[job.arn] = process

    def _reap(self) -> None:
        if self._children:
            with self.store.transaction() as tx:
                cancelled = {arn for arn in self._children if tx.job_state(arn) == "cancelled"}
        else:
            cancelled = set()
        for arn, process in list(self._children.items()):
            if arn in cancelled and process.is_alive():
                process.kill()
            if process.is_alive():
                continue
            process.join()
            del self._children[arn]
            if arn in cancelled:
                self._mark_stopped(arn)
            elif process.exitcode:
                self._fail_if_still_running(arn, process.exitcode)

    def _mark_stopped(self, arn: str) -> None:
        """A stopped job (StopSolutionVersionCreation) ends as CREATE STOPPED once its process is gone."""
        with self.store.transaction() as tx:
            tx.update_resource(arn, status=STOPPED)
            tx.set_job_state(arn, "stopped")

    def _fail_if_still_running(self, arn: str, exitcode: int) -> None:
        with self.store.transaction() as tx:
            running = {job.arn: job for job in tx.running_jobs()}
            job = running.get(arn)
            resource = tx.get_resource(arn)
            if job is None or resource is None:
                return
            reason = f"The worker process ended unexpectedly (exit code {exitcode})."
            tx.update_resource(arn, status=failed_status(job.kind), body=dict(resource.body, failureReason=reason))
            tx.set_job_state(arn, "failed")

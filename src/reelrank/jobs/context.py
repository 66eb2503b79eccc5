"""What a running job sees: its resource, its progress, and whether it still owns the job."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from reelrank.config import Settings
from reelrank.service.vocabulary import (
    CREATE_FAILED,
    CREATE_IN_PROGRESS,
    FAILED,
    IN_PROGRESS,
    PENDING,
)
from reelrank.store.datasets import DatasetFiles
from reelrank.store.metadata import JobRows, MetadataStore, Resource, Transaction

from .kinds import BATCH_INFERENCE, BATCH_SEGMENT, DATA_DELETION


class JobFailed(Exception):
    """Ends a job with CREATE FAILED (or FAILED); the message becomes its failureReason."""


class JobLost(Exception):
    """The job was taken away (a restart or a stop) while it ran: publish nothing."""


def in_progress_status(kind: str) -> str:
    return {DATA_DELETION: IN_PROGRESS, BATCH_INFERENCE: "IN PROGRESS", BATCH_SEGMENT: "IN PROGRESS"}.get(
        kind, CREATE_IN_PROGRESS)


def failed_status(kind: str) -> str:
    return FAILED if kind == DATA_DELETION else CREATE_FAILED


def pending_status(kind: str, default: str) -> str:
    return PENDING if kind in (DATA_DELETION, BATCH_INFERENCE, BATCH_SEGMENT) else default


@dataclass
class JobContext:
    settings: Settings
    store: MetadataStore
    files: DatasetFiles
    arn: str
    kind: str
    token: str
    payload: dict[str, Any]

    def resource(self) -> Resource:
        with self.store.transaction() as tx:
            resource = tx.get_resource(self.arn)
        if resource is None:
            raise JobLost(f"{self.arn} no longer exists")
        return resource

    def owned(self, tx: Transaction) -> None:
        """Raise JobLost unless this run still owns the job; call inside the publishing transaction."""
        if not tx.job_holds(self.arn, self.token):
            raise JobLost(f"{self.arn} was taken over")

    def start(self) -> Resource:
        with self.store.transaction() as tx:
            self.owned(tx)
            tx.update_resource(self.arn, status=in_progress_status(self.kind))
            resource = tx.get_resource(self.arn)
        assert resource is not None
        return resource

    def progress(self, stage: str, percent: float, rows: JobRows | None = None) -> None:
        with self.store.transaction() as tx:
            self.owned(tx)
            tx.set_job_progress(self.arn, stage, percent, rows)

    def finish(self, tx: Transaction, status: str, body: dict[str, Any] | None = None) -> None:
        self.owned(tx)
        tx.update_resource(self.arn, status=status, body=body)
        tx.set_job_state(self.arn, "done")

    def fail(self, reason: str) -> None:
        with self.store.transaction() as tx:
            if not tx.job_holds(self.arn, self.token):
                return
            resource = tx.get_resource(self.arn)
            body = dict(resource.body, failureReason=reason) if resource else None
            tx.update_resource(self.arn, status=failed_status(self.kind), body=body)
            tx.set_job_state(self.arn, "failed")


class Reporter(Protocol):
    def progress(self, stage: str, percent: float, rows: JobRows | None = None) -> None: ...


@dataclass
class RowMeter:
    """Counts the rows a job has done and reports them as its progress, at most every `interval` seconds.

    `total` is the amount of work in any unit that `add` is told about (input bytes for batch inference, users for
    batch segments): the percent and the estimated seconds left follow it, so no row count is needed in advance.
    Rows per second is the average since the meter started (after the job's set-up)."""

    job: Reporter
    total: float
    stage: Callable[[RowMeter], str] = lambda meter: f"{meter.rows:,} rows"
    interval: float = 1.0
    clock: Callable[[], float] = time.monotonic
    rows: int = 0
    failed: int = 0
    done: float = 0.0
    started: float = field(init=False)
    reported: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.reported = self.clock()

    def add(self, rows: int, done: float, failed: int = 0) -> None:
        """`rows` more rows (`failed` of them failed), `done` more units of the total."""
        self.rows += rows
        self.failed += failed
        self.done += done
        if self.clock() - self.reported >= self.interval:
            self.report()

    def figures(self) -> JobRows:
        elapsed = self.clock() - self.started
        per_second = self.rows / elapsed if elapsed > 0 and self.rows else None
        eta = None
        if self.done > 0 and elapsed > 0:
            eta = max(self.total - self.done, 0.0) * elapsed / self.done
        return JobRows(self.rows, per_second, eta)

    def percent(self) -> float:
        return min(100.0, 100.0 * self.done / self.total) if self.total > 0 else 0.0

    def report(self) -> None:
        self.reported = self.clock()
        self.job.progress(self.stage(self), self.percent(), self.figures())

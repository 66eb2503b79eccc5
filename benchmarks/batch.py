"""Batch inference: users/s and peak memory of batch inference jobs on MovieLens-1M, against the tight loop.

Setup (not timed): MovieLens-1M (``/work/shared/data/ml-1m/interactions_order.csv``: all 1,000,209 ratings, original
ids, each user's in time order) becomes an interactions CSV (EVENT_TYPE ``Watch``, TIMESTAMP = row number, so each
user's order is kept) in a temporary import root; ``reelrank serve`` (demo keys) imports it and trains
aws-user-personalization through the public API (boto3).

Measurements, each a batch inference job (numResults 25, ``file://`` input and output) timed from
CreateBatchInferenceJob until DescribeBatchInferenceJob says ACTIVE (status polled every 100 ms), so the job process
start, loading the model and the histories and publishing the output are included:

* **every user**: one line per ML-1M user (6,040 lines);
* **many users**: ``--lines`` lines (default 1,000,000) cycling through the ML-1M user ids in order, every 20th line
  a user the data set does not know (5 %, answered from popularity as GetRecommendations does);
* **1 vs 2 worker processes**: ``--compare-lines`` of the same lines (default 200,000) with the server's default
  (one forked worker per core) and with ``REELRANK_BATCH_WORKERS=1`` (the job process alone), the server restarted
  for each: two runs of each, interleaved, and the faster of each is shown.

*job rate* is the job's own rowsPerSecond from the progress extension (after its set-up). Peak memory is sampled
every 100 ms over the job's processes (the job process the fork server starts and its forked workers): *RSS* is their
summed resident set size (pages the workers share with the job process copy-on-write count once per process), *PSS*
the proportional set size, which counts shared pages once.

The **tight loop** is the best plain in-process loop over the same model: the artifact loaded in this process, the
histories prepared beforehand as model indices, then for each user ``model.score(history)`` and the top 25 by
``argpartition`` + ``argsort`` (no JSON, no softmax, no I/O); best of three passes over the 6,040 users.
Also measured in-process: the block product for 1,024 users as reelrank does it (sparse CSC x dense, one thread)
and as a dense matrix product on 1 and 2 BLAS threads (the alternative way to use both cores).

    python benchmarks/batch.py [--lines N] [--compare-lines N] [--quick] [--write-docs] [--check] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_common import DOCS, free_port, log, scratch, write_section
from import_throughput import machine
from reelrank.jobs.batch_scoring import BLOCK_LINES, CHUNK_CELLS
from serving import Process, deploy, wait_active, wait_versions

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Batch inference"
MOVIELENS = Path("/work/shared/data/ml-1m/interactions_order.csv")
RECIPE = "aws-user-personalization"
RESULTS = 25
UNKNOWN_EVERY = 20
TARGET_USERS_PER_S = 5_000
TARGET_RATIO = 0.7
FLAT_TOLERANCE = 1.15
"""Memory counts as flat when the large job's peak is at most this multiple of the small job's."""


def movielens_csv(path: Path) -> list[str]:
    """interactions_order.csv → an interactions CSV; returns the user ids in order of first appearance."""
    users: dict[str, None] = {}
    with MOVIELENS.open() as source, path.open("w") as out:
        next(source)
        out.write("USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP,EVENT_VALUE\n")
        for number, line in enumerate(source, 1):
            user, item, _position = line.rstrip("\n").split(",")
            users[user] = None
            out.write(f"{user},{item},Watch,{number},\n")
    return list(users)


def write_lines(path: Path, users: list[str], lines: int, unknown_every: int | None) -> Path:
    with path.open("w") as out:
        for number in range(lines):
            if unknown_every and number % unknown_every == unknown_every - 1:
                out.write(f'{{"userId": "new-{number}"}}\n')
            else:
                out.write(f'{{"userId": "{users[number % len(users)]}"}}\n')
    return path


class JobMemory(threading.Thread):
    """Samples the job processes (children of the server's fork server) and their forked workers: peak summed RSS
    every `interval` s, peak summed PSS and the CPU time (each process's last sample) every `slow` s, every
    `interval` s in the first `early` s (PSS reads /proc/PID/smaps_rollup, which costs about 12 ms for a 700 MB
    process: sampled often all along, it would slow the job measured; the set-up's peak comes early)."""

    def __init__(self, server_pid: int, interval: float = 0.1, slow: float = 1.0, early: float = 5.0) -> None:
        super().__init__(daemon=True)
        import psutil

        self.server = psutil.Process(server_pid)
        self.interval = interval
        self.slow = slow
        self.early = early
        self.peak_rss_mb = 0.0
        self.peak_pss_mb = 0.0
        self.most_processes = 0
        self.cpu: dict[int, float] = {}
        self.stop = threading.Event()

    def jobs(self) -> list[Any]:
        """Job processes and their descendants: they inherit the fork server's command line, so the fork server is
        the one whose parent's command line does not say forkserver."""
        import psutil

        found = []
        with contextlib.suppress(psutil.Error):
            for process in self.server.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    parent = process.parent()
                    if ("forkserver" in " ".join(process.cmdline())
                            and parent is not None and "forkserver" not in " ".join(parent.cmdline())):
                        for job in process.children():
                            found += [job, *job.children(recursive=True)]
        return found

    def run(self) -> None:
        import psutil

        processes: list[Any] = []
        found_at = slow_at = 0.0
        started = time.monotonic()
        while not self.stop.is_set():
            now = time.monotonic()
            if now - found_at >= (self.interval if now - started < self.early else 0.5):
                processes, found_at = self.jobs(), now
            slow = now - started < self.early or now - slow_at >= self.slow
            rss = pss = 0
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    if slow:
                        info = process.memory_full_info()
                        times = process.cpu_times()
                        pss += info.pss
                        self.cpu[process.pid] = times.user + times.system
                    else:
                        info = process.memory_info()
                    rss += info.rss
            if slow:
                slow_at = now
                self.peak_pss_mb = max(self.peak_pss_mb, pss / 2**20)
            self.most_processes = max(self.most_processes, len(processes))
            self.peak_rss_mb = max(self.peak_rss_mb, rss / 2**20)
            self.stop.wait(self.interval)


@dataclass
class JobRun:
    name: str
    lines: int
    seconds: float
    job_rate: float
    peak_rss_mb: float
    peak_pss_mb: float
    processes: int
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.lines / self.seconds


def run_job(personalize: Any, endpoint: Any, server: Process, version: str, source: Path, name: str,
            lines: int) -> JobRun:
    output = source.parent / f"{name}-out"
    assert server.popen is not None
    sampler = JobMemory(server.popen.pid)
    sampler.start()
    started = time.perf_counter()
    arn = personalize.create_batch_inference_job(
        jobName=name, solutionVersionArn=version, roleArn="arn:aws:iam::000000000000:role/batch", numResults=RESULTS,
        jobInput={"s3DataSource": {"path": source.as_uri()}},
        jobOutput={"s3DataDestination": {"path": output.as_uri() + "/"}})["batchInferenceJobArn"]
    while True:
        job = personalize.describe_batch_inference_job(batchInferenceJobArn=arn)["batchInferenceJob"]
        if job["status"] not in ("PENDING", "IN PROGRESS"):
            break
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    if job["status"] != "ACTIVE":
        raise SystemExit(f"{name} ended {job['status']}: {job.get('failureReason')}")
    progress = endpoint.progress(arn)
    written = output / f"{source.name}.out"
    with written.open("rb") as answers:
        first = json.loads(answers.readline())
        count = 1 + sum(1 for _ in answers)
    if count != lines or first["error"] is not None or len(first["output"]["recommendedItems"]) != RESULTS:
        raise SystemExit(f"{name}: {count:,} output lines for {lines:,}, first {first}")
    shutil.rmtree(output, ignore_errors=True)
    run = JobRun(name, lines, seconds, float(progress.get("rowsPerSecond") or 0.0), sampler.peak_rss_mb,
                 sampler.peak_pss_mb, sampler.most_processes, sum(sampler.cpu.values()))
    log(f"{name}: {lines:,} lines in {seconds:.1f} s = {run.rate:,.0f} users/s (job rate {run.job_rate:,.0f}/s, "
        f"{run.cpu_seconds:.1f} CPU s), peak RSS {run.peak_rss_mb:,.0f} MB, PSS {run.peak_pss_mb:,.0f} MB over "
        f"{run.processes} processes")
    return run


def artifact_folder(data_dir: Path, version: str) -> tuple[str, str]:
    """The solution version's recipe and model folder, from the metadata store (not part of Describe's output)."""
    with contextlib.closing(sqlite3.connect(data_dir / "metadata.db", timeout=30)) as db:
        (body,) = db.execute("SELECT body FROM resources WHERE arn = ?", (version,)).fetchone()
    record = json.loads(body)
    return str(record["recipeArn"]), str(record["artifact"])


def tight_loop(data_dir: Path, version: str) -> tuple[float, float, dict[str, float], int, float]:
    """Users/s (wall and per CPU second) of the plain loop (model.score + top 25) and of the block products, in this
    process; the model's items and the mean number of them in a user's scoring vector."""
    import numpy as np
    import scipy.sparse as sp
    from threadpoolctl import threadpool_limits

    from reelrank.serving.deployments import Deployments

    recipe, folder = artifact_folder(data_dir, version)
    deployment = Deployments().get(recipe, folder)
    model = deployment.model
    events: dict[str, list[str]] = {}
    with MOVIELENS.open() as source:
        next(source)
        for line in source:
            user, item, _position = line.split(",")
            events.setdefault(user, []).append(item)
    histories = [deployment.indices(items) for items in events.values()]
    best = best_cpu = float("inf")
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        for history in histories:
            scores = model.score(history)
            top = np.argpartition(-scores, RESULTS - 1)[:RESULTS]
            top = top[np.argsort(-scores[top], kind="stable")]
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    loop_rate, loop_cpu_rate = len(histories) / best, len(histories) / best_cpu
    block = histories[:1024]
    products: dict[str, float] = {}
    vectors = model.history_vectors(block)  # type: ignore[attr-defined]
    weights = model.weights  # type: ignore[attr-defined]

    def timed(label: str, product: Any, threads: int) -> None:
        with threadpool_limits(limits=threads, user_api="blas"):
            fastest = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                product()
                fastest = min(fastest, time.perf_counter() - started)
        products[label] = len(block) / fastest

    timed("sparse CSC × dense (reelrank), 1 thread", lambda: sp.csc_matrix(vectors) @ weights, 1)
    dense = vectors.toarray()
    timed("dense × dense (BLAS), 1 thread", lambda: dense @ weights, 1)
    timed("dense × dense (BLAS), 2 threads", lambda: dense @ weights, 2)
    return loop_rate, loop_cpu_rate, products, len(deployment.item_ids), vectors.nnz / len(block)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines of the large job (default 1,000,000)")
    parser.add_argument("--compare-lines", type=int, default=200_000,
                        help="lines of the 1- and 2-worker comparison (default 200,000; 0 skips it)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100,000 lines, comparison on 50,000")
    parser.add_argument("--write-docs", action="store_true", help=f"rewrite '{SECTION}' in docs/benchmarks.md")
    parser.add_argument("--check", action="store_true", help="exit with status 1 if a target is missed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (data, logs, inputs)")
    args = parser.parse_args(argv)
    if not MOVIELENS.exists():
        print(f"{MOVIELENS} is missing: the MovieLens-1M interactions are needed", file=sys.stderr)
        return 2
    lines = 100_000 if args.quick else args.lines
    compare = 50_000 if args.quick else args.compare_lines
    load_before = os.getloadavg()
    with scratch("reelrank-batch-", args.keep) as temp:
        results = run_all(temp, lines, compare)
    load_after = os.getloadavg()
    load = f"{load_before[0]:.2f} / {load_after[0]:.2f}"
    report, verdicts = table(results)
    info = machine()
    command = shlex.join(["python", "benchmarks/batch.py", *(argv if argv is not None else sys.argv[1:])])
    print()
    print(f"{info['date']}  {info['system']}  {info['cpu']}  {info['cores']} cores  load {load}")
    print(report)
    if args.write_docs:
        write_docs(section(report, info, command, load, results))
        print(f"\nwrote '{SECTION}' in {DOCS}")
    return 1 if args.check and not all(verdicts) else 0


@dataclass
class Results:
    every: JobRun
    many: JobRun
    two: JobRun | None
    one: JobRun | None
    loop_rate: float
    loop_cpu_rate: float
    products: dict[str, float]
    users: int
    interactions: int
    setup_seconds: float
    items: int
    touched: float
    """Mean number of items in a user's scoring vector."""


def run_all(workdir: Path, lines: int, compare: int) -> Results:
    import boto3

    from reelrank.client import Endpoint
    from reelrank.config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY

    imports = workdir / "imports"
    imports.mkdir()
    started = time.perf_counter()
    users = movielens_csv(imports / "ml-1m.csv")
    interactions = sum(1 for _ in (imports / "ml-1m.csv").open()) - 1
    data_dir = workdir / "data"
    port = free_port()
    command = [str(Path(sys.executable).parent / "reelrank"), "serve", "--port", str(port), "--data-dir",
               str(data_dir), "--import-root", str(imports), "--access-key", DEMO_ACCESS_KEY, "--secret-key",
               DEMO_SECRET_KEY]

    def server(workers: int | None = None) -> Process:
        if workers is None:
            os.environ.pop("REELRANK_BATCH_WORKERS", None)
        else:
            os.environ["REELRANK_BATCH_WORKERS"] = str(workers)
        try:
            return Process("reelrank serve", command, workdir / "reelrank.log", port).start()
        finally:
            os.environ.pop("REELRANK_BATCH_WORKERS", None)

    url = f"http://127.0.0.1:{port}"
    personalize = boto3.client("personalize", endpoint_url=url, region_name="us-east-1",
                               aws_access_key_id=DEMO_ACCESS_KEY, aws_secret_access_key=DEMO_SECRET_KEY)
    endpoint = Endpoint(url, DEMO_ACCESS_KEY, DEMO_SECRET_KEY)
    running = server()
    try:
        log(f"importing {interactions:,} ML-1M interactions and training {RECIPE}")
        _group, [version] = deploy(personalize, "batch-bench", imports / "ml-1m.csv", [RECIPE])
        wait_versions(personalize, [version])
        wait_active(lambda: personalize.describe_solution_version(solutionVersionArn=version), "solutionVersion")
        setup = time.perf_counter() - started
        log(f"set-up done in {setup:.0f} s")
        every = run_job(personalize, endpoint, running, version,
                        write_lines(imports / "every-user.json", users, len(users), None), "every-user", len(users))
        many = run_job(personalize, endpoint, running, version,
                       write_lines(imports / "many-users.json", users, lines, UNKNOWN_EVERY), "many-users", lines)
        two = one = None
        if compare:
            source = write_lines(imports / "compare.json", users, compare, UNKNOWN_EVERY)
            runs: dict[int | None, list[JobRun]] = {None: [], 1: []}
            for number, workers in enumerate((None, 1, None, 1)):
                running.stop()
                running = server(workers)
                label = "default-workers" if workers is None else "one-process"
                runs[workers].append(run_job(personalize, endpoint, running, version, source,
                                             f"{label}-{number}", compare))
            two, one = (max(runs[workers], key=lambda run: run.rate) for workers in (None, 1))
    finally:
        running.stop()
    log("tight loop and block products in this process")
    loop_rate, loop_cpu_rate, products, items, touched = tight_loop(data_dir, version)
    log(f"tight loop {loop_rate:,.0f} users/s ({loop_cpu_rate:,.0f} per CPU s); "
        + ", ".join(f"{k}: {v:,.0f}/s" for k, v in products.items()))
    return Results(every, many, two, one, loop_rate, loop_cpu_rate, products, len(users), interactions, setup, items,
                   touched)


def table(results: Results) -> tuple[str, list[bool]]:
    many, every = results.many, results.every
    ratio = many.rate / results.loop_rate
    flat = many.peak_pss_mb <= FLAT_TOLERANCE * every.peak_pss_mb
    verdicts = [many.rate >= TARGET_USERS_PER_S, ratio >= TARGET_RATIO, flat]
    lines = ["| measurement | lines | seconds | users/s | job rate users/s | users per CPU s | cores used | "
             "peak RSS MB | peak PSS MB | processes | ratio to tight loop | verdict |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]

    def row(run: JobRun, label: str, verdict: str) -> None:
        per_cpu = f"{run.lines / run.cpu_seconds:,.0f}" if run.cpu_seconds else "–"
        lines.append(f"| {label} | {run.lines:,} | {run.seconds:.1f} | {run.rate:,.0f} | {run.job_rate:,.0f} | "
                     f"{per_cpu} | {run.cpu_seconds / run.seconds:.2f} | {run.peak_rss_mb:,.0f} | "
                     f"{run.peak_pss_mb:,.0f} | {run.processes} | {run.rate / results.loop_rate:.2f} | {verdict} |")

    row(every, "batch job, every ML-1M user", "memory reference")
    speed = "PASS" if verdicts[0] and verdicts[1] else "FAIL"
    row(many, f"batch job, {many.lines:,} lines (95 % ML-1M users cycled, 5 % unknown)",
        f"{speed} speed; memory {'flat: PASS' if flat else 'not flat: FAIL'}")
    if results.two is not None and results.one is not None:
        row(results.two, "batch job, 2 worker processes (default; faster of 2 runs)", "comparison")
        row(results.one, "batch job, 1 process (`REELRANK_BATCH_WORKERS=1`; faster of 2 runs)", "comparison")
    lines.append(f"| tight loop: `model.score` + top {RESULTS}, in process, 1 core | {results.users:,} | – | "
                 f"{results.loop_rate:,.0f} | – | {results.loop_cpu_rate:,.0f} | "
                 f"{results.loop_rate / results.loop_cpu_rate:.2f} | – | – | 1 | 1.00 | reference |")
    report = "\n".join(lines)
    products = "\n".join(f"| {label} | {rate:,.0f} |" for label, rate in results.products.items())
    report += ("\n\nThe block product alone, in process, for 1,024 ML-1M users:\n\n| product | users/s |\n|---|---:|\n"
               + products)
    return report, verdicts


def section(report: str, info: dict[str, str], command: str, load: str, results: Results) -> str:
    import numpy
    import scipy

    return f"""{SECTION}

Measured {info['date']} on `{info['system']}`, {info['cpu']}, {info['cores']} cores, {info['memory']} RAM; Python
{info['python']}, numpy {numpy.__version__}, scipy {scipy.__version__}. 1-minute load average before / after the
measurements: {load} (other work shares these cores).

Command: `{command}`

Model: {RECIPE} (RecencyEASE with item transitions, its defaults), trained through the public API on all
{results.interactions:,} MovieLens-1M interactions of {results.users:,} users (set-up, not timed:
{results.setup_seconds:.0f} s). Every job asks numResults {RESULTS}; its lines carry scores and are identical to what
GetRecommendations answers (`tests/e2e/test_batch.py`, `tests/jobs/test_batch_scoring.py`).

- *users/s*: lines / seconds from CreateBatchInferenceJob until DescribeBatchInferenceJob says ACTIVE (job process
  start, model and histories loaded, output published included); *job rate*: the job's own rowsPerSecond (progress
  extension), from after its set-up; *users per CPU s*: lines / CPU time of the job's processes, the figure least
  disturbed by other load on the machine; *cores used*: that CPU time / seconds (how much of the 2 cores the job
  got: what other work on the machine left it, or its parallelism).
- The large job cycles through the ML-1M user ids in order; every {UNKNOWN_EVERY}th line is a user the data set
  does not know (answered from popularity, as GetRecommendations answers it).
- Peak PSS: the summed proportional set size of the job process and its forked workers, which counts the pages
  they share copy-on-write once: what the job holds. Sampled every 100 ms for the job's first 5 s, then every second
  (it is costly to read). Memory is *flat* when the large job's peak PSS is at most {FLAT_TOLERANCE:.2f}× the small
  job's (both jobs fork the same workers). Peak RSS: their summed resident set, sampled every 100 ms; it counts a
  shared page once per process that has touched it, so it grows with a job's length until each worker has touched
  the model and the rest it shares with the job process (about 1.0 to 1.25 GB in every run so far, whatever the
  lines), and exceeds what the machine holds.
- *Tight loop*: the best plain loop in one process, on the same model artifact, with the histories prepared as model
  indices beforehand: `model.score(history)`, then `argpartition` + `argsort` for the top {RESULTS}; no JSON, no
  softmax, no I/O. The ratio is a job's users/s over the loop's.
- Targets: ≥ {TARGET_USERS_PER_S:,} users/s, ratio ≥ {TARGET_RATIO}, memory flat.

{report}

How both cores are used: the input is read {BLOCK_LINES} lines at a time and the blocks go to one forked worker
process per core, answered in order; a worker scores a block's plain user lines about
{CHUNK_CELLS // max(results.items, 1)} users at a time with one sparse × dense product (each user's recency-weighted
history vector times EASE's item × item matrix: scipy's kernel, one thread), then ranks, filters and computes the
softmax scores on whole arrays. BLAS threads are no alternative: a scoring vector holds {results.touched:.0f} of the
model's {results.items:,} items on average, so a dense product does about {results.items / results.touched:.0f}
times the arithmetic, and even on two threads it is far slower than the sparse product on one (table above). Two
worker processes against one: the comparison rows (how much they gain depends on the cores other work leaves free).
"""


def write_docs(text: str) -> None:
    write_section(SECTION, text)


if __name__ == "__main__":
    raise SystemExit(main())

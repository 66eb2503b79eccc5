"""Import throughput: reelrank's CSV → Parquet import against a bare pyarrow conversion of the same file.

Generates one interactions CSV (``--rows``, default 5,000,000), then measures, each in a fresh process:

* **bare**: pyarrow's streaming CSV reader with the schema's column types into a zstd ``ParquetWriter``,
  no validation (the floor any import has to pay);
* **convert**: ``reelrank.ingest.csv_import.convert()`` on the same file (validation included);
* **server**: a real ``reelrank serve`` and two dataset import jobs of the file created with boto3 (the first
  on a fresh server, then a second), each timed from CreateDatasetImportJob until the job is ACTIVE (so
  starting the job process and publishing are included).

bare and convert run ``--repeat`` times, interleaved; the table shows the best and the median, and the
PASS/FAIL verdict uses the median. Peak RSS is the child's ``ru_maxrss`` from ``wait4``; for the server it
is the largest single process of its tree (the server, its fork server, the job process: ``wait4`` over the
server's life and a 50 ms sampling of each process's VmHWM during the job), and "tree" is the sampled peak of
the summed RSS of all of them.
``--keep DIR`` keeps the CSV in DIR and reuses it on the next run.

    python benchmarks/import_throughput.py [--rows N] [--repeat N] [--keep DIR] [--no-server] [--write-docs]
                                           [--check]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_common import DOCS, free_port, write_section

TARGET_ROWS_PER_S = 1_000_000
TARGET_RATIO = 0.5
TARGET_RSS_MB = 2048
BLOCK_SIZE = 8 << 20
"""The CSV block size reelrank's convert() uses; the bare conversion uses the same so the ratio measures
validation and batch handling, not a different read granularity."""
ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Import throughput"


# ---------------------------------------------------------------------------------------------------------
# Measurements run in a child process (this script with --child KIND)
# ---------------------------------------------------------------------------------------------------------


def _child_bare(csv_path: Path, output: Path) -> int:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from reelrank.ingest.avro import parse_schema
    from reelrank.synthetic import INTERACTIONS_SCHEMA

    schema = parse_schema(INTERACTIONS_SCHEMA)
    reader = pacsv.open_csv(
        csv_path,
        read_options=pacsv.ReadOptions(block_size=BLOCK_SIZE),
        convert_options=pacsv.ConvertOptions(column_types={f.name: f.arrow_type for f in schema.fields},
                                             null_values=[""], strings_can_be_null=True),
    )
    # The same Parquet schema as convert() (required columns where the Avro type is not nullable): the
    # batches are relabelled, zero-copy and unchecked, so both write byte-for-byte the same layout.
    arrow_schema = schema.arrow_schema
    rows = 0
    with pq.ParquetWriter(output, arrow_schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=arrow_schema))
            rows += batch.num_rows
    return rows


def _child_convert(csv_path: Path, output: Path) -> int:
    from reelrank.ingest.avro import parse_schema
    from reelrank.ingest.csv_import import convert
    from reelrank.synthetic import INTERACTIONS_SCHEMA

    return convert([csv_path], parse_schema(INTERACTIONS_SCHEMA), output)


def child_main(kind: str, csv_path: Path, output: Path) -> None:
    import pyarrow  # noqa: F401  (imported before the clock starts, like the server's job process)

    import reelrank.ingest.csv_import  # noqa: F401

    run = {"bare": _child_bare, "convert": _child_convert}[kind]
    start, cpu_start = time.perf_counter(), time.process_time()
    rows = run(csv_path, output)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(json.dumps({"rows": rows, "seconds": seconds, "cpu": cpu, "bytes": output.stat().st_size}))


# ---------------------------------------------------------------------------------------------------------
# Parent: generation, the three measurements, the report
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    rows: int = 0
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    tree_rss_mb: float | None = None
    parquet_mb: float | None = None

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_rss(self) -> float:
        return max(self.rss_mb)


def wait_with_rusage(process: subprocess.Popen[Any], timeout: float | None = None) -> float:
    """Wait for `process` (killing it after `timeout` s); returns its peak RSS in MB (ru_maxrss covers it and
    the children it waited for)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while deadline is not None:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            deadline = None
        time.sleep(0.05)
    else:
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024


def measure_child(kind: str, csv_path: Path, workdir: Path) -> tuple[int, float, float, float, int]:
    output = workdir / f"{kind}.parquet"
    process = subprocess.Popen([sys.executable, __file__, "--child", kind, str(csv_path), str(output)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    stdout = process.stdout.read()
    rss = wait_with_rusage(process)
    output.unlink(missing_ok=True)
    if process.returncode != 0:
        raise SystemExit(f"{kind} measurement failed with exit code {process.returncode}")
    figures = json.loads(stdout.strip().splitlines()[-1])
    return figures["rows"], figures["seconds"], figures["cpu"], rss, figures["bytes"]


class TreeSampler(threading.Thread):
    """Samples a process and all its descendants: `peak_mb` is the largest summed RSS seen, `hwm_mb` each
    process's own peak RSS (VmHWM, which the kernel keeps, so only the last ≤ `interval` of a process's life
    can escape it)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        import psutil

        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_mb = 0.0
        self.hwm_mb: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        while not self.stop.is_set():
            total = 0
            try:
                for process in [self.root, *self.root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error, OSError):
                        total += process.memory_info().rss
                        self.hwm_mb[process.pid] = max(self.hwm_mb.get(process.pid, 0.0), _vm_hwm_mb(process.pid))
            except psutil.Error:
                return
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self.stop.wait(self.interval)


def _vm_hwm_mb(pid: int) -> float:
    match = re.search(r"^VmHWM:\s*(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


def _wait_status(describe: Any, key: str, timeout: float, poll: float = 0.05,
                 seen: dict[str, float] | None = None) -> dict[str, Any]:
    """Poll until ACTIVE; `seen` gets the perf_counter time each status was first seen."""
    deadline = time.monotonic() + timeout
    while True:
        resource = describe()[key]
        if seen is not None:
            seen.setdefault(resource["status"], time.perf_counter())
        if resource["status"] == "ACTIVE":
            return resource
        if "FAILED" in resource["status"]:
            raise SystemExit(f"{key} failed: {resource.get('failureReason')}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{key} still {resource['status']} after {timeout:.0f} s")
        time.sleep(poll)


def measure_server(csv_path: Path, workdir: Path, rows: int) -> list[Result]:
    import boto3

    from reelrank.synthetic import INTERACTIONS_SCHEMA

    port = free_port()
    data_dir = workdir / "server-data"
    log_path = workdir / "server.log"
    command = [str(Path(sys.executable).parent / "reelrank"), "serve", "--no-auth", "--data-dir", str(data_dir),
               "--import-root", str(csv_path.parent), "--port", str(port)]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise SystemExit(f"reelrank serve exited early:\n{log_path.read_text()}")
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise SystemExit("reelrank serve did not come up in 60 s") from None
                time.sleep(0.1)
        client = boto3.client("personalize", endpoint_url=url, region_name="us-east-1",
                              aws_access_key_id="bench", aws_secret_access_key="bench")
        schema_arn = client.create_schema(name="bench-interactions", schema=INTERACTIONS_SCHEMA)["schemaArn"]
        group_arn = client.create_dataset_group(name="bench")["datasetGroupArn"]
        _wait_status(lambda: client.describe_dataset_group(datasetGroupArn=group_arn), "datasetGroup", 60)
        dataset_arn = client.create_dataset(name="bench-interactions", schemaArn=schema_arn,
                                            datasetGroupArn=group_arn, datasetType="Interactions")["datasetArn"]
        _wait_status(lambda: client.describe_dataset(datasetArn=dataset_arn), "dataset", 60)

        timings = []
        for number in (1, 2):
            sampler = TreeSampler(server.pid)
            sampler.start()
            start = time.perf_counter()
            job_arn = client.create_dataset_import_job(
                jobName=f"bench-import-{number}", datasetArn=dataset_arn, importMode="FULL",
                roleArn="arn:aws:iam::000000000000:role/bench",
                dataSource={"dataLocation": csv_path.resolve().as_uri()})["datasetImportJobArn"]
            seen: dict[str, float] = {}
            _wait_status(lambda arn=job_arn: client.describe_dataset_import_job(datasetImportJobArn=arn),
                         "datasetImportJob", 3600, poll=0.1, seen=seen)
            seconds = time.perf_counter() - start
            running = seen["CREATE IN_PROGRESS"] - start if "CREATE IN_PROGRESS" in seen else None
            time.sleep(1.0)  # the job process ends just after publishing; keep sampling until it has gone
            sampler.stop.set()
            sampler.join()
            timings.append((seconds, running, sampler))
        parquet = max(p.stat().st_size for p in (data_dir / "datasets").rglob("*.parquet"))
    finally:
        if server.poll() is None:
            server.terminate()
    # wait4 covers the server and the descendants it waited for, over the server's whole life: an upper bound
    # for both jobs. VmHWM covers every process sampled during each job.
    lifetime = wait_with_rusage(server, timeout=30)
    results = []
    for (seconds, running, sampler), label in zip(timings, ("first import, fresh server", "second import"),
                                                  strict=True):
        if running is not None:
            label += f", IN_PROGRESS after {running:.2f} s"
        results.append(Result(f"server import job ({label})", rows,
                              seconds=[seconds], rss_mb=[max(lifetime, *sampler.hwm_mb.values())],
                              tree_rss_mb=sampler.peak_mb, parquet_mb=parquet / 2**20))
    return results


# ---------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------


def _verdict(result: Result, bare: Result) -> tuple[str, str]:
    ratio = bare.median / result.median
    checks = [result.rows / result.median >= TARGET_ROWS_PER_S, ratio >= TARGET_RATIO,
              result.peak_rss < TARGET_RSS_MB]
    if result.tree_rss_mb is not None:
        checks.append(result.tree_rss_mb < TARGET_RSS_MB)
    return f"{ratio:.2f}", "PASS" if all(checks) else "FAIL"


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}"


def table(results: list[Result], bare: Result) -> str:
    lines = ["| measurement | rows | seconds (best / median) | rows/s (best / median) | CPU s (median) | "
             "peak RSS MB | Parquet MB | ratio to bare (median) | verdict |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for result in results:
        ratio, verdict = ("1.00", "reference") if result is bare else _verdict(result, bare)
        if len(result.seconds) > 1:
            seconds = f"{result.best:.2f} / {result.median:.2f}"
            rate = f"{_rate(result.rows, result.best)} / {_rate(result.rows, result.median)}"
        else:
            seconds, rate = f"{result.best:.2f}", _rate(result.rows, result.best)
        rss = f"{result.peak_rss:,.0f}"
        if result.tree_rss_mb is not None:
            rss += f" (tree {result.tree_rss_mb:,.0f})"
        parquet = f"{result.parquet_mb:,.1f}" if result.parquet_mb is not None else ""
        cpu = f"{statistics.median(result.cpu):.2f}" if result.cpu else "n/a"
        lines.append(f"| {result.name} | {result.rows:,} | {seconds} | {rate} | {cpu} | {rss} | {parquet} | "
                     f"{ratio} | {verdict} |")
    return "\n".join(lines)


def machine() -> dict[str, str]:
    import pyarrow

    uname = subprocess.run(["uname", "-srm"], capture_output=True, text=True, check=False).stdout.strip()
    model = "unknown"
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        if match:
            model = match.group(1).strip()
    except OSError:
        pass
    memory = ""
    try:
        import psutil

        memory = f"{psutil.virtual_memory().total / 2**30:.1f} GiB"
    except ImportError:
        pass
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "system": uname or platform.platform(),
            "cpu": model, "cores": str(os.cpu_count()), "memory": memory,
            "python": platform.python_version(), "pyarrow": pyarrow.__version__}


def section(report: str, info: dict[str, str], command: str, csv_mb: float, rows: int, repeat: int,
            load: str) -> str:
    return f"""{SECTION}

Measured {info['date']} on `{info['system']}`, {info['cpu']}, {info['cores']} cores, {info['memory']} RAM;
Python {info['python']}, pyarrow {info['pyarrow']}. 1-minute load average before / after the measurements: {load}.

Command: `{command}`

Input: a generated interactions CSV of {rows:,} rows ({csv_mb:,.0f} MB, `reelrank.synthetic.write_interactions_csv`,
INTERACTIONS_SCHEMA: USER_ID, ITEM_ID, EVENT_TYPE, TIMESTAMP, EVENT_VALUE). Each measurement runs in a fresh
process; *bare* and *convert* ran {repeat} time{"s" if repeat != 1 else ""} each, interleaved, and the verdict
uses the median.

- **bare**: `pyarrow.csv.open_csv` (same 8 MiB blocks and column types) into a zstd `pyarrow.parquet.ParquetWriter`
  with the same Parquet schema, no validation.
- **convert()**: `reelrank.ingest.csv_import.convert()`, the core of a dataset import job (validation included).
- **server import job**: `reelrank serve --no-auth`, schema, dataset group, dataset and two FULL dataset import
  jobs of the file, one after the other, created with boto3; each timed from CreateDatasetImportJob until
  DescribeDatasetImportJob says ACTIVE (job process start, conversion and publication included; status polled
  every 100 ms). The first is the first import of a freshly started server; the time until the job reported
  IN_PROGRESS (in the row's name) is the job process start, which for the first job includes starting the job
  fork server.

CPU s is the process CPU time (all threads) of the conversion itself, the figure least disturbed by other load
on the machine. Peak RSS is `ru_maxrss` of the measured process from `wait4`; for the server it is the largest
single process of its tree (the server, its fork server or the job process), and "tree" is the sampled (50 ms)
peak of the summed RSS of all of them. Targets: ≥ {TARGET_ROWS_PER_S:,} rows/s, ≥ {TARGET_RATIO} of the bare
conversion, peak RSS < {TARGET_RSS_MB / 1024:.0f} GB.

{report}
"""


def write_docs(text: str) -> None:
    write_section(SECTION, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows in the generated CSV")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the bare and convert() measurements")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="generate the CSV (and keep it) in this folder")
    parser.add_argument("--no-server", action="store_true", help="skip the end-to-end server import")
    parser.add_argument("--write-docs", action="store_true", help=f"rewrite '{SECTION}' in {DOCS.relative_to(ROOT)}")
    parser.add_argument("--check", action="store_true", help="exit with status 1 if a target is missed")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "CSV", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0
    if args.rows < 1000 or args.repeat < 1:
        parser.error("--rows must be at least 1000 (the import minimum) and --repeat at least 1")

    from reelrank.synthetic import write_interactions_csv

    with tempfile.TemporaryDirectory(prefix="reelrank-bench-") as temp:
        workdir = Path(temp)
        csv_dir = (args.keep or workdir / "input").resolve()
        csv_dir.mkdir(parents=True, exist_ok=True)
        csv_path = csv_dir / f"interactions-{args.rows}.csv"
        if not csv_path.exists():
            n_users, n_items = max(args.rows // 50, 10), max(args.rows // 200, 10)
            print(f"generating {csv_path} ({args.rows:,} rows, {n_users:,} users, {n_items:,} items) …",
                  flush=True)
            start = time.perf_counter()
            write_interactions_csv(csv_path, args.rows, n_users, n_items, seed=0)
            print(f"  done in {time.perf_counter() - start:.1f} s", flush=True)
        csv_mb = csv_path.stat().st_size / 2**20
        load_before = os.getloadavg()[0]
        print(f"input: {csv_path} ({csv_mb:,.0f} MB)", flush=True)

        bare = Result("bare pyarrow CSV → Parquet")
        ours = Result("reelrank convert()")
        for run in range(1, args.repeat + 1):
            for result, kind in ((bare, "bare"), (ours, "convert")):
                rows, seconds, cpu, rss, size = measure_child(kind, csv_path, workdir)
                result.rows = rows
                result.seconds.append(seconds)
                result.cpu.append(cpu)
                result.rss_mb.append(rss)
                result.parquet_mb = size / 2**20
                print(f"  run {run}/{args.repeat} {kind:8} {seconds:6.2f} s  (CPU {cpu:5.2f} s)  "
                      f"{rows / seconds:>12,.0f} rows/s  peak RSS {rss:,.0f} MB", flush=True)
        if bare.rows != ours.rows:
            raise SystemExit(f"row counts differ: bare {bare.rows:,}, convert() {ours.rows:,}")
        results = [bare, ours]
        if not args.no_server:
            print("end-to-end import through reelrank serve …", flush=True)
            for server in measure_server(csv_path, workdir, ours.rows):
                print(f"  {server.best:.2f} s  {server.rows / server.best:,.0f} rows/s  peak RSS "
                      f"{server.peak_rss:,.0f} MB (tree {server.tree_rss_mb:,.0f} MB)  {server.name}", flush=True)
                results.append(server)

    load = f"{load_before:.2f} / {os.getloadavg()[0]:.2f}"
    report = table(results, bare)
    info = machine()
    command = shlex.join(["python", "benchmarks/import_throughput.py", *(argv if argv is not None else sys.argv[1:])])
    print()
    print(f"{info['date']}  {info['system']}  {info['cpu']}  {info['cores']} cores  "
          f"Python {info['python']}  pyarrow {info['pyarrow']}  load {load}")
    print(report)
    if args.write_docs:
        write_docs(section(report, info, command, csv_mb, ours.rows, args.repeat, load))
        print(f"\nwrote '{SECTION}' in {DOCS}")
    failed = any("FAIL" in line for line in report.splitlines()[2:])
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Serving: GetRecommendations and PutEvents through `reelrank serve` over HTTP on loopback, beside the bare web stack.

Everything is driven over real HTTP with the AWS wire format (rest-json bodies serialised by botocore, SigV4-signed
with the demo keys by ``botocore.auth.SigV4Auth``: each distinct request is signed once, just before its run, and
replayed; signatures stay valid for 5 minutes, so every run is short and signed afresh).

Setup (not timed): MovieLens-1M (``/work/shared/data/ml-1m-sasrec/ml-1m.txt``, one "user item" line per
interaction in time order) becomes an interactions CSV (TIMESTAMP = line number, EVENT_TYPE ``watch``) in a temporary
import root; a dataset group, an import, two solution versions of aws-user-personalization-v2, a campaign on the
first, an event tracker and, where the server supports it, a filter. A second dataset group holds a generated
60,000-item catalogue (``reelrank.synthetic.generate``, plus one interaction for any item the generator left unused)
served by aws-sims (item-kNN; RecencyEASE refuses more than 30,000 items), asked with ``itemId``.

Load generators:

* **closed loop**: ``wrk`` (Debian's ``apt-get install wrk``), one thread, 64 keep-alive connections, a Lua script
  that cycles through the pre-signed raw requests (1,000 users, or items); latency is wrk's, from send to response.
* **paced**: this script's own open-loop client (``--pace-child``, asyncio on uvloop, raw HTTP/1.1 on a pool of 64
  keep-alive connections) sending request *i* at t0 + i / rate; latency runs from the *scheduled* send time, so a
  stalled server is charged for every request it delays (coordinated-omission safe). The client's timer adds up to
  about a millisecond (see the bare paced row).

The **bare** endpoint is a Starlette app of one route, ``POST /recommendations``, that reads the body and returns a
fixed JSON body of the size of a real answer (25 scored items and a recommendation id), served by the same HTTP
server as ``reelrank serve`` (``reelrank.server.web_server``: uvicorn on uvloop and httptools, accepting every
waiting connection per turn of the loop, one write per response) and loaded with the same signed requests: the
ceiling of the web stack on this machine.

Scenarios: bare and GetRecommendations at 64 connections (``--repeat`` interleaved runs, medians), both paced at
1,000 req/s; GetRecommendations with a filter; PutEvents (one event per request, distinct eventIds) at 64
connections and paced at 2,000 events/s for 60 s, stored events counted afterwards in ``metadata.db``; during that
paced run, the event-to-change latency (for one user after another: read the recommendations, PutEvents three new
items, then from the acknowledgement poll GetRecommendations until the list differs); a campaign update to the other
solution version during a paced 1,000 req/s run; the 60,000-item campaign at 64 connections and paced at 500 req/s.

    python benchmarks/serving.py [--quick] [--repeat N] [--duration S] [--write-docs] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import math
import os
import platform
import random
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_common import DOCS, free_port, log, scratch, write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Serving"
MOVIELENS = Path("/work/shared/data/ml-1m-sasrec/ml-1m.txt")
RECIPE = "arn:aws:personalize:::recipe/"
USER_RECIPE = "aws-user-personalization-v2"
LARGE_RECIPE = "aws-sims"
LARGE_ITEMS = 60_000
FILTER_EXPRESSION = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("watch")'
CONNECTIONS = 64
DISTINCT = 1_000
"""Distinct signed requests a closed-loop or paced GetRecommendations run cycles through (users or anchor items)."""
REGION = "us-east-1"
BARE_REFERENCE = "issue: ≈ 12,700 req/s, p99 ≈ 8 ms"


# ---------------------------------------------------------------------------------------------------------
# Child processes: the bare endpoint (--bare-server) and the paced client (--pace-child)
# ---------------------------------------------------------------------------------------------------------


def bare_body() -> bytes:
    """A fixed answer the size of a real GetRecommendations response: 25 scored items and a recommendation id."""
    items = [{"itemId": str(1000 + 97 * number), "score": round(0.0412345 - number * 0.0011, 7)}
             for number in range(25)]
    return json.dumps({"itemList": items, "recommendationId": f"RID-{uuid.UUID(int=7)}"},
                      separators=(",", ":")).encode()


def bare_server_main(port: int, processes: int) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    body = bare_body()

    async def recommendations(request: Request) -> Response:
        await request.body()
        return Response(body, 200, {"x-amzn-RequestId": str(uuid.uuid4())}, "application/json")

    async def health(_request: Request) -> Response:
        return Response(b'{"status":"ok"}', 200, media_type="application/json")

    app = Starlette(routes=[Route("/recommendations", recommendations, methods=["POST"]),
                            Route("/health", health, methods=["GET"])])
    # The same HTTP server as `reelrank serve` (reelrank.server.web_server) and the same number of processes sharing
    # the listening socket.
    from reelrank.server import serve_forked, web_server

    serve_forked(lambda _number: web_server(app), "127.0.0.1", port, processes)


def read_requests(path: Path) -> list[bytes]:
    """Raw HTTP requests stored as '<length>\\n<bytes>' one after the other (the format the wrk script reads)."""
    data = path.read_bytes()
    requests, position = [], 0
    while position < len(data):
        newline = data.index(b"\n", position)
        length = int(data[position:newline])
        requests.append(data[newline + 1:newline + 1 + length])
        position = newline + 1 + length
    return requests


def write_requests(path: Path, requests: list[bytes]) -> Path:
    with path.open("wb") as out:
        for raw in requests:
            out.write(b"%d\n" % len(raw))
            out.write(raw)
    return path


async def _paced(spec: dict[str, Any]) -> dict[str, Any]:
    requests = read_requests(Path(spec["requests"]))
    rate, total = float(spec["rate"]), int(spec["rate"] * spec["duration"])
    if spec.get("once") and total > len(requests):
        raise SystemExit(f"paced run needs {total} distinct requests, got {len(requests)}")
    status = [0] * total
    latency = [float("nan")] * total
    late = [float("nan")] * total
    errors: list[str] = []
    clock = time.perf_counter
    state = {"next": 0}

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(spec["host"], spec["port"])

    connections = [await connect() for _ in range(int(spec["connections"]))]
    start = clock() + 0.05

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while state["next"] < total:
            index = state["next"]
            state["next"] += 1
            due = start + index / rate
            delay = due - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            sent = clock()
            try:
                writer.write(requests[index % len(requests)])
                head = await reader.readuntil(b"\r\n\r\n")
                code = int(head[9:12])
                match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                body = await reader.readexactly(int(match.group(1))) if match else b""
                if code != 200 and len(errors) < 5:
                    errors.append(f"{code} {body[:300].decode(errors='replace')}")
                if re.search(rb"(?im)^connection:\s*close", head):  # the server evens out its processes' shares
                    writer.close()
                    reader, writer = await connect()
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                code = -1
                if len(errors) < 5:
                    errors.append(f"{type(error).__name__}: {error}")
                writer.close()
                reader, writer = await connect()
            done = clock()
            status[index], latency[index], late[index] = code, done - due, sent - due

    tasks = [asyncio.ensure_future(worker(reader, writer)) for reader, writer in connections]
    grace = float(spec.get("grace", 10.0))
    _, pending = await asyncio.wait(tasks, timeout=spec["duration"] + grace + 0.1)
    for task in pending:
        task.cancel()
    elapsed = max((start + i / rate + lat for i, lat in enumerate(latency) if lat == lat), default=start) - start
    for _, writer in connections:
        writer.close()
    return {"status": status, "latency": latency, "late": late, "errors": errors, "elapsed": elapsed,
            "rate": rate, "duration": spec["duration"]}


def pace_child_main(spec_path: Path) -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    spec = json.loads(spec_path.read_text())
    result = asyncio.run(_paced(spec))
    Path(spec["out"]).write_text(json.dumps(result))


# ---------------------------------------------------------------------------------------------------------
# Requests: botocore's rest-json serialisation, SigV4 with botocore, raw HTTP/1.1 bytes
# ---------------------------------------------------------------------------------------------------------


class Signer:
    """Builds raw signed HTTP requests for one server (the Host header is part of the signature)."""

    def __init__(self, port: int, access_key: str, secret_key: str) -> None:
        import botocore.session
        from botocore.credentials import Credentials
        from botocore.serialize import create_serializer

        self.port = port
        self.credentials = Credentials(access_key, secret_key)
        session = botocore.session.get_session()
        self.models = {name: session.get_service_model(name) for name in ("personalize-runtime", "personalize-events")}
        self.serializer = create_serializer("rest-json", include_validation=False)
        self.user_agent = f"Boto3/bench Python/{platform.python_version()} Botocore/{botocore.__version__}"

    def request(self, service: str, operation: str, params: dict[str, Any]) -> bytes:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        serialized = self.serializer.serialize_to_request(params, self.models[service].operation_model(operation))
        host = f"127.0.0.1:{self.port}"
        request = AWSRequest(method="POST", url=f"http://{host}{serialized['url_path']}", data=serialized["body"],
                             headers=dict(serialized["headers"]))
        SigV4Auth(self.credentials, "personalize", REGION).add_auth(request)
        headers = {"Host": host, **dict(request.headers.items()), "User-Agent": self.user_agent,
                   "Content-Length": str(len(serialized["body"]))}
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        return f"POST {serialized['url_path']} HTTP/1.1\r\n{head}\r\n".encode() + serialized["body"]

    def recommendations(self, campaign: str, **params: Any) -> bytes:
        return self.request("personalize-runtime", "GetRecommendations", {"campaignArn": campaign, **params})

    def events(self, tracking_id: str, user: str, events: list[dict[str, Any]]) -> bytes:
        return self.request("personalize-events", "PutEvents", {"trackingId": tracking_id, "userId": user,
                                                                 "sessionId": f"session-{user}", "eventList": events})


def exchange(connection: http.client.HTTPConnection, raw: bytes) -> tuple[int, bytes]:
    """Send one pre-built raw request on a kept-alive connection; (status, body)."""
    if connection.sock is None:
        connection.connect()
    assert connection.sock is not None
    connection.sock.sendall(raw)
    response = http.client.HTTPResponse(connection.sock, method="POST")
    response.begin()
    body = response.read()
    if response.will_close:  # the server evens out its processes' shares: the next exchange reconnects
        connection.close()
    return response.status, body


# ---------------------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One load run: completed requests, errors, the rate and the latency percentiles in ms."""

    rate: float
    p50: float
    p99: float
    errors: int
    requests: int
    extra: dict[str, Any] = field(default_factory=dict)
    cpu_ms: float = float("nan")
    """CPU time of the measured server (all its processes) per request, in ms."""
    others: float = float("nan")
    """Cores' worth of CPU used by processes outside this benchmark during the run."""


@dataclass
class Row:
    scenario: str
    load: str
    runs: list[Run]
    target: str
    check: Callable[[Run], bool] | None = None
    unit: str = "req/s"
    note: str = ""

    @property
    def run(self) -> Run:
        """The median run by rate (the run itself, so its figures belong together)."""
        ordered = sorted(self.runs, key=lambda run: run.rate)
        return ordered[(len(ordered) - 1) // 2]

    @property
    def verdict(self) -> str:
        if self.check is None:
            return "reference"
        return "PASS" if self.check(self.run) else "FAIL"


WRK_LUA = r"""
local threads, counter = {}, 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end
function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  requests, position = {}, 1
  while position <= #data do
    local newline = data:find("\n", position, true)
    local length = tonumber(data:sub(position, newline - 1))
    requests[#requests + 1] = data:sub(newline + 1, newline + length)
    position = newline + length + 1
  end
  step = tonumber(args[2])
  index = tid - step
  wrapped = 0
end
function request()
  index = index + step
  if index > #requests then
    index = ((index - 1) % step) + 1
    wrapped = wrapped + 1
  end
  return requests[index]
end
function done(summary, latency, _)
  local wrapped = 0
  for _, thread in ipairs(threads) do wrapped = wrapped + thread:get("wrapped") end
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50": %d, "p90": %d, "p99": %d, "max": %d, "wrapped": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, wrapped))
end
"""


class Bench:
    """Runs the load generators; each run also records the CPU the measured server used per request and the CPU
    the rest of the machine (other users of these 2 cores) used meanwhile."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.lua = workdir / "bench.lua"
        self.lua.write_text(WRK_LUA)
        self.counter = 0
        self.ours: list[Process] = []
        """Every server this benchmark started: their CPU is not 'others'."""

    def _file(self, name: str, requests: list[bytes]) -> Path:
        self.counter += 1
        return write_requests(self.workdir / f"{self.counter:02d}-{name}.req", requests)

    @contextlib.contextmanager
    def accounting(self, server: Process) -> Iterator[dict[str, float]]:
        """Yields a dict filled on exit: server CPU seconds, others' CPU seconds, wall seconds."""
        figures: dict[str, float] = {}
        trees = {process.name: process.cpu_seconds() for process in self.ours}
        busy, mine, start = _busy_seconds(), _own_cpu_seconds(), time.perf_counter()
        yield figures
        wall = time.perf_counter() - start
        used = {process.name: process.cpu_seconds() - trees.get(process.name, 0.0) for process in self.ours}
        figures["server"] = used.get(server.name, 0.0)
        figures["others"] = (_busy_seconds() - busy) - sum(used.values()) - (_own_cpu_seconds() - mine)
        figures["wall"] = wall

    def settle(self, server: Process, limit: float = 30.0) -> None:
        """Wait until the server is idle (under 0.1 cores over 0.5 s): a backlog a run left behind must not land
        in the next one."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            before = server.cpu_seconds()
            time.sleep(0.5)
            if server.cpu_seconds() - before < 0.05:
                return

    def wrk(self, server: Process, requests: list[bytes], duration: float, name: str) -> Run:
        path = self._file(name, requests)
        threads = 1
        command = ["wrk", "-t", str(threads), "-c", str(CONNECTIONS), "-d", f"{duration:.0f}s", "--timeout", "10s",
                   "-s", str(self.lua), f"http://127.0.0.1:{server.port}/", "--", str(path), str(threads)]
        with self.accounting(server) as cpu:
            output = subprocess.run(command, capture_output=True, text=True, check=False, timeout=duration + 60)
        match = re.search(r"^WRKJSON (.+)$", output.stdout, re.MULTILINE)
        if output.returncode != 0 or not match:
            raise SystemExit(f"wrk failed ({output.returncode}):\n{output.stdout}\n{output.stderr}")
        figures = json.loads(match.group(1))
        seconds = figures["duration_us"] / 1e6
        errors = sum(figures[key] for key in ("connect", "read", "write", "status", "timeout"))
        return Run(figures["requests"] / seconds, figures["p50"] / 1000, figures["p99"] / 1000, errors,
                   figures["requests"], {"wrk": figures, "seconds": seconds},
                   cpu_ms=1000 * cpu["server"] / max(figures["requests"], 1), others=cpu["others"] / cpu["wall"])

    def paced(self, server: Process, requests: list[bytes], rate: float, duration: float, name: str,
              once: bool = False, during: Callable[[], Any] | None = None) -> Run:
        path = self._file(name, requests)
        spec_path, out = self.workdir / f"{name}.pace.json", self.workdir / f"{name}.pace-out.json"
        out.unlink(missing_ok=True)
        spec_path.write_text(json.dumps({"host": "127.0.0.1", "port": server.port, "requests": str(path),
                                         "rate": rate, "duration": duration, "connections": CONNECTIONS,
                                         "out": str(out), "once": once}))
        side = None
        with self.accounting(server) as cpu:
            child = subprocess.Popen([sys.executable, __file__, "--pace-child", str(spec_path)])
            try:
                if during is not None:
                    side = during()
            finally:
                code = child.wait(timeout=duration + 120)
        if code != 0 or not out.exists():
            raise SystemExit(f"paced client failed with exit code {code}")
        run = summarise_paced(json.loads(out.read_text()), side)
        run.cpu_ms = 1000 * cpu["server"] / max(run.requests - run.extra["unanswered"], 1)
        run.others = cpu["others"] / cpu["wall"]
        return run


def _busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat: everything but idle and iowait)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    """This process and its waited-for children (wrk, the paced client)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def summarise_paced(result: dict[str, Any], side: Any) -> Run:
    status, latency = result["status"], result["latency"]
    answered = [lat for lat in latency if lat == lat]
    ok = sum(1 for code in status if code == 200)
    # An unanswered request (still outstanding at the end) counts as an error and as an infinite latency.
    missing = len(status) - len(answered)
    all_latencies = answered + [float("inf")] * missing
    late = [value for value in result["late"] if value == value]
    per_second: dict[int, list[float]] = {}
    errors_per_second: dict[int, int] = {}
    for index, (code, lat) in enumerate(zip(status, latency, strict=True)):
        second = int(index / result["rate"])
        per_second.setdefault(second, []).append(lat if lat == lat else float("inf"))
        if code != 200:
            errors_per_second[second] = errors_per_second.get(second, 0) + 1
    worst = sorted(((percentile(values, 99) * 1000, second) for second, values in per_second.items()), reverse=True)
    acked = [index for index, code in enumerate(status) if code == 200]
    elapsed = max(result["elapsed"], 1e-9)
    extra = {"scheduled": len(status), "ok": ok, "unanswered": missing, "elapsed": elapsed,
             "timer_late_p99_ms": percentile(late, 99) * 1000, "max_ms": max(all_latencies, default=0) * 1000,
             "worst_seconds": worst[:3], "errors_per_second": errors_per_second, "error_samples": result["errors"],
             "acked": acked, "side": side}
    return Run(ok / elapsed, percentile(all_latencies, 50) * 1000, percentile(all_latencies, 99) * 1000,
               len(status) - ok, len(status), extra)


# ---------------------------------------------------------------------------------------------------------
# Servers and setup
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    command: list[str]
    log: Path
    port: int
    popen: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Process:
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.popen.poll() is not None:
                raise SystemExit(f"{self.name} exited early:\n{self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1).close()
                return self
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise SystemExit(f"{self.name} did not come up in {timeout:.0f} s") from None
                time.sleep(0.1)

    def cpu_seconds(self) -> float:
        """User + system CPU of the process and its descendants (alive ones; reaped children via their parent)."""
        import psutil

        if self.popen is None:
            return 0.0
        total = 0.0
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(self.popen.pid)
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    total += times.user + times.system + times.children_user + times.children_system
        return total

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


def wait_active(describe: Callable[[], dict[str, Any]], key: str, timeout: float = 600.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        resource = describe()[key]
        status = resource.get("status") or resource.get("latestCampaignUpdate", {}).get("status")
        if status == "ACTIVE":
            return resource
        if "FAILED" in str(status):
            raise SystemExit(f"{key} failed: {resource.get('failureReason')}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{key} still {status} after {timeout:.0f} s")
        time.sleep(0.2)


def movielens_csv(path: Path, lines: int | None) -> tuple[list[str], list[str], int]:
    """ml-1m.txt → an interactions CSV (TIMESTAMP = line number); returns (users, items, rows)."""
    users: dict[str, None] = {}
    items: dict[str, None] = {}
    rows = 0
    with MOVIELENS.open() as source, path.open("w") as out:
        out.write("USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP,EVENT_VALUE\n")
        for number, line in enumerate(source, 1):
            if lines is not None and number > lines:
                break
            user, item = line.split()
            users[user] = None
            items[item] = None
            out.write(f"{user},{item},watch,{number},\n")
            rows += 1
    return list(users), list(items), rows


def large_catalogue_csv(path: Path, quick: bool) -> tuple[list[str], int]:
    """A generated 60,000-item catalogue; every item gets at least one interaction so the model knows all of them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from reelrank import synthetic

    n_users, n_interactions = (4_000, 150_000) if quick else (20_000, 1_000_000)
    catalogue = synthetic.generate(n_users=n_users, n_items=LARGE_ITEMS, n_interactions=n_interactions, seed=11)
    table = catalogue.interactions
    all_items = catalogue.items.column("ITEM_ID").to_pylist()
    seen = set(table.column("ITEM_ID").to_pylist())
    unused = [item for item in all_items if item not in seen]
    if unused:
        rng = random.Random(3)
        users = table.column("USER_ID").to_pylist()
        start = int(pc.max(table.column("TIMESTAMP")).as_py()) + 1
        extra = {"USER_ID": [rng.choice(users) for _ in unused], "ITEM_ID": unused,
                 "EVENT_TYPE": ["watch"] * len(unused), "TIMESTAMP": list(range(start, start + len(unused))),
                 "EVENT_VALUE": [None] * len(unused)}
        columns = {name: extra.get(name, [None] * len(unused)) for name in table.column_names}
        table = pa.concat_tables([table, pa.table(columns, schema=table.schema)])
    synthetic.write_csv(table, path)
    return all_items, table.num_rows


@dataclass
class Deployed:
    campaign: str
    versions: list[str]
    group: str
    tracking_id: str | None = None
    filter_arn: str | None = None
    filter_note: str = ""


def deploy(personalize: Any, name: str, csv_path: Path, recipes: list[str]) -> tuple[str, list[str]]:
    """Dataset group and import, then one solution and one solution version per recipe (the versions train
    at once); returns the group ARN and the version ARNs."""
    from reelrank.synthetic import INTERACTIONS_SCHEMA

    schema = personalize.create_schema(name=f"{name}-schema", schema=INTERACTIONS_SCHEMA)["schemaArn"]
    group = personalize.create_dataset_group(name=name)["datasetGroupArn"]
    wait_active(lambda: personalize.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
    dataset = personalize.create_dataset(name=f"{name}-interactions", schemaArn=schema, datasetGroupArn=group,
                                         datasetType="Interactions")["datasetArn"]
    wait_active(lambda: personalize.describe_dataset(datasetArn=dataset), "dataset")
    job = personalize.create_dataset_import_job(
        jobName=f"{name}-import", datasetArn=dataset, importMode="FULL",
        dataSource={"dataLocation": csv_path.resolve().as_uri()})["datasetImportJobArn"]
    wait_active(lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job), "datasetImportJob")
    versions = []
    for number, recipe in enumerate(recipes, 1):
        solution = personalize.create_solution(name=f"{name}-solution-{number}", datasetGroupArn=group,
                                               recipeArn=RECIPE + recipe, performAutoTraining=False)["solutionArn"]
        wait_active(lambda solution=solution: personalize.describe_solution(solutionArn=solution), "solution")
        versions.append(personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"])
    return group, versions


def wait_versions(personalize: Any, arns: list[str]) -> None:
    for arn in arns:
        wait_active(lambda arn=arn: personalize.describe_solution_version(solutionVersionArn=arn), "solutionVersion",
                    timeout=1800)


def create_campaign(personalize: Any, name: str, version: str) -> str:
    arn = personalize.create_campaign(name=name, solutionVersionArn=version)["campaignArn"]
    wait_active(lambda: personalize.describe_campaign(campaignArn=arn), "campaign")
    return str(arn)


def try_filter(personalize: Any, group: str) -> tuple[str | None, str]:
    from botocore.exceptions import ClientError

    try:
        arn = personalize.create_filter(name="bench-unwatched", datasetGroupArn=group,
                                        filterExpression=FILTER_EXPRESSION)["filterArn"]
    except ClientError as error:
        return None, f"CreateFilter answered {error.response['Error']['Code']}: {error.response['Error']['Message']}"
    try:
        wait_active(lambda: personalize.describe_filter(filterArn=arn), "filter", timeout=120)
    except SystemExit as error:
        return None, f"the filter did not become ACTIVE: {error}"
    return str(arn), ""


# ---------------------------------------------------------------------------------------------------------
# The event-to-change probe (runs in this process while the paced PutEvents load runs in its own)
# ---------------------------------------------------------------------------------------------------------


def probe_event_to_change(port: int, signer: Signer, deployed: Deployed, users: list[str], items: list[str],
                          count: int, stop_after: float, pause: float, seed: int) -> dict[str, Any]:
    assert deployed.tracking_id is not None
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    rng = random.Random(seed)
    latencies, polls, unchanged, failures = [], [], 0, []
    deadline = time.monotonic() + stop_after
    for user in rng.sample(users, min(count, len(users))):
        if time.monotonic() > deadline:
            break
        ask = signer.recommendations(deployed.campaign, userId=user)
        code, body = exchange(connection, ask)
        if code != 200:
            failures.append(f"GetRecommendations {code}: {body[:200]!r}")
            continue
        before = [item["itemId"] for item in json.loads(body)["itemList"]]
        fresh = [item for item in rng.sample(items, 20) if item not in before][:3]
        events = [{"eventType": "watch", "itemId": item, "sentAt": time.time(), "eventId": f"probe-{uuid.uuid4()}"}
                  for item in fresh]
        code, body = exchange(connection, signer.events(deployed.tracking_id, user, events))
        acknowledged = time.perf_counter()
        if code != 200:
            failures.append(f"PutEvents {code}: {body[:200]!r}")
            continue
        for poll in range(1, 10_000):
            code, body = exchange(connection, ask)
            if code == 200 and [item["itemId"] for item in json.loads(body)["itemList"]] != before:
                latencies.append((time.perf_counter() - acknowledged) * 1000)
                polls.append(poll)
                break
            if time.perf_counter() - acknowledged > 5.0:
                unchanged += 1
                break
        time.sleep(pause)
    connection.close()
    return {"latencies": latencies, "polls": polls, "unchanged": unchanged, "failures": failures[:5]}


def stored_events(data_dir: Path, prefix: str) -> set[str]:
    with contextlib.closing(sqlite3.connect(data_dir / "metadata.db", timeout=30)) as db:
        rows = db.execute("SELECT event_id FROM events WHERE event_id LIKE ?", (prefix + "%",)).fetchall()
    return {row[0] for row in rows}


# ---------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------


def _ms(value: float) -> str:
    if value != value:
        return "–"
    return "∞" if value == float("inf") else f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def table(rows: list[Row]) -> str:
    lines = ["| scenario | load | rate | p50 ms | p99 ms | errors | server CPU ms/req | others' CPU | target | "
             "verdict |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for row in rows:
        run = row.run
        rate = f"{run.rate:,.0f} {row.unit}" if run.requests else "–"
        if len(row.runs) > 1:
            rate += f" (median of {len(row.runs)})"
        cpu = f"{run.cpu_ms:.2f}" if run.cpu_ms == run.cpu_ms else "–"
        others = f"{run.others:.2f}" if run.others == run.others else "–"
        lines.append(f"| {row.scenario} | {row.load} | {rate} | {_ms(run.p50)} | {_ms(run.p99)} | {run.errors:,} | "
                     f"{cpu} | {others} | {row.target} | {row.verdict} |")
    return "\n".join(lines)


def machine() -> dict[str, str]:
    import botocore
    import numpy
    import starlette
    import uvicorn

    import reelrank

    uname = subprocess.run(["uname", "-srm"], capture_output=True, text=True, check=False).stdout.strip()
    match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    memory = ""
    with contextlib.suppress(ImportError):
        import psutil

        memory = f", {psutil.virtual_memory().total / 2**30:.1f} GiB RAM"
    versions = [f"Python {platform.python_version()}", f"reelrank {reelrank.__version__}",
                f"uvicorn {uvicorn.__version__}", f"starlette {starlette.__version__}"]
    for module in ("uvloop", "httptools"):
        with contextlib.suppress(ImportError):
            versions.append(f"{module} {__import__(module).__version__}")
    versions += [f"numpy {numpy.__version__}", f"botocore {botocore.__version__}"]
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    wrk_version = re.search(r"wrk (\S+)", wrk.stdout + wrk.stderr)
    versions.append(f"wrk {wrk_version.group(1) if wrk_version else '?'}")
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "system": uname or platform.platform(),
            "cpu": match.group(1).strip() if match else "unknown CPU", "cores": str(os.cpu_count()),
            "memory": memory, "versions": ", ".join(versions)}


def section(report: str, details: list[str], info: dict[str, str], command: str, load: str, model: str) -> str:
    bullet_details = "\n".join(f"- {line}" for line in details)
    return f"""{SECTION}

Measured {info['date']} on `{info['system']}`, {info['cpu']}, {info['cores']} cores{info['memory']};
{info['versions']}. Load average before / after: {load}.

Command: `{command}`

`reelrank serve` (SigV4 on, demo keys) and, in the same run, a bare Starlette endpoint (one route that reads the
body and returns a fixed JSON body of a real answer's size, served by uvicorn as `reelrank serve` is: uvloop,
httptools, log level warning), both on loopback, loaded by the same clients on the same 2 cores. Requests are the
AWS wire format (botocore's rest-json serialisation), each distinct request signed once with
`botocore.auth.SigV4Auth` just before its run and replayed. *64 conn*: `wrk -t1 -c64` (a Lua script) cycling
through 1,000 pre-signed requests (distinct users, or anchor items for the 60k catalogue); latency from send to
response. *paced*: the script's open-loop client (asyncio on uvloop, raw HTTP/1.1, up to 64 keep-alive
connections) sending request *i* at t0 + i / rate; latency from the *scheduled* send, so a stalled server is
charged for every request it delays (coordinated-omission safe); a request unanswered at the end counts as an
error and as infinite latency. Rows run several times show the median run (by rate) with its own latencies.
*Server CPU ms/req* is the CPU time of the server's processes divided by the requests answered (less disturbed by
other load than rates and latencies, though still inflated by it: shared caches, and vCPUs that may be hyperthreads
of one host core); *others' CPU* is the CPU, in cores, that processes outside the benchmark used during the run
(other work on the machine; above ~0.1 a row's rates and latencies are pessimistic).

Model: {model}.

{report}

{bullet_details}
"""


def write_docs(text: str) -> None:
    write_section(SECTION, text)


# ---------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def servers(workdir: Path, import_root: Path, processes: int) -> Iterator[tuple[Process, Process]]:
    from reelrank.config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY

    port, bare_port = free_port(), free_port()
    reelrank = Process("reelrank serve", [str(Path(sys.executable).parent / "reelrank"), "serve", "--port", str(port),
                                          "--data-dir", str(workdir / "data"), "--import-root", str(import_root),
                                          "--access-key", DEMO_ACCESS_KEY, "--secret-key", DEMO_SECRET_KEY,
                                          "--processes", str(processes)],
                       workdir / "reelrank.log", port)
    bare = Process("bare endpoint", [sys.executable, __file__, "--bare-server", str(bare_port),
                                     "--processes", str(processes)], workdir / "bare.log", bare_port)
    try:
        yield reelrank.start(), bare.start()
    finally:
        reelrank.stop()
        bare.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a ~2-minute smoke run: small data, short runs")
    parser.add_argument("--repeat", type=int, help="interleaved runs of the 64-connection bare and "
                                                   "GetRecommendations measurements (default 3, quick 1)")
    parser.add_argument("--duration", type=float, help="seconds per load run (default 15, quick 3)")
    parser.add_argument("--write-docs", action="store_true", help=f"rewrite '{SECTION}' in docs/benchmarks.md")
    parser.add_argument("--check", action="store_true", help="exit with status 1 if a target is missed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (data, logs, requests)")
    parser.add_argument("--processes", type=int, default=2,
                        help="server processes, for reelrank and the bare endpoint alike (default 2: one per core)")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pace-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_server:
        bare_server_main(args.bare_server, args.processes)
        return 0
    if args.pace_child:
        pace_child_main(args.pace_child)
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed: this benchmark needs it as its load generator. On Debian/Ubuntu: "
              "sudo apt-get install -y wrk", file=sys.stderr)
        return 2
    if not MOVIELENS.exists():
        print(f"{MOVIELENS} is missing: the MovieLens-1M sequences are needed", file=sys.stderr)
        return 2
    repeat = args.repeat or (1 if args.quick else 3)
    duration = args.duration or (3.0 if args.quick else 15.0)
    events_duration = 6.0 if args.quick else 60.0
    load_before = os.getloadavg()
    with scratch("reelrank-serving-", args.keep) as temp:
        rows, details, model = run_all(temp, args.quick, repeat, duration, events_duration, args.processes)
    load_after = os.getloadavg()
    load = (f"{load_before[0]:.2f} / {load_after[0]:.2f} (5-minute {load_before[1]:.2f} / "
            f"{load_after[1]:.2f})")
    report = table(rows)
    info = machine()
    command = shlex.join(["python", "benchmarks/serving.py", *(argv if argv is not None else sys.argv[1:])])
    print()
    print(f"{info['date']}  {info['system']}  {info['cpu']}  {info['cores']} cores  load {load}")
    print(info["versions"])
    print(report)
    for line in details:
        print(f"- {line}")
    if args.write_docs:
        write_docs(section(report, details, info, command, load, model))
        print(f"\nwrote '{SECTION}' in {DOCS}")
    failed = any(row.verdict == "FAIL" for row in rows)
    return 1 if args.check and failed else 0


def run_all(workdir: Path, quick: bool, repeat: int, duration: float, events_duration: float,
            processes: int) -> tuple[list[Row], list[str], str]:
    import boto3
    from botocore.config import Config

    from reelrank.config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY

    import_root = workdir / "imports"
    import_root.mkdir()
    bench = Bench(workdir)
    rows: list[Row] = []
    details: list[str] = []
    # --quick swaps the expensive training for cheap recipes: the second (update) version and the 60k catalogue
    # use aws-popularity-count there.
    update_recipe = "aws-popularity-count" if quick else USER_RECIPE
    large_recipe = "aws-popularity-count" if quick else LARGE_RECIPE

    log("writing the MovieLens-1M interactions CSV …")
    ml_users, ml_items, ml_rows = movielens_csv(import_root / "ml-1m.csv", 150_000 if quick else None)
    model = (f"MovieLens-1M ({ml_rows:,} interactions{', a prefix (--quick)' if quick else ''}, {len(ml_users):,} "
             f"users, {len(ml_items):,} items, in time order, TIMESTAMP = line number), {USER_RECIPE} (RecencyEASE)")
    log(f"  {model}")
    log("generating the 60,000-item catalogue …")
    large_items, large_rows = large_catalogue_csv(import_root / "large.csv", quick)
    log(f"  {large_rows:,} interactions, {len(large_items):,} items")

    with servers(workdir, import_root, processes) as (server, bare):
        bench.ours = [server, bare]
        client_config = Config(retries={"max_attempts": 2}, read_timeout=120)
        personalize = boto3.client("personalize", endpoint_url=f"http://127.0.0.1:{server.port}", region_name=REGION,
                                   aws_access_key_id=DEMO_ACCESS_KEY, aws_secret_access_key=DEMO_SECRET_KEY,
                                   config=client_config)
        log(f"setup: imports and training ({USER_RECIPE}, {update_recipe}; {large_recipe} on 60k items) …")
        started = time.perf_counter()
        group, versions = deploy(personalize, "ml1m", import_root / "ml-1m.csv", [USER_RECIPE, update_recipe])
        large_group, large_versions = deploy(personalize, "large", import_root / "large.csv", [large_recipe])
        wait_versions(personalize, versions + large_versions)
        log(f"  trained in {time.perf_counter() - started:.0f} s")
        ml = Deployed(create_campaign(personalize, "ml1m-campaign", versions[0]), versions, group)
        large = Deployed(create_campaign(personalize, "large-campaign", large_versions[0]), large_versions,
                         large_group)
        tracker = personalize.create_event_tracker(name="ml1m-tracker", datasetGroupArn=group)
        wait_active(lambda: personalize.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"]),
                    "eventTracker")
        ml.tracking_id = tracker["trackingId"]
        ml.filter_arn, ml.filter_note = try_filter(personalize, group)
        log(f"  ready after {time.perf_counter() - started:.0f} s; filter: {ml.filter_arn or ml.filter_note}")
        details.append(f"Setup, not timed: import, training and campaigns took {time.perf_counter() - started:.0f} s; "
                       f"closed-loop runs last {duration:.0f} s each. `reelrank serve --processes {processes}` and the "
                       f"bare endpoint alike run {processes} server process(es) sharing the port.")

        signer = Signer(server.port, DEMO_ACCESS_KEY, DEMO_SECRET_KEY)
        bare_signer = Signer(bare.port, DEMO_ACCESS_KEY, DEMO_SECRET_KEY)
        rng = random.Random(1)
        users = [rng.choice(ml_users) for _ in range(DISTINCT)]

        def asks(for_signer: Signer, **extra: Any) -> list[bytes]:
            return [for_signer.recommendations(ml.campaign, userId=user, **extra) for user in users]

        # Warm-up: histories, model loads and the like happen here, not in a measured run.
        log("warm-up …")
        bench.wrk(server, asks(signer), 3, "warmup")
        bench.wrk(bare, asks(bare_signer), 2, "warmup-bare")

        log(f"64 connections: bare and GetRecommendations, {repeat} interleaved run(s) of {duration:.0f} s …")
        bare_runs, ask_runs = [], []
        for number in range(repeat):
            bare_runs.append(bench.wrk(bare, asks(bare_signer), duration, "bare"))
            ask_runs.append(bench.wrk(server, asks(signer), duration, "ask"))
            log(f"  run {number + 1}: bare {describe_run(bare_runs[-1])}; GetRecommendations "
                f"{describe_run(ask_runs[-1])}")
        rows.append(Row("bare Starlette endpoint", "64 conn", bare_runs, BARE_REFERENCE))
        rows.append(Row("GetRecommendations", "64 conn", ask_runs, "≥ 3,000 req/s, p99 ≤ 25 ms",
                        lambda run: run.rate >= 3000 and run.p99 <= 25 and run.errors == 0))
        details.append(f"At {CONNECTIONS} connections a closed loop's mean latency is {CONNECTIONS} / rate (Little's "
                       f"law): p99 ≤ 25 ms needs well over {CONNECTIONS / 0.025:,.0f} req/s.")
        if repeat > 1:
            details.append("Every 64-connection run (req/s, p99 ms, others' CPU): bare " + "; ".join(
                f"{run.rate:,.0f}, {run.p99:.1f}, {run.others:.2f}" for run in bare_runs) + " — GetRecommendations "
                + "; ".join(f"{run.rate:,.0f}, {run.p99:.1f}, {run.others:.2f}" for run in ask_runs) + ".")

        log("paced 1,000 req/s: bare, then GetRecommendations …")
        paced_duration = max(duration, 5.0)
        bare_paced = bench.paced(bare, asks(bare_signer), 1000, paced_duration, "bare-paced")
        rows.append(Row("bare Starlette endpoint", "paced 1,000/s", [bare_paced], "client + stack floor"))
        ask_paced = bench.paced(server, asks(signer), 1000, paced_duration, "ask-paced")
        bench.settle(server)
        rows.append(Row("GetRecommendations", "paced 1,000/s", [ask_paced], "p99 ≤ 10 ms",
                        lambda run: run.p99 <= 10 and run.errors == 0))
        details.append(f"Paced runs last {paced_duration:.0f} s (PutEvents {events_duration:.0f} s). The paced "
                       f"client's own lateness in sending (p99; included in its latencies): bare "
                       f"{bare_paced.extra['timer_late_p99_ms']:.2f} ms, GetRecommendations "
                       f"{ask_paced.extra['timer_late_p99_ms']:.2f} ms (past a few ms this is a full pool, i.e. the "
                       "server falling behind).")
        log(f"  bare {describe_run(bare_paced)}; GetRecommendations {describe_run(ask_paced)}")

        if ml.filter_arn:
            log("GetRecommendations with a filter, 64 connections …")
            filtered = asks(signer, filterArn=ml.filter_arn)
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            code, body = exchange(connection, filtered[0])
            connection.close()
            if code != 200:
                ml.filter_note = f"GetRecommendations with filterArn answered {code}: {body[:200].decode()}"
            else:
                bench.wrk(server, filtered, 2, "filter-warmup")
                filter_run = bench.wrk(server, filtered, duration, "filter")
                rows.append(Row("GetRecommendations + filter", "64 conn", [filter_run], "≥ 2,000 req/s",
                                lambda run: run.rate >= 2000 and run.errors == 0))
                details.append(f"Filter: `{FILTER_EXPRESSION}` (removes the user's watched items, i.e. the whole "
                               "MovieLens history).")
                log(f"  {describe_run(filter_run)}")
        if ml.filter_note:
            rows.append(Row("GetRecommendations + filter", "skipped", [Run(0, float("nan"), float("nan"), 0, 0)],
                            "≥ 2,000 req/s", lambda run: False))
            details.append(f"Filter scenario skipped: {ml.filter_note}")
            log(f"  filter skipped: {ml.filter_note}")

        # PutEvents: one event per request, every eventId distinct, so every acknowledged event must be stored.
        assert ml.tracking_id is not None
        tracking_id = ml.tracking_id
        data_dir = workdir / "data"

        def event_requests(prefix: str, count: int) -> list[bytes]:
            chooser = random.Random(prefix)
            return [signer.events(tracking_id, chooser.choice(ml_users), [
                {"eventType": "watch", "itemId": chooser.choice(ml_items), "sentAt": time.time(),
                 "eventId": f"{prefix}-{number}"}]) for number in range(count)]

        log("event → changed recommendation, on an otherwise idle server …")
        idle_probe = probe_event_to_change(server.port, signer, ml, ml_users, ml_items, 20 if quick else 200, 60.0,
                                           pause=0.0, seed=5)
        add_change_row(rows, details, idle_probe, "idle server")

        log("PutEvents, 64 connections …")
        events_run = bench.wrk(server, event_requests("wrk", int(duration * 6000)), duration, "events")
        stored = len(stored_events(data_dir, "wrk-"))
        acknowledged = events_run.requests - events_run.errors
        rows.append(Row("PutEvents (1 event per request)", "64 conn", [events_run], "≥ 2,000 events/s",
                        lambda run: run.rate >= 2000 and run.errors == 0, unit="events/s"))
        details.append(f"PutEvents at 64 connections: {acknowledged:,} acknowledged, {stored:,} stored ("
                       + ("the request list wrapped, so repeats were deduplicated"
                          if events_run.extra["wrk"]["wrapped"] else "every eventId distinct")
                       + "; wrk stops counting at its deadline, so stored ≥ acknowledged means none was lost).")
        log(f"  {describe_run(events_run)}; {acknowledged:,} acknowledged, {stored:,} stored")
        bench.settle(server)

        rate = 2000
        count = int(rate * events_duration)
        log(f"PutEvents paced {rate:,} events/s for {events_duration:.0f} s: signing {count:,} requests …")
        paced_events = event_requests("paced", count)
        log("  running, with the event-to-change probe alongside …")
        probe_count = 40 if quick else 300

        def during() -> dict[str, Any]:
            time.sleep(1.0)
            return probe_event_to_change(server.port, signer, ml, ml_users, ml_items, probe_count,
                                         events_duration - 2, pause=0.1, seed=17)

        events_paced = bench.paced(server, paced_events, rate, events_duration, "events-paced", once=True,
                                   during=during)
        bench.settle(server)
        stored_ids = stored_events(data_dir, "paced-")
        acked_ids = {f"paced-{index}" for index in events_paced.extra["acked"]}
        lost = len(acked_ids - stored_ids)
        rows.append(Row("PutEvents (1 event per request)", f"paced {rate:,}/s, {events_duration:.0f} s",
                        [events_paced], "≥ 2,000 events/s, p99 ≤ 25 ms, 0 lost",
                        lambda run: run.errors == 0 and run.p99 <= 25 and lost == 0 and run.rate >= 0.99 * rate,
                        unit="events/s"))
        details.append(f"PutEvents paced: {events_paced.extra['scheduled']:,} sent, {events_paced.extra['ok']:,} "
                       f"acknowledged (200), {events_paced.extra['unanswered']:,} not answered within 10 s of the "
                       "schedule's end (the server fell behind; most never left the client, every connection waiting "
                       f"for an answer), {len(stored_ids):,} stored; acknowledged but not in "
                       f"`metadata.db`: {lost}. Worst seconds by p99: " + worst(events_paced)
                       + error_samples(events_paced) + ".")
        log(f"  {describe_run(events_paced)}; lost {lost}")
        add_change_row(rows, details, events_paced.extra["side"], f"during paced PutEvents {rate:,}/s")

        log("campaign update during a paced 1,000 req/s load …")
        update_duration = max(duration, 8.0)
        update_at = update_duration / 3

        def update() -> dict[str, Any]:
            time.sleep(update_at)
            started = time.perf_counter()
            personalize.update_campaign(campaignArn=ml.campaign, solutionVersionArn=ml.versions[1])
            campaign = wait_active(lambda: personalize.describe_campaign(campaignArn=ml.campaign), "campaign")
            return {"seconds": time.perf_counter() - started, "version": campaign["solutionVersionArn"]}

        update_run = bench.paced(server, asks(signer), 1000, update_duration, "update", during=update)
        bench.settle(server)
        swapped = update_run.extra["side"]["version"] == ml.versions[1]
        rows.append(Row("GetRecommendations during UpdateCampaign", "paced 1,000/s", [update_run],
                        "0 errors at the full 1,000 req/s",
                        lambda run: run.errors == 0 and swapped and run.rate >= 990))
        details.append(f"UpdateCampaign to a second solution version ({update_recipe}) at t = {update_at:.0f} s of "
                       f"{update_duration:.0f} s: answered and ACTIVE in {update_run.extra['side']['seconds']:.2f} s"
                       f", campaign on the new version afterwards: {swapped}; error answers (non-200): "
                       f"{update_run.errors - update_run.extra['unanswered']:,}, not answered within 10 s of the "
                       f"schedule's end (server behind the load): {update_run.extra['unanswered']:,}. Worst seconds "
                       "by p99: "
                       + worst(update_run) + error_samples(update_run) + ".")
        log(f"  {describe_run(update_run)}")

        log(f"60,000-item catalogue ({large_recipe}) …")
        anchors = [rng.choice(large_items) for _ in range(DISTINCT)]

        def large_asks() -> list[bytes]:
            if large_recipe == LARGE_RECIPE:
                return [signer.recommendations(large.campaign, itemId=item) for item in anchors]
            return [signer.recommendations(large.campaign, userId=f"u{number}") for number in range(DISTINCT)]

        bench.wrk(server, large_asks(), 2, "large-warmup")
        large_run = bench.wrk(server, large_asks(), duration, "large")
        label = f"GetRecommendations, {LARGE_ITEMS:,} items ({large_recipe})"
        rows.append(Row(label, "64 conn", [large_run], "≥ 500 req/s", lambda run: run.rate >= 500 and run.errors == 0))
        log(f"  64 conn: {describe_run(large_run)}")
        bench.settle(server)
        large_paced = bench.paced(server, large_asks(), 500, paced_duration, "large-paced")
        bench.settle(server)
        rows.append(Row(label, "paced 500/s", [large_paced], "p99 ≤ 50 ms",
                        lambda run: run.p99 <= 50 and run.errors == 0))
        log(f"  paced 500/s: {describe_run(large_paced)}")
        details.append(f"{LARGE_ITEMS:,}-item catalogue: `reelrank.synthetic.generate(n_items=60_000)` "
                       f"({large_rows:,} interactions, one added for each item the generator left unused, so the "
                       f"model knows all {LARGE_ITEMS:,}), recipe {large_recipe}"
                       + (" (item-kNN; RecencyEASE refuses more than 30,000 items), asked with 1,000 itemIds drawn "
                          "uniformly from the catalogue (an anchor without co-occurring neighbours gets the "
                          "popularity fallback, as in Personalize)" if large_recipe == LARGE_RECIPE else "")
                       + "; the throughput target is read at 64 connections, the p99 target at a paced 500 req/s.")
        if not server.alive:
            raise SystemExit("reelrank serve died during the benchmark")
    return rows, details, model


def add_change_row(rows: list[Row], details: list[str], probe: dict[str, Any], load: str) -> None:
    change = probe["latencies"]
    run = Run(len(change), percentile(change, 50), percentile(change, 99), probe["unchanged"] + len(probe["failures"]),
              len(change))
    rows.append(Row("event → changed recommendation", load, [run], "p99 ≤ 50 ms",
                    lambda run: bool(change) and run.p99 <= 50 and run.errors == 0, unit="users"))
    details.append(f"Event → change ({load}): {len(change)} users one after another, each: GetRecommendations, "
                   "PutEvents of three items not in the list, then, from the acknowledgement, GetRecommendations "
                   f"until the list differs; polls needed: at most {max(probe['polls'], default=0)}; unchanged after "
                   f"5 s: {probe['unchanged']}" + (f"; failures: {probe['failures']}" if probe["failures"] else "")
                   + ".")
    log(f"  event → change ({load}): {len(change)} users, p50 {run.p50:.1f} ms, p99 {run.p99:.1f} ms")


def describe_run(run: Run) -> str:
    return (f"{run.rate:,.0f}/s, p50 {run.p50:.1f} ms, p99 {run.p99:.1f} ms, {run.errors} errors, "
            f"{run.cpu_ms:.2f} ms CPU/req, others {run.others:.2f} cores")


def worst(run: Run) -> str:
    return ", ".join(f"{_ms(p99)} ms in second {second}" for p99, second in run.extra["worst_seconds"])


def error_samples(run: Run) -> str:
    samples = run.extra["error_samples"]
    return f"; first errors: {'; '.join(sample[:160] for sample in samples[:2])}" if samples else ""


if __name__ == "__main__":
    sys.exit(main())

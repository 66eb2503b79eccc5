"""Console: every page of the web console rendered against the demo data, timed on the server.

Setup (not timed): the demo data (`reelrank demo --once`: a VIDEO_ON_DEMAND dataset group of 2,000 users, 1,000
movies and 100,000 interactions; User-Personalization, SIMS and Popularity-Count solution versions, a campaign, a
top-picks recommender, an event tracker) in a temporary data directory, or ``--data-dir`` for one that holds it
already. Then, through boto3, one of each resource the demo does not make, so that every page has something to show:
a filter, an aws-item-affinity solution version, a batch inference job (200 users), a batch segment job, a metric
attribution, a dataset export job, a data deletion job (of a user who does not exist), and 200 more events.

Measurement: ``reelrank serve`` on that data directory, signed in with the demo key pair. The pages are every page
linked from ``/console/``, followed link by link (so every section and the detail page of every resource), plus the
htmx fragments the pages poll or post: a status badge, the live event stream, and try-it answers. The *first*
column is each page's first request (its visit while the links were followed; the fragments' in a warm-up pass);
then ``--repeat`` passes over all pages, interleaved, give the other columns. *Server time* is the
``Server-Timing: app;dur=`` header the console sets on every answer: from the request reaching the console's
handler to the rendered body (session check, the service calls, reading data sets, Jinja). *Server CPU* is the
header's ``cpu;dur=``: the server process's CPU time meanwhile (all its threads, so the job scheduler's and any
background work's too; requests go one at a time), less disturbed by other load on the machine than wall time.
*Loopback* is the same request timed by the client over HTTP on 127.0.0.1 (server time plus uvicorn and the
client). Target: every page's p95 server time ≤ 200 ms.

    python benchmarks/console.py [--data-dir DIR] [--repeat N] [--write-docs] [--check] [--keep]
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import import_throughput
import serving
from bench_common import DOCS, free_port, log, scratch, write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Console"
TARGET_MS = 200.0
WIDTH = 116
"""Prose in docs/benchmarks.md is wrapped at this width, as the other sections are."""
PREFIX = "bench"
"""Names of the resources this benchmark adds start with it (so a second run on the same data reuses them)."""
RECIPE = "arn:aws:personalize:::recipe/"


@dataclass
class Page:
    """One console request: a page (GET) or a fragment the pages ask for (GET or an htmx POST)."""

    label: str
    path: str
    method: str = "GET"
    form: dict[str, str] | None = None
    server: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    loopback: list[float] = field(default_factory=list)
    first: float = float("nan")

    @property
    def kind(self) -> str:
        return self.path.split("?")[0].removeprefix("/console") or "/"

    def p(self, q: float) -> float:
        return serving.percentile(self.server, q)

    @property
    def verdict(self) -> str:
        return "PASS" if self.p(95) <= TARGET_MS else "FAIL"


# ---------------------------------------------------------------------------------------------------------
# Setup: the demo data, then one of every resource the demo does not make
# ---------------------------------------------------------------------------------------------------------


def load_demo(data_dir: Path, workdir: Path) -> None:
    """`reelrank demo --once` into `data_dir` (imports, training, campaign, recommender, tracker, events)."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "reelrank"), "demo", "--once", "--data-dir", str(data_dir),
               "--port", str(port)]
    started = time.perf_counter()
    with (workdir / "demo.log").open("wb") as out:
        code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False, timeout=1800).returncode
    if code != 0:
        raise SystemExit(f"reelrank demo failed ({code}):\n{(workdir / 'demo.log').read_text()[-3000:]}")
    log(f"  demo data loaded in {time.perf_counter() - started:.0f} s")


def _final(describe: Callable[[], dict[str, Any]], key: str, timeout: float = 600.0) -> dict[str, Any]:
    """Wait until a resource's status stops changing (ACTIVE, COMPLETED or a failure)."""
    deadline = time.monotonic() + timeout
    while True:
        resource = describe()[key]
        status = str(resource.get("status"))
        if not status.endswith(("PENDING", "IN_PROGRESS", "IN PROGRESS")):
            return resource
        if time.monotonic() > deadline:
            raise SystemExit(f"{key} still {status} after {timeout:.0f} s")
        time.sleep(0.2)


def _named(items: list[dict[str, Any]], name: str, key: str, name_key: str = "name") -> str | None:
    return next((item[key] for item in items if item.get(name_key) == name), None)


def add_resources(url: str, data_dir: Path) -> dict[str, str]:
    """One of every resource the demo does not create (reused when a previous run made it)."""
    import boto3

    from reelrank.config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY
    from reelrank.demo import GROUP_NAME

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=DEMO_ACCESS_KEY,
                            aws_secret_access_key=DEMO_SECRET_KEY)

    personalize, events = client("personalize"), client("personalize-events")
    group = _named(personalize.list_dataset_groups()["datasetGroups"], GROUP_NAME, "datasetGroupArn")
    if group is None:
        raise SystemExit(f"no dataset group {GROUP_NAME} in {data_dir}: run the demo first")
    folder = (data_dir / "imports" / f"{PREFIX}-console").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    found: dict[str, str] = {"group": group}

    name = f"{PREFIX}-unwatched"
    arn = _named(personalize.list_filters(datasetGroupArn=group)["Filters"], name, "filterArn")
    if arn is None:
        arn = personalize.create_filter(name=name, datasetGroupArn=group,
                                        filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Watch")')[
            "filterArn"]
    found["filter"] = arn

    solutions = personalize.list_solutions(datasetGroupArn=group)["solutions"]
    user_solution = next(s["solutionArn"] for s in solutions if s["recipeArn"].endswith("/aws-user-personalization"))
    user_version = personalize.describe_solution(solutionArn=user_solution)["solution"]["latestSolutionVersion"][
        "solutionVersionArn"]
    name = f"{PREFIX}-item-affinity"
    affinity = _named(solutions, name, "solutionArn")
    if affinity is None:
        affinity = personalize.create_solution(name=name, datasetGroupArn=group, recipeArn=RECIPE + "aws-item-affinity",
                                               performAutoTraining=False)["solutionArn"]
        _final(lambda: personalize.describe_solution(solutionArn=affinity), "solution")
    latest = personalize.describe_solution(solutionArn=affinity)["solution"].get("latestSolutionVersion")
    if latest is None or latest["status"] != "ACTIVE":
        log("  training aws-item-affinity for a batch segment job")
        version = personalize.create_solution_version(solutionArn=affinity)["solutionVersionArn"]
        latest = _final(lambda: personalize.describe_solution_version(solutionVersionArn=version), "solutionVersion")
    affinity_version = latest["solutionVersionArn"]

    role = "arn:aws:iam::000000000000:role/reelrank"
    users = folder / "users.json"
    users.write_text("".join(json.dumps({"userId": f"u{n}"}) + "\n" for n in range(1, 201)))
    items = folder / "items.json"
    items.write_text("".join(json.dumps({"itemId": f"m{n}"}) + "\n" for n in range(1, 11)))
    jobs = {"batch-inference-job": (personalize.list_batch_inference_jobs, "batchInferenceJobs",
                                    "batchInferenceJobArn"),
            "batch-segment-job": (personalize.list_batch_segment_jobs, "batchSegmentJobs", "batchSegmentJobArn")}
    for kind, (listing, member, key) in jobs.items():
        name = f"{PREFIX}-{kind}"
        arn = _named(listing()[member], name, key, "jobName")
        if arn is None:
            segment = kind == "batch-segment-job"
            create = personalize.create_batch_segment_job if segment else personalize.create_batch_inference_job
            arn = create(jobName=name, solutionVersionArn=affinity_version if segment else user_version, roleArn=role,
                         jobInput={"s3DataSource": {"path": (items if segment else users).as_uri()}},
                         jobOutput={"s3DataDestination": {"path": (folder / kind).as_uri() + "/"}})[key]
        found[kind] = arn

    name = f"{PREFIX}-attribution"
    arn = _named(personalize.list_metric_attributions(datasetGroupArn=group)["metricAttributions"], name,
                 "metricAttributionArn")
    if arn is None:
        arn = personalize.create_metric_attribution(
            name=name, datasetGroupArn=group,
            metrics=[{"metricName": "watches", "eventType": "Watch", "expression": "SAMPLECOUNT()"}],
            metricsOutputConfig={"roleArn": role, "s3DataDestination": {"path": (folder / "metrics").as_uri() + "/"}})[
            "metricAttributionArn"]
    found["attribution"] = arn

    items_dataset = next(d["datasetArn"] for d in personalize.list_datasets(datasetGroupArn=group)["datasets"]
                         if d["datasetType"].upper() == "ITEMS")
    name = f"{PREFIX}-export"
    if _named(personalize.list_dataset_export_jobs(datasetArn=items_dataset)["datasetExportJobs"], name,
              "datasetExportJobArn", "jobName") is None:
        personalize.create_dataset_export_job(jobName=name, datasetArn=items_dataset, roleArn=role, ingestionMode="ALL",
                                              jobOutput={"s3DataDestination": {"path": (folder / "export").as_uri()
                                                                               + "/"}})
    name = f"{PREFIX}-deletion"
    if _named(personalize.list_data_deletion_jobs(datasetGroupArn=group)["dataDeletionJobs"], name,
              "dataDeletionJobArn", "jobName") is None:
        (folder / "nobody.csv").write_text("USER_ID\nnobody-at-all\n")
        personalize.create_data_deletion_job(jobName=name, datasetGroupArn=group, roleArn=role,
                                             dataSource={"dataLocation": (folder / "nobody.csv").as_uri()})

    tracker = personalize.list_event_trackers(datasetGroupArn=group)["eventTrackers"][0]["eventTrackerArn"]
    tracking_id = personalize.describe_event_tracker(eventTrackerArn=tracker)["eventTracker"]["trackingId"]
    for batch in range(20):
        events.put_events(trackingId=tracking_id, userId=f"u{batch + 1}", sessionId=f"{PREFIX}-{batch}", eventList=[
            {"eventType": "Watch", "itemId": f"m{(batch * 37 + n) % 1000 + 1}", "sentAt": time.time(),
             "eventId": f"{PREFIX}-{uuid.uuid4().hex}"} for n in range(10)])
    for kind in ("batch-inference-job", "batch-segment-job"):
        describe, member, key = ((personalize.describe_batch_segment_job, "batchSegmentJob", "batchSegmentJobArn")
                                 if kind == "batch-segment-job" else
                                 (personalize.describe_batch_inference_job, "batchInferenceJob",
                                  "batchInferenceJobArn"))
        job = _final(lambda d=describe, k=key, a=found[kind]: d(**{k: a}), member)  # type: ignore[misc]
        if job["status"] != "ACTIVE":
            raise SystemExit(f"{kind} failed: {job.get('failureReason')}")
    found["campaign"] = next(c["campaignArn"] for c in personalize.list_campaigns()["campaigns"]
                             if c["name"] == f"{GROUP_NAME}-campaign")
    found["recommender"] = personalize.list_recommenders(datasetGroupArn=group)["recommenders"][0]["recommenderArn"]
    return found


# ---------------------------------------------------------------------------------------------------------
# The pages and their timing
# ---------------------------------------------------------------------------------------------------------


def signed_in(url: str) -> Any:
    import httpx

    from reelrank.config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY

    client = httpx.Client(base_url=url, timeout=60)
    response = client.post("/console/signin", data={"access_key": DEMO_ACCESS_KEY, "secret_key": DEMO_SECRET_KEY})
    if response.status_code != 303:
        raise SystemExit(f"sign-in failed: {response.status_code} {response.text[:300]}")
    return client


def label(path: str) -> str:
    """`/console/dataset?arn=…/movies-demo/INTERACTIONS` → `dataset · movies-demo/INTERACTIONS`."""
    parts = urlsplit(path)
    kind = parts.path.removeprefix("/console/") or "dataset groups"
    arn = parse_qs(parts.query).get("arn", [""])[0]
    resource = arn.split(":", 5)[-1].split("/", 1)[-1] if arn else ""
    return f"{kind} · {resource}" if resource else kind


def server_ms(response: Any) -> float:
    timing = re.search(r"app;dur=([\d.]+)", response.headers.get("server-timing", ""))
    if timing is None:
        raise SystemExit(f"{response.url} has no Server-Timing header")
    return float(timing.group(1))


def discover(client: Any, limit: int = 500) -> list[Page]:
    """Every console page linked from /console/, breadth first; this first visit of each is its *first* time."""
    seen: dict[str, Page] = {}
    queue = ["/console/"]
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}:\n{response.text[:1000]}")
        seen[path] = Page(label(path), path, first=server_ms(response))
        for href in re.findall(r'href="(/console/[^"#]*)"', response.text):
            href = html.unescape(href)
            if "/static/" not in href and href not in seen and href not in queue:
                queue.append(href)
    return list(seen.values())


def pages_of(client: Any, found: dict[str, str]) -> list[Page]:
    pages = discover(client)
    group = found["group"]
    pages += [
        Page("fragment: status badge (campaign)", f"/console/status?arn={found['campaign']}"),
        Page("fragment: live event stream", f"/console/events/feed?arn={group}&after=0"),
        Page("fragment: try-it, recommendations explained (campaign)", "/console/try", "POST",
             {"kind": "campaign", "arn": found["campaign"], "mode": "recommend", "userId": "u1", "numResults": "10"}),
        Page("fragment: try-it, similar items (campaign's model)", "/console/try", "POST",
             {"kind": "campaign", "arn": found["campaign"], "mode": "similar", "itemId": "m1", "numResults": "10"}),
        Page("fragment: try-it, top picks (recommender)", "/console/try", "POST",
             {"kind": "recommender", "arn": found["recommender"], "mode": "recommend", "userId": "u2",
              "numResults": "10"}),
    ]
    return pages


def request(client: Any, page: Page) -> tuple[float, float, float]:
    """(server ms and CPU ms from Server-Timing, loopback ms) of one request."""
    started = time.perf_counter()
    if page.method == "POST":
        response = client.post(page.path, data=page.form, headers={"HX-Request": "true"})
    else:
        response = client.get(page.path)
    loopback = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{page.path} answered {response.status_code}:\n{response.text[:1000]}")
    cpu = re.search(r"cpu;dur=([\d.]+)", response.headers.get("server-timing", ""))
    return server_ms(response), float(cpu.group(1)) if cpu else float("nan"), loopback


def measure(client: Any, pages: list[Page], repeat: int) -> None:
    """A warm-up pass (the first request of the fragments, which the crawl did not make), then the timed passes."""
    for page in pages:
        server = request(client, page)[0]
        if page.first != page.first:
            page.first = server
    for round_number in range(repeat):
        for page in pages:
            server_ms, cpu_ms, loopback_ms = request(client, page)
            page.server.append(server_ms)
            page.cpu.append(cpu_ms)
            page.loopback.append(loopback_ms)
        if (round_number + 1) % 5 == 0:
            log(f"  {round_number + 1} of {repeat} passes")


# ---------------------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------------------


def table(pages: list[Page]) -> str:
    lines = ["| page | server ms median | server ms p95 | server ms max | server CPU ms median | first request ms | "
             "loopback ms median | verdict |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    for page in sorted(pages, key=lambda page: (page.kind, page.label)):
        lines.append(f"| {page.label} | {page.p(50):.1f} | {page.p(95):.1f} | {max(page.server):.1f} | "
                     f"{statistics.median(page.cpu):.1f} | {page.first:.1f} | {statistics.median(page.loopback):.1f} | "
                     f"{page.verdict} |")
    return "\n".join(lines)


def summary(pages: list[Page], repeat: int) -> str:
    slowest = max(pages, key=lambda page: page.p(95))
    failed = [page for page in pages if page.verdict == "FAIL"]
    every = sorted(value for page in pages for value in page.server)
    return (f"{len(pages)} pages and fragments, {repeat} timed requests each ({len(every):,} in all): median server "
            f"time {serving.percentile(every, 50):.1f} ms, p95 {serving.percentile(every, 95):.1f} ms. Slowest page "
            f"by p95: **{slowest.label}**, median {slowest.p(50):.1f} ms, p95 {slowest.p(95):.1f} ms. "
            + (f"**{len(failed)} above the {TARGET_MS:.0f} ms target.**" if failed else
               f"Every page within the {TARGET_MS:.0f} ms target."))


def versions() -> str:
    import jinja2
    import starlette
    import uvicorn

    import reelrank

    return (f"reelrank {reelrank.__version__}, starlette {starlette.__version__}, jinja2 {jinja2.__version__}, "
            f"uvicorn {uvicorn.__version__}")


def section(report: str, line: str, info: dict[str, str], command: str, load: str, data: str) -> str:
    doc = (__doc__ or "").split("\n\n")
    setup, measurement = (textwrap.fill(" ".join(part.split()), WIDTH) for part in doc[1:3])
    stamp = textwrap.fill(f"Measured {info['date']} on `{info['system']}`, {info['cpu']}, {info['cores']} cores, "
                          f"{info['memory']} RAM; Python {info['python']}, {versions()}. 1-minute load average "
                          f"before / after: {load}.", WIDTH)
    return f"""{SECTION}

{stamp}

Command: `{command}` ({data})

{setup}

{measurement}

{textwrap.fill(line, WIDTH)}

{report}
"""


def write_docs(text: str) -> None:
    write_section(SECTION, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="a data directory that holds the demo data already "
                                                      "(default: load it into a temporary one)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--write-docs", action="store_true", help=f"rewrite '{SECTION}' in docs/benchmarks.md")
    parser.add_argument("--check", action="store_true", help="exit with status 1 if a page misses the target")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (data and logs)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    load_before = os.getloadavg()
    with scratch("reelrank-console-", args.keep) as workdir:
        data_dir = args.data_dir.resolve() if args.data_dir else workdir / "data"
        if args.data_dir is None:
            log("loading the demo data (reelrank demo --once) …")
            load_demo(data_dir, workdir)
        port = free_port()
        server = serving.Process("reelrank serve", [str(Path(sys.executable).parent / "reelrank"), "serve", "--port",
                                                    str(port), "--data-dir", str(data_dir)],
                                 workdir / "reelrank.log", port).start()
        try:
            url = f"http://127.0.0.1:{port}"
            log("adding a filter, batch jobs, a metric attribution, data jobs and events …")
            found = add_resources(url, data_dir)
            client = signed_in(url)
            pages = pages_of(client, found)
            log(f"{len(pages)} pages and fragments; a warm-up pass, then {args.repeat} timed passes …")
            measure(client, pages, args.repeat)
        finally:
            server.stop()
    load_after = os.getloadavg()
    load = f"{load_before[0]:.2f} / {load_after[0]:.2f}"
    report, line = table(pages), summary(pages, args.repeat)
    info = import_throughput.machine()
    command = shlex.join(["python", "benchmarks/console.py", *(argv if argv is not None else sys.argv[1:])])
    data = ("on an existing demo data directory" if args.data_dir else
            "demo data loaded afresh into a temporary data directory")
    print()
    print(report)
    print()
    print(line)
    if args.write_docs:
        write_docs(section(report, line, info, command, load, data))
        print(f"\nwrote '{SECTION}' in {DOCS}")
    return 1 if args.check and any(page.verdict == "FAIL" for page in pages) else 0


if __name__ == "__main__":
    sys.exit(main())

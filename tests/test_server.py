"""`reelrank serve --processes 2`: two processes share the port, the data and the live events."""

from __future__ import annotations

import collections
import contextlib
import http.client
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from reelrank import synthetic
from tests.support.flows import interactions_group, run_import, trained_version, unique, wait_for
from tests.support.postgres import PostgresServer
from tests.support.servers import BIN, ReelrankServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReelrankServer]:
    root = tmp_path_factory.mktemp("processes")
    (root / "imports").mkdir()
    running = ReelrankServer(root / "data", root / "imports", ["--processes", "2"]).start()
    yield running
    running.stop()


def answering_processes(server: ReelrankServer, expected: int = 2, timeout: float = 30.0) -> set[int]:
    """The process ids behind /health over fresh connections, once `expected` of them answer (or the timeout)."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < expected and time.monotonic() < deadline:
        with urllib.request.urlopen(f"{server.url}/health", timeout=5) as response:
            seen.add(json.load(response)["process"])
    return seen


def test_both_processes_answer(server: ReelrankServer) -> None:
    assert len(answering_processes(server)) == 2


@contextlib.contextmanager
def connections_to(server: ReelrankServer, count: int = 64) -> Iterator[list[http.client.HTTPConnection]]:
    connections = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=5) for _ in range(count)]
    try:
        yield connections
    finally:
        for connection in connections:
            connection.close()


def shares(connections: list[http.client.HTTPConnection]) -> list[int]:
    """How many of `connections` each process holds (each asks /health which process answers), fewest first."""
    owners = []
    for connection in connections:
        connection.request("GET", "/health")
        owners.append(json.loads(connection.getresponse().read())["process"])
    return sorted(collections.Counter(owners).values())


def test_connections_opened_together_are_spread_over_the_processes(server: ReelrankServer) -> None:
    """A load generator opens its connections at once; with one shared socket the process that woke first took
    most of them. Each process now has its own socket and the kernel hashes connections among them."""
    with connections_to(server) as connections:
        split = shares(connections)
    assert len(split) == 2 and split[0] >= 12, split  # binomial(64, ½) stays above 12 but once in ~10⁶


def test_keep_alive_connections_even_out_over_the_processes(server: ReelrankServer) -> None:
    """However the kernel split them, long-lived connections end up half and half: a process over its share closes
    connections (Connection: close) until the clients' new connections land on the other."""
    with connections_to(server) as connections:
        for _ in range(100):
            closed = 0
            for connection in connections:  # unsigned API requests: answered (403) by the API's front door
                connection.request("POST", "/", body=b"{}", headers={"Content-Type": "application/x-amz-json-1.1"})
                response = connection.getresponse()
                response.read()
                closed += response.getheader("connection", "") == "close"  # http.client reconnects next time
            if not closed:
                break
        assert shares(connections) == [32, 32]


def test_a_second_server_cannot_take_a_port_in_use(server: ReelrankServer, tmp_path: Path) -> None:
    """SO_REUSEPORT would let a second server join the port and take half its connections: it must not start."""
    second = subprocess.run([str(BIN / "reelrank"), "serve", "--port", str(server.port), "--data-dir",
                             str(tmp_path / "data"), "--processes", "2"], capture_output=True, text=True, timeout=60)
    assert second.returncode != 0 and "in use" in second.stdout + second.stderr
    assert len(answering_processes(server)) == 2


@pytest.fixture(scope="module")
def postgres_server(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer) -> Iterator[ReelrankServer]:
    root = tmp_path_factory.mktemp("processes-postgres")
    (root / "imports").mkdir()
    running = ReelrankServer(root / "data", root / "imports",
                             ["--processes", "2", "--metadata-url", postgres.new_database()]).start()
    yield running
    running.stop()


def test_jobs_run_and_events_reach_every_process(server: ReelrankServer) -> None:
    jobs_run_and_events_reach_every_process(server)


def test_on_postgresql_jobs_run_and_events_reach_every_process(postgres_server: ReelrankServer) -> None:
    jobs_run_and_events_reach_every_process(postgres_server)


def jobs_run_and_events_reach_every_process(server: ReelrankServer) -> None:
    catalogue = synthetic.generate(n_users=200, n_items=120, n_interactions=5_000, seed=3)
    path = server.import_root / "interactions.csv"
    synthetic.write_csv(catalogue.interactions, path)
    personalize = server.client()  # control-plane calls land on either process; the primary runs the jobs
    group_arn, dataset_arn = interactions_group(personalize)
    assert run_import(personalize, dataset_arn, path.as_uri())["status"] == "ACTIVE"
    version_arn = trained_version(personalize, group_arn, "aws-user-personalization")
    campaign_arn = personalize.create_campaign(name=unique("c"), solutionVersionArn=version_arn)["campaignArn"]
    assert wait_for(lambda: personalize.describe_campaign(campaignArn=campaign_arn)["campaign"])["status"] == "ACTIVE"
    tracker = personalize.create_event_tracker(name=unique("t"), datasetGroupArn=group_arn)
    wait_for(lambda: personalize.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])["eventTracker"])
    items = catalogue.items.column("ITEM_ID").to_pylist()
    for round_ in range(6):  # fresh clients, fresh connections: the event and the next request meet any process
        user = f"u{round_ + 1}"
        before = [item["itemId"] for item in server.client("personalize-runtime").get_recommendations(
            campaignArn=campaign_arn, userId=user)["itemList"]]
        clicked = [item for item in items if item not in before][:3]
        server.client("personalize-events").put_events(
            trackingId=tracker["trackingId"], userId=user, sessionId=f"s{round_}",
            eventList=[{"eventType": "Watch", "itemId": item, "sentAt": time.time()} for item in clicked])
        for _ in range(2):
            after = [item["itemId"] for item in server.client("personalize-runtime").get_recommendations(
                campaignArn=campaign_arn, userId=user)["itemList"]]
            assert after != before


def test_killing_the_server_kills_every_process(tmp_path: Path) -> None:
    (tmp_path / "imports").mkdir()
    running = ReelrankServer(tmp_path / "data", tmp_path / "imports", ["--processes", "2"]).start()
    try:
        processes = [psutil.Process(pid) for pid in answering_processes(running)]
        assert len(processes) == 2 and running.process is not None
        os.kill(running.process.pid, signal.SIGKILL)  # the parent only: the other process must follow it
        running.process.wait()
        _, alive = psutil.wait_procs(processes, timeout=10)
        assert not alive
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever is left of its process group
            running.kill()

"""Live histories: the follower thread applies events without a request, a new import is swapped in after a
background rebuild, and readers on another thread always see items with their event types."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reelrank.serving import histories as module
from reelrank.serving.histories import GroupHistory, Histories
from reelrank.store.datasets import DatasetFiles
from reelrank.store.event_writer import EventClock
from reelrank.store.metadata import MetadataStore
from tests.support.flows import eventually

GROUP = "arn:aws:personalize:us-east-1:000000000000:dataset-group/g"
DATASET = "arn:aws:personalize:us-east-1:000000000000:dataset/g/INTERACTIONS"


@pytest.fixture()
def parts(tmp_path: Path) -> tuple[MetadataStore, DatasetFiles, EventClock]:
    store = MetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    store.migrate()
    with store.transaction() as tx:
        tx.insert_resource("dataset", DATASET, "interactions", GROUP, "ACTIVE", {"datasetType": "INTERACTIONS"})
    return store, DatasetFiles(tmp_path / "datasets"), EventClock()


def publish(store: MetadataStore, files: DatasetFiles, rows: list[tuple[str, str, int]]) -> None:
    users, items, times = zip(*rows, strict=True)
    table = pa.table({"USER_ID": list(users), "ITEM_ID": list(items), "TIMESTAMP": list(times),
                      "EVENT_TYPE": ["watch"] * len(rows)})
    partial, final = files.new_file(DATASET)
    pq.write_table(table, partial)
    partial.rename(final)
    with store.transaction() as tx:
        tx.publish_dataset_version(DATASET, [files.relative(final)], len(rows), "test")


def put_event(store: MetadataStore, clock: EventClock, user: str, item: str, number: int) -> None:
    with store.transaction() as tx:
        tx.record_events([{"dataset_group_arn": GROUP, "event_id": f"e{number}", "session_id": f"s-{user}",
                           "user_id": user, "item_id": item, "event_type": "Click", "event_value": None,
                           "sent_at": 100.0 + number, "properties": None, "recommendation_id": None,
                           "impression": None, "kind": "item"}])
        latest = tx.latest_event_id()
    clock.advance(latest)



def test_the_follower_applies_events_before_any_request_asks(
        parts: tuple[MetadataStore, DatasetFiles, EventClock]) -> None:
    store, files, clock = parts
    publish(store, files, [("u1", "a", 1), ("u1", "b", 2)])
    histories = Histories(store, files, clock)
    assert histories.of(GROUP, "u1") == ["a", "b"]
    put_event(store, clock, "u1", "c", 1)
    group: GroupHistory = histories._groups[GROUP]
    eventually(lambda: group.snapshot("u1")[0] == ["a", "b", "c"])  # no request in between: the follower did it
    assert histories.events_of(GROUP, "u1")[-1] == ("c", "click")
    assert histories.of(GROUP, "s-u1") == ["c"]


def test_the_very_next_request_sees_an_event_even_before_the_follower(
        parts: tuple[MetadataStore, DatasetFiles, EventClock]) -> None:
    store, files, clock = parts
    publish(store, files, [("u1", "a", 1)])
    histories = Histories(store, files, clock)
    histories.follow(interval=3600.0)  # a follower that never gets round to it
    assert histories.of(GROUP, "u1") == ["a"]
    put_event(store, clock, "u1", "z", 1)
    assert histories.of(GROUP, "u1") == ["a", "z"]


def test_a_new_import_is_built_in_the_background_and_swapped_in(
        parts: tuple[MetadataStore, DatasetFiles, EventClock], monkeypatch: pytest.MonkeyPatch) -> None:
    store, files, clock = parts
    publish(store, files, [("u1", "a", 1)])
    histories = Histories(store, files, clock)
    assert histories.of(GROUP, "u1") == ["a"]
    built = threading.Event()
    release = threading.Event()
    original = histories._build

    def slow_build(group_arn: str, version: int | None, names: list[str]) -> GroupHistory:
        built.set()
        release.wait(10)
        return original(group_arn, version, names)

    monkeypatch.setattr(histories, "_build", slow_build)
    monkeypatch.setattr(module, "REFRESH_SECONDS", 0.0)
    publish(store, files, [("u1", "a", 1), ("u2", "x", 2)])
    assert histories.of(GROUP, "u2") == []  # the rebuild has started; requests are answered meanwhile
    assert built.wait(10)
    assert histories.of(GROUP, "u1") == ["a"]
    put_event(store, clock, "u2", "y", 1)  # stored while the new version is being built
    release.set()
    eventually(lambda: histories.of(GROUP, "u2") == ["x", "y"])


def test_readers_on_another_thread_see_each_item_with_its_type() -> None:
    group = GroupHistory(None, 0)
    done = threading.Event()

    def write() -> None:
        for number in range(200_000):
            group.add(f"u{number % 100}", f"i{number}", "Watch", float(number))
        done.set()

    writer = threading.Thread(target=write)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    writer.start()
    reads = 0
    while not done.is_set():
        items, types, times = group.snapshot(f"u{reads % 100}")
        assert len(items) == len(types) == len(times)
        reads += 1
    writer.join()
    sys.setswitchinterval(interval)
    assert reads > 100


def test_the_first_build_waits_on_a_worker_thread_while_the_event_loop_turns(
        parts: tuple[MetadataStore, DatasetFiles, EventClock], monkeypatch: pytest.MonkeyPatch) -> None:
    store, files, clock = parts
    publish(store, files, [("u1", "a", 1)])
    histories = Histories(store, files, clock)
    original = histories._build
    threads: list[threading.Thread] = []

    def slow_build(group_arn: str, version: int | None, names: list[str]) -> GroupHistory:
        threads.append(threading.current_thread())
        time.sleep(0.3)
        return original(group_arn, version, names)

    monkeypatch.setattr(histories, "_build", slow_build)

    async def main() -> int:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while GROUP not in histories._groups:
                await asyncio.sleep(0.01)
                ticks += 1

        await asyncio.gather(histories.ready(GROUP), histories.ready(GROUP), tick())
        await histories.ready(GROUP)  # built: nothing to wait for
        return ticks

    assert asyncio.run(main()) > 10
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    assert histories.of(GROUP, "u1") == ["a"]

"""Unit tests for reelrank.store.event_writer, on SQLite and on a real PostgreSQL (see conftest.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reelrank.store import event_writer as event_writer_module
from reelrank.store.event_writer import EventClock, EventWriter
from reelrank.store.metadata import MetadataStore

GROUP = "arn:aws:personalize:us-east-1:000000000000:dataset-group/movies"


def event(event_id: str, item: str = "m1") -> dict[str, object]:
    return {"dataset_group_arn": GROUP, "event_id": event_id, "session_id": "s", "user_id": "u", "item_id": item,
            "event_type": "watch", "event_value": None, "sent_at": 1.0, "properties": None,
            "recommendation_id": None, "impression": None, "kind": "item"}


def stored_items(store: MetadataStore) -> list[str]:
    with store.reading() as tx:
        return [row.item_id for row in tx.events_since(GROUP)]


def counting_commits(writer: EventWriter) -> list[int]:
    """The sizes of the writer's commits (its recorder's calls), recorded as they happen."""
    sizes: list[int] = []
    record = writer.recorder.record

    def counted(rows: list[dict[str, Any]]) -> int | None:
        sizes.append(len(rows))
        latest: int | None = record(rows)
        return latest

    writer.recorder.record = counted
    return sizes


def test_requests_written_together_are_stored_in_one_commit_and_move_the_clock(store: MetadataStore) -> None:
    clock = EventClock()
    writer = EventWriter(store, clock)
    commits = counting_commits(writer)

    async def main() -> None:
        await asyncio.gather(*(writer.write([event(f"e{n}", f"m{n}")]) for n in range(20)))

    asyncio.run(main())
    assert commits == [20]
    assert stored_items(store) == [f"m{n}" for n in range(20)]
    with store.reading() as tx:
        assert clock.latest() == tx.latest_event_id()


def test_a_write_waits_for_the_write_lock_without_holding_the_event_loop(sqlite_store: MetadataStore) -> None:
    store = sqlite_store
    writer = EventWriter(store, EventClock())
    commits = counting_commits(writer)

    async def main() -> int:
        ticks = 0
        with store.transaction() as tx:  # another connection holds SQLite's write lock…
            tx.record_events([event("held", "m0")])
            pending = asyncio.ensure_future(writer.write([event("e1", "m1")]))
            while ticks < 40:  # …while the loop goes on turning
                await asyncio.sleep(0.001)
                ticks += 1
            assert not pending.done()
            late = asyncio.ensure_future(writer.write([event("e2", "m2")]))
        await asyncio.gather(pending, late)
        return ticks

    assert asyncio.run(main()) == 40
    assert len(commits) > 2 and commits[-1] == 2  # tried in vain, then stored both requests together
    assert stored_items(store) == ["m0", "m1", "m2"]


def test_a_failed_batch_fails_its_requests_and_the_next_batch_is_stored(store: MetadataStore) -> None:
    writer = EventWriter(store, EventClock())

    async def main() -> list[object]:
        failed = await asyncio.gather(writer.write([event("e1", "m1")]), writer.write([{"dataset_group_arn": GROUP}]),
                                      return_exceptions=True)
        await writer.write([event("e2", "m2")])
        return list(failed)

    first, second = asyncio.run(main())
    assert isinstance(first, KeyError) and isinstance(second, KeyError)  # one commit: both fail, nothing stored
    assert stored_items(store) == ["m2"]


def test_a_batch_reaching_the_row_limit_is_stored_at_once(store: MetadataStore,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_writer_module, "MAX_BATCH_ROWS", 5)
    monkeypatch.setattr(event_writer_module, "GATHER_SECONDS", 60.0)  # only the limit can store the first batch
    writer = EventWriter(store, EventClock())
    commits = counting_commits(writer)

    async def main() -> None:
        await asyncio.wait_for(asyncio.gather(*(writer.write([event(f"e{n}"), event(f"f{n}")]) for n in range(3))), 5)

    asyncio.run(main())
    assert commits == [6]


def test_on_a_thread_batches_are_stored_in_order(store: MetadataStore) -> None:
    """The path of databases other than SQLite (commits on the writer's thread), here on SQLite."""
    writer = EventWriter(store, EventClock())
    writer.on_loop = False

    async def main() -> None:
        for wave in range(3):
            await asyncio.gather(*(writer.write([event(f"e{wave}-{n}", f"m{wave}-{n}")]) for n in range(5)))

    asyncio.run(main())
    assert stored_items(store) == [f"m{wave}-{n}" for wave in range(3) for n in range(5)]

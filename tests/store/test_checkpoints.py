"""Commits of a server's stores only append to SQLite's write-ahead log; the checkpointer thread moves it into the
database file."""

from __future__ import annotations

import time
from pathlib import Path

from reelrank.store.checkpoints import Checkpointer
from reelrank.store.metadata import MetadataStore


def write_events(store: MetadataStore, count: int) -> None:
    for start in range(0, count, 100):
        with store.transaction() as tx:
            tx.record_events([{"dataset_group_arn": "g", "event_id": f"e{number}", "session_id": "s",
                               "user_id": "u", "item_id": f"m{number}", "event_type": "watch", "event_value": None,
                               "sent_at": 1.0, "properties": "x" * 200, "recommendation_id": None,
                               "impression": None, "kind": "item"} for number in range(start, start + 100)])


def test_commits_leave_the_log_to_the_checkpointer(tmp_path: Path) -> None:
    database = tmp_path / "metadata.db"
    MetadataStore(f"sqlite:///{database}").migrate()
    store = MetadataStore(f"sqlite:///{database}", background_checkpoints=True)
    size = database.stat().st_size
    write_events(store, 6_000)  # about 2 MB: the default autocheckpoint (1,000 pages) would have copied it
    assert database.stat().st_size == size
    assert (tmp_path / "metadata.db-wal").stat().st_size > 1_000_000
    checkpointer = Checkpointer(store, interval=0.05)
    checkpointer.start()
    try:
        deadline = time.monotonic() + 10
        while database.stat().st_size == size:
            assert time.monotonic() < deadline, "no checkpoint happened"
            time.sleep(0.05)
    finally:
        checkpointer.stop()
    with store.reading() as tx:
        assert tx.latest_event_id() == 6_000

"""The live event stream's queries on a real metadata store: newest first, capped counts, bounded user scans."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from reelrank.console import live
from reelrank.store.metadata import MetadataStore


@pytest.fixture
def ctx(tmp_path: Path) -> Any:
    store = MetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    store.migrate()
    rows = [{"dataset_group_arn": "g" if number % 4 else "other", "event_id": f"e{number}", "session_id": "s",
             "user_id": f"u{number % 3}", "item_id": f"m{number}", "event_type": "Watch", "event_value": None,
             "sent_at": 1_700_000_000 + number, "properties": None, "recommendation_id": None, "impression": None,
             "kind": "item"}
            for number in range(1, 41)]
    with store.transaction() as tx:
        tx.record_events(rows)
    return SimpleNamespace(store=store)


def test_the_newest_events_of_the_group_come_first(ctx: Any) -> None:
    rows = live.latest_events(ctx, "g", limit=5)
    assert [row["itemId"] for row in rows] == ["m39", "m38", "m37", "m35", "m34"]
    assert rows[0]["when"] == "2023-11-14 22:13:59" and rows[0]["userId"] == "u0"
    assert live.latest_events(ctx, "nobody") == []


def test_counts_stop_at_the_cap(ctx: Any) -> None:
    assert live.event_count(ctx, "g") == 30
    assert live.event_count(ctx, "g", cap=10) == 11  # "more than 10"
    assert live.event_count(ctx, "other") == 10


def test_a_users_events_are_looked_for_among_the_newest(ctx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert [row["itemId"] for row in live.latest_events(ctx, "g", 3, "u1")] == ["m37", "m34", "m31"]
    monkeypatch.setattr(live, "USER_SCAN", 2)  # the two newest events of g are m39 (u0) and m38 (u2)
    assert live.latest_events(ctx, "g", 3, "u1") == []
    assert [row["itemId"] for row in live.latest_events(ctx, "g", 3, "u2")] == ["m38"]

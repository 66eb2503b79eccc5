"""Training data: bulk interactions joined by the events recorded with PutEvents, their context included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

from reelrank.jobs.training import _with_events
from reelrank.recipes.data import build, select_events
from reelrank.store.metadata import MetadataStore

GROUP = "arn:aws:personalize:us-east-1:000000000000:dataset-group/movies"


def stored_events(tmp_path: Path, properties: list[dict[str, str] | None]) -> list[object]:
    store = MetadataStore(f"sqlite:///{tmp_path}/m.db")
    store.migrate()
    rows = [{"dataset_group_arn": GROUP, "event_id": f"e{n}", "session_id": "s", "user_id": f"u{n % 7}",
             "item_id": f"i{n % 2}", "event_type": "watch", "event_value": None, "sent_at": 1_700_000_000.0 + n,
             "properties": None if found is None else orjson.dumps(found).decode(), "recommendation_id": None,
             "impression": None, "kind": "item"} for n, found in enumerate(properties)]
    with store.transaction() as tx:
        tx.record_events(rows)
    with store.reading() as tx:
        return tx.events_detail(GROUP)


def test_live_events_bring_their_contextual_properties(tmp_path: Path) -> None:
    properties: list[dict[str, str] | None] = [{"deviceType": "tv"} if n % 2 == 0 else {"DEVICE_TYPE": "mobile"}
                                               for n in range(200)]
    properties[1] = None  # an event without properties
    bulk = pa.table({"USER_ID": ["u1", "u2"], "ITEM_ID": ["i0", "i1"], "EVENT_TYPE": ["watch", "watch"],
                     "TIMESTAMP": pa.array([1, 2], pa.int64()), "DEVICE_TYPE": ["tv", "mobile"]})
    table = _with_events(bulk, stored_events(tmp_path, properties), ["DEVICE_TYPE"])
    assert table is not None and table.num_rows == 202
    devices = table.column("DEVICE_TYPE").to_pylist()
    assert devices[:4] == ["tv", "mobile", "tv", None] and devices.count("tv") == 101
    events, weights = select_events(table, None, None, None)
    data = build(events, weights, contextual=["DEVICE_TYPE"])
    assert data.context is not None
    tv = data.context.log_lift({"DEVICE_TYPE": "tv"})
    assert tv is not None
    item0 = data.item_ids.tolist().index("i0")  # even events, watched on tv
    assert tv[item0] > 0 > tv[1 - item0]


def test_without_bulk_data_live_events_make_the_table(tmp_path: Path) -> None:
    table = _with_events(None, stored_events(tmp_path, [{"deviceType": "tv"}, None]), ["DEVICE_TYPE"])
    assert table is not None
    assert table.column("DEVICE_TYPE").to_pylist() == ["tv", None]
    assert np.array_equal(table.column("TIMESTAMP").to_numpy(), [1_700_000_000, 1_700_000_001])

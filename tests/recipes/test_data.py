from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from reelrank.recipes.data import NotEnoughData, build, check_minimums, select_events


def events() -> pa.Table:
    return pa.table({
        "USER_ID": ["u1", "u1", "u2", "u2", "u3"],
        "ITEM_ID": ["a", "b", "a", "c", "b"],
        "EVENT_TYPE": ["Watch", "Click", "watch", "Watch", "Click"],
        "TIMESTAMP": pa.array([5, 1, 3, 4, 2], pa.int64()),
        "EVENT_VALUE": pa.array([0.9, None, 0.2, 0.7, None], pa.float32()),
    })


def test_event_type_filter_ignores_case() -> None:
    kept, weights = select_events(events(), "WATCH", None, None)
    assert kept.column("USER_ID").to_pylist() == ["u1", "u2", "u2"]
    assert weights.tolist() == [1.0, 1.0, 1.0]


def test_event_value_threshold_drops_lower_and_missing_values() -> None:
    kept, _ = select_events(events(), None, 0.5, None)
    assert kept.column("EVENT_VALUE").to_pylist() == pytest.approx([0.9, 0.7])


def test_events_config_keeps_listed_types_with_their_weights() -> None:
    config = [{"eventType": "Watch", "weight": 1.0, "eventValueThreshold": 0.5}, {"eventType": "Click", "weight": 0.25}]
    kept, weights = select_events(events(), None, None, config)
    assert kept.column("ITEM_ID").to_pylist() == ["a", "b", "c", "b"]
    assert weights.tolist() == [1.0, 0.25, 1.0, 0.25]


def test_build_indexes_and_sorts_by_user_then_time() -> None:
    table = events()
    items = pa.table({"ITEM_ID": ["a", "z"], "GENRES": ["Drama|Comedy", "Horror"],
                      "CREATION_TIMESTAMP": pa.array([10, 20], pa.int64())})
    data = build(table, np.ones(table.num_rows, dtype=np.float32), items, categorical=["GENRES"])
    assert data.user_ids.tolist() == ["u1", "u2", "u3"]
    assert data.item_ids.tolist() == ["a", "b", "c", "z"]
    interactions = data.interactions
    assert [data.item_ids[i] for i in interactions.items] == ["b", "a", "a", "c", "b"]
    assert interactions.timestamps.tolist() == [1, 5, 3, 4, 2]
    assert interactions.item_features is not None and interactions.item_features.shape == (4, 3)
    assert interactions.item_features[3].nnz == 1 and interactions.item_features[1].nnz == 0
    assert interactions.item_created is not None and interactions.item_created.tolist() == [10, 0, 0, 20]


def test_minimums_use_personalizes_wording() -> None:
    with pytest.raises(NotEnoughData, match=r"^Create failed\. Dataset has fewer than 1000 interactions after "
                                            r"filtering by event type: Watch\.$"):
        check_minimums(np.zeros(999, dtype=np.int64), 1, "Watch")
    few_users = np.repeat(np.arange(24), 50)
    with pytest.raises(NotEnoughData, match="fewer than 25 users with at least 2 interactions each"):
        check_minimums(few_users, 24, None)
    many = np.concatenate([np.repeat(np.arange(30), 40), np.arange(30, 5000)])
    with pytest.raises(NotEnoughData, match="Fewer than 1% of users"):
        check_minimums(many, 5000, None)
    check_minimums(np.repeat(np.arange(50), 30), 50, None)

"""Unit tests for reelrank.recipes.contextual: item lifts in the values of contextual metadata fields."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from reelrank.recipes.contextual import MIN_EVENTS, SMOOTHING, ContextLift, contextual_fields


def events(rows: list[tuple[int, str | None, str]]) -> tuple[pa.Table, np.ndarray]:
    """(item index, DEVICE, LOCATION) rows as an events table and its item indices."""
    items = np.array([item for item, _, _ in rows], dtype=np.int64)
    table = pa.table({"ITEM_ID": [f"i{item}" for item in items], "DEVICE": [device for _, device, _ in rows],
                      "LOCATION": [location for _, _, location in rows], "EVENT_TYPE": ["watch"] * len(rows)})
    return table, items


def test_items_chosen_more_often_in_a_value_get_a_positive_log_lift() -> None:
    # items 0-1 are watched on tv, items 2-3 on mobile, item 4 on both
    rows = [(item, "tv", "home") for item in (0, 1, 4) for _ in range(400)]
    rows += [(item, "mobile", "home") for item in (2, 3, 4) for _ in range(400)]
    table, items = events(rows)
    lift = ContextLift.fit(table, items, 6, ["DEVICE", "LOCATION"])
    assert lift is not None
    tv = lift.log_lift({"DEVICE": "tv"})
    mobile = lift.log_lift({"DEVICE": "mobile"})
    assert tv is not None and mobile is not None
    assert tv[0] > 0 and tv[1] > 0 and tv[2] < 0 and tv[3] < 0
    assert mobile[2] > 0 and mobile[0] < 0
    assert abs(tv[4]) < 0.05  # as often on tv as overall
    never = np.log(SMOOTHING / (1200 + SMOOTHING))  # items never chosen on tv, whatever their overall share
    assert np.allclose([tv[2], tv[3], tv[5]], never)
    home = lift.log_lift({"LOCATION": "home"})  # every event: no information
    assert home is not None and np.abs(home[:5]).max() < 0.01
    both = lift.log_lift({"DEVICE": "tv", "LOCATION": "home"})
    assert both is not None and np.allclose(both, tv + home)


def test_the_lift_follows_the_smoothed_formula() -> None:
    rows = [(0, "tv", "x")] * 300 + [(1, "tv", "x")] * 100 + [(1, "mobile", "x")] * 600
    table, items = events(rows)
    lift = ContextLift.fit(table, items, 2, ["DEVICE"])
    assert lift is not None
    prior = np.array([(300 + 1) / (1000 + 2), (700 + 1) / (1000 + 2)])
    expected = np.log((np.array([300, 100]) + SMOOTHING * prior) / (400 + SMOOTHING) / prior)
    found = lift.log_lift({"DEVICE": "tv"})
    assert found is not None and np.allclose(found, expected, rtol=1e-5)


def test_rare_empty_unknown_and_reserved_values_are_ignored() -> None:
    rows = [(0, "tv", "x")] * MIN_EVENTS + [(1, "radio", "x")] * (MIN_EVENTS - 1) + [(1, None, "x")] * 200
    table, items = events(rows)
    lift = ContextLift.fit(table, items, 2, ["DEVICE", "EVENT_TYPE", "MISSING"])
    assert lift is not None
    assert set(lift.keys) == {"DEVICE=tv"}
    assert lift.log_lift({"DEVICE": "radio"}) is None
    assert lift.log_lift({"DEVICE": "fridge", "OTHER": "tv"}) is None
    assert ContextLift.fit(table, items, 2, ["EVENT_TYPE"]) is None  # reserved: not contextual metadata


def test_arrays_round_trip() -> None:
    rows = [(item % 3, "tv" if item % 2 else "mobile", "x") for item in range(600)]
    table, items = events(rows)
    lift = ContextLift.fit(table, items, 3, ["DEVICE"])
    assert lift is not None
    loaded = ContextLift.from_arrays(lift.arrays())
    assert loaded.keys == lift.keys
    for device in ("tv", "mobile"):
        assert np.array_equal(loaded.log_lift({"DEVICE": device}), lift.log_lift({"DEVICE": device}))  # type: ignore[arg-type]


def test_contextual_fields_are_the_categorical_non_reserved_ones() -> None:
    fields = [("USER_ID", False), ("ITEM_ID", False), ("EVENT_TYPE", True), ("DEVICE", True), ("NOTE", False),
              ("LOCATION", True)]
    assert contextual_fields(fields) == ["DEVICE", "LOCATION"]

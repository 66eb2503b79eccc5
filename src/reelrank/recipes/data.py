"""From stored data sets to a model's `Interactions`: event filters and weights, ID maps, item metadata."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from reelrank.recipes.base import Interactions
from reelrank.recipes.contextual import ContextLift

ACTION_WEIGHTS = {"taken": 1.0, "not_taken": -1.0, "viewed": -0.5}
"""Action interactions as event weights: positive = TAKEN, negative = shown but not taken."""
MIN_INTERACTIONS = 1000
MIN_USERS_WITH_TWO = 25
MIN_SHARE_WITH_TWO = 0.01
_WORD = re.compile(r"[a-z0-9]{3,}")


class NotEnoughData(Exception):
    """Personalize's minimums (reference §9) are not met; the message is Personalize's failure reason."""


@dataclass(frozen=True)
class TrainingData:
    interactions: Interactions
    user_ids: np.ndarray
    item_ids: np.ndarray
    context: ContextLift | None = None
    """What the contextual metadata fields of the events say about each item, when they have any."""


def select_events(table: pa.Table, event_type: str | None, threshold: float | None,
                  events_config: Sequence[dict[str, Any]] | None) -> tuple[pa.Table, np.ndarray]:
    """The events that train a solution and their weights: `eventType` keeps one type; `eventValueThreshold` drops
    lower values; `eventsConfig` keeps the listed types, each with its own threshold and weight."""
    has_type = "EVENT_TYPE" in table.column_names
    has_value = "EVENT_VALUE" in table.column_names
    types = pc.utf8_lower(table.column("EVENT_TYPE")) if has_type else None
    keep = pa.array(np.ones(table.num_rows, dtype=bool))
    weights = np.ones(table.num_rows, dtype=np.float32)
    if event_type and types is not None:
        keep = pc.and_(keep, pc.equal(types, event_type.lower()))
    if threshold is not None and has_value:
        keep = pc.and_(keep, pc.fill_null(pc.greater_equal(table.column("EVENT_VALUE"), threshold), False))
    if events_config and types is not None:
        listed = pa.array(np.zeros(table.num_rows, dtype=bool))
        for config in events_config:
            match = pc.equal(types, str(config["eventType"]).lower())
            if config.get("eventValueThreshold") is not None and has_value:
                value_ok = pc.greater_equal(table.column("EVENT_VALUE"), float(config["eventValueThreshold"]))
                match = pc.and_(match, pc.fill_null(value_ok, False))
            match_np = match.to_numpy(zero_copy_only=False).astype(bool)
            weights[match_np] = float(config.get("weight", 1.0))
            listed = pc.or_(listed, match)
        keep = pc.and_(keep, listed)
    mask = keep.to_numpy(zero_copy_only=False).astype(bool)
    return table.filter(pa.array(mask)), weights[mask]


def check_minimums(users: np.ndarray, n_users: int, event_type: str | None) -> None:
    """Raise NotEnoughData with Personalize's wording when a solution version cannot be trained."""
    if len(users) < MIN_INTERACTIONS:
        suffix = f" after filtering by event type: {event_type}" if event_type else ""
        raise NotEnoughData(f"Create failed. Dataset has fewer than {MIN_INTERACTIONS} interactions{suffix}.")
    counts = np.bincount(users, minlength=n_users)
    with_two = int((counts >= 2).sum())
    if with_two < MIN_USERS_WITH_TWO:
        raise NotEnoughData(f"Create failed. Dataset has fewer than {MIN_USERS_WITH_TWO} users with at least 2 "
                            "interactions each.")
    if with_two < MIN_SHARE_WITH_TWO * n_users:
        raise NotEnoughData("Create failed. Fewer than 1% of users have at least 2 interactions each.")


def build(events: pa.Table, weights: np.ndarray, items: pa.Table | None = None,
          categorical: Sequence[str] = (), textual: Sequence[str] = (), contextual: Sequence[str] = ()) -> TrainingData:
    """Index users and items (items of the ITEMS dataset included, so cold items can be scored from metadata), and
    count the items chosen in each value of the events' `contextual` fields."""
    user_ids = pc.unique(events.column("USER_ID"))
    item_sources = [events.column("ITEM_ID").combine_chunks()]
    if items is not None:
        item_sources.append(items.column("ITEM_ID").combine_chunks())
    item_ids = pc.unique(pa.concat_arrays(item_sources))
    users = pc.index_in(events.column("USER_ID"), value_set=user_ids).to_numpy().astype(np.int64)
    item_index = pc.index_in(events.column("ITEM_ID"), value_set=item_ids).to_numpy().astype(np.int64)
    timestamps = events.column("TIMESTAMP").to_numpy().astype(np.int64)
    order = np.lexsort((timestamps, users))
    features, created = _item_metadata(items, item_ids, categorical, textual) if items is not None else (None, None)
    interactions = Interactions(users[order], item_index[order], timestamps[order], weights[order].astype(np.float32),
                                len(user_ids), len(item_ids), features, created)
    context = ContextLift.fit(events, item_index, len(item_ids), contextual) if contextual else None
    return TrainingData(interactions, user_ids.to_numpy(zero_copy_only=False).astype(str),
                        item_ids.to_numpy(zero_copy_only=False).astype(str), context)


def _item_metadata(items: pa.Table, item_ids: pa.Array, categorical: Sequence[str],
                   textual: Sequence[str]) -> tuple[sp.csr_matrix | None, np.ndarray | None]:
    rows = pc.index_in(items.column("ITEM_ID"), value_set=item_ids).to_numpy()
    vocabulary: dict[str, int] = {}
    coordinates: list[tuple[int, int]] = []
    for name in (*categorical, *textual):
        if name not in items.column_names:
            continue
        for row, value in zip(rows, items.column(name).to_pylist(), strict=True):
            if not value:
                continue
            tokens = value.split("|") if name in categorical else _WORD.findall(value.lower())
            for token in set(tokens):
                column = vocabulary.setdefault(f"{name}={token}", len(vocabulary))
                coordinates.append((int(row), column))
    features = None
    if coordinates:
        rows_, columns = np.array(coordinates, dtype=np.int64).T
        features = sp.csr_matrix((np.ones(len(rows_), dtype=np.float32), (rows_, columns)),
                                 shape=(len(item_ids), len(vocabulary)))
    created = None
    if "CREATION_TIMESTAMP" in items.column_names:
        created = np.zeros(len(item_ids), dtype=np.int64)
        values = items.column("CREATION_TIMESTAMP").fill_null(0).to_numpy().astype(np.int64)
        created[rows] = values
    return features, created

"""Contextual metadata: how a request's `context` (DEVICE=tv, LOCATION=…) changes its recommendations.

Personalize learns from the categorical fields of an Interactions schema besides its reserved ones ("contextual
metadata"), and a request names the current values in `context`, which works at once, for new users too. Here
training counts, for each value seen often enough, how often each item was chosen in it, and serving multiplies each
item's probability by its lift in the request's context. Taking the context as independent of the user given the item
(naive Bayes): p(i | u, c) ∝ p(i | u) · p(i | c) / p(i), where p(i | c) = (n(i, c) + α p(i)) / (n(c) + α) is
shrunk towards the item's overall share p(i) by α pseudo-events, so rare values change little.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

RESERVED_FIELDS = frozenset({"USER_ID", "ITEM_ID", "ACTION_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE",
                             "EVENT_ID", "SESSION_ID", "IMPRESSION", "RECOMMENDATION_ID"})
SMOOTHING = 1000.0
"""α: pseudo-events at each item's overall share added to every context value's counts."""
MIN_EVENTS = 50
"""A value seen in fewer training events is ignored in requests."""
MAX_VALUES = 200
"""The most frequent values kept per field."""
_CACHED = 64
"""Lifts of this many distinct contexts kept per model."""


@dataclass(frozen=True)
class ContextLift:
    keys: dict[str, int]
    """"FIELD=value" → row of `counts`."""
    counts: sp.csr_matrix
    """Training events per (field value, item)."""
    totals: np.ndarray
    """Training events per field value."""
    prior: np.ndarray
    """Each item's share of all training events (add-one smoothed, so never zero)."""
    _cache: dict[tuple[tuple[str, str], ...], np.ndarray | None] = field(default_factory=dict, compare=False)

    @classmethod
    def fit(cls, table: pa.Table, items: np.ndarray, n_items: int, fields: Sequence[str]) -> ContextLift | None:
        """Count `table`'s events (its item indices in `items`) per value of each contextual field; None without
        any value seen in MIN_EVENTS events."""
        keys: dict[str, int] = {}
        rows: list[np.ndarray] = []
        columns: list[np.ndarray] = []
        for name in fields:
            if name in RESERVED_FIELDS or name not in table.column_names:
                continue
            column = pc.cast(table.column(name), pa.string()).combine_chunks()
            counted = pc.value_counts(column)
            values, frequencies = counted.field("values").to_pylist(), counted.field("counts").to_numpy()
            kept = [values[i] for i in np.argsort(-frequencies, kind="stable")[:MAX_VALUES]
                    if frequencies[i] >= MIN_EVENTS and values[i] not in (None, "")]
            if not kept:
                continue
            position = pc.index_in(column, value_set=pa.array(kept, pa.string()))
            present = pc.is_valid(position).to_numpy(zero_copy_only=False)
            found = pc.drop_null(position).to_numpy().astype(np.int64)
            offset = len(keys)
            keys.update({f"{name}={value}": offset + i for i, value in enumerate(kept)})
            rows.append(found + offset)
            columns.append(items[present])
        if not keys:
            return None
        row_index, column_index = np.concatenate(rows), np.concatenate(columns)
        counts = sp.csr_matrix((np.ones(len(row_index), dtype=np.float32), (row_index, column_index)),
                               shape=(len(keys), n_items))
        counts.sum_duplicates()
        totals = np.asarray(counts.sum(axis=1), dtype=np.float32).ravel()
        per_item = np.bincount(items, minlength=n_items).astype(np.float64)
        prior = ((per_item + 1.0) / (per_item.sum() + n_items)).astype(np.float32)
        return cls(keys, counts, totals, prior)

    def log_lift(self, context: Mapping[str, str]) -> np.ndarray | None:
        """log(p(i | c) / p(i)) for each item, summed over the context's known values; None if it names none."""
        signature = tuple(sorted(context.items()))
        if signature in self._cache:
            return self._cache[signature]
        known = [self.keys[key] for key in (f"{name}={value}" for name, value in signature) if key in self.keys]
        lift: np.ndarray | None = None
        if known:
            lift = np.zeros(len(self.prior), dtype=np.float32)
            for row in known:
                chosen = self.counts[row].toarray().ravel()
                in_context = (chosen + SMOOTHING * self.prior) / (self.totals[row] + SMOOTHING)
                lift += np.log(in_context / self.prior).astype(np.float32)
        if len(self._cache) >= _CACHED:
            self._cache.pop(next(iter(self._cache)))
        self._cache[signature] = lift
        return lift

    def arrays(self) -> dict[str, np.ndarray]:
        return {"keys": np.array(sorted(self.keys, key=self.keys.__getitem__), dtype=np.str_),
                "data": self.counts.data, "indices": self.counts.indices, "indptr": self.counts.indptr,
                "totals": self.totals, "prior": self.prior}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> ContextLift:
        keys = {str(key): row for row, key in enumerate(arrays["keys"].tolist())}
        counts = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]),
                               shape=(len(keys), len(arrays["prior"])))
        return cls(keys, counts, np.asarray(arrays["totals"]), np.asarray(arrays["prior"]))


def contextual_fields(schema_fields: Sequence[tuple[str, bool]]) -> list[str]:
    """The contextual metadata fields of an Interactions schema: its categorical (name, categorical) fields that are
    not reserved ones."""
    return [name for name, categorical in schema_fields if categorical and name not in RESERVED_FIELDS]

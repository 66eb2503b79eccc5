"""Item-to-item collaborative filtering on co-occurrence in user histories (serves SIMS).

Two items co-occur when one user interacted with both (each user counts once per pair). With `co` the number of
such users and `pop` each item's number of distinct users, the similarity is

    sim(i, j) = co(i, j) / (pop(i) · pop(j)) ** α        (α = `popularity_discount_factor`)

α = 0 ranks neighbours by raw co-occurrence (popular items win), α = 0.5 is the cosine of the binary item columns,
α = 1 is lift (popularity fully discounted). The form is symmetric, and for a fixed anchor a higher α means a stronger
discount of popular neighbours, which is what the SIMS hyperparameter's name says. Pairs seen by fewer than
`min_cointeraction_count` users are dropped. Only the top `neighbours` items per row are kept, as a sparse matrix
whose rows are sorted by descending similarity (ties: lower item index first).

`score(history, item)` returns the anchor's row when `item` is given (RELATED_ITEMS), else the sum of the rows of the
history's items, an item `k` events before the newest known one weighted by exp(−`recency_decay` · k). Unknown items
and empty histories give all-zero scores: the caller falls back to popularity.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from reelrank.recipes.base import FloatArray, IntArray, Interactions, Model, Progress

BLOCK_CELLS = 1 << 22
"""Dense cells (float64) per block of similarity rows while fitting: bounds fit memory at about 100 MB."""


RangeEntry = tuple[str, dict[str, Any]]
"""(kind, entry): kind is integer, continuous or categorical; entry is Personalize's Default…HyperParameterRange."""


def integer_range(name: str, low: int, high: int, tunable: bool) -> RangeEntry:
    return "integer", {"name": name, "minValue": low, "maxValue": high, "isTunable": tunable}


def continuous_range(name: str, low: float, high: float, tunable: bool, logarithmic: bool = False) -> RangeEntry:
    """A continuous range; `logarithmic` adds "scalingType": "Logarithmic", which `reelrank.recipes.tuning` reads."""
    entry: dict[str, Any] = {"name": name, "minValue": float(low), "maxValue": float(high), "isTunable": tunable}
    if logarithmic:
        entry["scalingType"] = "Logarithmic"
    return "continuous", entry


def categorical_range(name: str, values: list[str], tunable: bool) -> RangeEntry:
    return "categorical", {"name": name, "values": values, "isTunable": tunable}


def declare_ranges(*entries: RangeEntry) -> dict[str, list[dict[str, Any]]]:
    """`Model.ranges` in the shape of Personalize's DefaultHyperParameterRanges."""
    ranges: dict[str, list[dict[str, Any]]] = {f"{kind}HyperParameterRanges": []
                                               for kind in ("integer", "continuous", "categorical")}
    for kind, entry in entries:
        ranges[f"{kind}HyperParameterRanges"].append(entry)
    return ranges


def validate_hyperparameters(values: Mapping[str, str], ranges: Mapping[str, list[dict[str, Any]]]) -> None:
    """Raise ValueError when a declared hyperparameter in `values` is malformed or out of its range; undeclared names
    are left alone (Personalize passes some that a model does not read)."""
    for kind in ("integer", "continuous", "categorical"):
        for entry in ranges.get(f"{kind}HyperParameterRanges", []):
            name = entry["name"]
            if name not in values:
                continue
            value = values[name]
            if kind == "categorical":
                if value.strip().lower() not in [str(v).lower() for v in entry["values"]]:
                    raise ValueError(f"hyperparameter {name}={value!r} must be one of {entry['values']}")
                continue
            try:
                number = float(value)
            except ValueError:
                number = float("nan")
            if kind == "integer" and number == number and not number.is_integer():
                number = float("nan")
            if not entry["minValue"] <= number <= entry["maxValue"]:
                what = "an integer" if kind == "integer" else "a number"
                raise ValueError(f"hyperparameter {name}={value!r} must be {what} between {entry['minValue']} and "
                                 f"{entry['maxValue']}")


def presence_matrix(data: Interactions) -> sp.csr_matrix:
    """Users × items, 1.0 where the user has at least one positively weighted event on the item."""
    keep = data.weights > 0
    matrix = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.float64), (data.users[keep], data.items[keep])),
                           shape=(data.n_users, data.n_items), dtype=np.float64)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def row_blocks(n_rows: int, n_cols: int) -> Iterator[tuple[int, int]]:
    """(start, stop) row ranges so that each dense block of `n_cols` columns holds about `BLOCK_CELLS` cells."""
    step = max(1, BLOCK_CELLS // max(1, n_cols))
    for start in range(0, n_rows, step):
        yield start, min(n_rows, start + step)


def cooccurrence_block(item_users: sp.csr_matrix, presence: sp.csr_matrix, start: int, stop: int,
                       min_count: int) -> npt.NDArray[np.float64]:
    """Dense co-occurrence counts of items start:stop with every item, self-pairs and rare pairs set to zero."""
    block: npt.NDArray[np.float64] = np.asarray((item_users[start:stop] @ presence).toarray(), dtype=np.float64)
    rows = np.arange(stop - start)
    block[rows, rows + start] = 0.0
    block[block < max(1, min_count)] = 0.0
    return block


def discount(block: npt.NDArray[np.float64], popularity: npt.NDArray[np.float64], start: int,
             alpha: float) -> npt.NDArray[np.float64]:
    """co(i, j) / (pop(i) · pop(j)) ** α, in place; cells with no co-occurrence stay zero."""
    if alpha == 0.0:
        return block
    scale = np.power(np.maximum(popularity, 1.0), -alpha)
    block *= scale[start: start + block.shape[0], None]
    block *= scale[None, :]
    return block


def top_k_rows(block: npt.NDArray[np.float64], k: int) -> tuple[IntArray, FloatArray, IntArray]:
    """The `k` largest positive cells of each row: (columns, values, count per row), rows concatenated, each row
    sorted by descending value then ascending column."""
    n_rows, n_cols = block.shape
    if k < n_cols:
        columns = np.argpartition(-block, k - 1, axis=1)[:, :k]
    else:
        columns = np.broadcast_to(np.arange(n_cols), (n_rows, n_cols)).copy()
    values = np.take_along_axis(block, columns, axis=1)
    order = np.lexsort((columns, -values), axis=1)
    columns = np.take_along_axis(columns, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    keep = values > 0
    return (columns[keep].astype(np.int64), values[keep].astype(np.float32),
            keep.sum(axis=1).astype(np.int64))


def recency_weights(positions: IntArray, decay: float) -> npt.NDArray[np.float64]:
    """exp(−decay · k) for the events at `positions` (ascending) of a history, k counted back from the last of them
    (so nothing underflows; the ranking is the same as counting from the history's end)."""
    if decay == 0.0 or len(positions) == 0:
        return np.ones(len(positions), dtype=np.float64)
    age = (positions[-1] - positions).astype(np.float64)
    weights: npt.NDArray[np.float64] = np.exp(-decay * age)
    return weights


class ItemKNN(Model):
    """Sparse item–item co-occurrence neighbours (SIMS)."""

    algorithm: ClassVar[str] = "item-knn"
    defaults: ClassVar[Mapping[str, str]] = {
        "popularity_discount_factor": "0.5",
        "min_cointeraction_count": "3",
        "neighbours": "100",
        "recency_decay": "0.0",
    }
    ranges: ClassVar[Mapping[str, list[dict[str, Any]]]] = declare_ranges(
        continuous_range("popularity_discount_factor", 0.0, 1.0, True),
        integer_range("min_cointeraction_count", 0, 10, True),
        integer_range("neighbours", 1, 1000, False),
        continuous_range("recency_decay", 0.0, 10.0, True),
    )

    def __init__(self, hyperparameters: Mapping[str, str] | None = None) -> None:
        super().__init__(hyperparameters)
        validate_hyperparameters(self.hyperparameters, self.ranges)
        self.n_items = 0
        self.indptr: IntArray = np.zeros(1, dtype=np.int64)
        self.indices: IntArray = np.zeros(0, dtype=np.int64)
        self.data: FloatArray = np.zeros(0, dtype=np.float32)

    def fit(self, data: Interactions, progress: Progress | None = None) -> None:
        presence = presence_matrix(data)
        item_users = presence.T.tocsr()
        popularity = np.asarray(presence.sum(axis=0), dtype=np.float64).ravel()
        alpha = self.param_float("popularity_discount_factor")
        min_count = self.param_int("min_cointeraction_count")
        k = self.param_int("neighbours")
        parts: list[tuple[IntArray, FloatArray, IntArray]] = []
        for start, stop in row_blocks(data.n_items, data.n_items):
            block = discount(cooccurrence_block(item_users, presence, start, stop, min_count), popularity, start,
                             alpha)
            parts.append(top_k_rows(block, k))
            if progress is not None:
                progress(stop / max(1, data.n_items))
        self._set_rows(data.n_items, parts)
        if progress is not None:
            progress(1.0)

    def _set_rows(self, n_items: int, parts: list[tuple[IntArray, FloatArray, IntArray]]) -> None:
        counts = np.concatenate([np.zeros(1, dtype=np.int64), *(part[2] for part in parts)])
        self.n_items = n_items
        self.indptr = np.cumsum(counts, dtype=np.int64)
        self.indices = np.concatenate([np.zeros(0, dtype=np.int64), *(part[0] for part in parts)])
        self.data = np.concatenate([np.zeros(0, dtype=np.float32), *(part[1] for part in parts)])

    def neighbours_of(self, item: int) -> tuple[IntArray, FloatArray]:
        """The kept neighbours of `item`, most similar first, and their similarities."""
        if not 0 <= item < self.n_items:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        start, stop = int(self.indptr[item]), int(self.indptr[item + 1])
        return self.indices[start:stop], self.data[start:stop]

    def similarity_matrix(self) -> sp.csr_matrix:
        """The kept similarities as an items × items CSR matrix."""
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=(self.n_items, self.n_items))

    def score(self, history: IntArray, item: int | None = None) -> FloatArray:
        scores = np.zeros(self.n_items, dtype=np.float32)
        if item is not None:
            columns, values = self.neighbours_of(int(item))
            scores[columns] = values
            return scores
        history = np.asarray(history, dtype=np.int64)
        known = (history >= 0) & (history < self.n_items)
        rows = history[known]
        weights = recency_weights(np.flatnonzero(known), self.param_float("recency_decay"))
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return scores
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        summed = np.bincount(self.indices[offsets], weights=np.repeat(weights, lengths) * self.data[offsets],
                             minlength=self.n_items)
        return summed.astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"n_items": np.array([self.n_items], dtype=np.int64), "indptr": self.indptr,
                "indices": self.indices, "data": self.data}

    @classmethod
    def from_arrays(cls, hyperparameters: Mapping[str, str], arrays: Mapping[str, np.ndarray]) -> Self:
        model = cls(hyperparameters)
        model.n_items = int(arrays["n_items"][0])
        model.indptr = np.asarray(arrays["indptr"], dtype=np.int64)
        model.indices = np.asarray(arrays["indices"], dtype=np.int64)
        model.data = np.asarray(arrays["data"], dtype=np.float32)
        return model

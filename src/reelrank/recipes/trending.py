"""Trending-Now: the items whose interaction count rises fastest, the same list for everyone.

With T the newest timestamp and L the `trend_discovery_frequency`, each item's positively weighted events are
counted in the last interval (T − L, T] (`recent`) and the one before it (T − 2L, T − L] (`previous`). An item trends
when recent > previous; trending items are ranked by the Poisson z-score of the increase,

    (recent − previous) / sqrt(recent + previous + 1),

which favours large relative growth but needs a few events to be confident (one new event is not a trend). Every
other item follows, ranked by popularity (distinct users over all the data), so when no item grows the list is
exactly Popularity-Count. (The intervals end at the newest event, so the last one is never empty.) Ties among
trending items: more recent events, then popularity; last, the lower item index. Scores are (n − rank) / n, in
(0, 1]; the history is ignored. Fitting is a few `bincount`s, so refitting every interval to pick up new items and
events is cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from reelrank.recipes.base import FloatArray, IntArray, Interactions, Model, Progress
from reelrank.recipes.popularity import distinct_user_counts

FREQUENCIES: Mapping[str, int] = {
    "30 minutes": 30 * 60,
    "1 hour": 60 * 60,
    "2 hours": 2 * 60 * 60,
    "3 hours": 3 * 60 * 60,
    "1 day": 24 * 60 * 60,
}
"""`trend_discovery_frequency` values Personalize accepts, in seconds."""


def interval_seconds(frequency: str) -> int:
    """The length of a `trend_discovery_frequency` such as "2 hours", in seconds."""
    key = " ".join(frequency.strip().lower().split())
    if key not in FREQUENCIES:
        raise ValueError(f"hyperparameter trend_discovery_frequency={frequency!r} must be one of "
                         f"{', '.join(repr(name) for name in FREQUENCIES)}")
    return FREQUENCIES[key]


class Trending(Model):
    """Items ranked by growth between the last two intervals, popularity after them."""

    algorithm: ClassVar[str] = "trending"
    defaults: ClassVar[Mapping[str, str]] = {"trend_discovery_frequency": "2 hours"}
    ranges: ClassVar[Mapping[str, list[dict[str, Any]]]] = {
        "integerHyperParameterRanges": [],
        "continuousHyperParameterRanges": [],
        "categoricalHyperParameterRanges": [
            {"name": "trend_discovery_frequency", "values": list(FREQUENCIES), "isTunable": False}],
    }

    def __init__(self, hyperparameters: Mapping[str, str] | None = None) -> None:
        super().__init__(hyperparameters)
        self.interval = interval_seconds(self.hyperparameters["trend_discovery_frequency"])
        self.scores: FloatArray = np.zeros(0, dtype=np.float32)

    def fit(self, data: Interactions, progress: Progress | None = None) -> None:
        n = data.n_items
        popularity = distinct_user_counts(data).astype(np.float64)
        recent = np.zeros(n, dtype=np.float64)
        previous = np.zeros(n, dtype=np.float64)
        positive = data.weights > 0
        timestamps, items = data.timestamps[positive], data.items[positive]
        if len(timestamps):
            newest = int(timestamps.max())
            in_recent = timestamps > newest - self.interval
            in_previous = ~in_recent & (timestamps > newest - 2 * self.interval)
            recent = np.bincount(items[in_recent], minlength=n).astype(np.float64)
            previous = np.bincount(items[in_previous], minlength=n).astype(np.float64)
        growth = (recent - previous) / np.sqrt(recent + previous + 1.0)
        trending = recent > previous
        trend_keys = (-np.where(trending, recent, 0.0), -np.where(trending, growth, 0.0), ~trending)
        order = np.lexsort((np.arange(n), -popularity, *trend_keys))  # the last key is the primary one
        ranks = np.empty(n, dtype=np.int64)
        ranks[order] = np.arange(n)
        self.scores = ((n - ranks) / max(1, n)).astype(np.float32)
        if progress is not None:
            progress(1.0)

    def score(self, history: IntArray, item: int | None = None) -> FloatArray:
        return self.scores.copy()

    def arrays(self) -> dict[str, np.ndarray]:
        return {"scores": self.scores}

    @classmethod
    def from_arrays(cls, hyperparameters: Mapping[str, str], arrays: Mapping[str, np.ndarray]) -> Trending:
        model = cls(hyperparameters)
        model.scores = np.asarray(arrays["scores"], dtype=np.float32)
        return model

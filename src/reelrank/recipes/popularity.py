"""Popularity-Count: items ranked by how many distinct users interacted with them; the same list for everyone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from reelrank.recipes.base import FloatArray, IntArray, Interactions, Model, Progress


def distinct_users_per_item(users: IntArray, items: IntArray, n_items: int) -> IntArray:
    """How many distinct users interacted with each item (sorting: numpy's `unique` is far slower here)."""
    keys = np.sort(users.astype(np.int64) * np.int64(max(1, n_items)) + items)
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    counts: IntArray = np.bincount(keys[first] % np.int64(max(1, n_items)), minlength=n_items)
    return counts


def distinct_user_counts(data: Interactions) -> FloatArray:
    """Per item, the number of distinct users with at least one positively weighted event on it."""
    keep = data.weights > 0
    counts: FloatArray = distinct_users_per_item(data.users[keep], data.items[keep], data.n_items).astype(np.float32)
    return counts


class Popularity(Model):
    """Scores are the distinct-user counts; the history is ignored. No hyperparameters."""

    algorithm: ClassVar[str] = "popularity"
    defaults: ClassVar[Mapping[str, str]] = {}

    def __init__(self, hyperparameters: Mapping[str, str] | None = None) -> None:
        super().__init__(hyperparameters)
        self.counts: FloatArray = np.zeros(0, dtype=np.float32)

    def fit(self, data: Interactions, progress: Progress | None = None) -> None:
        self.counts = distinct_user_counts(data)
        if progress is not None:
            progress(1.0)

    def score(self, history: IntArray, item: int | None = None) -> FloatArray:
        return self.counts.copy()

    def arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts}

    @classmethod
    def from_arrays(cls, hyperparameters: Mapping[str, str], arrays: Mapping[str, np.ndarray]) -> Popularity:
        model = cls(hyperparameters)
        model.counts = np.asarray(arrays["counts"], dtype=np.float32)
        return model

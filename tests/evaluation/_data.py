"""Hand-built `Interactions` for the evaluation tests."""

from __future__ import annotations

import numpy as np

from reelrank.recipes.base import Interactions


def interactions(sequences: list[list[int]], n_items: int | None = None) -> Interactions:
    """One user per sequence (items oldest first); timestamps increase within each user."""
    users = np.repeat(np.arange(len(sequences), dtype=np.int64), [len(s) for s in sequences])
    items = np.array([i for s in sequences for i in s], dtype=np.int64)
    timestamps = np.concatenate([1000 + 10 * np.arange(len(s), dtype=np.int64) for s in sequences] or
                                [np.zeros(0, dtype=np.int64)])
    return Interactions(users=users, items=items, timestamps=timestamps.astype(np.int64),
                        weights=np.ones(items.size, dtype=np.float32), n_users=len(sequences),
                        n_items=n_items if n_items is not None else int(items.max(initial=-1)) + 1)


def random_interactions(n_users: int, n_items: int, max_length: int, seed: int = 0) -> Interactions:
    """Users with 1..max_length distinct items each, in random order."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, max_length + 1, size=n_users)
    return interactions([rng.choice(n_items, size=int(n), replace=False).tolist() for n in lengths], n_items)

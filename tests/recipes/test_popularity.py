from __future__ import annotations

import numpy as np

from reelrank.recipes.base import Interactions
from reelrank.recipes.popularity import Popularity


def interactions(users: list[int], items: list[int], weights: list[float] | None = None,
                 n_items: int = 4) -> Interactions:
    n = len(users)
    return Interactions(np.array(users, dtype=np.int64), np.array(items, dtype=np.int64),
                        np.arange(n, dtype=np.int64), np.array(weights or [1.0] * n, dtype=np.float32),
                        max(users) + 1, n_items)


def test_counts_distinct_users_with_positive_events() -> None:
    model = Popularity()
    # item 1: users 0 (three times) and 1; item 2: user 1; item 3: user 2 only with a zero-weight event.
    model.fit(interactions([0, 0, 0, 1, 1, 2], [1, 1, 1, 1, 2, 3], [1, 1, 1, 1, 1, 0]))
    assert model.score(np.zeros(0, dtype=np.int64)).tolist() == [0.0, 2.0, 1.0, 0.0]


def test_ignores_history_and_anchor() -> None:
    model = Popularity()
    model.fit(interactions([0, 1, 1], [1, 1, 2]))
    expected = model.score(np.zeros(0, dtype=np.int64))
    assert np.array_equal(model.score(np.array([1, 2, 3], dtype=np.int64)), expected)
    assert np.array_equal(model.score(np.zeros(0, dtype=np.int64), item=1), expected)

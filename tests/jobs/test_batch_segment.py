"""Batch segments keep each query's best users a block at a time: the same users, in the same order, as a stable
sort of every user's affinity."""

from __future__ import annotations

import numpy as np
import pytest

from reelrank.jobs.batch_segment import _Best


@pytest.mark.parametrize("count", [1, 7, 50, 1000])
@pytest.mark.parametrize("step", [1, 13, 100, 5000])
def test_best_users_over_blocks_equal_a_stable_sort_of_all(count: int, step: int) -> None:
    rng = np.random.default_rng(count + step)
    affinity = rng.integers(0, 20, 700).astype(np.float32) / 4  # many ties
    best = _Best(count)
    for start in range(0, len(affinity), step):
        best.offer(affinity[start: start + step], start)
    assert best.positions.tolist() == np.argsort(-affinity, kind="stable")[:count].tolist()

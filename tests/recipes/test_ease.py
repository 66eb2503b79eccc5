from __future__ import annotations

import math

import numpy as np
import pytest

from reelrank.recipes import ease
from reelrank.recipes.base import Interactions
from reelrank.recipes.ease import MAX_ITEMS, RecencyEASE, training_matrix
from tests.recipes.planted import hit_rate, make

PLAIN = {"apply_recency_bias": "false"}


def random_data(n_users: int = 60, n_items: int = 25, seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, 12, n_users)
    users = np.repeat(np.arange(n_users), lengths).astype(np.int64)
    items = rng.integers(0, n_items, users.size).astype(np.int64)
    return Interactions(users, items, np.arange(users.size, dtype=np.int64), np.ones(users.size, dtype=np.float32),
                        n_users, n_items)


def reference_ease(x: np.ndarray, l2: float) -> np.ndarray:
    p = np.linalg.inv(x.T @ x + l2 * np.eye(x.shape[1]))
    b: np.ndarray = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


def test_plain_ease_matches_the_closed_form() -> None:
    data = random_data()
    model = RecencyEASE({**PLAIN, "l2_regularization": "7"})
    model.fit(data)
    binary = (data.matrix().toarray() > 0).astype(np.float64)
    np.testing.assert_allclose(model.weights, reference_ease(binary, 7.0), atol=1e-6)
    assert model.weights.dtype == np.float32 and model.weights.flags.c_contiguous
    assert not np.diag(model.weights).any()


def test_blocked_and_float32_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    data = random_data(n_items=40)
    exact = RecencyEASE()
    exact.fit(data)
    monkeypatch.setattr(ease, "SYMMETRISE_BLOCK", 7)
    monkeypatch.setattr(ease, "GRAM_BLOCK_CELLS", 3 * 40 + 1)
    blocked = RecencyEASE()
    blocked.fit(data)
    np.testing.assert_allclose(blocked.weights, exact.weights, atol=1e-6)
    monkeypatch.setattr(ease, "FLOAT64_MAX_ITEMS", 0)
    single = RecencyEASE()
    single.fit(data)
    np.testing.assert_allclose(single.weights, exact.weights, atol=1e-5)


def test_refuses_too_many_items() -> None:
    one = np.zeros(1, dtype=np.int64)
    data = Interactions(one, one, one, np.ones(1, dtype=np.float32), 1, MAX_ITEMS + 1)
    with pytest.raises(ValueError, match="at most 30,000 items"):
        RecencyEASE().fit(data)


def test_training_rows_weigh_recent_events() -> None:
    # user 0: items 3, 1, 3, 2 (oldest first); user 1: item 0 with weight 0.5, then item 1 with weight 0.
    data = Interactions(np.array([0, 0, 0, 0, 1, 1]), np.array([3, 1, 3, 2, 0, 1]), np.arange(6),
                        np.array([1, 1, 1, 1, 0.5, 0], dtype=np.float32), 2, 4)
    rows = training_matrix(data, 2.0).toarray()
    half = math.sqrt(0.5)
    np.testing.assert_allclose(rows[0], [0.0, 0.5, 1.0, half])  # item 3 keeps its later (larger) weight
    np.testing.assert_allclose(rows[1], [0.5 * half, 0.0, 0.0, 0.0])
    assert training_matrix(data, None).toarray().tolist() == [[0, 1, 1, 1], [1, 0, 0, 0]]


def test_scores_weigh_recent_history() -> None:
    data = random_data()
    model = RecencyEASE({"recency_half_life": "2"})
    model.fit(data)
    history = np.array([4, 9, 4, 17, 30, -2], dtype=np.int64)  # 30 and -2 are unknown items
    vector = np.zeros(25)
    # ages count back from the newest known event (17): 9 → 2, 4 → 1 (its later event), 17 → 0
    vector[9], vector[4], vector[17] = 0.5 ** 1.0, 0.5 ** 0.5, 1.0
    np.testing.assert_allclose(model.score(history), vector @ model.weights, rtol=1e-5)
    # only the last 16 half-lives of events count; unknown (newer) items do not push known ones out
    long = np.arange(100, dtype=np.int64) % 25
    assert np.array_equal(model.score(long), model.score(long[-32:]))
    assert np.array_equal(model.score(np.concatenate([long, np.full(200, 99)])), model.score(long))
    plain = RecencyEASE(PLAIN)
    plain.fit(data)
    assert np.array_equal(plain.score(np.array([4, 9, 17])), plain.score(np.array([17, 9, 4, 9])))


def test_recency_bias_follows_the_sequence() -> None:
    planted = make()
    recent, plain = RecencyEASE(), RecencyEASE(PLAIN)
    recent.fit(planted.train)
    plain.fit(planted.train)
    # HR@1 measured 0.663 with recency bias, 0.030 without (HR@10: 1.000 and 0.947).
    assert hit_rate(recent, planted, k=1) >= 0.53
    assert hit_rate(recent, planted, k=1) >= hit_rate(plain, planted, k=1) + 0.4

from __future__ import annotations

import math

import numpy as np
import pytest

from reelrank.recipes import ease
from reelrank.recipes.base import Interactions
from reelrank.recipes.ease import MAX_ITEMS, RecencyEASE, training_matrix, transition_rows
from tests.recipes.planted import hit_rate, make

NO_TRANSITIONS = {"transition_weight": "0"}
PLAIN = {"apply_recency_bias": "false", **NO_TRANSITIONS}


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
    # only the last 8 half-lives (16 events) count; unknown (newer) items do not push known ones out
    long = np.arange(100, dtype=np.int64) % 25
    assert np.array_equal(model.score(long), model.score(long[-16:]))
    assert not np.array_equal(model.score(long), model.score(long[-15:]))
    assert np.array_equal(model.score(np.concatenate([long, np.full(200, 99)])), model.score(long))
    plain = RecencyEASE(PLAIN)
    plain.fit(data)
    assert np.array_equal(plain.score(np.array([4, 9, 17])), plain.score(np.array([17, 9, 4, 9])))


@pytest.mark.parametrize("params", [{}, {"recency_half_life": "0.7"}, PLAIN])
def test_score_many_rows_equal_score_exactly(params: dict[str, str]) -> None:
    """Batch inference relies on it to answer exactly as GetRecommendations does."""
    rng = np.random.default_rng(5)
    model = RecencyEASE(params)
    model.weights = rng.normal(size=(40, 40)).astype(np.float32)
    histories = [rng.integers(-3, 45, int(rng.integers(0, 80))).astype(np.int64) for _ in range(300)]
    histories += [np.zeros(0, dtype=np.int64), np.array([-1, 99], dtype=np.int64), np.array([7] * 5)]
    many = model.score_many(histories)
    assert many.dtype == np.float32 and many.shape == (len(histories), 40)
    for history, row in zip(histories, many, strict=True):
        assert np.array_equal(model.score(history), row)
    for start in (0, 1, 150):  # a row does not depend on the block it is scored in
        assert np.array_equal(model.score_many(histories[start: start + 7]), many[start: start + 7])
    assert model.score_many([]).shape == (0, 40)


def test_recency_bias_follows_the_sequence() -> None:
    planted = make()
    recent, plain = RecencyEASE(NO_TRANSITIONS), RecencyEASE(PLAIN)
    recent.fit(planted.train)
    plain.fit(planted.train)
    # HR@1 measured 0.663 with recency bias, 0.030 without (HR@10: 1.000 and 0.947).
    assert hit_rate(recent, planted, k=1) >= 0.53
    assert hit_rate(recent, planted, k=1) >= hit_rate(plain, planted, k=1) + 0.4


# item transitions (SLIT) -------------------------------------------------------------------------------------------


def ring_walks(n_users: int = 200, n_items: int = 30, seed: int = 0) -> Interactions:
    """Each user walks 3–8 steps forward around a ring of items from a random start: item j is followed by j + 1."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 9, n_users)
    starts = rng.integers(0, n_items, n_users)
    users = np.repeat(np.arange(n_users), lengths).astype(np.int64)
    step = np.arange(users.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    items = ((starts[users] + step) % n_items).astype(np.int64)
    return Interactions(users, items, np.arange(users.size, dtype=np.int64), np.ones(users.size, dtype=np.float32),
                        n_users, n_items)


def successor_rate(model: RecencyEASE, n_items: int) -> float:
    """Share of items j whose top-scored item, for the history [j], is j + 1."""
    return float(np.mean([int(np.argmax(model.score(np.array([j])))) == (j + 1) % n_items for j in range(n_items)]))


def test_transition_rows() -> None:
    # user 0: items 3, 1, 2, 0 (oldest first; item 2's event weighs 2); user 1: item 0, a zero-weight 1, then 2.
    data = Interactions(np.array([0, 0, 0, 0, 1, 1, 1]), np.array([3, 1, 2, 0, 0, 1, 2]), np.arange(7),
                        np.array([1, 1, 2, 1, 1, 0, 1], dtype=np.float32), 2, 4)
    past, following = transition_rows(data, window=2, half_life=1.0)
    # rows: user 0's events 2, 3, 4 and user 1's third event (its zero-weight event is dropped)
    np.testing.assert_allclose(past.toarray(), [[0, 0, 0, 1], [0, 1, 0, 0.5], [0, 0.5, 2, 0], [1, 0, 0, 0]])
    np.testing.assert_allclose(following.toarray(), [[0, 1, 0, 0], [0, 0, 2, 0], [1, 0, 0, 0], [0, 0, 1, 0]])
    one = np.zeros(1, dtype=np.int64)
    empty, _ = transition_rows(Interactions(one, one, one, np.ones(1, dtype=np.float32), 1, 3), 5, 1.0)
    assert empty.shape == (0, 3)


def test_transitions_match_the_closed_form() -> None:
    data = random_data()
    model = RecencyEASE({"transition_weight": "1", "transition_l2": "3", "transition_window": "4",
                         "transition_half_life": "2"})
    model.fit(data)
    past, following = transition_rows(data, 4, 2.0)
    p, n = past.toarray(), following.toarray()
    expected = np.linalg.solve(p.T @ p + 3.0 * np.eye(data.n_items), p.T @ n)
    np.testing.assert_allclose(model.weights, expected, atol=1e-5)
    assert model.weights.dtype == np.float32 and model.weights.flags.c_contiguous
    # the mixture scales B_T to B's Frobenius norm
    ease_only, mixed = RecencyEASE(NO_TRANSITIONS), RecencyEASE({"transition_weight": "0.25", "transition_l2": "3",
                                                                 "transition_window": "4", "transition_half_life": "2"})
    ease_only.fit(data)
    mixed.fit(data)
    scale = np.linalg.norm(ease_only.weights) / np.linalg.norm(expected)
    np.testing.assert_allclose(mixed.weights, 0.75 * ease_only.weights + 0.25 * scale * expected, atol=1e-5)


def test_transitions_learn_the_direction_that_ease_cannot() -> None:
    data = ring_walks()
    with_transitions, ease_only, plain = RecencyEASE(), RecencyEASE(NO_TRANSITIONS), RecencyEASE(PLAIN)
    for model in (with_transitions, ease_only, plain):
        model.fit(data)
    # measured 1.000 with transitions; 0.500 and 0.533 without (j − 1 and j + 1 co-occur with j equally often)
    assert successor_rate(with_transitions, data.n_items) >= 0.95
    assert successor_rate(ease_only, data.n_items) <= 0.7
    assert successor_rate(plain, data.n_items) <= 0.7


def test_transitions_sharpen_the_planted_walks() -> None:
    planted = make()
    model = RecencyEASE()
    model.fit(planted.train)
    # HR@1 measured 0.960 with the default transitions, 0.663 without (test_recency_bias_follows_the_sequence)
    assert hit_rate(model, planted, k=1) >= 0.77


def test_transitions_round_trip_and_are_deterministic() -> None:
    data = ring_walks()
    model = RecencyEASE({"transition_weight": "0.5"})
    model.fit(data)
    restored = RecencyEASE.from_arrays(model.hyperparameters, model.arrays())
    again = RecencyEASE({"transition_weight": "0.5"})
    again.fit(data)
    assert np.array_equal(again.weights, model.weights)
    for history in (np.array([3]), np.array([7, 8, 9, 3]), np.zeros(0, dtype=np.int64)):
        assert np.array_equal(restored.score(history), model.score(history))


def test_only_transitions_or_none_to_learn() -> None:
    single = Interactions(np.arange(4), np.array([0, 1, 2, 0]), np.arange(4), np.ones(4, dtype=np.float32), 4, 3)
    fallback = RecencyEASE({"transition_weight": "1"})
    fallback.fit(single)  # no user has two events: no transition pair, so EASE is served
    reference = RecencyEASE(NO_TRANSITIONS)
    reference.fit(single)
    assert np.array_equal(fallback.weights, reference.weights)
    data = ring_walks()
    only = RecencyEASE({"transition_weight": "1"})
    only.fit(data)
    assert successor_rate(only, data.n_items) >= 0.95


def test_score_prepared_many_rows_equal_score_prepared_exactly() -> None:
    """A server scores the requests that arrive together in one call; each answer must not depend on the others."""
    rng = np.random.default_rng(11)
    model = RecencyEASE()
    model.weights = rng.normal(size=(50, 50)).astype(np.float32)
    prepared = [model.prepare(rng.integers(-2, 55, int(rng.integers(0, 60))).astype(np.int64)) for _ in range(40)]
    many = model.score_prepared_many(prepared)
    assert many.dtype == np.float32 and many.shape == (40, 50)
    for one, row in zip(prepared, many, strict=True):
        assert np.array_equal(model.score_prepared(one), row)
    assert model.score_prepared_many([]).shape[0] == 0

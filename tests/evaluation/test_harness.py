from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import pytest

from reelrank.evaluation.harness import (
    evaluate_full_ranking,
    evaluate_personalize,
    evaluate_sampled,
    top_k,
)
from reelrank.evaluation.metrics import PERSONALIZE_METRIC_KEYS
from reelrank.evaluation.splits import (
    PersonalizeSplit,
    SequentialSplit,
    leave_last_out,
    personalize_split,
    sampled_negatives,
)
from reelrank.recipes.base import FloatArray, IntArray, Interactions, Model, Progress
from tests.evaluation._data import interactions, random_interactions


class FixedScores(Model):
    """Scores every user the same: a popularity list."""

    algorithm: ClassVar[str] = "test-fixed"

    def __init__(self, scores: np.ndarray) -> None:
        super().__init__()
        self.scores = scores.astype(np.float32)

    def fit(self, data: Interactions, progress: Progress | None = None) -> None:
        pass

    def score(self, history: IntArray, item: int | None = None) -> FloatArray:
        return self.scores  # deliberately the internal array: the harness must not modify it

    def arrays(self) -> dict[str, np.ndarray]:
        return {"scores": self.scores}

    @classmethod
    def from_arrays(cls, hyperparameters: Mapping[str, str], arrays: Mapping[str, np.ndarray]) -> Model:
        return cls(arrays["scores"])


class Oracle(FixedScores):
    """Knows each user's targets (looked up by history) and scores them highest, in the given order."""

    def __init__(self, n_items: int, histories: list[IntArray], targets: list[IntArray]) -> None:
        super().__init__(np.zeros(n_items))
        self.answers = {h.tobytes(): t for h, t in zip(histories, targets, strict=True)}

    def score(self, history: IntArray, item: int | None = None) -> FloatArray:
        scores = np.zeros(self.scores.size, dtype=np.float32)
        targets = self.answers[history.tobytes()]
        scores[targets] = np.arange(targets.size, 0, -1) + 1.0
        return scores


class Repeater(FixedScores):
    """Scores the user's own history highest (item order otherwise)."""

    def score(self, history: IntArray, item: int | None = None) -> FloatArray:
        scores = -np.arange(self.scores.size, dtype=np.float32)
        scores[history] = 1000.0
        return scores


def popularity(n_items: int) -> FixedScores:
    return FixedScores(-np.arange(n_items, dtype=np.float64))  # item 0 best, then 1, ...


def ndcg(positions: list[int], n_relevant: int, k: int) -> float:
    dcg = sum(1 / math.log2(p + 1) for p in positions if p <= k)
    return dcg / sum(1 / math.log2(p + 1) for p in range(1, min(k, n_relevant) + 1))


def hand_made_split() -> PersonalizeSplit:
    train = interactions([list(range(30))], n_items=40)  # one training user, 30 distinct items
    return PersonalizeSplit(train=train, held_out=np.array([1, 2]), users=np.array([1, 2]),
                            histories=[np.array([30]), np.array([0, 31])],
                            targets=[np.array([1, 6]), np.array([24])])


def test_top_k_ties_and_exclusions() -> None:
    scores = np.array([1.0, 3.0, 3.0, -np.inf, np.nan, 2.0, 3.0])
    np.testing.assert_array_equal(top_k(scores, 2), [1, 2])
    np.testing.assert_array_equal(top_k(scores, 4), [1, 2, 6, 5])
    np.testing.assert_array_equal(top_k(scores, 10), [1, 2, 6, 5, 0])
    assert top_k(scores, 0).size == 0
    np.testing.assert_array_equal(top_k(np.zeros(5, dtype=np.float32), 3), [0, 1, 2])


def test_personalize_popularity_hand_made() -> None:
    split = hand_made_split()
    got = evaluate_personalize(popularity(40), split)
    assert tuple(got) == PERSONALIZE_METRIC_KEYS
    # user 1: targets {1, 6} at positions 2 and 7; user 2: target 24 at position 25.
    expected = {
        "coverage": 25 / 30,
        "mean_reciprocal_rank_at_25": (1 / 2 + 1 / 25) / 2,
        "normalized_discounted_cumulative_gain_at_5": (ndcg([2], 2, 5) + 0) / 2,
        "normalized_discounted_cumulative_gain_at_10": (ndcg([2, 7], 2, 10) + 0) / 2,
        "normalized_discounted_cumulative_gain_at_25": (ndcg([2, 7], 2, 25) + ndcg([25], 1, 25)) / 2,
        "precision_at_5": (1 / 5 + 0) / 2,
        "precision_at_10": (2 / 10 + 0) / 2,
        "precision_at_25": (2 / 25 + 1 / 25) / 2,
    }
    assert got == pytest.approx(expected)


def test_personalize_exclude_seen() -> None:
    split = hand_made_split()
    model = popularity(40)
    before = model.scores.copy()
    got = evaluate_personalize(model, split, exclude_seen=True)
    np.testing.assert_array_equal(model.scores, before)
    # user 2 has seen item 0: the list becomes 1..25, target 24 moves to position 24; 26 items recommended.
    assert got["mean_reciprocal_rank_at_25"] == pytest.approx((1 / 2 + 1 / 24) / 2)
    assert got["normalized_discounted_cumulative_gain_at_25"] == pytest.approx(
        (ndcg([2, 7], 2, 25) + ndcg([24], 1, 25)) / 2)
    assert got["coverage"] == pytest.approx(26 / 30)


def test_personalize_oracle_is_perfect() -> None:
    data = random_interactions(n_users=300, n_items=100, max_length=60, seed=2)
    split = personalize_split(data, seed=0)
    got = evaluate_personalize(Oracle(100, split.histories, split.targets), split)
    assert got["mean_reciprocal_rank_at_25"] == pytest.approx(1.0)
    for k in (5, 10, 25):
        assert got[f"normalized_discounted_cumulative_gain_at_{k}"] == pytest.approx(1.0)
        expected = np.mean([min(k, t.size) / k for t in split.targets])
        assert got[f"precision_at_{k}"] == pytest.approx(expected)


def test_personalize_other_list_length_and_empty_split() -> None:
    got = evaluate_personalize(popularity(40), hand_made_split(), k_max=10)
    assert list(got) == ["coverage", "mean_reciprocal_rank_at_10", "normalized_discounted_cumulative_gain_at_5",
                         "normalized_discounted_cumulative_gain_at_10", "precision_at_5", "precision_at_10"]
    empty = PersonalizeSplit(train=interactions([[0]]), held_out=np.zeros(0, dtype=np.int64),
                             users=np.zeros(0, dtype=np.int64), histories=[], targets=[])
    assert set(evaluate_personalize(popularity(5), empty).values()) == {0.0}


def test_full_ranking_oracle_and_popularity() -> None:
    data = interactions([[5, 0, 3], [1, 2], [0, 4, 1, 2]], n_items=8)
    split = leave_last_out(data)  # targets 3, 2, 2; histories [5, 0], [1], [0, 4, 1]
    oracle = Oracle(8, split.histories, [split.targets[i: i + 1] for i in range(3)])
    perfect = evaluate_full_ranking(oracle, split, ks=(1, 10))
    for key in ("ndcg", "recall", "hr", "mrr"):
        assert perfect[f"{key}@1"] == pytest.approx(1.0)
        assert perfect[f"{key}@10"] == pytest.approx(1.0)
    assert perfect["precision@10"] == pytest.approx(0.1)

    got = evaluate_full_ranking(popularity(8), split, ks=(2, 3))
    # seen items removed: user 0 ranks 1,2,3 (target 3 at 3); user 1 ranks 0,2 (at 2); user 2 ranks 2 (at 1).
    assert got["hr@2"] == pytest.approx(2 / 3)
    assert got["hr@3"] == pytest.approx(1.0)
    assert got["recall@3"] == pytest.approx(1.0)
    assert got["ndcg@3"] == pytest.approx((1 / math.log2(4) + 1 / math.log2(3) + 1) / 3)
    assert got["mrr@2"] == pytest.approx((0 + 1 / 2 + 1) / 3)
    # without exclusion: user 0 ranks 0,1,2 (miss); user 1 ranks 0,1,2 (at 3); user 2 ranks 0,1,2 (at 3).
    kept = evaluate_full_ranking(popularity(8), split, ks=(3,), exclude_seen=False)
    assert kept["hr@3"] == pytest.approx(2 / 3)
    assert kept["ndcg@3"] == pytest.approx(2 / math.log2(4) / 3)


def test_exclude_seen_removes_history() -> None:
    data = interactions([[4, 5, 6], [7, 8]], n_items=10)
    split = leave_last_out(data)  # targets 6, 8
    model = Repeater(np.zeros(10))
    assert evaluate_full_ranking(model, split, ks=(2,), exclude_seen=True)["hr@2"] == 0.0  # 0, 1 are ranked first
    hist_first = evaluate_full_ranking(model, split, ks=(2,), exclude_seen=False)
    assert hist_first["precision@2"] == 0.0  # the history fills the top 2 of user 0 and the top 1 of user 1


def test_full_ranking_on_personalize_split() -> None:
    got = evaluate_full_ranking(popularity(40), hand_made_split(), ks=(10,), exclude_seen=False)
    assert got["recall@10"] == pytest.approx((2 / 2 + 0) / 2)
    assert got["hr@10"] == pytest.approx(0.5)


def test_sampled() -> None:
    split = SequentialSplit(train=interactions([[0]], n_items=10), users=np.array([0, 1]),
                            histories=[np.array([9]), np.array([8])], targets=np.array([3, 0]))
    negatives = np.array([[0, 1, 5, 6], [4, 5, 6, 7]])
    got = evaluate_sampled(popularity(10), split, negatives, ks=(1, 3))
    # user 0: items 0 and 1 outrank target 3 -> rank 2 (0-based); user 1: target 0 is top.
    assert got == pytest.approx({"hr@1": 0.5, "ndcg@1": 0.5, "hr@3": 1.0, "ndcg@3": (1 / math.log2(4) + 1) / 2})
    constant = evaluate_sampled(FixedScores(np.zeros(10)), split, negatives, ks=(4, 5))
    assert constant == {"hr@4": 0.0, "ndcg@4": 0.0, "hr@5": 1.0, "ndcg@5": pytest.approx(1 / math.log2(6))}
    with pytest.raises(ValueError):
        evaluate_sampled(popularity(10), split, negatives[:1])


def test_sampled_oracle_with_generated_negatives() -> None:
    data = random_interactions(n_users=100, n_items=400, max_length=50, seed=4)
    split = leave_last_out(data)
    hist = data.histories()
    negatives = sampled_negatives(data.n_items, [hist[u] for u in split.users], n_negatives=100, seed=0)
    oracle = Oracle(400, split.histories, [split.targets[i: i + 1] for i in range(split.targets.size)])
    assert evaluate_sampled(oracle, split, negatives) == pytest.approx({"hr@10": 1.0, "ndcg@10": 1.0})


def test_ml1m_sized_full_ranking_runs() -> None:
    rng = np.random.default_rng(0)
    n_users, n_items = 6040, 3706
    histories = [rng.integers(0, n_items, size=int(n)) for n in rng.integers(20, 200, size=n_users)]
    split = SequentialSplit(train=interactions([[0]], n_items=n_items), users=np.arange(n_users),
                            histories=histories, targets=rng.integers(0, n_items, size=n_users))
    got = evaluate_full_ranking(FixedScores(rng.random(n_items)), split, ks=(10, 20))
    assert 0.0 <= got["ndcg@10"] <= got["ndcg@20"] <= 1.0

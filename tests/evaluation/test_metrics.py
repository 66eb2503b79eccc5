from __future__ import annotations

import math

import numpy as np
import pytest

from reelrank.evaluation.metrics import (
    PERSONALIZE_METRIC_KEYS,
    capped_recall_at_k,
    coverage,
    hit_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank_at_k,
)


def ranked_with_hits_at(positions: list[int], length: int = 25) -> tuple[np.ndarray, set[int]]:
    """A list of items 100.. with relevant items (0, 1, ...) placed at the given 1-based positions."""
    ranked = np.arange(100, 100 + length)
    relevant = set()
    for n, position in enumerate(positions):
        ranked[position - 1] = n
        relevant.add(n)
    return ranked, relevant


def test_personalize_ndcg_example() -> None:
    ranked, relevant = ranked_with_hits_at([2, 5], length=5)
    expected = (1 / math.log(3) + 1 / math.log(6)) / (1 / math.log(2) + 1 / math.log(3))
    assert ndcg_at_k(ranked, relevant, 5) == pytest.approx(expected)
    assert round(ndcg_at_k(ranked, relevant, 5), 4) == 0.6241


def test_personalize_mrr_example() -> None:
    users = [[4, 10], [2, 4, 12], [6]]
    rrs = [reciprocal_rank_at_k(*ranked_with_hits_at(positions), 25) for positions in users]
    assert rrs == pytest.approx([1 / 4, 1 / 2, 1 / 6])
    assert round(sum(rrs) / len(rrs), 4) == 0.3056


def test_personalize_precision_example() -> None:
    ranked, relevant = ranked_with_hits_at([1, 4, 9], length=10)
    assert precision_at_k(ranked, relevant, 10) == pytest.approx(0.30)
    assert precision_at_k(ranked, relevant, 5) == pytest.approx(2 / 5)


def test_reciprocal_rank_only_within_k() -> None:
    ranked, relevant = ranked_with_hits_at([26], length=30)
    assert reciprocal_rank_at_k(ranked, relevant, 25) == 0.0
    assert reciprocal_rank_at_k(ranked, relevant, 26) == pytest.approx(1 / 26)


def test_ndcg_perfect_and_ideal_uses_min_k_relevant() -> None:
    assert ndcg_at_k([3, 1, 2], {1, 2, 3}, 3) == pytest.approx(1.0)
    # 10 relevant items, all of the top 5 relevant: ideal DCG has 5 hits, so NDCG@5 = 1.
    assert ndcg_at_k(np.arange(20), np.arange(10), 5) == pytest.approx(1.0)
    # one relevant item at position 3: 1/log2(4) / 1.
    assert ndcg_at_k([7, 8, 9], [9], 3) == pytest.approx(1 / math.log2(4))


def test_no_relevant_items_scores_zero() -> None:
    ranked = np.arange(10)
    for fn in (precision_at_k, ndcg_at_k, reciprocal_rank_at_k, recall_at_k, capped_recall_at_k, hit_at_k):
        assert fn(ranked, set(), 5) == 0.0
        assert fn(ranked, np.zeros(0, dtype=np.int64), 5) == 0.0
        assert fn(ranked, [50, 60], 5) == 0.0


def test_k_larger_than_list() -> None:
    ranked = [1, 2, 3]
    relevant = {1, 3, 4}
    assert precision_at_k(ranked, relevant, 10) == pytest.approx(2 / 10)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ranked, relevant, 10) == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    assert recall_at_k(ranked, relevant, 10) == pytest.approx(2 / 3)
    assert hit_at_k(ranked, relevant, 10) == 1.0
    assert reciprocal_rank_at_k(ranked, relevant, 10) == 1.0
    assert precision_at_k([], relevant, 5) == 0.0
    assert ndcg_at_k([], relevant, 5) == 0.0


def test_recall_plain_versus_capped() -> None:
    ranked = np.arange(10)
    relevant = np.arange(20)  # 20 relevant, 5 of them in the top 5
    assert recall_at_k(ranked, relevant, 5) == pytest.approx(5 / 20)
    assert capped_recall_at_k(ranked, relevant, 5) == pytest.approx(1.0)
    assert recall_at_k(ranked, [3, 42], 5) == pytest.approx(0.5)
    assert capped_recall_at_k(ranked, [3, 42], 5) == pytest.approx(0.5)


def test_hit_at_k() -> None:
    assert hit_at_k([5, 6, 7], [7], 3) == 1.0
    assert hit_at_k([5, 6, 7], [7], 2) == 0.0


def test_invalid_k() -> None:
    with pytest.raises(ValueError):
        precision_at_k([1, 2], {1}, 0)


def test_coverage() -> None:
    assert coverage([[1, 2, 3], np.array([3, 4]), {4, 5}], 10) == pytest.approx(0.5)
    assert coverage([], 10) == 0.0
    assert coverage([[1]], 0) == 0.0


def test_personalize_metric_keys_order() -> None:
    assert PERSONALIZE_METRIC_KEYS == (
        "coverage",
        "mean_reciprocal_rank_at_25",
        "normalized_discounted_cumulative_gain_at_5",
        "normalized_discounted_cumulative_gain_at_10",
        "normalized_discounted_cumulative_gain_at_25",
        "precision_at_5",
        "precision_at_10",
        "precision_at_25",
    )

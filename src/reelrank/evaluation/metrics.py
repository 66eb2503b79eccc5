"""Ranking metrics on one ranked list of item indices (best first) and the set of items relevant to that user.

Every function takes the whole ranked list and cuts it at `k`; a list shorter than `k` is scored as is (precision
still divides by `k`). An empty relevant set scores 0. Averaging over users is the caller's job (see `harness`).

NDCG uses the weight 1/log(1 + position), position 1 = top, normalised by the ideal DCG with min(K, |relevant|)
hits. That is both Personalize's definition (personalize-api.md §5.2, natural log) and the papers' (benchmarks.md §1,
log2): the base of the logarithm cancels in the ratio, so one function serves both.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from typing import Final

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Items = npt.ArrayLike | Set[int]
"""Item indices: a numpy array, a sequence or a set of ints."""

PERSONALIZE_METRIC_KEYS: Final[tuple[str, ...]] = (
    "coverage",
    "mean_reciprocal_rank_at_25",
    "normalized_discounted_cumulative_gain_at_5",
    "normalized_discounted_cumulative_gain_at_10",
    "normalized_discounted_cumulative_gain_at_25",
    "precision_at_5",
    "precision_at_10",
    "precision_at_25",
)
"""The keys of GetSolutionMetrics for a recipe without an optimization objective, in the guide's order (§5.2)."""

_MAX_CACHED_K = 1024
# 1 / log2(position + 1) for positions 1.., and its running sum (the ideal DCG with n hits is _IDEAL[n]).
_DISCOUNTS: Final = 1.0 / np.log2(np.arange(2, _MAX_CACHED_K + 2, dtype=np.float64))
_IDEAL: Final = np.concatenate(([0.0], np.cumsum(_DISCOUNTS)))


def as_items(items: Items) -> IntArray:
    """`items` as a flat int64 array (sets included)."""
    if isinstance(items, Set):
        return np.fromiter(items, dtype=np.int64, count=len(items))
    return np.asarray(items, dtype=np.int64).reshape(-1)


def relevance(ranked: Items, relevant: Items, k: int) -> BoolArray:
    """For each of the first `k` ranked items, whether it is relevant."""
    _check_k(k)
    top = as_items(ranked)[:k]
    return np.isin(top, as_items(relevant))


# The *_from_hits functions take `relevance(...)`'s output, so that a caller scoring many cut-offs for one user
# computes the membership test once.

def precision_from_hits(hits: BoolArray, k: int) -> float:
    return float(np.count_nonzero(hits[:k])) / k


def ndcg_from_hits(hits: BoolArray, k: int, n_relevant: int) -> float:
    if n_relevant <= 0:
        return 0.0
    top = hits[:k]
    positions = np.flatnonzero(top)
    if positions.size == 0:
        return 0.0
    return float(_discounts(top.size)[positions].sum() / _ideal_dcg(min(k, n_relevant)))


def reciprocal_rank_from_hits(hits: BoolArray, k: int) -> float:
    positions = np.flatnonzero(hits[:k])
    return 1.0 / (int(positions[0]) + 1) if positions.size else 0.0


def recall_from_hits(hits: BoolArray, k: int, n_relevant: int) -> float:
    return float(np.count_nonzero(hits[:k])) / n_relevant if n_relevant > 0 else 0.0


def capped_recall_from_hits(hits: BoolArray, k: int, n_relevant: int) -> float:
    return float(np.count_nonzero(hits[:k])) / min(k, n_relevant) if n_relevant > 0 else 0.0


def hit_from_hits(hits: BoolArray, k: int) -> float:
    return 1.0 if bool(hits[:k].any()) else 0.0


def precision_at_k(ranked: Items, relevant: Items, k: int) -> float:
    """(# relevant items in the top `k`) / `k`."""
    return precision_from_hits(relevance(ranked, relevant, k), k)


def ndcg_at_k(ranked: Items, relevant: Items, k: int) -> float:
    """Binary-relevance NDCG: Σ_{hits at position p ≤ k} 1/log(1+p), over the same sum for min(k, |relevant|) hits.

    Personalize's example (§5.2): relevant at positions 2 and 5 with k=5 gives 0.6241.
    """
    rel = as_items(relevant)
    return ndcg_from_hits(relevance(ranked, rel, k), k, int(np.unique(rel).size))


def reciprocal_rank_at_k(ranked: Items, relevant: Items, k: int) -> float:
    """1 / rank of the first relevant item within the top `k`, else 0 (mean_reciprocal_rank_at_25 averages it)."""
    return reciprocal_rank_from_hits(relevance(ranked, relevant, k), k)


def recall_at_k(ranked: Items, relevant: Items, k: int) -> float:
    """Plain recall: (# relevant items in the top `k`) / |relevant| (Dacrema et al., RecBole)."""
    rel = as_items(relevant)
    return recall_from_hits(relevance(ranked, rel, k), k, int(np.unique(rel).size))


def capped_recall_at_k(ranked: Items, relevant: Items, k: int) -> float:
    """Liang et al.'s recall: (# relevant in the top `k`) / min(k, |relevant|); larger than plain recall."""
    rel = as_items(relevant)
    return capped_recall_from_hits(relevance(ranked, rel, k), k, int(np.unique(rel).size))


def hit_at_k(ranked: Items, relevant: Items, k: int) -> float:
    """1 if any relevant item is in the top `k`, else 0 (HR@k; with one target it equals recall@k)."""
    return hit_from_hits(relevance(ranked, relevant, k), k)


def coverage(recommended_item_sets: Iterable[Items], n_items: int) -> float:
    """Unique items over all recommendation lists / `n_items` (Personalize's `coverage`)."""
    if n_items <= 0:
        return 0.0
    arrays = [as_items(items) for items in recommended_item_sets]
    if not arrays:
        return 0.0
    return float(np.unique(np.concatenate(arrays)).size) / n_items


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def _discounts(n: int) -> npt.NDArray[np.float64]:
    if n <= _MAX_CACHED_K:
        return _DISCOUNTS[:n]
    return np.asarray(1.0 / np.log2(np.arange(2, n + 2, dtype=np.float64)))


def _ideal_dcg(n_hits: int) -> float:
    if n_hits <= _MAX_CACHED_K:
        return float(_IDEAL[n_hits])
    return float(_discounts(n_hits).sum())

"""Score a fitted model on a split: Personalize's metrics, the papers' full-ranking metrics, sampled metrics.

A user is scored with `model.score(history)`; the top of the list is taken with `top_k` (ties broken towards the
lower item index, so results are deterministic). Items scored -inf are never recommended.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from reelrank.evaluation import metrics
from reelrank.evaluation.splits import PersonalizeSplit, SequentialSplit
from reelrank.recipes.base import IntArray, Model

ScoreArray = npt.NDArray[np.floating[Any]]

PERSONALIZE_CUTOFFS = (5, 10)
"""Cut-offs of Personalize's NDCG and precision, besides the list length (25)."""


def top_k(scores: ScoreArray, k: int) -> IntArray:
    """The indices of the `k` highest scores, best first; ties go to the lower index; -inf and NaN are never listed."""
    if np.isnan(scores).any():
        scores = np.where(np.isnan(scores), -np.inf, scores)
    n = scores.shape[0]
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k < n:
        threshold = np.partition(scores, n - k)[n - k]
        above = np.flatnonzero(scores > threshold)
        tied = np.flatnonzero(scores == threshold)[: k - above.size]
        candidates = np.concatenate((above, tied))
    else:
        candidates = np.arange(n)
    candidates = candidates[scores[candidates] > -np.inf]
    # lexsort's last key is the primary one: score descending, then index ascending.
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order].astype(np.int64)


def recommend(model: Model, history: IntArray, k: int, exclude_seen: bool) -> IntArray:
    """The model's top `k` items for `history`, optionally without the items in `history`."""
    scores = model.score(history)
    if exclude_seen and history.size:
        scores = np.array(scores, copy=True)
        scores[history] = -np.inf
    return top_k(scores, k)


def evaluate_personalize(model: Model, split: PersonalizeSplit, k_max: int = 25,
                         exclude_seen: bool = False) -> dict[str, float]:
    """GetSolutionMetrics' keys (`metrics.PERSONALIZE_METRIC_KEYS` when `k_max` is 25, in that order).

    Each evaluated user gets a top-`k_max` list from their history; MRR is taken at `k_max`, NDCG and precision at
    5, 10 and `k_max`, all averaged over users. `coverage` = unique items in all top-`k_max` lists / unique items in
    the training data (capped at 1). No evaluated user gives 0 everywhere.
    """
    cutoffs = sorted({*(c for c in PERSONALIZE_CUTOFFS if c < k_max), k_max})
    mrr = 0.0
    ndcg = dict.fromkeys(cutoffs, 0.0)
    precision = dict.fromkeys(cutoffs, 0.0)
    lists: list[IntArray] = []
    for history, targets in zip(split.histories, split.targets, strict=True):
        ranked = recommend(model, history, k_max, exclude_seen)
        lists.append(ranked)
        n_relevant = int(np.unique(targets).size)
        hits = np.isin(ranked, targets)
        mrr += metrics.reciprocal_rank_from_hits(hits, k_max)
        for k in cutoffs:
            ndcg[k] += metrics.ndcg_from_hits(hits, k, n_relevant)
            precision[k] += metrics.precision_from_hits(hits, k)
    n_users = max(len(lists), 1)
    n_train_items = int(np.unique(split.train.items).size)
    result = {"coverage": min(1.0, metrics.coverage(lists, n_train_items)),
              f"mean_reciprocal_rank_at_{k_max}": mrr / n_users}
    result.update({f"normalized_discounted_cumulative_gain_at_{k}": ndcg[k] / n_users for k in cutoffs})
    result.update({f"precision_at_{k}": precision[k] / n_users for k in cutoffs})
    return result


def evaluate_full_ranking(model: Model, split: PersonalizeSplit | SequentialSplit, ks: Sequence[int] = (10, 20),
                          exclude_seen: bool = True) -> dict[str, float]:
    """The papers' full-ranking metrics (benchmarks.md §1) against all items, averaged over evaluated users.

    Per k: `ndcg@k` (binary relevance, log2), `recall@k` (plain: hits / |targets|), `hr@k` (any target in the top
    k), `mrr@k` and `precision@k`. With `exclude_seen` the user's history is removed from the ranking.
    """
    if not ks:
        raise ValueError("ks must not be empty")
    names = ("ndcg", "recall", "hr", "mrr", "precision")
    sums = {f"{name}@{k}": 0.0 for k in ks for name in names}
    k_max = max(ks)
    n_users = 0
    for history, targets in zip(split.histories, _target_lists(split), strict=True):
        ranked = recommend(model, history, k_max, exclude_seen)
        n_relevant = int(np.unique(targets).size)
        hits = np.isin(ranked, targets)
        for k in ks:
            sums[f"ndcg@{k}"] += metrics.ndcg_from_hits(hits, k, n_relevant)
            sums[f"recall@{k}"] += metrics.recall_from_hits(hits, k, n_relevant)
            sums[f"hr@{k}"] += metrics.hit_from_hits(hits, k)
            sums[f"mrr@{k}"] += metrics.reciprocal_rank_from_hits(hits, k)
            sums[f"precision@{k}"] += metrics.precision_from_hits(hits, k)
        n_users += 1
    return {key: total / max(n_users, 1) for key, total in sums.items()}


def evaluate_sampled(model: Model, split: PersonalizeSplit | SequentialSplit, negatives: npt.ArrayLike,
                     ks: Sequence[int] = (10,)) -> dict[str, float]:
    """Sampled metrics (NCF, SASRec): rank each user's target among that user's row of `negatives`.

    `negatives` has one row per evaluated user (see `splits.sampled_negatives`). The rank is pessimistic: a
    negative scored equal to the target ranks above it, so a constant model does not score well. With several
    targets (a Personalize split), the first is used. Returns `hr@k` and `ndcg@k` (1/log2(rank + 1)) per k.
    """
    if not ks:
        raise ValueError("ks must not be empty")
    negs = np.asarray(negatives, dtype=np.int64)
    if negs.ndim != 2 or negs.shape[0] != len(split.histories):
        raise ValueError(f"negatives must have one row per evaluated user ({len(split.histories)}), "
                         f"got shape {negs.shape}")
    ranks = np.empty(negs.shape[0], dtype=np.int64)
    for row, (history, targets) in enumerate(zip(split.histories, _target_lists(split), strict=True)):
        scores = model.score(history)
        target_score = scores[int(targets[0])]
        ranks[row] = int(np.count_nonzero(~(scores[negs[row]] < target_score)))  # 0 = top
    result: dict[str, float] = {}
    n_users = max(ranks.size, 1)
    gains = 1.0 / np.log2(ranks + 2.0)
    for k in ks:
        inside = ranks < k
        result[f"hr@{k}"] = float(np.count_nonzero(inside)) / n_users
        result[f"ndcg@{k}"] = float(gains[inside].sum()) / n_users
    return result


def _target_lists(split: PersonalizeSplit | SequentialSplit) -> Sequence[IntArray]:
    if isinstance(split, SequentialSplit):
        return [split.targets[i: i + 1] for i in range(split.targets.size)]
    return split.targets

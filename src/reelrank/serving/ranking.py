"""The runtime's ranking of scores (`_ranked` in service/runtime.py), vectorised over many users' rows.

Batch inference and the server's batches of GetRecommendations answer with it: the same float32 arithmetic row by
row as one request gets (numpy reduces each row of a 2-D array as it reduces a 1-D one), the same tie order, the same
rounding. tests/jobs/test_batch_scoring.py and tests/service/test_runtime_batches.py check it against the runtime.
"""

from __future__ import annotations

import numpy as np

from reelrank.serving.deployments import round7, top

Ranked = tuple[list[str], list[float] | None]
"""Item ids, best first, and their rounded scores (None for recipes without scores)."""


def rank_rows(scores: np.ndarray, hidden: list[np.ndarray], shared: np.ndarray | None, count: int,
              names: np.ndarray, scored: bool) -> list[Ranked | None]:
    """The best `count` items of each row of `scores` (users × items, which this may overwrite) without the
    `hidden` item indices of its row nor the items `shared` (a mask of allowed items, or None) leaves out: (item ids
    from `names`, an object array, and with `scored` Personalize's softmax scores rounded to 7 digits), or None where
    every item is hidden."""
    n_items = scores.shape[1]
    if shared is not None:
        scores[:, ~shared] = -np.inf
    for row, items in enumerate(hidden):
        if len(items):
            scores[row, items] = -np.inf
    masked = shared is not None or any(len(items) for items in hidden)
    finite = np.isfinite(scores) if masked else None
    available = finite.sum(axis=1) if finite is not None else np.full(len(scores), n_items)
    kept = min(count, n_items)
    candidates = np.argpartition(-scores, kept - 1, axis=1)[:, :kept]
    order = np.argsort(-np.take_along_axis(scores, candidates, axis=1), axis=1, kind="stable")
    best = np.take_along_axis(candidates, order, axis=1)
    ids: list[list[str]] = names[best].tolist()
    values: list[list[float]] | None = None
    if scored:
        shifted, total = softmax_rows(scores, finite)
        values = round7(np.take_along_axis(shifted, best, axis=1) / total).tolist()
    results: list[Ranked | None] = []
    for row in range(len(scores)):
        if available[row] == 0:
            results.append(None)
        elif available[row] < kept:  # fewer finite items than asked for: as the runtime's `top`
            picked = top(scores[row], count)
            results.append((names[picked].tolist(), None if not scored else
                            round7(shifted[row, picked] / total[row]).tolist()))
        else:
            results.append((ids[row], None if values is None else values[row]))
    return results


def softmax_rows(scores: np.ndarray, finite: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """`softmax(np.where(finite, scores, scores[finite].min()))` of serving/deployments.py for each row (`finite`
    None: every score is), as the numerators and the row totals: the probabilities wanted are numerator / total."""
    if finite is not None and not finite.all():
        low = np.where(finite, scores, np.inf).min(axis=1, keepdims=True)
        low[np.isinf(low)] = 0.0  # rows with every item hidden get no answer here; keep them finite
        scores = np.where(finite, scores, low)
    spread = scores.std(axis=1, keepdims=True)
    spread[spread == 0] = 1.0
    shifted = np.subtract(scores, scores.max(axis=1, keepdims=True))  # the same operations, in place
    np.divide(shifted, spread, out=shifted)
    np.exp(shifted, out=shifted)
    total = np.maximum(shifted.sum(axis=1, keepdims=True), np.float32(1e-12))
    return shifted, total

"""Train/test splits: Personalize's user holdout (personalize-api.md §5.1), leave-last-out (benchmarks.md A3/A6)
and NCF-style sampled negatives.

All splits work in the index space of the `Interactions` they are given (same `n_users`, `n_items`, item metadata),
are deterministic for a given seed, and keep each user's events in the input order (the contract sorts them by
user, then timestamp; an unsorted input is stably sorted first).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from reelrank.recipes.base import IntArray, Interactions

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class PersonalizeSplit:
    """Personalize's split: train on 90% of users; replay the oldest 90% of each other user, score the newest 10%."""

    train: Interactions
    """The interactions of the users not held out, in the original index space."""
    held_out: IntArray
    """Every held-out user (sorted), evaluated or not; none of them has an interaction in `train`."""
    users: IntArray
    """The held-out users that are evaluated (at least 2 interactions), sorted."""
    histories: list[IntArray]
    """Per evaluated user, the oldest events' items (oldest first): the input to `Model.score`."""
    targets: list[IntArray]
    """Per evaluated user, the newest events' items (oldest first): the relevant items."""


@dataclass(frozen=True)
class SequentialSplit:
    """Leave-last-out: per user, the input sequence and the single item that follows it."""

    train: Interactions
    users: IntArray
    """The evaluated users, sorted."""
    histories: list[IntArray]
    """Per evaluated user, the items before the target (oldest first)."""
    targets: IntArray
    """Per evaluated user, the held-out item."""


def personalize_split(data: Interactions, test_fraction: float = 0.1, seed: int = 0,
                      history_fraction: float = 0.9) -> PersonalizeSplit:
    """Hold out a random `test_fraction` of the users that have interactions (at least 1; at least 1 user is kept
    for training when there are 2 or more); train on everyone else's interactions.

    Each held-out user with n >= 2 interactions contributes round(n × (1 - history_fraction)) newest items as
    targets (at least 1, at most n - 1; halves round up) and the older ones as history. Held-out users with a
    single interaction are left out of the evaluation (and of training).
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if not 0.0 < history_fraction < 1.0:
        raise ValueError(f"history_fraction must be in (0, 1), got {history_fraction}")
    data = _sorted(data)
    bounds = _bounds(data)
    counts = np.diff(bounds)
    active = np.flatnonzero(counts > 0)
    if active.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return PersonalizeSplit(train=data, held_out=empty, users=empty, histories=[], targets=[])
    n_test = max(1, math.floor(test_fraction * active.size + 0.5))
    if active.size > 1:
        n_test = min(n_test, active.size - 1)
    rng = np.random.default_rng(seed)
    held_out = np.sort(rng.choice(active, size=n_test, replace=False)).astype(np.int64)

    is_held = np.zeros(data.n_users, dtype=np.bool_)
    is_held[held_out] = True
    train = _subset(data, ~is_held[data.users])

    users = held_out[counts[held_out] >= 2]
    n = counts[users]
    n_targets = np.clip(np.floor(n * (1.0 - history_fraction) + 0.5 + 1e-9).astype(np.int64), 1, n - 1)
    starts, cuts, ends = bounds[users], bounds[users + 1] - n_targets, bounds[users + 1]
    histories = [data.items[s:c] for s, c in zip(starts.tolist(), cuts.tolist(), strict=True)]
    targets = [data.items[c:e] for c, e in zip(cuts.tolist(), ends.tolist(), strict=True)]
    return PersonalizeSplit(train=train, held_out=held_out, users=users.astype(np.int64), histories=histories,
                            targets=targets)


def leave_last_out(data: Interactions, validation: bool = False) -> SequentialSplit:
    """Test split (default): every user's last item is the target, the items before it the history, and training
    holds every sequence minus its last item. Users with fewer than 2 interactions are not evaluated and keep
    all their interactions in training.

    `validation=True` (for tuning) drops the last item altogether and holds out the second-to-last the same way:
    training holds every sequence minus its last two items; users with fewer than 3 interactions are not
    evaluated and keep all theirs in training (as SASRec's preprocessing does).
    """
    data = _sorted(data)
    bounds = _bounds(data)
    counts = np.diff(bounds)
    held = 2 if validation else 1
    users = np.flatnonzero(counts >= held + 1).astype(np.int64)
    ends = bounds[users + 1]
    target_rows = ends - held
    drop = np.zeros(data.users.size, dtype=np.bool_)
    for offset in range(held):
        drop[ends - 1 - offset] = True
    train = _subset(data, ~drop)
    starts = bounds[users]
    histories = [data.items[s:t] for s, t in zip(starts.tolist(), target_rows.tolist(), strict=True)]
    return SequentialSplit(train=train, users=users, histories=histories,
                           targets=data.items[target_rows].astype(np.int64))


def sampled_negatives(n_items: int, positives_per_user: Sequence[npt.ArrayLike], n_negatives: int = 100,
                      seed: int = 0) -> IntArray:
    """For each user (row), `n_negatives` distinct items drawn uniformly from the items not in their positives.

    Pass every item the user ever interacted with (history and target), e.g. `[hist[u] for u in split.users]`
    with `hist = data.histories()`. NCF uses 99 negatives, SASRec 100. Returns shape (len(positives_per_user),
    n_negatives), rows aligned with the input.
    """
    if n_negatives < 0:
        raise ValueError(f"n_negatives must be >= 0, got {n_negatives}")
    rng = np.random.default_rng(seed)
    out = np.empty((len(positives_per_user), n_negatives), dtype=np.int64)
    blocked = np.zeros(n_items, dtype=np.bool_)  # the current user's positives, then also the negatives taken
    for row, positives in enumerate(positives_per_user):
        pos = np.asarray(positives, dtype=np.int64).reshape(-1)
        pos = pos[(pos >= 0) & (pos < n_items)]
        blocked[pos] = True
        n_free = n_items - int(np.count_nonzero(blocked))
        if n_free < n_negatives:
            raise ValueError(f"row {row}: only {n_free} items are not positives, {n_negatives} negatives asked")
        if 2 * n_free < n_items:
            # Dense users: sample from the complement directly.
            out[row] = rng.choice(np.flatnonzero(~blocked), size=n_negatives, replace=False)
        else:
            # Sparse users: rejection sampling, keeping the first occurrence of each accepted candidate.
            taken = 0
            while taken < n_negatives:
                draw = rng.integers(0, n_items, size=2 * (n_negatives - taken) + 8)
                draw = draw[~blocked[draw]]
                _, first = np.unique(draw, return_index=True)
                fresh = draw[np.sort(first)][: n_negatives - taken]
                out[row, taken: taken + fresh.size] = fresh
                blocked[fresh] = True
                taken += fresh.size
            blocked[out[row]] = False
        blocked[pos] = False
    return out


def _sorted(data: Interactions) -> Interactions:
    """`data` sorted by (user, timestamp), stably; returned as is when it already is (the usual case)."""
    users, stamps = data.users, data.timestamps
    if users.size < 2:
        return data
    same_user = users[1:] == users[:-1]
    if bool(np.all((users[1:] > users[:-1]) | (same_user & (stamps[1:] >= stamps[:-1])))):
        return data
    order = np.lexsort((stamps, users))
    return _subset(data, order)


def _bounds(data: Interactions) -> IntArray:
    """Row offsets: user u's events are rows bounds[u]:bounds[u + 1]."""
    return np.searchsorted(data.users, np.arange(data.n_users + 1)).astype(np.int64)


def _subset(data: Interactions, rows: BoolArray | IntArray) -> Interactions:
    return replace(data, users=data.users[rows], items=data.items[rows], timestamps=data.timestamps[rows],
                   weights=data.weights[rows])

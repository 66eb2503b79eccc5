"""EASE (Steck, WWW 2019) on recency-weighted histories: serves User-Personalization(-v2), Personalized-Ranking(-v2).

EASE learns a dense item × item matrix in closed form,

    P = (XᵀX + λI)⁻¹,    B = I − P · diag(1 / diag(P))    (so diag(B) = 0),

solved by Cholesky (LAPACK ?potrf + ?potri) with at most 2 BLAS threads. A user's scores are x · B, where x is the
user's history as a vector over items.

Sequence order matters for next-item prediction, so with `apply_recency_bias` = "true" both the training rows and the
scoring vector weigh each event by its recency *within the user's own sequence*: the event k places before the
user's newest one weighs 0.5 ** (k / half-life). Training uses a long half-life (`training_half_life`, default 30
events: the Gram matrix still sees whole histories but leans towards recent co-occurrences), scoring a short one
(`recency_half_life`, default 3 events: the next item is predicted mostly from the last few). A repeated item keeps
its most recent (largest) weight; events whose weight is ≤ 0 are dropped; training weights are multiplied by the event
weights. When scoring, ages count from the newest event of an item the model knows, and events more than 8
half-lives older (relative weight < 2⁻⁸; all of them together under 0.4 % of the vector's weight) are ignored:
`score` reads one row of the n × n matrix from memory per remaining event, so this halves its cost against 16
half-lives with no measurable loss (ML-1M leave-last-out NDCG@10 / HR@10 0.1663 / 0.2803 against 0.1664 / 0.2806).
With "false" the model is plain EASE on binary histories.

Item transitions (SLIT of SLIST, Choi et al., WWW 2021): EASE's Gram matrix is symmetric, so it cannot tell "A is
followed by B" from "B is followed by A". With `transition_weight` α > 0 the fit also solves, in closed form,

    B_T = (PᵀP + λ_T·I)⁻¹ PᵀN,

over one row per event that has an earlier one in its user's sequence: N holds the event's item (with its event
weight), P the `transition_window` events before it, the one d places back weighing 0.5 ** ((d − 1) /
`transition_half_life`) times its event weight (λ_T = `transition_l2`). The served matrix is

    (1 − α) · B + α · (‖B‖ / ‖B_T‖) · B_T        (Frobenius norms, so α does not depend on the data's scale),

scored with the same recency-weighted history vector as above, so `score` costs what it did. α = 1 serves B_T alone
(EASE is then not fitted; without any transition pair the model falls back to EASE); α = 0 is the model without
transitions.

Leave-last-out on MovieLens-1M (6,040 users, 3,416 items, full ranking, seen items excluded, NDCG@10 / HR@10): plain
EASE (λ = 500) 0.055 / 0.111; recency-weighted scoring only (half-life 3, λ = 1000) 0.129 / 0.228; with training
weights too (training half-life 30, scoring half-life 3, λ = 100, no transitions) 0.135 / 0.238; with transitions
(the defaults: α = 0.8, window 20, transition half-life 5, λ_T = 300, chosen on the leave-second-to-last validation
split, where they score 0.172 / 0.297 against 0.134 / 0.243 without transitions) 0.166 / 0.281. The fit takes about
20 s there on 2 cores (EASE alone: about 5–10 s), peaking under 1 GB. On the small planted data of the tests (a
strict first-order walk, 340 users) a shorter scoring half-life (1) and a smaller λ (10) do better for EASE without
transitions (HR@1 0.98 against 0.66); λ is absolute, so it wants tuning (HPO) per data set.

Memory: the fit holds one dense n × n matrix (float64 up to 8,000 items, float32 above; the Gram matrix is built in
row blocks, factorised and inverted in place), plus a float32 copy in the float64 case; with transitions one more
(B_T, solved in place over PᵀN) while B is computed, and the sparse P (at most `transition_window` entries a row).
More than 30,000 items are refused (30k² float32 is 3.6 GB, two of them with transitions; the fit takes minutes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.linalg import get_lapack_funcs
from threadpoolctl import threadpool_limits

try:  # scipy's own sparse × dense kernel; `score` falls back to `csr_matrix @ ndarray`, which calls it too
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover - a scipy that moved it
    _csr_matvecs = None

from reelrank.recipes.base import FloatArray, IntArray, Interactions, Model, Progress
from reelrank.recipes.item_knn import (
    categorical_range,
    continuous_range,
    declare_ranges,
    integer_range,
    validate_hyperparameters,
)

MAX_ITEMS = 30_000
"""EASE keeps a dense n × n matrix; above this many items fitting is refused."""
FLOAT64_MAX_ITEMS = 8_000
"""Up to this many items the Gram matrix is factorised in float64 (cheap and exact); above it in float32."""
BLAS_THREADS = 2
SCORING_CUTOFF_HALF_LIVES = 8.0
"""Events older than this many half-lives (weight < 2⁻⁸) are ignored when scoring."""
SYMMETRISE_BLOCK = 1024
GRAM_BLOCK_CELLS = 1 << 24
"""Cells of XᵀX computed per sparse product while building the dense Gram matrix."""


def training_matrix(data: Interactions, half_life: float | None) -> sp.csr_matrix:
    """Users × items: each (user, item) gets the largest weight of its events; binary when `half_life` is None."""
    bounds = np.searchsorted(data.users, np.arange(data.n_users + 1))
    lengths = np.diff(bounds)
    position = np.arange(len(data.users)) - bounds[data.users]
    if half_life is None:
        weights = (data.weights > 0).astype(np.float64)
    else:
        age = (lengths[data.users] - 1 - position).astype(np.float64)
        weights = np.exp2(-age / half_life) * np.asarray(data.weights, dtype=np.float64)
    keep = weights > 0
    users, items, weights = data.users[keep], data.items[keep], weights[keep]
    key = users * np.int64(data.n_items) + items
    order = np.lexsort((weights, key))
    last = np.ones(len(order), dtype=bool)
    last[:-1] = key[order][1:] != key[order][:-1]
    chosen = order[last]
    return sp.csr_matrix((weights[chosen], (users[chosen], items[chosen])), shape=(data.n_users, data.n_items),
                         dtype=np.float64)


def gram_matrix(matrix: sp.csr_matrix, dtype: type[np.floating[Any]],
                right: sp.csr_matrix | None = None) -> npt.NDArray[np.floating[Any]]:
    """XᵀX (or XᵀY with `right` = Y) as a dense array, built in row blocks so the sparse intermediate stays small."""
    other = matrix if right is None else right
    n, m = matrix.shape[1], other.shape[1]
    gram: npt.NDArray[np.floating[Any]] = np.empty((n, m), dtype=dtype)
    item_users = matrix.T.tocsr()
    step = max(1, GRAM_BLOCK_CELLS // max(1, m))
    for start in range(0, n, step):
        stop = min(n, start + step)
        gram[start:stop] = (item_users[start:stop] @ other).toarray()
    return gram


def transition_rows(data: Interactions, window: int, half_life: float) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The (past → next) pairs of SLIT: one row per event with weight > 0 and an earlier such event of its user.

    `past` holds the user's previous `window` events, the one d places before weighing 0.5 ** ((d − 1) / half-life)
    times its event weight (an item repeated in the window sums its weights); `next` holds the event's own item with
    its event weight.
    """
    keep = np.asarray(data.weights, dtype=np.float64) > 0
    users, items = data.users[keep], data.items[keep]
    event_weights = np.asarray(data.weights, dtype=np.float64)[keep]
    bounds = np.searchsorted(users, np.arange(data.n_users + 1))
    position = np.arange(len(users)) - bounds[users]
    rows = np.flatnonzero(position > 0)
    counts = np.minimum(position[rows], window)
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    values = np.empty(int(indptr[-1]), dtype=np.float64)
    for lag in range(1, min(window, int(counts.max(initial=0))) + 1):
        has = np.flatnonzero(counts >= lag)
        slots, sources = indptr[has] + lag - 1, rows[has] - lag
        indices[slots] = items[sources]
        values[slots] = np.exp2(-(lag - 1) / half_life) * event_weights[sources]
    past = sp.csr_matrix((values, indices, indptr), shape=(len(rows), data.n_items))
    following = sp.csr_matrix((event_weights[rows], items[rows].astype(np.int32),
                               np.arange(len(rows) + 1, dtype=np.int64)), shape=(len(rows), data.n_items))
    return past, following


def transition_weights(past: sp.csr_matrix, following: sp.csr_matrix, l2: float,
                       dtype: type[np.floating[Any]]) -> npt.NDArray[np.floating[Any]]:
    """SLIT's B_T = (PᵀP + λI)⁻¹ PᵀN by Cholesky (?potrf + ?potrs), solved in place: two dense n × n arrays."""
    gram = gram_matrix(past, dtype)
    gram[np.diag_indices(gram.shape[0])] += l2
    # NᵀP in C order is PᵀN in Fortran order, which LAPACK overwrites with the solution without a copy.
    target = gram_matrix(following, dtype, right=past).T
    potrf, potrs = get_lapack_funcs(("potrf", "potrs"), (gram,))
    factor, info = potrf(gram.T, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise ValueError(f"EASE: the regularised transition Gram matrix is not positive definite (LAPACK potrf "
                         f"info={info}); raise transition_l2")
    solution, info = potrs(factor, target, lower=False, overwrite_b=True)
    if info != 0:
        raise ValueError(f"EASE: the transition system could not be solved (LAPACK potrs info={info})")
    result: npt.NDArray[np.floating[Any]] = solution
    return result


def symmetrise_upper(matrix: npt.NDArray[np.floating[Any]]) -> None:
    """Copy the upper triangle onto the lower one, in place and in blocks (no n × n temporaries)."""
    n = matrix.shape[0]
    for start in range(0, n, SYMMETRISE_BLOCK):
        stop = min(n, start + SYMMETRISE_BLOCK)
        matrix[start:stop, :start] = matrix[:start, start:stop].T
        diagonal = matrix[start:stop, start:stop]
        diagonal[:] = np.triu(diagonal) + np.triu(diagonal, 1).T


def ease_weights(gram: npt.NDArray[np.floating[Any]], l2: float) -> FloatArray:
    """B = I − P · diag(1 / diag(P)) with P = (gram + l2·I)⁻¹, by Cholesky; overwrites `gram`."""
    n = gram.shape[0]
    gram[np.diag_indices(n)] += l2
    potrf, potri = get_lapack_funcs(("potrf", "potri"), (gram,))
    # gram is symmetric: its transpose is the same matrix in Fortran order, which LAPACK overwrites without a copy.
    factor, info = potrf(gram.T, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise ValueError(f"EASE: the regularised Gram matrix is not positive definite (LAPACK potrf info={info}); "
                         "raise l2_regularization")
    inverse, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise ValueError(f"EASE: the Gram matrix could not be inverted (LAPACK potri info={info})")
    symmetrise_upper(inverse)
    if not inverse.flags.c_contiguous:
        inverse = inverse.T  # LAPACK returns Fortran order; P is symmetric, so its transpose is P in C order
    diagonal = np.diag(inverse).copy()
    inverse /= -diagonal[None, :]
    inverse[np.diag_indices(n)] = 0.0
    weights: FloatArray = inverse.astype(np.float32, copy=False)
    return weights


def combine(weights: FloatArray, transitions: npt.NDArray[np.floating[Any]], alpha: float) -> None:
    """weights ← (1 − α) · weights + α · (‖weights‖ / ‖transitions‖) · transitions, in place and in row blocks."""
    transitions_norm = float(np.linalg.norm(transitions))
    if transitions_norm == 0.0:
        return
    weights_norm = float(np.linalg.norm(weights))
    scale = alpha * (weights_norm if weights_norm > 0 else 1.0) / transitions_norm
    for start in range(0, weights.shape[0], SYMMETRISE_BLOCK):
        stop = min(weights.shape[0], start + SYMMETRISE_BLOCK)
        block = weights[start:stop]
        block *= 1.0 - alpha
        block += (scale * transitions[start:stop]).astype(np.float32)


class RecencyEASE(Model):
    """EASE whose training rows and scoring vectors weigh each user's recent events more."""

    algorithm: ClassVar[str] = "ease"
    defaults: ClassVar[Mapping[str, str]] = {
        "l2_regularization": "100",
        "recency_half_life": "3",
        "training_half_life": "30",
        "apply_recency_bias": "true",
        "transition_weight": "0.8",
        "transition_l2": "300",
        "transition_window": "20",
        "transition_half_life": "5",
    }
    ranges: ClassVar[Mapping[str, list[dict[str, Any]]]] = declare_ranges(
        continuous_range("l2_regularization", 1.0, 100000.0, True, logarithmic=True),
        continuous_range("recency_half_life", 0.5, 1000.0, True, logarithmic=True),
        continuous_range("training_half_life", 0.5, 100000.0, True, logarithmic=True),
        categorical_range("apply_recency_bias", ["true", "false"], False),
        continuous_range("transition_weight", 0.0, 1.0, True),
        continuous_range("transition_l2", 1.0, 100000.0, True, logarithmic=True),
        integer_range("transition_window", 1, 50, True),
        continuous_range("transition_half_life", 0.5, 1000.0, True, logarithmic=True),
    )

    def __init__(self, hyperparameters: Mapping[str, str] | None = None) -> None:
        super().__init__(hyperparameters)
        validate_hyperparameters(self.hyperparameters, self.ranges)
        self.weights: FloatArray = np.zeros((0, 0), dtype=np.float32)
        self._recency_table: tuple[float, FloatArray] | None = None

    @property
    def n_items(self) -> int:
        return int(self.weights.shape[0])

    def fit(self, data: Interactions, progress: Progress | None = None) -> None:
        if data.n_items > MAX_ITEMS:
            raise ValueError(f"EASE keeps a dense items × items matrix and supports at most {MAX_ITEMS:,} items; "
                             f"this dataset has {data.n_items:,}. Use a factorisation or item-kNN recipe instead.")
        dtype = np.float64 if data.n_items <= FLOAT64_MAX_ITEMS else np.float32
        alpha = self.param_float("transition_weight")
        transitions: npt.NDArray[np.floating[Any]] | None = None
        with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
            if alpha > 0:
                past, following = transition_rows(data, self.param_int("transition_window"),
                                                  self.param_float("transition_half_life"))
                if past.nnz:
                    transitions = transition_weights(past, following, self.param_float("transition_l2"), dtype)
                del past, following
                if progress is not None:
                    progress(0.4)
            if transitions is not None and alpha >= 1.0:
                self.weights = np.ascontiguousarray(transitions, dtype=np.float32)
            else:
                recency = self.param_bool("apply_recency_bias")
                matrix = training_matrix(data, self.param_float("training_half_life") if recency else None)
                if progress is not None:
                    progress(0.5)
                gram = gram_matrix(matrix, dtype)
                del matrix
                if progress is not None:
                    progress(0.6)
                self.weights = ease_weights(gram, self.param_float("l2_regularization"))
                del gram
                if transitions is not None:
                    combine(self.weights, transitions, alpha)
        if progress is not None:
            progress(1.0)

    def score(self, history: IntArray, item: int | None = None) -> FloatArray:
        return self.score_prepared(self.prepare(history), item)

    def prepare(self, history: IntArray) -> tuple[IntArray, FloatArray]:
        return self._history_vector(np.asarray(history, dtype=np.int64))

    def score_prepared(self, prepared: tuple[IntArray, FloatArray], item: int | None = None) -> FloatArray:
        items, vector = prepared
        scores: FloatArray = np.zeros(self.n_items, dtype=np.float32)
        if _csr_matvecs is not None:  # the routine behind `csr_matrix @ ndarray`, without building a matrix
            _csr_matvecs(1, self.n_items, self.n_items, np.array([0, len(items)], dtype=np.int64), items, vector,
                         self.weights.ravel(), scores)
        elif len(items):
            matrix = sp.csr_matrix((vector, items, np.array([0, len(items)])), shape=(1, self.n_items))
            scores = np.asarray(matrix @ self.weights, dtype=np.float32)[0]
        return scores

    def score_prepared_many(self, prepared: Sequence[tuple[IntArray, FloatArray]]) -> FloatArray:
        """x · B for each prepared vector in one call of the kernel `score_prepared` calls: it adds each row's
        weighted rows of B in ascending item order, whatever the other rows, so row i equals `score_prepared` bit for
        bit."""
        count = len(prepared)
        if count == 0 or _csr_matvecs is None:
            return super().score_prepared_many(prepared)
        indptr = np.zeros(count + 1, dtype=np.int64)
        np.cumsum([len(items) for items, _ in prepared], out=indptr[1:])
        items = np.concatenate([items for items, _ in prepared])
        vectors = np.concatenate([vector for _, vector in prepared])
        scores: FloatArray = np.zeros((count, self.n_items), dtype=np.float32)
        _csr_matvecs(count, self.n_items, self.n_items, indptr, items, vectors, self.weights.ravel(), scores.ravel())
        return scores

    def _history_vector(self, history: IntArray) -> tuple[IntArray, FloatArray]:
        """One row of `history_vectors` (its items and weights), the same values computed more cheaply."""
        age = np.arange(len(history) - 1, -1, -1, dtype=np.int64)
        known = (history >= 0) & (history < self.n_items)
        if not known.all():
            history, age = history[known], age[known]
        if len(history) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self.param_bool("apply_recency_bias"):
            table = self._recency_weights()
            age = age - age[-1]
            recent = age < len(table)
            history, weights = history[recent], table[age[recent]]
        else:
            weights = np.ones(len(history), dtype=np.float32)
        # A repeated item keeps its largest weight, which is its newest event's (weights never fall along the
        # history): a stable sort by item puts that one last among its repeats.
        order = np.argsort(history, kind="stable")
        history, weights = history[order], weights[order]
        last = np.empty(len(history), dtype=bool)
        last[-1] = True
        np.not_equal(history[1:], history[:-1], out=last[:-1])
        return history[last], weights[last]

    def score_many(self, histories: Sequence[IntArray]) -> FloatArray:
        """x · B for each history, as one sparse × dense product. scipy adds each history item's weighted row of B
        in ascending item order (a float32 multiply, then an add), so a row does not depend on the other rows of the
        block and equals `score` bit for bit. Many rows go column by column (CSC), which reads each row of B once per
        block instead of once per user."""
        vectors = self.history_vectors(histories)
        product = (vectors if vectors.shape[0] == 1 else vectors.tocsc()) @ self.weights
        scores: FloatArray = np.asarray(product, dtype=np.float32)
        return scores

    def history_vectors(self, histories: Sequence[IntArray]) -> sp.csr_matrix:
        """The scoring vectors x, one row per history: with recency bias an event's weight is 0.5 ** (age /
        `recency_half_life`), its age counted in the user's events after it, from the newest event of an item the
        model knows, and events past the cut-off are dropped; a repeated item keeps its largest weight."""
        n, count = self.n_items, len(histories)
        lengths = np.fromiter((len(history) for history in histories), dtype=np.int64, count=count)
        flat = (np.concatenate([np.asarray(history, dtype=np.int64) for history in histories]) if count
                else np.zeros(0, dtype=np.int64))
        rows = np.repeat(np.arange(count, dtype=np.int64), lengths)
        starts = np.cumsum(lengths) - lengths
        age = lengths[rows] - 1 - (np.arange(len(flat), dtype=np.int64) - starts[rows])
        known = (flat >= 0) & (flat < n)
        flat, rows, age = flat[known], rows[known], age[known]
        if self.param_bool("apply_recency_bias"):
            newest = np.zeros(count, dtype=np.int64)
            last = np.ones(len(rows), dtype=bool)
            last[:-1] = rows[1:] != rows[:-1]
            newest[rows[last]] = age[last]
            age -= newest[rows]
            table = self._recency_weights()
            recent = age < len(table)
            flat, rows, weights = flat[recent], rows[recent], table[age[recent]]
        else:
            weights = np.ones(len(flat), dtype=np.float32)
        key = rows * np.int64(max(n, 1)) + flat
        order = np.lexsort((weights, key))
        key, weights = key[order], weights[order]
        largest = np.ones(len(key), dtype=bool)
        largest[:-1] = key[1:] != key[:-1]
        key, weights = key[largest], weights[largest]
        indptr = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(np.bincount(key // max(n, 1), minlength=count), out=indptr[1:])
        return sp.csr_matrix((weights, key % max(n, 1), indptr), shape=(count, n), dtype=np.float32)

    def _recency_weights(self) -> FloatArray:
        """0.5 ** (age / half-life) for every whole age below the cut-off (a table, so every path that scores gets
        the very same float32 weights)."""
        half_life = self.param_float("recency_half_life")
        cached = self._recency_table
        if cached is None or cached[0] != half_life:
            ages = np.arange(int(np.ceil(SCORING_CUTOFF_HALF_LIVES * half_life)), dtype=np.float64)
            cached = (half_life, np.exp2(-ages / half_life).astype(np.float32))
            self._recency_table = cached
        return cached[1]

    def arrays(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights}

    @classmethod
    def from_arrays(cls, hyperparameters: Mapping[str, str], arrays: Mapping[str, np.ndarray]) -> RecencyEASE:
        model = cls(hyperparameters)
        model.weights = np.ascontiguousarray(arrays["weights"], dtype=np.float32)
        return model

"""Models deployed behind campaigns: loaded once from their artifact, scored against live histories."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from reelrank import heap
from reelrank.recipes import artifacts
from reelrank.recipes.base import Model
from reelrank.recipes.contextual import ContextLift
from reelrank.recipes.registry import RecipeSpec, model_classes, spec_for
from reelrank.serving.histories import IndexedHistory

_SOFTMAX_FLOOR = 1e-12
_CONTEXT_ORDERS = 64
"""Popularity orders of this many distinct contexts kept per model."""


@dataclass(frozen=True)
class Deployment:
    """One solution version ready to answer: its model, item index and recipe."""

    folder: str
    model: Model
    item_ids: np.ndarray
    index: dict[str, int]
    spec: RecipeSpec
    popular: np.ndarray
    """Item indices by descending popularity in the training data: the fallback for users without evidence."""
    popularity: np.ndarray | None = None
    """Distinct users per item in the training data (the order of `popular`)."""
    context: ContextLift | None = None
    """The items' lifts in the values of the training events' contextual metadata, when they had any."""
    _popular_in: dict[tuple[tuple[str, str], ...], np.ndarray] = field(default_factory=dict, compare=False)

    @cached_property
    def names(self) -> list[str]:
        """`item_ids` as Python strings, for answers."""
        return [str(item) for item in self.item_ids.tolist()]

    @cached_property
    def name_array(self) -> np.ndarray:
        """`names` as an object array, to pick many answers' ids at once."""
        return np.array(self.names, dtype=object)

    def indices(self, item_ids: list[str]) -> np.ndarray:
        """The model's indices of the items it knows, in order."""
        if len(item_ids) > 1:
            try:  # every item known: one C-level lookup of them all
                return np.fromiter(itemgetter(*item_ids)(self.index), dtype=np.int64, count=len(item_ids))
            except KeyError:
                pass
        known = [self.index[item] for item in item_ids if item in self.index]
        return np.asarray(known, dtype=np.int64)

    def mask(self, item_ids: list[str]) -> np.ndarray:
        """A boolean mask over the model's items, set for those of `item_ids` it knows."""
        mask = np.zeros(len(self.item_ids), dtype=bool)
        mask[self.indices(item_ids)] = True
        return mask

    def scores(self, history: IndexedHistory, item_id: str | None) -> np.ndarray | None:
        """Model scores for a user's history in this model's indices, or None when the model has no evidence for
        this request (unknown user or item)."""
        anchor = self.index.get(item_id) if item_id is not None else None
        if self.spec.use == "related" and anchor is None:
            return None
        scores = self.model.score_prepared(self.prepared(history), anchor)
        return scores if scores.any() else None

    def scores_many(self, histories: list[IndexedHistory]) -> np.ndarray:
        """`scores` of many users (no anchor item), one row each, in one call of the model; a row of zeros is a user
        without evidence (for whom `scores` answers None)."""
        scores: np.ndarray = self.model.score_prepared_many([self.prepared(history) for history in histories])
        return scores

    def in_context(self, scores: np.ndarray, context: Mapping[str, str] | None) -> np.ndarray:
        """`scores` with each item's probability (Personalize's softmax of them) multiplied by about its lift in the
        request's `context` (reelrank.recipes.contextual); unchanged without a context the model knows."""
        lift = self._lift(context)
        if lift is None:
            return scores
        adjusted: np.ndarray = scores + _std(scores) * lift
        return adjusted

    def popular_in(self, context: Mapping[str, str] | None) -> np.ndarray:
        """`popular`, with each item's popularity multiplied by its lift in `context`."""
        lift = self._lift(context)
        if lift is None or self.popularity is None:
            return self.popular
        signature = tuple(sorted(context.items())) if context else ()
        order = self._popular_in.get(signature)
        if order is None:
            if len(self._popular_in) >= _CONTEXT_ORDERS:
                self._popular_in.pop(next(iter(self._popular_in)))
            order = self._popular_in[signature] = np.argsort(-(np.log1p(self.popularity) + lift), kind="stable")
        return order

    def _lift(self, context: Mapping[str, str] | None) -> np.ndarray | None:
        return self.context.log_lift(context) if context and self.context is not None else None

    def prepared(self, history: IndexedHistory) -> Any:
        """The model's `prepare` of a history, kept with the history until it grows."""
        prepared = history.prepared.get(self.folder)
        if prepared is None:
            prepared = history.prepared[self.folder] = self.model.prepare(history.items)
        return prepared


def softmax(scores: np.ndarray) -> np.ndarray:
    """Personalize's scores: a softmax over the candidates, summing to 1."""
    return softmax_at(scores, slice(None))


def softmax_at(scores: np.ndarray, positions: list[int] | slice) -> np.ndarray:
    """`softmax(scores)[positions]`, dividing only the wanted numerators by the total."""
    spread = float(_std(scores)) or 1.0
    shifted = scores - scores.max()
    np.divide(shifted, spread, out=shifted)  # the steps of np.exp((scores - max) / spread), in one buffer
    np.exp(shifted, out=shifted)
    result: np.ndarray = shifted[positions] / max(float(shifted.sum()), _SOFTMAX_FLOOR)
    return result


def round7(values: np.ndarray) -> np.ndarray:
    """`round(float(value), 7)` of each float32 value, vectorised: a float32 times 10⁷ is exact in float64 (24 + 17
    significant bits), so rint gives the same half-even rounding of the exact value as Python's round, and the
    division by 10⁷ is the same correctly rounded operation."""
    rounded: np.ndarray = np.rint(np.asarray(values, dtype=np.float32).astype(np.float64) * 1e7) / 1e7
    return rounded


def _std(values: np.ndarray) -> np.floating:
    """`values.std()` of a 1-D float32 array, bit for bit (numpy's own steps: a float32 sum divided by the count in
    float64, the float32 squared deviations summed the same way), without numpy's generic reduction overhead."""
    count = np.intp(values.size)
    deviations = values - values.dtype.type(np.add.reduce(values) / count)
    np.multiply(deviations, deviations, out=deviations)
    return np.sqrt(values.dtype.type(np.add.reduce(deviations) / count))  # type: ignore[no-any-return]


def top(scores: np.ndarray, count: int, finite: int | None = None) -> list[int]:
    """Indices of the best `count` finite scores, best first; ties in argpartition's order (batch inference relies on
    this exact order to answer as the runtime does). `finite`: how many scores are finite, when already counted."""
    count = min(count, int(np.isfinite(scores).sum()) if finite is None else finite)
    if count <= 0:
        return []
    candidates = np.argpartition(-scores, count - 1)[:count]
    return candidates[np.argsort(-scores[candidates], kind="stable")].tolist()  # type: ignore[no-any-return]


class Deployments:
    def __init__(self) -> None:
        self._loaded: dict[str, Deployment] = {}
        self._lock = threading.Lock()

    def get(self, recipe_arn: str, folder: str) -> Deployment:
        """The model in artifact `folder` (each trained model has a folder of its own), loaded once."""
        deployment = self._loaded.get(folder)
        if deployment is not None:
            return deployment
        with self._lock:
            if folder not in self._loaded:
                self._loaded[folder] = _load(recipe_arn, Path(folder))
            return self._loaded[folder]


def _load(recipe_arn: str, folder: Path) -> Deployment:
    artifact = artifacts.load(folder, model_classes())
    spec = spec_for(recipe_arn)
    assert spec is not None
    item_ids = artifact.item_ids
    popular = np.argsort(-artifact.popularity, kind="stable")
    index = {item: i for i, item in enumerate(item_ids.tolist())}
    deployment = Deployment(str(folder), artifact.model, item_ids, index, spec, popular, artifact.popularity,
                            artifact.context)
    heap.loaded()
    return deployment

"""Next-Best-Action: the actions a user is most likely to take, from action interactions.

Each action's propensity is its smoothed TAKEN rate, (taken + 1) / (taken + not taken + viewed + 2); a user's own
history of TAKEN actions adds co-occurrence evidence (actions taken by the same users). As in Personalize, the score
reported for an action stays 0.0 until it has at least 50 TAKEN and 50 NOT_TAKEN/VIEWED interactions.

Event types arrive as weights (see `reelrank.recipes.data.ACTION_WEIGHTS`): positive = TAKEN, otherwise shown but
not taken.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from reelrank.recipes.base import FloatArray, IntArray, Interactions, Model, Progress

MIN_EVIDENCE = 50


class ActionPropensity(Model):
    algorithm = "action-propensity"
    defaults: ClassVar[Mapping[str, str]] = {"personal_weight": "0.5"}
    ranges: ClassVar[Mapping[str, list[dict[str, Any]]]] = {
        "continuousHyperParameterRanges": [
            {"name": "personal_weight", "minValue": 0.0, "maxValue": 1.0, "isTunable": True}],
        "integerHyperParameterRanges": [], "categoricalHyperParameterRanges": []}

    def fit(self, data: Interactions, progress: Progress | None = None) -> None:
        taken = data.weights > 0
        self.taken = np.bincount(data.items[taken], minlength=data.n_items).astype(np.float32)
        self.declined = np.bincount(data.items[~taken], minlength=data.n_items).astype(np.float32)
        matrix = sp.csr_matrix((np.ones(int(taken.sum()), dtype=np.float32), (data.users[taken], data.items[taken])),
                               shape=(data.n_users, data.n_items))
        matrix.data[:] = 1.0
        co = (matrix.T @ matrix).tocsr().astype(np.float32)
        co.setdiag(0)
        co.eliminate_zeros()
        norms = np.sqrt(np.maximum(self.taken, 1.0))
        self.similarity = sp.csr_matrix(sp.diags(1.0 / norms) @ co @ sp.diags(1.0 / norms), dtype=np.float32)
        if progress:
            progress(1.0)

    @property
    def propensity(self) -> FloatArray:
        rate: FloatArray = (self.taken + 1.0) / (self.taken + self.declined + 2.0)
        return rate

    def reported(self) -> FloatArray:
        """Scores as Personalize reports them: the propensity, or 0.0 without enough evidence."""
        enough = (self.taken >= MIN_EVIDENCE) & (self.declined >= MIN_EVIDENCE)
        reported: FloatArray = np.where(enough, self.propensity, 0.0).astype(np.float32)
        return reported

    def score(self, history: IntArray, item: int | None = None) -> FloatArray:
        scores = self.propensity.copy()
        if len(history):
            personal = np.asarray(self.similarity[history].sum(axis=0)).ravel()
            if personal.max() > 0:
                scores = scores * (1.0 + self.param_float("personal_weight") * personal / personal.max())
        return scores.astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"taken": self.taken, "declined": self.declined, "data": self.similarity.data,
                "indices": self.similarity.indices, "indptr": self.similarity.indptr}

    @classmethod
    def from_arrays(cls, hyperparameters: Mapping[str, str], arrays: Mapping[str, np.ndarray]) -> Model:
        model = cls(hyperparameters)
        model.taken, model.declined = arrays["taken"], arrays["declined"]
        size = len(model.taken)
        model.similarity = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=(size, size))
        return model

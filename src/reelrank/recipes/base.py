"""The contract every algorithm implements.

Data arrives in index space (`Interactions`): user and item indices, timestamps and event weights, plus optional
item metadata. A fitted model scores a *history* (the user's item indices, oldest first), so it can serve users
with events that arrived after training, without retraining. Related-item models score from an anchor item.

Models save to plain numpy arrays (`arrays()`) and load from them (`from_arrays()`); `reelrank.recipes.artifacts`
writes those as `.npz` without pickle, next to a JSON manifest with a checksum.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
Progress = Callable[[float], None]
"""Called with the fraction of training done, 0.0 to 1.0."""


@dataclass(frozen=True)
class Interactions:
    """Training events in index space, sorted by (user, timestamp)."""

    users: IntArray
    items: IntArray
    timestamps: IntArray
    weights: FloatArray
    n_users: int
    n_items: int
    item_features: sp.csr_matrix | None = None
    """Optional item metadata, one row per item: categorical tokens and textual terms (binary or tf-idf)."""
    item_created: IntArray | None = None
    """Optional CREATION_TIMESTAMP per item (epoch seconds; 0 when unknown)."""

    def histories(self) -> list[IntArray]:
        """Each user's items, oldest first."""
        bounds = np.searchsorted(self.users, np.arange(self.n_users + 1))
        return [self.items[bounds[u]: bounds[u + 1]] for u in range(self.n_users)]

    def matrix(self) -> sp.csr_matrix:
        """Users × items, summed event weights."""
        return sp.csr_matrix((self.weights, (self.users, self.items)), shape=(self.n_users, self.n_items),
                             dtype=np.float32)


class Model(ABC):
    """A recommendation algorithm. Subclasses declare `algorithm` and their hyperparameters' defaults."""

    algorithm: ClassVar[str]
    defaults: ClassVar[Mapping[str, str]] = {}
    """Every hyperparameter the model reads, as Personalize passes them: strings."""
    ranges: ClassVar[Mapping[str, list[dict[str, Any]]]] = {}
    """Allowed values, in the shape of Personalize's DefaultHyperParameterRanges:
    {"integerHyperParameterRanges": [{"name", "minValue", "maxValue", "isTunable"}], "continuous…", "categorical…"}."""

    def __init__(self, hyperparameters: Mapping[str, str] | None = None) -> None:
        self.hyperparameters = {**self.defaults, **(hyperparameters or {})}

    def param_float(self, name: str) -> float:
        return float(self.hyperparameters[name])

    def param_int(self, name: str) -> int:
        return int(float(self.hyperparameters[name]))

    def param_bool(self, name: str) -> bool:
        return self.hyperparameters[name].strip().lower() == "true"

    @abstractmethod
    def fit(self, data: Interactions, progress: Progress | None = None) -> None:
        """Learn from `data`; call `progress` now and then with the fraction done."""

    @abstractmethod
    def score(self, history: IntArray, item: int | None = None) -> FloatArray:
        """Scores of every item (higher is better) for a user whose history is `history` (oldest first), or
        for the anchor `item` in related-items use. Unknown users pass an empty history."""

    def prepare(self, history: IntArray) -> Any:
        """What `score_prepared` needs of a history (by default the history itself). A server prepares a user's
        history once and keeps the result until the history grows."""
        return history

    def score_prepared(self, prepared: Any, item: int | None = None) -> FloatArray:
        """`score` of the history that `prepared` came from."""
        return self.score(prepared, item)

    def score_prepared_many(self, prepared: Sequence[Any]) -> FloatArray:
        """`score_prepared` of each, one row each (bit for bit, as `score_many`): a server scores the requests that
        arrive together in one call."""
        rows = [self.score_prepared(one) for one in prepared]
        scores: FloatArray = np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
        return scores

    def score_many(self, histories: Sequence[IntArray]) -> FloatArray:
        """`score` for many users at once, one row each. Row i must equal `score(histories[i])` exactly: batch
        inference answers as GetRecommendations does because of it. Models override this with one matrix operation
        per block of users."""
        rows = [self.score(history) for history in histories]
        scores: FloatArray = np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
        return scores

    @abstractmethod
    def arrays(self) -> dict[str, np.ndarray]:
        """Everything needed to score, as numpy arrays (no object arrays)."""

    @classmethod
    @abstractmethod
    def from_arrays(cls, hyperparameters: Mapping[str, str], arrays: Mapping[str, np.ndarray]) -> Model:
        """A model equal to the one whose `arrays()` were saved."""

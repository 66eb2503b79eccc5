"""Why the try-it panel's items were recommended, and the items a model holds most similar to an item.

Both read the deployed model's own item-item weights, without calling anything that changes state:

- RecencyEASE (User-Personalization, Personalized-Ranking, the top-picks use cases) scores a user as a sum of the
  rows of its item × item matrix over the user's history, so `weights[h, j]` is how much having watched h raises j.
- ItemKNN and its subclasses (SIMS, Similar-Items, the "because you watched X" and "more like X" use cases) keep the
  neighbour similarities they sum in the same way.

Popularity and Trending-Now score every user alike: they have no item-item weights, and nothing is explained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelrank.recipes.base import Model
from reelrank.recipes.ease import RecencyEASE
from reelrank.recipes.item_knn import ItemKNN
from reelrank.serving.deployments import Deployment

RECENT_ITEMS = 50
"""How many of the user's newest distinct items may explain a recommendation."""


@dataclass(frozen=True)
class Because:
    """A recommended item's explanation: the history item that raises its score most."""

    item_id: str
    event_type: str
    weight: float


def item_weights(model: Model, rows: np.ndarray, columns: np.ndarray | None = None) -> np.ndarray | None:
    """`weights[r, c]`: how much item `rows[r]` in a history raises item `columns[c]` (every item when None); None
    for models without item-item weights."""
    if isinstance(model, RecencyEASE):
        block: np.ndarray = model.weights[rows]
        return block if columns is None else block[:, columns]
    if isinstance(model, ItemKNN):
        matrix = model.similarity_matrix()[rows]
        if columns is not None:
            matrix = matrix[:, columns]
        dense: np.ndarray = matrix.toarray()
        return dense
    return None


def has_weights(deployment: Deployment) -> bool:
    return isinstance(deployment.model, RecencyEASE | ItemKNN)


def explain(deployment: Deployment, history: list[tuple[str, str]], recommended: list[str]) -> dict[str, Because]:
    """For each recommended item the model knows, the item of the user's recent history (pairs of item id and event
    type, oldest first) whose weight towards it is largest, when that weight is positive."""
    recent: dict[str, str] = {}
    for item, event_type in reversed(history):
        if item in deployment.index and item not in recent:
            recent[item] = event_type
            if len(recent) == RECENT_ITEMS:
                break
    targets = [item for item in recommended if item in deployment.index]
    if not recent or not targets:
        return {}
    sources = list(recent)
    block = item_weights(deployment.model, deployment.indices(sources), deployment.indices(targets))
    if block is None:
        return {}
    block = np.asarray(block, dtype=np.float64).copy()
    position = {item: row for row, item in enumerate(sources)}
    for column, item in enumerate(targets):
        if item in position:  # an item the user already has never explains itself
            block[position[item], column] = -np.inf
    best = np.argmax(block, axis=0)
    reasons: dict[str, Because] = {}
    for column, item in enumerate(targets):
        row = int(best[column])
        weight = float(block[row, column])
        if weight > 0:
            reasons[item] = Because(sources[row], recent[sources[row]], weight)
    return reasons


def similar_items(deployment: Deployment, item_id: str, count: int) -> list[dict[str, float | str]] | None:
    """The items with the largest positive weight from `item_id` (what the model would recommend after it alone),
    as `{"itemId", "score"}`; None when the model has no item-item weights, [] when it does not know the item."""
    if not has_weights(deployment):
        return None
    anchor = deployment.index.get(item_id)
    if anchor is None:
        return []
    row = item_weights(deployment.model, np.asarray([anchor], dtype=np.int64))
    assert row is not None
    scores = np.asarray(row[0], dtype=np.float64).copy()
    scores[anchor] = -np.inf
    count = min(count, int((scores > 0).sum()))
    if count <= 0:
        return []
    top = np.argpartition(-scores, count - 1)[:count]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [{"itemId": str(deployment.item_ids[i]), "score": round(float(scores[i]), 6)} for i in top]

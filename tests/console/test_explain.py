"""The try-it panel's explanations and similar items, on hand-made models whose weights are known."""

from __future__ import annotations

import numpy as np

from reelrank.console.explain import explain, item_weights, similar_items
from reelrank.recipes.ease import RecencyEASE
from reelrank.recipes.item_knn import ItemKNN
from reelrank.recipes.popularity import Popularity
from reelrank.recipes.registry import spec_for
from reelrank.serving.deployments import Deployment

ITEMS = ["a", "b", "c", "d"]


def deployment(model: object, recipe: str = "aws-user-personalization") -> Deployment:
    spec = spec_for(f"arn:aws:personalize:::recipe/{recipe}")
    assert spec is not None
    return Deployment("unused", model, np.array(ITEMS), {item: i for i, item in enumerate(ITEMS)}, spec,  # type: ignore[arg-type]
                      np.arange(len(ITEMS)))


def ease(weights: list[list[float]]) -> RecencyEASE:
    model = RecencyEASE()
    model.weights = np.asarray(weights, dtype=np.float32)
    return model


def test_each_item_is_explained_by_the_history_item_that_raises_it_most() -> None:
    # rows: history item; columns: the item it raises. a raises c most, b raises d most.
    model = ease([[0, 0, 0.9, 0.1],
                  [0, 0, 0.2, 0.7],
                  [0, 0, 0, 0],
                  [0, 0, 0, 0]])
    reasons = explain(deployment(model), [("a", "watch"), ("b", "click")], ["c", "d", "unknown"])
    assert {item: (because.item_id, because.event_type) for item, because in reasons.items()} == {
        "c": ("a", "watch"), "d": ("b", "click")}
    assert abs(reasons["c"].weight - 0.9) < 1e-6


def test_no_explanation_without_a_positive_weight_or_history() -> None:
    model = ease([[0, -0.5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    assert explain(deployment(model), [("a", "watch")], ["b", "c"]) == {}
    assert explain(deployment(model), [], ["b"]) == {}
    assert explain(deployment(model), [("zzz", "watch")], ["b"]) == {}


def test_an_item_never_explains_itself() -> None:
    model = ease([[0.5, 0, 0, 0], [0.1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    reasons = explain(deployment(model), [("b", "watch"), ("a", "watch")], ["a"])
    assert reasons["a"].item_id == "b"


def test_similar_items_follow_the_anchors_row() -> None:
    model = ease([[0.3, 0.2, 0.9, 0],
                  [0, 0, 0, 0],
                  [0, 0, 0, 0],
                  [0, 0, 0, 0]])
    found = similar_items(deployment(model), "a", 10)
    assert found == [{"itemId": "c", "score": 0.9}, {"itemId": "b", "score": 0.2}]  # itself and zeros are left out
    assert similar_items(deployment(model), "a", 1) == [{"itemId": "c", "score": 0.9}]
    assert similar_items(deployment(model), "nope", 5) == []


def test_item_knn_neighbours_are_its_weights() -> None:
    model = ItemKNN.from_arrays(ItemKNN.defaults, {
        "n_items": np.array([4]), "indptr": np.array([0, 2, 3, 3, 3]), "indices": np.array([1, 3, 0]),
        "data": np.array([0.4, 0.8, 0.5], dtype=np.float32)})
    block = item_weights(model, np.array([0, 1]), np.array([0, 1, 3]))
    assert block is not None and block.tolist() == [[0.0, np.float32(0.4), np.float32(0.8)], [np.float32(0.5), 0, 0]]
    found = similar_items(deployment(model, "aws-sims"), "a", 5)
    assert [entry["itemId"] for entry in found or []] == ["d", "b"]
    assert explain(deployment(model, "aws-sims"), [("b", "watch")], ["a"])["a"].item_id == "b"


def test_models_without_item_weights_explain_nothing() -> None:
    model = Popularity()
    model.counts = np.array([3, 2, 1, 0], dtype=np.float32)
    assert item_weights(model, np.array([0])) is None
    assert similar_items(deployment(model, "aws-popularity-count"), "a", 5) is None
    assert explain(deployment(model, "aws-popularity-count"), [("a", "watch")], ["b"]) == {}

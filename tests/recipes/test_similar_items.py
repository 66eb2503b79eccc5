from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from reelrank.recipes.item_knn import ItemKNN
from reelrank.recipes.similar_items import SimilarItems
from tests.recipes.planted import CLUSTER_SIZE, COLD, make, top

EMPTY = np.zeros(0, dtype=np.int64)


def test_cold_items_get_metadata_neighbours() -> None:
    planted = make()
    model = SimilarItems()
    model.fit(planted.train)
    for item in COLD.tolist():
        ranked = top(model.score(EMPTY, item=item), 10)
        assert ranked.size == 10 and (planted.cluster_of[ranked] == planted.cluster_of[item]).all()
    # ... and are neighbours of the warm items of their cluster, after the behavioural ones.
    cluster = int(planted.cluster_of[COLD[0]])
    anchor = int(planted.walk_order[cluster][0])
    scores = model.score(EMPTY, item=anchor)
    assert 0 < scores[COLD[0]] < scores[planted.successor(anchor)]


def test_metadata_weight_blends_the_two_similarities() -> None:
    planted = make()
    knn = ItemKNN()
    knn.fit(planted.train)
    behaviour = SimilarItems({"metadata_weight": "0"})
    behaviour.fit(planted.train)
    without_metadata = SimilarItems()
    without_metadata.fit(dataclasses.replace(planted.train, item_features=None))
    for item in (0, 40, 179):
        columns, values = knn.neighbours_of(item)
        assert np.array_equal(behaviour.neighbours_of(item)[0], columns)
        np.testing.assert_allclose(behaviour.neighbours_of(item)[1], values / values.max(), rtol=1e-6)
        assert np.array_equal(without_metadata.score(EMPTY, item=item), behaviour.score(EMPTY, item=item))
    metadata_only = SimilarItems({"metadata_weight": "1", "metadata_shrinkage": "0"})
    metadata_only.fit(planted.train)
    scores = metadata_only.score(EMPTY, item=3)
    same = planted.cluster_of == planted.cluster_of[3]
    same[3] = False
    assert (scores[same] == 1.0).all() and not scores[~same].any() and same.sum() == CLUSTER_SIZE  # 17 + cold 195


def test_short_feature_matrix_is_padded() -> None:
    planted = make()
    assert planted.train.item_features is not None
    short = planted.train.item_features[:150]
    model = SimilarItems({"metadata_weight": "1", "metadata_shrinkage": "0"})
    model.fit(dataclasses.replace(planted.train, item_features=sp.csr_matrix(short)))
    assert not model.score(EMPTY, item=160).any()
    assert model.score(EMPTY, item=3).any()

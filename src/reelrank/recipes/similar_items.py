"""Similar-Items: co-occurrence neighbours blended with item-metadata similarity (serves aws-similar-items and the
VOD more-like-x use case).

For each anchor item the co-occurrence similarity of `ItemKNN` (same hyperparameters) is divided by the row's largest
value, so every warm anchor's best behavioural neighbour scores 1, and blended with the cosine similarity of the two
items' metadata rows (`Interactions.item_features`, e.g. one-hot categories or tf-idf terms):

    sim(i, j) = (1 − wᵢ) · cooc(i, j) / max_k cooc(i, k) + wᵢ · cos(f_i, f_j)
    wᵢ = `metadata_weight` · s / (s + popᵢ)      (s = `metadata_shrinkage`, popᵢ = the anchor's users)

so metadata decides for cold and rare anchors and co-occurrence for well-known ones (on MovieLens-1M a fixed
blend cost a tenth of ItemKNN's next-item hit rate).

Items without interactions ("cold") still get neighbours from their metadata alone, and can be neighbours of warm
items. Without item metadata the model is ItemKNN with rows rescaled to a maximum of 1. History scoring (no anchor)
sums the rows of the history's items as ItemKNN does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from reelrank.recipes.base import FloatArray, IntArray, Interactions, Progress
from reelrank.recipes.item_knn import (
    ItemKNN,
    continuous_range,
    cooccurrence_block,
    declare_ranges,
    discount,
    presence_matrix,
    row_blocks,
    top_k_rows,
)


def normalised_features(features: sp.csr_matrix | None, n_items: int) -> sp.csr_matrix | None:
    """Item feature rows scaled to unit length, padded or cut to `n_items` rows; None when there are none."""
    if features is None or features.shape[1] == 0 or features.nnz == 0:
        return None
    rows = sp.csr_matrix(features, dtype=np.float64)
    if rows.shape[0] < n_items:
        rows = sp.vstack([rows, sp.csr_matrix((n_items - rows.shape[0], rows.shape[1]), dtype=np.float64)],
                         format="csr")
    rows = rows[:n_items]
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1), dtype=np.float64).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    scaled: sp.csr_matrix = sp.csr_matrix(sp.diags(scale) @ rows)
    return scaled


class SimilarItems(ItemKNN):
    """ItemKNN rows blended with metadata cosine similarity; cold items get metadata neighbours."""

    algorithm: ClassVar[str] = "similar-items"
    defaults: ClassVar[Mapping[str, str]] = {**ItemKNN.defaults, "metadata_weight": "0.3",
                                             "metadata_shrinkage": "1"}
    ranges: ClassVar[Mapping[str, list[dict[str, Any]]]] = declare_ranges(
        *((kind, entry) for kind in ("integer", "continuous", "categorical")
          for entry in ItemKNN.ranges[f"{kind}HyperParameterRanges"]),
        continuous_range("metadata_weight", 0.0, 1.0, True),
        continuous_range("metadata_shrinkage", 0.0, 100000.0, True),
    )

    def fit(self, data: Interactions, progress: Progress | None = None) -> None:
        n = data.n_items
        presence = presence_matrix(data)
        item_users = presence.T.tocsr()
        popularity = np.asarray(presence.sum(axis=0), dtype=np.float64).ravel()
        alpha = self.param_float("popularity_discount_factor")
        min_count = self.param_int("min_cointeraction_count")
        k = self.param_int("neighbours")
        features = normalised_features(data.item_features, n)
        weight = self.param_float("metadata_weight") if features is not None else 0.0
        features_t = features.T.tocsr() if features is not None else None
        parts: list[tuple[IntArray, FloatArray, IntArray]] = []
        for start, stop in row_blocks(n, n):
            block = discount(cooccurrence_block(item_users, presence, start, stop, min_count), popularity, start,
                             alpha)
            peak = block.max(axis=1, initial=0.0)
            block /= np.where(peak > 0, peak, 1.0)[:, None]
            if features is not None and features_t is not None and weight > 0:
                metadata: npt.NDArray[np.float64] = np.asarray((features[start:stop] @ features_t).toarray(),
                                                               dtype=np.float64)
                rows = np.arange(stop - start)
                metadata[rows, rows + start] = 0.0
                np.clip(metadata, 0.0, 1.0, out=metadata)
                shrinkage = self.param_float("metadata_shrinkage")
                row_weight = weight * shrinkage / (shrinkage + popularity[start:stop]) if shrinkage > 0 else (
                    np.full(stop - start, weight))
                block *= (1.0 - row_weight)[:, None]
                block += row_weight[:, None] * metadata
            parts.append(top_k_rows(block, k))
            if progress is not None:
                progress(stop / max(1, n))
        self._set_rows(n, parts)
        if progress is not None:
            progress(1.0)

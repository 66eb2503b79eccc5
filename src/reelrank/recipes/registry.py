"""Which algorithm serves which Personalize recipe, chosen by measurement (docs/recipes.md)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Literal

from reelrank.recipes.base import Model

Use = Literal["user", "related", "popular", "ranking", "segment", "action"]
"""How a recipe's model is asked: by user history, by anchor item, the same list for all, re-ranking a list, or
(batch segment jobs) which users are most likely to interact with given items."""

_MODELS = {
    "popularity": ("reelrank.recipes.popularity", "Popularity"),
    "trending": ("reelrank.recipes.trending", "Trending"),
    "item-knn": ("reelrank.recipes.item_knn", "ItemKNN"),
    "ease": ("reelrank.recipes.ease", "RecencyEASE"),
    "similar-items": ("reelrank.recipes.similar_items", "SimilarItems"),
    "action-propensity": ("reelrank.recipes.actions", "ActionPropensity"),
}


@dataclass(frozen=True)
class RecipeSpec:
    algorithm: str
    use: Use
    fixed: dict[str, str] = field(default_factory=dict)
    """Hyperparameters the recipe sets for its algorithm (e.g. a use case's own tuning)."""
    successor: str | None = None
    """For legacy recipes: the recipe that now serves them."""
    event_type: str | None = None
    """Use cases train on one event type (reference §4), e.g. `Watch` for VOD most-popular."""
    exclude: tuple[str, ...] = ()
    """Event types whose items a use case removes from the user's recommendations (watched videos)."""
    requires: tuple[str, ...] = ()
    """Request members a use case needs (`userId`, `itemId`)."""
    explores: bool = False
    """Mixes new items in by `itemExplorationConfig` (User-Personalization, Top picks, Recommended for you)."""
    dataset_type: str = "INTERACTIONS"
    """The data set it trains on: item interactions, or action interactions for Next-Best-Action."""


_USER = RecipeSpec("ease", "user")
RECIPES: dict[str, RecipeSpec] = {
    "aws-user-personalization": RecipeSpec("ease", "user", explores=True),
    "aws-user-personalization-v2": RecipeSpec("ease", "user", explores=True),
    "aws-personalized-ranking": RecipeSpec("ease", "ranking"),
    "aws-personalized-ranking-v2": RecipeSpec("ease", "ranking"),
    "aws-popularity-count": RecipeSpec("popularity", "popular"),
    "aws-trending-now": RecipeSpec("trending", "popular"),
    "aws-sims": RecipeSpec("item-knn", "related"),
    "aws-similar-items": RecipeSpec("similar-items", "related"),
    "aws-semantic-similarity": RecipeSpec("similar-items", "related",
                                          {"metadata_weight": "1.0", "metadata_shrinkage": "0"}),
    "aws-next-best-action": RecipeSpec("action-propensity", "action", dataset_type="ACTION_INTERACTIONS"),
    "aws-item-affinity": RecipeSpec("ease", "segment"),
    "aws-item-attribute-affinity": RecipeSpec("ease", "segment"),
    "aws-hrnn": RecipeSpec("ease", "user", successor="aws-user-personalization"),
    "aws-hrnn-metadata": RecipeSpec("ease", "user", successor="aws-user-personalization"),
    "aws-hrnn-coldstart": RecipeSpec("ease", "user", successor="aws-user-personalization"),
    # VIDEO_ON_DEMAND use cases: watched videos are never recommended again.
    "aws-vod-top-picks": RecipeSpec("ease", "user", exclude=("watch",), requires=("userId",), explores=True),
    "aws-vod-because-you-watched-x": RecipeSpec("item-knn", "related", event_type="Watch", exclude=("watch",),
                                                requires=("userId", "itemId")),
    "aws-vod-more-like-x": RecipeSpec("similar-items", "related", exclude=("watch",), requires=("userId", "itemId")),
    "aws-vod-most-popular": RecipeSpec("popularity", "popular", event_type="Watch", exclude=("watch",),
                                       requires=("userId",)),
    "aws-vod-trending-now": RecipeSpec("trending", "popular", exclude=("watch",)),
    # ECOMMERCE use cases: purchased items are removed where Personalize does.
    "aws-ecomm-recommended-for-you": RecipeSpec("ease", "user", exclude=("purchase",), requires=("userId",),
                                                explores=True),
    "aws-ecomm-customers-who-viewed-x-also-viewed": RecipeSpec("item-knn", "related", event_type="View",
                                                               exclude=("purchase",), requires=("userId", "itemId")),
    "aws-ecomm-frequently-bought-together": RecipeSpec("item-knn", "related", event_type="Purchase",
                                                       requires=("itemId",)),
    "aws-ecomm-popular-items-by-views": RecipeSpec("popularity", "popular", event_type="View", requires=("userId",)),
    "aws-ecomm-popular-items-by-purchases": RecipeSpec("popularity", "popular", event_type="Purchase",
                                                       requires=("userId",)),
}


def recipe_name(recipe_arn: str) -> str:
    return recipe_arn.rsplit("/", 1)[-1]


def spec_for(recipe_arn: str) -> RecipeSpec | None:
    return RECIPES.get(recipe_name(recipe_arn))


def model_class(algorithm: str) -> type[Model]:
    module, name = _MODELS[algorithm]
    cls: type[Model] = getattr(importlib.import_module(module), name)
    return cls


def model_classes() -> dict[str, type[Model]]:
    return {algorithm: model_class(algorithm) for algorithm in _MODELS}

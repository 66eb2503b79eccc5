"""Which algorithm serves which Personalize recipe, chosen by measurement (docs/recipes.md)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Literal

from reelrank.recipes.base import Model

Use = Literal["user", "related", "popular", "ranking"]
"""How a recipe's model is asked: by user history, by anchor item, the same list for all, or re-ranking a list."""

_MODELS = {
    "popularity": ("reelrank.recipes.popularity", "Popularity"),
    "trending": ("reelrank.recipes.trending", "Trending"),
    "item-knn": ("reelrank.recipes.item_knn", "ItemKNN"),
    "ease": ("reelrank.recipes.ease", "RecencyEASE"),
    "similar-items": ("reelrank.recipes.similar_items", "SimilarItems"),
}


@dataclass(frozen=True)
class RecipeSpec:
    algorithm: str
    use: Use
    fixed: dict[str, str] = field(default_factory=dict)
    """Hyperparameters the recipe sets for its algorithm (e.g. a use case's own tuning)."""
    successor: str | None = None
    """For legacy recipes: the recipe that now serves them."""


_USER = RecipeSpec("ease", "user")
RECIPES: dict[str, RecipeSpec] = {
    "aws-user-personalization": _USER,
    "aws-user-personalization-v2": _USER,
    "aws-personalized-ranking": RecipeSpec("ease", "ranking"),
    "aws-personalized-ranking-v2": RecipeSpec("ease", "ranking"),
    "aws-popularity-count": RecipeSpec("popularity", "popular"),
    "aws-trending-now": RecipeSpec("trending", "popular"),
    "aws-sims": RecipeSpec("item-knn", "related"),
    "aws-similar-items": RecipeSpec("similar-items", "related"),
    "aws-semantic-similarity": RecipeSpec("similar-items", "related", {"metadata_weight": "1.0"}),
    "aws-hrnn": RecipeSpec("ease", "user", successor="aws-user-personalization"),
    "aws-hrnn-metadata": RecipeSpec("ease", "user", successor="aws-user-personalization"),
    "aws-hrnn-coldstart": RecipeSpec("ease", "user", successor="aws-user-personalization"),
    "aws-vod-top-picks": _USER,
    "aws-vod-because-you-watched-x": RecipeSpec("item-knn", "related"),
    "aws-vod-more-like-x": RecipeSpec("similar-items", "related"),
    "aws-vod-most-popular": RecipeSpec("popularity", "popular"),
    "aws-vod-trending-now": RecipeSpec("trending", "popular"),
    "aws-ecomm-recommended-for-you": _USER,
    "aws-ecomm-customers-who-viewed-x-also-viewed": RecipeSpec("item-knn", "related"),
    "aws-ecomm-frequently-bought-together": RecipeSpec("item-knn", "related"),
    "aws-ecomm-popular-items-by-views": RecipeSpec("popularity", "popular"),
    "aws-ecomm-popular-items-by-purchases": RecipeSpec("popularity", "popular"),
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

"""Read-only catalogue of the service-owned recipes, algorithms and feature transformations.

Pure data: no I/O and no HTTP. These dicts back ListRecipes, DescribeRecipe, DescribeAlgorithm and
DescribeFeatureTransformation. Every dict is already in the botocore output shape of the
``personalize`` model (``Recipe``, ``Algorithm``, ``FeatureTransformation``), with one exception:
use-case (domain) recipes carry an extra ``domain`` key. ``RecipeSummary`` has a ``domain`` member but
``Recipe`` does not, so DescribeRecipe must drop ``domain`` before it serialises a recipe.

Timestamps are fixed epoch seconds (floats), so responses do not change from one run to the next.

The dicts are shared module state. Treat them as read-only; ``recipe_by_arn`` returns a deep copy.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ALGORITHMS",
    "FEATURE_TRANSFORMATIONS",
    "LEGACY_RECIPE_SUCCESSORS",
    "RECIPES",
    "recipe_by_arn",
]

_RECIPE_PREFIX = "arn:aws:personalize:::recipe/"
_ALGORITHM_PREFIX = "arn:aws:personalize:::algorithm/"
_FEATURE_TRANSFORMATION_PREFIX = "arn:aws:personalize:::feature-transformation/"


def _epoch(day: str) -> float:
    """Return midnight UTC of an ISO date (``YYYY-MM-DD``) as epoch seconds."""
    return datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()


# Release dates, used as creationDateTime / lastUpdatedDateTime.
_CLASSIC = 1543104000.0  # 2018-11-25: the recipes that shipped with the service
_USER_PERSONALIZATION = _epoch("2020-05-01")
_DOMAIN_USE_CASES = _epoch("2021-11-29")
_SIMILAR_ITEMS = _epoch("2022-06-22")
_TRENDING_NOW = _epoch("2022-11-16")
_USER_SEGMENTATION = _epoch("2022-11-28")
_NEXT_BEST_ACTION = _epoch("2023-09-15")
_V2 = _epoch("2024-05-01")
_SEMANTIC_SIMILARITY = _epoch("2025-11-30")

_RESOURCE_CONFIG: dict[str, str] = {"maxNumberOfTrainingJobs": "20", "maxParallelTrainingJobs": "5"}


# --------------------------------------------------------------------------- hyperparameter builders


def _int(name: str, default: int, low: int, high: int, tunable: bool) -> tuple[str, str, str, dict[str, Any]]:
    return (
        name,
        str(default),
        "integer",
        {"name": name, "minValue": low, "maxValue": high, "isTunable": tunable},
    )


def _float(
    name: str, default: float, low: float, high: float, tunable: bool
) -> tuple[str, str, str, dict[str, Any]]:
    return (
        name,
        str(default),
        "continuous",
        {"name": name, "minValue": float(low), "maxValue": float(high), "isTunable": tunable},
    )


def _bool(name: str, default: bool, tunable: bool) -> tuple[str, str, str, dict[str, Any]]:
    value = "true" if default else "false"
    return name, value, "categorical", {"name": name, "values": ["true", "false"], "isTunable": tunable}


def _algorithm(name: str, created: float, *params: tuple[str, str, str, dict[str, Any]]) -> dict[str, Any]:
    ranges: dict[str, list[dict[str, Any]]] = {
        "integerHyperParameterRanges": [],
        "continuousHyperParameterRanges": [],
        "categoricalHyperParameterRanges": [],
    }
    defaults: dict[str, str] = {}
    for param_name, default, kind, range_ in params:
        defaults[param_name] = default
        ranges[f"{kind}HyperParameterRanges"].append(range_)
    return {
        "name": name,
        "algorithmArn": _ALGORITHM_PREFIX + name,
        "algorithmImage": {"name": name, "dockerURI": f"reelrank:{name}"},
        "defaultHyperParameters": defaults,
        "defaultHyperParameterRanges": ranges,
        "defaultResourceConfig": dict(_RESOURCE_CONFIG),
        "trainingInputMode": "File",
        "creationDateTime": created,
        "lastUpdatedDateTime": created,
    }


def _feature_transformation(name: str, created: float, **defaults: str) -> dict[str, Any]:
    return {
        "name": name,
        "featureTransformationArn": _FEATURE_TRANSFORMATION_PREFIX + name,
        "defaultParameters": dict(defaults),
        "creationDateTime": created,
        "lastUpdatedDateTime": created,
        "status": "ACTIVE",
    }


# --------------------------------------------------------------------------- algorithms


def _rnn_params(hidden_dimension: int) -> tuple[tuple[str, str, str, dict[str, Any]], ...]:
    """hidden_dimension / bptt / recency_mask, shared by User-Personalization, Personalized-Ranking, HRNN."""
    return (
        _int("hidden_dimension", hidden_dimension, 32, 256, True),
        _int("bptt", 32, 2, 32, True),
        _bool("recency_mask", True, True),
    )


_ALGORITHM_LIST: tuple[dict[str, Any], ...] = (
    _algorithm("aws-user-personalization-v2", _V2, _bool("apply_recency_bias", True, False)),
    _algorithm("aws-user-personalization", _USER_PERSONALIZATION, *_rnn_params(149)),
    _algorithm("aws-personalized-ranking-v2", _V2, _bool("apply_recency_bias", True, False)),
    _algorithm("aws-personalized-ranking", _CLASSIC, *_rnn_params(149)),
    _algorithm("aws-trending-now-custom", _TRENDING_NOW),
    _algorithm("aws-popularity-count", _CLASSIC),
    _algorithm(
        "aws-similar-items",
        _SIMILAR_ITEMS,
        _int("item_id_hidden_dim", 100, 30, 200, True),
        _int("item_metadata_hidden_dim", 100, 30, 200, True),
    ),
    _algorithm(
        "aws-sims",
        _CLASSIC,
        _float("popularity_discount_factor", 0.5, 0.0, 1.0, True),
        _int("min_cointeraction_count", 3, 0, 10, True),
    ),
    _algorithm("aws-semantic-similarity", _SEMANTIC_SIMILARITY),
    _algorithm(
        "aws-next-best-action", _NEXT_BEST_ACTION, _int("action_optimization_period", 14, 7, 28, False)
    ),
    _algorithm("aws-item-affinity", _USER_SEGMENTATION, _int("hidden_dimension", 149, 32, 256, False)),
    _algorithm(
        "aws-item-attribute-affinity", _USER_SEGMENTATION, _int("hidden_dimension", 149, 32, 256, False)
    ),
    _algorithm("aws-hrnn", _CLASSIC, *_rnn_params(43)),
    _algorithm("aws-hrnn-metadata", _CLASSIC, *_rnn_params(43)),
    _algorithm("aws-hrnn-coldstart", _CLASSIC, *_rnn_params(149)),
)

ALGORITHMS: dict[str, dict[str, Any]] = {a["algorithmArn"]: a for a in _ALGORITHM_LIST}


# --------------------------------------------------------------------------- feature transformations

_USER_HISTORY_PERCENTILES: dict[str, str] = {
    "min_user_history_length_percentile": "0.0",
    "max_user_history_length_percentile": "0.99",
}

_FEATURE_TRANSFORMATION_LIST: tuple[dict[str, Any], ...] = (
    _feature_transformation("JSON-percentile-filtering", _CLASSIC, **_USER_HISTORY_PERCENTILES),
    _feature_transformation(
        "sims",
        _CLASSIC,
        min_user_history_length_percentile="0.005",
        max_user_history_length_percentile="0.995",
        min_item_interaction_count_percentile="0.01",
        max_item_interaction_count_percentile="0.9",
    ),
    _feature_transformation("trending-now", _TRENDING_NOW, trend_discovery_frequency="2 hours"),
    _feature_transformation("aws-semantic-similarity", _SEMANTIC_SIMILARITY),
    _feature_transformation("item-affinity", _USER_SEGMENTATION),
    _feature_transformation("item-attribute-affinity", _USER_SEGMENTATION),
    _feature_transformation("featurize_metadata", _CLASSIC, **_USER_HISTORY_PERCENTILES),
    _feature_transformation(
        "featurize_coldstart",
        _CLASSIC,
        cold_start_max_interactions="15",
        cold_start_max_duration="5.0",
        cold_start_relative_from="latestItem",
        **_USER_HISTORY_PERCENTILES,
    ),
)

FEATURE_TRANSFORMATIONS: dict[str, dict[str, Any]] = {
    f["featureTransformationArn"]: f for f in _FEATURE_TRANSFORMATION_LIST
}


# --------------------------------------------------------------------------- recipes

_LEGACY_SUCCESSOR = "aws-user-personalization"


def _recipe(
    name: str,
    recipe_type: str,
    description: str,
    created: float,
    *,
    algorithm: str | None = None,
    feature_transformation: str | None = None,
    domain: str | None = None,
) -> dict[str, Any]:
    recipe: dict[str, Any] = {
        "name": name,
        "recipeArn": _RECIPE_PREFIX + name,
        "algorithmArn": _ALGORITHM_PREFIX + (algorithm or name),
    }
    if feature_transformation is not None:
        recipe["featureTransformationArn"] = _FEATURE_TRANSFORMATION_PREFIX + feature_transformation
    recipe.update(
        {
            "status": "ACTIVE",
            "description": description,
            "recipeType": recipe_type,
            "creationDateTime": created,
            "lastUpdatedDateTime": created,
        }
    )
    if domain is not None:
        recipe["domain"] = domain
    return recipe


def _legacy(name: str, feature_transformation: str, description: str) -> dict[str, Any]:
    return _recipe(
        name,
        "USER_PERSONALIZATION",
        f"Legacy recipe, served by {_LEGACY_SUCCESSOR}. {description}",
        _CLASSIC,
        feature_transformation=feature_transformation,
    )


def _vod(name: str, recipe_type: str, algorithm: str, description: str, created: float) -> dict[str, Any]:
    return _recipe(name, recipe_type, description, created, algorithm=algorithm, domain="VIDEO_ON_DEMAND")


def _ecomm(name: str, recipe_type: str, algorithm: str, description: str) -> dict[str, Any]:
    return _recipe(name, recipe_type, description, _DOMAIN_USE_CASES, algorithm=algorithm, domain="ECOMMERCE")


RECIPES: tuple[dict[str, Any], ...] = (
    # ---- custom recipes
    _recipe(
        "aws-user-personalization-v2",
        "USER_PERSONALIZATION",
        "Transformer-based recommendations of the items a user is likely to interact with next, "
        "from the user's item-interaction history. Recommended default.",
        _V2,
    ),
    _recipe(
        "aws-user-personalization",
        "USER_PERSONALIZATION",
        "Recommends items a user is likely to interact with, with automatic exploration of new items "
        "and support for impressions.",
        _USER_PERSONALIZATION,
        feature_transformation="JSON-percentile-filtering",
    ),
    _recipe(
        "aws-personalized-ranking-v2",
        "PERSONALIZED_RANKING",
        "Transformer-based re-ranking of a caller-supplied list of items for a user.",
        _V2,
    ),
    _recipe(
        "aws-personalized-ranking",
        "PERSONALIZED_RANKING",
        "Re-ranks a caller-supplied list of items (for example search results) for a user.",
        _CLASSIC,
        feature_transformation="JSON-percentile-filtering",
    ),
    _recipe(
        "aws-popularity-count",
        "USER_PERSONALIZATION",
        "Recommends the items with the most interactions from unique users; the same list for every user.",
        _CLASSIC,
        feature_transformation="sims",
    ),
    _recipe(
        "aws-trending-now",
        "POPULAR_ITEMS",
        "Recommends the items whose interactions are increasing fastest over the trend discovery interval.",
        _TRENDING_NOW,
        algorithm="aws-trending-now-custom",
        feature_transformation="trending-now",
    ),
    _recipe(
        "aws-similar-items",
        "RELATED_ITEMS",
        "Recommends items similar to a given item from co-occurrence in user histories and item metadata.",
        _SIMILAR_ITEMS,
    ),
    _recipe(
        "aws-sims",
        "RELATED_ITEMS",
        "Item-to-item collaborative filtering on co-occurrence in the item interactions dataset.",
        _CLASSIC,
        feature_transformation="sims",
    ),
    _recipe(
        "aws-semantic-similarity",
        "RELATED_ITEMS",
        "Recommends items similar to a given item from text embeddings of item names and descriptions.",
        _SEMANTIC_SIMILARITY,
        feature_transformation="aws-semantic-similarity",
    ),
    _recipe(
        "aws-next-best-action",
        "PERSONALIZED_ACTIONS",
        "Ranks actions by the propensity of a user to take them within the action optimization period.",
        _NEXT_BEST_ACTION,
    ),
    _recipe(
        "aws-item-affinity",
        "USER_SEGMENTATION",
        "For each input item, the users most likely to interact with it (batch segment jobs only).",
        _USER_SEGMENTATION,
        feature_transformation="item-affinity",
    ),
    _recipe(
        "aws-item-attribute-affinity",
        "USER_SEGMENTATION",
        "For each item-attribute query, the users most likely to interact with items that have those "
        "attributes (batch segment jobs only).",
        _USER_SEGMENTATION,
        feature_transformation="item-attribute-affinity",
    ),
    # ---- legacy HRNN recipes
    _legacy(
        "aws-hrnn",
        "JSON-percentile-filtering",
        "Hierarchical recurrent neural network over the order of a user's interactions.",
    ),
    _legacy(
        "aws-hrnn-metadata",
        "featurize_metadata",
        "HRNN with contextual, user and item metadata features.",
    ),
    _legacy(
        "aws-hrnn-coldstart",
        "featurize_coldstart",
        "HRNN with metadata that can also recommend cold items.",
    ),
    # ---- VIDEO_ON_DEMAND use cases
    _vod(
        "aws-vod-because-you-watched-x",
        "RELATED_ITEMS",
        "aws-sims",
        "Because you watched X: videos that other users also watched, given a video.",
        _DOMAIN_USE_CASES,
    ),
    _vod(
        "aws-vod-more-like-x",
        "RELATED_ITEMS",
        "aws-similar-items",
        "More like X: videos similar to a given video.",
        _DOMAIN_USE_CASES,
    ),
    _vod(
        "aws-vod-most-popular",
        "POPULAR_ITEMS",
        "aws-popularity-count",
        "Most popular: videos watched by the most users.",
        _DOMAIN_USE_CASES,
    ),
    _vod(
        "aws-vod-trending-now",
        "POPULAR_ITEMS",
        "aws-trending-now-custom",
        "Trending now: videos whose popularity is rising fastest, re-evaluated every 2 hours.",
        _TRENDING_NOW,
    ),
    _vod(
        "aws-vod-top-picks",
        "USER_PERSONALIZATION",
        "aws-user-personalization-v2",
        "Top picks for you: personalized video recommendations for a user.",
        _DOMAIN_USE_CASES,
    ),
    # ---- ECOMMERCE use cases
    _ecomm(
        "aws-ecomm-popular-items-by-views",
        "POPULAR_ITEMS",
        "aws-popularity-count",
        "Most viewed: the items viewed by the most users.",
    ),
    _ecomm(
        "aws-ecomm-popular-items-by-purchases",
        "POPULAR_ITEMS",
        "aws-popularity-count",
        "Best sellers: the items purchased by the most users.",
    ),
    _ecomm(
        "aws-ecomm-frequently-bought-together",
        "RELATED_ITEMS",
        "aws-sims",
        "Frequently bought together: items often purchased together with a given item.",
    ),
    _ecomm(
        "aws-ecomm-customers-who-viewed-x-also-viewed",
        "RELATED_ITEMS",
        "aws-sims",
        "Customers who viewed X also viewed: items viewed by users who viewed a given item.",
    ),
    _ecomm(
        "aws-ecomm-recommended-for-you",
        "USER_PERSONALIZATION",
        "aws-user-personalization-v2",
        "Recommended for you: personalized product recommendations for a user.",
    ),
)

LEGACY_RECIPE_SUCCESSORS: dict[str, str] = {
    _RECIPE_PREFIX + legacy: _RECIPE_PREFIX + _LEGACY_SUCCESSOR
    for legacy in ("aws-hrnn", "aws-hrnn-metadata", "aws-hrnn-coldstart")
}

_RECIPES_BY_ARN: dict[str, dict[str, Any]] = {r["recipeArn"]: r for r in RECIPES}


def recipe_by_arn(arn: str) -> dict[str, Any] | None:
    """Return a deep copy of the recipe with ``recipeArn == arn``, or None if there is none.

    Use-case recipes keep their ``domain`` key; drop it before answering DescribeRecipe.
    """
    recipe = _RECIPES_BY_ARN.get(arn)
    return copy.deepcopy(recipe) if recipe is not None else None

"""The recipe catalogue against the botocore output shapes and the reference (§3 and §4)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape

from reelrank.service.recipe_catalogue import (
    ALGORITHMS,
    FEATURE_TRANSFORMATIONS,
    LEGACY_RECIPE_SUCCESSORS,
    RECIPES,
    recipe_by_arn,
)

MODEL = botocore.session.get_session().get_service_model("personalize")

RECIPE_PREFIX = "arn:aws:personalize:::recipe/"
ALGORITHM_PREFIX = "arn:aws:personalize:::algorithm/"
FT_PREFIX = "arn:aws:personalize:::feature-transformation/"

CUSTOM_RECIPES = {
    "aws-user-personalization",
    "aws-user-personalization-v2",
    "aws-personalized-ranking",
    "aws-personalized-ranking-v2",
    "aws-popularity-count",
    "aws-trending-now",
    "aws-similar-items",
    "aws-sims",
    "aws-semantic-similarity",
    "aws-next-best-action",
    "aws-item-affinity",
    "aws-item-attribute-affinity",
}
LEGACY_RECIPES = {"aws-hrnn", "aws-hrnn-metadata", "aws-hrnn-coldstart"}
VOD_RECIPES = {
    "aws-vod-because-you-watched-x",
    "aws-vod-more-like-x",
    "aws-vod-most-popular",
    "aws-vod-trending-now",
    "aws-vod-top-picks",
}
ECOMMERCE_RECIPES = {
    "aws-ecomm-popular-items-by-views",
    "aws-ecomm-popular-items-by-purchases",
    "aws-ecomm-frequently-bought-together",
    "aws-ecomm-customers-who-viewed-x-also-viewed",
    "aws-ecomm-recommended-for-you",
}
RECIPE_TYPES = {
    "USER_PERSONALIZATION",
    "PERSONALIZED_RANKING",
    "RELATED_ITEMS",
    "POPULAR_ITEMS",
    "PERSONALIZED_ACTIONS",
    "USER_SEGMENTATION",
}


# --------------------------------------------------------------------------- shape validation


def shape_errors(value: Any, shape: Shape, path: str = "$") -> list[str]:
    """Every way ``value`` fails to be a valid output of ``shape`` (an empty list when it is valid)."""
    errors: list[str] = []
    meta = shape.metadata
    kind = shape.type_name

    def bounds(size: int | float, what: str) -> None:
        if "min" in meta and size < meta["min"]:
            errors.append(f"{path}: {what} {size} < min {meta['min']}")
        if "max" in meta and size > meta["max"]:
            errors.append(f"{path}: {what} {size} > max {meta['max']}")

    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected dict for {shape.name}, got {type(value).__name__}"]
        members = shape.members
        for key in value:
            if key not in members:
                errors.append(f"{path}: {key!r} is not a member of {shape.name}")
        for key in meta.get("required", []):
            if key not in value:
                errors.append(f"{path}: required member {key!r} of {shape.name} missing")
        for key, item in value.items():
            if key in members:
                errors.extend(shape_errors(item, members[key], f"{path}.{key}"))
    elif kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected list for {shape.name}, got {type(value).__name__}"]
        bounds(len(value), "length")
        for i, item in enumerate(value):
            errors.extend(shape_errors(item, shape.member, f"{path}[{i}]"))
    elif kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected dict for {shape.name}, got {type(value).__name__}"]
        bounds(len(value), "size")
        for key, item in value.items():
            errors.extend(shape_errors(key, shape.key, f"{path}<key {key!r}>"))
            errors.extend(shape_errors(item, shape.value, f"{path}[{key!r}]"))
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected str for {shape.name}, got {type(value).__name__}"]
        bounds(len(value), "length")
        enum = shape.enum
        if enum and value not in enum:
            errors.append(f"{path}: {value!r} not in enum {enum}")
        if "pattern" in meta and not re.match(meta["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {meta['pattern']!r}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return [f"{path}: expected int for {shape.name}, got {type(value).__name__}"]
        bounds(value, "value")
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [f"{path}: expected number for {shape.name}, got {type(value).__name__}"]
        bounds(value, "value")
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{path}: expected bool for {shape.name}, got {type(value).__name__}")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float | datetime):
            errors.append(f"{path}: expected timestamp for {shape.name}, got {type(value).__name__}")
    else:  # pragma: no cover - the shapes used here have no other kinds
        errors.append(f"{path}: unhandled shape kind {kind}")
    return errors


def test_shape_errors_catches_problems() -> None:
    shape = MODEL.shape_for("Recipe")
    assert shape_errors({"name": "ok", "bogus": 1}, shape) == ["$: 'bogus' is not a member of Recipe"]
    assert shape_errors({"name": ""}, shape)
    assert shape_errors({"name": "x" * 64}, shape)
    assert shape_errors({"recipeArn": "not-an-arn"}, shape)
    assert shape_errors({"creationDateTime": "yesterday"}, shape)
    summary = MODEL.shape_for("RecipeSummary")
    assert shape_errors({"domain": "RETAIL"}, summary)
    algorithm = MODEL.shape_for("Algorithm")
    assert shape_errors({"algorithmImage": {"name": "x"}}, algorithm)  # dockerURI is required
    assert shape_errors({"defaultHyperParameters": {"a": 1}}, algorithm)
    bad_range = {"integerHyperParameterRanges": [{"name": "a", "minValue": 1.5, "isTunable": "yes"}]}
    assert len(shape_errors({"defaultHyperParameterRanges": bad_range}, algorithm)) == 2


# --------------------------------------------------------------------------- output shapes


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: r["name"])
def test_recipe_matches_recipe_shape(recipe: dict[str, Any]) -> None:
    described = {k: v for k, v in recipe.items() if k != "domain"}
    assert shape_errors(described, MODEL.shape_for("Recipe")) == []
    summary_shape = MODEL.shape_for("RecipeSummary")
    summary = {k: v for k, v in recipe.items() if k in summary_shape.members}
    assert shape_errors(summary, summary_shape) == []
    assert set(recipe) - set(MODEL.shape_for("Recipe").members) <= {"domain"}


@pytest.mark.parametrize("algorithm", list(ALGORITHMS.values()), ids=lambda a: a["name"])
def test_algorithm_matches_algorithm_shape(algorithm: dict[str, Any]) -> None:
    assert shape_errors(algorithm, MODEL.shape_for("Algorithm")) == []


@pytest.mark.parametrize("transformation", list(FEATURE_TRANSFORMATIONS.values()), ids=lambda f: f["name"])
def test_feature_transformation_matches_shape(transformation: dict[str, Any]) -> None:
    assert shape_errors(transformation, MODEL.shape_for("FeatureTransformation")) == []


def test_describe_outputs_validate_through_operation_models() -> None:
    recipe = recipe_by_arn(RECIPE_PREFIX + "aws-sims")
    assert recipe is not None
    checks = [
        ("DescribeRecipe", {"recipe": recipe}),
        ("DescribeAlgorithm", {"algorithm": next(iter(ALGORITHMS.values()))}),
        (
            "DescribeFeatureTransformation",
            {"featureTransformation": next(iter(FEATURE_TRANSFORMATIONS.values()))},
        ),
        (
            "ListRecipes",
            {
                "recipes": [
                    {k: v for k, v in r.items() if k in MODEL.shape_for("RecipeSummary").members}
                    for r in RECIPES
                ]
            },
        ),
    ]
    for operation, output in checks:
        assert shape_errors(output, MODEL.operation_model(operation).output_shape) == [], operation


# --------------------------------------------------------------------------- contents


def test_recipe_fields() -> None:
    for recipe in RECIPES:
        assert recipe["status"] == "ACTIVE"
        assert recipe["recipeType"] in RECIPE_TYPES
        assert recipe["recipeArn"] == RECIPE_PREFIX + recipe["name"]
        assert recipe["algorithmArn"].startswith(ALGORITHM_PREFIX)
        assert recipe["description"]
        assert isinstance(recipe["creationDateTime"], float)
        assert recipe["lastUpdatedDateTime"] >= recipe["creationDateTime"]
        if "featureTransformationArn" in recipe:
            assert recipe["featureTransformationArn"].startswith(FT_PREFIX)


def test_all_reference_recipes_present_and_unique() -> None:
    names = [r["name"] for r in RECIPES]
    assert len(names) == len(set(names))
    arns = [r["recipeArn"] for r in RECIPES]
    assert len(arns) == len(set(arns))
    assert set(names) == CUSTOM_RECIPES | LEGACY_RECIPES | VOD_RECIPES | ECOMMERCE_RECIPES


def test_domains() -> None:
    for recipe in RECIPES:
        if recipe["name"] in VOD_RECIPES:
            assert recipe["domain"] == "VIDEO_ON_DEMAND"
        elif recipe["name"] in ECOMMERCE_RECIPES:
            assert recipe["domain"] == "ECOMMERCE"
        else:
            assert "domain" not in recipe


def test_referential_integrity() -> None:
    for recipe in RECIPES:
        assert recipe["algorithmArn"] in ALGORITHMS, recipe["name"]
        if "featureTransformationArn" in recipe:
            assert recipe["featureTransformationArn"] in FEATURE_TRANSFORMATIONS, recipe["name"]
    for arn, algorithm in ALGORITHMS.items():
        assert algorithm["algorithmArn"] == arn == ALGORITHM_PREFIX + algorithm["name"]
        assert algorithm["algorithmImage"] == {
            "name": algorithm["name"],
            "dockerURI": f"reelrank:{algorithm['name']}",
        }
    for arn, transformation in FEATURE_TRANSFORMATIONS.items():
        assert transformation["featureTransformationArn"] == arn == FT_PREFIX + transformation["name"]
        assert transformation["status"] == "ACTIVE"
    # Every catalogue entry is used by at least one recipe.
    assert {r["algorithmArn"] for r in RECIPES} == set(ALGORITHMS)
    assert {r["featureTransformationArn"] for r in RECIPES if "featureTransformationArn" in r} == set(
        FEATURE_TRANSFORMATIONS
    )
    names = [a["name"] for a in ALGORITHMS.values()]
    assert len(names) == len(set(names))


def test_algorithm_defaults_match_ranges() -> None:
    for algorithm in ALGORITHMS.values():
        assert algorithm["trainingInputMode"] == "File"
        assert algorithm["defaultResourceConfig"] == {
            "maxNumberOfTrainingJobs": "20",
            "maxParallelTrainingJobs": "5",
        }
        assert "roleArn" not in algorithm
        defaults = algorithm["defaultHyperParameters"]
        ranges = algorithm["defaultHyperParameterRanges"]
        ranged: list[str] = []
        for r in ranges["integerHyperParameterRanges"]:
            assert r["minValue"] <= int(defaults[r["name"]]) <= r["maxValue"], (algorithm["name"], r)
            ranged.append(r["name"])
        for r in ranges["continuousHyperParameterRanges"]:
            assert r["minValue"] <= float(defaults[r["name"]]) <= r["maxValue"], (algorithm["name"], r)
            ranged.append(r["name"])
        for r in ranges["categoricalHyperParameterRanges"]:
            assert defaults[r["name"]] in r["values"], (algorithm["name"], r)
            ranged.append(r["name"])
        assert sorted(ranged) == sorted(defaults), algorithm["name"]


def _algorithm(name: str) -> dict[str, Any]:
    algorithm: dict[str, Any] = ALGORITHMS[ALGORITHM_PREFIX + name]
    return algorithm


def _range(algorithm: str, kind: str, name: str) -> dict[str, Any]:
    ranges: list[dict[str, Any]] = _algorithm(algorithm)["defaultHyperParameterRanges"][
        f"{kind}HyperParameterRanges"
    ]
    (found,) = [r for r in ranges if r["name"] == name]
    return found


@pytest.mark.parametrize(
    ("algorithm", "kind", "name", "default", "expected"),
    [
        ("aws-sims", "continuous", "popularity_discount_factor", "0.5", (0.0, 1.0, True)),
        ("aws-sims", "integer", "min_cointeraction_count", "3", (0, 10, True)),
        ("aws-user-personalization", "integer", "hidden_dimension", "149", (32, 256, True)),
        ("aws-user-personalization", "integer", "bptt", "32", (2, 32, True)),
        ("aws-personalized-ranking", "integer", "hidden_dimension", "149", (32, 256, True)),
        ("aws-personalized-ranking", "integer", "bptt", "32", (2, 32, True)),
        ("aws-next-best-action", "integer", "action_optimization_period", "14", (7, 28, False)),
        ("aws-similar-items", "integer", "item_id_hidden_dim", "100", (30, 200, True)),
        ("aws-similar-items", "integer", "item_metadata_hidden_dim", "100", (30, 200, True)),
        ("aws-item-affinity", "integer", "hidden_dimension", "149", (32, 256, False)),
        ("aws-item-attribute-affinity", "integer", "hidden_dimension", "149", (32, 256, False)),
        ("aws-hrnn", "integer", "hidden_dimension", "43", (32, 256, True)),
        ("aws-hrnn-metadata", "integer", "hidden_dimension", "43", (32, 256, True)),
        ("aws-hrnn-coldstart", "integer", "hidden_dimension", "149", (32, 256, True)),
    ],
)
def test_numeric_hyperparameters(
    algorithm: str, kind: str, name: str, default: str, expected: tuple[float, float, bool]
) -> None:
    assert _algorithm(algorithm)["defaultHyperParameters"][name] == default
    r = _range(algorithm, kind, name)
    assert (r["minValue"], r["maxValue"], r["isTunable"]) == expected


@pytest.mark.parametrize(
    ("algorithm", "name", "tunable"),
    [
        ("aws-user-personalization", "recency_mask", True),
        ("aws-personalized-ranking", "recency_mask", True),
        ("aws-user-personalization-v2", "apply_recency_bias", False),
        ("aws-personalized-ranking-v2", "apply_recency_bias", False),
    ],
)
def test_boolean_hyperparameters(algorithm: str, name: str, tunable: bool) -> None:
    assert _algorithm(algorithm)["defaultHyperParameters"][name] == "true"
    assert _range(algorithm, "categorical", name) == {
        "name": name,
        "values": ["true", "false"],
        "isTunable": tunable,
    }


def test_algorithms_without_hyperparameters() -> None:
    for name in ("aws-popularity-count", "aws-trending-now-custom", "aws-semantic-similarity"):
        assert _algorithm(name)["defaultHyperParameters"] == {}


def test_trending_now() -> None:
    recipe = recipe_by_arn(RECIPE_PREFIX + "aws-trending-now")
    assert recipe is not None
    assert recipe["algorithmArn"] == ALGORITHM_PREFIX + "aws-trending-now-custom"
    transformation = FEATURE_TRANSFORMATIONS[recipe["featureTransformationArn"]]
    assert transformation["defaultParameters"] == {"trend_discovery_frequency": "2 hours"}


def test_feature_transformation_defaults() -> None:
    percentile = FEATURE_TRANSFORMATIONS[FT_PREFIX + "JSON-percentile-filtering"]["defaultParameters"]
    assert percentile == {
        "min_user_history_length_percentile": "0.0",
        "max_user_history_length_percentile": "0.99",
    }
    sims = FEATURE_TRANSFORMATIONS[FT_PREFIX + "sims"]["defaultParameters"]
    assert sims == {
        "min_user_history_length_percentile": "0.005",
        "max_user_history_length_percentile": "0.995",
        "min_item_interaction_count_percentile": "0.01",
        "max_item_interaction_count_percentile": "0.9",
    }
    coldstart = FEATURE_TRANSFORMATIONS[FT_PREFIX + "featurize_coldstart"]["defaultParameters"]
    assert coldstart["cold_start_max_interactions"] == "15"
    assert coldstart["cold_start_max_duration"] == "5.0"
    assert coldstart["cold_start_relative_from"] == "latestItem"
    for recipe in ("aws-user-personalization", "aws-personalized-ranking", "aws-hrnn"):
        found = recipe_by_arn(RECIPE_PREFIX + recipe)
        assert found is not None
        assert found["featureTransformationArn"] == FT_PREFIX + "JSON-percentile-filtering"


def test_recipe_types() -> None:
    by_name = {r["name"]: r["recipeType"] for r in RECIPES}
    assert by_name["aws-user-personalization-v2"] == "USER_PERSONALIZATION"
    assert by_name["aws-personalized-ranking"] == "PERSONALIZED_RANKING"
    assert by_name["aws-popularity-count"] == "USER_PERSONALIZATION"
    assert by_name["aws-trending-now"] == "POPULAR_ITEMS"
    assert by_name["aws-sims"] == "RELATED_ITEMS"
    assert by_name["aws-semantic-similarity"] == "RELATED_ITEMS"
    assert by_name["aws-next-best-action"] == "PERSONALIZED_ACTIONS"
    assert by_name["aws-item-affinity"] == "USER_SEGMENTATION"
    assert by_name["aws-item-attribute-affinity"] == "USER_SEGMENTATION"
    assert by_name["aws-vod-more-like-x"] == "RELATED_ITEMS"
    assert by_name["aws-vod-top-picks"] == "USER_PERSONALIZATION"


def test_use_case_algorithms() -> None:
    top_picks = recipe_by_arn(RECIPE_PREFIX + "aws-vod-top-picks")
    assert top_picks is not None
    assert top_picks["algorithmArn"] == ALGORITHM_PREFIX + "aws-user-personalization-v2"
    trending = recipe_by_arn(RECIPE_PREFIX + "aws-vod-trending-now")
    assert trending is not None
    assert trending["algorithmArn"] == ALGORITHM_PREFIX + "aws-trending-now-custom"


def test_creation_dates() -> None:
    by_name = {r["name"]: r for r in RECIPES}
    assert by_name["aws-sims"]["creationDateTime"] == 1543104000.0
    assert by_name["aws-hrnn"]["creationDateTime"] == 1543104000.0
    assert (
        by_name["aws-user-personalization-v2"]["creationDateTime"] > by_name["aws-sims"]["creationDateTime"]
    )
    assert by_name["aws-personalized-ranking-v2"]["creationDateTime"] > 1543104000.0


def test_legacy_successors() -> None:
    successor = RECIPE_PREFIX + "aws-user-personalization"
    assert {RECIPE_PREFIX + name: successor for name in LEGACY_RECIPES} == LEGACY_RECIPE_SUCCESSORS
    assert recipe_by_arn(successor) is not None
    for arn in LEGACY_RECIPE_SUCCESSORS:
        recipe = recipe_by_arn(arn)
        assert recipe is not None
        assert recipe["recipeType"] == "USER_PERSONALIZATION"
        assert "Legacy recipe, served by aws-user-personalization" in recipe["description"]
    for recipe in RECIPES:
        if recipe["recipeArn"] not in LEGACY_RECIPE_SUCCESSORS:
            assert "Legacy" not in recipe["description"]


def test_recipe_by_arn() -> None:
    for recipe in RECIPES:
        assert recipe_by_arn(recipe["recipeArn"]) == recipe
    assert recipe_by_arn(RECIPE_PREFIX + "aws-nope") is None
    assert recipe_by_arn("") is None
    # A copy: mutating the answer does not change the catalogue.
    found = recipe_by_arn(RECIPE_PREFIX + "aws-sims")
    assert found is not None
    found["status"] = "CHANGED"
    again = recipe_by_arn(RECIPE_PREFIX + "aws-sims")
    assert again is not None and again["status"] == "ACTIVE"

"""Validate `algorithmHyperParameters` (string → string on the wire) against a recipe's declared ranges."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reelrank.errors import InvalidInputException
from reelrank.recipes.registry import RecipeSpec, model_class
from reelrank.service.recipe_catalogue import ALGORITHMS, recipe_by_arn


def declared_ranges(recipe_arn: str, spec: RecipeSpec) -> dict[str, dict[str, Any]]:
    """name → {"kind": integer|continuous|categorical, and minValue/maxValue or values}: the documented Personalize
    hyperparameters of the recipe's algorithm plus those of the algorithm that serves it."""
    ranges: dict[str, dict[str, Any]] = {}
    for source in (_catalogue_algorithm(recipe_arn), model_class(spec.algorithm).ranges):
        for kind in ("integer", "continuous", "categorical"):
            for entry in source.get(f"{kind}HyperParameterRanges", []):
                ranges[entry["name"]] = {"kind": kind, **entry}
    return ranges


def _catalogue_algorithm(recipe_arn: str) -> Mapping[str, Any]:
    recipe = recipe_by_arn(recipe_arn) or {}
    algorithm = ALGORITHMS.get(recipe.get("algorithmArn", ""), {})
    ranges: Mapping[str, Any] = algorithm.get("defaultHyperParameterRanges", {})
    return ranges


def validate(values: Mapping[str, str], ranges: Mapping[str, Mapping[str, Any]], recipe: str) -> None:
    for name, value in values.items():
        declared = ranges.get(name)
        if declared is None:
            known = ", ".join(sorted(ranges)) or "none"
            raise InvalidInputException(
                f"Unknown hyperparameter {name} for recipe {recipe}; it accepts: {known}.")
        _check(name, value, declared)


def _check(name: str, value: str, declared: Mapping[str, Any]) -> None:
    kind = declared["kind"]
    if kind == "categorical":
        if value not in declared["values"]:
            raise InvalidInputException(
                f"Invalid value {value!r} for hyperparameter {name}; expected one of {declared['values']}.")
        return
    try:
        number = float(value)
        if kind == "integer" and not number.is_integer():
            raise ValueError
    except ValueError:
        raise InvalidInputException(f"Invalid value {value!r} for hyperparameter {name}; expected "
                                    f"{'an integer' if kind == 'integer' else 'a number'}.") from None
    low, high = declared.get("minValue"), declared.get("maxValue")
    if (low is not None and number < low) or (high is not None and number > high):
        raise InvalidInputException(
            f"Hyperparameter {name}={value} is out of range; it must be between {low} and {high}.")

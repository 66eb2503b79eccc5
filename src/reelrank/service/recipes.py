"""The read-only recipe catalogue: ListRecipes, DescribeRecipe, DescribeAlgorithm and DescribeFeatureTransformation."""

from __future__ import annotations

from typing import Any

from reelrank.errors import ResourceNotFoundException
from reelrank.service.context import next_token, page_window
from reelrank.service.recipe_catalogue import ALGORITHMS, FEATURE_TRANSFORMATIONS, RECIPES, recipe_by_arn


def _found(value: dict[str, Any] | None, arn: str) -> dict[str, Any]:
    if value is None:
        raise ResourceNotFoundException(f"Could not find resource with ARN {arn}.")
    return value


class Recipes:
    def __init__(self, _ctx: object = None) -> None:
        pass

    def list_recipes(self, params: dict[str, Any]) -> dict[str, Any]:
        domain = params.get("domain")
        matching = [recipe for recipe in RECIPES if domain is None or recipe.get("domain") == domain]
        offset, limit = page_window(params, f"recipes|{domain}")
        return {"recipes": matching[offset: offset + limit],
                "nextToken": next_token(len(matching) - offset, offset, limit, f"recipes|{domain}")}

    def describe_recipe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"recipe": _found(recipe_by_arn(params["recipeArn"]), params["recipeArn"])}

    def describe_algorithm(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"algorithm": _found(ALGORITHMS.get(params["algorithmArn"]), params["algorithmArn"])}

    def describe_feature_transformation(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["featureTransformationArn"]
        return {"featureTransformation": _found(FEATURE_TRANSFORMATIONS.get(arn), arn)}

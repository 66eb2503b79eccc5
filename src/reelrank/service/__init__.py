"""The Personalize resources, one module per family. Knows nothing of HTTP: plain dicts in and out."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from reelrank.service.context import Context
from reelrank.service.data_jobs import DataJobs
from reelrank.service.datasets import Datasets
from reelrank.service.recipes import Recipes
from reelrank.service.tagging import Tagging

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def snake_case(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


class Backend:
    """Finds the handler of an operation by name across the service families."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.families: list[object] = [Datasets(ctx), DataJobs(ctx), Tagging(ctx), Recipes()]

    def handler(self, operation: str) -> Handler | None:
        name = snake_case(operation)
        for family in self.families:
            method = getattr(family, name, None)
            if callable(method):
                return method  # type: ignore[no-any-return]
        return None

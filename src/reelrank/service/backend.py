"""Finds the handler of an operation across the service families."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any, TypeVar

from reelrank.service.attribution import Attributions
from reelrank.service.batch import BatchJobs
from reelrank.service.campaigns import Campaigns
from reelrank.service.context import Context
from reelrank.service.data_jobs import DataJobs
from reelrank.service.datasets import Datasets
from reelrank.service.events import Events
from reelrank.service.filters import Filters
from reelrank.service.progress import Progress
from reelrank.service.recipes import Recipes
from reelrank.service.recommenders import Recommenders
from reelrank.service.records import Records
from reelrank.service.runtime import Runtime
from reelrank.service.solutions import Solutions
from reelrank.service.tagging import Tagging

F = TypeVar("F")
Handler = Callable[[dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]
FAMILIES: tuple[type, ...] = (Datasets, DataJobs, Solutions, Campaigns, Recommenders, Events, Records, Filters, Runtime,
                              BatchJobs, Attributions, Tagging, Recipes, Progress)


def snake_case(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


@cache
def family_of(operation: str) -> type | None:
    """The service family that implements `operation`, or None when it is not built yet."""
    return next((family for family in FAMILIES if callable(getattr(family, snake_case(operation), None))), None)


class Backend:
    """Finds the handler of an operation by name across the service families."""

    def __init__(self, ctx: Context) -> None:
        self.families = {family: family(ctx) for family in FAMILIES}

    def family(self, family: type[F]) -> F:
        instance: F = self.families[family]
        return instance

    def handler(self, operation: str) -> Handler | None:
        family = family_of(operation)
        if family is None:
            return None
        method: Handler = getattr(self.families[family], snake_case(operation))
        return method

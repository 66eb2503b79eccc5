"""Item exploration and cold start: items the model has never seen (new in the catalogue, e.g. from PutItems)
are scored from their metadata against the user's history and mixed into the list, `explorationWeight` of the
slots, if they are younger than `explorationItemAgeCutOff` days."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from reelrank.serving.catalogs import Catalog

DEFAULT_WEIGHT = 0.3
DEFAULT_AGE_CUT_OFF_DAYS = 30.0
REASON = "Exploration"


@dataclass(frozen=True)
class Exploration:
    weight: float
    age_cut_off_days: float

    @classmethod
    def from_config(cls, config: dict[str, str] | None) -> Exploration:
        config = config or {}
        return cls(float(config.get("explorationWeight", DEFAULT_WEIGHT)),
                   float(config.get("explorationItemAgeCutOff", DEFAULT_AGE_CUT_OFF_DAYS)))

    def slots(self, count: int) -> int:
        return min(count, round(self.weight * count))


def cold_items(catalog: Catalog, known: dict[str, int], history: list[str], exploration: Exploration, now: float,
               limit: int, excluded: set[str]) -> list[str]:
    """Up to `limit` items unknown to the model, best first: metadata overlap with the history, newest on ties."""
    if limit <= 0 or not catalog.item_ids:
        return []
    oldest = now - exploration.age_cut_off_days * 86400.0
    candidates = [i for i, item in enumerate(catalog.item_ids)
                  if item not in known and item not in excluded
                  and (catalog.created[i] == 0 or catalog.created[i] >= oldest)]
    if not candidates:
        return []
    profile: Counter[str] = Counter()
    for item in history:
        position = catalog.position.get(item)
        if position is not None:
            profile.update(catalog.tokens[position])
    scores = np.array([sum(profile[t] for t in catalog.tokens[i]) / math.sqrt(len(catalog.tokens[i]) or 1)
                       for i in candidates])
    newest = np.array([catalog.created[i] for i in candidates], dtype=np.float64)
    order = np.lexsort((-newest, -scores))[:limit]
    return [catalog.item_ids[candidates[i]] for i in order]


def mix(ranked: list[dict[str, object]], explored: list[str], count: int) -> list[dict[str, object]]:
    """Spread the explored items evenly through the list, which keeps `count` items."""
    if not explored:
        return ranked[:count]
    result = list(ranked[: count - len(explored)])
    step = count / len(explored)
    for number, item in enumerate(explored):
        result.insert(min(len(result), int(number * step + step / 2)), {"itemId": item, "reason": [REASON]})
    return result[:count]

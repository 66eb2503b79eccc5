"""Item exploration and cold start: items the model has never seen (new in the catalogue, e.g. from PutItems)
are scored from their metadata against the user's history and mixed into the list, `explorationWeight` of the
slots, if they are younger than `explorationItemAgeCutOff` days."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable
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


def cold_items(catalog: Catalog, known: dict[str, int], history: Callable[[], Iterable[str]],
               exploration: Exploration, now: float, limit: int, excluded: set[str]) -> list[str]:
    """Up to `limit` items unknown to the model, best first: metadata overlap with the `history()` (asked for only
    when there are such items), newest on ties."""
    if limit <= 0 or not catalog.item_ids:
        return []
    unknown = _unknown_positions(catalog, known)
    if not len(unknown):
        return []
    oldest = now - exploration.age_cut_off_days * 86400.0
    created = np.asarray(catalog.created)[unknown]
    candidates = [int(i) for i in unknown[(created == 0) | (created >= oldest)]
                  if catalog.item_ids[i] not in excluded]
    if not candidates:
        return []
    profile: Counter[str] = Counter()
    for item in history():
        position = catalog.position.get(item)
        if position is not None:
            profile.update(catalog.tokens[position])
    scores = np.array([sum(profile[t] for t in catalog.tokens[i]) / math.sqrt(len(catalog.tokens[i]) or 1)
                       for i in candidates])
    newest = np.array([catalog.created[i] for i in candidates], dtype=np.float64)
    order = np.lexsort((-newest, -scores))[:limit]
    return [catalog.item_ids[candidates[i]] for i in order]


_UNKNOWN_CACHE: dict[tuple[int, int], tuple[Catalog, dict[str, int], np.ndarray]] = {}
_UNKNOWN_CACHE_SIZE = 16
_UNKNOWN_LOCK = threading.Lock()


def _unknown_positions(catalog: Catalog, known: dict[str, int]) -> np.ndarray:
    """Catalogue positions of the items the model does not know: worked out once per catalogue and model, not on
    every request (a catalogue is replaced, never changed, when its items change)."""
    key = (id(catalog), id(known))
    cached = _UNKNOWN_CACHE.get(key)
    if cached is not None and cached[0] is catalog and cached[1] is known:
        return cached[2]
    positions = np.array([i for i, item in enumerate(catalog.item_ids) if item not in known], dtype=np.int64)
    with _UNKNOWN_LOCK:
        if len(_UNKNOWN_CACHE) >= _UNKNOWN_CACHE_SIZE:
            _UNKNOWN_CACHE.pop(next(iter(_UNKNOWN_CACHE)))
        _UNKNOWN_CACHE[key] = (catalog, known, positions)
    return positions


def mix(ranked: list[dict[str, object]], explored: list[str], count: int) -> list[dict[str, object]]:
    """Spread the explored items evenly through the list, which keeps `count` items."""
    if not explored:
        return ranked[:count]
    result = list(ranked[: count - len(explored)])
    step = count / len(explored)
    for number, item in enumerate(explored):
        result.insert(min(len(result), int(number * step + step / 2)), {"itemId": item, "reason": [REASON]})
    return result[:count]

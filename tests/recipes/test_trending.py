from __future__ import annotations

import numpy as np
import pytest

from reelrank.recipes.base import Interactions
from reelrank.recipes.popularity import Popularity
from reelrank.recipes.trending import FREQUENCIES, Trending, interval_seconds
from tests.recipes.planted import BURST, POPULAR, make, top

HOUR = 3600
EMPTY = np.zeros(0, dtype=np.int64)


def events(spec: list[tuple[int, int, int]], n_items: int) -> Interactions:
    """(user, item, timestamp) triples → Interactions sorted by (user, timestamp)."""
    array = np.array(sorted(spec), dtype=np.int64)
    return Interactions(array[:, 0], array[:, 1], array[:, 2], np.ones(len(array), dtype=np.float32),
                        int(array[:, 0].max()) + 1, n_items)


def test_frequencies() -> None:
    assert [interval_seconds(name) for name in FREQUENCIES] == [1800, 3600, 7200, 10800, 86400]
    assert interval_seconds(" 2  Hours ") == 7200
    assert Trending().interval == 7200
    with pytest.raises(ValueError, match="trend_discovery_frequency"):
        Trending({"trend_discovery_frequency": "90 minutes"})


def test_ranks_by_growth_between_the_last_two_intervals() -> None:
    newest = 100 * HOUR
    spec: list[tuple[int, int, int]] = []
    user = 0
    # item 0: 10 → 11 (big but flat); item 1: 0 → 3 (new and rising); item 2: 6 → 1 (declining);
    # item 3: popular long ago only; item 4: 1 → 2.
    for item, previous, recent in ((0, 10, 11), (1, 0, 3), (2, 6, 1), (4, 1, 2)):
        for k in range(previous):
            spec.append((user, item, newest - 3 * HOUR + k))
            user += 1
        for k in range(recent):
            spec.append((user, item, newest - HOUR + k))
            user += 1
    for k in range(30):
        spec.append((user, 3, 10 * HOUR + k))
        user += 1
    spec.append((user, 4, newest))
    model = Trending()
    model.fit(events(spec, 5))
    scores = model.score(EMPTY)
    # growth z-scores: item 1: 3/2 = 1.5, item 4: 2/2 = 1.0, item 0: 1/sqrt(22); then by popularity: 3 (30), 2 (7).
    assert top(scores, 5).tolist() == [1, 4, 0, 3, 2]
    assert scores.max() == 1.0 and scores.min() > 0 and len(set(scores.tolist())) == 5


def test_falls_back_to_popularity_without_growth() -> None:
    newest = 50 * HOUR
    spec = [(u, u % 3, newest - 3 * HOUR) for u in range(9)] + [(u, u % 3, newest) for u in range(9, 18)]
    spec += [(18 + u, 0, 5 * HOUR) for u in range(5)] + [(30 + u, 1, 5 * HOUR) for u in range(2)]
    data = events(spec, 4)
    trending, popularity = Trending(), Popularity()
    trending.fit(data)
    popularity.fit(data)
    assert top(trending.score(EMPTY), 4).tolist() == top(popularity.score(EMPTY), 4).tolist() == [0, 1, 2, 3]


def test_the_interval_length_changes_what_trends() -> None:
    planted = make()
    two_hours, one_day = Trending(), Trending({"trend_discovery_frequency": "1 day"})
    two_hours.fit(planted.train)
    one_day.fit(planted.train)
    # POPULAR[1] is flat and POPULAR[0] declines across the last two 2-hour intervals, but their 80 and 16 late
    # events all fall in the last day, after a quiet day.
    assert top(two_hours.score(EMPTY), 5).tolist() == BURST.tolist()
    assert top(one_day.score(EMPTY), 1).tolist() == [int(POPULAR[1])]
    assert set(top(one_day.score(EMPTY), 7).tolist()) == {*POPULAR[:2].tolist(), *BURST.tolist()}

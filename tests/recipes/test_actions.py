from __future__ import annotations

import numpy as np

from reelrank.recipes.actions import MIN_EVIDENCE, ActionPropensity
from reelrank.recipes.base import Interactions


def interactions(taken_rate: list[float], shown: int = 120, seed: int = 0) -> Interactions:
    """Every user is shown every action; action a is taken with probability taken_rate[a]."""
    rng = np.random.default_rng(seed)
    users, items, weights = [], [], []
    for user in range(shown):
        for action, rate in enumerate(taken_rate):
            users.append(user)
            items.append(action)
            weights.append(1.0 if rng.random() < rate else -1.0)
    n = len(users)
    return Interactions(np.array(users), np.array(items), np.arange(n), np.array(weights, dtype=np.float32), shown,
                        len(taken_rate))


def test_actions_rank_by_taken_rate_and_report_only_with_evidence() -> None:
    model = ActionPropensity()
    model.fit(interactions([0.1, 0.6, 0.3, 0.9]))
    assert np.argsort(-model.score(np.zeros(0, dtype=np.int64))).tolist() == [3, 1, 2, 0]
    reported = model.reported()
    assert reported[1] > 0.5 and reported[0] == 0.0  # action 0 has fewer than 50 TAKEN interactions
    assert (model.taken[0] < MIN_EVIDENCE)


def test_save_and_load_give_the_same_scores() -> None:
    model = ActionPropensity({"personal_weight": "0.8"})
    model.fit(interactions([0.2, 0.5, 0.4]))
    loaded = ActionPropensity.from_arrays(model.hyperparameters, model.arrays())
    for history in (np.zeros(0, dtype=np.int64), np.array([1]), np.array([0, 2])):
        assert np.array_equal(model.score(history), loaded.score(history))

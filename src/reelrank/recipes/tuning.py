"""Hyperparameter optimisation for `performHPO`, with Optuna's TPE sampler.

Trials are scored on a validation split carved from the training users only, so the metrics reported for the
version (on Personalize's test split) stay honest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reelrank.evaluation.harness import evaluate_personalize
from reelrank.evaluation.splits import personalize_split
from reelrank.recipes.base import Interactions, Model

DEFAULT_OBJECTIVE = "normalized_discounted_cumulative_gain_at_10"
DEFAULT_TRIALS = 10
MAX_TRIALS = 40


def search_space(hpo_ranges: Mapping[str, Any], model_type: type[Model]) -> dict[str, dict[str, Any]]:
    """The ranges to search: those given in hpoConfig, else every tunable range of the serving algorithm."""
    space = _by_name(hpo_ranges)
    return space or {name: entry for name, entry in _by_name(model_type.ranges).items() if entry.get("isTunable")}


def _by_name(ranges: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: {"kind": kind, **entry}
            for kind in ("integer", "continuous", "categorical")
            for entry in ranges.get(f"{kind}HyperParameterRanges", [])}


def tune(model_type: type[Model], fixed: Mapping[str, str], space: Mapping[str, Mapping[str, Any]],
         data: Interactions, trials: int, objective: str = DEFAULT_OBJECTIVE,
         progress: Callable[[float], None] | None = None) -> dict[str, str]:
    """Search `space` for `trials` trials; returns the best hyperparameters as Personalize strings."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    split = personalize_split(data, seed=1)
    trials = max(1, min(trials, MAX_TRIALS))

    def suggest(trial: optuna.Trial | optuna.trial.FixedTrial) -> dict[str, str]:
        values = dict(fixed)
        for name, entry in space.items():
            if entry["kind"] == "integer":
                values[name] = str(trial.suggest_int(name, int(entry["minValue"]), int(entry["maxValue"])))
            elif entry["kind"] == "continuous":
                low, high = float(entry["minValue"]), float(entry["maxValue"])
                log = entry.get("scalingType") == "Logarithmic" and low > 0
                values[name] = repr(trial.suggest_float(name, low, high, log=log))
            else:
                values[name] = str(trial.suggest_categorical(name, list(entry["values"])))
        return values

    def evaluate(trial: optuna.Trial) -> float:
        model = model_type(suggest(trial))
        model.fit(split.train)
        if progress:
            progress((trial.number + 1) / trials)
        return evaluate_personalize(model, split, exclude_seen=True)[objective]

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(evaluate, n_trials=trials)
    return {name: value for name, value in suggest(optuna.trial.FixedTrial(study.best_params)).items()
            if name in space}

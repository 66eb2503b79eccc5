"""Automatic training (`performAutoTraining`): a new solution version when the schedule says one is due.

As in Personalize, the first automatic version comes one hour after the solution becomes ACTIVE unless a version
already exists, and later ones `rate(N days)` after the newest version.
"""

from __future__ import annotations

import re

from reelrank.service.vocabulary import ACTIVE
from reelrank.store.metadata import Resource, Transaction

FIRST_TRAINING_DELAY = 3600.0
_RATE = re.compile(r"^rate\((\d+) days?\)$")
DEFAULT_DAYS = 7


def interval_days(solution: Resource) -> int:
    expression = solution.body.get("solutionConfig", {}).get("autoTrainingConfig", {}).get("schedulingExpression", "")
    match = _RATE.match(expression)
    return int(match.group(1)) if match else DEFAULT_DAYS


def due_solutions(tx: Transaction, now: float) -> list[Resource]:
    """ACTIVE solutions with automatic training whose next version is due at `now`."""
    due = []
    for solution in tx.list_resources("solution"):
        if solution.status != ACTIVE or not solution.body.get("performAutoTraining"):
            continue
        newest = tx.list_resources("solution-version", solution.arn, limit=1, newest_first=True)
        if newest:
            due_at = newest[0].created_at + interval_days(solution) * 86400.0
        else:
            due_at = solution.updated_at + FIRST_TRAINING_DELAY
        if now >= due_at:
            due.append(solution)
    return due

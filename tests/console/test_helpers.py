"""The console's small helpers: where a filter error points, which page shows an ARN, durations and numbers."""

from __future__ import annotations

import pytest

from reelrank.console.pages import _duration, _number, is_live, link_for
from reelrank.console.sections import error_position

ARN = "arn:aws:personalize:us-east-1:000000000000:"


def test_a_filter_error_points_at_its_line_and_column() -> None:
    expression = 'INCLUDE ItemID WHERE Items.GENRES IN ("Comedy")\n| EXCLUDE ItemID WHERE Items.YEAR <> 1990'
    message = 'Invalid filter expression at line 2, column 35: expected one of … but found ">"'
    assert error_position(message, expression) == {
        "line": 2, "column": 35, "text": "| EXCLUDE ItemID WHERE Items.YEAR <> 1990", "pad": " " * 34}
    assert error_position("Invalid filter expression: the filter expression is empty", "") is None
    assert error_position("Invalid filter expression at line 9, column 1: …", expression) is None
    assert error_position(None, expression) is None


@pytest.mark.parametrize(("arn", "page"), [
    (ARN + "dataset-group/movies", "/console/group?arn="),
    (ARN + "dataset/movies/INTERACTIONS", "/console/dataset?arn="),
    (ARN + "solution/s", "/console/solution?arn="),
    (ARN + "solution/s/abcd1234", "/console/solution-version?arn="),
    (ARN + "event-tracker/abc", "/console/tracker?arn="),
    (ARN + "metric-attribution/m", "/console/attribution?arn="),
    (ARN + "dataset-import-job/j", "/console/import-job?arn="),
    ("arn:aws:personalize:::recipe/aws-sims", "/console/recipe?arn="),
])
def test_arns_link_to_their_page(arn: str, page: str) -> None:
    link = link_for(arn)
    assert link is not None and link.startswith(page)


@pytest.mark.parametrize("value", ["arn:aws:iam::000000000000:role/reelrank", "not an arn", None, 42])
def test_other_values_link_nowhere(value: object) -> None:
    assert link_for(value) is None


def test_durations_numbers_and_live_statuses() -> None:
    assert [_duration(v) for v in (0, 12.4, 200, 3 * 3600 + 65, "x", None)] == [
        "0 s", "12 s", "3 min 20 s", "3 h 1 min", "", ""]
    assert [_number(v) for v in (1234567, 0.1234567, 2.0, True, "s")] == ["1,234,567", "0.1235", "2", "True", "s"]
    assert all(is_live(s) for s in ("CREATE PENDING", "CREATE IN_PROGRESS", "IN PROGRESS", "CREATE STOPPING"))
    assert not any(is_live(s) for s in ("ACTIVE", "CREATE FAILED", "CREATE STOPPED", "COMPLETED", "", None))

"""RowMeter: rows done, rows per second and the time left, reported at most once per interval."""

from __future__ import annotations

from reelrank.jobs.context import RowMeter
from reelrank.store.metadata import JobRows


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Reports:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float, JobRows | None]] = []

    def progress(self, stage: str, percent: float, rows: JobRows | None = None) -> None:
        self.calls.append((stage, percent, rows))


def test_rates_and_time_left_follow_the_work_done() -> None:
    clock, reports = Clock(), Reports()
    meter = RowMeter(reports, total=1000.0, interval=1.0, clock=clock)
    meter.add(10, 50.0)
    assert reports.calls == []  # nothing before the first interval
    clock.now += 2.0
    meter.add(390, 150.0, failed=3)
    stage, percent, rows = reports.calls[-1]
    assert (stage, percent) == ("400 rows", 20.0)
    assert rows == JobRows(400, 200.0, 8.0)  # 200 units in 2 s: 800 units left take 8 s
    assert meter.failed == 3
    clock.now += 0.5
    meter.add(100, 100.0)
    assert len(reports.calls) == 1  # within the interval
    clock.now += 0.5
    meter.add(0, 700.0)
    assert reports.calls[-1][1:] == (100.0, JobRows(500, 500 / 3.0, 0.0))


def test_nothing_known_yet() -> None:
    clock, reports = Clock(), Reports()
    meter = RowMeter(reports, total=0.0, clock=clock, stage=lambda m: f"{m.rows} users")
    assert meter.figures() == JobRows(0, None, None)
    meter.report()
    assert reports.calls == [("0 users", 0.0, JobRows(0, None, None))]

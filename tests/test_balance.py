"""Spreading a forked server's connections: a process over its share closes one connection at a time."""

from __future__ import annotations

import copy

import pytest

from reelrank import balance
from reelrank.balance import ConnectionBalance


def processes(first: int, second: int) -> tuple[ConnectionBalance, ConnectionBalance]:
    shared = ConnectionBalance(2)
    other = copy.copy(shared)  # what the fork gives the second process: the same shared counts
    shared.join(0, lambda: first)
    other.join(1, lambda: second)
    other.over_share()  # publishes its count, as its next answer would
    return shared, other


def test_the_process_over_its_share_closes_one_connection_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    heavy, light = processes(40, 24)
    assert heavy.over_share()
    assert not heavy.over_share()  # the client has not reconnected yet
    assert not light.over_share()
    monkeypatch.setattr(balance, "SHED_INTERVAL_SECONDS", 0.0)
    assert heavy.over_share()


def test_an_even_split_closes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(balance, "SHED_INTERVAL_SECONDS", 0.0)
    for first, second in ((32, 32), (33, 32), (1, 0), (0, 0)):
        one, two = processes(first, second)
        assert not one.over_share() and not two.over_share(), (first, second)

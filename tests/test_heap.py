"""The serving processes' garbage-collector policy."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from reelrank import heap


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_serving_process_freezes_what_it_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_serving", False)
    heap.freeze_loaded_data()
    loaded = [[index] for index in range(1000)]
    assert id(loaded[0]) in {id(tracked) for tracked in gc.get_objects()}
    heap.loaded()
    assert gc.get_freeze_count() >= len(loaded)
    assert id(loaded[0]) not in {id(tracked) for tracked in gc.get_objects()}  # no collection scans it again


def test_other_processes_keep_the_collector_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_serving", False)
    heap.loaded()
    assert gc.get_freeze_count() == 0

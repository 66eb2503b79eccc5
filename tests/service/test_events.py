"""The event tracker look-up of PutEvents (reelrank.service.events)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from reelrank.config import Settings
from reelrank.errors import ResourceNotFoundException
from reelrank.service import events as events_module
from reelrank.service.context import Context
from reelrank.service.events import EVENT_TRACKER, Events
from reelrank.service.vocabulary import ACTIVE
from reelrank.store.datasets import DatasetFiles
from reelrank.store.metadata import MetadataStore

GROUP = "arn:aws:personalize:us-east-1:000000000000:dataset-group/movies"


@pytest.fixture
def events(tmp_path: Path) -> Events:
    store = MetadataStore(f"sqlite:///{tmp_path}/m.db")
    store.migrate()
    with store.transaction() as tx:
        tx.insert_resource(EVENT_TRACKER, f"{GROUP}/tracker", "tracker", GROUP, ACTIVE,
                           {"trackingId": "t-1", "datasetGroupArn": GROUP})
    return Events(Context(Settings(data_dir=tmp_path), store, DatasetFiles(tmp_path / "datasets")))


def test_requests_that_find_the_tracker_expired_share_one_look_up(events: Events,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[str] = []
    real = events._look_up_group

    def counted(tracking_id: str, kind: str) -> str:
        looked_up.append(tracking_id)
        time.sleep(0.05)  # long enough for every request to arrive while it runs
        return real(tracking_id, kind)

    monkeypatch.setattr(events, "_look_up_group", counted)
    monkeypatch.setattr(events_module, "TRACKER_CACHE_SECONDS", 0.0)  # every answer expires at once

    async def main() -> list[str]:
        first = await asyncio.gather(*(events._group_of("t-1") for _ in range(20)))
        second = await asyncio.gather(*(events._group_of("t-1") for _ in range(20)))
        return [*first, *second]

    assert asyncio.run(main()) == [GROUP] * 40
    assert looked_up == ["t-1", "t-1"]


def test_an_unknown_tracking_id_fails_every_waiting_request(events: Events) -> None:
    async def main() -> list[object]:
        return list(await asyncio.gather(*(events._group_of("nope") for _ in range(3)), return_exceptions=True))

    assert all(isinstance(outcome, ResourceNotFoundException) for outcome in asyncio.run(main()))

"""How the runtime resolves campaigns and recommenders (`Runtime._target`): off the event loop, once at a time,
answering from the previous resolution while the next is made."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from reelrank.config import Settings
from reelrank.errors import ResourceNotFoundException
from reelrank.service import runtime as runtime_module
from reelrank.service.context import Context
from reelrank.service.runtime import Runtime
from tests.jobs.test_batch_scoring import ease, setup

ARN = "arn:aws:personalize:us-east-1:000000000000:campaign/c"


class Loads:
    """Stands in for `Runtime._load_target` (reading the campaign and loading its model), answering "v1", "v2", …
    and held until `release` while `hold` is set, on whichever thread calls it."""

    def __init__(self) -> None:
        self.calls: list[threading.Thread] = []
        self.hold = threading.Event()
        self.release = threading.Event()
        self.fail = False

    def __call__(self, arn: str, kind: str) -> Any:
        self.calls.append(threading.current_thread())
        if self.hold.is_set():
            assert self.release.wait(5)
        if self.fail:
            raise ResourceNotFoundException(f"Could not find an ACTIVE {kind} with ARN {arn}.")
        return f"v{len(self.calls)}"


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Runtime, Loads]:
    created = Runtime(Context(Settings(data_dir=tmp_path), None, None))  # type: ignore[arg-type]
    loads = Loads()
    monkeypatch.setattr(created, "_load_target", loads)
    return created, loads


def test_requests_wait_for_one_resolution_made_off_the_loop(runtime: tuple[Runtime, Loads]) -> None:
    created, loads = runtime

    async def main() -> list[Any]:
        return list(await asyncio.gather(*(created._target(ARN, "campaign") for _ in range(20))))

    assert asyncio.run(main()) == ["v1"] * 20
    assert len(loads.calls) == 1 and loads.calls[0] is not threading.main_thread()


def test_an_expired_resolution_answers_while_the_next_is_made(runtime: tuple[Runtime, Loads],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    created, loads = runtime
    monkeypatch.setattr(runtime_module, "TARGET_CACHE_SECONDS", 0.0)

    async def main() -> list[Any]:
        first = await created._target(ARN, "campaign")
        loads.hold.set()  # the next load takes as long as the test wants
        during = [await created._target(ARN, "campaign") for _ in range(5)]  # expired: answered at once
        loads.release.set()
        while created._resolving:
            await asyncio.sleep(0.01)
        assert len(loads.calls) == 2  # the first, then one refresh for the five expired answers
        return [first, *during, await created._target(ARN, "campaign")]

    assert asyncio.run(main()) == ["v1"] * 6 + ["v2"]


def test_a_failed_refresh_drops_the_resolution(runtime: tuple[Runtime, Loads],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    created, loads = runtime
    monkeypatch.setattr(runtime_module, "TARGET_CACHE_SECONDS", 0.0)

    async def main() -> None:
        assert await created._target(ARN, "campaign") == "v1"
        loads.fail = True  # deleted meanwhile
        assert await created._target(ARN, "campaign") == "v1"  # still answering while it is resolved again
        while created._resolving:
            await asyncio.sleep(0.01)
        with pytest.raises(ResourceNotFoundException):
            await created._target(ARN, "campaign")

    asyncio.run(main())


def test_an_update_here_is_not_undone_by_a_refresh_in_flight(runtime: tuple[Runtime, Loads]) -> None:
    created, loads = runtime

    async def main() -> Any:
        await created._target(ARN, "campaign")
        created.ctx.resolved[ARN] = (time.monotonic() - 1, "v1")  # expired
        loads.hold.set()
        await created._target(ARN, "campaign")  # starts a refresh, held
        created.ctx.forget(ARN)  # UpdateCampaign in this process
        loads.release.set()
        while created._resolving:
            await asyncio.sleep(0.01)
        assert ARN not in created.ctx.resolved  # the refresh (begun before the update) was not kept
        loads.hold.clear()
        return await created._target(ARN, "campaign")

    assert asyncio.run(main()) == "v3"


def test_an_item_only_request_builds_no_histories() -> None:
    """Building a dataset group's histories reads its whole data set: a related-items request without a user needs
    none."""
    created, target, _ = setup(ease(False), "aws-similar-items", None, cold=False)
    # a folder of its own: histories keep what a model prepares from them by folder, and setup's is shared
    target = dataclasses.replace(target, deployment=dataclasses.replace(target.deployment, folder="item-only"))
    created.ctx.resolved[ARN] = (time.monotonic() + 3600, target)
    readied: list[str] = []

    async def ready(group_arn: str) -> None:
        readied.append(group_arn)

    created.ctx.histories.ready = ready
    answer = asyncio.run(created.get_recommendations({"campaignArn": ARN, "itemId": "i1", "numResults": 5}))
    assert len(answer["itemList"]) == 5 and readied == []
    asyncio.run(created.get_recommendations({"campaignArn": ARN, "itemId": "i1", "userId": "u1"}))
    assert readied == [target.group_arn]

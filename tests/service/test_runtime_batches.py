"""GetRecommendations answered in batches (`Runtime.recommend_many`, `TurnBatches`) as one by one."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from reelrank.recipes.contextual import ContextLift
from reelrank.service import turn_batches
from reelrank.service.runtime import Runtime, Target, plain
from reelrank.service.turn_batches import TurnBatches
from reelrank.serving.exploration import Exploration
from tests.jobs.test_batch_scoring import N_ITEMS, ease, setup


def without_ids(answer: dict[str, Any]) -> list[dict[str, Any]]:
    assert answer["recommendationId"].startswith("RID-")
    return list(answer["itemList"])


def assert_same_answers(runtime: Runtime, target: Target, requests: list[dict[str, Any]]) -> None:
    assert all(plain(target, request) for request in requests)
    one_by_one = [without_ids(runtime.recommend(target, request)) for request in requests]
    alone: list[str] = []
    recommend = runtime.recommend

    def one(target: Target, params: dict[str, Any]) -> dict[str, Any]:
        alone.append(params["userId"])
        return recommend(target, params)

    runtime.recommend = one  # type: ignore[method-assign]
    assert [without_ids(answer) for answer in runtime.recommend_many(target, requests)] == one_by_one
    assert len(alone) < len(requests) / 10, alone  # only users without evidence or with nothing left


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("recipe", ["aws-user-personalization", "aws-vod-top-picks"])
def test_many_users_answer_as_one_by_one(ties: bool, recipe: str) -> None:
    runtime, target, users = setup(ease(ties), recipe, None, cold=False)
    counts = [1, 7, 25, N_ITEMS, 200]
    requests = [{"campaignArn": "c", "userId": user, "numResults": counts[k % len(counts)]}
                for k, user in enumerate(users)]
    assert_same_answers(runtime, target, requests)
    if recipe == "aws-vod-top-picks":  # u3 watched every item: nothing left, answered one by one
        assert runtime.recommend_many(target, [{"userId": "u3"}])[0]["itemList"] == []


def test_exploration_and_users_without_evidence() -> None:
    runtime, target, users = setup(ease(False), "aws-user-personalization", Exploration(0.3, 30.0), cold=True)
    requests = [{"userId": user, "context": {"DEVICE": "tv"}} for user in users]
    assert_same_answers(runtime, target, requests)
    answers = runtime.recommend_many(target, requests)
    assert all({"new1", "new2"} <= {item["itemId"] for item in answer["itemList"]} for answer in answers)
    stranger = answers[users.index("stranger")]["itemList"]
    assert stranger and all("score" not in item for item in stranger if "reason" not in item)  # popular items


def test_contexts_answer_as_one_by_one_and_move_the_answers() -> None:
    runtime, target, users = setup(ease(False), "aws-user-personalization", None, cold=False)
    rng = np.random.default_rng(4)
    items = rng.integers(0, N_ITEMS, 3000)
    devices = np.where((items % 2 == 0) ^ (rng.random(3000) < 0.1), "tv", "mobile")  # even items: mostly on tv
    context = ContextLift.fit(pa.table({"DEVICE": devices}), items, N_ITEMS, ["DEVICE"])
    deployment = dataclasses.replace(target.deployment, context=context,
                                     popularity=np.bincount(items, minlength=N_ITEMS).astype(np.float32))
    target = dataclasses.replace(target, deployment=deployment)
    contexts: list[dict[str, str]] = [{"DEVICE": "tv"}, {"DEVICE": "mobile"}, {}, {"DEVICE": "fridge"}]
    requests = [{"userId": user, "numResults": 10, "context": contexts[k % 4]} for k, user in enumerate(users)]
    assert_same_answers(runtime, target, requests)

    def even_share(user: str, device: str | None) -> float:
        request = {"userId": user, "numResults": 10, **({"context": {"DEVICE": device}} if device else {})}
        found = [int(item["itemId"][1:]) for item in runtime.recommend(target, request)["itemList"]]
        return sum(item % 2 == 0 for item in found) / len(found)

    known = [user for user in users[:60] if user not in ("u2", "u3")]
    assert np.mean([even_share(user, "tv") for user in known]) > np.mean([even_share(user, None) for user in known])
    assert np.mean([even_share(user, "mobile") for user in known]) < np.mean([even_share(user, None) for user in known])
    assert even_share("stranger", "tv") > even_share("stranger", "mobile")  # popular items, in the context's order


def test_only_plain_requests_are_batched() -> None:
    _, target, _ = setup(ease(False), "aws-user-personalization", None, cold=False)
    assert plain(target, {"campaignArn": "c", "userId": "u1", "numResults": 5, "context": {}})
    for extra in ({"filterArn": "f"}, {"itemId": "i1"}, {"promotions": []}, {"metadataColumns": {}},
                  {"numResults": 0}, {"userId": ""}):
        assert not plain(target, {"campaignArn": "c", "userId": "u1", **extra})
    _, related, _ = setup(ease(False), "aws-similar-items", None, cold=False)
    assert not plain(related, {"campaignArn": "c", "userId": "u1"})


def test_requests_of_one_turn_are_answered_together() -> None:
    calls: list[tuple[str, list[int]]] = []

    def many(target: str, params: list[dict[str, Any]]) -> list[dict[str, Any]]:
        calls.append((target, [p["n"] for p in params]))
        if any(p["n"] == 13 for p in params):
            raise ValueError("unlucky")
        return [{"n": p["n"], "target": target} for p in params]

    def one(target: str, params: dict[str, Any]) -> dict[str, Any]:
        if params["n"] == 13:
            raise ValueError("unlucky alone")
        return {"n": params["n"], "target": target, "alone": True}

    batches: TurnBatches[str] = TurnBatches(many, one)

    async def scenario() -> list[Any]:
        first = await asyncio.gather(*(batches.answer("a" if n % 2 else "b", {"n": n}) for n in range(6)))
        second = await asyncio.gather(*(batches.answer("a", {"n": n}) for n in (12, 13, 14)),
                                      return_exceptions=True)
        return [first, second]

    first, second = asyncio.run(scenario())
    assert first == [{"n": n, "target": "a" if n % 2 else "b"} for n in range(6)]
    assert calls[:2] == [("b", [0, 2, 4]), ("a", [1, 3, 5])]  # one call per target for the whole turn
    assert second[0] == {"n": 12, "target": "a", "alone": True} and second[2]["alone"]
    assert isinstance(second[1], ValueError) and str(second[1]) == "unlucky alone"


def test_requests_joining_over_consecutive_turns_are_answered_together() -> None:
    calls: list[list[int]] = []

    def many(_target: str, params: list[dict[str, Any]]) -> list[dict[str, Any]]:
        calls.append([p["n"] for p in params])
        return [{"n": p["n"]} for p in params]

    batches: TurnBatches[str] = TurnBatches(many, lambda _target, params: {"n": params["n"]})

    async def scenario() -> list[dict[str, Any]]:
        first = [asyncio.ensure_future(batches.answer("a", {"n": n})) for n in range(3)]
        await asyncio.sleep(0)  # a turn goes by: the first three are waiting
        second = [asyncio.ensure_future(batches.answer("a", {"n": n})) for n in range(3, 6)]
        return list(await asyncio.gather(*first, *second))

    assert asyncio.run(scenario()) == [{"n": n} for n in range(6)]
    assert calls == [[0, 1, 2, 3, 4, 5]]


def test_a_steady_trickle_of_requests_is_still_answered_every_few_turns() -> None:
    turn = 0
    waited: list[int] = []

    def many(_target: str, params: list[dict[str, Any]]) -> list[dict[str, Any]]:
        waited.extend(turn - p["joined"] for p in params)
        return [{} for _ in params]

    batches: TurnBatches[str] = TurnBatches(many, lambda _target, _params: {})

    async def scenario() -> None:
        nonlocal turn
        pending = []
        for turn in range(200):  # one new request every turn, forever as far as the batches can tell
            pending.append(asyncio.ensure_future(batches.answer("a", {"joined": turn})))
            await asyncio.sleep(0)
        await asyncio.gather(*pending)

    asyncio.run(scenario())
    assert len(waited) == 200 and max(waited) <= turn_batches.MAX_DEFERRALS + 2

"""personalize-runtime: GetRecommendations and GetPersonalizedRanking from deployed models and live histories."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import math
import random
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from starlette.concurrency import run_in_threadpool

from reelrank import ids
from reelrank.errors import InvalidInputException, ResourceNotFoundException
from reelrank.filters import CompiledFilter, ItemTable, UserContext, compile_filter
from reelrank.recipes.actions import ActionPropensity
from reelrank.service.attribution import source_code
from reelrank.service.campaigns import CAMPAIGN
from reelrank.service.context import Context
from reelrank.service.filters import FILTER
from reelrank.service.recommenders import RECOMMENDER
from reelrank.service.turn_batches import TurnBatches
from reelrank.service.vocabulary import ACTIVE
from reelrank.serving.deployments import Deployment, round7, softmax, softmax_at, top
from reelrank.serving.exploration import Exploration, cold_items, mix
from reelrank.serving.histories import NO_HISTORY, IndexedHistory
from reelrank.serving.ranking import rank_rows

DEFAULT_RESULTS = 25
MAX_RESULTS_WITH_METADATA = 50
DEFAULT_ACTIONS = 5
TARGET_CACHE_SECONDS = 1.0
"""How long a campaign's or recommender's resolution is reused before it is resolved again: an update or delete in
another process is seen within a second (and the time to load a new model), and each response still comes from
exactly one model version."""
_SCORED_USES = ("user", "ranking")
_PLAIN_MEMBERS = frozenset({"campaignArn", "recommenderArn", "userId", "numResults", "context"})
_NO_ITEMS = np.zeros(0, dtype=np.int64)
FILTER_WINDOWS = "filter windows"
"""The key of a history's filter windows (`UserContext.windows`) among its prepared data (model folders otherwise)."""


@dataclass(frozen=True)
class Target:
    """What answers a request: a campaign's or a recommender's model, in its dataset group."""

    deployment: Deployment
    group_arn: str
    use_case: bool
    exploration: Exploration | None
    metadata: bool
    """enableMetadataWithRecommendations"""
    arn: str | None = None
    """The campaign or recommender (None for batch jobs): named in recommendationIds for metric attribution."""


def _recommendation_id(source_arn: str | None = None) -> str:
    """`RID-<uuid>-CID-<6 hex>`: the suffix names the campaign or recommender, for metric attribution."""
    if source_arn is None:
        return f"RID-{ids.request_id()}"
    return f"RID-{ids.hex_id(24)}-CID-{source_code(source_arn)}"  # 39 characters: PutEvents allows 40


class Runtime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.batches = TurnBatches(self.recommend_many, self.recommend)
        self._resolving: dict[str, asyncio.Future[Target]] = {}

    async def _target(self, arn: str, kind: str) -> Target:
        """The campaign or recommender `arn`, resolved on a worker thread: loading a model (reading and checking a
        47 MB artifact for ML-1M) held the event loop, and every request of the process, 100 ms. An expired
        resolution still answers while the next one is made; requests with none wait for one resolution together."""
        cached = self.ctx.resolved.get(arn)
        if cached is not None:
            if cached[0] <= time.monotonic():
                self._resolve(arn, kind, refresh=True)
            resolved: Target = cached[1]
            return resolved
        return await asyncio.shield(self._resolve(arn, kind, refresh=False))

    def _resolve(self, arn: str, kind: str, refresh: bool) -> asyncio.Future[Target]:
        pending = self._resolving.get(arn)
        if pending is None:
            pending = asyncio.ensure_future(run_in_threadpool(self._load_target, arn, kind))
            self._resolving[arn] = pending
            pending.add_done_callback(functools.partial(self._resolved, arn, refresh))
        return pending

    def _resolved(self, arn: str, refresh: bool, future: asyncio.Future[Target]) -> None:
        self._resolving.pop(arn, None)
        if future.cancelled() or future.exception() is not None:  # deleted, say: the next request resolves it again
            self.ctx.resolved.pop(arn, None)
        elif not refresh or arn in self.ctx.resolved:  # not forgotten (updated here) while it was resolved
            self.ctx.resolved[arn] = (time.monotonic() + TARGET_CACHE_SECONDS, future.result())

    def _load_target(self, arn: str, kind: str) -> Target:
        with self.ctx.store.reading() as tx:
            resource = tx.get_resource(arn)
        if resource is None or resource.kind != kind or resource.status != ACTIVE:
            raise ResourceNotFoundException(f"Could not find an ACTIVE {kind} with ARN {arn}.")
        body = resource.body
        config = body.get("campaignConfig") or body.get("recommenderConfig") or {}
        target = self.target_for(body["recipeArn"], body["artifact"], body["datasetGroupArn"], config,
                                 use_case=kind == RECOMMENDER)
        return dataclasses.replace(target, arn=arn)

    def target_for(self, recipe_arn: str, artifact: str, group_arn: str, config: dict[str, Any],
                   use_case: bool = False) -> Target:
        deployment = self.ctx.deployments.get(recipe_arn, artifact)
        exploration = Exploration.from_config(config.get("itemExplorationConfig")) if deployment.spec.explores else None
        metadata = bool(config.get("enableMetadataWithRecommendations"))
        return Target(deployment, group_arn, use_case, exploration, metadata)

    def compiled_filter(self, arn: str, group_arn: str) -> CompiledFilter:
        cached = self.ctx.resolved.get(arn)
        if cached is not None and cached[0] > time.monotonic():
            compiled: CompiledFilter = cached[1]
            return compiled
        with self.ctx.store.reading() as tx:
            resource = tx.get_resource(arn)
        if resource is None or resource.kind != FILTER or resource.status != ACTIVE:
            raise ResourceNotFoundException(f"Could not find an ACTIVE filter with ARN {arn}.")
        if resource.body["datasetGroupArn"] != group_arn:
            raise InvalidInputException(f"Filter {arn} belongs to another dataset group.")
        compiled = compile_filter(resource.body["filterExpression"])
        self.ctx.resolved[arn] = (time.monotonic() + TARGET_CACHE_SECONDS, compiled)
        return compiled

    def allowed(self, params: dict[str, Any], target: Target, user_id: str | None,
                item_id: str | None) -> np.ndarray | None:
        """The filter's mask over the model's items, or None without a filter."""
        if "filterArn" not in params:
            return None
        compiled = self.compiled_filter(params["filterArn"], target.group_arn)
        deployment = target.deployment
        items = self.ctx.catalogs.item_table(target.group_arn, deployment.folder, deployment.item_ids)
        history = self.history(target, user_id)
        user = UserContext(
            history.items, history.types,
            self.ctx.users.of(target.group_arn, user_id) if user_id and compiled.expression.uses_current_user else {},
            deployment.index.get(item_id) if item_id else None, history.prepared.setdefault(FILTER_WINDOWS, {}))
        mask: np.ndarray = compiled.mask(items, user, params.get("filterValues", {}))
        return mask

    def history(self, target: Target, user_id: str | None) -> IndexedHistory:
        """The user's (or session's) live history in the target model's item indices."""
        if not user_id:
            return NO_HISTORY
        deployment = target.deployment
        return self.ctx.histories.indexed(target.group_arn, user_id, deployment.folder, deployment.index)

    async def get_recommendations(self, params: dict[str, Any]) -> dict[str, Any]:
        """On the event loop: `plain` requests wait a turn or a few and are answered with the others that arrived
        meanwhile (`TurnBatches`), the rest at once."""
        if ("campaignArn" in params) == ("recommenderArn" in params):
            raise InvalidInputException("Give exactly one of campaignArn and recommenderArn.")
        target = await (self._target(params["campaignArn"], CAMPAIGN) if "campaignArn" in params
                        else self._target(params["recommenderArn"], RECOMMENDER))
        if params.get("userId"):  # histories are read for a user only (an item-only request needs none)
            await self.ctx.histories.ready(target.group_arn)
        if plain(target, params):
            return await self.batches.answer(target, params)
        return self.recommend(target, params)

    def recommend(self, target: Target, params: dict[str, Any]) -> dict[str, Any]:
        """GetRecommendations against a resolved target (also used by batch inference jobs)."""
        deployment, spec = target.deployment, target.deployment.spec
        if spec.use == "action":
            raise InvalidInputException("This campaign serves Next-Best-Action: use GetActionRecommendations.")
        user_id, item_id = params.get("userId"), params.get("itemId")
        required = spec.requires if target.use_case else (
            ("itemId",) if spec.use == "related" else ("userId",) if spec.use in _SCORED_USES else ())
        missing = [member for member in required if member not in params]
        if missing:
            raise InvalidInputException(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required "
                                        f"for this {'recommender' if target.use_case else 'campaign'}.")
        count = params.get("numResults", DEFAULT_RESULTS)
        columns = params.get("metadataColumns", {}).get("ITEMS", [])
        if columns and not target.metadata:
            raise InvalidInputException("metadataColumns needs enableMetadataWithRecommendations on the "
                                        f"{'recommender' if target.use_case else 'campaign'}.")
        if columns and count > MAX_RESULTS_WITH_METADATA:
            raise InvalidInputException(f"numResults can be at most {MAX_RESULTS_WITH_METADATA} with metadataColumns.")
        history = self.history(target, user_id)
        removed = [item_id] if item_id else []
        if user_id and spec.exclude:
            removed += self.ctx.histories.items_with_types(target.group_arn, user_id, spec.exclude)
        excluded = deployment.mask(removed)
        scores = deployment.scores(history, item_id)
        context = params.get("context")
        if scores is not None:
            scores = deployment.in_context(scores, context)
        popular = deployment.popular_in(context)
        recommendation_id = _recommendation_id(target.arn)
        promoted: list[dict[str, Any]] = []
        for promotion in params.get("promotions", []):
            allowed = self.allowed(promotion, target, user_id, item_id)
            wanted = math.ceil(count * promotion["percentPromotedItems"] / 100)
            hidden = excluded if allowed is None else excluded | ~allowed
            promoted = [dict(item, promotionName=promotion["name"])
                        for item in _ranked(deployment, scores, popular, hidden, wanted)]
        allowed = self.allowed(params, target, user_id, item_id)
        hidden = excluded | deployment.mask([item["itemId"] for item in promoted]) if promoted else excluded
        if allowed is not None:
            hidden = hidden | ~allowed
        items = self._explored(target, user_id, _ranked(deployment, scores, popular, hidden, count - len(promoted)),
                               count, count - len(promoted), removed)
        items = _place(items, promoted, recommendation_id)
        if columns:
            self._attach_metadata(items, target.group_arn, columns)
        return {"itemList": items, "recommendationId": recommendation_id}

    def recommend_many(self, target: Target, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`recommend` for each of many `plain` requests to one target: the model scores them in one call and
        their ranking is vectorised (serving/ranking.py), for the same answers. Users without evidence, or with every
        item hidden, are answered one by one."""
        deployment, spec = target.deployment, target.deployment.spec
        users: list[str] = [request["userId"] for request in requests]
        scores = deployment.scores_many([self.history(target, user) for user in users])
        evidence: list[bool] = np.asarray(scores.any(axis=1), dtype=bool).tolist()
        for row, request in enumerate(requests):
            if evidence[row] and request.get("context"):
                scores[row] = deployment.in_context(scores[row], request["context"])
        removed = [self.ctx.histories.items_with_types(target.group_arn, user, spec.exclude) if spec.exclude else []
                   for user in users]
        rows_by_count: dict[int, list[int]] = {}
        for row, request in enumerate(requests):
            if evidence[row]:
                rows_by_count.setdefault(request.get("numResults", DEFAULT_RESULTS), []).append(row)
        answers: list[dict[str, Any] | None] = [None] * len(requests)
        for count, rows in rows_by_count.items():
            hidden = [deployment.indices(removed[row]) if removed[row] else _NO_ITEMS for row in rows]
            for row, found in zip(rows, rank_rows(scores[rows], hidden, None, count, deployment.name_array,
                                                  scored=True), strict=True):
                if found is not None:
                    names, values = found
                    assert values is not None
                    items: list[dict[str, Any]] = [{"itemId": name, "score": value}
                                                   for name, value in zip(names, values, strict=True)]
                    answers[row] = {"itemList": self._explored(target, users[row], items, count, count, removed[row]),
                                    "recommendationId": _recommendation_id(target.arn)}
        return [answer if answer is not None else self.recommend(target, request)
                for answer, request in zip(answers, requests, strict=True)]

    def _explored(self, target: Target, user_id: str | None, items: list[dict[str, Any]], count: int, kept: int,
                  removed: list[str]) -> list[dict[str, Any]]:
        """`items` with new items mixed in, `explorationWeight` of the `count` slots asked for, `kept` in all (the
        rest go to promotions); User-Personalization only."""
        if target.deployment.spec.use != "user" or target.exploration is None or target.exploration.weight <= 0:
            return items
        seen = functools.partial(self.ctx.histories.of, target.group_arn, user_id or "")
        explored = cold_items(self.ctx.catalogs.of(target.group_arn), target.deployment.index, seen,
                              target.exploration, time.time(), target.exploration.slots(count), set(removed))
        return mix(items, explored, kept)

    def _attach_metadata(self, items: list[dict[str, Any]], group_arn: str, columns: list[str]) -> None:
        catalog = self.ctx.catalogs.of(group_arn)
        table = catalog.table
        for item in items:
            row = catalog.position.get(item["itemId"])
            if table is None or row is None:
                continue
            item["metadata"] = {column: "" if (value := table.column(column)[row].as_py()) is None else str(value)
                                for column in columns if column in table.column_names}

    async def get_personalized_ranking(self, params: dict[str, Any]) -> dict[str, Any]:
        target = await self._target(params["campaignArn"], CAMPAIGN)
        await self.ctx.histories.ready(target.group_arn)
        return self.rank(target, params)

    async def get_action_recommendations(self, params: dict[str, Any]) -> dict[str, Any]:
        """Next-Best-Action: the actions the user is most likely to take, with Personalize's propensity scores."""
        if "campaignArn" not in params or "userId" not in params:
            raise InvalidInputException("campaignArn and userId are required.")
        target = await self._target(params["campaignArn"], CAMPAIGN)
        await self.ctx.action_histories.ready(target.group_arn)
        deployment = target.deployment
        if deployment.spec.use != "action" or not isinstance(deployment.model, ActionPropensity):
            raise InvalidInputException("GetActionRecommendations needs a campaign of the aws-next-best-action recipe.")
        history = self.ctx.action_histories.events_of(target.group_arn, params["userId"])
        taken = [(action, kind) for action, kind in history if kind == "taken"]
        scores = deployment.model.score(deployment.indices([action for action, _ in taken]))
        last_taken = self.ctx.action_histories.last_times(target.group_arn, params["userId"], "taken")
        allowed = _available(self.ctx.catalogs.actions(target.group_arn), deployment, time.time(), last_taken)
        if "filterArn" in params:
            compiled = self.compiled_filter(params["filterArn"], target.group_arn)
            allowed &= compiled.mask(ItemTable(deployment.item_ids), UserContext(), params.get("filterValues", {}))
        scores[~allowed] = -np.inf
        reported = deployment.model.reported()
        best = top(scores, params.get("numResults", DEFAULT_ACTIONS))
        actions = [{"actionId": deployment.names[i], "score": round(float(reported[i]), 7)} for i in best]
        return {"actionList": actions, "recommendationId": _recommendation_id(target.arn)}

    def rank(self, target: Target, params: dict[str, Any]) -> dict[str, Any]:
        """GetPersonalizedRanking against a resolved target (also used by batch inference jobs)."""
        deployment = target.deployment
        if deployment.spec.use not in _SCORED_USES:
            raise InvalidInputException("GetPersonalizedRanking needs a campaign of a PERSONALIZED_RANKING recipe.")
        candidates = params["inputList"]
        allowed = self.allowed(params, target, params["userId"], None)
        if allowed is not None:
            index = deployment.index
            candidates = [item for item in candidates if item not in index or allowed[index[item]]]
        known = [item for item in candidates if item in deployment.index]
        unknown = [item for item in candidates if item not in deployment.index]
        ranked: list[dict[str, Any]] = []
        if known:
            scores = deployment.scores(self.history(target, params["userId"]), None)
            indices = deployment.indices(known)
            if scores is None:  # a user without evidence: popularity order, no scores
                popular = deployment.popular_in(params.get("context"))
                rank_of = np.empty(len(popular), dtype=np.int64)
                rank_of[popular] = np.arange(len(popular))
                ranked = [{"itemId": known[i]} for i in np.argsort(rank_of[indices], kind="stable")]
            else:
                probabilities = softmax(deployment.in_context(scores, params.get("context"))[indices])
                order = np.argsort(-probabilities, kind="stable")
                ranked = [{"itemId": known[i], "score": round(float(probabilities[i]), 7)} for i in order]
        ranked.extend({"itemId": item} for item in unknown)
        return {"personalizedRanking": ranked, "recommendationId": _recommendation_id(target.arn)}


def plain(target: Target, params: dict[str, Any]) -> bool:
    """A GetRecommendations request that `Runtime.recommend_many` answers: a user of a User-Personalization model,
    without item, filter, promotions or metadata."""
    return (target.deployment.spec.use == "user" and params.keys() <= _PLAIN_MEMBERS and bool(params.get("userId"))
            and params.get("numResults", DEFAULT_RESULTS) > 0)


def _available(catalog: pa.Table | None, deployment: Deployment, now: float,
               last_taken: dict[str, float]) -> np.ndarray:
    """Actions whose EXPIRATION_TIMESTAMP has not passed and that the user has not taken within their
    REPEAT_FREQUENCY (days), both applied automatically as Personalize does."""
    allowed = np.ones(len(deployment.item_ids), dtype=bool)
    if catalog is None:
        return allowed
    actions = catalog.column("ACTION_ID").to_pylist()
    columns = catalog.column_names
    expiry = dict(zip(actions, catalog.column("EXPIRATION_TIMESTAMP").to_pylist(), strict=True)) \
        if "EXPIRATION_TIMESTAMP" in columns else {}
    repeat = dict(zip(actions, catalog.column("REPEAT_FREQUENCY").to_pylist(), strict=True)) \
        if "REPEAT_FREQUENCY" in columns else {}
    for index, action in enumerate(deployment.item_ids.tolist()):
        expires, days, taken = expiry.get(action), repeat.get(action), last_taken.get(action)
        expired = expires is not None and expires < now
        resting = days is not None and taken is not None and now - taken < float(days) * 86400.0
        allowed[index] = not (expired or resting)
    return allowed


def _ranked(deployment: Deployment, scores: np.ndarray | None, popular: np.ndarray, hidden: np.ndarray,
            count: int) -> list[dict[str, Any]]:
    """The best `count` items, without the `hidden` ones (a mask): by score (softmax scores for user and ranking
    recipes), or in the `popular` order (item indices) when the model has no evidence for this request."""
    if count <= 0:
        return []
    names = deployment.names
    if scores is None:
        return [{"itemId": names[i]} for i in _popular(popular, hidden, count)]
    if deployment.spec.use not in _SCORED_USES:
        return [{"itemId": names[i]} for i in _unscored_top(scores, popular, hidden, count)]
    visible = np.where(hidden, -np.inf, scores) if hidden.any() else scores
    finite = np.isfinite(visible)
    available = int(np.count_nonzero(finite))
    ranked = top(visible, count, available)
    if not ranked:
        return []
    filled = visible if available == len(visible) else np.where(finite, visible, visible[finite].min())
    probabilities = softmax_at(filled, ranked)  # hidden items count in the softmax at the lowest visible score
    return [{"itemId": names[i], "score": p} for i, p in zip(ranked, round7(probabilities).tolist(), strict=True)]


def _unscored_top(scores: np.ndarray, popular: np.ndarray, hidden: np.ndarray, count: int) -> list[int]:
    """The best `count` visible items of a recipe that returns no scores. When the model scored only a few items
    (an item's neighbours), those are ranked alone and popular items fill the rest of the list."""
    support = np.flatnonzero(scores != 0)
    if len(support) * 4 >= len(scores):
        return top(np.where(hidden, -np.inf, scores), count)
    support = support[~hidden[support]]
    best: list[int] = support[top(scores[support], count)].tolist()
    if len(best) < count:
        best += _popular(popular, hidden, count - len(best), set(best))
    return best


def _popular(popular: np.ndarray, hidden: np.ndarray, count: int, chosen: set[int] | None = None) -> list[int]:
    """The first `count` items of the `popular` order neither hidden nor chosen, read a slice at a time."""
    found: list[int] = []
    start, step = 0, 4 * count + 16
    while len(found) < count and start < len(popular):
        chunk = popular[start:start + step]
        found += [i for i in chunk[~hidden[chunk]].tolist() if not chosen or i not in chosen]
        start, step = start + step, step * 4
    return found[:count]


def _place(items: list[dict[str, Any]], promoted: list[dict[str, Any]], seed: str) -> list[dict[str, Any]]:
    """Promoted items at random positions among the others, in their own order (as Personalize places them)."""
    if not promoted:
        return items
    total = len(items) + len(promoted)
    rng = random.Random(seed)
    slots = sorted(rng.sample(range(total), len(promoted)))
    result: list[dict[str, Any]] = []
    rest, chosen = iter(items), iter(promoted)
    for position in range(total):
        if slots and position == slots[0]:
            slots.pop(0)
            result.append(next(chosen))
        else:
            result.append(next(rest))
    return result

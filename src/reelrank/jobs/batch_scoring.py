"""Batch inference answers, a block of input lines at a time.

A block's plain user lines (`{"userId": …}` with no itemId, itemList or filterValues, for User-Personalization and
Popularity-Count solution versions) are scored together: one `Model.score_many` call per chunk of users (for EASE a
sparse × dense product), then the exclusions, the job's filter, the top `numResults`, Personalize's softmax scores
and the exploration of new items, vectorised over the chunk where they can be (serving/ranking.py). The answers are
exactly those of GetRecommendations for the same user; tests/jobs/test_batch_scoring.py checks it against the
runtime. Every other line (related items, ranking lists, filterValues, bad lines) is answered one by one by the
runtime, as before.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from reelrank.errors import ServiceError
from reelrank.service.runtime import Runtime, Target
from reelrank.serving.catalogs import Catalog
from reelrank.serving.deployments import Deployment
from reelrank.serving.exploration import cold_items, mix
from reelrank.serving.histories import Histories
from reelrank.serving.ranking import Ranked, rank_rows

BLOCK_LINES = 512
"""Input lines handed to a worker at a time."""
CHUNK_CELLS = 1 << 19
"""Users × items scored at once (2 MiB of float32 per array: about 140 users of MovieLens-1M's 3,700 items), so
memory does not grow with the catalogue either. Measured: the product and the row operations are fastest around
this size, where the arrays stay in the caches."""
_PER_LINE_KEYS = frozenset(("itemId", "itemList", "filterValues"))
_SCORED_USES = ("user", "ranking")
_NONE = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class BlockAnswer:
    data: bytes
    """The output lines, each ending with a newline."""
    lines: int
    failed: int


def blocks(source: Iterator[bytes], size: int = BLOCK_LINES) -> Iterator[bytes]:
    """Consecutive lines of `source` joined into blocks of `size` lines (the last one may be shorter)."""
    while True:
        lines = list(itertools.islice(source, size))
        if not lines:
            return
        if not lines[-1].endswith(b"\n"):
            lines[-1] += b"\n"
        yield b"".join(lines)


class BatchAnswerer:
    """Answers blocks of input lines for one batch inference job."""

    def __init__(self, runtime: Runtime, target: Target, body: dict[str, Any]) -> None:
        self.runtime = runtime
        self.target = target
        self.body = body
        self.count = int(body.get("numResults", 25))
        self.filter_arn: str | None = body.get("filterArn") or None
        deployment = target.deployment
        self.blockwise = deployment.spec.use in ("user", "popular")
        self._names = deployment.name_array
        self.n_items = len(self._names)
        self._indexed: IndexedHistories | None = None
        self._not_cold: Catalog | None = None

    def warm(self, index_histories: bool = False) -> None:
        """Load what answering reads (histories, item catalogue, the filter) now, e.g. before forking workers; with
        `index_histories`, every user's history as model indices too (worth it for many lines: each user is then
        looked up in two flat arrays, which forked workers share without copying)."""
        ctx, group = self.runtime.ctx, self.target.group_arn
        ctx.histories.of(group, "")
        catalog = ctx.catalogs.of(group)
        if self.filter_arn:
            deployment = self.target.deployment
            ctx.catalogs.item_table(group, deployment.folder, deployment.item_ids)
            with contextlib.suppress(ServiceError):  # each line will carry the error
                self.runtime.compiled_filter(self.filter_arn, group)
        cold = bool(catalog.item_ids) and self.target.exploration is not None and self._cold(time.time())
        if index_histories and self.blockwise:
            self._indexed = IndexedHistories.build(ctx.histories, group, self.target.deployment)
            if not (self.target.deployment.spec.exclude or cold or self._filter_reads_interactions()):
                # Nothing reads the histories' millions of Python objects any more: free them (the runtime builds
                # them again if a line needs them), so that they neither weigh on the job nor get copied, page by
                # page, into forked workers.
                del ctx.histories

    def _filter_reads_interactions(self) -> bool:
        if not self.filter_arn:
            return False
        try:
            return self.runtime.compiled_filter(self.filter_arn, self.target.group_arn).expression.uses_interactions
        except ServiceError:
            return False

    def _item_history(self, user: str) -> np.ndarray:
        """The user's history as the model's item indices, as `Deployment.scores` gets it."""
        if self._indexed is not None:
            return self._indexed.of(user)
        deployment = self.target.deployment
        return deployment.indices(self.runtime.ctx.histories.of(self.target.group_arn, user))

    def answer_block(self, block: bytes) -> BlockAnswer:
        """Answer every non-blank line of `block` (lines end with a newline), in order."""
        records: list[dict[str, Any] | None] = []
        plain: list[tuple[int, dict[str, Any]]] = []
        for raw in block.split(b"\n")[:-1]:  # lines as a file reads them (blocks end with a newline)
            if not raw.strip():
                continue
            request = parse(raw)
            if isinstance(request, ParseError):
                records.append(request.record)
            elif self.blockwise and _plain(request):
                plain.append((len(records), request))
                records.append(None)
            else:
                records.append(answer(self.runtime, self.target, request, self.body))
        step = max(1, CHUNK_CELLS // max(1, self.n_items))
        for start in range(0, len(plain), step):
            chunk = plain[start: start + step]
            answers = self._answer_users([request for _, request in chunk])
            for (position, _), answered in zip(chunk, answers, strict=True):
                records[position] = answered
        out = bytearray()
        failed = 0
        for record in records:
            assert record is not None
            failed += record["error"] is not None
            out += orjson.dumps(record)
            out += b"\n"
        return BlockAnswer(bytes(out), len(records), failed)

    def _answer_users(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`Runtime.recommend` for plain user lines, many users at a time."""
        runtime, target = self.runtime, self.target
        deployment, spec, group = target.deployment, target.deployment.spec, target.group_arn
        users: list[str] = [request["userId"] for request in requests]
        if min(self.count, self.n_items) <= 0:
            return [answer(runtime, target, request, self.body) for request in requests]
        try:
            shared = self._shared_mask(users[0]) if self.filter_arn else None
        except ServiceError:  # e.g. the filter needs filterValues: each line gets the runtime's own answer
            return [answer(runtime, target, request, self.body) for request in requests]
        removed: list[list[str]] = ([runtime.ctx.histories.items_with_types(group, user, spec.exclude)
                                     for user in users] if spec.exclude else [[]] * len(users))
        per_line: set[int] = set()
        """Rows the runtime answers itself: a filter that fails for this user, or every item hidden (an error)."""
        hidden: list[np.ndarray] = [_NONE] * len(users)
        if spec.exclude or (self.filter_arn and shared is None):
            for row, user in enumerate(users):
                excluded = deployment.indices(removed[row]) if removed[row] else _NONE
                if self.filter_arn and shared is None:
                    try:
                        allowed = runtime.allowed({"filterArn": self.filter_arn}, target, user, None)
                    except ServiceError:
                        per_line.add(row)
                        allowed = None
                    if allowed is not None:
                        excluded = np.union1d(excluded, np.flatnonzero(~allowed))
                hidden[row] = np.unique(excluded) if len(excluded) else _NONE
        scores = deployment.model.score_many([self._item_history(user) for user in users])
        evidence = np.asarray(scores.any(axis=1), dtype=bool) if scores.size else np.zeros(len(users), dtype=bool)
        ranked: list[Ranked | None] = [None] * len(users)
        rows = [row for row in range(len(users)) if evidence[row] and row not in per_line]
        if rows:
            block = scores if len(rows) == len(users) else scores[rows]  # rank_rows may write into it
            found_rows = rank_rows(block, [hidden[row] for row in rows], shared, self.count, self._names,
                                   spec.use in _SCORED_USES)
            for row, found in zip(rows, found_rows, strict=True):
                ranked[row] = found
                if found is None:  # every item hidden
                    per_line.add(row)
        now = time.time()
        exploration = target.exploration
        explores = spec.use == "user" and exploration is not None and exploration.weight > 0 and self._cold(now)
        records: list[dict[str, Any]] = []
        for row, request in enumerate(requests):
            if row in per_line:
                records.append(answer(runtime, target, request, self.body))
                continue
            found = ranked[row]
            names, values = found if found is not None else self._popular(hidden[row], shared)
            if explores and exploration is not None:
                items: list[dict[str, Any]] = ([{"itemId": name} for name in names] if values is None else
                                               [{"itemId": name, "score": value}
                                                for name, value in zip(names, values, strict=True)])
                explored = cold_items(runtime.ctx.catalogs.of(group), deployment.index,
                                      functools.partial(runtime.ctx.histories.of, group, users[row]), exploration, now,
                                      exploration.slots(self.count), set(removed[row]))
                records.append(_record(request, mix(items, explored, self.count)))
                continue
            output: dict[str, Any] = {"recommendedItems": names}
            if names and values is not None:
                output["scores"] = values
            records.append({"input": request, "output": output, "error": None})
        return records

    def _shared_mask(self, user: str) -> np.ndarray | None:
        """The filter's mask when it is the same for every user (no Interactions, no CurrentUser); else None."""
        assert self.filter_arn is not None
        compiled = self.runtime.compiled_filter(self.filter_arn, self.target.group_arn)
        if compiled.expression.uses_interactions or compiled.expression.uses_current_user:
            return None
        allowed = self.runtime.allowed({"filterArn": self.filter_arn}, self.target, user, None)
        assert allowed is not None
        return allowed

    def _cold(self, now: float) -> bool:
        """Whether any item could be explored now (unknown to the model, young enough): else exploration is a no-op
        for every user and `cold_items` need not run."""
        exploration = self.target.exploration
        assert exploration is not None
        catalog = self.runtime.ctx.catalogs.of(self.target.group_arn)
        if catalog is self._not_cold:  # the same catalogue only ages: it still has nothing to explore
            return False
        oldest = now - exploration.age_cut_off_days * 86400.0
        known = self.target.deployment.index
        cold = any(item not in known and (catalog.created[i] == 0 or catalog.created[i] >= oldest)
                   for i, item in enumerate(catalog.item_ids))
        self._not_cold = None if cold else catalog
        return cold

    def _popular(self, hidden: np.ndarray, shared: np.ndarray | None) -> Ranked:
        """The runtime's answer without evidence: the most popular items not hidden, without scores."""
        popular = self.target.deployment.popular
        if len(hidden) or shared is not None:
            keep = np.ones(self.n_items, dtype=bool) if shared is None else shared.copy()
            keep[hidden] = False
            popular = popular[keep[popular]]
        return self._names[popular[: max(self.count, 0)]].tolist(), None


@dataclass(frozen=True)
class IndexedHistories:
    """Every user's history as model item indices (unknown items left out, oldest first), in two flat arrays."""

    position: dict[str, int]
    starts: np.ndarray
    items: np.ndarray

    @classmethod
    def build(cls, histories: Histories, group_arn: str, deployment: Deployment) -> IndexedHistories:
        users = histories.users(group_arn)
        rows = [deployment.indices(histories.of(group_arn, user)) for user in users]
        starts = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(row) for row in rows], out=starts[1:])
        items = np.concatenate(rows) if rows else _NONE
        return cls({user: number for number, user in enumerate(users)}, starts, items.astype(np.int64, copy=False))

    def of(self, user: str) -> np.ndarray:
        row = self.position.get(user)
        if row is None:
            return _NONE
        history: np.ndarray = self.items[self.starts[row]: self.starts[row + 1]]
        return history


def _plain(request: dict[str, Any]) -> bool:
    user = request.get("userId")
    return isinstance(user, str) and bool(user) and request.keys().isdisjoint(_PER_LINE_KEYS)


def _record(request: Any, ranked: list[dict[str, Any]]) -> dict[str, Any]:
    output: dict[str, Any] = {"recommendedItems": [item["itemId"] for item in ranked]}
    if ranked and all("score" in item for item in ranked):
        output["scores"] = [item["score"] for item in ranked]
    return {"input": request, "output": output, "error": None}


@dataclass(frozen=True)
class ParseError:
    record: dict[str, Any]


def parse(raw: bytes) -> dict[str, Any] | ParseError:
    """An input line as a JSON object, or the output record of its error."""
    try:
        request = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return ParseError({"input": raw.decode("utf-8", "replace").strip(), "output": None,
                           "error": f"Invalid JSON: {error}"})
    if not isinstance(request, dict):
        return ParseError({"input": request, "output": None, "error": "Each line must be a JSON object."})
    return request


def answer(runtime: Runtime, target: Target, request: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """One line answered by the runtime: {"input": …, "output": {"recommendedItems": …, "scores": …}, "error": …}."""
    params: dict[str, Any] = {"numResults": body.get("numResults", 25)}
    if body.get("filterArn"):
        params["filterArn"] = body["filterArn"]
    for member, name in (("userId", "userId"), ("itemId", "itemId"), ("filterValues", "filterValues"),
                         ("itemList", "inputList")):
        if member in request:
            params[name] = request[member]
    try:
        if target.deployment.spec.use == "ranking" or "inputList" in params:
            params.pop("numResults")
            ranked = runtime.rank(target, params)["personalizedRanking"]
        else:
            ranked = runtime.recommend(target, params)["itemList"]
    except ServiceError as error:
        return {"input": request, "output": None, "error": error.message}
    except (KeyError, TypeError, ValueError) as error:
        return {"input": request, "output": None, "error": f"Invalid input line: {error}"}
    return _record(request, ranked)

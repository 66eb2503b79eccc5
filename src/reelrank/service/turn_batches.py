"""Requests that arrive in the same turn of the event loop, answered together.

Under load a server process reads many requests per turn of its event loop (32 GetRecommendations at 64 connections
over 2 processes). Answering them one by one costs each a model call and a few dozen numpy calls on arrays of every
item; answering them together costs each a row of the same calls. A request joins its turn's batch and waits; the
batch is answered at the start of the next turn, after every request of this turn has joined. A lone request (a
quiet server) waits one turn, microseconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Params = dict[str, Any]
Answer = dict[str, Any]


class TurnBatches(Generic[T]):
    """Batches of (target, params) per turn: `answer_many(target, params_list)` answers a batch's requests for one
    target (the same answers as `answer_one` each); if it fails, each request is answered by `answer_one`, so that
    one request's error is its own."""

    def __init__(self, answer_many: Callable[[T, list[Params]], list[Answer]],
                 answer_one: Callable[[T, Params], Answer]) -> None:
        self.answer_many = answer_many
        self.answer_one = answer_one
        self.waiting: list[tuple[T, Params, asyncio.Future[Answer]]] = []

    async def answer(self, target: T, params: Params) -> Answer:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()
        self.waiting.append((target, params, future))
        if len(self.waiting) == 1:
            loop.call_soon(self.flush)
        return await future

    def flush(self) -> None:
        waiting, self.waiting = self.waiting, []
        by_target: dict[int, list[tuple[T, Params, asyncio.Future[Answer]]]] = {}
        for entry in waiting:
            by_target.setdefault(id(entry[0]), []).append(entry)
        for batch in by_target.values():
            target = batch[0][0]
            try:
                answers = self.answer_many(target, [params for _, params, _ in batch])
            except Exception:
                log.warning("a batch failed; answering its requests one by one", exc_info=True)
                answers = None
            for position, (_, params, future) in enumerate(batch):
                if future.done():  # the client went away
                    continue
                if answers is not None:
                    future.set_result(answers[position])
                    continue
                try:
                    future.set_result(self.answer_one(target, params))
                except Exception as error:
                    future.set_exception(error)

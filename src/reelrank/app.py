"""Builds the ASGI app: one port for the control plane, the runtime, the events API, /health and the console."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from reelrank import __version__
from reelrank.balance import ConnectionBalance
from reelrank.config import Settings
from reelrank.console import console_routes
from reelrank.jobs.runner import JobRunner
from reelrank.protocol.dispatch import Dispatcher, signed_extension
from reelrank.service.attribution import Attributions
from reelrank.service.backend import Backend
from reelrank.service.context import Context
from reelrank.service.progress import Progress
from reelrank.service.recommenders import Recommenders
from reelrank.service.solutions import Solutions
from reelrank.store.checkpoints import Checkpointer
from reelrank.store.datasets import DatasetFiles
from reelrank.store.event_writer import EventClock
from reelrank.store.metadata import MetadataStore


async def health(_request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__, "process": os.getpid()})


async def unknown_route(request: Request, _error: Exception) -> Response:
    return JSONResponse(
        {"__type": "UnknownOperationException", "message": f"Unknown operation {request.method} {request.url.path}."},
        status_code=404, headers={"x-amzn-ErrorType": "UnknownOperationException"})


def build_app(settings: Settings, *, primary: bool = True, event_clock: EventClock | None = None,
              balance: ConnectionBalance | None = None) -> ASGIApp:
    """The app of one server process. Only the `primary` runs jobs and periodic tasks; the processes of one server
    share an `event_clock`, so each sees the events the others store, and a connection `balance`."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = MetadataStore(settings.database_url, background_checkpoints=True)
    if primary:
        store.migrate()
    checkpointer = Checkpointer(store)
    files = DatasetFiles(settings.datasets_dir)
    runner = JobRunner(settings, store, files)
    ctx = Context(settings, store, files, runner.wake, event_clock=event_clock or EventClock())
    backend = Backend(ctx)
    runner.periodic.extend([backend.family(Solutions).train_due_solutions, backend.family(Recommenders).retrain_due,
                            backend.family(Attributions).refresh_due])

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # The first use of the thread pool imports anyio's machinery and starts a worker: 24 ms on a quiet process,
        # and a 110 ms stall of the event loop at the first PutEvents of a busy one.
        await run_in_threadpool(lambda: None)
        if primary:
            runner.start()
            checkpointer.start()
        try:
            yield
        finally:
            if primary:
                runner.stop()
                checkpointer.stop()
            store.dispose()

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/reelrank/progress", signed_extension(settings, backend.family(Progress).job_progress),
              methods=["GET"]),
        *console_routes(backend, settings),
    ]
    others = Starlette(routes=routes, lifespan=lifespan,
                       exception_handlers={404: unknown_route, 405: unknown_route})
    return Dispatcher(settings, backend.handler, others, balance)

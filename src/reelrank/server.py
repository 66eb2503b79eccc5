"""Serves the app under uvicorn: in this process, or in several processes sharing one listening socket.

With `processes` > 1 the parent binds the socket and forks the others before anything starts a thread; the kernel
spreads connections among them. The parent is the primary: it alone runs the job runner and the periodic tasks
(secondaries queue jobs; the runner's poll picks them up). The processes share an event clock, so an event
acknowledged by one is in the others' live histories for the very next request. Each forked process dies with the
parent (PR_SET_PDEATHSIG), so killing the server kills all of it.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

import uvicorn

from reelrank import heap
from reelrank.acceptor import Acceptor
from reelrank.app import build_app
from reelrank.balance import ConnectionBalance
from reelrank.coalescing import CoalescingHttpToolsProtocol
from reelrank.config import Settings
from reelrank.store.event_writer import EventClock
from reelrank.store.metadata import MetadataStore

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1
STARTUP_FAILURE = 3
"""uvicorn's exit status when a server cannot start."""
LISTEN_BACKLOG = 2048
GIL_SWITCH_SECONDS = 0.0005
"""How long the event loop may hold the interpreter lock while another thread waits for it (Python's default is
5 ms): the live histories' follower, handlers in the thread pool, and on PostgreSQL the event writer, whose commits
need it a few times while every acknowledgement of their batch waits. (On SQLite, where events commit on the loop, 5 ms
made no measurable difference to paced PutEvents.)"""


def uvicorn_server(settings: Settings, host: str, port: int, *, number: int = 0,
                   event_clock: EventClock | None = None, balance: ConnectionBalance | None = None) -> uvicorn.Server:
    """Process `number` of a server (0, the primary, unless forked)."""
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    heap.freeze_loaded_data()
    app = build_app(settings, primary=number == 0, event_clock=event_clock, balance=balance)
    server = web_server(app, host, port)
    if balance is not None:
        balance.join(number, lambda: len(server.server_state.connections))
    heap.loaded()
    return server


class WebServer(uvicorn.Server):
    """uvicorn's server with reelrank's connection handling: `Acceptor`s take connections (every waiting one per
    turn of the loop) and each response goes out in one write (`CoalescingHttpToolsProtocol`)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        owned = sockets is None
        if sockets is None:
            try:
                sockets = listening_sockets(self.config.host, self.config.port, 1)
            except OSError as error:
                log.error("cannot listen on %s:%s: %s", self.config.host, self.config.port, error)
                sys.exit(STARTUP_FAILURE)
        await super().startup(sockets=[])  # the lifespan and the server state, listening on nothing
        loop = asyncio.get_running_loop()

        def protocol() -> asyncio.Protocol:
            made: asyncio.Protocol = self.config.http_protocol_class(  # type: ignore[call-arg]
                config=self.config, server_state=self.server_state, app_state=self.lifespan.state, _loop=loop)
            return made

        self.servers = [Acceptor(sock, protocol, loop, owns_socket=owned)  # type: ignore[misc]
                        for sock in sockets]


def web_server(app: Any, host: str = "127.0.0.1", port: int = 0) -> WebServer:
    """The HTTP server of `reelrank serve` for an ASGI app (the serving benchmark's bare endpoint uses it too).
    No access log (info records, below the server's level) nor X-Forwarded-For rewriting (reelrank records no
    client addresses): uvicorn pays for both on every request otherwise."""
    return WebServer(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                    proxy_headers=False, http=CoalescingHttpToolsProtocol))


def serve(settings: Settings, host: str, port: int, processes: int = 1) -> None:
    """Run until interrupted (SIGINT or SIGTERM)."""
    if processes <= 1:
        uvicorn_server(settings, host, port).run()
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = MetadataStore(settings.database_url)  # migrate once, before any secondary opens the database
    store.migrate()
    store.dispose()
    clock = EventClock()  # in shared memory, made before the fork: every process sees every event
    balance = ConnectionBalance(processes)
    serve_forked(lambda number: uvicorn_server(settings, host, port, number=number, event_clock=clock,
                                               balance=balance), host, port, processes)


def serve_forked(make_server: Callable[[int], uvicorn.Server], host: str, port: int, processes: int) -> None:
    """Bind `host:port`, fork `processes - 1` secondaries, and run `make_server(number)` in each process (number 0,
    the primary, in this one)."""
    listeners = listening_sockets(host, port, processes)
    children = []
    for number in range(1, processes):
        pid = os.fork()
        if pid == 0:  # a secondary: serve until the parent tells it to stop or dies
            _die_with_parent()
            own = _keep(listeners, number)
            make_server(number).run(sockets=[own])
            os._exit(0)
        children.append(pid)
    try:
        make_server(0).run(sockets=[_keep(listeners, 0)])
    finally:
        for pid in children:
            _stop(pid)


def listening_sockets(host: str, port: int, processes: int) -> list[socket.socket]:
    """One listening socket per process where the kernel balances connections among them (Linux's SO_REUSEPORT
    hashes each connection to one socket), else one socket that every process accepts from, where the process
    that wakes first takes the connection and one process often ends up with most of them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    balanced = processes > 1 and sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
    if balanced and port:  # SO_REUSEPORT would let us join another server's port: make sure it is free
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    listeners: list[socket.socket] = []
    for _ in range(processes if balanced else 1):
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if balanced:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind((host, port))
        port = listener.getsockname()[1]  # port 0: the others join the port the first one got
        listener.listen(LISTEN_BACKLOG)
        listeners.append(listener)
    return listeners


def _keep(listeners: list[socket.socket], number: int) -> socket.socket:
    """Process `number`'s socket; it closes the other processes' sockets, so a connection the kernel routes to a
    socket is only ever waiting for the process that accepts from it."""
    if len(listeners) == 1:
        return listeners[0]
    for other, listener in enumerate(listeners):
        if other != number:
            listener.close()
    return listeners[number]


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent is already gone
        os._exit(0)


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass

"""Accepting every waiting connection in one turn of the event loop.

uvloop's server (through libuv) accepts one connection per turn of the loop. Under load a turn lasts as long as the
requests it answers (20 ms for 32 GetRecommendations), so connections opened together queue for many turns: measured
with tcpdump and strace while wrk opened 64 connections to a busy `reelrank serve`, one accept4 call per turn, and
first answers 0.3-0.45 s after the client's SYN while every later request on the same connections took under 45 ms.
An `Acceptor` watches the listening socket itself and hands every connection waiting there to the loop at once, as
asyncio's own server does, each wrapped in its transport in that same turn (as uvloop's server does), so that its
first request is read one turn later.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

MAX_ACCEPTS_PER_TURN = 512
"""At most this many connections are taken per readiness of the socket, so a flood cannot hold the loop."""
RETRY_SECONDS = 1.0
"""After running out of file descriptors, the socket is watched again after this long (asyncio's delay too)."""


class Acceptor:
    """Accepts connections from a listening socket into `protocol_factory`'s protocols; a server for
    `uvicorn.Server.servers` (`close`, `wait_closed`)."""

    def __init__(self, sock: socket.socket, protocol_factory: Callable[[], asyncio.Protocol],
                 loop: asyncio.AbstractEventLoop, owns_socket: bool = False) -> None:
        self.sock = sock
        self.protocol_factory = protocol_factory
        self.loop = loop
        self.owns_socket = owns_socket
        self.closed = False
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self.accept)

    def accept(self) -> None:
        """Take every connection waiting on the socket (up to MAX_ACCEPTS_PER_TURN)."""
        for _ in range(MAX_ACCEPTS_PER_TURN):
            try:
                connection, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:  # the client gave up while it waited: take the next one
                continue
            except OSError as error:  # e.g. out of file descriptors: retry later rather than spin
                log.warning("accepting a connection failed (%s); retrying in %.0f s", error, RETRY_SECONDS)
                self.loop.remove_reader(self.sock.fileno())
                self.loop.call_later(RETRY_SECONDS, self._watch_again)
                return
            self._advance(self.loop.connect_accepted_socket(self.protocol_factory, connection))

    def _advance(self, connecting: Coroutine[Any, Any, object], _: object = None) -> None:
        """Run `connect_accepted_socket` up to its next wait, here rather than in a task, whose first step would
        come a turn later: the first step creates the transport and schedules `connection_made`; the coroutine
        goes on (and ends) when that has run."""
        try:
            waiting = connecting.send(None)
        except StopIteration:
            return
        except Exception as error:  # e.g. the client reset the connection already
            log.debug("an accepted connection failed to start: %s", error)
            return
        waiting.add_done_callback(functools.partial(self._advance, connecting))

    def _watch_again(self) -> None:
        if not self.closed:
            self.loop.add_reader(self.sock.fileno(), self.accept)

    def close(self) -> None:
        """Stop accepting (uvicorn calls this first when it shuts down)."""
        if self.closed:
            return
        self.closed = True
        self.loop.remove_reader(self.sock.fileno())
        if self.owns_socket:
            self.sock.close()

    async def wait_closed(self) -> None:
        return None

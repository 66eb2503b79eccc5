"""`reelrank.acceptor`: a server takes every waiting connection in one turn of its event loop."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

from tests.support.servers import web_server_thread

WAITING = 24


class TurnCounter:
    """An ASGI app answering each request with the number of the event-loop turn it runs in; `POST /block` holds
    the loop for a while, as a burst of heavy requests would."""

    def __init__(self) -> None:
        self.turn = 0
        self.ticking = False

    def tick(self) -> None:
        self.turn += 1
        asyncio.get_running_loop().call_soon(self.tick)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if not self.ticking:
            self.ticking = True
            asyncio.get_running_loop().call_soon(self.tick)
        if scope["path"] == "/block":
            time.sleep(0.5)
        body = str(self.turn).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def ask(connection: socket.socket, path: str = "/", method: str = "GET") -> bytes:
    connection.sendall(f"{method} {path} HTTP/1.1\r\nhost: test\r\ncontent-length: 0\r\n\r\n".encode())
    return read_response(connection)


def read_response(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += connection.recv(65536)
    return body


def answer_turns() -> list[int]:
    """The turns in which WAITING connections, opened while the loop was held, got their first answers."""
    with web_server_thread(TurnCounter()) as port, socket.create_connection(("127.0.0.1", port)) as first:
        ask(first)
        blocker = threading.Thread(target=ask, args=(first, "/block", "POST"))
        blocker.start()
        time.sleep(0.2)  # the loop is inside the blocking request now
        waiting = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(WAITING)]
        for connection in waiting:
            connection.sendall(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n")
        turns = [int(read_response(connection)) for connection in waiting]
        blocker.join()
        for connection in waiting:
            connection.close()
    return turns


def test_connections_waiting_together_are_answered_together() -> None:
    """With uvicorn's own server (uvloop 0.23) the same connections were answered over 24 turns, one accept each."""
    turns = answer_turns()
    assert max(turns) - min(turns) <= 2, turns


def test_a_connection_reset_before_it_starts_leaves_the_server_serving() -> None:
    with web_server_thread(TurnCounter()) as port:
        for _ in range(20):
            doomed = socket.create_connection(("127.0.0.1", port))
            doomed.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            doomed.close()  # linger 0: a reset
        with socket.create_connection(("127.0.0.1", port), timeout=5) as healthy:
            assert ask(healthy).isdigit()

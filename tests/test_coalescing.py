"""`reelrank.coalescing`: a response's head waits for its body, so each answer goes out in one write."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from reelrank.coalescing import HeadHoldingTransport, is_final_head
from tests.support.servers import web_server_thread

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class Recording(asyncio.Transport):
    """A transport that keeps what is written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0


def test_a_head_goes_out_with_its_body() -> None:
    inner = Recording()
    transport = HeadHoldingTransport(inner)
    transport.write(HEAD)
    assert inner.writes == [] and transport.get_write_buffer_size() >= len(HEAD)
    transport.write(b"{}")
    transport.write(b"more")
    assert inner.writes == [HEAD + b"{}", b"more"]


def test_interim_answers_and_whole_responses_are_not_held() -> None:
    inner = Recording()
    transport = HeadHoldingTransport(inner)
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # the client waits for it before it sends its body
    transport.write(HEAD + b"{}")
    assert inner.writes == [b"HTTP/1.1 100 Continue\r\n\r\n", HEAD + b"{}"]
    assert not is_final_head(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
    assert is_final_head(b"HTTP/1.0 404 Not Found\r\n\r\n")


def test_a_held_head_is_flushed_on_close_and_dropped_on_abort() -> None:
    inner = Recording()
    transport = HeadHoldingTransport(inner)
    transport.write(HEAD)
    transport.close()
    assert inner.writes == [HEAD] and inner.closed
    aborted = Recording()
    transport = HeadHoldingTransport(aborted)
    transport.write(HEAD)
    transport.abort()
    assert aborted.writes == [] and aborted.closed


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b"" if scope["method"] == "HEAD" else b'{"hello":true}'
    if scope["method"] == "POST":
        body = (await receive())["body"]
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"14")]})
    await send({"type": "http.response.body", "body": body})


def receive_until(connection: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = connection.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    return data


def test_head_requests_and_100_continue_are_answered_over_a_real_server() -> None:
    with web_server_thread(hello) as port, socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(b"HEAD / HTTP/1.1\r\nhost: test\r\n\r\n")  # no body write follows the head
        assert receive_until(connection, b"\r\n\r\n").startswith(b"HTTP/1.1 200 OK")
        connection.sendall(b"POST / HTTP/1.1\r\nhost: test\r\ncontent-length: 14\r\nexpect: 100-continue\r\n\r\n")
        assert receive_until(connection, b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        connection.sendall(b'{"posted":1}  ')
        answer = receive_until(connection, b'{"posted":1}  ')
        assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"\r\n\r\n" + b'{"posted":1}  ')
        connection.sendall(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n")
        assert receive_until(connection, b'{"hello":true}').endswith(b'{"hello":true}')

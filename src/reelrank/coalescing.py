"""One write per HTTP response: uvicorn's httptools protocol with the response head held back for its body.

uvicorn writes a response's status line and headers when the app sends `http.response.start`, and the body in a
second write. With TCP_NODELAY (set on every connection) that is two segments and two send calls per answer, and the
client wakes up twice. Holding the head until the body comes (or the response ends without one, as for HEAD)
sends both in one segment. On the bare endpoint under wrk (64 connections, ABBA order, 5 s runs) the kernel time per
request averaged 31 µs in the server and 24.5 µs in wrk with it, 36.5 and 30.5 µs without.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_RESPONSE_HEAD = (b"HTTP/1.1 ", b"HTTP/1.0 ")
_HEAD_END = b"\r\n\r\n"


def is_final_head(data: bytes) -> bool:
    """A response's status line and headers with nothing after them, and not an interim (1xx) answer such as
    100 Continue, which the client waits for before it sends the body."""
    return data.startswith(_RESPONSE_HEAD) and data[9:10] != b"1" and data.endswith(_HEAD_END)


class HeadHoldingTransport(asyncio.Transport):
    """A connection's transport that keeps a response head until the next write, `flush` or close."""

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self.inner = transport
        self.held = b""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.held:
            data, self.held = self.held + bytes(data), b""
        elif isinstance(data, bytes) and is_final_head(data):
            self.held = data
            return
        self.inner.write(data)

    def flush(self) -> None:
        if self.held:
            data, self.held = self.held, b""
            self.inner.write(data)

    def close(self) -> None:
        self.flush()
        self.inner.close()

    def write_eof(self) -> None:
        self.flush()
        self.inner.write_eof()

    def abort(self) -> None:
        self.held = b""
        self.inner.abort()

    def can_write_eof(self) -> bool:
        return self.inner.can_write_eof()

    def is_closing(self) -> bool:
        return self.inner.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.inner.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self.inner.pause_reading()

    def resume_reading(self) -> None:
        self.inner.resume_reading()

    def is_reading(self) -> bool:
        return self.inner.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.inner.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.inner.get_protocol()

    def get_write_buffer_size(self) -> int:
        return self.inner.get_write_buffer_size() + len(self.held)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self.inner.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.inner.set_write_buffer_limits(high, low)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing each response once (see the module's docstring)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(HeadHoldingTransport(transport))

    def on_response_complete(self) -> None:
        if isinstance(self.transport, HeadHoldingTransport):  # a response without a body write (HEAD, 304)
            self.transport.flush()
        super().on_response_complete()

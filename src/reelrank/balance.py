"""Keeps a forked server's keep-alive connections spread evenly over its processes.

The kernel hashes each new connection to one process's socket (SO_REUSEPORT), so 64 long-lived client connections
often split 39 to 25, and the process holding 39 answers each of them half as late again as the other answers its 25.
A process holding more than its share answers one request with `Connection: close`; the client opens a new
connection, which the kernel hashes afresh, and the split evens out within a few such rounds.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import time
from collections.abc import Callable

SHED_INTERVAL_SECONDS = 0.005
"""The least time between two connections one process closes: long enough for the client to reconnect, so a
process never closes more connections than it holds beyond its share."""


class ConnectionBalance:
    """Each process's count of open connections, in shared memory made before the fork."""

    def __init__(self, processes: int) -> None:
        self._counts = multiprocessing.RawArray(ctypes.c_int32, processes)
        self._number = 0
        self._open: Callable[[], int] = lambda: 0
        self._last_shed = 0.0

    def join(self, number: int, open_connections: Callable[[], int]) -> None:
        """Take part as process `number`, whose open connections `open_connections` counts."""
        self._number, self._open = number, open_connections

    def over_share(self) -> bool:
        """Whether this process should close the connection of the request it is answering."""
        mine = self._open()
        counts = self._counts
        counts[self._number] = mine  # an aligned 32-bit store: no lock needed
        share = -(-sum(counts) // len(counts))
        if mine <= share:
            return False
        now = time.monotonic()
        if now - self._last_shed < SHED_INTERVAL_SECONDS:
            return False
        self._last_shed = now
        return True

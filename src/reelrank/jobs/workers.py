"""Blocks of work in forked worker processes, answered in order with a bounded number in flight.

A job process forks its workers after it has loaded what they need (a model, histories), so they share those pages
copy-on-write and start at once. Each worker gets blocks of bytes over a pipe and sends back `work(block)`; the job
process sends block i to worker i mod n and reads the answers back in the order it sent the blocks, never holding more
than `depth` blocks per worker, so memory does not grow with the input. Sending happens in one thread per worker,
which keeps the job process reading answers while a worker is busy (no pipe can fill up both ways).

Workers die with the job process (PR_SET_PDEATHSIG), as the job process dies with the server. A block that raises in a
worker raises `WorkerFailed` in the job process with the last line of the worker's traceback (the whole of it is
logged).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import queue
import signal
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, Pipe
from types import TracebackType

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1
_OK, _ERROR = b"\x00", b"\x01"


class WorkerFailed(Exception):
    """A worker raised or died."""


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _serve(tasks: Connection, answers: Connection, work: Callable[[bytes], bytes]) -> None:
    while True:
        try:
            block = tasks.recv_bytes()
        except EOFError:
            return
        try:
            answer = _OK + work(block)
        except BaseException:
            answer = _ERROR + traceback.format_exc().encode()
        answers.send_bytes(answer)


class ForkedWorkers:
    """`count` forked processes running `work`; use as a context manager, then `map`."""

    def __init__(self, work: Callable[[bytes], bytes], count: int, prepare: Callable[[], None] | None = None,
                 depth: int = 2) -> None:
        self.work = work
        self.count = count
        self.prepare = prepare
        self.depth = depth
        self.pids: list[int] = []
        self._tasks: list[Connection] = []
        self._answers: list[Connection] = []
        self._queues: list[queue.Queue[bytes | None]] = []
        self._senders: list[threading.Thread] = []

    def __enter__(self) -> ForkedWorkers:
        parent = os.getpid()
        for _ in range(self.count):
            task_read, task_write = Pipe(duplex=False)
            answer_read, answer_write = Pipe(duplex=False)
            pid = os.fork()
            if pid == 0:  # the worker
                status = 0
                try:
                    _die_with_parent(parent)
                    for connection in (task_write, answer_read, *self._tasks, *self._answers):
                        connection.close()
                    if self.prepare is not None:
                        self.prepare()
                    _serve(task_read, answer_write, self.work)
                except BaseException:
                    traceback.print_exc()
                    status = 1
                finally:
                    os._exit(status)
            task_read.close()
            answer_write.close()
            self.pids.append(pid)
            self._tasks.append(task_write)
            self._answers.append(answer_read)
        for connection in self._tasks:
            feed: queue.Queue[bytes | None] = queue.Queue()
            sender = threading.Thread(target=self._send, args=(feed, connection), daemon=True,
                                      name="reelrank-block-sender")
            sender.start()
            self._queues.append(feed)
            self._senders.append(sender)
        return self

    @staticmethod
    def _send(feed: queue.Queue[bytes | None], connection: Connection) -> None:
        while (block := feed.get()) is not None:
            try:
                connection.send_bytes(block)
            except OSError:  # the worker is gone: the reader reports it
                return

    def map(self, blocks: Iterable[bytes]) -> Iterator[bytes]:
        """`work(block)` for every block, in order."""
        pending: deque[int] = deque()
        for number, block in enumerate(blocks):
            if len(pending) >= self.count * self.depth:
                yield self._receive(pending.popleft())
            worker = number % self.count
            self._queues[worker].put(block)
            pending.append(worker)
        while pending:
            yield self._receive(pending.popleft())

    def _receive(self, worker: int) -> bytes:
        try:
            answer = self._answers[worker].recv_bytes()
        except (EOFError, OSError):
            raise WorkerFailed(f"batch worker {self.pids[worker]} ended unexpectedly") from None
        if answer[:1] == _ERROR:
            trace = answer[1:].decode("utf-8", "replace")
            log.error("batch worker %d failed:\n%s", self.pids[worker], trace)
            raise WorkerFailed(trace.strip().splitlines()[-1] if trace.strip() else "a batch worker failed")
        return answer[1:]

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if error is not None:
            for pid in self.pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        for feed in self._queues:
            feed.put(None)
        for sender in self._senders:
            sender.join(timeout=5)
        for connection in (*self._tasks, *self._answers):
            connection.close()
        for pid in self.pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

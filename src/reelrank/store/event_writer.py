"""Group commit for live events: PutEvents and PutActionInteractions requests hand their rows to one writer
thread, which stores everything queued meanwhile in one transaction.

A request is acknowledged only after its transaction commits, so an acknowledged event survives SIGKILL. Under load
one commit (and one wait for SQLite's write lock) serves many requests instead of one each. After each commit, and
before any request of the batch is answered, the `EventClock` moves to the newest stored event: readers of the
events table (the live histories), in this process or another one of the server, catch up when they see it move.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import queue
import threading
from concurrent.futures import Future
from typing import Any

from reelrank.store.metadata import MetadataStore

log = logging.getLogger(__name__)
MAX_BATCH_ROWS = 5_000
Rows = list[dict[str, Any]]


class EventClock:
    """The id of the newest stored event, in shared memory: a server's processes share the one made before they
    fork, so an event acknowledged by any of them is seen by the next request to any other."""

    def __init__(self) -> None:
        self._value = multiprocessing.Value(ctypes.c_int64, 0)

    def latest(self) -> int:
        return int(self._value.get_obj().value)  # an aligned 64-bit read: no lock needed

    def advance(self, event_id: int) -> None:
        with self._value.get_lock():
            if event_id > self._value.value:
                self._value.value = event_id


class EventWriter:
    def __init__(self, store: MetadataStore, clock: EventClock) -> None:
        self.store = store
        self.clock = clock
        self._queue: queue.SimpleQueue[tuple[Rows, Future[Rows]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, rows: Rows) -> Future[Rows]:
        """Store `rows` durably, skipping stored or repeated (group, eventId) pairs; the future gives the rows
        stored once they are committed."""
        future: Future[Rows] = Future()
        self._queue.put((rows, future))
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="reelrank-event-writer", daemon=True)
                    self._thread.start()
        return future

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            size = len(batch[0][0])
            while size < MAX_BATCH_ROWS:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
                size += len(batch[-1][0])
            self._commit(batch)

    def _commit(self, batch: list[tuple[Rows, Future[Rows]]]) -> None:
        try:
            with self.store.transaction() as tx:
                fresh = tx.record_events([row for rows, _ in batch for row in rows])
                latest = tx.latest_event_id()
        except Exception as error:
            log.exception("storing %d event requests failed", len(batch))
            for _, future in batch:
                future.set_exception(error)
            return
        self.clock.advance(latest)
        stored = {id(row) for row in fresh}
        for rows, future in batch:
            future.set_result([row for row in rows if id(row) in stored])

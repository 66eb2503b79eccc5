"""Group commit for live events: PutEvents and PutActionInteractions requests hand their rows to one writer
thread, which stores everything queued meanwhile in one transaction.

A request is acknowledged only after its transaction commits, so an acknowledged event survives SIGKILL. Under load
one commit (and one wait for SQLite's write lock) serves many requests instead of one each.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any

from reelrank.store.metadata import MetadataStore

log = logging.getLogger(__name__)
MAX_BATCH_ROWS = 5_000
Rows = list[dict[str, Any]]


class EventWriter:
    def __init__(self, store: MetadataStore) -> None:
        self.store = store
        self._queue: queue.SimpleQueue[tuple[Rows, Future[Rows]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def write(self, rows: Rows) -> Rows:
        """Store `rows` durably, skipping stored or repeated (group, eventId) pairs; returns the rows stored."""
        return self.submit(rows).result()

    def submit(self, rows: Rows) -> Future[Rows]:
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
        except Exception as error:
            log.exception("storing %d event requests failed", len(batch))
            for _, future in batch:
                future.set_exception(error)
            return
        stored = {id(row) for row in fresh}
        for rows, future in batch:
            future.set_result([row for row in rows if id(row) in stored])

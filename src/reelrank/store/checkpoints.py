"""Write-ahead-log checkpoints off the request path: the server's primary copies the log into the database every
`CHECKPOINT_SECONDS` from a daemon thread, while its processes' commits only append to the log (their stores are
opened with `background_checkpoints`)."""

from __future__ import annotations

import logging
import threading

from reelrank.store.metadata import MetadataStore

log = logging.getLogger(__name__)
CHECKPOINT_SECONDS = 1.0


class Checkpointer:
    def __init__(self, store: MetadataStore, interval: float = CHECKPOINT_SECONDS) -> None:
        self.store = store
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="reelrank-checkpointer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.store.checkpoint()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.store.checkpoint()
            except Exception:
                log.exception("checkpointing the metadata database failed; retrying")

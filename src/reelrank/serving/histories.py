"""Live user histories per dataset group: bulk interactions from the current data set version plus PutEvents
(or, for actions, action interactions plus PutActionInteractions).

Built the first time a group is asked for; rebuilt in the background when a new import is published (checked at
most every `REFRESH_SECONDS`; requests go on with the current histories meanwhile). Extended in place from the
events table whenever the `EventClock` shows newer events than those applied: by a follower thread every
`FOLLOW_SECONDS`, and by the request itself if the follower has not got there yet (the clock moves before an
event is acknowledged, so the very next request, to this server process or another, sees it).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from starlette.concurrency import run_in_threadpool

from reelrank import heap
from reelrank.store.datasets import DatasetFiles
from reelrank.store.event_writer import EventClock
from reelrank.store.metadata import EventReader, MetadataStore

log = logging.getLogger(__name__)
REFRESH_SECONDS = 5.0
FOLLOW_SECONDS = 0.02
_NO_ITEMS = np.zeros(0, dtype=np.int64)
_NO_ITEMS.flags.writeable = False


@dataclass(frozen=True)
class IndexedHistory:
    length: int
    """Events in the history when it was indexed."""
    items: np.ndarray
    """The model's indices of the items it knows, oldest first (read-only)."""
    types: list[str]
    """Their lower-case event types."""
    prepared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """What requests derive from this history, kept until it grows: each model's `prepare` of `items` (by model
    folder) and the filters' windows."""


NO_HISTORY = IndexedHistory(0, _NO_ITEMS, [])


def index_history(items: list[str], types: list[str], index: Mapping[str, int]) -> IndexedHistory:
    """A history (item ids, parallel event types) in a model's indices (`index`: item id → index), without the
    items the model lacks."""
    kinds = types
    try:
        found = np.fromiter(map(index.__getitem__, items), dtype=np.int64, count=len(items))
    except KeyError:  # items new to the model (PutEvents, a newer import)
        keep = [position for position, item in enumerate(items) if item in index]
        found = np.fromiter((index[items[position]] for position in keep), dtype=np.int64, count=len(keep))
        kinds = [types[position] for position in keep]
    found.flags.writeable = False
    return IndexedHistory(len(items), found, kinds)


@dataclass
class GroupHistory:
    version: int | None
    last_event_id: int
    items: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    event_types: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """Lower-cased event types, parallel to `items`."""
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """Event times (epoch seconds), parallel to `items`."""
    checked_at: float = 0.0
    indexed: dict[tuple[str, str], IndexedHistory] = field(default_factory=dict)
    """(model, user) → the user's history in that model's indices: see `Histories.indexed`."""

    def add(self, key: str, item_id: str, event_type: str, when: float) -> None:
        # The item last: a reader on another thread that sees it sees its type and time too (see `snapshot`).
        self.event_types[key].append(event_type.lower())
        self.times[key].append(when)
        self.items[key].append(item_id)

    def snapshot(self, key: str) -> tuple[list[str], list[str], list[float]]:
        """The user's (or session's) items, event types and times, oldest first, as of one moment: events are
        appended by the follower thread while requests read."""
        items = self.items.get(key)
        if not items:
            return [], [], []
        length = len(items)
        return items[:length], self.event_types[key][:length], self.times[key][:length]

    def apply(self, rows: Iterable[Any]) -> None:
        """Append stored events (in id order) not applied yet: to the user's and to the session's history."""
        for row in rows:
            if row.id <= self.last_event_id:
                continue
            if row.item_id:
                for key in {row.user_id, row.session_id} - {None}:
                    self.add(key, row.item_id, row.event_type, row.sent_at)
            self.last_event_id = row.id


@dataclass(frozen=True)
class Source:
    """Where histories come from: a data set type, its subject column and the kind of live events."""

    dataset_type: str
    subject: str
    event_kind: str


ITEM_EVENTS = Source("INTERACTIONS", "ITEM_ID", "item")
ACTION_EVENTS = Source("ACTION_INTERACTIONS", "ACTION_ID", "action")


class Histories:
    def __init__(self, store: MetadataStore, files: DatasetFiles, clock: EventClock,
                 source: Source = ITEM_EVENTS) -> None:
        self.store = store
        self.events = EventReader(store)
        """Reads new events for `catch_up` (the follower's polls): cheaper than a store transaction."""
        self.clock = clock
        self._applied_through = 0
        """Every built group has applied the events up to this id (newer ones may be applied too)."""
        self.files = files
        self.source = source
        self._groups: dict[str, GroupHistory] = {}
        self._rebuilding: set[str] = set()
        self._rebuilt: dict[str, GroupHistory] = {}
        """Groups built from a newer data set version in the background, waiting to replace the current ones."""
        self._lock = threading.Lock()
        self._following = False

    async def ready(self, group_arn: str) -> None:
        """Build the group's histories on a worker thread if none is built yet: the first build reads the whole data
        set (seconds for a million interactions), which on the event loop would hold every request of the process."""
        if group_arn not in self._groups:
            await run_in_threadpool(self._group, group_arn)

    def users(self, group_arn: str) -> list[str]:
        """Every user (and session) with a history in the group."""
        return sorted(self._group(group_arn).items)

    def of(self, group_arn: str, user_id: str) -> list[str]:
        """The user's (or session's) item ids, oldest first."""
        return self._group(group_arn).snapshot(user_id)[0]

    def indexed(self, group_arn: str, user_id: str, model: str, index: Mapping[str, int]) -> IndexedHistory:
        """The user's history in `model`'s item indices (`index`: item id → index; items it lacks are left out),
        computed once and again only when the history grows (a rebuilt group starts afresh)."""
        group = self._group(group_arn)
        length = len(group.items.get(user_id, ()))
        if not length:
            return NO_HISTORY
        cached = group.indexed.get((model, user_id))
        if cached is not None and cached.length == length:
            return cached
        items, types, _ = group.snapshot(user_id)
        indexed = group.indexed[(model, user_id)] = index_history(items, types, index)
        return indexed

    def events_of(self, group_arn: str, user_id: str) -> list[tuple[str, str]]:
        """The user's (item id, lower-case event type) pairs, oldest first."""
        items, types, _ = self._group(group_arn).snapshot(user_id)
        return list(zip(items, types, strict=True))

    def last_times(self, group_arn: str, user_id: str, event_type: str) -> dict[str, float]:
        """When the user last had an event of `event_type` (lower case) with each item (or action)."""
        items, types, times = self._group(group_arn).snapshot(user_id)
        return {item: when for item, kind, when in zip(items, types, times, strict=True) if kind == event_type}

    def items_with_types(self, group_arn: str, user_id: str, event_types: tuple[str, ...]) -> list[str]:
        """The user's items reached through one of `event_types` (lower case), e.g. the videos watched."""
        items, types, _ = self._group(group_arn).snapshot(user_id)
        return [item for item, kind in zip(items, types, strict=True) if kind in event_types]

    def follow(self, interval: float = FOLLOW_SECONDS) -> None:
        """Keep the built groups caught up from a daemon thread, so that a request after a burst of events (from
        any process) finds them applied instead of applying them itself; the request path still checks the clock,
        so the very next request sees an acknowledged event either way."""
        if self._following:
            return
        self._following = True
        histories = weakref.ref(self)

        def run() -> None:
            while (current := histories()) is not None:
                try:
                    current.keep_up()
                except Exception:
                    log.exception("catching up on events failed; retrying")
                del current
                time.sleep(interval)

        threading.Thread(target=run, name="reelrank-histories-follower", daemon=True).start()

    def keep_up(self) -> None:
        """Apply events stored since the last look, if the clock moved."""
        latest = self.clock.latest()
        if latest > self._applied_through:
            self.catch_up()
            self._applied_through = max(self._applied_through, latest)

    def catch_up(self, group_arns: Iterable[str] | None = None) -> None:
        """Apply the events stored since each built group's last one (of `group_arns`, or of every built group)."""
        with self._lock:
            built = [(arn, group) for arn, group in self._groups.items() if group_arns is None or arn in group_arns]
        for arn, group in built:
            rows = self.events.since(arn, group.last_event_id, self.source.event_kind)
            if rows:
                with self._lock:
                    if self._groups.get(arn) is group:
                        group.apply(rows)

    def _group(self, group_arn: str) -> GroupHistory:
        self.keep_up()
        now = time.monotonic()
        with self._lock:
            group = self._groups.get(group_arn)
            rebuilt = self._rebuilt.pop(group_arn, None)
            if rebuilt is not None:  # its events are read under the lock, so none stored before now is missed
                with self.store.reading() as tx:
                    rebuilt.apply(tx.events_since(group_arn, rebuilt.last_event_id, kind=self.source.event_kind))
                self._groups[group_arn] = group = rebuilt
            if group is not None and now - group.checked_at < REFRESH_SECONDS:
                return group
        with self.store.reading() as tx:
            dataset = next((d for d in tx.list_resources("dataset", group_arn)
                            if d.body["datasetType"] == self.source.dataset_type), None)
            version = tx.current_dataset_version(dataset.arn) if dataset else None
        number, files = (version.version, version.files) if version else (None, [])
        with self._lock:
            group = self._groups.get(group_arn)
            if group is None:  # the first request for the group waits for it
                group = self._groups[group_arn] = self._build(group_arn, number, files)
                self.follow()
            elif group.version != number and group_arn not in self._rebuilding:
                self._rebuilding.add(group_arn)
                threading.Thread(target=self._rebuild, args=(group_arn, number, files), daemon=True,
                                 name="reelrank-histories-rebuild").start()
            group.checked_at = now
            return group

    def _rebuild(self, group_arn: str, version: int | None, files: list[str]) -> None:
        """Build a group's histories from a newer data set version while requests go on with the current ones; the
        next request swaps it in (a build takes seconds for a million interactions)."""
        try:
            rebuilt = self._build(group_arn, version, files)
            with self._lock:
                self._rebuilt[group_arn] = rebuilt
        except Exception:
            log.exception("rebuilding the histories of %s failed; the next check retries", group_arn)
        finally:
            with self._lock:
                self._rebuilding.discard(group_arn)

    def _build(self, group_arn: str, version: int | None, files: list[str]) -> GroupHistory:
        group = GroupHistory(version, 0)
        table = self.files.read(files, self.source.dataset_type) if files else None
        if table is not None and table.num_rows:
            table = table.sort_by([("USER_ID", "ascending"), ("TIMESTAMP", "ascending")])
            user_column = table.column("USER_ID").combine_chunks()
            users = user_column.to_pylist()
            items = table.column(self.source.subject).to_pylist()
            types = (pc.utf8_lower(table.column("EVENT_TYPE")).to_pylist() if "EVENT_TYPE" in table.column_names
                     else [""] * len(items))
            times = table.column("TIMESTAMP").cast(pa.float64()).to_pylist()
            changes = pc.indices_nonzero(pc.not_equal(user_column[1:], user_column[:-1])).to_numpy() + 1
            starts = [0, *changes.tolist()]
            for start, end in zip(starts, [*starts[1:], len(users)], strict=True):
                group.items[users[start]] = items[start:end]
                group.event_types[users[start]] = types[start:end]
                group.times[users[start]] = times[start:end]
        with self.store.reading() as tx:
            group.apply(tx.events_since(group_arn, kind=self.source.event_kind))
        heap.loaded()
        return group

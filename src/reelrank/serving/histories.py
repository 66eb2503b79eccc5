"""Live user histories per dataset group: bulk interactions from the current data set version plus PutEvents.

Built lazily the first time a group is asked for, rebuilt when a new import is published (checked at most every
`REFRESH_SECONDS`), and extended in place as events arrive, so the very next request sees them.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pyarrow.compute as pc

from reelrank.store.datasets import DatasetFiles
from reelrank.store.metadata import MetadataStore

REFRESH_SECONDS = 5.0


@dataclass
class GroupHistory:
    version: int | None
    last_event_id: int
    items: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    checked_at: float = 0.0


class Histories:
    def __init__(self, store: MetadataStore, files: DatasetFiles) -> None:
        self.store = store
        self.files = files
        self._groups: dict[str, GroupHistory] = {}
        self._lock = threading.Lock()

    def of(self, group_arn: str, user_id: str) -> list[str]:
        """The user's (or session's) item ids, oldest first."""
        return list(self._group(group_arn).items.get(user_id, ()))

    def append(self, group_arn: str, keys: list[str], item_id: str) -> None:
        with self._lock:
            group = self._groups.get(group_arn)
            if group is not None:
                for key in keys:
                    group.items[key].append(item_id)

    def _group(self, group_arn: str) -> GroupHistory:
        now = time.monotonic()
        with self._lock:
            group = self._groups.get(group_arn)
            if group is not None and now - group.checked_at < REFRESH_SECONDS:
                return group
        with self.store.transaction() as tx:
            dataset = next((d for d in tx.list_resources("dataset", group_arn)
                            if d.body["datasetType"] == "INTERACTIONS"), None)
            version = tx.current_dataset_version(dataset.arn) if dataset else None
        with self._lock:
            group = self._groups.get(group_arn)
            if group is None or group.version != (version.version if version else None):
                group = self._build(group_arn, version.version if version else None,
                                    version.files if version else [])
                self._groups[group_arn] = group
            group.checked_at = now
            return group

    def _build(self, group_arn: str, version: int | None, files: list[str]) -> GroupHistory:
        group = GroupHistory(version, 0)
        table = self.files.read(files, "INTERACTIONS", ["USER_ID", "ITEM_ID", "TIMESTAMP"]) if files else None
        if table is not None and table.num_rows:
            table = table.sort_by([("USER_ID", "ascending"), ("TIMESTAMP", "ascending")])
            user_column = table.column("USER_ID").combine_chunks()
            users = user_column.to_pylist()
            items = table.column("ITEM_ID").to_pylist()
            changes = pc.indices_nonzero(pc.not_equal(user_column[1:], user_column[:-1])).to_numpy() + 1
            starts = [0, *changes.tolist()]
            for start, end in zip(starts, [*starts[1:], len(users)], strict=True):
                group.items[users[start]] = items[start:end]
        with self.store.transaction() as tx:
            rows = tx.events_since(group_arn)
        for row in rows:
            if row.item_id:
                for key in {row.user_id, row.session_id} - {None}:
                    group.items[key].append(row.item_id)
            group.last_event_id = row.id
        return group

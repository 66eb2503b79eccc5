"""Item metadata per dataset group for cold start: categorical tokens and creation times of every item,
including items put with PutItems after the model was trained."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reelrank import heap
from reelrank.filters import ItemTable
from reelrank.filters.data import AttributeValue
from reelrank.ingest.avro import AvroSchema, parse_schema
from reelrank.store.contents import contents
from reelrank.store.datasets import DatasetFiles
from reelrank.store.metadata import MetadataStore, Resource, Transaction

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0


@dataclass(frozen=True)
class Catalog:
    item_ids: list[str]
    tokens: list[frozenset[str]]
    """Categorical values of each item, as `COLUMN=value`."""
    created: np.ndarray
    """CREATION_TIMESTAMP per item (epoch seconds; 0 when unknown)."""
    position: dict[str, int]
    table: pa.Table | None = None
    """Every column of the ITEMS data set (bulk and put records), for filters."""

    def aligned(self, item_ids: np.ndarray) -> ItemTable:
        """The item attributes in the order of a model's item index, as filters evaluate them."""
        ids = np.asarray(item_ids)
        if self.table is None:
            return ItemTable(ids)
        rows = pc.index_in(pa.array(ids.tolist(), pa.string()), value_set=self.table.column("ITEM_ID"))
        columns = {}
        for name in self.table.column_names:
            values = self.table.column(name).take(rows)
            if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
                columns[name] = values.cast(pa.float64()).fill_null(np.nan).to_numpy()
            else:
                columns[name] = np.array(values.cast(pa.string()).to_pylist(), dtype=object)
        return ItemTable(ids, columns)


EMPTY = Catalog([], [], np.zeros(0, dtype=np.int64), {})


Stamp = tuple[Any, ...]
T = TypeVar("T")


class GroupData(Generic[T]):
    """Values built per dataset group from its data set of one type (bulk version and put records): built by the
    first caller, then checked every REFRESH_SECONDS on a worker thread of their own and rebuilt there when the data
    set changed (a new version, or a record put by any process of the server), while the current value answers.
    Rebuilding on the event loop held every request of the process: a whole catalogue after each PutItems."""

    def __init__(self, store: MetadataStore, dataset_type: str, build: Callable[[Resource | None, Transaction], T]):
        self.store = store
        self.dataset_type = dataset_type
        self.build = build
        """Builds the value from the group's data set (None without one) in a reading transaction."""
        self._values: dict[str, tuple[float, Stamp, T]] = {}
        self._checking: set[str] = set()
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(1, f"reelrank-{dataset_type.lower()}")

    def get(self, group_arn: str) -> T:
        cached = self._values.get(group_arn)
        if cached is None:
            return self.refresh(group_arn)
        if time.monotonic() - cached[0] >= REFRESH_SECONDS:
            with self._lock:
                due = group_arn not in self._checking
                self._checking.add(group_arn)
            if due:
                self._worker.submit(self._check, group_arn, cached[1])
        return cached[2]

    def refresh(self, group_arn: str) -> T:
        """Build the group's value now, on the caller's thread (records were put: the next request sees them)."""
        with self.store.reading() as tx:
            dataset = self._dataset(tx, group_arn)
            stamp = _stamp(tx, dataset)
            value = self.build(dataset, tx)
        with self._lock:
            self._values[group_arn] = (time.monotonic(), stamp, value)
        return value

    def _dataset(self, tx: Transaction, group_arn: str) -> Resource | None:
        return next((d for d in tx.list_resources("dataset", group_arn) if d.body["datasetType"] == self.dataset_type),
                    None)

    def _check(self, group_arn: str, stamp: Stamp) -> None:
        try:
            with self.store.reading() as tx:
                unchanged = _stamp(tx, self._dataset(tx, group_arn)) == stamp
            if not unchanged:
                self.refresh(group_arn)
        except Exception:
            log.exception("refreshing the %s of %s failed; the next check retries", self.dataset_type, group_arn)
        finally:
            with self._lock:
                self._checking.discard(group_arn)
                cached = self._values.get(group_arn)
                if cached is not None and cached[1] == stamp:
                    self._values[group_arn] = (time.monotonic(), *cached[1:])


def _stamp(tx: Transaction, dataset: Resource | None) -> Stamp:
    """What changes when a data set's contents do: its current version and its put records."""
    if dataset is None:
        return (None,)
    version = tx.current_dataset_version(dataset.arn)
    return (dataset.arn, version.version if version else None, *tx.put_records_stamp(dataset.arn))


def _contents(files: DatasetFiles, dataset: Resource | None,
              tx: Transaction) -> tuple[pa.Table | None, AvroSchema | None]:
    """A data set's rows (bulk and put records) and schema; (None, None) without one."""
    schema_resource = tx.get_resource(dataset.body["schemaArn"]) if dataset else None
    if dataset is None or schema_resource is None:
        return None, None
    schema = parse_schema(schema_resource.body["schema"])
    return contents(tx, files, dataset, schema), schema


class Catalogs:
    def __init__(self, store: MetadataStore, files: DatasetFiles) -> None:
        self.files = files
        self._items = GroupData(store, "ITEMS", self._build)
        self._actions = GroupData(store, "ACTIONS", lambda dataset, tx: _contents(files, dataset, tx)[0])
        self._aligned: dict[tuple[str, str], tuple[Catalog, ItemTable]] = {}

    def refresh(self, group_arn: str, dataset_type: str) -> None:
        """Records of `dataset_type` were put: rebuild what depends on them now."""
        if dataset_type == "ITEMS":
            self._items.refresh(group_arn)
        elif dataset_type == "ACTIONS":
            self._actions.refresh(group_arn)

    def of(self, group_arn: str) -> Catalog:
        return self._items.get(group_arn)

    def item_table(self, group_arn: str, key: str, item_ids: np.ndarray) -> ItemTable:
        """The catalogue aligned to a model's item index (`key` names the model), built once per catalogue."""
        catalog = self.of(group_arn)
        aligned = self._aligned.get((group_arn, key))
        if aligned is None or aligned[0] is not catalog:
            aligned = (catalog, catalog.aligned(item_ids))
            self._aligned[(group_arn, key)] = aligned
        return aligned[1]

    def actions(self, group_arn: str) -> pa.Table | None:
        """The ACTIONS data set (bulk and put records), for expiry and repeat frequency."""
        return self._actions.get(group_arn)

    def _build(self, dataset: Resource | None, tx: Transaction) -> Catalog:
        table, schema = _contents(self.files, dataset, tx)
        if table is None or schema is None or not table.num_rows:
            return EMPTY
        item_ids = table.column("ITEM_ID").to_pylist()
        tokens: list[set[str]] = [set() for _ in item_ids]
        for field in (f for f in schema.fields if f.categorical):
            for row, value in enumerate(table.column(field.name).to_pylist()):
                if value:
                    tokens[row].update(f"{field.name}={part}" for part in value.split("|"))
        created = (table.column("CREATION_TIMESTAMP").fill_null(0).to_numpy().astype(np.int64)
                   if "CREATION_TIMESTAMP" in table.column_names else np.zeros(len(item_ids), dtype=np.int64))
        catalog = Catalog(item_ids, [frozenset(t) for t in tokens], created,
                          {item: i for i, item in enumerate(item_ids)}, table)
        heap.loaded()
        return catalog


class UserAttributes:
    """Each user's USERS data set fields (bulk and put records), for `IF CurrentUser` filter conditions."""

    def __init__(self, store: MetadataStore, files: DatasetFiles) -> None:
        self._users = GroupData(store, "USERS", lambda dataset, tx: _by_user(_contents(files, dataset, tx)[0]))

    def refresh(self, group_arn: str) -> None:
        """Users were put: rebuild now."""
        self._users.refresh(group_arn)

    def of(self, group_arn: str, user_id: str) -> dict[str, AttributeValue]:
        return self._users.get(group_arn).get(user_id, {})


def _by_user(table: pa.Table | None) -> dict[str, dict[str, AttributeValue]]:
    return {} if table is None else {row["USER_ID"]: row for row in table.to_pylist()}

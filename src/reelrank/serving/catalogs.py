"""Item metadata per dataset group for cold start: categorical tokens and creation times of every item,
including items put with PutItems after the model was trained."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reelrank import heap
from reelrank.filters import ItemTable
from reelrank.filters.data import AttributeValue
from reelrank.ingest.avro import parse_schema
from reelrank.store.contents import contents
from reelrank.store.datasets import DatasetFiles
from reelrank.store.metadata import MetadataStore

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


@dataclass
class _Cached:
    checked_at: float
    version: int | None
    catalog: Catalog


class Catalogs:
    def __init__(self, store: MetadataStore, files: DatasetFiles) -> None:
        self.store = store
        self.files = files
        self._cached: dict[str, _Cached] = {}
        self._aligned: dict[tuple[str, str], tuple[Catalog, ItemTable]] = {}
        self._actions: dict[str, tuple[float, pa.Table | None]] = {}
        self._lock = threading.Lock()

    def invalidate(self, group_arn: str) -> None:
        """Records were put: rebuild on the next request."""
        with self._lock:
            self._cached.pop(group_arn, None)
            self._actions.pop(group_arn, None)

    def of(self, group_arn: str) -> Catalog:
        now = time.monotonic()
        cached = self._cached.get(group_arn)
        if cached is not None and now - cached.checked_at < REFRESH_SECONDS:
            return cached.catalog
        version = self._items_version(group_arn)
        if cached is None or cached.version != version:
            cached = _Cached(now, version, self._build(group_arn))
        cached.checked_at = now
        with self._lock:
            self._cached[group_arn] = cached
        return cached.catalog

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
        now = time.monotonic()
        cached = self._actions.get(group_arn)
        if cached is not None and now - cached[0] < REFRESH_SECONDS:
            return cached[1]
        with self.store.reading() as tx:
            dataset = next((d for d in tx.list_resources("dataset", group_arn) if d.body["datasetType"] == "ACTIONS"),
                           None)
            schema_resource = tx.get_resource(dataset.body["schemaArn"]) if dataset else None
            table = (contents(tx, self.files, dataset, parse_schema(schema_resource.body["schema"]))
                     if dataset is not None and schema_resource is not None else None)
        self._actions[group_arn] = (now, table)
        return table

    def _items_version(self, group_arn: str) -> int | None:
        with self.store.reading() as tx:
            dataset = next((d for d in tx.list_resources("dataset", group_arn) if d.body["datasetType"] == "ITEMS"),
                           None)
            version = tx.current_dataset_version(dataset.arn) if dataset else None
        return version.version if version else None

    def _build(self, group_arn: str) -> Catalog:
        with self.store.reading() as tx:
            dataset = next((d for d in tx.list_resources("dataset", group_arn) if d.body["datasetType"] == "ITEMS"),
                           None)
            schema_resource = tx.get_resource(dataset.body["schemaArn"]) if dataset else None
            if dataset is None or schema_resource is None:
                return EMPTY
            schema = parse_schema(schema_resource.body["schema"])
            table = contents(tx, self.files, dataset, schema)
        if table is None or not table.num_rows:
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
        self.store = store
        self.files = files
        self._cached: dict[str, tuple[float, dict[str, dict[str, AttributeValue]]]] = {}

    def of(self, group_arn: str, user_id: str) -> dict[str, AttributeValue]:
        now = time.monotonic()
        cached = self._cached.get(group_arn)
        if cached is None or now - cached[0] >= REFRESH_SECONDS:
            cached = (now, self._build(group_arn))
            self._cached[group_arn] = cached
        return cached[1].get(user_id, {})

    def _build(self, group_arn: str) -> dict[str, dict[str, AttributeValue]]:
        with self.store.reading() as tx:
            dataset = next((d for d in tx.list_resources("dataset", group_arn) if d.body["datasetType"] == "USERS"),
                           None)
            schema_resource = tx.get_resource(dataset.body["schemaArn"]) if dataset else None
            if dataset is None or schema_resource is None:
                return {}
            table = contents(tx, self.files, dataset, parse_schema(schema_resource.body["schema"]))
        return {} if table is None else {row["USER_ID"]: row for row in table.to_pylist()}

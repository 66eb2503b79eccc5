"""Item metadata per dataset group for cold start: categorical tokens and creation times of every item,
including items put with PutItems after the model was trained."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

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


EMPTY = Catalog([], [], np.zeros(0, dtype=np.int64), {})


class Catalogs:
    def __init__(self, store: MetadataStore, files: DatasetFiles) -> None:
        self.store = store
        self.files = files
        self._cached: dict[str, tuple[float, Catalog]] = {}
        self._lock = threading.Lock()

    def invalidate(self, group_arn: str) -> None:
        with self._lock:
            self._cached.pop(group_arn, None)

    def of(self, group_arn: str) -> Catalog:
        now = time.monotonic()
        cached = self._cached.get(group_arn)
        if cached is not None and now - cached[0] < REFRESH_SECONDS:
            return cached[1]
        catalog = self._build(group_arn)
        with self._lock:
            self._cached[group_arn] = (now, catalog)
        return catalog

    def _build(self, group_arn: str) -> Catalog:
        with self.store.transaction() as tx:
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
        return Catalog(item_ids, [frozenset(t) for t in tokens], created, {item: i for i, item in enumerate(item_ids)})

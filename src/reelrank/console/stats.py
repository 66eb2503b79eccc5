"""Read-only figures for the console: a data set's charts, item titles and a user's recent history.

Everything here only reads (`store.reading()` and the data set's Parquet through `store.contents`); resources are
created and changed through the service handlers only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import func, select

from reelrank.ingest.avro import AvroSchema, parse_schema
from reelrank.service.context import Context
from reelrank.store.contents import contents
from reelrank.store.tables import records

CACHE_ENTRIES = 8
"""Data sets kept in memory. An entry is reused until the data set changes: its key is the published version plus
the count and newest time of the records put one by one (PutItems, PutUsers, PutActions)."""
MAX_TAIL_POINTS = 400
TOP_VALUES = 20
DAY = 86_400


@dataclass
class Loaded:
    table: pa.Table | None
    schema: AvroSchema | None
    dataset_type: str
    key: tuple[Any, ...]
    figures: dict[str, Any] | None = field(default=None)
    """The data set's figures, computed once per version (see `DatasetReader.figures`)."""


class DatasetReader:
    """Reads data sets for the console, keeping the last few in memory for a few seconds."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._cache: dict[str, Loaded] = {}
        self._samples: dict[str, tuple[tuple[str, int], dict[str, str]]] = {}
        self._lock = threading.Lock()

    def load(self, dataset_arn: str) -> Loaded | None:
        """The data set's rows and schema (None when the data set does not exist)."""
        with self.ctx.store.reading() as tx:
            dataset = tx.get_resource(dataset_arn)
            if dataset is None or dataset.kind != "dataset":
                return None
            version = tx.current_dataset_version(dataset_arn)
            put = tx.connection.execute(select(func.count(), func.max(records.c.updated_at))
                                        .where(records.c.dataset_arn == dataset_arn)).one()
            key = (dataset_arn, version.version if version else None, int(put[0]), put[1])
            with self._lock:
                cached = self._cache.get(dataset_arn)
            if cached is not None and cached.key == key:
                return cached
            schema_resource = tx.get_resource(dataset.body["schemaArn"])
            schema = parse_schema(schema_resource.body["schema"]) if schema_resource is not None else None
            table = contents(tx, self.ctx.files, dataset, schema) if schema is not None else None
        loaded = Loaded(table, schema, str(dataset.body.get("datasetType", "")).upper(), key)
        with self._lock:
            self._cache[dataset_arn] = loaded
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.pop(next(iter(self._cache)))
        return loaded

    def dataset_of_type(self, group_arn: str, dataset_type: str) -> str | None:
        with self.ctx.store.reading() as tx:
            return next((dataset.arn for dataset in tx.list_resources("dataset", group_arn)
                         if str(dataset.body.get("datasetType", "")).upper() == dataset_type), None)

    def item_details(self, group_arn: str, item_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Title, genres and year of each item that the group's ITEMS data set describes."""
        arn = self.dataset_of_type(group_arn, "ITEMS")
        loaded = self.load(arn) if arn else None
        if loaded is None or loaded.table is None or "ITEM_ID" not in loaded.table.column_names:
            return {}
        table = loaded.table
        wanted = table.filter(pc.is_in(table.column("ITEM_ID"), value_set=pa.array(item_ids, pa.string())))
        columns = [name for name in ("TITLE", "GENRES", "YEAR") if name in wanted.column_names]
        rows = wanted.select(["ITEM_ID", *columns]).to_pylist()
        return {str(row["ITEM_ID"]): {name.lower(): row[name] for name in columns} for row in rows}

    def recent_history(self, group_arn: str, user_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """The user's newest interactions in the group's INTERACTIONS data set, newest first."""
        arn = self.dataset_of_type(group_arn, "INTERACTIONS")
        loaded = self.load(arn) if arn else None
        if loaded is None or loaded.table is None or "USER_ID" not in loaded.table.column_names:
            return []
        table = loaded.table
        mine = table.filter(pc.equal(table.column("USER_ID"), user_id))
        if "TIMESTAMP" in mine.column_names:
            mine = mine.sort_by([("TIMESTAMP", "descending")])
        columns = [name for name in ("ITEM_ID", "EVENT_TYPE", "TIMESTAMP") if name in mine.column_names]
        rows: list[dict[str, Any]] = mine.slice(0, limit).select(columns).to_pylist()
        for row in rows:
            if row.get("TIMESTAMP") is not None:
                row["when"] = datetime.fromtimestamp(int(row["TIMESTAMP"]), UTC).strftime("%Y-%m-%d %H:%M")
        return rows

    def sample_interaction(self, group_arn: str) -> dict[str, str]:
        """The user and item of the group's newest imported interaction (the last row of its newest file), to
        prefill the try-it forms ("" when none). Reads one row group of two columns, not the data set."""
        none = {"user": "", "item": ""}
        arn = self.dataset_of_type(group_arn, "INTERACTIONS")
        if arn is None:
            return none
        with self.ctx.store.reading() as tx:
            version = tx.current_dataset_version(arn)
        if version is None or not version.files:
            return none
        key = (arn, version.version)
        cached = self._samples.get(arn)
        if cached is not None and cached[0] == key:
            return cached[1]
        sample = self._last_row(version.files[-1]) or none
        self._samples[arn] = (key, sample)
        return sample

    def _last_row(self, file_name: str) -> dict[str, str] | None:
        parquet = pq.ParquetFile(self.ctx.files.root / file_name)
        names = [name for name in ("USER_ID", "ITEM_ID") if name in parquet.schema_arrow.names]
        if not parquet.metadata.num_row_groups or len(names) < 2:
            return None
        rows = parquet.read_row_group(parquet.metadata.num_row_groups - 1, columns=names)
        if not rows.num_rows:
            return None
        row = rows.slice(rows.num_rows - 1, 1).to_pylist()[0]
        return {"user": str(row.get("USER_ID") or ""), "item": str(row.get("ITEM_ID") or "")}

    def figures(self, dataset_arn: str) -> dict[str, Any]:
        """Counts and chart series of a data set (see `interaction_figures` and `categorical_figures`)."""
        loaded = self.load(dataset_arn)
        if loaded is None or loaded.table is None:
            return {"rows": 0, "charts": {}}
        if loaded.figures is None:
            table = loaded.table
            loaded.figures = (interaction_figures(table) if loaded.dataset_type == "INTERACTIONS"
                              else categorical_figures(table, loaded.schema))
        return loaded.figures


def interaction_figures(table: pa.Table) -> dict[str, Any]:
    """Rows, users and items; interactions per day (or week), the item-popularity long tail, event types."""
    names = table.column_names
    figures: dict[str, Any] = {"rows": table.num_rows, "charts": {}}
    charts: dict[str, Any] = figures["charts"]
    if "USER_ID" in names:
        figures["users"] = pc.count_distinct(table.column("USER_ID")).as_py()
    if "ITEM_ID" in names:
        figures["items"] = pc.count_distinct(table.column("ITEM_ID")).as_py()
        tail = np.sort(pc.value_counts(table.column("ITEM_ID")).field("counts").to_numpy())[::-1]
        step = max(1, len(tail) // MAX_TAIL_POINTS)
        ranks = list(range(1, len(tail) + 1, step))
        charts["long_tail"] = {"labels": ranks, "values": [int(tail[rank - 1]) for rank in ranks]}
        if len(tail):
            top = max(1, len(tail) // 10)
            figures["top_decile_share"] = float(tail[:top].sum() / tail.sum())
    if "TIMESTAMP" in names and table.num_rows:
        stamps = table.column("TIMESTAMP").cast(pa.int64())
        low, high = pc.min(stamps).as_py(), pc.max(stamps).as_py()
        bucket = DAY if high - low <= 180 * DAY else 7 * DAY
        buckets = pc.value_counts(pc.multiply(pc.divide(stamps, bucket), bucket))
        pairs = sorted(zip(buckets.field("values").to_pylist(), buckets.field("counts").to_pylist(), strict=True))
        charts["over_time"] = {
            "labels": [datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%d") for start, _ in pairs],
            "values": [count for _, count in pairs], "bucket": "day" if bucket == DAY else "week"}
        figures["first"] = datetime.fromtimestamp(low, UTC).strftime("%Y-%m-%d")
        figures["last"] = datetime.fromtimestamp(high, UTC).strftime("%Y-%m-%d")
    if "EVENT_TYPE" in names:
        charts["event_types"] = _top_values(table.column("EVENT_TYPE"))
    return figures


def categorical_figures(table: pa.Table, schema: AvroSchema | None) -> dict[str, Any]:
    """Rows, and the most frequent values of each categorical field (`a|b` values count once per part)."""
    charts: dict[str, Any] = {}
    fields = [f.name for f in (schema.fields if schema else ()) if f.categorical and f.name in table.column_names]
    for name in fields:
        parts = pc.list_flatten(pc.split_pattern(pc.fill_null(table.column(name).cast(pa.string()), ""), "|"))
        charts[f"field:{name}"] = _top_values(pc.filter(parts, pc.not_equal(parts, "")))
    return {"rows": table.num_rows, "charts": charts}


def _top_values(column: pa.Array | pa.ChunkedArray) -> dict[str, list[Any]]:
    counted = pc.value_counts(column)
    pairs = sorted(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True),
                   key=lambda pair: -pair[1])[:TOP_VALUES]
    return {"labels": [str(value) for value, _ in pairs], "values": [count for _, count in pairs]}

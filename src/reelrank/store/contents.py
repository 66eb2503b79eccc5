"""A data set's contents: its bulk version (Parquet) and the records put one by one (PutItems, PutUsers…)."""

from __future__ import annotations

import pyarrow as pa

from reelrank.ingest.avro import AvroSchema
from reelrank.store.datasets import DatasetFiles
from reelrank.store.metadata import Resource, Transaction


def contents(tx: Transaction, files: DatasetFiles, dataset: Resource, schema: AvroSchema, bulk: bool = True,
             put: bool = True) -> pa.Table | None:
    """The rows of `dataset` (None when it has none); for keyed types the newest record per ID wins."""
    version = tx.current_dataset_version(dataset.arn) if bulk else None
    put_rows = tx.put_records_of(dataset.arn) if put else []
    put_table = pa.Table.from_pylist(put_rows, schema=schema.arrow_schema) if put_rows else None
    return files.read(version.files if version else [], dataset.body["datasetType"], put=put_table)

"""Data set contents as Parquet files under the data directory.

A data set's contents are the files listed by its newest row in `dataset_versions`. A job writes new files
under a temporary name, renames them into place, then publishes a version in the same transaction that
marks the job ACTIVE; files that no version lists (from a crash or a failed job) are removed at start-up.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from reelrank.ingest.avro import ID_FIELDS


class DatasetFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, dataset_arn: str) -> Path:
        return self.root / hashlib.sha256(dataset_arn.encode()).hexdigest()[:24]

    def new_file(self, dataset_arn: str) -> tuple[Path, Path]:
        """A (temporary path to write, final path to rename to) pair for a new Parquet file."""
        folder = self.folder(dataset_arn)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}.parquet"
        return folder / f".{name}.partial", folder / name

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def read(self, files: list[str], dataset_type: str, columns: list[str] | None = None,
             put: pa.Table | None = None) -> pa.Table | None:
        """The contents of a version (plus records put one by one); for ITEMS/USERS/ACTIONS the last record per
        ID wins."""
        tables = [pq.read_table(self.root / name, columns=columns) for name in files]
        if put is not None and put.num_rows:
            tables.append(put)
        if not tables:
            return None
        table = pa.concat_tables(tables, promote_options="default")
        id_field = ID_FIELDS.get(dataset_type)
        if id_field is None or id_field not in table.column_names:
            return table
        return keep_last_per_id(table, id_field)

    def remove_unlisted(self, dataset_arn: str, listed: set[str]) -> int:
        folder = self.folder(dataset_arn)
        if not folder.exists():
            return 0
        removed = 0
        for path in folder.iterdir():
            if self.relative(path) not in listed:
                path.unlink()
                removed += 1
        return removed

    def existing_folders(self) -> list[Path]:
        return [p for p in self.root.iterdir() if p.is_dir()] if self.root.exists() else []


def keep_last_per_id(table: pa.Table, id_field: str) -> pa.Table:
    positions = pa.array(range(table.num_rows), pa.int64())
    last = (pa.table({"id": table.column(id_field), "pos": positions})
            .group_by("id", use_threads=False).aggregate([("pos", "max")]))
    keep = pc.sort_indices(last.column("pos_max"))
    return table.take(pc.take(last.column("pos_max"), keep))

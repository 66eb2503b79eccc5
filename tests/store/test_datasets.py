"""Unit tests for reelrank.store.datasets: file layout, reading versions, and garbage removal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reelrank.store.datasets import DatasetFiles, keep_last_per_id

ITEMS = "arn:aws:personalize:us-east-1:000000000000:dataset/movies/ITEMS"
INTERACTIONS = "arn:aws:personalize:us-east-1:000000000000:dataset/movies/INTERACTIONS"


@pytest.fixture
def files(tmp_path: Path) -> DatasetFiles:
    return DatasetFiles(tmp_path / "datasets")


def publish(files: DatasetFiles, dataset_arn: str, columns: dict[str, list[Any]]) -> str:
    """Write a Parquet file the way a job does (partial, then rename) and return its listed name."""
    partial, final = files.new_file(dataset_arn)
    pq.write_table(pa.table(columns), partial)
    partial.replace(final)
    return files.relative(final)


# -- layout -----------------------------------------------------------------------------------------------


def test_new_file_is_a_hidden_partial_beside_the_final_path(files: DatasetFiles) -> None:
    partial, final = files.new_file(ITEMS)
    assert partial.parent == final.parent == files.folder(ITEMS)
    assert final.suffix == ".parquet"
    assert partial.name == f".{final.name}.partial"
    assert final.parent.is_dir()
    assert not partial.exists()
    assert not final.exists()


def test_new_files_are_distinct(files: DatasetFiles) -> None:
    assert files.new_file(ITEMS)[1] != files.new_file(ITEMS)[1]


def test_each_dataset_has_its_own_folder(files: DatasetFiles) -> None:
    assert files.folder(ITEMS) != files.folder(INTERACTIONS)
    assert files.folder(ITEMS) == files.folder(ITEMS)
    assert files.folder(ITEMS).parent == files.root


def test_relative_names_are_under_the_root(files: DatasetFiles) -> None:
    final = files.new_file(ITEMS)[1]
    assert files.relative(final) == f"{files.folder(ITEMS).name}/{final.name}"
    assert files.root / files.relative(final) == final


def test_existing_folders(files: DatasetFiles) -> None:
    assert files.existing_folders() == []
    files.new_file(ITEMS)
    files.new_file(INTERACTIONS)
    assert sorted(files.existing_folders()) == sorted([files.folder(ITEMS), files.folder(INTERACTIONS)])


# -- read -------------------------------------------------------------------------------------------------


def test_read_nothing(files: DatasetFiles) -> None:
    assert files.read([], "ITEMS") is None


def test_read_interactions_keeps_every_row(files: DatasetFiles) -> None:
    first = publish(files, INTERACTIONS, {"USER_ID": ["u1", "u1"], "ITEM_ID": ["i1", "i2"], "TIMESTAMP": [1, 2]})
    second = publish(files, INTERACTIONS, {"USER_ID": ["u1"], "ITEM_ID": ["i1"], "TIMESTAMP": [3]})
    table = files.read([first, second], "INTERACTIONS")
    assert table is not None
    assert table.to_pydict() == {"USER_ID": ["u1", "u1", "u1"], "ITEM_ID": ["i1", "i2", "i1"], "TIMESTAMP": [1, 2, 3]}


def test_read_items_keeps_the_last_record_per_id(files: DatasetFiles) -> None:
    first = publish(files, ITEMS, {"ITEM_ID": ["i1", "i2", "i3"], "GENRES": ["Drama", "Comedy", "War"]})
    second = publish(files, ITEMS, {"ITEM_ID": ["i2", "i4"], "GENRES": ["Horror", "Western"]})
    table = files.read([first, second], "ITEMS")
    assert table is not None
    rows = {row["ITEM_ID"]: row["GENRES"] for row in table.to_pylist()}
    assert table.num_rows == 4
    assert rows == {"i1": "Drama", "i2": "Horror", "i3": "War", "i4": "Western"}


def test_read_selected_columns(files: DatasetFiles) -> None:
    first = publish(files, ITEMS, {"ITEM_ID": ["i1"], "GENRES": ["Drama"]})
    second = publish(files, ITEMS, {"ITEM_ID": ["i1"], "GENRES": ["War"]})
    table = files.read([first, second], "ITEMS", columns=["GENRES"])
    assert table is not None
    assert table.to_pydict() == {"GENRES": ["Drama", "War"]}


def test_read_items_keeps_the_last_record_per_id_within_one_file(files: DatasetFiles) -> None:
    only = publish(files, ITEMS, {"ITEM_ID": ["i1", "i2", "i1"], "GENRES": ["Drama", "Comedy", "War"]})
    table = files.read([only], "ITEMS")
    assert table is not None
    assert sorted(table.to_pylist(), key=lambda row: row["ITEM_ID"]) == [
        {"ITEM_ID": "i1", "GENRES": "War"}, {"ITEM_ID": "i2", "GENRES": "Comedy"}]


def test_keep_last_per_id_orders_by_last_occurrence() -> None:
    table = pa.table({"ITEM_ID": ["a", "b", "a", "c", "b"], "N": [1, 2, 3, 4, 5]})
    assert keep_last_per_id(table, "ITEM_ID").to_pydict() == {"ITEM_ID": ["a", "c", "b"], "N": [3, 4, 5]}


# -- remove_unlisted --------------------------------------------------------------------------------------


def test_remove_unlisted(files: DatasetFiles) -> None:
    kept = publish(files, ITEMS, {"ITEM_ID": ["i1"]})
    dropped = publish(files, ITEMS, {"ITEM_ID": ["i2"]})
    partial = files.new_file(ITEMS)[0]
    partial.write_bytes(b"half")
    other = publish(files, INTERACTIONS, {"USER_ID": ["u1"]})
    assert files.remove_unlisted(ITEMS, {kept}) == 2
    assert (files.root / kept).exists()
    assert not (files.root / dropped).exists()
    assert not partial.exists()
    assert (files.root / other).exists()


def test_remove_unlisted_without_a_folder(files: DatasetFiles) -> None:
    assert files.remove_unlisted(ITEMS, set()) == 0

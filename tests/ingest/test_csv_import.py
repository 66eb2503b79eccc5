"""Unit tests for reelrank.ingest.csv_import: CSV → Parquet conversion and its failure messages."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reelrank.ingest.avro import AvroSchema, parse_schema
from reelrank.ingest.csv_import import ImportFailed, convert, diagnose
from reelrank.synthetic import ITEMS_SCHEMA

INTERACTIONS = parse_schema(json.dumps({"type": "record", "name": "Interactions", "fields": [
    {"name": "USER_ID", "type": "string"},
    {"name": "ITEM_ID", "type": "string"},
    {"name": "TIMESTAMP", "type": "long"},
    {"name": "EVENT_VALUE", "type": ["null", "float"]},
]}))
HEADER = b"USER_ID,ITEM_ID,TIMESTAMP\n"


def write(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def failure(tmp_path: Path, content: bytes, schema: AvroSchema = INTERACTIONS, name: str = "input.csv") -> str:
    with pytest.raises(ImportFailed) as caught:
        convert([write(tmp_path, name, content)], schema, tmp_path / "out.parquet")
    return str(caught.value)


# -- conversion -------------------------------------------------------------------------------------------


def test_writes_parquet_in_schema_order_and_types(tmp_path: Path) -> None:
    source = write(tmp_path, "a.csv", b"TIMESTAMP,EVENT_VALUE,ITEM_ID,USER_ID\n100,1.5,i1,u1\n200,,i2,u2\n")
    rows = convert([source], INTERACTIONS, tmp_path / "out.parquet")
    table = pq.read_table(tmp_path / "out.parquet")
    assert rows == 2
    assert table.schema == INTERACTIONS.arrow_schema
    assert table.to_pydict() == {"USER_ID": ["u1", "u2"], "ITEM_ID": ["i1", "i2"], "TIMESTAMP": [100, 200],
                                 "EVENT_VALUE": [1.5, None]}


def test_all_arrow_types(tmp_path: Path) -> None:
    items = parse_schema(ITEMS_SCHEMA)
    source = write(tmp_path, "items.csv", b"ITEM_ID,GENRES,YEAR,CREATION_TIMESTAMP,TITLE,DESCRIPTION\n"
                                          b'i1,Comedy|Drama,1999,944006400,"A, B",Funny\n')
    assert convert([source], items, tmp_path / "out.parquet") == 1
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.schema == items.arrow_schema
    assert table.schema.field("YEAR").type == pa.int32()
    assert table.to_pylist() == [{"ITEM_ID": "i1", "GENRES": "Comedy|Drama", "YEAR": 1999,
                                  "CREATION_TIMESTAMP": 944006400, "TITLE": "A, B", "DESCRIPTION": "Funny"}]


def test_absent_nullable_columns_become_nulls(tmp_path: Path) -> None:
    source = write(tmp_path, "a.csv", HEADER + b"u1,i1,1\nu2,i2,2\n")
    convert([source], INTERACTIONS, tmp_path / "out.parquet")
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column_names == ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_VALUE"]
    assert table.column("EVENT_VALUE").type == pa.float32()
    assert table.column("EVENT_VALUE").to_pylist() == [None, None]


def test_multiple_files_concatenate(tmp_path: Path) -> None:
    first = write(tmp_path, "a.csv", HEADER + b"u1,i1,1\nu2,i2,2\n")
    second = write(tmp_path, "b.csv", b"EVENT_VALUE,TIMESTAMP,USER_ID,ITEM_ID\n2.5,3,u3,i3\n")
    assert convert([first, second], INTERACTIONS, tmp_path / "out.parquet") == 3
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column("USER_ID").to_pylist() == ["u1", "u2", "u3"]
    assert table.column("EVENT_VALUE").to_pylist() == [None, None, 2.5]


def test_progress_is_reported_in_bytes_and_rows(tmp_path: Path) -> None:
    files = [write(tmp_path, f"{n}.csv", HEADER + b"u,i,1\n" * n) for n in (1, 2, 3)]
    sizes = [path.stat().st_size for path in files]
    calls: list[tuple[int, int]] = []
    convert(files, INTERACTIONS, tmp_path / "out.parquet", lambda done, rows: calls.append((done, rows)))
    ends = [(sum(sizes[:n]), rows) for n, rows in ((1, 1), (2, 3), (3, 6))]
    assert set(ends) <= set(calls)  # each file's end, after its blocks
    assert calls == sorted(calls) and calls[-1] == (sum(sizes), 6)


def test_header_only_file_gives_no_rows(tmp_path: Path) -> None:
    assert convert([write(tmp_path, "a.csv", HEADER)], INTERACTIONS, tmp_path / "out.parquet") == 0
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 0


def test_header_with_utf8_bom_is_accepted(tmp_path: Path) -> None:
    source = write(tmp_path, "a.csv", b"\xef\xbb\xbf" + HEADER + b"u1,i1,1\n")
    assert convert([source], INTERACTIONS, tmp_path / "out.parquet") == 1
    assert pq.read_table(tmp_path / "out.parquet").column("USER_ID").to_pylist() == ["u1"]


def test_crlf_line_endings(tmp_path: Path) -> None:
    source = write(tmp_path, "a.csv", b"USER_ID,ITEM_ID,TIMESTAMP\r\nu1,i1,1\r\nu2,i2,2\r\n")
    assert convert([source], INTERACTIONS, tmp_path / "out.parquet") == 2
    assert pq.read_table(tmp_path / "out.parquet").column("TIMESTAMP").to_pylist() == [1, 2]


def test_id_of_256_characters_is_accepted(tmp_path: Path) -> None:
    source = write(tmp_path, "a.csv", HEADER + b"u1," + b"i" * 256 + b",1\n")
    assert convert([source], INTERACTIONS, tmp_path / "out.parquet") == 1


# -- failures ---------------------------------------------------------------------------------------------


def test_wrong_column_count(tmp_path: Path) -> None:
    message = failure(tmp_path, HEADER + b"u1,i1,1\nu2,i2,2,9\nu3,i3,3\nu4,i4\n")
    assert message == ("Input file input.csv has 2 invalid rows. line 3: expected 3 columns, found 4; "
                       "line 5: expected 3 columns, found 2")


def test_non_integer_timestamp(tmp_path: Path) -> None:
    message = failure(tmp_path, HEADER + b"u1,i1,1\nu2,i2,abc\n")
    assert message == "Input file input.csv has 1 invalid row. line 3: TIMESTAMP value 'abc' is not an integer (long)"


def test_non_numeric_float(tmp_path: Path) -> None:
    message = failure(tmp_path, b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_VALUE\nu1,i1,1,lots\n")
    assert message == "Input file input.csv has 1 invalid row. line 2: EVENT_VALUE value 'lots' is not a number (float)"


def test_int_out_of_range(tmp_path: Path) -> None:
    items = parse_schema(ITEMS_SCHEMA)
    content = b"ITEM_ID,GENRES,YEAR,CREATION_TIMESTAMP\ni1,Drama,3000000000,1\n"
    message = failure(tmp_path, content, schema=items)
    assert message == "Input file input.csv has 1 invalid row. line 2: YEAR value 3000000000 is out of range for int"


def test_invalid_utf8(tmp_path: Path) -> None:
    message = failure(tmp_path, HEADER + b"u1,i1,1\nuser\xff2,i2,2\n")
    assert message == "Input file input.csv has 1 invalid row. line 3: invalid UTF-8 at byte 4"


def test_invalid_utf8_in_header(tmp_path: Path) -> None:
    message = failure(tmp_path, b"USER_ID,ITEM\xff_ID,TIMESTAMP\nu1,i1,1\n")
    assert message == "Input file input.csv: line 1 (the header) is not valid UTF-8."


def test_missing_header(tmp_path: Path) -> None:
    message = failure(tmp_path, b"u1,i1,1\nu2,i2,2\n")
    assert message == ("Input file input.csv has no header row: the first line must name the columns "
                       "(USER_ID, ITEM_ID, TIMESTAMP, EVENT_VALUE).")


def test_empty_file_has_no_header(tmp_path: Path) -> None:
    assert failure(tmp_path, b"").startswith("Input file input.csv has no header row: ")


def test_missing_column(tmp_path: Path) -> None:
    message = failure(tmp_path, b"USER_ID,ITEM_ID\nu1,i1\n")
    assert message == "Input CSV is missing the following columns: [TIMESTAMP]"


def test_missing_columns_listed_in_schema_order(tmp_path: Path) -> None:
    message = failure(tmp_path, b"ITEM_ID\ni1\n")
    assert message == "Input CSV is missing the following columns: [USER_ID, TIMESTAMP]"


def test_unknown_column(tmp_path: Path) -> None:
    message = failure(tmp_path, b"USER_ID,ITEM_ID,TIMESTAMP,FOO\nu1,i1,1,x\n")
    assert message == "Input CSV input.csv has columns that are not in the schema: [FOO]"


def test_repeated_column(tmp_path: Path) -> None:
    message = failure(tmp_path, b"USER_ID,ITEM_ID,TIMESTAMP,ITEM_ID\nu1,i1,1,i2\n")
    assert message == "Input CSV input.csv repeats the columns [ITEM_ID]"


def test_empty_required_value(tmp_path: Path) -> None:
    message = failure(tmp_path, HEADER + b"u1,i1,1\n,i2,2\n")
    assert message == "Input file input.csv has 1 invalid row. line 3: USER_ID is required but empty"


def test_quoted_empty_required_value(tmp_path: Path) -> None:
    message = failure(tmp_path, HEADER + b'u1,"",1\n')
    assert message == "Input file input.csv has 1 invalid row. line 2: ITEM_ID is required but empty"


def test_id_longer_than_256_characters(tmp_path: Path) -> None:
    message = failure(tmp_path, HEADER + b"u1," + b"i" * 257 + b",1\n")
    assert message == "Input file input.csv has 1 invalid row. line 2: ITEM_ID value is longer than 256 characters"


def test_failure_names_the_bad_file(tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", HEADER + b"u1,i1,1\n")
    bad = write(tmp_path, "bad.csv", HEADER + b"u2,i2,x\n")
    with pytest.raises(ImportFailed) as caught:
        convert([good, bad], INTERACTIONS, tmp_path / "out.parquet")
    assert str(caught.value) == (
        "Input file bad.csv has 1 invalid row. line 2: TIMESTAMP value 'x' is not an integer (long)")


def test_at_most_five_errors_are_reported(tmp_path: Path) -> None:
    message = failure(tmp_path, HEADER + b"".join(b"u,i,x%d\n" % i for i in range(8)))
    assert message.startswith("Input file input.csv has 8 invalid rows. line 2: ")
    assert message.count("is not an integer") == 5
    assert message.endswith("line 6: TIMESTAMP value 'x4' is not an integer (long)")


# -- diagnose ---------------------------------------------------------------------------------------------


def test_diagnose_counts_every_bad_line_but_reports_five(tmp_path: Path) -> None:
    lines = [b"u,i,1\n", b",i,2\n", b"u,i\n", b"u,i,x\n", b"\n", b"u,i,3\n"] * 3
    path = write(tmp_path, "a.csv", HEADER + b"".join(lines))
    bad_lines, examples = diagnose(path, INTERACTIONS)
    assert bad_lines == 9
    assert examples == [
        "line 3: USER_ID is required but empty",
        "line 4: expected 3 columns, found 2",
        "line 5: TIMESTAMP value 'x' is not an integer (long)",
        "line 9: USER_ID is required but empty",
        "line 10: expected 3 columns, found 2",
    ]


def test_diagnose_clean_file(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", HEADER + b"u1,i1,1\n\nu2,i2,-2\n")
    assert diagnose(path, INTERACTIONS) == (0, [])

"""CSV → Parquet with validation against the dataset's Avro schema.

The fast path streams the file through pyarrow with the schema's types and checks nulls and lengths per
batch. Any problem sends the file through `diagnose`, a plain line-by-line pass that names the first few
bad lines and why; the import then fails as a whole, so nothing is partially imported.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from reelrank.ingest.avro import AvroSchema, Field

MAX_REPORTED_ERRORS = 5
_INTEGER = re.compile(r"^[+-]?\d+$")
_INT32 = (-(2**31), 2**31 - 1)
_BOOLEANS = {"true", "false", "True", "False", "TRUE", "FALSE", "1", "0"}


class ImportFailed(Exception):
    """The input cannot be imported; the message is the job's failureReason."""


class _BadInput(Exception):
    pass


BLOCK_BYTES = 8 << 20
"""Input is parsed, checked and written a block of this many bytes at a time."""


def convert(files: list[Path], schema: AvroSchema, output: Path,
            on_progress: Callable[[int, int], None] | None = None) -> int:
    """Validate `files` and write them as one Parquet file at `output`; returns the row count.

    `on_progress(bytes, rows)` is told after each block of input: about how many input bytes are done (blocks are
    `BLOCK_BYTES` each) and how many rows."""
    rows, before = 0, 0
    # IDs are nearly unique per row, so dictionary-encoding them costs half the write for little size gain.
    dictionary = [field.name for field in schema.fields if not field.name.endswith("_ID")]
    with pq.ParquetWriter(output, schema.arrow_schema, compression="zstd", use_dictionary=dictionary) as writer:
        for path in files:
            size = path.stat().st_size
            try:
                for number, batch in enumerate(_validated_batches(path, schema), 1):
                    writer.write_batch(batch)
                    rows += batch.num_rows
                    if on_progress:
                        on_progress(before + min(size, number * BLOCK_BYTES), rows)
            except _BadInput as problem:
                raise ImportFailed(_describe_failure(path, schema, str(problem))) from None
            before += size
            if on_progress:
                on_progress(before, rows)
    return rows


def read_header(path: Path) -> list[str]:
    with path.open("rb") as stream:
        first = stream.readline()
    try:
        line = first.decode("utf-8-sig").strip("\r\n")
    except UnicodeDecodeError:
        raise ImportFailed(f"Input file {path.name}: line 1 (the header) is not valid UTF-8.") from None
    return next(csv.reader([line]), [])


def check_header(header: list[str], schema: AvroSchema, filename: str) -> None:
    names = {field.name for field in schema.fields}
    if not header or not (set(header) & names):
        raise ImportFailed(
            f"Input file {filename} has no header row: the first line must name the columns "
            f"({', '.join(f.name for f in schema.fields)}).")
    missing = [f.name for f in schema.fields if not f.nullable and f.name not in header]
    if missing:
        raise ImportFailed(f"Input CSV is missing the following columns: [{', '.join(missing)}]")
    unknown = [name for name in header if name not in names]
    if unknown:
        raise ImportFailed(f"Input CSV {filename} has columns that are not in the schema: [{', '.join(unknown)}]")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ImportFailed(f"Input CSV {filename} repeats the columns [{', '.join(repeated)}]")


def _validated_batches(path: Path, schema: AvroSchema) -> Iterator[pa.RecordBatch]:
    header = read_header(path)
    check_header(header, schema, path.name)
    invalid_rows: list[str] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        invalid_rows.append(row.text)
        return "skip"

    present = [field for field in schema.fields if field.name in header]
    absent = [field for field in schema.fields if field.name not in header]
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid_row),
            convert_options=pacsv.ConvertOptions(
                column_types={f.name: f.arrow_type for f in present}, null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=True),
        )
        for batch in reader:
            if invalid_rows:
                raise _BadInput(f"a row has the wrong number of columns: {invalid_rows[0][:200]!r}")
            for field in present:
                _check_column(batch.column(field.name), field)
            columns = [batch.column(f.name) if f.name in header else pa.nulls(batch.num_rows, f.arrow_type)
                       for f in schema.fields]
            yield pa.RecordBatch.from_arrays(columns, schema=schema.arrow_schema)
    except pa.ArrowInvalid as error:
        raise _BadInput(str(error)) from None
    if invalid_rows:
        raise _BadInput(f"a row has the wrong number of columns: {invalid_rows[0][:200]!r}")
    del absent


def _check_column(column: pa.Array, field: Field) -> None:
    if not field.nullable and column.null_count:
        raise _BadInput(f"{field.name} is empty in {column.null_count} rows")
    limit = field.max_chars
    if limit is not None and len(column) and (pc.max(pc.utf8_length(column)).as_py() or 0) > limit:
        raise _BadInput(f"a {field.name} value is longer than {limit} characters")


def _describe_failure(path: Path, schema: AvroSchema, fast_path_reason: str) -> str:
    bad_lines, examples = diagnose(path, schema)
    if not examples:
        return f"Input file {path.name} could not be imported: {fast_path_reason}"
    rows = "row" if bad_lines == 1 else "rows"
    return f"Input file {path.name} has {bad_lines} invalid {rows}. " + "; ".join(examples)


def diagnose(path: Path, schema: AvroSchema) -> tuple[int, list[str]]:
    """Check `path` line by line; returns the number of bad lines and the first few reasons."""
    header = read_header(path)
    fields = [schema.field(name) for name in header]
    bad_lines = 0
    examples: list[str] = []
    with path.open("rb") as stream:
        stream.readline()
        for line_number, raw in enumerate(stream, start=2):
            problem = _line_problem(raw, fields)
            if problem is None:
                continue
            bad_lines += 1
            if len(examples) < MAX_REPORTED_ERRORS:
                examples.append(f"line {line_number}: {problem}")
    return bad_lines, examples


def _line_problem(raw: bytes, fields: list[Field | None]) -> str | None:
    try:
        line = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as error:
        return f"invalid UTF-8 at byte {error.start}"
    if not line:
        return None
    values = next(csv.reader([line]))
    if len(values) != len(fields):
        return f"expected {len(fields)} columns, found {len(values)}"
    for value, field in zip(values, fields, strict=True):
        if field is not None and (problem := _value_problem(value, field)):
            return problem
    return None


def _value_problem(value: str, field: Field) -> str | None:
    if value == "":
        return None if field.nullable else f"{field.name} is required but empty"
    if field.type in ("int", "long"):
        if not _INTEGER.match(value):
            return f"{field.name} value {value[:50]!r} is not an integer ({field.type})"
        if field.type == "int" and not _INT32[0] <= int(value) <= _INT32[1]:
            return f"{field.name} value {value} is out of range for int"
    elif field.type in ("float", "double"):
        try:
            float(value)
        except ValueError:
            return f"{field.name} value {value[:50]!r} is not a number ({field.type})"
    elif field.type == "boolean" and value not in _BOOLEANS:
        return f"{field.name} value {value[:50]!r} is not a boolean"
    elif field.max_chars is not None and len(value) > field.max_chars:
        return f"{field.name} value is longer than {field.max_chars} characters"
    return None

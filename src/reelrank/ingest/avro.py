"""Personalize's Avro schemas: parsing, the rules per dataset type, and the Arrow types they map to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa

from reelrank.errors import InvalidInputException

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
}
ID_MAX_CHARS = 256
CATEGORICAL_MAX_CHARS = 1000
TEXTUAL_MAX_CHARS = 20_000
MAX_ITEM_METADATA_FIELDS = 100
MAX_USER_METADATA_FIELDS = 25

# Required fields and their allowed types, per dataset type (reference §2.1, §4, §9).
REQUIRED_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "INTERACTIONS": {"USER_ID": ("string",), "ITEM_ID": ("string",), "TIMESTAMP": ("long", "int")},
    "ITEMS": {"ITEM_ID": ("string",)},
    "USERS": {"USER_ID": ("string",)},
    "ACTIONS": {"ACTION_ID": ("string",)},
    "ACTION_INTERACTIONS": {"USER_ID": ("string",), "ACTION_ID": ("string",), "TIMESTAMP": ("long", "int"),
                            "EVENT_TYPE": ("string",)},
}
ID_FIELDS = {"ITEMS": "ITEM_ID", "USERS": "USER_ID", "ACTIONS": "ACTION_ID"}
"""Dataset types whose records are keyed by an ID: a later record with the same ID replaces the earlier."""
DATASET_TYPES = tuple(REQUIRED_FIELDS)


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    nullable: bool
    categorical: bool = False
    textual: bool = False

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW_TYPES[self.type]

    @property
    def max_chars(self) -> int | None:
        if self.type != "string":
            return None
        if self.name.endswith("_ID"):
            return ID_MAX_CHARS
        if self.textual:
            return TEXTUAL_MAX_CHARS
        return CATEGORICAL_MAX_CHARS


@dataclass(frozen=True)
class AvroSchema:
    name: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        return next((field for field in self.fields if field.name == name), None)

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(f.name, f.arrow_type, nullable=f.nullable) for f in self.fields])


def camel_case(column: str) -> str:
    """`NUMBER_OF_RATINGS` → `numberOfRatings`: how the properties of PutEvents, PutItems and the like name schema
    columns."""
    head, *rest = column.lower().split("_")
    return head + "".join(part.capitalize() for part in rest)


def parse_schema(text: str) -> AvroSchema:
    """Parse a Personalize Avro schema, raising InvalidInputException with the reason."""
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise InvalidInputException(f"Invalid schema: not valid JSON ({error}).") from None
    if not isinstance(document, dict) or document.get("type") != "record":
        raise InvalidInputException('Invalid schema: the top-level type must be "record".')
    if not isinstance(document.get("name"), str) or not document["name"]:
        raise InvalidInputException("Invalid schema: a record must have a name.")
    raw_fields = document.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise InvalidInputException("Invalid schema: a record must have a non-empty list of fields.")
    fields = tuple(_parse_field(raw) for raw in raw_fields)
    names = [field.name for field in fields]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InvalidInputException(f"Invalid schema: duplicate field names {duplicates}.")
    return AvroSchema(document["name"], fields)


def _parse_field(raw: Any) -> Field:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise InvalidInputException("Invalid schema: every field must be an object with a name.")
    name: str = raw["name"]
    declared = raw.get("type")
    types = declared if isinstance(declared, list) else [declared]
    non_null = [t for t in types if t != "null"]
    if len(non_null) != 1 or not isinstance(non_null[0], str) or non_null[0] not in _ARROW_TYPES:
        raise InvalidInputException(
            f"Invalid schema: field {name} has type {orjson.dumps(declared).decode()}; expected one of "
            f"{sorted(_ARROW_TYPES)}, optionally in a union with \"null\".")
    field = Field(name, non_null[0], "null" in types, bool(raw.get("categorical")), bool(raw.get("textual")))
    if (field.categorical or field.textual) and field.type != "string":
        raise InvalidInputException(f"Invalid schema: field {name} is categorical or textual but not a string.")
    if field.categorical and field.textual:
        raise InvalidInputException(f"Invalid schema: field {name} cannot be both categorical and textual.")
    return field


def check_schema_for_dataset(schema: AvroSchema, dataset_type: str, domain: str | None) -> None:
    """The rules CreateDataset applies: required fields per type, metadata counts, domain extras."""
    required = dict(REQUIRED_FIELDS[dataset_type])
    if domain and dataset_type == "INTERACTIONS":
        required["EVENT_TYPE"] = ("string",)
    for name, allowed in required.items():
        field = schema.field(name)
        if field is None:
            raise InvalidInputException(
                f"Schema {schema.name} is missing the required field {name} for a {dataset_type} dataset.")
        if field.type not in allowed or field.nullable:
            raise InvalidInputException(
                f"Field {name} of a {dataset_type} dataset must be of type {' or '.join(allowed)} "
                "and not nullable.")
    metadata_fields = [field for field in schema.fields if field.name not in required]
    if dataset_type in ("ITEMS", "USERS") and not metadata_fields:
        raise InvalidInputException(f"A {dataset_type} schema needs at least one metadata field.")
    limit = {"ITEMS": MAX_ITEM_METADATA_FIELDS, "USERS": MAX_USER_METADATA_FIELDS}.get(dataset_type)
    if limit is not None and len(metadata_fields) > limit:
        raise InvalidInputException(
            f"A {dataset_type} schema may have at most {limit} metadata fields; it has {len(metadata_fields)}.")
    if dataset_type == "ITEMS" and sum(field.textual for field in schema.fields) > 1:
        raise InvalidInputException("An ITEMS schema may have at most one textual field.")

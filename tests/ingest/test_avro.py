"""Unit tests for reelrank.ingest.avro: schema parsing, per-dataset-type rules and Arrow types."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pytest

from reelrank.errors import InvalidInputException
from reelrank.ingest.avro import (
    CATEGORICAL_MAX_CHARS,
    ID_MAX_CHARS,
    TEXTUAL_MAX_CHARS,
    AvroSchema,
    Field,
    check_schema_for_dataset,
    parse_schema,
)
from reelrank.synthetic import INTERACTIONS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA


def schema_text(*fields: dict[str, Any], name: str = "Test") -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "com.amazonaws.personalize.schema",
                       "fields": list(fields), "version": "1.0"})


def schema(*fields: dict[str, Any]) -> AvroSchema:
    return parse_schema(schema_text(*fields))


def refusal(text: str) -> str:
    with pytest.raises(InvalidInputException) as caught:
        parse_schema(text)
    return caught.value.message


def rule_refusal(parsed: AvroSchema, dataset_type: str, domain: str | None = None) -> str:
    with pytest.raises(InvalidInputException) as caught:
        check_schema_for_dataset(parsed, dataset_type, domain)
    return caught.value.message


USER_ID = {"name": "USER_ID", "type": "string"}
ITEM_ID = {"name": "ITEM_ID", "type": "string"}
TIMESTAMP = {"name": "TIMESTAMP", "type": "long"}
EVENT_TYPE = {"name": "EVENT_TYPE", "type": "string"}


# -- parse_schema -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [INTERACTIONS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA],
                         ids=["interactions", "items", "users"])
def test_synthetic_schemas_parse(text: str) -> None:
    parsed = parse_schema(text)
    assert [field.name for field in parsed.fields] == [field["name"] for field in json.loads(text)["fields"]]


def test_items_schema_fields() -> None:
    parsed = parse_schema(ITEMS_SCHEMA)
    assert parsed.name == "Items"
    assert parsed.fields == (
        Field("ITEM_ID", "string", False),
        Field("GENRES", "string", False, categorical=True),
        Field("YEAR", "int", False),
        Field("CREATION_TIMESTAMP", "long", False),
        Field("TITLE", "string", True),
        Field("DESCRIPTION", "string", True, textual=True),
    )


def test_union_order_does_not_matter() -> None:
    assert schema({"name": "A", "type": ["float", "null"]}).fields == (Field("A", "float", True),)


def test_field_lookup() -> None:
    parsed = parse_schema(INTERACTIONS_SCHEMA)
    assert parsed.field("TIMESTAMP") == Field("TIMESTAMP", "long", False)
    assert parsed.field("MISSING") is None


def test_refuses_non_json() -> None:
    assert refusal("{not json").startswith("Invalid schema: not valid JSON (")


@pytest.mark.parametrize("document", [[], {"type": "enum", "name": "X", "symbols": []}, {"name": "X", "fields": []}],
                         ids=["list", "enum", "no-type"])
def test_refuses_non_record(document: Any) -> None:
    assert refusal(json.dumps(document)) == 'Invalid schema: the top-level type must be "record".'


def test_refuses_a_record_without_name() -> None:
    assert refusal(json.dumps({"type": "record", "fields": [USER_ID]})) == "Invalid schema: a record must have a name."


@pytest.mark.parametrize("fields", [None, [], "USER_ID"], ids=["missing", "empty", "not-a-list"])
def test_refuses_missing_fields(fields: Any) -> None:
    document: dict[str, Any] = {"type": "record", "name": "X"}
    if fields is not None:
        document["fields"] = fields
    assert refusal(json.dumps(document)) == "Invalid schema: a record must have a non-empty list of fields."


def test_refuses_a_field_without_name() -> None:
    assert refusal(schema_text({"type": "string"})) == "Invalid schema: every field must be an object with a name."


@pytest.mark.parametrize("declared", ["bytes", ["null", "string", "int"], ["null"], None],
                         ids=["bytes", "two-types", "only-null", "missing"])
def test_refuses_unsupported_types(declared: Any) -> None:
    message = refusal(schema_text({"name": "X", "type": declared}))
    assert message == (
        f"Invalid schema: field X has type {json.dumps(declared, separators=(',', ':'))}; expected one of "
        "['boolean', 'double', 'float', 'int', 'long', 'string'], optionally in a union with \"null\".")


@pytest.mark.parametrize("declared", [{"type": "array", "items": "string"}, ["null", {"type": "map", "values": "int"}]],
                         ids=["complex", "complex-in-union"])
def test_refuses_complex_types(declared: Any) -> None:
    message = refusal(schema_text({"name": "X", "type": declared}))
    assert message.startswith("Invalid schema: field X has type ")


@pytest.mark.parametrize(("declared", "flag"),
                         [("int", "categorical"), ("long", "textual"), ("boolean", "categorical")])
def test_refuses_categorical_or_textual_non_strings(declared: str, flag: str) -> None:
    message = refusal(schema_text({"name": "YEAR", "type": declared, flag: True}))
    assert message == "Invalid schema: field YEAR is categorical or textual but not a string."


def test_refuses_categorical_and_textual() -> None:
    message = refusal(schema_text({"name": "D", "type": "string", "categorical": True, "textual": True}))
    assert message == "Invalid schema: field D cannot be both categorical and textual."


def test_refuses_duplicate_fields() -> None:
    message = refusal(schema_text(USER_ID, ITEM_ID, {"name": "USER_ID", "type": "string"}, ITEM_ID))
    assert message == "Invalid schema: duplicate field names ['ITEM_ID', 'USER_ID']."


# -- check_schema_for_dataset -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "dataset_type", "domain"), [
    (INTERACTIONS_SCHEMA, "INTERACTIONS", None),
    (INTERACTIONS_SCHEMA, "INTERACTIONS", "VIDEO_ON_DEMAND"),
    (ITEMS_SCHEMA, "ITEMS", "VIDEO_ON_DEMAND"),
    (USERS_SCHEMA, "USERS", None),
])
def test_synthetic_schemas_fit_their_dataset_types(text: str, dataset_type: str, domain: str | None) -> None:
    check_schema_for_dataset(parse_schema(text), dataset_type, domain)


def test_users_needs_user_id() -> None:
    parsed = schema({"name": "AGE", "type": "int"})
    assert rule_refusal(parsed, "USERS") == "Schema Test is missing the required field USER_ID for a USERS dataset."


def test_interactions_needs_timestamp() -> None:
    parsed = schema(USER_ID, ITEM_ID)
    assert rule_refusal(parsed, "INTERACTIONS") == (
        "Schema Test is missing the required field TIMESTAMP for a INTERACTIONS dataset.")


def test_nullable_timestamp_refused() -> None:
    parsed = schema(USER_ID, ITEM_ID, {"name": "TIMESTAMP", "type": ["null", "long"]})
    assert rule_refusal(parsed, "INTERACTIONS") == (
        "Field TIMESTAMP of a INTERACTIONS dataset must be of type long or int and not nullable.")


def test_int_timestamp_accepted() -> None:
    check_schema_for_dataset(schema(USER_ID, ITEM_ID, {"name": "TIMESTAMP", "type": "int"}), "INTERACTIONS", None)


def test_string_timestamp_refused() -> None:
    parsed = schema(USER_ID, ITEM_ID, {"name": "TIMESTAMP", "type": "string"})
    assert rule_refusal(parsed, "INTERACTIONS") == (
        "Field TIMESTAMP of a INTERACTIONS dataset must be of type long or int and not nullable.")


def test_nullable_id_refused() -> None:
    parsed = schema({"name": "ITEM_ID", "type": ["null", "string"]}, {"name": "GENRES", "type": "string"})
    assert rule_refusal(parsed, "ITEMS") == "Field ITEM_ID of a ITEMS dataset must be of type string and not nullable."


def test_event_type_optional_without_domain() -> None:
    check_schema_for_dataset(schema(USER_ID, ITEM_ID, TIMESTAMP), "INTERACTIONS", None)


def test_event_type_required_with_domain() -> None:
    parsed = schema(USER_ID, ITEM_ID, TIMESTAMP)
    assert rule_refusal(parsed, "INTERACTIONS", "ECOMMERCE") == (
        "Schema Test is missing the required field EVENT_TYPE for a INTERACTIONS dataset.")


def test_event_type_with_domain_must_not_be_nullable() -> None:
    parsed = schema(USER_ID, ITEM_ID, TIMESTAMP, {"name": "EVENT_TYPE", "type": ["null", "string"]})
    assert rule_refusal(parsed, "INTERACTIONS", "VIDEO_ON_DEMAND") == (
        "Field EVENT_TYPE of a INTERACTIONS dataset must be of type string and not nullable.")


def test_action_interactions_always_need_event_type() -> None:
    parsed = schema(USER_ID, {"name": "ACTION_ID", "type": "string"}, TIMESTAMP)
    assert rule_refusal(parsed, "ACTION_INTERACTIONS") == (
        "Schema Test is missing the required field EVENT_TYPE for a ACTION_INTERACTIONS dataset.")


def test_items_need_a_metadata_field() -> None:
    assert rule_refusal(schema(ITEM_ID), "ITEMS") == "A ITEMS schema needs at least one metadata field."


def test_users_need_a_metadata_field() -> None:
    assert rule_refusal(schema(USER_ID), "USERS") == "A USERS schema needs at least one metadata field."


def test_items_metadata_field_limit() -> None:
    metadata = [{"name": f"F{i}", "type": "string", "categorical": True} for i in range(101)]
    assert rule_refusal(schema(ITEM_ID, *metadata), "ITEMS") == (
        "A ITEMS schema may have at most 100 metadata fields; it has 101.")
    check_schema_for_dataset(schema(ITEM_ID, *metadata[:100]), "ITEMS", None)


def test_users_metadata_field_limit() -> None:
    metadata = [{"name": f"F{i}", "type": "int"} for i in range(26)]
    assert rule_refusal(schema(USER_ID, *metadata), "USERS") == (
        "A USERS schema may have at most 25 metadata fields; it has 26.")
    check_schema_for_dataset(schema(USER_ID, *metadata[:25]), "USERS", None)


def test_items_at_most_one_textual_field() -> None:
    parsed = schema(ITEM_ID, {"name": "A", "type": "string", "textual": True},
                    {"name": "B", "type": ["null", "string"], "textual": True})
    assert rule_refusal(parsed, "ITEMS") == "An ITEMS schema may have at most one textual field."


# -- Field and arrow_schema -------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "expected"), [
    (Field("ITEM_ID", "string", False), ID_MAX_CHARS),
    (Field("PARENT_ID", "string", True), ID_MAX_CHARS),
    (Field("DESCRIPTION", "string", True, textual=True), TEXTUAL_MAX_CHARS),
    (Field("GENRES", "string", False, categorical=True), CATEGORICAL_MAX_CHARS),
    (Field("TITLE", "string", True), CATEGORICAL_MAX_CHARS),
    (Field("YEAR", "int", False), None),
    (Field("PRICE", "double", True), None),
])
def test_field_max_chars(field: Field, expected: int | None) -> None:
    assert field.max_chars == expected


def test_max_chars_constants() -> None:
    assert (ID_MAX_CHARS, CATEGORICAL_MAX_CHARS, TEXTUAL_MAX_CHARS) == (256, 1000, 20_000)


def test_arrow_schema_types_and_nullability() -> None:
    parsed = schema(
        {"name": "S", "type": "string"},
        {"name": "I", "type": ["null", "int"]},
        {"name": "L", "type": "long"},
        {"name": "F", "type": ["null", "float"]},
        {"name": "D", "type": "double"},
        {"name": "B", "type": ["boolean", "null"]},
    )
    assert parsed.arrow_schema == pa.schema([
        pa.field("S", pa.string(), nullable=False),
        pa.field("I", pa.int32(), nullable=True),
        pa.field("L", pa.int64(), nullable=False),
        pa.field("F", pa.float32(), nullable=True),
        pa.field("D", pa.float64(), nullable=False),
        pa.field("B", pa.bool_(), nullable=True),
    ])


def test_arrow_schema_of_interactions() -> None:
    arrow = parse_schema(INTERACTIONS_SCHEMA).arrow_schema
    assert arrow.names == ["USER_ID", "ITEM_ID", "EVENT_TYPE", "TIMESTAMP", "EVENT_VALUE"]
    assert arrow.field("TIMESTAMP").type == pa.int64()
    assert not arrow.field("TIMESTAMP").nullable
    assert arrow.field("EVENT_VALUE").nullable

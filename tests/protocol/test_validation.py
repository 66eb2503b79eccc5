"""Unit tests for reelrank.protocol.validation against the real botocore input shapes."""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.model import Shape
from hypothesis import given, settings
from hypothesis import strategies as st

from reelrank.errors import InvalidInputException
from reelrank.protocol import validation
from reelrank.protocol.models import SERVICES, control_plane_operations, rest_routes, service_model
from reelrank.protocol.validation import _compile, validate

NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*"
TAG_PATTERN = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"
DATASET_ARN = "arn:aws:personalize:us-east-1:000000000000:dataset/movies/INTERACTIONS"


def input_shape(operation: str) -> Shape:
    shape = control_plane_operations()[operation].model.input_shape
    assert shape is not None
    return shape


def events_shape() -> Shape:
    shape = rest_routes()["/events"].model.input_shape
    assert shape is not None
    return shape


def recommendations_shape() -> Shape:
    shape = rest_routes()["/recommendations"].model.input_shape
    assert shape is not None
    return shape


def error_of(params: Any, shape: Shape | None) -> str:
    with pytest.raises(InvalidInputException) as caught:
        validate(params, shape)
    return caught.value.message


def one_error(path: str, value: str, constraint: str) -> str:
    return f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {constraint}"


def event(**overrides: Any) -> dict[str, Any]:
    return {"eventType": "watch", "sentAt": 1_700_000_000, **overrides}


def put_events(*events: dict[str, Any]) -> dict[str, Any]:
    return {"trackingId": "tracking-1", "sessionId": "session-1", "eventList": list(events)}


# -- no input, non-objects --------------------------------------------------------------------------------


def test_no_input_shape_accepts_nothing_or_empty_object() -> None:
    assert validate(None, None) == {}
    assert validate({}, None) == {}


def test_no_input_shape_refuses_members() -> None:
    assert error_of({"name": "x"}, None) == "This operation takes no input members."


def test_body_must_be_an_object() -> None:
    assert error_of(["name"], input_shape("CreateDatasetGroup")) == "The request body must be a JSON object."


# -- structures -------------------------------------------------------------------------------------------


def test_valid_request_is_returned() -> None:
    params = {"name": "movies", "domain": "VIDEO_ON_DEMAND", "tags": [{"tagKey": "team", "tagValue": "recs"}]}
    assert validate(params, input_shape("CreateDatasetGroup")) == params


def test_required_member_missing() -> None:
    assert error_of({}, input_shape("CreateDatasetGroup")) == one_error("name", "null", "Member must not be null")


def test_required_member_null() -> None:
    message = error_of({"name": None}, input_shape("CreateDatasetGroup"))
    assert message == one_error("name", "null", "Member must not be null")


def test_unknown_member() -> None:
    message = error_of({"name": "movies", "colour": "red"}, input_shape("CreateDatasetGroup"))
    assert message == (
        "1 validation error detected: Unknown member 'colour' (expected one of: name, roleArn, kmsKeyArn, "
        "domain, tags)"
    )


def test_unknown_member_counts_with_other_errors() -> None:
    message = error_of({"name": "bad name!", "colour": "red"}, input_shape("CreateDatasetGroup"))
    assert message.startswith("2 validation errors detected: ")


def test_none_members_are_dropped() -> None:
    result = validate({"name": "movies", "domain": None, "roleArn": None}, input_shape("CreateDatasetGroup"))
    assert result == {"name": "movies"}


def test_structure_member_must_be_an_object() -> None:
    params = {"jobName": "j", "datasetArn": DATASET_ARN, "dataSource": "s3://bucket/x.csv"}
    message = error_of(params, input_shape("CreateDatasetImportJob"))
    assert message == one_error("dataSource", "s3://bucket/x.csv", "Member must be an object")


# -- strings ----------------------------------------------------------------------------------------------


def test_string_type() -> None:
    message = error_of({"name": 5}, input_shape("CreateDatasetGroup"))
    assert message == one_error("name", "5", "Member must be a string")


def test_string_min_length() -> None:
    message = error_of({"name": ""}, input_shape("CreateDatasetGroup"))
    # The empty string also fails the pattern, which needs one character.
    assert message == (
        "2 validation errors detected: "
        "Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1; "
        f"Value '' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: "
        f"{NAME_PATTERN}"
    )


def test_string_max_length() -> None:
    name = "a" * 64
    assert error_of({"name": name}, input_shape("CreateDatasetGroup")) == one_error(
        "name", name, "Member must have length less than or equal to 63")


def test_string_at_max_length_passes() -> None:
    assert validate({"name": "a" * 63}, input_shape("CreateDatasetGroup")) == {"name": "a" * 63}


def test_long_values_are_shown_truncated() -> None:
    name = "a" * 150
    message = error_of({"name": name}, input_shape("CreateDatasetGroup"))
    assert f"Value '{'a' * 97}...' at 'name'" in message


def test_pattern_must_match_the_whole_value() -> None:
    message = error_of({"name": "bad name!"}, input_shape("CreateDatasetGroup"))
    assert message == one_error("name", "bad name!", f"Member must satisfy regular expression pattern: {NAME_PATTERN}")


def test_pattern_refuses_a_bad_first_character() -> None:
    message = error_of({"name": "-movies"}, input_shape("CreateDatasetGroup"))
    assert message == one_error("name", "-movies", f"Member must satisfy regular expression pattern: {NAME_PATTERN}")


def test_java_property_classes_in_patterns() -> None:
    params = {"name": "movies", "tags": [{"tagKey": "Team name 1", "tagValue": "Équipe:recs/é=+@"}]}
    assert validate(params, input_shape("CreateDatasetGroup")) == params


def test_java_property_class_refuses_other_characters() -> None:
    params = {"name": "movies", "tags": [{"tagKey": "team!", "tagValue": "x"}]}
    message = error_of(params, input_shape("CreateDatasetGroup"))
    assert message == one_error("tags.1.member.tagKey", "team!",
                                f"Member must satisfy regular expression pattern: {TAG_PATTERN}")


def test_ascii_property_outside_brackets() -> None:
    shape = input_shape("ListDatasetGroups")
    assert validate({"nextToken": "abc=="}, shape) == {"nextToken": "abc=="}
    message = error_of({"nextToken": "é"}, shape)
    assert message == one_error("nextToken", "é", r"Member must satisfy regular expression pattern: \p{ASCII}{0,1500}")


def test_enum() -> None:
    message = error_of({"name": "movies", "domain": "MUSIC"}, input_shape("CreateDatasetGroup"))
    assert message == one_error("domain", "MUSIC", "Member must satisfy enum value set: [ECOMMERCE, VIDEO_ON_DEMAND]")


def test_enum_value_passes() -> None:
    assert validate({"name": "movies", "domain": "ECOMMERCE"}, input_shape("CreateDatasetGroup"))["domain"] == (
        "ECOMMERCE")


# -- lists and maps ---------------------------------------------------------------------------------------


def test_list_type() -> None:
    message = error_of({"name": "movies", "tags": {"tagKey": "a"}}, input_shape("CreateDatasetGroup"))
    assert message == one_error("tags", '{"tagKey":"a"}', "Member must be a list")


def test_list_min_size() -> None:
    message = error_of(put_events(), events_shape())
    assert message == one_error("eventList", "[]", "Member must have size greater than or equal to 1")


def test_list_max_size() -> None:
    message = error_of(put_events(*[event() for _ in range(11)]), events_shape())
    assert message.startswith("1 validation error detected: Value '[")
    assert message.endswith("' at 'eventList' failed to satisfy constraint: "
                            "Member must have size less than or equal to 10")


def test_list_at_max_size_passes() -> None:
    assert len(validate(put_events(*[event() for _ in range(10)]), events_shape())["eventList"]) == 10


def test_map_type() -> None:
    message = error_of({"filterValues": ["a"]}, recommendations_shape())
    assert message == one_error("filterValues", '["a"]', "Member must be a map")


def test_map_max_size() -> None:
    values = {f"K{i}": "v" for i in range(26)}
    message = error_of({"filterValues": values}, recommendations_shape())
    assert message.endswith("' at 'filterValues' failed to satisfy constraint: Member must have size less than or "
                            "equal to 25")
    assert message.startswith("1 validation error detected: ")


def test_map_keys_and_values_are_checked() -> None:
    message = error_of({"filterValues": {"bad key": "v", "GOOD": "x" * 1001}}, recommendations_shape())
    assert message == (
        "2 validation errors detected: "
        "Value 'bad key' at 'filterValues.key' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [A-Za-z0-9_]+; "
        f"Value '{'x' * 97}...' at 'filterValues.GOOD' failed to satisfy constraint: "
        "Member must have length less than or equal to 1000"
    )


def test_map_passes() -> None:
    assert validate({"filterValues": {"GENRE": '"Comedy"'}}, recommendations_shape()) == {
        "filterValues": {"GENRE": '"Comedy"'}}


# -- numbers and booleans ---------------------------------------------------------------------------------


def test_integer_passes() -> None:
    assert validate({"maxResults": 100}, input_shape("ListDatasetGroups")) == {"maxResults": 100}


def test_integer_refuses_bool() -> None:
    message = error_of({"maxResults": True}, input_shape("ListDatasetGroups"))
    assert message == one_error("maxResults", "true", "Member must be an integer")


def test_integer_refuses_float() -> None:
    message = error_of({"maxResults": 5.0}, input_shape("ListDatasetGroups"))
    assert message == one_error("maxResults", "5.0", "Member must be an integer")


def test_integer_range() -> None:
    shape = input_shape("ListDatasetGroups")
    assert error_of({"maxResults": 0}, shape) == one_error(
        "maxResults", "0", "Member must have value greater than or equal to 1")
    assert error_of({"maxResults": 101}, shape) == one_error(
        "maxResults", "101", "Member must have value less than or equal to 100")


def test_float_accepts_an_int_as_float() -> None:
    result = validate(put_events(event(eventValue=3)), events_shape())
    value = result["eventList"][0]["eventValue"]
    assert value == 3.0
    assert isinstance(value, float)


def test_float_refuses_bool_and_string() -> None:
    shape = events_shape()
    assert error_of(put_events(event(eventValue=True)), shape) == one_error(
        "eventList.1.member.eventValue", "true", "Member must be a number")
    assert error_of(put_events(event(eventValue="3")), shape) == one_error(
        "eventList.1.member.eventValue", "3", "Member must be a number")


def test_boolean() -> None:
    shape = input_shape("CreateDatasetImportJob")
    params = {"jobName": "j", "datasetArn": DATASET_ARN, "dataSource": {}, "publishAttributionMetricsToS3": True}
    assert validate(params, shape)["publishAttributionMetricsToS3"] is True
    params["publishAttributionMetricsToS3"] = "true"
    assert error_of(params, shape) == one_error("publishAttributionMetricsToS3", "true", "Member must be a boolean")


# -- timestamps -------------------------------------------------------------------------------------------


def test_timestamp_epoch_int_becomes_float() -> None:
    sent_at = validate(put_events(event(sentAt=1_700_000_000)), events_shape())["eventList"][0]["sentAt"]
    assert sent_at == 1_700_000_000.0
    assert isinstance(sent_at, float)


def test_timestamp_epoch_float_kept() -> None:
    sent_at = validate(put_events(event(sentAt=1_700_000_000.25)), events_shape())["eventList"][0]["sentAt"]
    assert sent_at == 1_700_000_000.25


def test_timestamp_iso_string_with_zone() -> None:
    shape = events_shape()
    assert validate(put_events(event(sentAt="2024-01-01T00:00:00Z")), shape)["eventList"][0]["sentAt"] == 1704067200.0
    assert validate(put_events(event(sentAt="2024-01-01T01:00:00+01:00")), shape)["eventList"][0]["sentAt"] == (
        1704067200.0)


@pytest.fixture
def tokyo_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("tokyo_local_time")
def test_timestamp_iso_string_without_zone_is_utc() -> None:
    sent_at = validate(put_events(event(sentAt="2024-01-01T00:00:00")), events_shape())["eventList"][0]["sentAt"]
    assert sent_at == 1704067200.0


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01T00:00:00Z", True, float("inf"), [1]],
                         ids=["word", "bad-month", "bool", "inf", "list"])
def test_timestamp_garbage_refused(value: Any) -> None:
    message = error_of(put_events(event(sentAt=value)), events_shape())
    assert message.startswith("1 validation error detected: Value '")
    assert message.endswith("' at 'eventList.1.member.sentAt' failed to satisfy constraint: "
                            "Member must be a timestamp in epoch seconds")


# -- jsonvalue --------------------------------------------------------------------------------------------


def test_jsonvalue_accepts_a_json_string() -> None:
    result = validate(put_events(event(properties='{"numberOfRatings": "12"}')), events_shape())
    assert result["eventList"][0]["properties"] == '{"numberOfRatings": "12"}'


def test_jsonvalue_refuses_text_that_is_not_json() -> None:
    message = error_of(put_events(event(properties="{not json")), events_shape())
    assert message == one_error("eventList.1.member.properties", "{not json",
                                "Member must be a JSON document serialised as a string")


def test_jsonvalue_refuses_an_object() -> None:
    message = error_of(put_events(event(properties={"a": 1})), events_shape())
    assert message == one_error("eventList.1.member.properties", '{"a":1}', "Member must be a string")


# -- nested paths and the S3Location extension ------------------------------------------------------------


def test_nested_structure_path() -> None:
    params = {"jobName": "j", "datasetArn": DATASET_ARN, "dataSource": {"dataLocation": "ftp://host/x.csv"}}
    message = error_of(params, input_shape("CreateDatasetImportJob"))
    assert message == one_error("dataSource.dataLocation", "ftp://host/x.csv",
                                "Member must satisfy regular expression pattern: (s3|http|https)://.+")


def test_nested_list_member_path() -> None:
    params = {"name": "movies", "tags": [{"tagKey": "a", "tagValue": "b"}, {"tagValue": "c"}]}
    message = error_of(params, input_shape("CreateDatasetGroup"))
    assert message == one_error("tags.2.member.tagKey", "null", "Member must not be null")


def test_nested_list_member_path_first_item() -> None:
    message = error_of({"name": "movies", "tags": [{"tagValue": "c"}]}, input_shape("CreateDatasetGroup"))
    assert message == one_error("tags.1.member.tagKey", "null", "Member must not be null")


def test_s3_location_accepts_s3() -> None:
    params = {"jobName": "j", "datasetArn": DATASET_ARN, "dataSource": {"dataLocation": "s3://bucket/data.csv"}}
    assert validate(params, input_shape("CreateDatasetImportJob")) == params


def test_s3_location_accepts_file_uri() -> None:
    params = {"jobName": "j", "datasetArn": DATASET_ARN, "dataSource": {"dataLocation": "file:///srv/data.csv"}}
    assert validate(params, input_shape("CreateDatasetImportJob")) == params


def test_s3_location_file_uri_still_has_a_max_length() -> None:
    location = "file:///" + "a" * 300
    params = {"jobName": "j", "datasetArn": DATASET_ARN, "dataSource": {"dataLocation": location}}
    message = error_of(params, input_shape("CreateDatasetImportJob"))
    assert message.endswith("' at 'dataSource.dataLocation' failed to satisfy constraint: "
                            "Member must have length less than or equal to 256")


def test_file_uri_is_not_accepted_by_other_patterns() -> None:
    params = {"jobName": "j", "datasetArn": "file:///x", "dataSource": {}}
    message = error_of(params, input_shape("CreateDatasetImportJob"))
    assert message == one_error("datasetArn", "file:///x",
                                "Member must satisfy regular expression pattern: arn:([a-z\\d-]+):personalize:.*:.*:.+")


# -- counting ---------------------------------------------------------------------------------------------


def test_two_errors_are_counted_and_joined() -> None:
    message = error_of({"name": "bad name!", "domain": "MUSIC"}, input_shape("CreateDatasetGroup"))
    assert message == (
        "2 validation errors detected: "
        f"Value 'bad name!' at 'name' failed to satisfy constraint: Member must satisfy regular expression "
        f"pattern: {NAME_PATTERN}; "
        "Value 'MUSIC' at 'domain' failed to satisfy constraint: Member must satisfy enum value set: "
        "[ECOMMERCE, VIDEO_ON_DEMAND]"
    )


def test_count_is_total_but_at_most_ten_are_listed() -> None:
    params = {"name": "movies", "tags": [{"tagKey": f"k{i}"} for i in range(12)]}
    message = error_of(params, input_shape("CreateDatasetGroup"))
    assert message.startswith("12 validation errors detected: ")
    assert message.count("failed to satisfy constraint") == 10
    assert "tags.10.member.tagValue" in message
    assert "tags.11.member.tagValue" not in message


# -- properties -------------------------------------------------------------------------------------------

VALID_NAMES = st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9\-_]{0,62}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(name=VALID_NAMES)
def test_valid_dataset_group_names_pass(name: str) -> None:
    assert validate({"name": name}, input_shape("CreateDatasetGroup")) == {"name": name}


@settings(max_examples=200, deadline=None)
@given(name=VALID_NAMES, bad=st.sampled_from([" ", "!"]), where=st.integers(min_value=0, max_value=63))
def test_names_with_a_space_or_bang_fail(name: str, bad: str, where: int) -> None:
    position = min(where, len(name))
    spoiled = name[:position] + bad + name[position:]
    with pytest.raises(InvalidInputException, match=re.escape("Member must satisfy regular expression pattern")):
        validate({"name": spoiled}, input_shape("CreateDatasetGroup"))


def _patterns() -> list[tuple[str, str, str]]:
    found: dict[tuple[str, str], str] = {}
    for service in SERVICES:
        model = service_model(service)
        for shape_name in model.shape_names:
            shape = model.shape_for(shape_name)
            pattern = shape.metadata.get("pattern")
            if pattern:
                found[(service, shape_name)] = pattern
    return [(service, shape_name, pattern) for (service, shape_name), pattern in sorted(found.items())]


def test_every_service_model_has_patterns() -> None:
    assert {service for service, _, _ in _patterns()} == set(SERVICES)
    assert any(r"\p{" in pattern for _, _, pattern in _patterns())


def test_every_model_pattern_compiles() -> None:
    failures = []
    for service, shape_name, pattern in _patterns():
        try:
            _compile(pattern)
        except re.error as error:
            failures.append(f"{service} {shape_name} {pattern!r}: {error}")
    assert failures == []


def test_module_source_compiles_without_warnings() -> None:
    source = Path(validation.__file__).read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(source, validation.__file__, "exec")

r"""Validate a decoded JSON request against its botocore input shape.

Botocore's own `ParamValidator` checks Python client inputs (and only `min`), so the server walks the model
itself: required members, unknown members, JSON types, enums, min/max lengths and ranges, patterns and the
`jsonvalue` trait. Patterns must match the whole value, as Java's `Matcher.matches()` does in AWS's own
validation (`^[a-zA-Z0-9][a-zA-Z0-9\-_]*` refuses "bad name!"). Errors are reported the way AWS does:
"N validation errors detected: Value … at '…' failed to satisfy constraint: …".
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
from botocore.model import Shape

from reelrank.errors import InvalidInputException

# Java regex property classes that Python's `re` lacks: a bare range inside [...], a class outside.
_JAVA_CLASSES = {"ASCII": r"\x00-\x7F", "L": r"\w", "N": r"\d", "Z": r"\s"}
_JAVA_PROPERTY = re.compile(r"\\p\{(\w+)\}")
_LOCAL_LOCATION = re.compile(r"^file://")
"""Extension: S3Location members also accept file:// URIs (checked against the allowed import roots)."""
_MAX_ERRORS_REPORTED = 10


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    def bare(match: re.Match[str]) -> str:
        return _JAVA_CLASSES[match[1]]

    inside = re.sub(r"\[[^\]]*\]", lambda group: _JAVA_PROPERTY.sub(bare, group[0]), pattern)
    return re.compile(_JAVA_PROPERTY.sub(lambda match: f"[{bare(match)}]", inside))


def _show(value: Any) -> str:
    if value is None:
        return "null"
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= 100 else text[:97] + "..."


class _Report:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, path: str, value: Any, constraint: str) -> None:
        self.errors.append(f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: {constraint}")

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        count = len(self.errors)
        noun = "validation error" if count == 1 else "validation errors"
        detail = "; ".join(self.errors[:_MAX_ERRORS_REPORTED])
        raise InvalidInputException(f"{count} {noun} detected: {detail}")


def validate(params: Any, shape: Shape | None) -> dict[str, Any]:
    """Check `params` against `shape`; returns the params with timestamps as epoch floats."""
    if shape is None:
        if params not in (None, {}):
            raise InvalidInputException("This operation takes no input members.")
        return {}
    if not isinstance(params, dict):
        raise InvalidInputException("The request body must be a JSON object.")
    report = _Report()
    result = _structure(params, shape, "", report)
    report.raise_if_any()
    return result  # type: ignore[no-any-return]


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def _value(value: Any, shape: Shape, path: str, report: _Report) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _structure(value, shape, path, report)
    if kind == "list":
        return _list(value, shape, path, report)
    if kind == "map":
        return _map(value, shape, path, report)
    if kind == "string":
        return _string(value, shape, path, report)
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            report.fail(path, value, "Member must be an integer")
            return value
        _range(value, shape, path, report)
        return value
    if kind in ("float", "double"):
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            report.fail(path, value, "Member must be a number")
            return value
        _range(value, shape, path, report)
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            report.fail(path, value, "Member must be a boolean")
        return value
    if kind == "timestamp":
        return _timestamp(value, path, report)
    report.fail(path, value, f"Member has an unsupported type {kind}")
    return value


def _structure(value: Any, shape: Shape, path: str, report: _Report) -> Any:
    if not isinstance(value, dict):
        report.fail(path or "input", value, "Member must be an object")
        return value
    members = shape.members
    for name in shape.required_members:
        if value.get(name) is None:
            report.fail(_join(path, name), None, "Member must not be null")
    result: dict[str, Any] = {}
    for name, member_value in value.items():
        member_shape = members.get(name)
        if member_shape is None:
            expected = ", ".join(members) or "none"
            report.errors.append(f"Unknown member '{_join(path, name)}' (expected one of: {expected})")
            continue
        if member_value is None:
            continue
        result[name] = _value(member_value, member_shape, _join(path, name), report)
    return result


def _list(value: Any, shape: Shape, path: str, report: _Report) -> Any:
    if not isinstance(value, list):
        report.fail(path, value, "Member must be a list")
        return value
    _size(value, shape, path, report)
    return [_value(item, shape.member, f"{path}.{i}.member", report) for i, item in enumerate(value, 1)]


def _map(value: Any, shape: Shape, path: str, report: _Report) -> Any:
    if not isinstance(value, dict):
        report.fail(path, value, "Member must be a map")
        return value
    _size(value, shape, path, report)
    result = {}
    for key, item in value.items():
        _string(key, shape.key, f"{path}.key", report)
        result[key] = _value(item, shape.value, f"{path}.{key}", report)
    return result


def _string(value: Any, shape: Shape, path: str, report: _Report) -> Any:
    if not isinstance(value, str):
        report.fail(path, value, "Member must be a string")
        return value
    _size(value, shape, path, report)
    enum = shape.enum
    if enum and value not in enum:
        report.fail(path, value, f"Member must satisfy enum value set: [{', '.join(enum)}]")
    pattern = shape.metadata.get("pattern")
    local = shape.name == "S3Location" and _LOCAL_LOCATION.search(value)
    if pattern and not local and not _compile(pattern).fullmatch(value):
        report.fail(path, value, f"Member must satisfy regular expression pattern: {pattern}")
    if shape.serialization.get("jsonvalue"):
        try:
            orjson.loads(value)
        except orjson.JSONDecodeError:
            report.fail(path, value, "Member must be a JSON document serialised as a string")
    return value


def _size(value: str | list[Any] | dict[str, Any], shape: Shape, path: str, report: _Report) -> None:
    what = "length" if isinstance(value, str) else "size"
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and len(value) < low:
        report.fail(path, value, f"Member must have {what} greater than or equal to {low}")
    if high is not None and len(value) > high:
        report.fail(path, value, f"Member must have {what} less than or equal to {high}")


def _range(value: float, shape: Shape, path: str, report: _Report) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        report.fail(path, value, f"Member must have value greater than or equal to {low}")
    if high is not None and value > high:
        report.fail(path, value, f"Member must have value less than or equal to {high}")


def _timestamp(value: Any, path: str, report: _Report) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
        except ValueError:
            pass
    report.fail(path, value, "Member must be a timestamp in epoch seconds")
    return value

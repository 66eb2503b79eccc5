"""Shape a handler's result to the operation's output shape and encode it as JSON."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import orjson
from botocore.model import Shape

Projector = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


@cache
def projector(shape: Shape) -> Projector:
    """A function keeping only what `shape` defines (unknown keys and None values dropped), built once per shape."""
    kind = shape.type_name
    if kind == "structure":
        members = {name: projector(member) for name, member in shape.members.items()}
        nested = {name: member for name, member in members.items() if member is not _same}
        if not nested:  # scalar members only (e.g. each item of a recommendation list): no call per member
            known = members.keys()
            return lambda value: value if known >= value.keys() and None not in value.values() else {
                name: item for name, item in value.items() if item is not None and name in members}
        return lambda value: {name: nested[name](item) if name in nested else item for name, item in value.items()
                              if item is not None and name in members}
    if kind == "list":
        each = projector(shape.member)
        return _same if each is _same else lambda value: [each(item) for item in value]
    if kind == "map":
        each = projector(shape.value)
        return _same if each is _same else lambda value: {key: each(item) for key, item in value.items()}
    if kind == "timestamp":
        return float
    return _same


def project(value: Any, shape: Shape) -> Any:
    return projector(shape)(value)


def encode(result: dict[str, Any], shape: Shape | None) -> bytes:
    return orjson.dumps(project(result, shape) if shape is not None else {})

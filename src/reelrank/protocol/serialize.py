"""Shape a handler's result to the operation's output shape and encode it as JSON."""

from __future__ import annotations

from typing import Any

import orjson
from botocore.model import Shape


def project(value: Any, shape: Shape) -> Any:
    """Keep only what the model defines: unknown keys and None values are dropped."""
    kind = shape.type_name
    if kind == "structure":
        members = shape.members
        return {name: project(item, members[name]) for name, item in value.items()
                if item is not None and name in members}
    if kind == "list":
        return [project(item, shape.member) for item in value]
    if kind == "map":
        return {key: project(item, shape.value) for key, item in value.items()}
    if kind == "timestamp":
        return float(value)
    return value


def encode(result: dict[str, Any], shape: Shape | None) -> bytes:
    return orjson.dumps(project(result, shape) if shape is not None else {})

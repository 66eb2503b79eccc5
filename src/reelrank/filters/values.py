"""`filterValues` (reference §6.4): one string per parameter, each a comma-separated list of quoted values.

    {"GENRES": "\"Comedy\",\"Drama\""}  ->  GENRES = ("Comedy", "Drama")
    {"AGE": "18"} or {"AGE": "\"18\""}   ->  AGE = 18 (comparison parameters take exactly one number)

Strings must be quoted (`\"` and `\\` escape inside quotes); numbers may be bare. A parameter of an INCLUDE
expression must be supplied; one used only by EXCLUDE expressions may be omitted, and the conditions that
use it are then left out (see `reelrank.filters.compiler`). Keys the expression does not use are ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from reelrank.errors import InvalidInputException
from reelrank.filters.nodes import FilterExpression, Operator, Parameter

MAX_FILTER_VALUES = 25
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_EXAMPLE = '"\\"Comedy\\",\\"Drama\\""'


def to_number(text: str) -> float | None:
    """The number a string spells (the filter grammar's number syntax, surrounding spaces allowed), else None."""
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        return None
    value = float(stripped)
    return value if math.isfinite(value) else None


def number_text(value: float) -> str:
    """A float as IN compares it with strings: 12.0 -> '12', 2.5 -> '2.5'."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


@dataclass(frozen=True)
class Scalar:
    """One comparison operand: its text and, when the text is a number, the number."""

    text: str
    number: float | None

    @classmethod
    def of(cls, text: str) -> Scalar:
        return cls(text, to_number(text))


def parse_value_list(name: str, raw: str) -> tuple[str, ...]:
    """`"\\"Comedy\\",\\"Drama\\""` -> ("Comedy", "Drama"); InvalidInputException naming the parameter."""
    if not isinstance(raw, str):
        raise InvalidInputException(f"Invalid value for filter parameter {name}: expected a string, got "
                                    f"{type(raw).__name__}")
    values: list[str] = []
    position, length = 0, len(raw)
    while True:
        while position < length and raw[position].isspace():
            position += 1
        if position >= length:
            what = "no value" if not values else "nothing after the last comma"
            raise InvalidInputException(f"Invalid value for filter parameter {name}: {what}; expected quoted strings "
                                        f"separated by commas, such as {_EXAMPLE}")
        if raw[position] == '"':
            position, value = _quoted(name, raw, position)
        else:
            end = raw.find(",", position)
            end = length if end < 0 else end
            value = raw[position:end].strip()
            if to_number(value) is None:
                shown = value if len(value) <= 40 else value[:40] + "..."
                raise InvalidInputException(f"Invalid value for filter parameter {name}: {shown!r} is neither a quoted "
                                            f"string nor a number; quote each value, as in {_EXAMPLE}")
            position = end
        values.append(value)
        while position < length and raw[position].isspace():
            position += 1
        if position >= length:
            return tuple(values)
        if raw[position] != ",":
            raise InvalidInputException(f"Invalid value for filter parameter {name}: expected a comma after value "
                                        f"{len(values)} at position {position + 1}, found {raw[position]!r}")
        position += 1


def _quoted(name: str, raw: str, start: int) -> tuple[int, str]:
    chars: list[str] = []
    position = start + 1
    while position < len(raw):
        char = raw[position]
        if char == "\\" and position + 1 < len(raw):
            chars.append(raw[position + 1])
            position += 2
        elif char == '"':
            return position + 1, "".join(chars)
        else:
            chars.append(char)
            position += 1
    raise InvalidInputException(f"Invalid value for filter parameter {name}: the quoted string that starts at "
                                f"position {start + 1} is not closed")


def parse_number(name: str, raw: str) -> float:
    """A comparison parameter's value: exactly one number, quoted or not."""
    number = _scalar(name, raw, numeric=True).number
    assert number is not None
    return number


def _scalar(name: str, raw: str, *, numeric: bool) -> Scalar:
    values = parse_value_list(name, raw)
    if len(values) != 1:
        raise InvalidInputException(f"Invalid value for filter parameter {name}: a comparison takes one value, got "
                                    f"{len(values)}")
    scalar = Scalar.of(values[0])
    if numeric and scalar.number is None:
        raise InvalidInputException(f"Invalid value for filter parameter {name}: {values[0]!r} is not a number")
    return scalar


@dataclass(frozen=True)
class BoundValues:
    """The supplied parameters, parsed; a name that is absent was omitted (its conditions are left out)."""

    lists: Mapping[str, tuple[str, ...]]
    scalars: Mapping[str, Scalar]

    def values(self, name: str) -> tuple[str, ...] | None:
        return self.lists.get(name)

    def scalar(self, name: str) -> Scalar | None:
        return self.scalars.get(name)


def bind_values(expression: FilterExpression, values: Mapping[str, str] | None) -> BoundValues:
    """Parse `filterValues` for `expression`: every parameter of an INCLUDE expression must be there, each value
    must suit how the parameter is used (a list for IN, one value for =/!=, one number for < <= > >=)."""
    values = values or {}
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidInputException(f"filterValues has {len(values)} entries; the maximum is {MAX_FILTER_VALUES}")
    missing = sorted(expression.required_parameters - values.keys())
    if missing:
        raise InvalidInputException(f"The filter expression needs values for its parameters: "
                                    f"{', '.join('$' + name for name in missing)} (INCLUDE expressions need every "
                                    f"parameter in filterValues)")
    lists: dict[str, tuple[str, ...]] = {}
    scalars: dict[str, Scalar] = {}
    for condition in expression.conditions():
        parameter = condition.operand
        if not isinstance(parameter, Parameter) or parameter.name not in values:
            continue
        raw = values[parameter.name]
        if condition.operator is Operator.IN:
            lists[parameter.name] = parse_value_list(parameter.name, raw)
        else:
            scalar = _scalar(parameter.name, raw, numeric=condition.operator.is_ordering)
            scalars[parameter.name] = scalar
    return BoundValues(lists, scalars)

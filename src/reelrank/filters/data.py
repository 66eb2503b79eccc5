"""What a compiled filter evaluates against: attribute tables (items, actions, users) and the current user.

Attribute values, and how conditions read them (the same rules for a table row, the current item's value
and the current user's attribute):

* A categorical value is a string; "" (or None in an object array) is missing. `A|B` holds several values:
  `IN` matches when any part is in the list, exactly (case-sensitive). `NOT IN` is the negation of `IN`,
  so it matches missing values.
* A numeric value is a float; NaN is missing. `IN` compares numbers with the list entries that are numbers.
* `=` matches when the operand is a number equal to the value (a categorical value counts as a number when
  the whole string spells one) or when the operand's text is one of the value's parts. `!=` matches present
  values that `=` does not match. `<`, `<=`, `>`, `>=` compare numbers; a missing or non-numeric value never
  matches.

Tables are immutable once built: they cache per-column indexes (value -> row indices) and the masks of
conditions with literal operands, so that a mask over 60,000 rows costs microseconds.
"""

from __future__ import annotations

import math
import operator as op
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reelrank.filters.nodes import Operator
from reelrank.filters.values import Scalar, number_text, to_number

Mask = NDArray[np.bool_]
AttributeValue = str | float | None

ITEM_INTERACTIONS_PER_EVENT_TYPE = 100  # reference §6.2, adjustable
ACTION_INTERACTIONS_PER_EVENT_TYPE = 300

_ORDERING: dict[Operator, Callable[[Any, Any], Any]] = {
    Operator.LT: op.lt, Operator.LE: op.le, Operator.GT: op.gt, Operator.GE: op.ge,
}


def split_parts(value: str) -> list[str]:
    """The values of a categorical (possibly multi-valued, `|`-separated) attribute."""
    return [part for part in value.split("|") if part]


def value_in(value: AttributeValue, values: Sequence[str]) -> bool:
    """Whether one attribute value is IN `values` (see the module docstring)."""
    if value is None:
        return False
    if isinstance(value, str):
        wanted = set(values)
        return any(part in wanted for part in split_parts(value))
    if math.isnan(value):
        return False
    return any(to_number(v) == value for v in values)


def value_compare(value: AttributeValue, operator: Operator, scalar: Scalar) -> bool:
    """Whether one attribute value satisfies `value <operator> scalar` (=, !=, <, <=, >, >=)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return False
    number = to_number(value) if isinstance(value, str) else value
    if operator in _ORDERING:
        return number is not None and scalar.number is not None and bool(_ORDERING[operator](number, scalar.number))
    equal = (number is not None and scalar.number is not None and number == scalar.number) or (
        isinstance(value, str) and scalar.text in split_parts(value))
    return equal if operator is Operator.EQ else not equal


def value_parts(value: AttributeValue) -> tuple[str, ...]:
    """A value as an IN list (`Items.GENRE IN CurrentItem.GENRE`)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(split_parts(value))
    return () if math.isnan(value) else (number_text(value),)


def value_scalar(value: AttributeValue) -> Scalar | None:
    """A value as a comparison operand (`Items.PRICE < CurrentItem.PRICE`); None when missing."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return Scalar.of(value)
    return None if math.isnan(value) else Scalar(number_text(value), value)


def _as_strings(column: NDArray[Any]) -> NDArray[np.str_]:
    if column.dtype.kind == "U":
        return column
    if column.dtype.kind == "S":
        return np.char.decode(column, "utf-8")
    out = ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in column.tolist()]
    return np.asarray(out, dtype=str) if out else np.zeros(0, dtype="U1")


@dataclass(frozen=True)
class _Column:
    index: dict[str, NDArray[np.intp]] | None  # categorical: part -> sorted row indices; None when numeric
    numbers: NDArray[np.float64]  # numeric view, NaN where missing or not a number
    present: Mask


def _build_column(values: NDArray[Any] | None, size: int) -> _Column:
    if values is None:  # a column the table lacks: every value missing
        return _Column({}, np.full(size, np.nan), np.zeros(size, dtype=bool))
    values = np.asarray(values)
    if values.dtype.kind in "fiub":
        numbers = values.astype(np.float64)
        return _Column(None, numbers, ~np.isnan(numbers))
    strings = _as_strings(values)
    uniques, inverse = np.unique(strings, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(inverse, minlength=len(uniques)))])
    groups: dict[str, list[NDArray[np.intp]]] = {}
    for code, unique in enumerate(uniques.tolist()):
        rows = order[bounds[code]:bounds[code + 1]]
        for part in set(split_parts(unique)):
            groups.setdefault(part, []).append(rows)
    index = {part: (np.sort(np.concatenate(rows)) if len(rows) > 1 else rows[0]) for part, rows in groups.items()}
    unique_numbers = np.array([to_number(u) if u else None for u in uniques.tolist()], dtype=np.float64)
    numbers = unique_numbers[inverse] if len(uniques) else np.zeros(0)
    present = (uniques != "")[inverse] if len(uniques) else np.zeros(0, dtype=bool)
    return _Column(index, numbers, present)


@dataclass(eq=False)
class AttributeTable:
    """Rows (items, actions or users) in model index order, with attribute columns.

    `columns` maps a field name (as in the schema, case-sensitive) to an array as long as `ids`: strings for
    categorical fields (multiple values `|`-separated), numbers for numeric ones (NaN for missing)."""

    ids: NDArray[Any]
    columns: Mapping[str, NDArray[Any]] = field(default_factory=dict)
    _cache: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for name, column in self.columns.items():
            if len(column) != len(self.ids):
                raise ValueError(f"column {name} has {len(column)} values for {len(self.ids)} rows")

    def __len__(self) -> int:
        return len(self.ids)

    def _column(self, name: str) -> _Column:
        key = ("column", name)
        column = self._cache.get(key)
        if column is None:
            column = self._cache[key] = _build_column(self.columns.get(name), len(self))
        assert isinstance(column, _Column)
        return column

    def cached(self, key: Hashable, build: Callable[[], Mask]) -> Mask:
        """A read-only mask built once per table (for conditions whose operands are literals)."""
        full_key = ("mask", key)
        mask = self._cache.get(full_key)
        if mask is None:
            mask = build()
            mask.flags.writeable = False
            self._cache[full_key] = mask
        assert isinstance(mask, np.ndarray)
        return mask

    def value(self, name: str, row: int) -> AttributeValue:
        """One row's value: a string ("" when missing) or a float (NaN when missing); None when no such column."""
        column = self.columns.get(name)
        if column is None:
            return None
        value = column[row]
        if isinstance(value, bytes):
            return value.decode("utf-8")
        if isinstance(value, str | np.str_):
            return str(value)
        if value is None:
            return ""
        if isinstance(value, float | int | np.number | np.bool_):
            return float(value)
        return str(value)

    def in_mask(self, name: str, values: Sequence[str]) -> Mask:
        """Rows whose `name` is IN `values`."""
        column = self._column(name)
        mask = np.zeros(len(self), dtype=bool)
        if column.index is None:
            numbers = [number for number in map(to_number, values) if number is not None]
            if numbers:
                mask = np.isin(column.numbers, numbers)
            return mask
        for value in values:
            rows = column.index.get(value)
            if rows is not None:
                mask[rows] = True
        return mask

    def compare_mask(self, name: str, operator: Operator, scalar: Scalar | None) -> Mask:
        """Rows whose `name` satisfies `<operator> scalar`; none when the operand is missing (None)."""
        column = self._column(name)
        if scalar is None:
            return np.zeros(len(self), dtype=bool)
        if operator in _ORDERING:
            if scalar.number is None:
                return np.zeros(len(self), dtype=bool)
            with np.errstate(invalid="ignore"):
                return np.asarray(_ORDERING[operator](column.numbers, scalar.number), dtype=bool)
        equal = column.numbers == scalar.number if scalar.number is not None else np.zeros(len(self), dtype=bool)
        if column.index is not None:
            rows = column.index.get(scalar.text)
            if rows is not None:
                equal[rows] = True
        return equal if operator is Operator.EQ else column.present & ~equal


@dataclass(eq=False)
class ItemTable(AttributeTable):
    """Items (or, for ActionID filters, actions): `ids[i]` is the item with model index i."""


@dataclass(eq=False)
class UserTable(AttributeTable):
    """Users, for UserID filters (user segments). `event_users`/`event_types` optionally list the users'
    interactions (user index, event type), for `Interactions.EVENT_TYPE` conditions."""

    event_users: NDArray[np.int64] | None = None
    event_types: NDArray[Any] | Sequence[str] | None = None

    def event_index(self) -> tuple[NDArray[np.str_], list[NDArray[np.int64]]]:
        """Lower-cased event types and, for each, the users who have at least one interaction of that type."""
        key = ("events",)
        found = self._cache.get(key)
        if found is None:
            users = np.asarray(self.event_users if self.event_users is not None else [], dtype=np.int64)
            types = np.char.lower(np.asarray(self.event_types if self.event_types is not None else [], dtype=str))
            if len(users) != len(types):
                raise ValueError("event_users and event_types differ in length")
            keep = (users >= 0) & (users < len(self))
            names, codes = np.unique(types[keep], return_inverse=True)
            kept_users = users[keep]
            found = self._cache[key] = (names, [np.unique(kept_users[codes.reshape(-1) == code])
                                                for code in range(len(names))])
        assert isinstance(found, tuple)
        return found


@dataclass(eq=False)
class UserContext:
    """The user a recommendation request is for.

    `item_indices`/`event_types`: the user's interactions (model item index, event type), oldest first. Only the
    most recent `limit` per event type (event types compared case-insensitively) count for Interactions
    conditions. `attributes`: the user's Users-dataset fields, for IF CurrentUser conditions. `current_item`:
    the model index of the request's item, for CurrentItem conditions (related-items recipes). `windows`: where
    `window` keeps what it computes, which depends on the interactions alone: a caller may pass one dict for every
    context of the same interactions."""

    item_indices: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    event_types: NDArray[Any] | Sequence[str] = ()
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    current_item: int | None = None
    windows: dict[int, tuple[NDArray[np.int64], NDArray[np.intp], NDArray[np.str_]]] = field(
        default_factory=dict, repr=False)

    @classmethod
    def from_pairs(cls, interactions: Iterable[tuple[int, str]], attributes: Mapping[str, AttributeValue] | None = None,
                   current_item: int | None = None) -> UserContext:
        """From (item index, event type) pairs, oldest first."""
        pairs = list(interactions)
        return cls(np.fromiter((index for index, _ in pairs), dtype=np.int64, count=len(pairs)),
                   [event_type for _, event_type in pairs], attributes or {}, current_item)

    def attribute(self, name: str) -> AttributeValue:
        value = self.attributes.get(name)
        if isinstance(value, int | np.number) and not isinstance(value, bool):
            return float(value)
        return value

    def window(self, limit: int) -> tuple[NDArray[np.int64], NDArray[np.intp], NDArray[np.str_]]:
        """(item indices, event type codes, lower-cased event type names) of the interactions that count: the
        `limit` most recent of each event type."""
        found = self.windows.get(limit)
        if found is not None:
            return found
        items = np.asarray(self.item_indices, dtype=np.int64)
        types = [str(event_type).lower() for event_type in self.event_types]
        if len(items) != len(types):
            raise ValueError("item_indices and event_types differ in length")
        distinct = sorted(set(types))  # what np.unique(..., return_inverse=True) gives, for a few hundred strings
        code_of = {name: code for code, name in enumerate(distinct)}
        names = np.array(distinct, dtype=str) if distinct else np.zeros(0, dtype="U1")
        codes = np.fromiter((code_of[event_type] for event_type in types), dtype=np.intp, count=len(types))
        if len(codes) and np.bincount(codes).max() > limit:
            newest_first = codes[::-1]
            order = np.argsort(newest_first, kind="stable")
            ordered = newest_first[order]
            rank = np.arange(len(ordered)) - np.searchsorted(ordered, ordered, side="left")
            keep_newest_first = np.empty(len(codes), dtype=bool)
            keep_newest_first[order] = rank < limit
            keep = keep_newest_first[::-1]
            items, codes = items[keep], codes[keep]
        found = self.windows[limit] = (items, codes, names)
        return found

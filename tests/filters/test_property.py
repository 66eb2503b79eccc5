"""Property: for random tables, users, expressions and filterValues, the compiled mask equals a plain evaluator
that goes item by item, straight from the semantics of reference §6 (as `reelrank.filters.data` spells them)."""

from __future__ import annotations

import math
import operator
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reelrank.filters import ItemTable, UserContext, compile_filter

Value = str | float | None

# --- plain semantics --------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_ORDERING: dict[str, Callable[[float, float], bool]] = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
                                                        ">=": operator.ge}


def number(text: str) -> float | None:
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def parts(value: str) -> list[str]:
    return [part for part in value.split("|") if part]


def missing(value: Value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def is_in(value: Value, texts: list[str]) -> bool:
    if missing(value):
        return False
    if isinstance(value, str):
        return any(part in texts for part in parts(value))
    return any(number(text) == value for text in texts)


def compare(value: Value, op: str, text: str, num: float | None) -> bool:
    if missing(value):
        return False
    assert value is not None
    value_number = number(value) if isinstance(value, str) else value
    if op in _ORDERING:
        return value_number is not None and num is not None and _ORDERING[op](value_number, num)
    equal = (value_number is not None and num is not None and value_number == num) or (
        isinstance(value, str) and text in parts(value))
    return equal if op == "=" else not equal


# --- generated cases --------------------------------------------------------------------------------------

COLUMNS = ["GENRE", "TAG", "PRICE", "YEAR", "NOPE"]  # NOPE: not in the table
STRINGS = ["a", "b", "A", "10", "2.5", "zz"]
NUMBERS = ["10", "2.5", "-3", "0"]
EVENTS = ["click", "Click", "WATCH", "buy"]


@dataclass
class Cond:
    column: str
    op: str
    kind: str  # list | param | current | scalar
    values: list[tuple[str, bool]]  # list: (text, quoted); scalar: one entry
    param: str = ""

    def render(self, dataset: str) -> str:
        if self.kind == "param":
            operand = f"(${self.param})" if self.op == "IN" else f"${self.param}"
        elif self.kind == "current":
            operand = f"CurrentItem.{self.column}"
        elif self.kind == "list":
            operand = "(" + ", ".join(f'"{t}"' if quoted else t for t, quoted in self.values) + ")"
        else:
            text, quoted = self.values[0]
            operand = f'"{text}"' if quoted else text
        return f"{dataset}.{self.column} {self.op} {operand}"


@dataclass
class Expr:
    action: str
    events: bool
    where: list[list[Cond]]  # OR of ANDs
    condition_if: list[Cond]

    def render(self, case: Callable[[str], str]) -> str:
        dataset = "Interactions" if self.events else "Items"
        groups = [f" {case('AND')} ".join(c.render(dataset) for c in group) for group in self.where]
        where = f" {case('OR')} ".join(groups)
        text = f"{case(self.action)} {case('ItemID')} {case('WHERE')} {where}"
        if self.condition_if:
            text += f" {case('IF')} " + f" {case('AND')} ".join(c.render("CurrentUser") for c in self.condition_if)
        return text


class Names:
    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"P{self.count}"


@st.composite
def item_condition(draw: st.DrawFn, names: Names) -> Cond:
    column = draw(st.sampled_from(COLUMNS))
    kind = draw(st.sampled_from(["list", "list", "param", "current", "scalar", "scalar"]))
    if kind == "list":
        op = draw(st.sampled_from(["IN", "NOT IN"]))
        values = draw(st.lists(st.sampled_from([*((s, True) for s in STRINGS), *((n, False) for n in NUMBERS)]),
                               min_size=1, max_size=3))
        return Cond(column, op, kind, values)
    if kind == "param":
        return Cond(column, draw(st.sampled_from(["IN", "=", "!=", "<", ">="])), kind, [], names.next())
    op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="] + (["IN", "NOT IN"] if kind == "current" else [])))
    if kind == "current":
        return Cond(column, op, kind, [])
    pool = [(n, False) for n in NUMBERS] + ([(s, True) for s in STRINGS] if op in ("=", "!=") else [])
    return Cond(column, op, kind, [draw(st.sampled_from(pool))])


@st.composite
def event_condition(draw: st.DrawFn, names: Names) -> Cond:
    if draw(st.booleans()):
        return Cond("EVENT_TYPE", "IN", "param", [], names.next())
    pool = [(e, True) for e in EVENTS] + [("*", False), ("*", True)]
    values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
    return Cond("EVENT_TYPE", draw(st.sampled_from(["IN", "NOT IN"])), "list", values)


@st.composite
def user_condition(draw: st.DrawFn, names: Names) -> Cond:
    if draw(st.booleans()):
        op = draw(st.sampled_from(["=", "!=", "<", ">="]))
        if draw(st.booleans()):
            return Cond("AGE", op, "param", [], names.next())
        return Cond("AGE", op, "scalar", [(draw(st.sampled_from(["18", "30", "65"])), False)])
    if draw(st.booleans()):
        return Cond("PLAN", "IN", "param", [], names.next())
    values = draw(st.lists(st.sampled_from([("gold", True), ("silver", True), ("basic", True)]), min_size=1,
                           max_size=2))
    return Cond("PLAN", draw(st.sampled_from(["IN", "NOT IN", "="])), "list", values)


@st.composite
def expression(draw: st.DrawFn, names: Names) -> Expr:
    events = draw(st.booleans())
    leaf = event_condition(names) if events else item_condition(names)
    where = draw(st.lists(st.lists(leaf, min_size=1, max_size=2), min_size=1, max_size=2))
    condition_if = draw(st.lists(user_condition(names), max_size=2)) if draw(st.integers(0, 3)) == 0 else []
    for cond in condition_if:  # `=` takes a scalar, not a list
        if cond.op == "=" and cond.kind == "list":
            cond.kind, cond.values = "scalar", cond.values[:1]
    return Expr(draw(st.sampled_from(["INCLUDE", "EXCLUDE"])), events, where, condition_if)


@st.composite
def param_value(draw: st.DrawFn, cond: Cond, events: bool) -> str:
    if cond.op == "IN":
        pool = [*EVENTS, "*"] if events else [*STRINGS, "gold", "silver"]
        chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
        return ",".join(f'"{v}"' for v in chosen)
    if cond.op in _ORDERING:
        value = draw(st.sampled_from([*NUMBERS, "18", "30"]))
    else:
        value = draw(st.sampled_from([*NUMBERS, *STRINGS, "30"]))
    return f'"{value}"' if draw(st.booleans()) else value if number(value) is not None else f'"{value}"'


@dataclass
class Case:
    exprs: list[Expr]
    columns: dict[str, list[Any]]
    interactions: list[tuple[int, str]]
    attributes: dict[str, Value]
    current: int
    values: dict[str, str]
    limit: int
    case: Callable[[str], str]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    size = draw(st.integers(1, 12))
    names = Names()
    exprs = draw(st.lists(expression(names), min_size=1, max_size=3))
    # the data comes from a seeded generator: far fewer hypothesis draws, so many more examples per second
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))

    def column(pool: list[Any]) -> list[Any]:
        return [rng.choice(pool) for _ in range(size)]

    columns: dict[str, list[Any]] = {
        "GENRE": ["|".join(rng.sample(STRINGS, rng.randint(0, 2))) for _ in range(size)],
        "TAG": column([None, "a", "10", "2.5", "b|a", ""]),
        "PRICE": column([math.nan, 0.0, 2.5, 10.0, -3.0, 7.0]),
        "YEAR": column(["", "10", "2.5", "1999", "x", " 0 "]),
    }
    interactions = [(rng.randint(-1, size + 1), rng.choice(EVENTS)) for _ in range(rng.randint(0, 40))]
    attributes: dict[str, Value] = {}
    age = rng.choice([None, 10.0, 30.0, "30", "", math.nan])
    if age is not None:
        attributes["AGE"] = age
    plan = rng.choice([None, "gold", "gold|silver", "basic", ""])
    if plan is not None:
        attributes["PLAN"] = plan
    values: dict[str, str] = {}
    for expr in exprs:
        for cond in [c for group in expr.where for c in group] + expr.condition_if:
            if cond.kind == "param" and (expr.action == "INCLUDE" or draw(st.integers(0, 3)) > 0):
                values[cond.param] = draw(param_value(cond, expr.events and cond.column == "EVENT_TYPE"))
    upper = rng.random() < 0.5
    return Case(exprs, columns, interactions, attributes, rng.randrange(size), values,
                rng.choice([1, 2, 3, 100]), (lambda word: word) if upper else str.lower)


# --- the plain evaluator -------------------------------------------------------------------------------------

def scalar_of(value: Value) -> tuple[str, float | None] | None:
    if missing(value):
        return None
    if isinstance(value, str):
        return value, number(value)
    assert value is not None
    return repr(value), value


def list_of(value: Value) -> list[str]:
    if missing(value):
        return []
    if isinstance(value, str):
        return parts(value)
    return [repr(value)]


def parsed_values(raw: str) -> list[str]:
    return [v.strip().strip('"') for v in raw.split(",")]


def holds(cond: Cond, value: Value, case: Case, current: Value) -> bool | None:
    """Whether `value` satisfies `cond`; None when its parameter was left out."""
    if cond.kind == "param":
        if cond.param not in case.values:
            return None
        given_values = parsed_values(case.values[cond.param])
        if cond.op == "IN":
            return is_in(value, given_values)
        return compare(value, cond.op, given_values[0], number(given_values[0]))
    if cond.kind == "current":
        if cond.op in ("IN", "NOT IN"):
            return is_in(value, list_of(current)) != (cond.op == "NOT IN")
        scalar = scalar_of(current)
        return False if scalar is None else compare(value, cond.op, *scalar)
    texts = [text for text, _ in cond.values]
    if cond.kind == "list" and cond.op in ("IN", "NOT IN"):
        return is_in(value, texts) != (cond.op == "NOT IN")
    return compare(value, cond.op, texts[0], number(texts[0]))


def event_holds(cond: Cond, event_type: str, case: Case) -> bool | None:
    if cond.kind == "param":
        if cond.param not in case.values:
            return None
        wanted = [v.lower() for v in parsed_values(case.values[cond.param])]
    else:
        wanted = [text.lower() for text, _ in cond.values]
    found = "*" in wanted or event_type.lower() in wanted
    return found != (cond.op == "NOT IN")


def combine(results: list[bool | None], every: bool) -> bool | None:
    kept = [r for r in results if r is not None]
    if not kept:
        return None
    return all(kept) if every else any(kept)


def where_holds(expr: Expr, test: Callable[[Cond], bool | None]) -> bool | None:
    return combine([combine([test(c) for c in group], True) for group in expr.where], False)


def window(case: Case) -> list[tuple[int, str]]:
    seen: Counter[str] = Counter()
    kept = []
    for item, event_type in reversed(case.interactions):
        if seen[event_type.lower()] < case.limit:
            seen[event_type.lower()] += 1
            kept.append((item, event_type))
    return kept


def value(case: Case, column: str, row: int) -> Value:
    return case.columns[column][row] if column in case.columns else None


def event_row(expr: Expr, event_type: str, case: Case) -> bool | None:
    return where_holds(expr, lambda c: event_holds(c, event_type, case))


def item_row(expr: Expr, row: int, case: Case) -> bool | None:
    return where_holds(expr, lambda c: holds(c, value(case, c.column, row), case, value(case, c.column, case.current)))


def expected_mask(case: Case, size: int) -> list[bool]:
    include: list[set[int]] = []
    exclude: list[set[int]] = []
    recent = window(case)
    for expr in case.exprs:
        tests = [holds(c, case.attributes.get(c.column), case, None) for c in expr.condition_if]
        if any(t is False for t in tests):
            continue
        if expr.events:
            if where_holds(expr, lambda c: event_holds(c, "probe", case)) is None:
                continue
            rows = {item for item, event_type in recent if 0 <= item < size and event_row(expr, event_type, case)}
        else:
            if where_holds(expr, lambda c: holds(c, None, case, None)) is None:
                continue
            rows = {row for row in range(size) if item_row(expr, row, case)}
        (include if expr.action == "INCLUDE" else exclude).append(rows)
    return [(not include or any(row in s for s in include)) and not any(row in s for s in exclude)
            for row in range(size)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_compiled_mask_equals_the_plain_evaluator(case: Case) -> None:
    text = " | ".join(expr.render(case.case) for expr in case.exprs)
    size = len(case.columns["GENRE"])
    items = ItemTable(np.array([f"i{i}" for i in range(size)]), {
        "GENRE": np.array(case.columns["GENRE"], dtype=str),
        "TAG": np.array(case.columns["TAG"], dtype=object),
        "PRICE": np.array(case.columns["PRICE"], dtype=np.float64),
        "YEAR": np.array(case.columns["YEAR"], dtype=str),
    })
    user = UserContext.from_pairs(case.interactions, case.attributes, current_item=case.current)
    compiled = compile_filter(text, interaction_limit=case.limit)
    got = compiled.mask(items, user, case.values).tolist()
    assert got == expected_mask(case, size), text

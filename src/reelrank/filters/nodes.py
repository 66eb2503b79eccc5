"""The typed syntax tree of a filter expression (reference §6.1), as `reelrank.filters.parser.parse` returns it.

    FilterExpression            expressions chained with `|`
    └── Expression              INCLUDE/EXCLUDE <target> WHERE <where> [IF <condition> AND ...]
        ├── where: Condition | And | Or
        └── condition_if: tuple[Condition, ...]   (fields on the CurrentUser pseudo-dataset)

    Condition(field, operator, operand)
        operand: ValueList (IN / NOT IN), Parameter ($NAME), Field (CurrentItem.<column>),
                 NumberValue / StringValue (comparisons)

Every node carries the 1-based line and column of its first character, for error messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    INCLUDE = "INCLUDE"
    EXCLUDE = "EXCLUDE"


class Target(StrEnum):
    """What the filter selects: items (item recommendations), actions, or users (user segments)."""

    ITEM = "ItemID"
    ACTION = "ActionID"
    USER = "UserID"


class Dataset(StrEnum):
    ITEMS = "Items"
    USERS = "Users"
    INTERACTIONS = "Interactions"
    ACTIONS = "Actions"
    ACTION_INTERACTIONS = "Action_Interactions"
    CURRENT_ITEM = "CurrentItem"
    CURRENT_USER = "CurrentUser"

    @property
    def is_interactions(self) -> bool:
        return self in (Dataset.INTERACTIONS, Dataset.ACTION_INTERACTIONS)

    @property
    def record_dataset(self) -> Dataset:
        """The dataset whose field this is: CurrentItem.X is an Items field, CurrentUser.X a Users field."""
        if self is Dataset.CURRENT_ITEM:
            return Dataset.ITEMS
        if self is Dataset.CURRENT_USER:
            return Dataset.USERS
        return self


class Operator(StrEnum):
    IN = "IN"
    NOT_IN = "NOT IN"
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="

    @property
    def is_membership(self) -> bool:
        return self in (Operator.IN, Operator.NOT_IN)

    @property
    def is_ordering(self) -> bool:
        """<, <=, >, >=: numbers only (= and != also compare strings)."""
        return self in (Operator.LT, Operator.LE, Operator.GT, Operator.GE)


@dataclass(frozen=True)
class Position:
    line: int
    column: int

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}"


@dataclass(frozen=True)
class Field:
    dataset: Dataset
    name: str
    position: Position

    def __str__(self) -> str:
        return f"{self.dataset.value}.{self.name}"


@dataclass(frozen=True)
class StringValue:
    """A quoted string, unescaped."""

    value: str
    position: Position


@dataclass(frozen=True)
class NumberValue:
    value: float
    text: str  # as written; IN compares strings against it
    position: Position


@dataclass(frozen=True)
class Wildcard:
    """`*` or `"*"`: every event type (Interactions.EVENT_TYPE only)."""

    position: Position


@dataclass(frozen=True)
class Parameter:
    name: str  # without the `$`; case-sensitive
    position: Position


Literal = StringValue | NumberValue | Wildcard


@dataclass(frozen=True)
class ValueList:
    values: tuple[Literal, ...]
    position: Position


Operand = ValueList | Parameter | Field | NumberValue | StringValue


@dataclass(frozen=True)
class Condition:
    field: Field
    operator: Operator
    operand: Operand

    @property
    def position(self) -> Position:
        return self.field.position


@dataclass(frozen=True)
class And:
    operands: tuple[Where, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Where, ...]


Where = Condition | And | Or


def conditions_of(where: Where) -> Iterator[Condition]:
    if isinstance(where, Condition):
        yield where
    else:
        for operand in where.operands:
            yield from conditions_of(operand)


@dataclass(frozen=True)
class Expression:
    action: Action
    target: Target
    where: Where
    condition_if: tuple[Condition, ...]
    position: Position

    def conditions(self) -> Iterator[Condition]:
        """WHERE conditions first, then IF conditions."""
        yield from conditions_of(self.where)
        yield from self.condition_if

    @property
    def dataset(self) -> Dataset:
        """The dataset of the WHERE conditions (all the same, parse checks it)."""
        return next(conditions_of(self.where)).field.dataset

    @property
    def parameters(self) -> frozenset[str]:
        return frozenset(c.operand.name for c in self.conditions() if isinstance(c.operand, Parameter))


@dataclass(frozen=True)
class FilterExpression:
    expressions: tuple[Expression, ...]
    text: str

    @property
    def target(self) -> Target:
        return self.expressions[0].target

    def conditions(self) -> Iterator[Condition]:
        for expression in self.expressions:
            yield from expression.conditions()

    @property
    def parameters(self) -> frozenset[str]:
        """Every `$NAME` (without the `$`)."""
        return frozenset().union(*(e.parameters for e in self.expressions))

    @property
    def required_parameters(self) -> frozenset[str]:
        """Parameters of INCLUDE expressions: a request must supply each of them."""
        return frozenset().union(*(e.parameters for e in self.expressions if e.action is Action.INCLUDE))

    @property
    def fields(self) -> frozenset[tuple[Dataset, str]]:
        """Distinct dataset fields, CurrentItem.X counted as Items.X and CurrentUser.X as Users.X."""
        found: set[tuple[Dataset, str]] = set()
        for condition in self.conditions():
            for field in (condition.field, condition.operand):
                if isinstance(field, Field):
                    found.add((field.dataset.record_dataset, field.name))
        return frozenset(found)

    @property
    def uses_interactions(self) -> bool:
        """Whether evaluating needs the user's interactions."""
        return any(e.dataset.is_interactions for e in self.expressions)

    @property
    def uses_current_item(self) -> bool:
        """Whether evaluating needs the current item (related-items recipes only)."""
        return any(isinstance(c.operand, Field) for c in self.conditions())

    @property
    def uses_current_user(self) -> bool:
        return any(e.condition_if for e in self.expressions)

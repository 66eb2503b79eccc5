"""Compile a parsed filter once into an evaluator: `compile_filter(text).mask(items, user, filterValues)`.

Semantics (reference §6):

* Each expression selects a set: rows (items/actions/users) whose attributes satisfy its WHERE conditions, or,
  for `Interactions.EVENT_TYPE` conditions, items the user has an interaction with whose event type satisfies
  them (evaluated per interaction, among the most recent 100 per event type; 300 for action interactions).
  A UserID expression on Interactions selects users with such an interaction.
* `|` chains: (union of the INCLUDE sets, or everything when there is none) minus (union of the EXCLUDE sets).
* `IF CurrentUser...`: when the condition does not hold for the user the expression has no effect, as if it
  were not in the chain (a missing attribute satisfies only NOT IN).
* A parameter left out of `filterValues` (EXCLUDE expressions only) removes the conditions that use it; an
  AND/OR group, IF clause or expression left with no condition is removed too (an IF clause with no
  condition left always holds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from reelrank.errors import InvalidInputException
from reelrank.filters.data import (
    ACTION_INTERACTIONS_PER_EVENT_TYPE,
    ITEM_INTERACTIONS_PER_EVENT_TYPE,
    AttributeTable,
    ItemTable,
    Mask,
    UserContext,
    UserTable,
    value_compare,
    value_in,
    value_parts,
    value_scalar,
)
from reelrank.filters.nodes import (
    Action,
    And,
    Condition,
    Dataset,
    Expression,
    Field,
    FilterExpression,
    NumberValue,
    Operator,
    Or,
    Parameter,
    StringValue,
    Target,
    ValueList,
    Where,
)
from reelrank.filters.parser import parse
from reelrank.filters.values import BoundValues, Scalar, bind_values

WILDCARD = "*"


@dataclass
class _Env:
    """One evaluation: the rows, the parsed filterValues and the user; `event_types` is set while an
    Interactions WHERE clause runs (its masks are over these lower-cased event types)."""

    table: AttributeTable
    values: BoundValues
    user: UserContext | None
    event_types: NDArray[np.str_] = field(default_factory=lambda: np.zeros(0, dtype="U1"))

    def current_item(self) -> int:
        index = self.user.current_item if self.user is not None else None
        if index is None or not 0 <= index < len(self.table):
            raise InvalidInputException("The filter uses CurrentItem, so the request must name an item (itemId) "
                                        "that the model knows")
        return int(index)


_Eval = Callable[[_Env], Mask | None]  # None: every condition was left out (omitted parameters)
_Test = Callable[[_Env], bool | None]


def _literal_texts(values: ValueList) -> tuple[str, ...]:
    texts: list[str] = []
    for value in values.values:
        if isinstance(value, StringValue):
            texts.append(value.value)
        elif isinstance(value, NumberValue):
            texts.append(value.text)
        else:
            texts.append(WILDCARD)
    return tuple(texts)


# --- WHERE on an attribute table (Items, Actions, Users) ---------------------------------------------------

def _table_condition(condition: Condition) -> _Eval:
    name, operator, operand = condition.field.name, condition.operator, condition.operand
    negate = operator is Operator.NOT_IN
    if isinstance(operand, ValueList):
        texts = _literal_texts(operand)
        key = (name, operator.value, texts)

        def literal_list(env: _Env) -> Mask:
            return env.table.cached(key, lambda: _negated(env.table.in_mask(name, texts), negate))
        return literal_list
    if isinstance(operand, Parameter):
        parameter = operand.name
        if operator is Operator.IN:
            def parameter_list(env: _Env) -> Mask | None:
                values = env.values.values(parameter)
                return None if values is None else env.table.in_mask(name, values)
            return parameter_list

        def parameter_scalar(env: _Env) -> Mask | None:
            scalar = env.values.scalar(parameter)
            return None if scalar is None else env.table.compare_mask(name, operator, scalar)
        return parameter_scalar
    if isinstance(operand, Field):  # CurrentItem.<column>
        current = operand.name

        def current_item(env: _Env) -> Mask:
            value = env.table.value(current, env.current_item())
            if operator.is_membership:
                return _negated(env.table.in_mask(name, value_parts(value)), negate)
            return env.table.compare_mask(name, operator, value_scalar(value))
        return current_item
    scalar = Scalar.of(operand.value) if isinstance(operand, StringValue) else Scalar(operand.text, operand.value)
    compare_key = (name, operator.value, scalar)

    def literal_scalar(env: _Env) -> Mask:
        return env.table.cached(compare_key, lambda: env.table.compare_mask(name, operator, scalar))
    return literal_scalar


def _negated(mask: Mask, negate: bool) -> Mask:
    return ~mask if negate else mask


# --- WHERE on interactions: masks over the event types in env.event_types --------------------------------

def _event_condition(condition: Condition) -> _Eval:
    operand, negate = condition.operand, condition.operator is Operator.NOT_IN

    def matching(types: NDArray[np.str_], values: Sequence[str]) -> Mask:
        lowered = {value.lower() for value in values}
        if WILDCARD in lowered:
            return np.ones(len(types), dtype=bool)
        return np.fromiter((name in lowered for name in types.tolist()), dtype=bool, count=len(types))

    if isinstance(operand, Parameter):
        parameter = operand.name

        def parameter_types(env: _Env) -> Mask | None:
            values = env.values.values(parameter)
            return None if values is None else matching(env.event_types, values)
        return parameter_types
    assert isinstance(operand, ValueList)
    texts = _literal_texts(operand)

    def literal_types(env: _Env) -> Mask:
        return _negated(matching(env.event_types, texts), negate)
    return literal_types


# --- AND / OR -----------------------------------------------------------------------------------------------

def _where(where: Where, leaf: Callable[[Condition], _Eval]) -> _Eval:
    if isinstance(where, Condition):
        return leaf(where)
    parts = [_where(operand, leaf) for operand in where.operands]
    combine = np.logical_and if isinstance(where, And) else np.logical_or
    assert isinstance(where, And | Or)

    def chain(env: _Env) -> Mask | None:
        result: Mask | None = None
        for part in parts:
            mask = part(env)
            if mask is not None:
                result = mask if result is None else combine(result, mask)
        return result
    return chain


# --- IF CurrentUser ----------------------------------------------------------------------------------------

def _user_condition(condition: Condition) -> _Test:
    name, operator, operand = condition.field.name, condition.operator, condition.operand

    def attribute(env: _Env) -> str | float | None:
        return env.user.attribute(name) if env.user is not None else None

    if isinstance(operand, ValueList):
        texts = _literal_texts(operand)
        return lambda env: value_in(attribute(env), texts) != (operator is Operator.NOT_IN)
    if isinstance(operand, Parameter):
        parameter = operand.name
        if operator is Operator.IN:
            def parameter_list(env: _Env) -> bool | None:
                values = env.values.values(parameter)
                return None if values is None else value_in(attribute(env), values)
            return parameter_list

        def parameter_scalar(env: _Env) -> bool | None:
            scalar = env.values.scalar(parameter)
            return None if scalar is None else value_compare(attribute(env), operator, scalar)
        return parameter_scalar
    assert isinstance(operand, NumberValue | StringValue)
    scalar = Scalar.of(operand.value) if isinstance(operand, StringValue) else Scalar(operand.text, operand.value)
    return lambda env: value_compare(attribute(env), operator, scalar)


# --- expressions ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _CompiledExpression:
    action: Action
    condition_if: tuple[_Test, ...]
    where: _Eval
    interactions: bool
    window: int

    def applies(self, env: _Env) -> bool:
        return all(test(env) is not False for test in self.condition_if)

    def rows(self, env: _Env) -> Mask | None:
        """The rows this expression selects, or None when it has no effect."""
        if not self.applies(env):
            return None
        if not self.interactions:
            return self.where(env)
        size = len(env.table)
        if isinstance(env.table, UserTable):
            types, users_by_type = env.table.event_index()
            env.event_types = types
            selected = self.where(env)
            if selected is None:
                return None
            mask = np.zeros(size, dtype=bool)
            for code in np.flatnonzero(selected):
                mask[users_by_type[code]] = True
            return mask
        user = env.user if env.user is not None else UserContext()
        items, codes, types = user.window(self.window)
        env.event_types = types
        selected = self.where(env)
        if selected is None:
            return None
        mask = np.zeros(size, dtype=bool)
        chosen = items[selected[codes]] if len(codes) else items[:0]
        mask[chosen[(chosen >= 0) & (chosen < size)]] = True
        return mask


def _compile_expression(expression: Expression, interaction_limit: int | None) -> _CompiledExpression:
    interactions = expression.dataset.is_interactions
    window = interaction_limit or (ACTION_INTERACTIONS_PER_EVENT_TYPE if expression.dataset is
                                   Dataset.ACTION_INTERACTIONS else ITEM_INTERACTIONS_PER_EVENT_TYPE)
    where = _where(expression.where, _event_condition if interactions else _table_condition)
    condition_if = tuple(_user_condition(condition) for condition in expression.condition_if)
    return _CompiledExpression(expression.action, condition_if, where, interactions, window)


@dataclass(frozen=True)
class CompiledFilter:
    """A filter expression ready to evaluate many times. Thread-safe; tables cache what they precompute."""

    expression: FilterExpression
    _parts: tuple[_CompiledExpression, ...]

    @property
    def target(self) -> Target:
        return self.expression.target

    @property
    def parameters(self) -> frozenset[str]:
        return self.expression.parameters

    def mask(self, items: ItemTable, user: UserContext | None = None,
             values: Mapping[str, str] | None = None) -> Mask:
        """Which items (actions, for ActionID filters) a recommendation for `user` may contain: True = allowed.
        `values` is the request's filterValues. Raises InvalidInputException for bad or missing values."""
        if self.target is Target.USER:
            raise InvalidInputException("This filter selects users (UserID); it can only filter user segments")
        return self._evaluate(_Env(items, bind_values(self.expression, values), user))

    def user_mask(self, users: UserTable, values: Mapping[str, str] | None = None) -> Mask:
        """Which users a segment may contain (UserID filters): True = allowed."""
        if self.target is not Target.USER:
            raise InvalidInputException(f"This filter selects {self.target.value}s; user segments need a UserID "
                                        f"filter")
        return self._evaluate(_Env(users, bind_values(self.expression, values), None))

    def _evaluate(self, env: _Env) -> Mask:
        include: Mask | None = None
        exclude: Mask | None = None
        for part in self._parts:
            rows = part.rows(env)
            if rows is None:
                continue
            if part.action is Action.INCLUDE:
                include = rows if include is None else include | rows
            else:
                exclude = rows if exclude is None else exclude | rows
        result = np.ones(len(env.table), dtype=bool) if include is None else include
        if exclude is not None:
            result = result & ~exclude
        return result if result.flags.writeable else result.copy()


def compile_filter(expression: FilterExpression | str, *, interaction_limit: int | None = None) -> CompiledFilter:
    """Compile a filter expression (text is parsed first, raising InvalidInputException when invalid).
    `interaction_limit` overrides the interactions considered per event type (100 items, 300 actions)."""
    parsed = parse(expression) if isinstance(expression, str) else expression
    parts = tuple(_compile_expression(part, interaction_limit) for part in parsed.expressions)
    return CompiledFilter(parsed, parts)

"""`parse(text)`: a filter expression (reference §6) into a checked `FilterExpression`.

Syntax errors and rule violations both raise `InvalidInputException` with the line and column:

    Invalid filter expression at line 1, column 34: expected one of IN, NOT, =, !=, <, <=, >, >= but found "WHER"
    Invalid filter expression at line 1, column 42: placeholder parameters can't be used with NOT IN; ...
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from reelrank.errors import InvalidInputException
from reelrank.filters.grammar import PARSER, describe_expected
from reelrank.filters.nodes import (
    Action,
    And,
    Condition,
    Dataset,
    Expression,
    Field,
    FilterExpression,
    Literal,
    NumberValue,
    Operand,
    Operator,
    Or,
    Parameter,
    Position,
    StringValue,
    Target,
    ValueList,
    Where,
    Wildcard,
    conditions_of,
)
from reelrank.filters.values import to_number

MAX_EXPRESSION_LENGTH = 2500
MAX_DISTINCT_FIELDS = 10
EVENT_TYPE = "EVENT_TYPE"

_DATASETS = {
    "ITEMS": Dataset.ITEMS,
    "USERS": Dataset.USERS,
    "INTERACTIONS": Dataset.INTERACTIONS,
    "ACTIONS": Dataset.ACTIONS,
    "ACTION_INTERACTIONS": Dataset.ACTION_INTERACTIONS,
}
_TARGETS = {"ITEM_ID": Target.ITEM, "USER_ID": Target.USER, "ACTION_ID": Target.ACTION}
_OPERATORS = {"EQ": Operator.EQ, "NE": Operator.NE, "LT": Operator.LT, "LE": Operator.LE, "GT": Operator.GT,
              "GE": Operator.GE}
# The datasets a WHERE clause may use, by target.
_WHERE_DATASETS = {
    Target.ITEM: (Dataset.ITEMS, Dataset.INTERACTIONS),
    Target.ACTION: (Dataset.ACTIONS, Dataset.ACTION_INTERACTIONS),
    Target.USER: (Dataset.USERS, Dataset.INTERACTIONS),
}
_WORD = re.compile(r"[A-Za-z0-9_$]+|\S")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _error_at(position: Position, detail: str) -> InvalidInputException:
    """An InvalidInputException (a plain one: its class name is the wire error code) pointing at `position`."""
    return InvalidInputException(f"Invalid filter expression at {position}: {detail}")


def parse(text: str) -> FilterExpression:
    """Parse and check a filter expression; raises InvalidInputException naming what is wrong and, when it can,
    where (line and column, 1-based)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputException("Invalid filter expression: the filter expression is empty")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise InvalidInputException(
            f"Invalid filter expression: it is {len(text)} characters long; the maximum is {MAX_EXPRESSION_LENGTH}")
    try:
        tree = PARSER.parse(text)
    except UnexpectedInput as error:
        raise _syntax_error(text, error) from None
    expression = FilterExpression(tuple(_expression(child) for child in _trees(tree)), text)
    _check(expression)
    return expression


# --- syntax errors ----------------------------------------------------------------------------------------

def _end_position(text: str) -> Position:
    lines = text.split("\n")
    return Position(len(lines), len(lines[-1]) + 1)


def _syntax_error(text: str, error: UnexpectedInput) -> InvalidInputException:
    line, column = getattr(error, "line", -1), getattr(error, "column", -1)
    if isinstance(error, UnexpectedToken):
        expected = set(error.expected)
        if error.token.type == "$END":
            return _error_at(_end_position(text), _expected(expected, "the end of the expression"))
        found = f'"{error.token.value}"'
    elif isinstance(error, UnexpectedCharacters):
        expected = set(error.allowed or ())
        match = _WORD.match(text, error.pos_in_stream or 0)
        found = f'"{match.group(0)}"' if match else "the end of the expression"
        if found == '"""':
            found = "a quoted string that is not closed"
    elif isinstance(error, UnexpectedEOF):
        return _error_at(_end_position(text), _expected(set(error.expected), "the end of the expression"))
    else:  # pragma: no cover - lark raises only the three above
        expected, found = set(), "an unexpected input"
    if not isinstance(line, int) or not isinstance(column, int) or line < 1 or column < 1:
        return _error_at(_end_position(text), _expected(expected, found))
    return _error_at(Position(line, column), _expected(expected, found))


def _expected(expected: set[str], found: str) -> str:
    if not expected:
        return f"unexpected {found}"
    names = describe_expected(expected)
    return f"expected {'one of ' if len(expected) > 1 else ''}{names} but found {found}"


# --- tree to nodes ------------------------------------------------------------------------------------------

def _trees(tree: Tree[Token]) -> Iterator[Tree[Token]]:
    for child in tree.children:
        if isinstance(child, Tree):
            yield child


def _tokens(tree: Tree[Token]) -> list[Token]:
    return [child for child in tree.children if isinstance(child, Token)]


def _position(node: Tree[Token] | Token) -> Position:
    if isinstance(node, Token):
        return Position(node.line or 1, node.column or 1)
    return Position(node.meta.line, node.meta.column)


def _first_token(tree: Tree[Token]) -> Token:
    for child in tree.children:
        if isinstance(child, Token):
            return child
        return _first_token(child)
    raise AssertionError("empty subtree")  # pragma: no cover


def _expression(tree: Tree[Token]) -> Expression:
    action_tree, target_tree, where_tree, *rest = _trees(tree)
    action = Action(_first_token(action_tree).value.upper())
    target = _TARGETS[_first_token(target_tree).type]
    condition_if = tuple(_condition(child) for child in _trees(rest[0])) if rest else ()
    return Expression(action, target, _where(where_tree), condition_if, _position(tree))


def _where(tree: Tree[Token]) -> Where:
    if tree.data == "or_cond":
        operands = tuple(_where(child) for child in _trees(tree))
        return operands[0] if len(operands) == 1 else Or(operands)
    if tree.data == "and_cond":
        conditions = tuple(_where(child) for child in _trees(tree))
        return conditions[0] if len(conditions) == 1 else And(conditions)
    return _condition(tree)


def _field(tree: Tree[Token]) -> Field:
    tokens = _tokens(tree)
    if tree.data == "field":
        dataset_token = _first_token(tree)
        dataset = _DATASETS[dataset_token.type]
        return Field(dataset, tokens[-1].value, _position(dataset_token))
    dataset = Dataset.CURRENT_USER if tree.data == "user_field" else Dataset.CURRENT_ITEM
    return Field(dataset, tokens[-1].value, _position(tokens[0]))


def _condition(tree: Tree[Token]) -> Condition:
    children = list(tree.children)
    field_tree = children[0]
    assert isinstance(field_tree, Tree)
    field = _field(field_tree)
    if tree.data == "comparison":
        op_tree, operand = children[1], children[2]
        assert isinstance(op_tree, Tree)
        return Condition(field, _OPERATORS[_first_token(op_tree).type], _scalar(operand))
    operator = Operator.IN if tree.data == "in_condition" else Operator.NOT_IN
    return Condition(field, operator, _in_operand(children[-1]))


def _scalar(node: Tree[Token] | Token) -> Operand:
    if isinstance(node, Tree):
        if node.data == "current_item":
            return _field(node)
        return _scalar(node.children[-1])  # a parenthesised scalar: LPAR scalar
    value = _literal_or_parameter(node)
    return StringValue("*", value.position) if isinstance(value, Wildcard) else value  # `= "*"` is no wildcard


def _in_operand(node: Tree[Token] | Token) -> Operand:
    assert isinstance(node, Tree)
    if node.data == "current_item":
        return _field(node)
    lpar, *items = node.children
    assert isinstance(lpar, Token)
    values = [_literal_or_parameter(item) for item in items if isinstance(item, Token)]
    parameters = [value for value in values if isinstance(value, Parameter)]
    if parameters:
        if len(values) > 1:
            raise _error_at(parameters[0].position, "a $PARAMETER must be the only value in the parentheses")
        return parameters[0]
    return ValueList(tuple(v for v in values if not isinstance(v, Parameter)), _position(lpar))


def _literal_or_parameter(token: Token) -> Literal | Parameter:
    position = _position(token)
    if token.type == "PARAM":
        return Parameter(token.value[1:], position)
    if token.type == "STAR":
        return Wildcard(position)
    if token.type == "NUMBER":
        value = float(token.value)
        if not math.isfinite(value):
            raise _error_at(position, f"{token.value} is not a finite number")
        return NumberValue(value, token.value, position)
    text = _ESCAPE.sub(r"\1", token.value[1:-1])
    return Wildcard(position) if text == "*" else StringValue(text, position)


# --- rules (reference §6.1-6.2) -----------------------------------------------------------------------------

def _check(expression: FilterExpression) -> None:
    target = expression.target
    for part in expression.expressions:
        if part.target is not target:
            raise _error_at(part.position, f"every expression chained with | must use the same target; the "
                            f"first uses {target.value}, this one {part.target.value}")
        _check_expression(part)
    fields = expression.fields
    if len(fields) > MAX_DISTINCT_FIELDS:
        names = ", ".join(sorted(f"{dataset.value}.{name}" for dataset, name in fields))
        raise InvalidInputException(f"Invalid filter expression: it uses {len(fields)} distinct dataset fields "
                                    f"({names}); the maximum is {MAX_DISTINCT_FIELDS}")


def _check_expression(expression: Expression) -> None:
    allowed = _WHERE_DATASETS[expression.target]
    conditions = list(conditions_of(expression.where))
    first = conditions[0].field.dataset
    for condition in conditions:
        dataset = condition.field.dataset
        if dataset not in allowed:
            hint = (" (use IF CurrentUser.<field> to check the user you get recommendations for)"
                    if dataset is Dataset.USERS else "")
            raise _error_at(condition.position, f"{expression.target.value} expressions filter on "
                            f"{' or '.join(d.value for d in allowed)} fields, not {condition.field}{hint}")
        if dataset is not first:
            if {dataset, first} & {Dataset.INTERACTIONS, Dataset.ACTION_INTERACTIONS}:
                detail = (f"{first.value} and {dataset.value} fields can't be used in one expression; chain two "
                          f"expressions with | instead")
            else:
                detail = (f"conditions chained with AND/OR can only use fields of the dataset of the first condition "
                          f"({first.value}), not {condition.field}")
            raise _error_at(condition.position, detail)
        _check_condition(expression, condition)
    for condition in expression.condition_if:
        if isinstance(condition.operand, Field):
            raise _error_at(condition.operand.position, "CurrentItem can't be used in an IF condition")
        _check_condition(expression, condition)
    if expression.condition_if and expression.target is Target.USER:
        raise _error_at(expression.condition_if[0].position,
                        "IF CurrentUser conditions apply to item and action recommendations, not to UserID "
                        "expressions")


def _check_condition(expression: Expression, condition: Condition) -> None:
    field, operator, operand = condition.field, condition.operator, condition.operand
    is_event_type = field.dataset.is_interactions
    if is_event_type and field.name.upper() != EVENT_TYPE:
        raise _error_at(field.position, f"{field.dataset.value} filters can only use the EVENT_TYPE field, "
                        f"not {field.name}")
    if isinstance(operand, Parameter) and operator is Operator.NOT_IN:
        raise _error_at(operand.position, "placeholder parameters can't be used with NOT IN; use IN with "
                        "the opposite action (INCLUDE instead of EXCLUDE or vice versa)")
    if isinstance(operand, ValueList):
        for value in operand.values:
            if isinstance(value, Wildcard) and not is_event_type:
                raise _error_at(value.position, f"* can only be used with Interactions.EVENT_TYPE, not with "
                                f"{field}")
    if is_event_type and not operator.is_membership:
        raise _error_at(field.position, f"{field} can only be used with IN or NOT IN")
    if isinstance(operand, Field) and (expression.target is not Target.ITEM or field.dataset is not Dataset.ITEMS):
        raise _error_at(operand.position, f"CurrentItem can only be compared with Items fields in ItemID "
                        f"expressions, not with {field}")
    if operator.is_ordering and isinstance(operand, StringValue) and to_number(operand.value) is None:
        raise _error_at(operand.position, f'{operator.value} compares numbers; "{operand.value}" is a string '
                        f"(= and != compare strings)")

"""Parsing filter expressions: the guide's examples, the syntax tree, syntax errors with positions, rule checks."""

from __future__ import annotations

import re

import pytest

from reelrank.errors import InvalidInputException
from reelrank.filters import Action, Dataset, Operator, Target, compile_filter, parse
from reelrank.filters.nodes import And, Condition, Field, NumberValue, Or, Parameter, StringValue, ValueList, Wildcard

# Reference §6.5, the guide's own examples, the action examples, and the movie staples.
EXAMPLES = [
    'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($EVENT_TYPE)',
    'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "stream")',
    'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")',
    'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")',
    'EXCLUDE ItemID WHERE Items.CATEGORY IN ($CATEGORY)',
    'EXCLUDE ItemID WHERE Items.CATEGORY IN ("shoe") AND Items.DESCRIPTION NOT IN ("boot")',
    'INCLUDE ItemID WHERE Items.PRICE <= $PRICE',
    'INCLUDE ItemID WHERE Items.CREATION_TIMESTAMP < $DATE',
    'INCLUDE ItemID WHERE Items.GENRE IN ($GENRE)',
    'INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.GENRE IN CurrentItem.GENRE',
    'EXCLUDE ItemID WHERE Items.GENRE IN ($GENRE) IF CurrentUser.AGE = $AGE',
    'INCLUDE ItemID WHERE Items.CATEGORY IN ("watch") AND Items.DESCRIPTION IN ("luxury") IF CurrentUser.AGE > 18',
    'INCLUDE ItemID WHERE Items.CATEGORY IN ($CATEGORY) | INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("favorite")',
    'INCLUDE ItemID WHERE Items.GENRE IN ($GENRE) | '
    'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "stream")',
    'INCLUDE UserID WHERE Users.MEMBERSHIP_STATUS IN ($MEMBERSHIP)',
    'EXCLUDE UserID WHERE Users.AGE < $AGE',
    'INCLUDE ItemID WHERE Items.OWNER IN ("in-house")',
    'INCLUDE ActionID WHERE Action_Interactions.EVENT_TYPE IN ($EVENT_TYPE)',
    'EXCLUDE ActionID WHERE Action_Interactions.EVENT_TYPE IN ("NOT_TAKEN")',
    'EXCLUDE ActionID WHERE Actions.CATEGORY IN ($CATEGORY)',
    'INCLUDE ActionID WHERE Actions.VALUE > ($VALUE)',
    'INCLUDE ActionID WHERE Action.MEMBERSHIP_LEVEL IN ("Premium") IF CurrentUser.MEMBERSHIP = $PREMIUM',
    'EXCLUDE ActionID WHERE Actions.VALUE < ($VALUE) IF CurrentUser.MEMBERSHIP = $PREMIUM',
    'EXCLUDE itemId WHERE INTERACTIONS.event_type in ("EVENT_TYPE")',  # the API reference's old example
    'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("watch")',
    'INCLUDE ItemID WHERE Items.GENRES IN ($GENRES)',
    'EXCLUDE ItemID WHERE Items.CONTENT_CLASSIFICATION IN ("R","NC-17") IF CurrentUser.AGE < 17',
]


@pytest.mark.parametrize("text", EXAMPLES)
def test_examples_parse_and_compile(text: str) -> None:
    parsed = parse(text)
    assert parsed.text == text
    assert compile_filter(parsed).expression is parsed
    assert parsed.parameters == frozenset(re.findall(r"\$([A-Za-z0-9_]+)", text))


def test_syntax_tree() -> None:
    parsed = parse('INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.GENRE IN CurrentItem.GENRE | '
                   'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "*") IF CurrentUser.AGE >= 18.5')
    include, exclude = parsed.expressions
    assert (include.action, include.target, include.dataset) == (Action.INCLUDE, Target.ITEM, Dataset.ITEMS)
    assert isinstance(include.where, And)
    price, genre = include.where.operands
    assert isinstance(price, Condition) and isinstance(genre, Condition)
    assert (str(price.field), price.operator) == ("Items.PRICE", Operator.LT)
    assert isinstance(price.operand, Field) and price.operand.dataset is Dataset.CURRENT_ITEM
    assert genre.operator is Operator.IN and str(genre.operand) == "CurrentItem.GENRE"
    assert exclude.action is Action.EXCLUDE and exclude.dataset is Dataset.INTERACTIONS
    assert isinstance(exclude.where, Condition) and isinstance(exclude.where.operand, ValueList)
    click, star = exclude.where.operand.values
    assert click == StringValue("click", click.position) and isinstance(star, Wildcard)
    (age,) = exclude.condition_if
    assert age.field.dataset is Dataset.CURRENT_USER and age.operator is Operator.GE
    assert isinstance(age.operand, NumberValue) and age.operand.value == 18.5
    assert parsed.uses_current_item and parsed.uses_interactions and parsed.uses_current_user
    assert parsed.fields == {(Dataset.ITEMS, "PRICE"), (Dataset.ITEMS, "GENRE"), (Dataset.INTERACTIONS, "EVENT_TYPE"),
                             (Dataset.USERS, "AGE")}
    assert price.position.line == 1 and price.position.column == 22


def test_and_binds_tighter_than_or() -> None:
    where = parse('EXCLUDE ItemID WHERE Items.A IN ("1") OR Items.B IN ("2") AND Items.C IN ("3")').expressions[0].where
    assert isinstance(where, Or)
    first, second = where.operands
    assert isinstance(first, Condition) and isinstance(second, And)


def test_keywords_case_insensitive_fields_as_written() -> None:
    parsed = parse('include itemid where items.Genre in ("Comedy") and ITEMS.genre NOT in ("x") '
                   'if currentuser.Age > 3 | Exclude ItemId Where interactions.EVENT_TYPE In ($e)')
    assert parsed.fields == {(Dataset.ITEMS, "Genre"), (Dataset.ITEMS, "genre"), (Dataset.USERS, "Age"),
                             (Dataset.INTERACTIONS, "EVENT_TYPE")}
    assert parsed.parameters == {"e"}  # parameter names keep their case
    assert parsed.required_parameters == frozenset()


def test_parameters_and_required_parameters() -> None:
    parsed = parse('INCLUDE ItemID WHERE Items.GENRE IN ($GENRE) IF CurrentUser.AGE > $AGE | '
                   'EXCLUDE ItemID WHERE Items.PRICE > $MAX')
    assert parsed.parameters == {"GENRE", "AGE", "MAX"}
    assert parsed.required_parameters == {"GENRE", "AGE"}


def test_escapes_numbers_and_parenthesised_scalars() -> None:
    parsed = parse(r'INCLUDE ItemID WHERE Items.T IN ("say \"hi\"", -2.5e1, 7) AND Items.P > ((3))')
    where = parsed.expressions[0].where
    assert isinstance(where, And)
    values, price = where.operands
    assert isinstance(values, Condition) and isinstance(values.operand, ValueList)
    assert [getattr(v, "value", None) for v in values.operand.values] == ['say "hi"', -25.0, 7.0]
    assert isinstance(price, Condition) and isinstance(price.operand, NumberValue) and price.operand.value == 3
    cond = parse("EXCLUDE ActionID WHERE Actions.V > ($V)").expressions[0].where
    assert isinstance(cond, Condition) and isinstance(cond.operand, Parameter) and cond.operand.name == "V"


def _error(text: str) -> InvalidInputException:
    with pytest.raises(InvalidInputException) as caught:
        parse(text)
    return caught.value


@pytest.mark.parametrize(("text", "line", "column", "fragment"), [
    ('EXCLUDE ItemID Items.GENRE IN ("a")', 1, 16, 'expected WHERE but found "Items"'),
    ('EXCLUDE ItemID WHERE Items.GENRE WHER ("a")', 1, 34,
     'expected one of IN, NOT, =, !=, <, <=, >, >= but found "WHER"'),
    ('EXCLUDE ItemID WHERE Items.GENRE IN ("a"', 1, 41,
     "expected one of a comma, ) but found the end of the expression"),
    ('EXCLUDE ItemID WHERE Items.GENRE IN "a")', 1, 37, 'found ""a""'),
    ('EXCLUDE ItemID WHERE Items.GENRE IN (("a"))', 1, 38, 'found "("'),
    ('EXCLUDE ItemID WHERE Items.PRICE ~ 3', 1, 34, 'found "~"'),
    ('EXCLUDE ItemID WHERE Items.PRICE => 3', 1, 35, 'found ">"'),
    ('EXCLUDE ItemID WHERE Items.PRICE LIKE 3', 1, 34, 'found "LIKE"'),
    ('EXCLUDE ItemID WHERE Item.GENRE IN ("a")', 1, 22, "expected one of Items, Users, Interactions"),
    ('DROP ItemID WHERE Items.GENRE IN ("a")', 1, 1, "expected one of INCLUDE, EXCLUDE"),
    ('INCLUDE ItemID WHERE Items.A IN ("a") |', 1, 40, "found the end of the expression"),
    ('INCLUDE ItemID WHERE Items.A IN ("a")\nIF CurrentUser.B > 1 IF CurrentUser.C > 2', 2, 22, 'found "IF"'),
    ('INCLUDE ItemID WHERE Items.A IN ("a") IF CurrentUser.B > 1 OR CurrentUser.C > 2', 1, 60, 'found "OR"'),
    ('INCLUDE ItemID WHERE Items.A IN ("a)', 1, 34, "found a quoted string that is not closed"),
    ('INCLUDE ItemID WHERE Items.A > CurrentUser.B', 1, 32, 'found "CurrentUser"'),
    ('INCLUDE ItemID WHERE IF CurrentUser.B > 1', 1, 22, 'found "IF"'),
])
def test_syntax_errors_point_at_line_and_column(text: str, line: int, column: int, fragment: str) -> None:
    error = _error(text)
    assert type(error) is InvalidInputException
    assert error.message.startswith(f"Invalid filter expression at line {line}, column {column}: "), error.message
    assert fragment in error.message
    assert error.code == "InvalidInputException"


@pytest.mark.parametrize(("text", "column", "fragment"), [
    ('EXCLUDE ItemID WHERE Items.GENRE NOT IN ($GENRE)', 42, "can't be used with NOT IN"),
    ('INCLUDE ItemID WHERE Items.A IN ("a") IF CurrentUser.B NOT IN ($B)', 64, "can't be used with NOT IN"),
    ('EXCLUDE ItemID WHERE Items.GENRE IN ("a", *)', 43, "* can only be used with Interactions.EVENT_TYPE"),
    ('EXCLUDE ItemID WHERE Items.GENRE IN ("*")', 38, "* can only be used with Interactions.EVENT_TYPE"),
    ('EXCLUDE ItemID WHERE Items.A IN ("a") IF CurrentUser.B IN (*)', 60, "* can only be used"),
    ('EXCLUDE ItemID WHERE Items.GENRE IN ($A, "b")', 38, "must be the only value"),
    ('EXCLUDE ItemID WHERE Items.GENRE IN ("b", $A)', 43, "must be the only value"),
    ('EXCLUDE ItemID WHERE Interactions.CONTEXT IN ("a")', 22, "can only use the EVENT_TYPE field"),
    ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE = 3', 22, "can only be used with IN or NOT IN"),
    ('EXCLUDE ItemID WHERE Items.A IN ("a") AND Interactions.EVENT_TYPE IN ("x")', 43,
     "Items and Interactions fields can't be used in one expression; chain two expressions with |"),
    ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("x") OR Items.A IN ("a")', 58,
     "Interactions and Items fields can't be used in one expression"),
    ('EXCLUDE UserID WHERE Users.A IN ("a") AND Interactions.EVENT_TYPE IN ("x")', 43, "can't be used in one"),
    ('EXCLUDE ItemID WHERE Users.AGE > 3', 22, "use IF CurrentUser"),
    ('EXCLUDE ItemID WHERE Actions.VALUE > 3', 22, "ItemID expressions filter on Items or Interactions fields"),
    ('EXCLUDE ActionID WHERE Items.VALUE > 3', 24, "ActionID expressions filter on Actions or Action_Interactions"),
    ('EXCLUDE UserID WHERE Items.GENRE IN ("a")', 22, "UserID expressions filter on Users or Interactions"),
    ('INCLUDE ItemID WHERE Items.A IN ("a") | INCLUDE UserID WHERE Users.A IN ("b")', 41, "the same target"),
    ('INCLUDE UserID WHERE Users.A IN ("a") IF CurrentUser.B > 1', 42, "not to UserID expressions"),
    ('INCLUDE UserID WHERE Users.A IN CurrentItem.A', 33, "CurrentItem can only be compared with Items fields"),
    ('INCLUDE ActionID WHERE Actions.A < CurrentItem.A', 36, "CurrentItem can only be compared with Items fields"),
    ('INCLUDE ItemID WHERE Items.A IN ("a") IF CurrentUser.B = CurrentItem.B', 58,
     "CurrentItem can't be used in an IF"),
    ('INCLUDE ItemID WHERE Items.PRICE < "cheap"', 36, "compares numbers"),
])
def test_rule_violations_point_at_the_culprit(text: str, column: int, fragment: str) -> None:
    error = _error(text)
    assert type(error) is InvalidInputException
    assert error.message.startswith(f"Invalid filter expression at line 1, column {column}: "), error.message
    assert fragment in error.message


def test_string_equality_is_allowed() -> None:
    parse('INCLUDE ItemID WHERE Items.PRICE < "5" AND Items.OWNER != "x" AND Items.OWNER = "y"')


def test_limits() -> None:
    assert "empty" in _error("   ").message
    long = 'EXCLUDE ItemID WHERE Items.A IN (' + ", ".join(['"aaaaaaaa"'] * 250) + ")"
    assert len(long) > 2500 and "maximum is 2500" in _error(long).message
    parse(" | ".join(f'EXCLUDE ItemID WHERE Items.F{i} IN ("a") AND Items.F{i} IN ("b")' for i in range(10)))
    eleven = " | ".join(f'EXCLUDE ItemID WHERE Items.F{i} IN ("a")' for i in range(11))
    assert "11 distinct dataset fields" in _error(eleven).message
    # CurrentItem.X and Items.X are one field; CurrentUser.X is a Users field
    twelve = ('INCLUDE ItemID WHERE ' + " AND ".join(f"Items.F{i} = CurrentItem.F{i}" for i in range(9))
              + " IF CurrentUser.F0 = 1")
    assert parse(twelve).fields.__len__() == 10

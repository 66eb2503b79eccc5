"""filterValues strings (reference §6.4): parsing, errors naming the parameter, binding to an expression."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelrank.errors import InvalidInputException
from reelrank.filters import bind_values, parse, parse_number, parse_value_list
from reelrank.filters.values import Scalar


@pytest.mark.parametrize(("raw", "expected"), [
    ('"Comedy","Drama"', ("Comedy", "Drama")),
    ('"Comedy"', ("Comedy",)),
    (' "Comedy" ,  "Drama" ', ("Comedy", "Drama")),
    ('"with, comma","with \\"quote\\"","back\\\\slash"', ("with, comma", 'with "quote"', "back\\slash")),
    ('""', ("",)),
    ("18", ("18",)),
    ('18, "x", -2.5', ("18", "x", "-2.5")),
    ('"*"', ("*",)),
])
def test_value_lists(raw: str, expected: tuple[str, ...]) -> None:
    assert parse_value_list("GENRES", raw) == expected


@pytest.mark.parametrize(("raw", "fragment"), [
    ("", "no value"),
    ("   ", "no value"),
    ('"Comedy",', "nothing after the last comma"),
    ("Comedy", "'Comedy' is neither a quoted string nor a number"),
    ('"Comedy" "Drama"', "expected a comma after value 1"),
    ('"Comedy""Drama"', "expected a comma after value 1"),
    ('"Comedy', "is not closed"),
    ('"Comedy",,"Drama"', "neither a quoted string nor a number"),
])
def test_value_list_errors_name_the_parameter(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidInputException) as caught:
        parse_value_list("GENRES", raw)
    assert caught.value.message.startswith("Invalid value for filter parameter GENRES: ")
    assert fragment in caught.value.message


def test_numbers() -> None:
    assert parse_number("AGE", "18") == 18.0
    assert parse_number("AGE", '"18.5"') == 18.5
    assert parse_number("AGE", " -3e2 ") == -300.0
    for raw, fragment in [('"old"', "'old' is not a number"), ('1, 2', "takes one value, got 2"), ("nan", "neither")]:
        with pytest.raises(InvalidInputException, match=f"filter parameter AGE: .*{fragment}"):
            parse_number("AGE", raw)


@given(st.lists(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8), min_size=1,
                max_size=5))
def test_quoted_values_round_trip(values: list[str]) -> None:
    raw = ",".join('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values)
    assert parse_value_list("P", raw) == tuple(values)


def test_binding() -> None:
    expression = parse('INCLUDE ItemID WHERE Items.GENRE IN ($GENRE) AND Items.PRICE < $PRICE AND Items.OWNER = $OWNER'
                       ' | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($EVENTS) IF CurrentUser.AGE > $AGE')
    bound = bind_values(expression, {"GENRE": '"a","b"', "PRICE": "10", "OWNER": '"me"', "UNUSED": "whatever"})
    assert bound.values("GENRE") == ("a", "b")
    assert bound.scalar("PRICE") == Scalar("10", 10.0)
    assert bound.scalar("OWNER") == Scalar("me", None)
    assert bound.values("EVENTS") is None and bound.scalar("AGE") is None  # omitted: EXCLUDE-only parameters
    with pytest.raises(InvalidInputException, match=r"needs values for its parameters: \$GENRE, \$OWNER"):
        bind_values(expression, {"PRICE": "1"})
    with pytest.raises(InvalidInputException, match="filter parameter PRICE: 'ten' is not a number"):
        bind_values(expression, {"GENRE": '"a"', "PRICE": '"ten"', "OWNER": '"me"'})
    with pytest.raises(InvalidInputException, match="filter parameter OWNER: a comparison takes one value"):
        bind_values(expression, {"GENRE": '"a"', "PRICE": "1", "OWNER": '"me","you"'})
    with pytest.raises(InvalidInputException, match="filter parameter AGE: 'x' is not a number"):
        bind_values(expression, {"GENRE": '"a"', "PRICE": "1", "OWNER": '"me"', "AGE": '"x"'})
    with pytest.raises(InvalidInputException, match="filter parameter EVENTS"):
        bind_values(expression, {"GENRE": '"a"', "PRICE": "1", "OWNER": '"me"', "EVENTS": "click"})
    with pytest.raises(InvalidInputException, match="maximum is 25"):
        bind_values(expression, {f"K{i}": '"v"' for i in range(26)})


def test_parameter_names_are_case_sensitive() -> None:
    with pytest.raises(InvalidInputException, match=r"\$Genre"):
        bind_values(parse("INCLUDE ItemID WHERE Items.GENRE IN ($Genre)"), {"GENRE": '"a"'})

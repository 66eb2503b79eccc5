"""The filter expression grammar (reference §6.1) for lark, and the names its terminals have in error messages.

Keywords, targets and dataset names are case-insensitive (`include itemid where items.GENRE in ("a")`); field
names, string values and parameter names are taken as written. The grammar accepts a little more than
Personalize documents, so that `reelrank.filters.parser` can answer with a precise message instead of a
syntax error: a parameter inside a value list with other values, `*` on any field, NOT IN with a parameter,
CurrentItem inside IF, quoted strings after any comparison operator.

AND binds tighter than OR (Personalize documents no precedence and no grouping parentheses). A scalar may
be parenthesised, as in the guide's `Actions.VALUE > ($VALUE)`. `Action.X` is read as `Actions.X` (the
guide's action examples spell it both ways).
"""

from __future__ import annotations

from lark import Lark

GRAMMAR = r"""
start: expression (_PIPE expression)*

expression: action target _WHERE or_cond if_clause?
action: INCLUDE | EXCLUDE
target: ITEM_ID | USER_ID | ACTION_ID

or_cond: and_cond (_OR and_cond)*
and_cond: condition (_AND condition)*
condition: field _IN in_operand           -> in_condition
         | field _NOT _IN in_operand      -> not_in_condition
         | field cmp_op scalar            -> comparison

if_clause: _IF user_condition (_AND user_condition)*
user_condition: user_field _IN in_operand       -> in_condition
               | user_field _NOT _IN in_operand  -> not_in_condition
               | user_field cmp_op scalar        -> comparison

field: dataset _DOT COLUMN
user_field: CURRENT_USER _DOT COLUMN
current_item: CURRENT_ITEM _DOT COLUMN
dataset: ITEMS | USERS | INTERACTIONS | ACTIONS | ACTION_INTERACTIONS

?in_operand: value_list | current_item
value_list: LPAR value (_COMMA value)* _RPAR
?value: STRING | NUMBER | STAR | PARAM
?scalar: NUMBER | STRING | PARAM | current_item | LPAR scalar _RPAR
cmp_op: EQ | NE | LE | GE | LT | GT

INCLUDE: /include\b/i
EXCLUDE: /exclude\b/i
ITEM_ID: /itemid\b/i
USER_ID: /userid\b/i
ACTION_ID: /actionid\b/i
_WHERE: /where\b/i
_AND: /and\b/i
_OR: /or\b/i
_IN: /in\b/i
_NOT: /not\b/i
_IF: /if\b/i
ITEMS: /items\b/i
USERS: /users\b/i
INTERACTIONS: /interactions\b/i
ACTIONS: /actions?\b/i
ACTION_INTERACTIONS: /action_interactions\b/i
CURRENT_ITEM: /currentitem\b/i
CURRENT_USER: /currentuser\b/i

COLUMN: /[A-Za-z_][A-Za-z0-9_]*/
PARAM: /\$[A-Za-z0-9_]+/
STRING: /"(?:[^"\\]|\\.)*"/
NUMBER: /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/
STAR: "*"
EQ: "="
NE: "!="
LE: "<="
GE: ">="
LT: "<"
GT: ">"
LPAR: "("
_RPAR: ")"
_COMMA: ","
_DOT: "."
_PIPE: "|"

%ignore /\s+/
"""

# How each terminal reads in "expected one of ..."; the order is the order of the list.
TERMINAL_NAMES: dict[str, str] = {
    "INCLUDE": "INCLUDE",
    "EXCLUDE": "EXCLUDE",
    "ITEM_ID": "ItemID",
    "USER_ID": "UserID",
    "ACTION_ID": "ActionID",
    "_WHERE": "WHERE",
    "ITEMS": "Items",
    "USERS": "Users",
    "INTERACTIONS": "Interactions",
    "ACTIONS": "Actions",
    "ACTION_INTERACTIONS": "Action_Interactions",
    "CURRENT_USER": "CurrentUser",
    "CURRENT_ITEM": "CurrentItem",
    "_DOT": ".",
    "COLUMN": "a field name",
    "_IN": "IN",
    "_NOT": "NOT",
    "EQ": "=",
    "NE": "!=",
    "LT": "<",
    "LE": "<=",
    "GT": ">",
    "GE": ">=",
    "LPAR": "(",
    "STRING": "a quoted string",
    "NUMBER": "a number",
    "PARAM": "a $PARAMETER",
    "STAR": "*",
    "_COMMA": "a comma",
    "_RPAR": ")",
    "_AND": "AND",
    "_OR": "OR",
    "_IF": "IF",
    "_PIPE": "|",
    "$END": "the end of the expression",
}

_ORDER = {name: index for index, name in enumerate(TERMINAL_NAMES)}


def describe_expected(terminals: set[str] | frozenset[str]) -> str:
    """'IN, NOT, =, ...' for lark's expected-terminal names, in a stable, readable order."""
    names = sorted(terminals, key=lambda name: (_ORDER.get(name, len(_ORDER)), name))
    return ", ".join(TERMINAL_NAMES.get(name, name) for name in names)


PARSER = Lark(GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)

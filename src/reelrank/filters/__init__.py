"""The Personalize filter expression language (reference §6): parse, check, compile, evaluate.

    from reelrank.filters import compile_filter, ItemTable, UserContext

    compiled = compile_filter('INCLUDE ItemID WHERE Items.GENRES IN ($GENRES) | '
                              'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("watch")')
    allowed = compiled.mask(items, user, {"GENRES": '"Comedy","Drama"'})   # numpy bool array over items
"""

from reelrank.filters.compiler import CompiledFilter, compile_filter
from reelrank.filters.data import (
    ACTION_INTERACTIONS_PER_EVENT_TYPE,
    ITEM_INTERACTIONS_PER_EVENT_TYPE,
    AttributeTable,
    ItemTable,
    UserContext,
    UserTable,
)
from reelrank.filters.nodes import Action, Dataset, FilterExpression, Operator, Target
from reelrank.filters.parser import MAX_DISTINCT_FIELDS, MAX_EXPRESSION_LENGTH, parse
from reelrank.filters.values import BoundValues, bind_values, parse_number, parse_value_list

__all__ = [
    "ACTION_INTERACTIONS_PER_EVENT_TYPE",
    "ITEM_INTERACTIONS_PER_EVENT_TYPE",
    "MAX_DISTINCT_FIELDS",
    "MAX_EXPRESSION_LENGTH",
    "Action",
    "AttributeTable",
    "BoundValues",
    "CompiledFilter",
    "Dataset",
    "FilterExpression",
    "ItemTable",
    "Operator",
    "Target",
    "UserContext",
    "UserTable",
    "bind_values",
    "compile_filter",
    "parse",
    "parse_number",
    "parse_value_list",
]

"""Compiled filters on small tables: each rule of reference §6, the 100-per-event-type window, speed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from reelrank.errors import InvalidInputException
from reelrank.filters import ItemTable, UserContext, UserTable, compile_filter

ITEMS = ItemTable(
    np.array(["i0", "i1", "i2", "i3", "i4", "i5"]),
    {
        "GENRE": np.array(["Comedy|Drama", "Drama", "", "Horror", "comedy", "Comedy"]),
        "PRICE": np.array([1.0, 5.0, np.nan, 10.0, 5.0, 20.0]),
        "YEAR": np.array(["1999", "2001", "abc", "", "2001.0", "1980"]),
        "OWNER": np.array(["in-house", None, "partner", "in-house", None, "partner"], dtype=object),
    },
)


def _allowed(text: str, user: UserContext | None = None, values: dict[str, str] | None = None,
             items: ItemTable = ITEMS) -> list[str]:
    mask = compile_filter(text).mask(items, user or UserContext(), values)
    assert mask.dtype == np.bool_ and mask.shape == (len(items),)
    return [str(item) for item in items.ids[mask]]


def test_in_and_not_in_match_exact_parts() -> None:
    assert _allowed('INCLUDE ItemID WHERE Items.GENRE IN ("Comedy")') == ["i0", "i5"]
    assert _allowed('EXCLUDE ItemID WHERE Items.GENRE IN ("Comedy", "Horror")') == ["i1", "i2", "i4"]
    assert _allowed('INCLUDE ItemID WHERE Items.GENRE NOT IN ("Drama")') == ["i2", "i3", "i4", "i5"]
    assert _allowed('INCLUDE ItemID WHERE Items.OWNER IN ("in-house")') == ["i0", "i3"]
    assert _allowed('INCLUDE ItemID WHERE Items.PRICE IN (5, 20)') == ["i1", "i4", "i5"]
    assert _allowed('INCLUDE ItemID WHERE Items.YEAR IN (2001)') == ["i1"]  # strings compare as written
    assert _allowed('INCLUDE ItemID WHERE Items.NO_SUCH_FIELD IN ("x")') == []
    assert len(_allowed('INCLUDE ItemID WHERE Items.NO_SUCH_FIELD NOT IN ("x")')) == 6


def test_comparisons() -> None:
    assert _allowed("INCLUDE ItemID WHERE Items.PRICE <= 5") == ["i0", "i1", "i4"]
    assert _allowed("INCLUDE ItemID WHERE Items.PRICE > 5") == ["i3", "i5"]
    assert _allowed("INCLUDE ItemID WHERE Items.PRICE != 5") == ["i0", "i3", "i5"]  # missing never matches
    assert _allowed("INCLUDE ItemID WHERE Items.YEAR >= 2000") == ["i1", "i4"]  # numeric strings compare as numbers
    assert _allowed("INCLUDE ItemID WHERE Items.YEAR = 2001") == ["i1", "i4"]
    assert _allowed('INCLUDE ItemID WHERE Items.GENRE = "Drama"') == ["i0", "i1"]
    assert _allowed('INCLUDE ItemID WHERE Items.GENRE != "Drama"') == ["i3", "i4", "i5"]
    assert _allowed("INCLUDE ItemID WHERE Items.PRICE < $P", values={"P": "5"}) == ["i0"]
    assert _allowed("INCLUDE ItemID WHERE Items.PRICE < $P", values={"P": '"5.5"'}) == ["i0", "i1", "i4"]


def test_and_or() -> None:
    assert _allowed('INCLUDE ItemID WHERE Items.GENRE IN ("Comedy") AND Items.PRICE > 1') == ["i5"]
    assert _allowed('INCLUDE ItemID WHERE Items.GENRE IN ("Horror") OR Items.PRICE < 2') == ["i0", "i3"]
    assert _allowed('EXCLUDE ItemID WHERE Items.CATEGORY IN ("shoe") AND Items.DESCRIPTION NOT IN ("boot")') == [
        "i0", "i1", "i2", "i3", "i4", "i5"]
    text = 'INCLUDE ItemID WHERE Items.PRICE = 1 OR Items.PRICE = 10 AND Items.GENRE IN ("Drama")'
    assert _allowed(text) == ["i0"]  # AND binds tighter


def test_pipe_chains() -> None:
    a = 'INCLUDE ItemID WHERE Items.GENRE IN ("Comedy")'
    b = 'INCLUDE ItemID WHERE Items.PRICE = 10'
    c = 'EXCLUDE ItemID WHERE Items.PRICE > 15'
    d = 'EXCLUDE ItemID WHERE Items.OWNER IN ("in-house")'
    assert _allowed(f"{a} | {b}") == ["i0", "i3", "i5"]
    assert _allowed(f"{c} | {d}") == ["i1", "i2", "i4"]
    assert _allowed(f"{a} | {b} | {c} | {d}") == []
    assert _allowed(f"{d} | {a} | {c} | {b}") == []  # order does not matter
    assert _allowed(f"{a} | {c}") == ["i0"]


def test_parameters_and_omitted_exclude_parameters() -> None:
    assert _allowed("INCLUDE ItemID WHERE Items.GENRE IN ($G)", values={"G": '"Drama","Horror"'}) == ["i0", "i1", "i3"]
    with pytest.raises(InvalidInputException, match=r"\$G"):
        _allowed("INCLUDE ItemID WHERE Items.GENRE IN ($G)")
    # an omitted parameter drops its condition; the rest of the AND chain still applies
    text = "EXCLUDE ItemID WHERE Items.GENRE IN ($G) AND Items.PRICE >= $MIN"
    assert _allowed(text, values={"MIN": "10"}) == ["i0", "i1", "i2", "i4"]
    assert _allowed(text, values={"G": '"Comedy"'}) == ["i1", "i2", "i3", "i4"]
    assert _allowed(text, values={}) == ["i0", "i1", "i2", "i3", "i4", "i5"]
    assert _allowed(text, values={"G": '"Comedy"', "MIN": "10"}) == ["i0", "i1", "i2", "i3", "i4"]


def test_contexts_of_one_history_can_share_their_windows() -> None:
    """The server keeps a history's windows with the history, so a returning user's filter does not recount them."""
    first = UserContext.from_pairs([(0, "CLICK"), (1, "watch"), (4, "purchase")])
    clicked = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")'
    assert _allowed(clicked, first) == ["i1", "i2", "i3", "i4", "i5"]
    assert list(first.windows) == [100]
    again = UserContext(first.item_indices, first.event_types, windows=first.windows)
    again.event_types = []  # were the windows computed anew, the lengths would no longer match
    watched = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("watch")'
    assert _allowed(watched, again) == ["i0", "i2", "i3", "i4", "i5"]


def test_event_types_and_wildcard() -> None:
    user = UserContext.from_pairs([(0, "CLICK"), (1, "watch"), (1, "Click"), (4, "purchase"), (99, "click")])
    assert _allowed('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")', user) == ["i2", "i3", "i4", "i5"]
    assert _allowed('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', user) == ["i0", "i1", "i4"]
    assert _allowed("INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($E)", user, {"E": '"Watch"'}) == ["i1"]
    assert _allowed("INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($E)", user, {"E": '"*"'}) == ["i0", "i1", "i4"]
    # per interaction: items with an interaction of another type
    assert _allowed('INCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("click")', user) == ["i1", "i4"]
    assert _allowed("EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($E)", user, {}) == list(ITEMS.ids)
    assert _allowed('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")', None) == []
    text = 'INCLUDE ItemID WHERE Items.GENRE IN ("Drama") | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("watch")'
    assert _allowed(text, user) == ["i0"]


def test_only_the_most_recent_100_per_event_type_count() -> None:
    items = ItemTable(np.array([f"i{i}" for i in range(300)]))
    old_watches = [(200 + i, "watch") for i in range(5)]
    clicks = [(i, "click" if i % 2 else "CLICK") for i in range(150)]  # newest last: items 50..149 are the last 100
    user = UserContext.from_pairs([*old_watches, *clicks, (250, "watch")])
    text = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "watch")'
    excluded = set(items.ids) - set(_allowed(text, user, items=items))
    assert excluded == {f"i{i}" for i in [*range(50, 150), 200, 201, 202, 203, 204, 250]}
    # an early interaction that is repeated later is inside the window
    repeated = UserContext.from_pairs([(7, "click"), *[(100 + i, "click") for i in range(99)], (7, "click")])
    assert "i7" not in _allowed('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")', repeated, items=items)
    pushed_out = UserContext.from_pairs([(7, "click"), *[(100 + i, "click") for i in range(100)]])
    assert "i7" in _allowed('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")', pushed_out, items=items)
    small = compile_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', interaction_limit=2)
    assert set(items.ids[~small.mask(items, user)]) == {"i148", "i149", "i204", "i250"}


def test_action_interactions_count_300_per_event_type() -> None:
    actions = ItemTable(np.array([f"a{i}" for i in range(400)]))
    user = UserContext.from_pairs([(i, "taken") for i in range(350)])
    mask = compile_filter('EXCLUDE ActionID WHERE Action_Interactions.EVENT_TYPE IN ("TAKEN")').mask(actions, user)
    assert int((~mask).sum()) == 300 and mask[:50].all()


def test_if_current_user() -> None:
    adult = UserContext(attributes={"AGE": 30, "PLAN": "premium|family"})
    child = UserContext(attributes={"AGE": 12.0})
    unknown = UserContext()
    text = 'EXCLUDE ItemID WHERE Items.GENRE IN ("Horror") IF CurrentUser.AGE < 17'
    assert "i3" in _allowed(text, adult) and "i3" not in _allowed(text, child) and "i3" in _allowed(text, unknown)
    include = 'INCLUDE ItemID WHERE Items.PRICE > 5 IF CurrentUser.PLAN IN ("premium") AND CurrentUser.AGE >= $MIN'
    assert _allowed(include, adult, {"MIN": "18"}) == ["i3", "i5"]
    assert len(_allowed(include, adult, {"MIN": "40"})) == 6  # condition fails: the INCLUDE has no effect
    assert len(_allowed(include, child, {"MIN": "1"})) == 6
    not_basic = 'INCLUDE ItemID WHERE Items.PRICE > 5 IF CurrentUser.PLAN NOT IN ("basic")'
    assert _allowed(not_basic, unknown) == ["i3", "i5"]
    # an omitted IF parameter drops that IF condition (EXCLUDE only)
    exclude = 'EXCLUDE ItemID WHERE Items.GENRE IN ("Horror") IF CurrentUser.AGE = $AGE'
    assert "i3" not in _allowed(exclude, adult, {})
    assert "i3" in _allowed(exclude, adult, {"AGE": "31"})
    assert "i3" not in _allowed(exclude, adult, {"AGE": '"30"'})
    chained = f'{exclude} | INCLUDE ItemID WHERE Items.PRICE = 5 IF CurrentUser.PLAN = "family"'
    assert _allowed(chained, adult, {"AGE": "30"}) == ["i1", "i4"]


def test_current_item() -> None:
    text = "INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.GENRE IN CurrentItem.GENRE"
    assert _allowed(text, UserContext(current_item=5)) == ["i0"]
    assert _allowed(text, UserContext(current_item=2)) == []  # the current item's values are missing
    assert _allowed("INCLUDE ItemID WHERE Items.GENRE NOT IN CurrentItem.GENRE", UserContext(current_item=1)) == [
        "i2", "i3", "i4", "i5"]
    assert _allowed("INCLUDE ItemID WHERE Items.PRICE = CurrentItem.PRICE", UserContext(current_item=4)) == ["i1", "i4"]
    assert _allowed("INCLUDE ItemID WHERE Items.YEAR = CurrentItem.PRICE", UserContext(current_item=0)) == []
    with pytest.raises(InvalidInputException, match="CurrentItem"):
        _allowed(text, UserContext())
    with pytest.raises(InvalidInputException, match="CurrentItem"):
        _allowed(text, UserContext(current_item=6))


def test_user_segments() -> None:
    users = UserTable(np.array(["u0", "u1", "u2", "u3"]),
                      {"MEMBERSHIP_STATUS": np.array(["gold", "silver", "gold|platinum", ""]),
                       "AGE": np.array([20.0, 40.0, np.nan, 65.0])},
                      event_users=np.array([0, 0, 2, 3, 9]), event_types=np.array(["Rating", "click", "RATING",
                                                                                   "click", "rating"]))
    compiled = compile_filter("INCLUDE UserID WHERE Users.MEMBERSHIP_STATUS IN ($MEMBERSHIP)")
    assert list(users.ids[compiled.user_mask(users, {"MEMBERSHIP": '"gold"'})]) == ["u0", "u2"]
    assert list(users.ids[compile_filter("EXCLUDE UserID WHERE Users.AGE < $AGE").user_mask(users, {"AGE": "30"})]) == [
        "u1", "u2", "u3"]
    rated = compile_filter('INCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("rating")')
    assert list(users.ids[rated.user_mask(users)]) == ["u0", "u2"]
    with pytest.raises(InvalidInputException, match="user segments"):
        rated.mask(ItemTable(users.ids), UserContext())
    with pytest.raises(InvalidInputException, match="UserID"):
        compile_filter('INCLUDE ItemID WHERE Items.A IN ("x")').user_mask(users)


def test_masks_are_fresh_arrays() -> None:
    compiled = compile_filter('INCLUDE ItemID WHERE Items.GENRE IN ("Comedy")')
    first = compiled.mask(ITEMS, UserContext())
    first[:] = False
    assert compiled.mask(ITEMS, UserContext()).sum() == 2
    assert compile_filter('EXCLUDE ItemID WHERE Items.GENRE IN ("x")').mask(ITEMS, UserContext()).flags.writeable


def test_simple_masks_over_60000_items_take_well_under_a_millisecond() -> None:
    rng = np.random.default_rng(7)
    size = 60_000
    genres = np.array(["Comedy", "Drama", "Horror", "Action", "Comedy|Drama", "Documentary", ""])
    items = ItemTable(np.array([f"item{i}" for i in range(size)]),
                      {"GENRES": genres[rng.integers(0, len(genres), size)], "PRICE": rng.random(size) * 100})
    user = UserContext.from_pairs((int(i), "watch") for i in rng.integers(0, size, 300))
    cases = [
        ('INCLUDE ItemID WHERE Items.GENRES IN ("Comedy")', None),
        ("INCLUDE ItemID WHERE Items.GENRES IN ($GENRES)", {"GENRES": '"Comedy","Drama"'}),
        ("INCLUDE ItemID WHERE Items.PRICE <= $PRICE", {"PRICE": "20"}),
        ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("watch")', None),
        ('INCLUDE ItemID WHERE Items.GENRES IN ($GENRES) | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("watch")',
         {"GENRES": '"Horror"'}),
    ]
    for text, values in cases:
        compiled = compile_filter(text)
        compiled.mask(items, user, values)  # builds the per-column indexes once
        timings = []
        for _ in range(30):
            start = time.perf_counter()
            compiled.mask(items, user, values)
            timings.append(time.perf_counter() - start)
        assert min(timings) < 1e-3, f"{text}: {min(timings) * 1e6:.0f} µs"

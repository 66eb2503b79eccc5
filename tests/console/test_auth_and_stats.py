"""The console's session cookie and its chart figures, without a server."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa

from reelrank import synthetic
from reelrank.config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY, Settings
from reelrank.console import auth
from reelrank.console.stats import categorical_figures, interaction_figures
from reelrank.ingest.avro import parse_schema

SETTINGS = Settings(data_dir=Path("unused"))


def test_a_signed_cookie_names_its_key() -> None:
    cookie = auth.session_cookie(SETTINGS, DEMO_ACCESS_KEY)
    assert auth.signed_in_as(SETTINGS, cookie) == DEMO_ACCESS_KEY


def test_tampered_expired_and_unknown_cookies_are_refused() -> None:
    cookie = auth.session_cookie(SETTINGS, DEMO_ACCESS_KEY)
    key, expires, signature = cookie.split(".")
    assert auth.signed_in_as(SETTINGS, f"{key}.{int(expires) + 1000}.{signature}") is None
    assert auth.signed_in_as(SETTINGS, f"{key}.{expires}.{'0' * len(signature)}") is None
    assert auth.signed_in_as(SETTINGS, f"AKIAOTHER.{expires}.{signature}") is None
    assert auth.signed_in_as(SETTINGS, "garbage") is None
    assert auth.signed_in_as(SETTINGS, None) is None
    old = auth.session_cookie(SETTINGS, DEMO_ACCESS_KEY, now=time.time() - auth.SESSION_SECONDS - 1)
    assert auth.signed_in_as(SETTINGS, old) is None
    rotated = Settings(data_dir=Path("unused"), credentials={DEMO_ACCESS_KEY: "a-new-secret"})
    assert auth.signed_in_as(rotated, cookie) is None


def test_keys_are_checked_exactly() -> None:
    assert auth.check_keys(SETTINGS, DEMO_ACCESS_KEY, DEMO_SECRET_KEY)
    assert not auth.check_keys(SETTINGS, DEMO_ACCESS_KEY, DEMO_SECRET_KEY + "x")
    assert not auth.check_keys(SETTINGS, "AKIAUNKNOWN", DEMO_SECRET_KEY)
    assert not auth.check_keys(SETTINGS, "", "")


def test_without_auth_everyone_is_signed_in() -> None:
    assert auth.signed_in_as(Settings(data_dir=Path("unused"), auth=False), None) == auth.ANONYMOUS


def test_interaction_figures() -> None:
    catalogue = synthetic.generate(n_users=50, n_items=40, n_interactions=2_000, seed=2)
    figures = interaction_figures(catalogue.interactions)
    assert figures["rows"] == 2_000
    assert figures["users"] == len(set(catalogue.interactions.column("USER_ID").to_pylist()))
    tail = figures["charts"]["long_tail"]["values"]
    assert tail == sorted(tail, reverse=True) and sum(tail) == 2_000
    assert sum(figures["charts"]["over_time"]["values"]) == 2_000
    assert sum(figures["charts"]["event_types"]["values"]) == 2_000
    assert 0 < figures["top_decile_share"] <= 1


def test_categorical_figures_split_multi_values() -> None:
    table = pa.table({"ITEM_ID": ["a", "b", "c"], "GENRES": ["Action|Drama", "Drama", None],
                      "YEAR": [2000, 2001, 2002], "CREATION_TIMESTAMP": [1, 2, 3], "TITLE": ["A", "B", "C"],
                      "DESCRIPTION": ["", "", ""]})
    figures = categorical_figures(table, parse_schema(synthetic.ITEMS_SCHEMA))
    assert figures["rows"] == 3
    assert figures["charts"]["field:GENRES"] == {"labels": ["Drama", "Action"], "values": [2, 1]}

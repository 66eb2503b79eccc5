"""Synthetic movie catalogue generator (MovieLens may not be redistributed).

The generator produces the three VIDEO_ON_DEMAND datasets of Amazon Personalize (items, users and item
interactions) as :mod:`pyarrow` tables whose columns follow :data:`ITEMS_SCHEMA`, :data:`USERS_SCHEMA` and
:data:`INTERACTIONS_SCHEMA`.  The data is made to be *learnable*:

* items have Zipf-like popularity, one to three of 18 genres, a release year and franchises (sequels);
* every user has a taste (a Dirichlet draw over genres, tilted by age) and a popularity bias;
* each user's history is time ordered and sequential: a "continue" step follows the previous watch
  (its sequel when there is one, else one of a short list of related titles in the same genre), a "fresh"
  step picks from the user's taste, the global charts, or what was released in the last 30 days.

So "next item" models beat a most-popular baseline, personalised models beat it too, and trending and
cold-start behaviour can be exercised (about 8 % of titles are released during the interaction year).
Everything is vectorised with numpy: five million interactions take a few seconds.
"""

from __future__ import annotations

import json
import os
import pathlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = [
    "GENRES",
    "INTERACTIONS_SCHEMA",
    "ITEMS_SCHEMA",
    "USERS_SCHEMA",
    "Catalogue",
    "generate",
    "write_catalogue",
    "write_csv",
    "write_interactions_csv",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# ---------------------------------------------------------------------------------------------------------
# Schemas (Amazon Personalize Avro JSON, VIDEO_ON_DEMAND domain defaults)
# ---------------------------------------------------------------------------------------------------------

_NAMESPACE = "com.amazonaws.personalize.schema"


def _avro(name: str, fields: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "record", "name": name, "namespace": _NAMESPACE, "fields": fields, "version": "1.0"})


INTERACTIONS_SCHEMA: str = _avro(
    "Interactions",
    [
        {"name": "USER_ID", "type": "string"},
        {"name": "ITEM_ID", "type": "string"},
        {"name": "EVENT_TYPE", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"},
        {"name": "EVENT_VALUE", "type": ["null", "float"]},
    ],
)
"""Avro schema of the interactions dataset (VIDEO_ON_DEMAND default plus reserved EVENT_VALUE)."""

ITEMS_SCHEMA: str = _avro(
    "Items",
    [
        {"name": "ITEM_ID", "type": "string"},
        {"name": "GENRES", "type": "string", "categorical": True},
        {"name": "YEAR", "type": "int"},
        {"name": "CREATION_TIMESTAMP", "type": "long"},
        {"name": "TITLE", "type": ["null", "string"]},
        {"name": "DESCRIPTION", "type": ["null", "string"], "textual": True},
    ],
)
"""Avro schema of the items dataset."""

USERS_SCHEMA: str = _avro(
    "Users",
    [
        {"name": "USER_ID", "type": "string"},
        {"name": "AGE", "type": "int"},
        {"name": "SUBSCRIPTION_MODEL", "type": "string", "categorical": True},
    ],
)
"""Avro schema of the users dataset."""

_AVRO_TO_ARROW: dict[str, pa.DataType] = {
    "string": pa.string(),
    "long": pa.int64(),
    "int": pa.int32(),
    "float": pa.float32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
}


def _arrow_schema(schema_json: str) -> pa.Schema:
    """The pyarrow schema matching an Avro record schema (``["null", T]`` means nullable)."""
    fields = []
    for field in json.loads(schema_json)["fields"]:
        avro_type = field["type"]
        nullable = isinstance(avro_type, list)
        if nullable:
            avro_type = next(t for t in avro_type if t != "null")
        fields.append(pa.field(field["name"], _AVRO_TO_ARROW[avro_type], nullable=nullable))
    return pa.schema(fields)


_INTERACTIONS_ARROW = _arrow_schema(INTERACTIONS_SCHEMA)
_ITEMS_ARROW = _arrow_schema(ITEMS_SCHEMA)
_USERS_ARROW = _arrow_schema(USERS_SCHEMA)

# ---------------------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------------------

GENRES: tuple[str, ...] = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
    "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
"""The 18 genres (MovieLens-like names); GENRES values are ``|``-joined, alphabetically ordered."""

# Relative frequency of each genre in the catalogue.
_GENRE_PRIOR = np.array(
    [10, 6, 3, 3, 14, 6, 3, 18, 4, 1, 6, 2, 3, 8, 5, 9, 2, 2], dtype=np.float64
)  # fmt: skip
# How much older (> 0) or younger (< 0) viewers favour a genre.
_GENRE_AGE_TILT = np.array(
    [-0.3, -0.1, -0.8, -0.6, -0.1, 0.2, 0.5, 0.5, -0.4, 0.9, -0.5, 0.4, 0.3, 0.2, -0.4, 0.0, 0.8, 0.9]
)  # fmt: skip
_GENRE_PHRASE = (
    "action thriller", "adventure", "animated feature", "family film", "comedy", "crime drama",
    "documentary", "drama", "fantasy epic", "noir", "horror film", "musical", "mystery", "romance",
    "science-fiction film", "thriller", "war film", "western",
)  # fmt: skip

_ADJECTIVES = (
    "Silent", "Broken", "Golden", "Last", "Hidden", "Crimson", "Endless", "Frozen", "Burning", "Lonely",
    "Secret", "Distant", "Wild", "Dark", "Bright", "Forgotten", "Savage", "Velvet", "Iron", "Hollow",
    "Midnight", "Electric", "Restless", "Scarlet", "Quiet", "Lost", "Shattered", "Wandering", "Final",
    "Eternal", "Northern", "Paper", "Glass", "Stolen", "Sleeping", "Bitter", "Brave", "Little", "Great",
    "Invisible",
)  # fmt: skip
_NOUNS = (
    "Harbor", "Kingdom", "River", "Mirror", "Empire", "Garden", "Shadow", "Horizon", "Witness", "Stranger",
    "Frontier", "Storm", "Promise", "Island", "Station", "Signal", "Orchard", "Crown", "Voyage", "Canyon",
    "Lantern", "Reckoning", "Circus", "Summer", "Winter", "Highway", "Detective", "Dragon", "Machine",
    "Republic", "Fortress", "Desert", "Symphony", "Echo", "Labyrinth", "Valley", "Tide", "Heist",
    "Prophecy", "Outlaw", "Orbit", "Cathedral", "Ghost", "Rebellion", "Carnival", "Compass", "Tower",
    "Serpent", "Bridge", "Dynasty",
)  # fmt: skip
_PLACES = (
    "Avalon", "Brooklyn", "Casablanca", "Devil's Creek", "Eden", "Havana", "Istanbul", "Marrakesh",
    "Mars", "Nowhere", "Paris", "Rio", "Shanghai", "Tombstone", "Venice", "Yukon",
)  # fmt: skip
_SUBTITLES = (
    "Rising", "Revenge", "The Return", "Reckoning", "Legacy", "Homecoming", "Origins", "Resurrection",
    "Judgment Day", "The Next Chapter", "Aftermath", "Redemption", "Endgame", "Awakening",
)  # fmt: skip
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
_TONES = (
    "gripping", "tender", "darkly funny", "sweeping", "haunting", "breathless", "bittersweet", "stylish",
    "offbeat", "heartfelt", "tense", "playful", "brooding", "uplifting",
)  # fmt: skip
_CHARACTERS = (
    "a retired detective", "two estranged sisters", "a young inventor", "a small-town teacher",
    "an exiled prince", "a washed-up boxer", "a rookie pilot", "a grieving widower", "a jazz singer",
    "a stubborn farmer", "an undercover agent", "a runaway orphan", "a disgraced scientist",
    "a traveling magician", "a night-shift nurse", "an aging gunslinger",
)  # fmt: skip
_PLOTS = (
    "must confront a forgotten past", "stumbles onto a dangerous conspiracy", "falls for the wrong person",
    "races against time to save a city", "searches for a missing brother", "plans one last job",
    "discovers a door to another world", "fights to keep the family farm", "is haunted by a strange visitor",
    "joins an unlikely band of rebels", "tries to win back an old love", "uncovers the truth about a legend",
    "survives a brutal winter", "leads a desperate escape",
)  # fmt: skip

_YEAR_S = 365 * 86_400
_DAY_S = 86_400
_MAX_YEAR = 2025
_MIN_YEAR = 1950
_N_NEIGHBOURS = 10

# ---------------------------------------------------------------------------------------------------------
# Public data class
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """The three VIDEO_ON_DEMAND datasets, as pyarrow tables following the module's schemas."""

    items: pa.Table
    users: pa.Table
    interactions: pa.Table

    def tables(self) -> dict[str, pa.Table]:
        """The tables by Personalize dataset type (``ITEMS``, ``USERS``, ``INTERACTIONS``)."""
        return {"ITEMS": self.items, "USERS": self.users, "INTERACTIONS": self.interactions}


# ---------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------


def _ids(prefix: str, index: IntArray) -> pa.Array:
    """``prefix`` + (index + 1) as a pyarrow string array, without a Python loop."""
    numbers = pc.cast(pa.array(index + 1, type=pa.int64()), pa.string())
    return pc.binary_join_element_wise(prefix, numbers, "")


def _year_of(epoch_seconds: IntArray) -> IntArray:
    """Calendar year of epoch seconds (UTC)."""
    years = epoch_seconds.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
    return years.astype(np.int64)


class _SegmentSampler:
    """Weighted sampling of a member within a keyed segment, vectorised over many keys at once.

    ``keys[i]`` is the segment (e.g. a genre) of member ``members[i]``, drawn with weight ``weights[i]``.
    All segments' normalised CDFs live in one array, shifted by their key, so one ``searchsorted`` serves
    every draw.
    """

    def __init__(self, keys: IntArray, members: IntArray, weights: FloatArray, n_keys: int) -> None:
        order = np.lexsort((members, keys))
        self.members = members[order]
        sorted_keys = keys[order]
        w = weights[order].astype(np.float64)
        counts = np.bincount(sorted_keys, minlength=n_keys)
        self.offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        cumulative = np.cumsum(w)
        before = np.concatenate(([0.0], cumulative))[self.offsets[:-1]]
        totals = np.bincount(sorted_keys, weights=w, minlength=n_keys)
        totals = np.where(totals > 0, totals, 1.0)
        within = (cumulative - before[sorted_keys]) / totals[sorted_keys]
        self.cdf = sorted_keys + np.minimum(within, 1.0)
        self.empty = counts == 0

    def sample(self, rng: np.random.Generator, keys: IntArray) -> tuple[IntArray, BoolArray]:
        """One member per key; the mask is False where a key's segment is empty."""
        u = rng.random(len(keys))
        idx = np.searchsorted(self.cdf, keys + u, side="right")
        lo = self.offsets[keys]
        hi = self.offsets[keys + 1] - 1
        valid = hi >= lo
        idx = np.clip(idx, lo, np.maximum(hi, lo))
        idx = np.minimum(idx, len(self.members) - 1)
        return self.members[idx].astype(np.int64), valid


@dataclass(frozen=True)
class _Items:
    primary: IntArray  # primary genre
    genre_keys: IntArray  # (item, genre) membership pairs: genre per pair
    genre_members: IntArray  # item per pair
    year: IntArray
    creation: IntArray  # nominal creation timestamps
    popularity: FloatArray
    sequel: IntArray  # next item of the franchise, -1 if none
    neighbours: IntArray  # (n_items, K) related titles, strongest first
    genres_text: list[str]
    titles: list[str]
    descriptions: list[str | None]


def _make_items(rng: np.random.Generator, n_items: int, start: int) -> _Items:
    n_genres = len(GENRES)
    prior = _GENRE_PRIOR / _GENRE_PRIOR.sum()
    latest_year = int(np.clip(_year_of(np.array([start], dtype=np.int64))[0], _MIN_YEAR, _MAX_YEAR))

    # Franchises: consecutive "slots" of sizes 1-5, then scattered over item ids.
    sizes = rng.choice(np.arange(1, 6), size=n_items, p=[0.72, 0.12, 0.08, 0.05, 0.03])
    ends = np.cumsum(sizes)
    n_fr = int(np.searchsorted(ends, n_items) + 1)
    sizes = sizes[:n_fr].astype(np.int64)
    sizes[-1] -= int(ends[n_fr - 1]) - n_items
    fr_of_slot = np.repeat(np.arange(n_fr), sizes)
    fr_start = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    pos = np.arange(n_items) - fr_start[fr_of_slot]
    item_of_slot = rng.permutation(n_items).astype(np.int64)

    slot_of_item = np.empty(n_items, dtype=np.int64)
    slot_of_item[item_of_slot] = np.arange(n_items)
    fr = fr_of_slot[slot_of_item]
    position = pos[slot_of_item]
    sequel = np.full(n_items, -1, dtype=np.int64)
    has_next = np.zeros(n_items, dtype=bool)
    has_next[:-1] = fr_of_slot[1:] == fr_of_slot[:-1]
    sequel[item_of_slot[has_next]] = item_of_slot[np.flatnonzero(has_next) + 1]

    # Genres: a primary genre plus up to two secondary ones, shared by a franchise.
    fr_primary = rng.choice(n_genres, size=n_fr, p=prior)
    fr_secondary = rng.choice(n_genres, size=(n_fr, 2), p=prior)
    n_secondary = rng.choice(3, size=n_fr, p=[0.35, 0.45, 0.20])
    fr_secondary[n_secondary < 2, 1] = -1
    fr_secondary[n_secondary < 1, 0] = -1
    fr_secondary[fr_secondary == fr_primary[:, None]] = -1
    fr_secondary[fr_secondary[:, 0] == fr_secondary[:, 1], 1] = -1
    primary = fr_primary[fr].astype(np.int64)
    pairs_genre = np.concatenate([fr_primary[fr], fr_secondary[fr, 0], fr_secondary[fr, 1]])
    pairs_item = np.tile(np.arange(n_items, dtype=np.int64), 3)
    keep = pairs_genre >= 0
    genre_keys = pairs_genre[keep].astype(np.int64)
    genre_members = pairs_item[keep]

    # Popularity: Zipf over franchises, sequels a little less popular than their predecessor.
    fr_rank = rng.permutation(n_fr)
    fr_pop = 1.0 / (fr_rank + 10.0)
    popularity = fr_pop[fr] * 0.7**position

    # New releases (during the interaction year): only franchise ends, about 8 % of the catalogue.
    is_last = sequel < 0
    new = is_last & (rng.random(n_items) < 0.08 / max(float(is_last.mean()), 1e-9))
    popularity = np.where(new, popularity * 3.0, popularity)
    creation = np.where(
        new,
        start + rng.integers(0, int(_YEAR_S * 0.95), size=n_items),
        start - rng.integers(_DAY_S, 3 * _YEAR_S, size=n_items),
    ).astype(np.int64)

    # Years: 1950 .. year of ``start``; sequels 1-3 years apart; new releases in their creation year.
    room = np.maximum(latest_year - _MIN_YEAR - 3 * (sizes - 1), 0)
    fr_base = _MIN_YEAR + np.floor(rng.beta(2.5, 1.3, size=n_fr) * (room + 1)).astype(np.int64)
    steps = rng.integers(1, 4, size=n_items)
    steps_slot = np.where(pos == 0, 0, steps[item_of_slot])
    cs = np.cumsum(steps_slot)
    cum_steps = cs - cs[fr_start][fr_of_slot]
    year_slot = fr_base[fr_of_slot] + cum_steps
    year = year_slot[slot_of_item]
    year = np.where(new, np.maximum(_year_of(creation), year), year)
    year = np.clip(year, _MIN_YEAR, _MAX_YEAR).astype(np.int64)

    neighbours = _make_neighbours(rng, primary, year, popularity, n_genres)

    # Text: titles from word lists, sequels numbered or subtitled; one-sentence descriptions.
    words = rng.integers(0, 1 << 30, size=(n_fr, 4))
    styles = rng.choice(6, size=n_fr, p=[0.40, 0.15, 0.15, 0.10, 0.10, 0.10])
    sequel_styles = rng.choice(3, size=n_fr, p=[0.5, 0.2, 0.3])
    base_titles: list[str] = []
    for f in range(n_fr):
        a = _ADJECTIVES[words[f, 0] % len(_ADJECTIVES)]
        n1 = _NOUNS[words[f, 1] % len(_NOUNS)]
        n2 = _NOUNS[words[f, 2] % len(_NOUNS)]
        place = _PLACES[words[f, 3] % len(_PLACES)]
        style = styles[f]
        if style == 0:
            title = f"The {a} {n1}"
        elif style == 1:
            title = f"{a} {n1}"
        elif style == 2:
            title = f"The {n1} of {n2}" if n1 != n2 else f"The {n1}"
        elif style == 3:
            title = f"{n1} in {place}"
        elif style == 4:
            title = f"The {n1}'s {n2}" if n1 != n2 else f"The {a} {n1}s"
        else:
            title = f"Return to {place}"
        base_titles.append(title)

    text_draws = rng.integers(0, 1 << 30, size=(n_items, 3))
    missing_description = rng.random(n_items) < 0.02
    genre_names = np.array(GENRES, dtype=object)
    sec0 = fr_secondary[fr, 0]
    sec1 = fr_secondary[fr, 1]
    genres_text: list[str] = []
    titles: list[str] = []
    descriptions: list[str | None] = []
    for i in range(n_items):
        gs = [int(primary[i])] + [int(s) for s in (sec0[i], sec1[i]) if s >= 0]
        genres_text.append("|".join(sorted(genre_names[gs].tolist())))
        f = int(fr[i])
        k = int(position[i])
        base = base_titles[f]
        if k == 0:
            title = base
        elif sequel_styles[f] == 0:
            title = f"{base} {k + 1}"
        elif sequel_styles[f] == 1:
            title = f"{base} Part {_ROMAN[min(k, len(_ROMAN) - 1)]}"
        else:
            title = f"{base}: {_SUBTITLES[(int(words[f, 0]) + k) % len(_SUBTITLES)]}"
        titles.append(title)
        if missing_description[i]:
            descriptions.append(None)
            continue
        tone = _TONES[text_draws[i, 0] % len(_TONES)]
        who = _CHARACTERS[text_draws[i, 1] % len(_CHARACTERS)]
        plot = _PLOTS[text_draws[i, 2] % len(_PLOTS)]
        phrase = _GENRE_PHRASE[int(primary[i])]
        article = "An" if tone[0] in "aeiou" else "A"
        if k == 0:
            descriptions.append(f"{article} {tone} {phrase} about {who} who {plot}.")
        else:
            descriptions.append(f"In this {tone} follow-up to {base} {who} {plot}.")

    return _Items(
        primary=primary,
        genre_keys=genre_keys,
        genre_members=genre_members,
        year=year,
        creation=creation,
        popularity=popularity,
        sequel=sequel,
        neighbours=neighbours,
        genres_text=genres_text,
        titles=titles,
        descriptions=descriptions,
    )


def _make_neighbours(
    rng: np.random.Generator, primary: IntArray, year: IntArray, popularity: FloatArray, n_genres: int
) -> IntArray:
    """For each item, K related titles of its primary genre: half popular ones, half of the same era."""
    n_items = len(primary)
    items = np.arange(n_items, dtype=np.int64)
    k_pop = _N_NEIGHBOURS // 2
    k_era = _N_NEIGHBOURS - k_pop

    by_genre = _SegmentSampler(primary, items, popularity**0.8, n_genres)
    pop_nb, _ = by_genre.sample(rng, np.repeat(primary, k_pop))
    pop_nb = pop_nb.reshape(n_items, k_pop)

    # Era neighbours: nearby positions in the genre's year-sorted list (never the item itself).
    order = np.lexsort((year, primary))
    rank = np.empty(n_items, dtype=np.int64)
    rank[order] = np.arange(n_items)
    counts = np.bincount(primary, minlength=n_genres)
    offsets = np.concatenate(([0], np.cumsum(counts)))
    lo = offsets[primary][:, None]
    hi = offsets[primary + 1][:, None] - 1
    offset = rng.integers(1, 9, size=(n_items, k_era)) * rng.choice(np.array([-1, 1]), size=(n_items, k_era))
    target = rank[:, None] + offset
    target = np.where(target < lo, rank[:, None] + np.abs(offset), target)
    target = np.where(target > hi, rank[:, None] - np.abs(offset), target)
    target = np.clip(target, lo, hi)
    era_nb = order[target]

    neighbours = np.empty((n_items, _N_NEIGHBOURS), dtype=np.int64)
    neighbours[:, 0::2] = pop_nb
    neighbours[:, 1::2] = era_nb
    # A popular neighbour equal to the item itself becomes an era neighbour.
    self_loop = neighbours == items[:, None]
    neighbours = np.where(self_loop, np.repeat(era_nb[:, :1], _N_NEIGHBOURS, axis=1), neighbours)
    return neighbours


# ---------------------------------------------------------------------------------------------------------
# generate()
# ---------------------------------------------------------------------------------------------------------


def generate(
    n_users: int = 1000,
    n_items: int = 500,
    n_interactions: int = 50_000,
    seed: int = 0,
    start: int = 1_600_000_000,
) -> Catalogue:
    """Generate a synthetic movie catalogue, deterministically for ``seed``.

    ``n_interactions`` rows are spread over ``n_users`` users (each has at least two, heavy-tailed
    otherwise) between ``start`` and ``start`` + 365 days (epoch seconds).
    """
    if n_users < 1 or n_items < 2:
        raise ValueError("need at least 1 user and 2 items")
    if n_interactions < 2 * n_users:
        raise ValueError("n_interactions must be at least 2 * n_users (every user has >= 2 interactions)")
    rng = np.random.default_rng(seed)
    n_genres = len(GENRES)
    it = _make_items(rng, n_items, start)

    # ---- users -------------------------------------------------------------------------------------
    age = np.clip(np.round(17 + rng.gamma(3.0, 7.5, size=n_users)), 18, 85).astype(np.int64)
    z_age = (age - 38.0) / 14.0
    alpha = (_GENRE_PRIOR / _GENRE_PRIOR.sum())[None, :] * np.exp(_GENRE_AGE_TILT[None, :] * z_age[:, None])
    alpha = 1.5 * alpha / alpha.sum(axis=1, keepdims=True)
    taste = rng.standard_gamma(alpha) + 1e-12
    taste /= taste.sum(axis=1, keepdims=True)
    taste_cdf = np.cumsum(taste, axis=1)
    pop_bias = rng.beta(2.0, 3.0, size=n_users)
    p_continue = rng.beta(6.0, 6.0, size=n_users)
    activity = rng.lognormal(0.0, 1.0, size=n_users)
    counts = 2 + rng.multinomial(n_interactions - 2 * n_users, activity / activity.sum()).astype(np.int64)

    act_q = np.argsort(np.argsort(counts, kind="stable"), kind="stable") / max(n_users - 1, 1)
    u_sub = rng.random(n_users)
    p_premium = 0.08 + 0.30 * act_q
    p_free = 0.50 - 0.35 * act_q
    subscription = np.where(u_sub < p_premium, "premium", np.where(u_sub < p_premium + p_free, "free", "standard"))

    # ---- per-interaction skeleton ------------------------------------------------------------------
    n = n_interactions
    user = np.repeat(np.arange(n_users, dtype=np.int64), counts)
    user_start = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    rows = np.arange(n, dtype=np.int64)
    first = np.zeros(n, dtype=bool)
    first[user_start] = True
    cont = (rng.random(n) < p_continue[user]) & ~first

    # ---- timestamps: binge gaps after "continue" steps, longer gaps otherwise, fitted to a window --
    min_gap = 60
    span = (rng.uniform(0.2, 1.0, size=n_users) * _YEAR_S).astype(np.int64)
    span = np.maximum(span, counts * 2 * min_gap)
    offset = (rng.random(n_users) * np.maximum(_YEAR_S - span, 0)).astype(np.int64)
    raw = np.where(cont, rng.exponential(2.5 * 3600.0, size=n), rng.exponential(1.0, size=n))
    raw[first] = 0.0
    available = (span - counts * min_gap).astype(np.float64)
    cont_sum = np.bincount(user, weights=np.where(cont, raw, 0.0), minlength=n_users)
    fresh_sum = np.bincount(user, weights=np.where(cont, 0.0, raw), minlength=n_users)
    cont_scale = np.minimum(1.0, 0.5 * available / np.maximum(cont_sum, 1e-9))
    fresh_scale = (available - cont_sum * cont_scale) / np.maximum(fresh_sum, 1e-9)
    scale = np.where(cont, cont_scale[user], fresh_scale[user])
    gap = np.floor(raw * scale).astype(np.int64) + min_gap
    gap[first] = 0
    elapsed = np.cumsum(gap)
    ts = start + offset[user] + elapsed - elapsed[user_start][user]

    # ---- fresh picks: trending / charts / taste ----------------------------------------------------
    item = np.full(n, -1, dtype=np.int64)
    fresh = np.flatnonzero(~cont)
    charts = _SegmentSampler(np.zeros(n_items, dtype=np.int64), np.arange(n_items, dtype=np.int64), it.popularity, 1)
    by_genre = _SegmentSampler(it.genre_keys, it.genre_members, it.popularity[it.genre_members] ** 0.8, n_genres)

    f_user = user[fresh]
    f_ts = ts[fresh]
    branch = rng.random(len(fresh))
    trending = branch < 0.06
    chart = ~trending & (branch < 0.06 + 0.94 * pop_bias[f_user])
    picks = np.empty(len(fresh), dtype=np.int64)
    picks[chart], _ = charts.sample(rng, np.zeros(int(chart.sum()), dtype=np.int64))
    tasteful = np.flatnonzero(~trending & ~chart)
    genre = (taste_cdf[f_user[tasteful]] < rng.random(len(tasteful))[:, None]).sum(axis=1)
    genre = np.minimum(genre, n_genres - 1).astype(np.int64)
    tp, ok = by_genre.sample(rng, genre)
    fallback, _ = charts.sample(rng, np.zeros(len(tasteful), dtype=np.int64))
    picks[tasteful] = np.where(ok, tp, fallback)
    trend_idx = np.flatnonzero(trending)
    picks[trend_idx] = _trending(rng, it, f_ts[trending], charts)

    # Titles not yet released are re-drawn from the charts, and a user's repeated fresh picks from
    # their taste, a few rounds each.
    for _ in range(4):
        bad = np.flatnonzero(it.creation[picks] > f_ts)
        if not len(bad):
            break
        picks[bad], _ = charts.sample(rng, np.zeros(len(bad), dtype=np.int64))
    for _ in range(3):
        key = f_user * n_items + picks
        _, first_idx = np.unique(key, return_index=True)
        dup = np.ones(len(key), dtype=bool)
        dup[first_idx] = False
        dups = np.flatnonzero(dup)
        if not len(dups):
            break
        g = (taste_cdf[f_user[dups]] < rng.random(len(dups))[:, None]).sum(axis=1)
        redraw, ok = by_genre.sample(rng, np.minimum(g, n_genres - 1).astype(np.int64))
        released = it.creation[redraw] <= f_ts[dups]
        picks[dups] = np.where(ok & released, redraw, picks[dups])
    item[fresh] = picks

    # ---- continue steps: resolved run depth by run depth -------------------------------------------
    head = np.maximum.accumulate(np.where(cont, 0, rows))
    depth = rows - head
    # uint16 keys make numpy's stable argsort a radix sort
    depth_keys = depth.astype(np.uint16) if depth.max() < np.iinfo(np.uint16).max else depth
    by_depth = np.argsort(depth_keys, kind="stable")
    depth_counts = np.bincount(depth)
    bounds = np.concatenate(([0], np.cumsum(depth_counts)))
    nb_p = 0.72 ** np.arange(_N_NEIGHBOURS)
    nb_cdf = np.cumsum(nb_p / nb_p.sum())
    for d in range(1, len(depth_counts)):
        r = by_depth[bounds[d] : bounds[d + 1]]
        prev = item[r - 1]
        t = ts[r]
        col = np.minimum(np.searchsorted(nb_cdf, rng.random(len(r)), side="right"), _N_NEIGHBOURS - 1)
        choice = it.neighbours[prev, col]
        unreleased = it.creation[choice] > t
        choice = np.where(unreleased, it.neighbours[prev, 0], choice)
        nxt = it.sequel[prev]
        take_sequel = (nxt >= 0) & (rng.random(len(r)) < 0.85)
        take_sequel &= it.creation[np.maximum(nxt, 0)] <= t
        item[r] = np.where(take_sequel, nxt, choice)

    # ---- event types and values ----------------------------------------------------------------------
    click = rng.random(n) < np.where(cont, 0.06, 0.16)
    watched = np.empty(n, dtype=np.float64)
    watched[cont] = rng.beta(6.0, 1.5, size=int(cont.sum()))
    watched[~cont] = rng.beta(2.5, 2.0, size=n - int(cont.sum()))
    watched = np.clip(np.round(watched, 3), 0.01, 1.0).astype(np.float32)
    event_type = pa.DictionaryArray.from_arrays(pa.array(click.astype(np.int8)), pa.array(["Watch", "Click"])).cast(
        pa.string()
    )
    event_value = pa.array(watched, type=pa.float32(), mask=click)

    # ---- creation timestamps strictly before each item's first interaction ---------------------------
    first_seen = np.full(n_items, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_seen, item, ts)
    lead = rng.integers(3600, 7 * _DAY_S, size=n_items)
    creation = np.where(it.creation < first_seen, it.creation, first_seen - lead)

    # ---- tables --------------------------------------------------------------------------------------
    user_ids = _ids("u", np.arange(n_users, dtype=np.int64))
    item_ids = _ids("m", np.arange(n_items, dtype=np.int64))
    order = np.argsort(ts, kind="stable")
    interactions = pa.Table.from_arrays(
        [
            user_ids.take(pa.array(user[order])),
            item_ids.take(pa.array(item[order])),
            event_type.take(pa.array(order)),
            pa.array(ts[order], type=pa.int64()),
            event_value.take(pa.array(order)),
        ],
        schema=_INTERACTIONS_ARROW,
    )
    items = pa.Table.from_arrays(
        [
            item_ids,
            pa.array(it.genres_text, type=pa.string()),
            pa.array(it.year, type=pa.int32()),
            pa.array(creation, type=pa.int64()),
            pa.array(it.titles, type=pa.string()),
            pa.array(it.descriptions, type=pa.string()),
        ],
        schema=_ITEMS_ARROW,
    )
    users = pa.Table.from_arrays(
        [
            user_ids,
            pa.array(age, type=pa.int32()),
            pa.array(subscription.tolist(), type=pa.string()),
        ],
        schema=_USERS_ARROW,
    )
    return Catalogue(items=items, users=users, interactions=interactions)


def _trending(rng: np.random.Generator, it: _Items, t: IntArray, charts: _SegmentSampler) -> IntArray:
    """Popularity-weighted picks among titles released in the 30 days before ``t`` (else the charts)."""
    order = np.argsort(it.creation, kind="stable")
    created = it.creation[order]
    cum = np.concatenate(([0.0], np.cumsum(it.popularity[order])))
    lo = np.searchsorted(created, t - 30 * _DAY_S, side="left")
    hi = np.searchsorted(created, t, side="right")
    target = cum[lo] + rng.random(len(t)) * (cum[hi] - cum[lo])
    idx = np.clip(np.searchsorted(cum, target, side="right") - 1, lo, np.maximum(hi - 1, lo))
    picks = order[np.minimum(idx, len(order) - 1)].astype(np.int64)
    fallback, _ = charts.sample(rng, np.zeros(len(t), dtype=np.int64))
    return np.where(hi > lo, picks, fallback)


# ---------------------------------------------------------------------------------------------------------
# CSV output
# ---------------------------------------------------------------------------------------------------------

_STRUCTURAL = r'[,"\r\n]'


def _needs_quoting(table: pa.Table) -> bool:
    if any(any(ch in name for ch in ',"\r\n') for name in table.column_names):
        return True
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            if column.null_count == len(column):
                continue
            if pc.any(pc.match_substring_regex(column, _STRUCTURAL)).as_py():
                return True
    return False


def _write_options(quote: bool, include_header: bool = True) -> pacsv.WriteOptions:
    style = "needed" if quote else "none"
    return pacsv.WriteOptions(include_header=include_header, quoting_style=style, quoting_header=style)


def write_csv(table: pa.Table, path: str | os.PathLike[str]) -> None:
    """Write ``table`` as a Personalize-style CSV: a header of column names, nulls as empty fields.

    Values are not quoted unless some value needs it (a comma, quote or line break), in which case
    pyarrow's "needed" style quotes string values.
    """
    pacsv.write_csv(table, os.fspath(path), write_options=_write_options(_needs_quoting(table)))


def write_catalogue(catalogue: Catalogue, directory: str | os.PathLike[str]) -> dict[str, pathlib.Path]:
    """Write ``items.csv``, ``users.csv`` and ``interactions.csv`` into ``directory`` (created if needed)."""
    out = pathlib.Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, pathlib.Path] = {}
    for kind, table in catalogue.tables().items():
        path = out / f"{kind.lower()}.csv"
        write_csv(table, path)
        paths[kind] = path
    return paths


def _interactions_chunk(
    rng: np.random.Generator,
    row_start: int,
    n_rows: int,
    total_rows: int,
    n_users: int,
    n_items: int,
    start: int,
) -> pa.Table:
    """Rows ``row_start`` .. ``row_start + n_rows`` of a simple random interactions file.

    The first ``2 * n_users`` rows of the file cycle through the users so everyone has two interactions;
    timestamps increase through the file over one year.
    """
    rows = np.arange(row_start, row_start + n_rows, dtype=np.int64)
    user = np.where(rows < 2 * n_users, rows % n_users, rng.integers(0, n_users, size=n_rows))
    ranks = rng.zipf(1.3, size=n_rows) - 1
    item = np.where(ranks < n_items, ranks, rng.integers(0, n_items, size=n_rows)).astype(np.int64)
    lo = start + (row_start * _YEAR_S) // total_rows
    hi = start + ((row_start + n_rows) * _YEAR_S) // total_rows
    ts = np.sort(rng.integers(lo, max(hi, lo + 1), size=n_rows))
    click = rng.random(n_rows) < 0.15
    value = np.round(rng.random(n_rows), 3).astype(np.float32)
    event_type = pa.DictionaryArray.from_arrays(pa.array(click.astype(np.int8)), pa.array(["Watch", "Click"])).cast(
        pa.string()
    )
    return pa.Table.from_arrays(
        [
            _ids("u", user.astype(np.int64)),
            _ids("m", item),
            event_type,
            pa.array(ts, type=pa.int64()),
            pa.array(value, type=pa.float32(), mask=click),
        ],
        schema=_INTERACTIONS_ARROW,
    )


def write_interactions_csv(
    path: str | os.PathLike[str],
    n_rows: int,
    n_users: int,
    n_items: int,
    seed: int = 0,
    chunk_rows: int = 1_000_000,
    start: int = 1_600_000_000,
) -> int:
    """Stream a large interactions-only CSV (INTERACTIONS_SCHEMA columns) in chunks; returns rows written.

    Memory stays bounded by ``chunk_rows``; users and items are random (items Zipf-skewed), timestamps
    increase through the file. Meant for import throughput benchmarks, not for model quality.
    """
    if n_rows < 0 or n_users < 1 or n_items < 1:
        raise ValueError("n_rows must be >= 0, n_users and n_items >= 1")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be >= 1")
    rng = np.random.default_rng(seed)
    written = 0
    options = _write_options(quote=False)
    with pacsv.CSVWriter(os.fspath(path), _INTERACTIONS_ARROW, write_options=options) as writer:
        while written < n_rows:
            size = min(chunk_rows, n_rows - written)
            writer.write_table(_interactions_chunk(rng, written, size, n_rows, n_users, n_items, start))
            written += size
    return written

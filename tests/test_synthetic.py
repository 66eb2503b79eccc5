"""Tests of the synthetic movie catalogue generator (reelrank.synthetic)."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from reelrank import synthetic
from reelrank.synthetic import (
    INTERACTIONS_SCHEMA,
    ITEMS_SCHEMA,
    USERS_SCHEMA,
    Catalogue,
    generate,
    write_catalogue,
    write_csv,
    write_interactions_csv,
)

N_USERS = 800
N_ITEMS = 400
N_INTERACTIONS = 40_000


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return generate(n_users=N_USERS, n_items=N_ITEMS, n_interactions=N_INTERACTIONS, seed=7)


def _numbers(column: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """ "u12" / "m12" -> 12."""
    return np.asarray(pc.cast(pc.utf8_slice_codeunits(column, 1), pa.int64()).to_numpy(), dtype=np.int64)


def _column_types(schema_json: str) -> dict[str, pa.DataType]:
    avro = {"string": pa.string(), "long": pa.int64(), "int": pa.int32(), "float": pa.float32()}
    out = {}
    for field in json.loads(schema_json)["fields"]:
        t = field["type"]
        out[field["name"]] = avro[next(x for x in t if x != "null") if isinstance(t, list) else t]
    return out


# ---------------------------------------------------------------------------------------------------------
# schemas and determinism
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema_json", "name", "expected"),
    [
        (
            INTERACTIONS_SCHEMA,
            "Interactions",
            [("USER_ID", "string"), ("ITEM_ID", "string"), ("EVENT_TYPE", "string"), ("TIMESTAMP", "long"),
             ("EVENT_VALUE", ["null", "float"])],
        ),
        (
            ITEMS_SCHEMA,
            "Items",
            [("ITEM_ID", "string"), ("GENRES", "string"), ("YEAR", "int"), ("CREATION_TIMESTAMP", "long"),
             ("TITLE", ["null", "string"]), ("DESCRIPTION", ["null", "string"])],
        ),
        (USERS_SCHEMA, "Users", [("USER_ID", "string"), ("AGE", "int"), ("SUBSCRIPTION_MODEL", "string")]),
    ],
)  # fmt: skip
def test_schema_json_is_personalize_avro(schema_json: str, name: str, expected: list[tuple[str, Any]]) -> None:
    schema = json.loads(schema_json)
    assert schema["type"] == "record"
    assert schema["name"] == name
    assert schema["namespace"] == "com.amazonaws.personalize.schema"
    assert schema["version"] == "1.0"
    assert [(f["name"], f["type"]) for f in schema["fields"]] == expected


def test_schema_attributes() -> None:
    items = {f["name"]: f for f in json.loads(ITEMS_SCHEMA)["fields"]}
    assert items["GENRES"].get("categorical") is True
    assert items["DESCRIPTION"].get("textual") is True
    assert "categorical" not in items["TITLE"]
    users = {f["name"]: f for f in json.loads(USERS_SCHEMA)["fields"]}
    assert users["SUBSCRIPTION_MODEL"].get("categorical") is True


def test_tables_match_schemas(catalogue: Catalogue) -> None:
    allowed = {
        "string": {pa.string()},
        "long": {pa.int64()},
        "int": {pa.int32()},
        "float": {pa.float32(), pa.float64()},
    }
    for table, schema_json in [
        (catalogue.interactions, INTERACTIONS_SCHEMA),
        (catalogue.items, ITEMS_SCHEMA),
        (catalogue.users, USERS_SCHEMA),
    ]:
        fields = json.loads(schema_json)["fields"]
        assert table.column_names == [f["name"] for f in fields]
        for field in fields:
            avro_type = field["type"]
            nullable = isinstance(avro_type, list) and "null" in avro_type
            base = next(t for t in avro_type if t != "null") if isinstance(avro_type, list) else avro_type
            column = table.column(field["name"])
            assert column.type in allowed[base], field["name"]
            assert table.schema.field(field["name"]).nullable == nullable, field["name"]
            if not nullable:
                assert column.null_count == 0, field["name"]


def test_sizes(catalogue: Catalogue) -> None:
    assert catalogue.users.num_rows == N_USERS
    assert catalogue.items.num_rows == N_ITEMS
    assert catalogue.interactions.num_rows == N_INTERACTIONS
    assert catalogue.users["USER_ID"].to_pylist()[:3] == ["u1", "u2", "u3"]
    assert catalogue.items["ITEM_ID"].to_pylist()[-1] == f"m{N_ITEMS}"


def test_deterministic_by_seed() -> None:
    a = generate(n_users=200, n_items=150, n_interactions=5_000, seed=3)
    b = generate(n_users=200, n_items=150, n_interactions=5_000, seed=3)
    c = generate(n_users=200, n_items=150, n_interactions=5_000, seed=4)
    for kind in ("items", "users", "interactions"):
        assert getattr(a, kind).equals(getattr(b, kind)), kind
    assert not a.interactions.equals(c.interactions)
    assert not a.items.equals(c.items)


def test_rejects_too_few_interactions() -> None:
    with pytest.raises(ValueError):
        generate(n_users=100, n_items=50, n_interactions=150)


@pytest.mark.parametrize(
    ("n_users", "n_items", "n_interactions"), [(1, 2, 2), (3, 2, 50), (40, 5, 80), (10, 60, 5_000)]
)
def test_tiny_catalogues(n_users: int, n_items: int, n_interactions: int) -> None:
    cat = generate(n_users=n_users, n_items=n_items, n_interactions=n_interactions, seed=11)
    assert cat.users.num_rows == n_users
    assert cat.items.num_rows == n_items
    assert cat.interactions.num_rows == n_interactions
    assert pc.all(pc.is_in(cat.interactions["ITEM_ID"], value_set=cat.items["ITEM_ID"].combine_chunks())).as_py()


# ---------------------------------------------------------------------------------------------------------
# data invariants
# ---------------------------------------------------------------------------------------------------------


def test_referential_integrity(catalogue: Catalogue) -> None:
    inter = catalogue.interactions
    assert pc.all(pc.is_in(inter["USER_ID"], value_set=catalogue.users["USER_ID"].combine_chunks())).as_py()
    assert pc.all(pc.is_in(inter["ITEM_ID"], value_set=catalogue.items["ITEM_ID"].combine_chunks())).as_py()
    assert len(pc.unique(catalogue.users["USER_ID"])) == N_USERS
    assert len(pc.unique(catalogue.items["ITEM_ID"])) == N_ITEMS


def test_every_user_has_two_interactions(catalogue: Catalogue) -> None:
    counts = np.bincount(_numbers(catalogue.interactions["USER_ID"]), minlength=N_USERS + 1)[1:]
    assert counts.min() >= 2
    assert counts.max() > 5 * np.median(counts)  # heavy-tailed activity


def test_timestamps_increase_per_user(catalogue: Catalogue) -> None:
    users = _numbers(catalogue.interactions["USER_ID"])
    ts = catalogue.interactions["TIMESTAMP"].to_numpy()
    order = np.argsort(users, kind="stable")  # keeps each user's rows in table order
    same_user = users[order][1:] == users[order][:-1]
    assert np.all(np.diff(ts[order])[same_user] > 0)
    start = 1_600_000_000
    assert ts.min() >= start
    assert ts.max() < start + 366 * 86_400
    assert ts.max() - ts.min() > 300 * 86_400  # spread over about a year


def test_items_created_before_first_interaction(catalogue: Catalogue) -> None:
    first = catalogue.interactions.group_by("ITEM_ID").aggregate([("TIMESTAMP", "min")])
    joined = first.join(catalogue.items.select(["ITEM_ID", "CREATION_TIMESTAMP"]), "ITEM_ID")
    assert joined.num_rows == first.num_rows
    assert pc.all(pc.less(joined["CREATION_TIMESTAMP"], joined["TIMESTAMP_min"])).as_py()


def test_events_and_values(catalogue: Catalogue) -> None:
    inter = catalogue.interactions
    event = inter["EVENT_TYPE"].to_numpy(zero_copy_only=False)
    assert set(event.tolist()) == {"Watch", "Click"}
    watch = event == "Watch"
    assert 0.7 < watch.mean() < 0.97
    value = inter["EVENT_VALUE"]
    assert np.array_equal(pc.is_null(value).to_numpy(zero_copy_only=False), ~watch)
    watched = value.drop_null().to_numpy()
    assert watched.min() >= 0.0
    assert watched.max() <= 1.0


def test_item_metadata(catalogue: Catalogue) -> None:
    items = catalogue.items
    years = items["YEAR"].to_numpy()
    assert years.min() >= 1950
    assert years.max() <= 2025
    genre_values = items["GENRES"].to_pylist()
    genres = {g for value in genre_values for g in value.split("|")}
    assert genres <= set(synthetic.GENRES)
    assert len(genres) >= 15
    assert len(synthetic.GENRES) == 18
    assert any("|" in value for value in genre_values)  # multi-genre items
    titles = items["TITLE"].to_pylist()
    assert all(isinstance(t, str) and t for t in titles)
    assert len(set(titles)) > 0.8 * len(titles)
    descriptions = items["DESCRIPTION"].drop_null().to_pylist()
    assert len(descriptions) > 0.9 * N_ITEMS
    assert all(d.endswith(".") for d in descriptions)


def test_popularity_is_skewed(catalogue: Catalogue) -> None:
    counts = np.sort(np.bincount(_numbers(catalogue.interactions["ITEM_ID"]), minlength=N_ITEMS + 1)[1:])
    top_decile = counts[-N_ITEMS // 10 :].sum() / counts.sum()
    assert top_decile > 0.25  # a uniform catalogue would give 0.10


def _histories(catalogue: Catalogue) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(user, item) numbers of every interaction, ordered by user then time."""
    inter = catalogue.interactions
    users = _numbers(inter["USER_ID"])
    items = _numbers(inter["ITEM_ID"])
    order = np.lexsort((inter["TIMESTAMP"].to_numpy(), users))
    return users[order], items[order]


def test_sequential_structure_beats_popularity(catalogue: Catalogue) -> None:
    """'Most frequent next item after the previous item' beats most-popular on each user's last event."""
    users, items = _histories(catalogue)
    last = np.ones(len(users), dtype=bool)
    last[:-1] = users[1:] != users[:-1]
    train = ~last
    k = 10

    # item -> next item counts over training histories (each user's last event is held out)
    pair = (users[1:] == users[:-1]) & train[1:]
    transitions = np.zeros((N_ITEMS + 1, N_ITEMS + 1), dtype=np.float64)
    np.add.at(transitions, (items[:-1][pair], items[1:][pair]), 1.0)
    counts = np.bincount(items[train], minlength=N_ITEMS + 1).astype(np.float64)
    counts[0] = -1.0  # there is no item 0
    popular = np.argsort(-counts, kind="stable")[:k]

    targets = np.flatnonzero(last)
    truth = items[targets]
    # ties (and unseen transitions) are broken by popularity
    scores = transitions[items[targets - 1]] + counts[None, :] / (counts.sum() + 1.0)
    top_next = np.argsort(-scores, axis=1, kind="stable")[:, :k]

    hit_next = float(np.mean(np.any(top_next == truth[:, None], axis=1)))
    hit_pop = float(np.mean(np.isin(truth, popular)))
    assert hit_next > hit_pop + 0.15, (hit_next, hit_pop)


def test_sequels_follow_their_predecessor(catalogue: Catalogue) -> None:
    numbers = _numbers(catalogue.items["ITEM_ID"]).tolist()
    titles = dict(zip(numbers, catalogue.items["TITLE"].to_pylist(), strict=True))
    users, items = _histories(catalogue)
    same = users[1:] == users[:-1]
    steps = zip(items[:-1][same].tolist(), items[1:][same].tolist(), strict=True)
    # a sequel step: "X" -> "X 2" / "X Part II" / "X: Rising"
    is_sequel = [titles[b].startswith((titles[a] + " ", titles[a] + ":")) for a, b in steps]
    assert np.mean(is_sequel) > 0.02


# ---------------------------------------------------------------------------------------------------------
# CSV output
# ---------------------------------------------------------------------------------------------------------


def test_write_csv_round_trips(catalogue: Catalogue, tmp_path: pathlib.Path) -> None:
    for table, schema_json in [
        (catalogue.interactions, INTERACTIONS_SCHEMA),
        (catalogue.items, ITEMS_SCHEMA),
        (catalogue.users, USERS_SCHEMA),
    ]:
        path = tmp_path / "t.csv"
        write_csv(table, path)
        with open(path, encoding="utf-8") as f:
            header = f.readline().rstrip("\n")
        assert header == ",".join(table.column_names)  # no quoting
        back = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(column_types=_column_types(schema_json), strings_can_be_null=True),
        )
        assert back.column_names == table.column_names
        for name in table.column_names:
            assert back[name].cast(table[name].type).equals(table[name]), name


def test_write_csv_nulls_are_empty_and_quoting_only_when_needed(tmp_path: pathlib.Path) -> None:
    plain = pa.table({"ITEM_ID": ["m1", "m2"], "TITLE": ["Heat", None], "YEAR": pa.array([1995, None], pa.int32())})
    path = tmp_path / "plain.csv"
    write_csv(plain, path)
    assert path.read_text() == "ITEM_ID,TITLE,YEAR\nm1,Heat,1995\nm2,,\n"

    tricky = pa.table({"ITEM_ID": ["m1", "m2"], "TITLE": ['Heat, "the" movie', "Up"]})
    path = tmp_path / "tricky.csv"
    write_csv(tricky, path)
    assert '"Heat, ""the"" movie"' in path.read_text()
    assert pacsv.read_csv(path).equals(tricky)


def test_write_catalogue(catalogue: Catalogue, tmp_path: pathlib.Path) -> None:
    paths = write_catalogue(catalogue, tmp_path / "out")
    assert set(paths) == {"ITEMS", "USERS", "INTERACTIONS"}
    assert paths["ITEMS"].name == "items.csv"
    assert paths["USERS"].name == "users.csv"
    assert paths["INTERACTIONS"].name == "interactions.csv"
    for kind, table in catalogue.tables().items():
        back = pacsv.read_csv(paths[kind])
        assert back.num_rows == table.num_rows
        assert back.column_names == table.column_names


def test_write_interactions_csv_streams_in_chunks(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    real_chunk = synthetic._interactions_chunk

    def spy(rng: np.random.Generator, row_start: int, n_rows: int, *args: Any) -> pa.Table:
        sizes.append(n_rows)
        table = real_chunk(rng, row_start, n_rows, *args)
        assert table.num_rows == n_rows
        return table

    monkeypatch.setattr(synthetic, "_interactions_chunk", spy)
    path = tmp_path / "big.csv"
    written = write_interactions_csv(path, n_rows=25_000, n_users=300, n_items=200, seed=1, chunk_rows=4_000)
    assert written == 25_000
    assert max(sizes) <= 4_000
    assert sum(sizes) == 25_000
    assert len(sizes) == 7

    back = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(column_types=_column_types(INTERACTIONS_SCHEMA), strings_can_be_null=True),
    )
    assert back.num_rows == 25_000
    assert back.column_names == [f["name"] for f in json.loads(INTERACTIONS_SCHEMA)["fields"]]
    assert np.all(np.diff(back["TIMESTAMP"].to_numpy()) >= 0)
    users = _numbers(back["USER_ID"])
    assert users.min() >= 1
    assert users.max() <= 300
    assert np.bincount(users, minlength=301)[1:].min() >= 2
    items = _numbers(back["ITEM_ID"])
    assert items.min() >= 1
    assert items.max() <= 200
    clicks = pc.equal(back["EVENT_TYPE"], "Click")
    assert pc.all(pc.equal(clicks, pc.is_null(back["EVENT_VALUE"]))).as_py()


def test_write_interactions_csv_is_deterministic(tmp_path: pathlib.Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert write_interactions_csv(a, 3_000, 50, 40, seed=5, chunk_rows=1_000) == 3_000
    assert write_interactions_csv(b, 3_000, 50, 40, seed=5, chunk_rows=1_000) == 3_000
    assert a.read_bytes() == b.read_bytes()
    assert write_interactions_csv(tmp_path / "empty.csv", 0, 5, 5) == 0
    with pytest.raises(ValueError):
        write_interactions_csv(tmp_path / "bad.csv", 10, 5, 5, chunk_rows=0)

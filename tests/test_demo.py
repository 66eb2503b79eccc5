"""`reelrank demo --movielens DIR` and the MovieLens conversion, on tiny folders in both layouts written here
(MovieLens itself may not be redistributed)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from reelrank import movielens
from reelrank.demo import movielens_group_name
from tests.support.servers import free_port
from tests.test_cli import run

GENRES = ("Comedy", "Drama", "Action", "Sci-Fi", "Romance")


def _movies() -> list[tuple[str, str, str]]:
    """(id, title, genres): 60 films, with a comma, quotes, a Latin-1 letter and a missing year among them."""
    special = {1: "Toy Story (1995)", 2: "Amélie (2001)", 3: "Matrix, The (1999)", 4: 'Dr. "Strange" Love (1964)',
               5: "Babylon 5"}
    return [(str(n), special.get(n, f"Film {n} ({1950 + n})"), "|".join(sorted({GENRES[n % 5], GENRES[n * 7 % 5]})))
            for n in range(1, 61)]


def _ratings() -> list[tuple[str, str, str, str]]:
    """(user, movie, rating, timestamp): 80 users who each rate 15 films, mostly of the genre they like."""
    rng = random.Random(7)
    rows = []
    for user in range(1, 81):
        liked = [n for n in range(1, 61) if n % 5 == user % 5]
        others = [n for n in range(1, 61) if n % 5 != user % 5]
        films = rng.sample(liked, 10) + rng.sample(others, 5)
        rows += [(str(user), str(film), str(rng.choice((3, 4, 5))), str(978_300_000 + user * 1000 + step))
                 for step, film in enumerate(films)]
    return rows


def write_ml_latest(folder: Path) -> Path:
    folder.mkdir(parents=True)
    with (folder / "movies.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["movieId", "title", "genres"])
        writer.writerows(_movies())
    with (folder / "ratings.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["userId", "movieId", "rating", "timestamp"])
        writer.writerows((user, movie, f"{float(rating):.1f}", ts) for user, movie, rating, ts in _ratings())
    return folder


def write_ml_1m(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "movies.dat").write_bytes("".join(f"{m}::{t}::{g}\n" for m, t, g in _movies()).encode("latin-1"))
    (folder / "ratings.dat").write_text("".join("::".join(row) + "\n" for row in _ratings()), encoding="latin-1")
    (folder / "users.dat").write_text("".join(f"{u}::{'MF'[u % 2]}::{(18, 25, 35)[u % 3]}::{u % 21}::0{u:04d}\n"
                                              for u in range(1, 81)), encoding="latin-1")
    return folder


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_titles_lose_their_year() -> None:
    assert movielens.title_and_year("Toy Story (1995)") == ("Toy Story", 1995)
    assert movielens.title_and_year("Babylon 5") == ("Babylon 5", None)
    assert movielens.title_and_year("Fawlty Towers (1975-1979)") == ("Fawlty Towers", 1975)
    assert movielens.title_and_year("(500) Days of Summer (2009) ") == ("(500) Days of Summer", 2009)


@pytest.mark.parametrize("layout", ["ml-latest", "ml-1m"])
def test_both_layouts_convert_to_personalize_csvs(tmp_path: Path, layout: str) -> None:
    source = (write_ml_latest if layout == "ml-latest" else write_ml_1m)(tmp_path / layout)
    converted = movielens.convert(source, tmp_path / "out")
    assert converted.layout == layout
    interactions = read(converted.files["INTERACTIONS"])
    assert list(interactions[0]) == ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE"]
    assert len(interactions) == converted.rows["INTERACTIONS"] == 1200
    assert {row["EVENT_TYPE"] for row in interactions} == {"Watch"}
    assert float(interactions[0]["EVENT_VALUE"]) in (3.0, 4.0, 5.0)
    items = {row["ITEM_ID"]: row for row in read(converted.files["ITEMS"])}
    assert len(items) == converted.rows["ITEMS"] == 60
    assert (items["1"]["TITLE"], items["1"]["YEAR"]) == ("Toy Story", "1995")
    assert items["2"]["TITLE"] == "Amélie" and items["3"]["TITLE"] == "Matrix, The"
    assert items["4"]["TITLE"] == 'Dr. "Strange" Love'
    assert (items["5"]["TITLE"], items["5"]["YEAR"]) == ("Babylon 5", "")
    assert items["7"]["GENRES"] == "Action|Romance"
    if layout == "ml-1m":
        users = read(converted.files["USERS"])
        assert users[0] == {"USER_ID": "1", "GENDER": "F", "AGE": "25", "OCCUPATION": "academic/educator"}
    else:
        assert "USERS" not in converted.files
    assert movielens.sample(source) == ("1", ("1", "2", "3"))


def test_a_folder_without_movielens_is_refused_with_what_was_expected(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text("user,item\n")
    result = run("demo", "--once", "--port", str(free_port()), "--data-dir", str(tmp_path / "data"),
                 "--movielens", str(tmp_path))
    assert result.returncode == 2
    assert "neither ratings.csv and movies.csv (ml-latest-small) nor ratings.dat and movies.dat (ml-1m)" in (
        " ".join(result.stderr.split()))
    bad = write_ml_latest(tmp_path / "bad")
    (bad / "movies.csv").write_text("id,name\n1,x\n")
    with pytest.raises(movielens.NotMovieLens, match="MovieLens writes"):
        movielens.convert(bad, tmp_path / "out")


@pytest.mark.parametrize("layout", ["ml-latest", "ml-1m"])
def test_demo_loads_trains_and_recommends_from_a_movielens_folder(tmp_path: Path, layout: str) -> None:
    source = (write_ml_latest if layout == "ml-latest" else write_ml_1m)(tmp_path / f"{layout}-tiny")
    data = tmp_path / "data"
    port = str(free_port())
    result = run("demo", "--once", "--port", port, "--data-dir", str(data), "--movielens", str(source), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    group = movielens_group_name(source)
    assert f"dataset-group/{group}" in result.stdout
    assert "1200 interactions, 60 items" in result.stdout
    tables = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.startswith("│")}
    assert "1200" in tables["INTERACTIONS"] and "60" in tables["ITEMS"]
    assert ("USERS" in tables) == (layout == "ml-1m")
    assert (data / "imports" / group / "interactions.csv").is_file()
    assert not list(source.glob("*.out")) and sorted(p.name for p in source.iterdir()) == sorted(
        ["movies.csv", "ratings.csv"] if layout == "ml-latest" else ["movies.dat", "ratings.dat", "users.dat"])
    assert "Top picks for user 1 (VOD recommender)" in result.stdout
    assert "Recommended for user 1 (campaign, aws-user-personalization)" in result.stdout
    titles = {title for _, title, _ in _movies()} | {movielens.title_and_year(t)[0] for _, t, _ in _movies()}
    recommended = [line for line in result.stdout.splitlines()
                   if line.startswith("│") and line.split("│")[2].strip() in titles]
    assert len(recommended) >= 10
    again = run("demo", "--once", "--data-only", "--port", port, "--data-dir", str(data), "--movielens", str(source))
    assert again.returncode == 0 and f"Reusing the dataset group arn:aws:personalize:us-east-1:000000000000:" \
                                     f"dataset-group/{group}" in again.stdout

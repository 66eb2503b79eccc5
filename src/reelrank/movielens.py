"""A MovieLens folder the user has, converted into Amazon Personalize CSVs for the demo.

Two layouts are read: ml-latest(-small) (`ratings.csv`, `movies.csv`, with headers, UTF-8) and ml-1m (`ratings.dat`,
`movies.dat`, `users.dat`, `::`-separated, Latin-1). MovieLens may not be redistributed, so nothing of it ships with
reelrank: the files are read from where the user keeps them and the converted CSVs are written into the data
directory.

Every rating becomes a `Watch` interaction (a rating means the film was seen) with the rating as EVENT_VALUE, so the
VIDEO_ON_DEMAND use cases apply; titles lose their trailing `(year)`, which becomes YEAR.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_NAMESPACE = "com.amazonaws.personalize.schema"


def _avro(name: str, fields: list[dict[str, object]]) -> str:
    return json.dumps({"type": "record", "name": name, "namespace": _NAMESPACE, "fields": fields, "version": "1.0"})


INTERACTIONS_SCHEMA = _avro("Interactions", [
    {"name": "USER_ID", "type": "string"},
    {"name": "ITEM_ID", "type": "string"},
    {"name": "TIMESTAMP", "type": "long"},
    {"name": "EVENT_TYPE", "type": "string"},
    {"name": "EVENT_VALUE", "type": ["null", "float"]},
])
ITEMS_SCHEMA = _avro("Items", [
    {"name": "ITEM_ID", "type": "string"},
    {"name": "TITLE", "type": ["null", "string"]},
    {"name": "GENRES", "type": "string", "categorical": True},
    {"name": "YEAR", "type": ["null", "int"]},
])
USERS_SCHEMA = _avro("Users", [
    {"name": "USER_ID", "type": "string"},
    {"name": "GENDER", "type": "string", "categorical": True},
    {"name": "AGE", "type": "int"},
    {"name": "OCCUPATION", "type": "string", "categorical": True},
])
SCHEMAS = {"INTERACTIONS": INTERACTIONS_SCHEMA, "ITEMS": ITEMS_SCHEMA, "USERS": USERS_SCHEMA}
EVENT_TYPE = "Watch"

# ml-1m's README: the occupation codes of users.dat.
OCCUPATIONS = ("other", "academic/educator", "artist", "clerical/admin", "college/grad student", "customer service",
               "doctor/health care", "executive/managerial", "farmer", "homemaker", "K-12 student", "lawyer",
               "programmer", "retired", "sales/marketing", "scientist", "self-employed", "technician/engineer",
               "tradesman/craftsman", "unemployed", "writer")
_YEAR = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")


class NotMovieLens(ValueError):
    """The folder holds neither layout, or a file in it is not as MovieLens writes it."""


@dataclass(frozen=True)
class Converted:
    layout: str
    """"ml-latest" or "ml-1m"."""
    files: dict[str, Path]
    """dataset type → the converted CSV"""
    rows: dict[str, int]


def layout(folder: Path) -> str:
    """Which MovieLens layout `folder` holds, or NotMovieLens saying what was expected."""
    if (folder / "ratings.csv").is_file() and (folder / "movies.csv").is_file():
        return "ml-latest"
    if (folder / "ratings.dat").is_file() and (folder / "movies.dat").is_file():
        return "ml-1m"
    raise NotMovieLens(f"{folder} holds neither ratings.csv and movies.csv (ml-latest-small) nor ratings.dat and "
                       "movies.dat (ml-1m). Point --movielens at the unzipped MovieLens folder.")


def title_and_year(title: str) -> tuple[str, int | None]:
    """`Toy Story (1995)` → (`Toy Story`, 1995); a title without a year keeps its text and has none."""
    match = _YEAR.search(title)
    if match is None:
        return title.strip(), None
    return title[:match.start()].strip() or title.strip(), int(match.group(1))


def _sources(folder: Path) -> tuple[str, Iterator[list[str]], Iterator[list[str]], Iterator[list[str]] | None]:
    """The layout, then rows of ratings (user, movie, rating, timestamp), movies (movie, title, genres) and users
    (user, gender, age, occupation, zip; ml-1m only)."""
    kind = layout(folder)
    if kind == "ml-latest":
        return (kind, _csv_rows(folder / "ratings.csv", ["userId", "movieId", "rating", "timestamp"]),
                _csv_rows(folder / "movies.csv", ["movieId", "title", "genres"]), None)
    users = _dat_rows(folder / "users.dat", 5) if (folder / "users.dat").is_file() else None
    return kind, _dat_rows(folder / "ratings.dat", 4), _dat_rows(folder / "movies.dat", 3), users


def sample(folder: Path) -> tuple[str, tuple[str, ...]]:
    """The user of the first rating (whose recommendations the demo shows) and the first three movies (the demo's
    live events), read without converting anything."""
    _kind, ratings, movies, _users = _sources(folder)
    first = next(ratings, None)
    if first is None:
        raise NotMovieLens(f"{folder} has no ratings.")
    return first[0], tuple(row[0] for row in itertools.islice(movies, 3))


def convert(folder: Path, out: Path) -> Converted:
    """Write interactions.csv, items.csv (and users.csv for ml-1m) in Personalize's format into `out`."""
    kind, ratings, movies, users = _sources(folder)
    out.mkdir(parents=True, exist_ok=True)
    files = {"INTERACTIONS": out / "interactions.csv", "ITEMS": out / "items.csv"}
    rows: dict[str, int] = {}
    with files["INTERACTIONS"].open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE"])
        count = 0
        for user, movie, rating, timestamp in ratings:
            writer.writerow([user, movie, timestamp, EVENT_TYPE, rating])
            count += 1
    rows["INTERACTIONS"] = count
    with files["ITEMS"].open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["ITEM_ID", "TITLE", "GENRES", "YEAR"])
        count = 0
        for movie, full_title, genres in movies:
            title, year = title_and_year(full_title)
            writer.writerow([movie, title, genres, "" if year is None else year])
            count += 1
    rows["ITEMS"] = count
    if users is not None:
        files["USERS"] = out / "users.csv"
        with files["USERS"].open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(["USER_ID", "GENDER", "AGE", "OCCUPATION"])
            count = 0
            for user, gender, age, occupation, _zip in users:
                code = int(occupation) if occupation.isdigit() else -1
                writer.writerow([user, gender, age, OCCUPATIONS[code] if 0 <= code < len(OCCUPATIONS) else occupation])
                count += 1
        rows["USERS"] = count
    if not rows["INTERACTIONS"] or not rows["ITEMS"]:
        raise NotMovieLens(f"{folder} has no ratings or no movies.")
    return Converted(kind, files, rows)


def _csv_rows(path: Path, columns: list[str]) -> Iterator[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream)
        header = next(reader, [])
        missing = [column for column in columns if column not in header]
        if missing:
            raise NotMovieLens(f"{path} has the columns {header}; MovieLens writes {columns} (missing {missing}).")
        positions = [header.index(column) for column in columns]
        for number, row in enumerate(reader, 2):
            if not row:
                continue
            if len(row) != len(header):
                raise NotMovieLens(f"{path}, line {number}: {len(row)} fields where the header has {len(header)}.")
            yield [row[position] for position in positions]


def _dat_rows(path: Path, fields: int) -> Iterator[list[str]]:
    with path.open(encoding="latin-1") as stream:
        for number, line in enumerate(stream, 1):
            line = line.rstrip("\r\n")
            if not line:
                continue
            parts = line.split("::")
            if len(parts) != fields:
                raise NotMovieLens(f"{path}, line {number}: {len(parts)} `::`-separated fields, expected {fields}.")
            yield parts

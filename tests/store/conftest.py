from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reelrank.store.metadata import MetadataStore
from tests.support.postgres import PostgresServer


def _migrated(url: str) -> Iterator[MetadataStore]:
    created = MetadataStore(url)
    created.migrate()
    yield created
    created.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
    """A migrated metadata store in a SQLite file, and in a new database of a real PostgreSQL server."""
    if request.param == "sqlite":
        yield from _migrated(f"sqlite:///{tmp_path}/m.db")
    else:
        postgres: PostgresServer = request.getfixturevalue("postgres")
        yield from _migrated(postgres.new_database())


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[MetadataStore]:
    yield from _migrated(f"sqlite:///{tmp_path}/m.db")

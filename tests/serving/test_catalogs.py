"""Item catalogues and user attributes per dataset group (reelrank.serving.catalogs): built once, kept fresh off
the caller's thread, and seen at once by the process that put records."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reelrank.serving import catalogs as module
from reelrank.serving.catalogs import Catalogs, UserAttributes
from reelrank.store.datasets import DatasetFiles
from reelrank.store.metadata import MetadataStore
from tests.support.flows import eventually

GROUP = "arn:aws:personalize:us-east-1:000000000000:dataset-group/g"
ITEMS = f"{GROUP}/ITEMS"
USERS = f"{GROUP}/USERS"
ITEMS_SCHEMA = ('{"type": "record", "name": "Items", "namespace": "com.amazonaws.personalize.schema", "fields": ['
                '{"name": "ITEM_ID", "type": "string"}, {"name": "GENRES", "type": "string", "categorical": true}],'
                ' "version": "1.0"}')
USERS_SCHEMA = ('{"type": "record", "name": "Users", "namespace": "com.amazonaws.personalize.schema", "fields": ['
                '{"name": "USER_ID", "type": "string"}, {"name": "PLAN", "type": "string", "categorical": true}],'
                ' "version": "1.0"}')


@pytest.fixture()
def parts(tmp_path: Path) -> tuple[MetadataStore, DatasetFiles]:
    store = MetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    store.migrate()
    with store.transaction() as tx:
        for arn, kind, schema in ((ITEMS, "ITEMS", ITEMS_SCHEMA), (USERS, "USERS", USERS_SCHEMA)):
            tx.insert_resource("schema", f"{arn}-schema", "s", None, "ACTIVE", {"schema": schema})
            tx.insert_resource("dataset", arn, kind.lower(), GROUP, "ACTIVE",
                               {"datasetType": kind, "schemaArn": f"{arn}-schema"})
    return store, DatasetFiles(tmp_path / "datasets")


def publish(store: MetadataStore, files: DatasetFiles, items: dict[str, str]) -> None:
    partial, final = files.new_file(ITEMS)
    pq.write_table(pa.table({"ITEM_ID": list(items), "GENRES": list(items.values())}), partial)
    partial.rename(final)
    with store.transaction() as tx:
        tx.publish_dataset_version(ITEMS, [files.relative(final)], len(items), "test")


def put(store: MetadataStore, arn: str, rows: dict[str, dict[str, str]]) -> None:
    with store.transaction() as tx:
        tx.put_records(arn, rows)



def test_records_put_by_another_process_are_seen_after_a_check_made_off_the_caller(
        parts: tuple[MetadataStore, DatasetFiles], monkeypatch: pytest.MonkeyPatch) -> None:
    store, files = parts
    publish(store, files, {"a": "Drama"})
    catalogs = Catalogs(store, files)
    assert catalogs.of(GROUP).item_ids == ["a"]
    monkeypatch.setattr(module, "REFRESH_SECONDS", 0.0)
    builds: list[threading.Thread] = []
    original = catalogs._items.build

    def slow_build(*args: object) -> object:
        builds.append(threading.current_thread())
        time.sleep(0.2)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(catalogs._items, "build", slow_build)
    assert catalogs.of(GROUP).item_ids == ["a"]  # nothing changed: checked, not rebuilt
    eventually(lambda: not catalogs._items._checking)
    assert builds == []
    put(store, ITEMS, {"b": {"ITEM_ID": "b", "GENRES": "Comedy"}})  # as another server process does
    started = time.monotonic()
    assert catalogs.of(GROUP).item_ids == ["a"]  # answered at once from the current catalogue…
    assert time.monotonic() - started < 0.1
    eventually(lambda: catalogs.of(GROUP).item_ids == ["a", "b"])  # …while it is rebuilt on the worker
    assert builds and all(thread is not threading.main_thread() for thread in builds)
    assert catalogs.of(GROUP).tokens[1] == frozenset({"GENRES=Comedy"})


def test_the_process_that_puts_records_sees_them_at_once(parts: tuple[MetadataStore, DatasetFiles]) -> None:
    store, files = parts
    publish(store, files, {"a": "Drama"})
    catalogs, users = Catalogs(store, files), UserAttributes(store, files)
    assert catalogs.of(GROUP).item_ids == ["a"] and users.of(GROUP, "u1") == {}
    put(store, ITEMS, {"new": {"ITEM_ID": "new", "GENRES": "Horror"}})
    catalogs.refresh(GROUP, "ITEMS")
    assert catalogs.of(GROUP).item_ids == ["a", "new"]
    put(store, USERS, {"u1": {"USER_ID": "u1", "PLAN": "gold"}})
    users.refresh(GROUP)
    assert users.of(GROUP, "u1") == {"USER_ID": "u1", "PLAN": "gold"}


def test_a_new_import_replaces_the_catalogue(parts: tuple[MetadataStore, DatasetFiles],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store, files = parts
    catalogs = Catalogs(store, files)
    assert catalogs.of(GROUP).item_ids == []
    monkeypatch.setattr(module, "REFRESH_SECONDS", 0.0)
    publish(store, files, {"x": "Drama", "y": "Drama"})
    eventually(lambda: catalogs.of(GROUP).item_ids == ["x", "y"])

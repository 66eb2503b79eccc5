"""Unit tests for reelrank.store.metadata, on SQLite and on a real PostgreSQL (see conftest.py)."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import inspect, text

from reelrank.errors import ResourceAlreadyExistsException
from reelrank.store import metadata as metadata_module
from reelrank.store.metadata import DatasetVersion, EventReader, EventRecorder, JobRows, MetadataStore

GROUP = "arn:aws:personalize:us-east-1:000000000000:dataset-group/movies"
OTHER_GROUP = "arn:aws:personalize:us-east-1:000000000000:dataset-group/series"
DATASET = f"{GROUP}/INTERACTIONS"
JOB = "arn:aws:personalize:us-east-1:000000000000:dataset-import-job/import-1"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the store's time.time() tick one second per call, so creation order is unambiguous."""
    ticks = itertools.count(1_700_000_000)
    monkeypatch.setattr(metadata_module, "time", SimpleNamespace(time=lambda: float(next(ticks))))


def group_arn(number: int) -> str:
    return f"arn:aws:personalize:us-east-1:000000000000:dataset-group/g{number}"


# -- resources --------------------------------------------------------------------------------------------


def test_insert_and_get_resource(store: MetadataStore) -> None:
    with store.transaction() as tx:
        inserted = tx.insert_resource("dataset-group", GROUP, "movies", None, "CREATE PENDING", {"a": [1, 2]})
    with store.transaction() as tx:
        fetched = tx.get_resource(GROUP)
    assert fetched == inserted
    assert fetched is not None
    assert (fetched.kind, fetched.name, fetched.parent_arn, fetched.status, fetched.body) == (
        "dataset-group", "movies", None, "CREATE PENDING", {"a": [1, 2]})
    assert fetched.created_at == fetched.updated_at


def test_get_missing_resource(store: MetadataStore) -> None:
    with store.transaction() as tx:
        assert tx.get_resource(GROUP) is None


@pytest.mark.usefixtures("clock")
def test_update_resource_status_and_body(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.insert_resource("dataset-group", GROUP, "movies", None, "CREATE PENDING", {"a": 1})
    with store.transaction() as tx:
        tx.update_resource(GROUP, status="ACTIVE")
    with store.transaction() as tx:
        after_status = tx.get_resource(GROUP)
        tx.update_resource(GROUP, body={"b": 2})
        after_body = tx.get_resource(GROUP)
    assert after_status is not None
    assert after_body is not None
    assert (after_status.status, after_status.body) == ("ACTIVE", {"a": 1})
    assert (after_body.status, after_body.body) == ("ACTIVE", {"b": 2})
    assert after_body.updated_at > after_status.updated_at > after_status.created_at


def test_delete_resource_removes_its_tags(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.insert_resource("dataset-group", GROUP, "movies", None, "ACTIVE", {})
        tx.put_tags(GROUP, {"team": "recs"})
    with store.transaction() as tx:
        tx.delete_resource(GROUP)
    with store.transaction() as tx:
        assert tx.get_resource(GROUP) is None
        assert tx.tags(GROUP) == {}


def test_duplicate_arn_is_refused(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.insert_resource("dataset-group", GROUP, "movies", None, "ACTIVE", {})
    with pytest.raises(ResourceAlreadyExistsException) as caught, store.transaction() as tx:
        tx.insert_resource("dataset-group", GROUP, "movies", None, "ACTIVE", {})
    assert caught.value.message == f"Resource with ARN {GROUP} already exists."


def test_transaction_stays_usable_after_a_duplicate(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.insert_resource("dataset-group", GROUP, "movies", None, "ACTIVE", {})
        with pytest.raises(ResourceAlreadyExistsException):
            tx.insert_resource("dataset-group", GROUP, "again", None, "ACTIVE", {})
        tx.insert_resource("dataset-group", OTHER_GROUP, "series", None, "ACTIVE", {})
    with store.transaction() as tx:
        names = [r.name for r in tx.list_resources("dataset-group")]
    assert sorted(names) == ["movies", "series"]


def test_failed_transaction_rolls_back(store: MetadataStore) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.insert_resource("dataset-group", GROUP, "movies", None, "ACTIVE", {})
        raise RuntimeError("boom")
    with store.transaction() as tx:
        assert tx.get_resource(GROUP) is None


# -- listing and counting ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("clock")
def test_list_oldest_first(store: MetadataStore) -> None:
    with store.transaction() as tx:
        for number in (3, 1, 2):
            tx.insert_resource("dataset-group", group_arn(number), f"g{number}", None, "ACTIVE", {})
        tx.insert_resource("schema", "arn:aws:personalize:us-east-1:000000000000:schema/s", "s", None, None, {})
    with store.transaction() as tx:
        assert [r.name for r in tx.list_resources("dataset-group")] == ["g3", "g1", "g2"]


@pytest.mark.usefixtures("clock")
def test_list_newest_first(store: MetadataStore) -> None:
    with store.transaction() as tx:
        for number in (3, 1, 2):
            tx.insert_resource("dataset-group", group_arn(number), f"g{number}", None, "ACTIVE", {})
    with store.transaction() as tx:
        assert [r.name for r in tx.list_resources("dataset-group", newest_first=True)] == ["g2", "g1", "g3"]


def test_list_ties_are_ordered_by_arn(store: MetadataStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metadata_module, "time", SimpleNamespace(time=lambda: 1_700_000_000.0))
    with store.transaction() as tx:
        for number in (3, 1, 2):
            tx.insert_resource("dataset-group", group_arn(number), f"g{number}", None, "ACTIVE", {})
    with store.transaction() as tx:
        assert [r.name for r in tx.list_resources("dataset-group")] == ["g1", "g2", "g3"]
        assert [r.name for r in tx.list_resources("dataset-group", newest_first=True)] == ["g1", "g2", "g3"]


@pytest.mark.usefixtures("clock")
def test_list_offset_and_limit(store: MetadataStore) -> None:
    with store.transaction() as tx:
        for number in range(1, 8):
            tx.insert_resource("dataset-group", group_arn(number), f"g{number}", None, "ACTIVE", {})
    with store.transaction() as tx:
        assert [r.name for r in tx.list_resources("dataset-group", offset=2, limit=3)] == ["g3", "g4", "g5"]
        assert [r.name for r in tx.list_resources("dataset-group", offset=5)] == ["g6", "g7"]
        assert [r.name for r in tx.list_resources("dataset-group", limit=2)] == ["g1", "g2"]
        assert tx.list_resources("dataset-group", offset=7) == []


@pytest.mark.usefixtures("clock")
def test_list_by_parent(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.insert_resource("dataset", f"{GROUP}/ITEMS", "items", GROUP, "ACTIVE", {})
        tx.insert_resource("dataset", f"{OTHER_GROUP}/ITEMS", "other", OTHER_GROUP, "ACTIVE", {})
        tx.insert_resource("dataset", f"{GROUP}/USERS", "users", GROUP, "ACTIVE", {})
    with store.transaction() as tx:
        assert [r.name for r in tx.list_resources("dataset", parent_arn=GROUP)] == ["items", "users"]
        assert [r.name for r in tx.list_resources("dataset")] == ["items", "other", "users"]
        assert tx.child_kinds(GROUP) == ["dataset"]
        assert tx.child_kinds(DATASET) == []


def test_count_resources(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.insert_resource("dataset", f"{GROUP}/ITEMS", "items", GROUP, "ACTIVE", {})
        tx.insert_resource("dataset", f"{GROUP}/USERS", "users", GROUP, "CREATE PENDING", {})
        tx.insert_resource("dataset", f"{OTHER_GROUP}/USERS", "users", OTHER_GROUP, "CREATE IN_PROGRESS", {})
    with store.transaction() as tx:
        assert tx.count_resources("dataset") == 3
        assert tx.count_resources("dataset", parent_arn=GROUP) == 2
        assert tx.count_resources("dataset", statuses=("CREATE PENDING", "CREATE IN_PROGRESS")) == 2
        assert tx.count_resources("dataset", parent_arn=GROUP, statuses=("CREATE PENDING",)) == 1
        assert tx.count_resources("dataset", statuses=()) == 0
        assert tx.count_resources("schema") == 0


# -- tags -------------------------------------------------------------------------------------------------


def test_tags_put_replace_and_remove(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.put_tags(GROUP, {"team": "recs", "env": "dev"})
    with store.transaction() as tx:
        assert tx.tags(GROUP) == {"env": "dev", "team": "recs"}
        tx.put_tags(GROUP, {"env": "prod", "cost": "42"})
    with store.transaction() as tx:
        assert tx.tags(GROUP) == {"cost": "42", "env": "prod", "team": "recs"}
        tx.remove_tags(GROUP, ["team", "missing"])
    with store.transaction() as tx:
        assert tx.tags(GROUP) == {"cost": "42", "env": "prod"}
        assert tx.tags(OTHER_GROUP) == {}


def test_tags_are_listed_by_key(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.put_tags(GROUP, {"b": "1", "c": "2", "a": "3"})
        assert list(tx.tags(GROUP)) == ["a", "b", "c"]


def test_put_no_tags_is_a_no_op(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.put_tags(GROUP, {})
        assert tx.tags(GROUP) == {}


# -- jobs -------------------------------------------------------------------------------------------------


def test_claim_job(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.enqueue_job(JOB, "dataset-import", {"x": 1})
    with store.transaction() as tx:
        job = tx.claim_job()
    assert job is not None
    assert (job.arn, job.kind, job.state, job.attempts, job.payload) == (JOB, "dataset-import", "running", 1,
                                                                        {"x": 1})
    assert job.token
    with store.transaction() as tx:
        assert tx.claim_job() is None
        assert [(j.arn, j.attempts, j.token) for j in tx.running_jobs()] == [(JOB, 1, job.token)]


@pytest.mark.usefixtures("clock")
def test_claim_takes_the_oldest_job(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.enqueue_job(f"{JOB}-b", "activate", {})
        tx.enqueue_job(f"{JOB}-a", "activate", {})
    with store.transaction() as tx:
        first, second = tx.claim_job(), tx.claim_job()
    assert first is not None
    assert second is not None
    assert (first.arn, second.arn) == (f"{JOB}-b", f"{JOB}-a")
    assert first.token != second.token


def test_claim_with_nothing_queued(store: MetadataStore) -> None:
    with store.transaction() as tx:
        assert tx.claim_job() is None


def test_job_holds_only_for_the_current_token_while_running(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.enqueue_job(JOB, "dataset-import", {})
        first = tx.claim_job()
    assert first is not None
    assert first.token is not None
    with store.transaction() as tx:
        assert tx.job_holds(JOB, first.token)
        assert not tx.job_holds(JOB, "someone-else")
        assert not tx.job_holds(f"{JOB}-missing", first.token)
        tx.set_job_state(JOB, "queued")
    with store.transaction() as tx:
        assert not tx.job_holds(JOB, first.token)
        second = tx.claim_job()
    assert second is not None
    assert second.token is not None
    assert second.attempts == 2
    assert second.token != first.token
    with store.transaction() as tx:
        assert not tx.job_holds(JOB, first.token)
        assert tx.job_holds(JOB, second.token)
        tx.set_job_state(JOB, "done")
    with store.transaction() as tx:
        assert not tx.job_holds(JOB, second.token)
        assert tx.running_jobs() == []
        assert tx.claim_job() is None


def test_set_job_state_clears_the_token(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.enqueue_job(JOB, "dataset-import", {})
        tx.claim_job()
        tx.set_job_state(JOB, "failed")
        state, token = tx.connection.execute(text("SELECT state, token FROM jobs")).one()
    assert (state, token) == ("failed", None)


def test_job_progress(store: MetadataStore) -> None:
    with store.transaction() as tx:
        assert tx.job_progress(JOB) == (None, None)
        tx.enqueue_job(JOB, "dataset-import", {})
        assert tx.job_progress(JOB) == (None, None)
        tx.set_job_progress(JOB, "converting", 50.0)
        assert tx.job_progress(JOB) == ("converting", 50.0)
        assert tx.job_rows(JOB) is None
        tx.set_job_progress(JOB, "scoring", 60.0, JobRows(1200, 400.0, 2.5))
        assert tx.job_progress(JOB) == ("scoring", 60.0)
        assert tx.job_rows(JOB) == JobRows(1200, 400.0, 2.5)
        tx.set_job_progress(JOB, "publishing", 99.0)
        assert tx.job_rows(JOB) is None
        assert tx.job_rows("arn:nothing") is None


# -- dataset versions -------------------------------------------------------------------------------------


def test_publish_increments_versions(store: MetadataStore) -> None:
    with store.transaction() as tx:
        assert tx.current_dataset_version(DATASET) is None
        assert tx.publish_dataset_version(DATASET, ["a/1.parquet"], 10, JOB) == 1
        assert tx.publish_dataset_version(DATASET, ["a/1.parquet", "a/2.parquet"], 25, JOB) == 2
        assert tx.publish_dataset_version(f"{GROUP}/ITEMS", ["b/1.parquet"], 3, JOB) == 1
    with store.transaction() as tx:
        assert tx.current_dataset_version(DATASET) == DatasetVersion(DATASET, 2, ["a/1.parquet", "a/2.parquet"], 25)


def test_all_dataset_files(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.publish_dataset_version(DATASET, ["a/1.parquet"], 10, JOB)
        tx.publish_dataset_version(DATASET, ["a/2.parquet", "a/3.parquet"], 25, JOB)
        tx.publish_dataset_version(f"{GROUP}/ITEMS", ["b/1.parquet"], 3, JOB)
        assert tx.all_dataset_files(DATASET) == {"a/1.parquet", "a/2.parquet", "a/3.parquet"}
        assert tx.all_dataset_files(f"{GROUP}/USERS") == set()


def test_drop_versions_keeping_the_latest(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.publish_dataset_version(DATASET, ["a/1.parquet"], 10, JOB)
        tx.publish_dataset_version(DATASET, ["a/2.parquet"], 20, JOB)
        tx.publish_dataset_version(DATASET, ["a/3.parquet"], 30, JOB)
        tx.drop_dataset_versions(DATASET, keep_latest=True)
    with store.transaction() as tx:
        assert tx.current_dataset_version(DATASET) == DatasetVersion(DATASET, 3, ["a/3.parquet"], 30)
        assert tx.all_dataset_files(DATASET) == {"a/3.parquet"}
        assert tx.publish_dataset_version(DATASET, ["a/4.parquet"], 40, JOB) == 4


def test_drop_all_versions(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.publish_dataset_version(DATASET, ["a/1.parquet"], 10, JOB)
        tx.publish_dataset_version(f"{GROUP}/ITEMS", ["b/1.parquet"], 3, JOB)
        tx.drop_dataset_versions(DATASET, keep_latest=False)
    with store.transaction() as tx:
        assert tx.current_dataset_version(DATASET) is None
        assert tx.all_dataset_files(DATASET) == set()
        assert tx.all_dataset_files(f"{GROUP}/ITEMS") == {"b/1.parquet"}


def test_drop_versions_of_a_dataset_without_any(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.drop_dataset_versions(DATASET, keep_latest=True)
        assert tx.current_dataset_version(DATASET) is None


# -- migrations and concurrency ---------------------------------------------------------------------------


def test_migrate_twice_is_idempotent(tmp_path: Path) -> None:
    store = MetadataStore(f"sqlite:///{tmp_path}/m.db")
    try:
        store.migrate()
        with store.transaction() as tx:
            tx.insert_resource("dataset-group", GROUP, "movies", None, "ACTIVE", {})
        store.migrate()
        tables = set(inspect(store.engine).get_table_names())
        with store.transaction() as tx:
            assert tx.get_resource(GROUP) is not None
    finally:
        store.dispose()
    assert {"resources", "tags", "jobs", "dataset_versions", "alembic_version"} <= tables


def test_sqlite_uses_wal(sqlite_store: MetadataStore) -> None:
    with sqlite_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_concurrent_writers_do_not_see_database_is_locked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    setup = MetadataStore(url)
    setup.migrate()
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(prefix: str) -> None:
        store = MetadataStore(url)
        try:
            start.wait()
            for number in range(200):
                with store.transaction() as tx:
                    arn = f"arn:aws:personalize:us-east-1:000000000000:dataset-group/{prefix}{number}"
                    tx.insert_resource("dataset-group", arn, f"{prefix}{number}", None, "ACTIVE", {})
                    tx.count_resources("dataset-group")
        except BaseException as error:
            errors.append(error)
        finally:
            store.dispose()

    threads = [threading.Thread(target=writer, args=(prefix,)) for prefix in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == []
        with setup.transaction() as tx:
            assert tx.count_resources("dataset-group") == 400
    finally:
        setup.dispose()


def _event(group: str, event_id: str, item: str = "m1") -> dict[str, object]:
    return {"dataset_group_arn": group, "event_id": event_id, "session_id": "s", "user_id": "u", "item_id": item,
            "event_type": "watch", "event_value": None, "sent_at": 1.0, "properties": None,
            "recommendation_id": None, "impression": None, "kind": "item"}


def test_events_are_stored_once_per_group_and_event_id(store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.record_events([_event(GROUP, "e1"), _event(GROUP, "e1", "m2"), _event(OTHER_GROUP, "e1")])
    with store.transaction() as tx:
        tx.record_events([_event(GROUP, "e1", "m3"), _event(GROUP, "e2")])
        latest = tx.latest_event_id()
        stored = [(row.item_id, row.id) for row in tx.events_since(GROUP)]
    assert [item for item, _ in stored] == ["m1", "m1"]  # the first e1 and e2; the repeats were skipped
    assert latest == max(event_id for _, event_id in stored)


def test_a_large_batch_of_events_is_stored_in_order_once_per_event_id(store: MetadataStore) -> None:
    rows = [_event(GROUP, f"e{number % 1100}", f"m{number}") for number in range(1300)]  # the last 200 repeat
    with store.transaction() as tx:
        tx.record_events(rows)
        stored = [row.item_id for row in tx.events_since(GROUP)]
    assert stored == [f"m{number}" for number in range(1100)]



def test_the_event_recorder_stores_batches_once_per_event_id_and_returns_the_newest_id(store: MetadataStore) -> None:
    recorder = EventRecorder(store)
    first = recorder.record([_event(GROUP, "e1"), _event(GROUP, "e1", "m2"), _event(OTHER_GROUP, "e1")])
    second = recorder.record([_event(GROUP, "e1", "m3"), _event(GROUP, "e2", "m4")])
    with store.reading() as tx:
        stored = [(row.id, row.item_id) for row in tx.events_since(GROUP)]
        assert second == tx.latest_event_id() > first
    assert [item for _, item in stored] == ["m1", "m4"]
    with pytest.raises(KeyError):  # a malformed batch stores nothing, and the recorder goes on
        recorder.record([_event(GROUP, "e3"), {"dataset_group_arn": GROUP}])
    assert recorder.record([_event(GROUP, "e3", "m5")]) > second
    with store.reading() as tx:
        assert [row.item_id for row in tx.events_since(GROUP)] == ["m1", "m4", "m5"]


def test_the_event_recorder_stores_nothing_while_another_connection_holds_the_write_lock(
        sqlite_store: MetadataStore) -> None:
    store = sqlite_store
    recorder = EventRecorder(store)
    with store.transaction() as tx:  # BEGIN IMMEDIATE: holds SQLite's write lock
        tx.record_events([_event(GROUP, "e1", "m1")])
        started = time.perf_counter()
        assert recorder.record([_event(GROUP, "e2", "m2")]) is None
        assert time.perf_counter() - started < 0.5  # it did not wait out the store's 30 s busy timeout
    assert recorder.record([_event(GROUP, "e2", "m2")]) is not None
    with store.reading() as tx:
        assert [row.item_id for row in tx.events_since(GROUP)] == ["m1", "m2"]


def test_a_failed_event_batch_is_rolled_back(store: MetadataStore, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = EventRecorder(store)
    recorder.record([_event(GROUP, "e0", "m0")])
    real = metadata_module._LATEST_EVENT
    monkeypatch.setattr(metadata_module, "_LATEST_EVENT", "SELECT no_such_column FROM events")
    with pytest.raises(Exception, match="no_such_column"):
        recorder.record([_event(GROUP, "e1", "m1")])  # inserted, then the transaction fails
    monkeypatch.setattr(metadata_module, "_LATEST_EVENT", real)
    with store.reading() as tx:
        assert [row.item_id for row in tx.events_since(GROUP)] == ["m0"]


def test_the_event_reader_sees_every_commit_as_it_happens(store: MetadataStore) -> None:
    reader = EventReader(store)
    assert reader.since(GROUP, 0, "item") == []
    with store.transaction() as tx:
        tx.record_events([_event(GROUP, "e1"), _event(OTHER_GROUP, "e1"), dict(_event(GROUP, "a1"), kind="action")])
    found = reader.since(GROUP, 0, "item")
    assert [(event.user_id, event.item_id, event.event_type, event.sent_at) for event in found] == [
        ("u", "m1", "watch", 1.0)]
    EventRecorder(store).record([_event(GROUP, "e2", "m2")])  # another connection: no stale snapshot here
    assert [event.item_id for event in reader.since(GROUP, found[0].id, "item")] == ["m2"]
    assert [event.event_type for event in reader.since(GROUP, 0, "action")] == ["watch"]

"""The metadata store: resources, tags, the job queue and data set versions, in SQLite or PostgreSQL.

Every write happens in `MetadataStore.transaction()`. On SQLite that is `BEGIN IMMEDIATE` with WAL and a
busy timeout, so the server and its job processes never see "database is locked".
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError

from reelrank.errors import ResourceAlreadyExistsException
from reelrank.store.tables import dataset_versions, events, jobs, records, resources, tags

_MIGRATIONS = Path(__file__).parent / "migrations"
_INSERTS_IGNORING_CONFLICTS: dict[str, Any] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
SQLITE_BUSY_TIMEOUT_MS = 30_000
_READ_ONLY = "reelrank_read_only"


@dataclass(frozen=True)
class Resource:
    arn: str
    kind: str
    name: str
    parent_arn: str | None
    status: str | None
    created_at: float
    updated_at: float
    body: dict[str, Any]


@dataclass(frozen=True)
class Job:
    arn: str
    kind: str
    state: str
    attempts: int
    token: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class JobRows:
    """How far a job that counts rows (batch jobs) has got."""

    done: int
    per_second: float | None = None
    eta_seconds: float | None = None
    """Estimated seconds left; None while unknown."""


@dataclass(frozen=True)
class DatasetVersion:
    dataset_arn: str
    version: int
    files: list[str]
    rows: int


def create_metadata_engine(url: str, *, background_checkpoints: bool = False) -> Engine:
    """With `background_checkpoints`, SQLite commits never copy the write-ahead log into the database themselves
    (that copy ends in an fsync, which on a slow disk held the committing event writer, and every request waiting
    for it, for hundreds of milliseconds): a `Checkpointer` thread does it instead."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below open transactions
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if background_checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


class MetadataStore:
    def __init__(self, url: str, *, background_checkpoints: bool = False) -> None:
        self.engine = create_metadata_engine(url, background_checkpoints=background_checkpoints)

    def checkpoint(self) -> None:
        """Copy what the write-ahead log holds into the database (SQLite, PASSIVE: it waits for no reader or writer;
        nothing to do elsewhere)."""
        if self.engine.dialect.name != "sqlite":
            return
        connection = self.engine.raw_connection()  # outside any transaction, where a checkpoint must run
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").close()
        finally:
            connection.close()

    def migrate(self) -> None:
        from alembic import command  # only needed at start-up, not in job processes
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.engine.begin() as connection:
            yield Transaction(connection)

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        """A read-only transaction: on SQLite a deferred one, which never waits for writers."""
        with self.engine.connect() as connection:
            connection.execution_options(**{_READ_ONLY: True})
            with connection.begin():
                yield Transaction(connection)

    def dispose(self) -> None:
        self.engine.dispose()


EVENT_COLUMNS = ("dataset_group_arn", "event_id", "session_id", "user_id", "item_id", "event_type", "event_value",
                 "sent_at", "properties", "recommendation_id", "impression", "kind")
_LATEST_EVENT = "SELECT max(id) FROM events"


@cache
def _event_insert(dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
    """The events INSERT … ON CONFLICT DO NOTHING as the driver's SQL, compiled once: under PutEvents load building
    and compiling it for every commit cost more than SQLite's work. Also the column order of positional drivers."""
    if dialect.name not in _INSERTS_IGNORING_CONFLICTS:
        raise NotImplementedError(f"events need INSERT … ON CONFLICT DO NOTHING, which {dialect.name} lacks")
    statement = _INSERTS_IGNORING_CONFLICTS[dialect.name](events).on_conflict_do_nothing(
        index_elements=[events.c.dataset_group_arn, events.c.event_id])
    compiled = statement.compile(dialect=dialect, column_keys=list(EVENT_COLUMNS))
    order = compiled.positiontup
    return str(compiled), None if order is None else tuple(order)


class LiveEvent(NamedTuple):
    """A stored event as the live histories read it (the columns of `Transaction.events_since`)."""

    id: int
    user_id: str | None
    session_id: str
    item_id: str | None
    event_type: str
    event_value: float | None
    sent_at: float


class _OwnConnection:
    """A database connection of its own (the driver's, outside SQLAlchemy's pool and transactions), opened on first
    use, one caller at a time: for the live-event paths that run hundreds of times a second in every server process,
    where SQLAlchemy's check-out, BEGIN and COMMIT cost as much as the database's own work or more. On SQLite it is in
    autocommit mode (see `create_metadata_engine`): a lone query is its own read transaction."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store
        self.dialect = store.engine.dialect
        self._connection: Any = None
        self._lock = threading.Lock()

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        with self._lock:
            if self._connection is None:
                self._connection = self.store.engine.raw_connection()
                self._opened(self._connection)
            cursor = self._connection.cursor()
            try:
                yield cursor
                cursor.close()
                self._connection.commit()  # ends the transaction (on SQLite only an explicit one)
            except BaseException:
                with contextlib.suppress(Exception):
                    cursor.close()
                self._forget()  # rolls back; the next use opens a fresh connection (this one may be broken)
                raise

    def _opened(self, connection: Any) -> None:
        """Set up a newly opened connection."""

    def _forget(self) -> None:
        connection, self._connection = self._connection, None
        with contextlib.suppress(Exception):
            connection.rollback()
        with contextlib.suppress(Exception):
            connection.close()


class EventReader(_OwnConnection):
    """Reads the events stored after a given one: the live histories poll for them up to 50 times a second in every
    server process (740 µs of CPU a poll through a store transaction on SQLite, 28 µs here)."""

    def since(self, dataset_group_arn: str, after_id: int, kind: str) -> list[LiveEvent]:
        sql, order = _events_since(self.dialect)
        values = {"dataset_group_arn": dataset_group_arn, "id": after_id, "kind": kind}
        with self.cursor() as cursor:
            cursor.execute(sql, values if order is None else tuple(values[name] for name in order))
            rows = cursor.fetchall()
        return [LiveEvent._make(row) for row in rows]


class EventRecorder(_OwnConnection):
    """Stores a batch of events in one transaction, for the event writer: `Transaction.record_events` and
    `latest_event_id` without SQLAlchemy's transaction around them (0.24 against 0.45-0.51 ms of CPU a commit of 10
    events on SQLite).

    On SQLite it never waits for the write lock (the writer commits on the event loop): while another connection
    holds it, `record` stores nothing and returns None at once."""

    def _opened(self, connection: Any) -> None:
        if self.dialect.name == "sqlite":
            connection.execute("PRAGMA busy_timeout=0")

    def record(self, rows: list[dict[str, Any]]) -> int | None:
        """Store `rows` (as `Transaction.record_events`) and return the newest stored event id; None if SQLite's
        write lock is taken."""
        with self.cursor() as cursor:
            if self.dialect.name == "sqlite" and not _began_immediately(cursor):
                return None
            if rows:
                cursor.executemany(*_event_parameters(self.dialect, rows))
            cursor.execute(_LATEST_EVENT)
            latest = cursor.fetchone()[0]
        return int(latest or 0)


def _began_immediately(cursor: Any) -> bool:
    """BEGIN IMMEDIATE on a SQLite cursor without a busy timeout: False if another connection holds the write lock."""
    try:
        cursor.execute("BEGIN IMMEDIATE")  # the write lock now, as the store's transactions take it
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:  # also its extended codes
            return False
        raise
    return True


_EVENTS_SINCE = (select(events.c.id, events.c.user_id, events.c.session_id, events.c.item_id, events.c.event_type,
                        events.c.event_value, events.c.sent_at)
                 .where(events.c.dataset_group_arn == bindparam("dataset_group_arn"), events.c.id > bindparam("id"),
                        events.c.kind == bindparam("kind"))
                 .order_by(events.c.id))
"""The events of a dataset group and kind after a given id (the columns of `LiveEvent`)."""


@cache
def _events_since(dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
    """`_EVENTS_SINCE` as the driver's SQL, and the order of its parameters for positional drivers."""
    compiled = _EVENTS_SINCE.compile(dialect=dialect)
    order = compiled.positiontup
    return str(compiled), None if order is None else tuple(order)


def _event_parameters(dialect: Dialect, rows: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    """The events INSERT and its parameters, one set per row, for the dialect's driver."""
    sql, order = _event_insert(dialect)
    if order is None:  # a driver with named parameters
        return sql, [{name: row[name] for name in EVENT_COLUMNS} for row in rows]
    return sql, [tuple(row[name] for name in order) for row in rows]


def _resource(row: Any) -> Resource:
    return Resource(row.arn, row.kind, row.name, row.parent_arn, row.status, row.created_at, row.updated_at,
                    dict(row.body))


def _job(row: Any) -> Job:
    return Job(row.arn, row.kind, row.state, row.attempts, row.token, dict(row.payload))


class Transaction:
    """Reads and writes inside one database transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # resources
    def insert_resource(self, kind: str, arn: str, name: str, parent_arn: str | None, status: str | None,
                        body: dict[str, Any]) -> Resource:
        now = time.time()
        try:
            with self.connection.begin_nested():
                self.connection.execute(insert(resources).values(
                    arn=arn, kind=kind, name=name, parent_arn=parent_arn, status=status, created_at=now,
                    updated_at=now, body=body))
        except IntegrityError:
            raise ResourceAlreadyExistsException(f"Resource with ARN {arn} already exists.") from None
        return Resource(arn, kind, name, parent_arn, status, now, now, body)

    def get_resource(self, arn: str) -> Resource | None:
        row = self.connection.execute(select(resources).where(resources.c.arn == arn)).first()
        return None if row is None else _resource(row)

    def update_resource(self, arn: str, *, status: str | None = None,
                        body: dict[str, Any] | None = None) -> None:
        values: dict[str, Any] = {"updated_at": time.time()}
        if status is not None:
            values["status"] = status
        if body is not None:
            values["body"] = body
        self.connection.execute(update(resources).where(resources.c.arn == arn).values(**values))

    def delete_resource(self, arn: str) -> None:
        self.connection.execute(delete(resources).where(resources.c.arn == arn))
        self.connection.execute(delete(tags).where(tags.c.arn == arn))

    def list_resources(self, kind: str, parent_arn: str | None = None, offset: int = 0,
                       limit: int | None = None, newest_first: bool = False) -> list[Resource]:
        query = select(resources).where(resources.c.kind == kind)
        if parent_arn is not None:
            query = query.where(resources.c.parent_arn == parent_arn)
        order = (resources.c.created_at.desc(), resources.c.arn) if newest_first else (
            resources.c.created_at, resources.c.arn)
        query = query.order_by(*order).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        return [_resource(row) for row in self.connection.execute(query)]

    def count_resources(self, kind: str, parent_arn: str | None = None,
                        statuses: tuple[str, ...] | None = None) -> int:
        query = select(func.count()).select_from(resources).where(resources.c.kind == kind)
        if parent_arn is not None:
            query = query.where(resources.c.parent_arn == parent_arn)
        if statuses is not None:
            query = query.where(resources.c.status.in_(statuses))
        return int(self.connection.execute(query).scalar_one())

    def child_kinds(self, parent_arn: str) -> list[str]:
        query = select(resources.c.kind).where(resources.c.parent_arn == parent_arn).distinct()
        return [row.kind for row in self.connection.execute(query)]

    # tags
    def tags(self, arn: str) -> dict[str, str]:
        rows = self.connection.execute(select(tags).where(tags.c.arn == arn).order_by(tags.c.key))
        return {row.key: row.value for row in rows}

    def put_tags(self, arn: str, new_tags: dict[str, str]) -> None:
        if not new_tags:
            return
        self.connection.execute(delete(tags).where(and_(tags.c.arn == arn, tags.c.key.in_(list(new_tags)))))
        self.connection.execute(insert(tags), [{"arn": arn, "key": k, "value": v} for k, v in new_tags.items()])

    def remove_tags(self, arn: str, keys: list[str]) -> None:
        self.connection.execute(delete(tags).where(and_(tags.c.arn == arn, tags.c.key.in_(keys))))

    # jobs
    def enqueue_job(self, arn: str, kind: str, payload: dict[str, Any]) -> None:
        now = time.time()
        self.connection.execute(insert(jobs).values(arn=arn, kind=kind, state="queued", attempts=0,
                                                    payload=payload, created_at=now, updated_at=now))

    def claim_job(self, kinds: Collection[str] | None = None) -> Job | None:
        """Take the oldest queued job (of `kinds`, when given): it becomes running under a fresh token."""
        query = select(jobs).where(jobs.c.state == "queued")
        if kinds is not None:
            query = query.where(jobs.c.kind.in_(list(kinds)))
        row = self.connection.execute(query.order_by(jobs.c.created_at).limit(1)).first()
        if row is None:
            return None
        token = uuid.uuid4().hex
        self.connection.execute(update(jobs).where(jobs.c.arn == row.arn).values(
            state="running", token=token, attempts=row.attempts + 1, updated_at=time.time()))
        return Job(row.arn, row.kind, "running", row.attempts + 1, token, dict(row.payload))

    def requeue_job(self, arn: str) -> None:
        """Run a finished job again (a recommender's weekly retraining)."""
        self.connection.execute(update(jobs).where(jobs.c.arn == arn).values(
            state="queued", token=None, attempts=0, updated_at=time.time()))

    def running_jobs(self) -> list[Job]:
        return [_job(row) for row in self.connection.execute(select(jobs).where(jobs.c.state == "running"))]

    def job_holds(self, arn: str, token: str) -> bool:
        """Whether `token` still owns the job: a restart or a stop takes it away."""
        row = self.connection.execute(select(jobs.c.token, jobs.c.state).where(jobs.c.arn == arn)).first()
        return row is not None and row.state == "running" and row.token == token

    def set_job_state(self, arn: str, state: str) -> None:
        self.connection.execute(update(jobs).where(jobs.c.arn == arn).values(
            state=state, token=None, updated_at=time.time()))

    def set_job_progress(self, arn: str, stage: str, percent: float, rows: JobRows | None = None) -> None:
        """The job's stage and percent done; `rows` for jobs that count rows (None clears them)."""
        self.connection.execute(update(jobs).where(jobs.c.arn == arn).values(
            stage=stage, percent=percent, rows_done=rows.done if rows else None,
            rows_per_second=rows.per_second if rows else None, eta_seconds=rows.eta_seconds if rows else None,
            updated_at=time.time()))

    def job_state(self, arn: str) -> str | None:
        row = self.connection.execute(select(jobs.c.state).where(jobs.c.arn == arn)).first()
        return None if row is None else str(row.state)

    def job_progress(self, arn: str) -> tuple[str | None, float | None]:
        row = self.connection.execute(select(jobs.c.stage, jobs.c.percent).where(jobs.c.arn == arn)).first()
        return (None, None) if row is None else (row.stage, row.percent)

    def job_rows(self, arn: str) -> JobRows | None:
        """The rows counted by the job's last progress report, or None when it counts none."""
        row = self.connection.execute(select(jobs.c.rows_done, jobs.c.rows_per_second, jobs.c.eta_seconds)
                                      .where(jobs.c.arn == arn)).first()
        if row is None or row.rows_done is None:
            return None
        return JobRows(int(row.rows_done), row.rows_per_second, row.eta_seconds)

    # data set versions
    def current_dataset_version(self, dataset_arn: str) -> DatasetVersion | None:
        row = self.connection.execute(
            select(dataset_versions).where(dataset_versions.c.dataset_arn == dataset_arn)
            .order_by(dataset_versions.c.version.desc()).limit(1)).first()
        return None if row is None else DatasetVersion(row.dataset_arn, row.version, list(row.files), row.rows)

    def publish_dataset_version(self, dataset_arn: str, files: list[str], rows: int, source: str) -> int:
        current = self.current_dataset_version(dataset_arn)
        version = 1 if current is None else current.version + 1
        self.connection.execute(insert(dataset_versions).values(
            dataset_arn=dataset_arn, version=version, files=files, rows=rows, source=source,
            created_at=time.time()))
        return version

    def all_dataset_files(self, dataset_arn: str) -> set[str]:
        rows = self.connection.execute(
            select(dataset_versions.c.files).where(dataset_versions.c.dataset_arn == dataset_arn))
        return {name for row in rows for name in row.files}

    def drop_dataset_versions(self, dataset_arn: str, keep_latest: bool) -> None:
        query = delete(dataset_versions).where(dataset_versions.c.dataset_arn == dataset_arn)
        current = self.current_dataset_version(dataset_arn)
        if keep_latest and current is not None:
            query = query.where(dataset_versions.c.version < current.version)
        self.connection.execute(query)

    # events (PutEvents)
    def record_events(self, rows: list[dict[str, Any]]) -> None:
        """Insert events; one whose (dataset group, eventId) is stored already, or earlier in `rows`, is skipped (an
        SDK retry repeats an eventId). Every row has every column of `EVENT_COLUMNS`."""
        if not rows:
            return
        self.connection.exec_driver_sql(*_event_parameters(self.connection.dialect, rows))

    def latest_event_id(self) -> int:
        return int(self.connection.exec_driver_sql(_LATEST_EVENT).scalar() or 0)

    def events_detail(self, dataset_group_arn: str, kind: str = "item") -> list[Any]:
        """Every column of a dataset group's stored events of `kind`, oldest first."""
        query = select(events).where(events.c.dataset_group_arn == dataset_group_arn, events.c.kind == kind)
        return list(self.connection.execute(query.order_by(events.c.id)))

    def events_since(self, dataset_group_arn: str, after_id: int = 0, kind: str = "item") -> Sequence[Any]:
        return self.connection.execute(_EVENTS_SINCE, {"dataset_group_arn": dataset_group_arn, "id": after_id,
                                                       "kind": kind}).all()

    # records put one by one (PutItems, PutUsers, PutActions)
    def put_records(self, dataset_arn: str, rows: dict[str, dict[str, Any]]) -> None:
        """Upsert records by ID: a later put replaces the earlier record."""
        self.connection.execute(delete(records).where(records.c.dataset_arn == dataset_arn,
                                                      records.c.record_id.in_(list(rows))))
        now = time.time()
        self.connection.execute(insert(records), [
            {"dataset_arn": dataset_arn, "record_id": key, "fields": value, "updated_at": now}
            for key, value in rows.items()])

    def put_records_stamp(self, dataset_arn: str) -> tuple[int, float | None]:
        """How many records were put into the data set, and when the last was: changes whenever one is put."""
        row = self.connection.execute(select(func.count(), func.max(records.c.updated_at))
                                      .where(records.c.dataset_arn == dataset_arn)).one()
        return int(row[0]), row[1]

    def put_records_of(self, dataset_arn: str) -> list[dict[str, Any]]:
        query = select(records.c.fields).where(records.c.dataset_arn == dataset_arn).order_by(records.c.updated_at)
        return [dict(row.fields) for row in self.connection.execute(query)]

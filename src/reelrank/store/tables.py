"""The metadata tables. Schema changes go through a new Alembic migration in `migrations/versions`."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Float, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

resources = Table(
    "resources",
    metadata,
    Column("arn", String(512), primary_key=True),
    Column("kind", String(64), nullable=False, index=True),
    Column("name", String(256), nullable=False),
    Column("parent_arn", String(512), index=True),
    Column("status", String(64)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("body", JSON, nullable=False),
)

tags = Table(
    "tags",
    metadata,
    Column("arn", String(512), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("arn", String(512), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("token", String(64)),
    Column("payload", JSON, nullable=False),
    Column("stage", Text),
    Column("percent", Float),
    Column("rows_done", BigInteger),
    Column("rows_per_second", Float),
    Column("eta_seconds", Float),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("dataset_arn", String(512), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("files", JSON, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("source", String(512)),
    Column("created_at", Float, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_group_arn", String(512), nullable=False),
    Column("event_id", String(256), nullable=False),
    Column("session_id", String(256), nullable=False),
    Column("user_id", String(256)),
    Column("item_id", String(256)),
    Column("event_type", String(256), nullable=False),
    Column("event_value", Float),
    Column("sent_at", Float, nullable=False),
    Column("properties", Text),
    Column("recommendation_id", String(64)),
    Column("impression", Text),
    # `item` (PutEvents: item_id names an item) or `action` (PutActionInteractions: item_id names an action)
    Column("kind", String(16), nullable=False, server_default="item"),
    UniqueConstraint("dataset_group_arn", "event_id", name="uq_events_group_event_id"),
)

records = Table(
    "records",
    metadata,
    Column("dataset_arn", String(512), primary_key=True),
    Column("record_id", String(256), primary_key=True),
    Column("fields", JSON, nullable=False),
    Column("updated_at", Float, nullable=False),
)

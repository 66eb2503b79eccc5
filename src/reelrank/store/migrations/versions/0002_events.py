"""Events recorded with PutEvents: the live part of item interactions.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_group_arn", sa.String(512), nullable=False),
        sa.Column("event_id", sa.String(256), nullable=False),
        sa.Column("session_id", sa.String(256), nullable=False),
        sa.Column("user_id", sa.String(256)),
        sa.Column("item_id", sa.String(256)),
        sa.Column("event_type", sa.String(256), nullable=False),
        sa.Column("event_value", sa.Float),
        sa.Column("sent_at", sa.Float, nullable=False),
        sa.Column("properties", sa.Text),
        sa.Column("recommendation_id", sa.String(64)),
        sa.Column("impression", sa.Text),
        sa.UniqueConstraint("dataset_group_arn", "event_id", name="uq_events_group_event_id"),
    )
    op.create_index("ix_events_group_id", "events", ["dataset_group_arn", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_group_id", "events")
    op.drop_table("events")

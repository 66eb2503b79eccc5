"""Action interactions recorded with PutActionInteractions share the events table, told apart by `kind`.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="item"))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("kind")

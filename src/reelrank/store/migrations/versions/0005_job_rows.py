"""Row counts in job progress: rows done, rows per second and the estimated seconds left (batch jobs).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("rows_done", sa.BigInteger))
        batch.add_column(sa.Column("rows_per_second", sa.Float))
        batch.add_column(sa.Column("eta_seconds", sa.Float))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("eta_seconds")
        batch.drop_column("rows_per_second")
        batch.drop_column("rows_done")

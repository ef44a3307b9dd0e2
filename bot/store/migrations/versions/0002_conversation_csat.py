"""The customer's end-of-conversation rating (CSAT) on conversations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain nullable columns: SQLite adds them without rebuilding the table.
    op.add_column("conversations", sa.Column("csat_score", sa.SmallInteger(), nullable=True))
    op.add_column("conversations", sa.Column("csat_comment", sa.Text(), nullable=True))
    op.add_column("conversations", sa.Column("csat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("csat_at")
        batch.drop_column("csat_comment")
        batch.drop_column("csat_score")

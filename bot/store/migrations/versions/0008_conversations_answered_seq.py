"""How far each conversation's customer has been answered (``conversations.answered_seq``).

Messages after it were written outside the customer's turns (agents, pushed order
updates); a REST sender, who has no live connection, receives them with their next
reply. Existing conversations count as answered up to their last message.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A server default lets SQLite add the NOT NULL column without rebuilding the table.
    op.add_column("conversations", sa.Column("answered_seq", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE conversations SET answered_seq = last_seq")


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("answered_seq")

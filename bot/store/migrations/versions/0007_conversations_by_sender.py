"""An index of every conversation (open or resolved) by its sender.

The partial unique index covers open conversations only; when a sender's new
conversation opens, the engine looks up the one before it (resolved) for what an agent
wrote last, which without this index is a scan of all conversations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_conversations_channel_external_id", "conversations", ["channel", "external_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_conversations_channel_external_id", table_name="conversations")

"""Telegram: chats (language, promotions consent), the outbox of sends, broadcasts,
sweep cursors, long callback payloads and the sender lease.

Revision ID: 0004
Revises: 0003
Create Date: 2026-01-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "telegram_chats",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("language_code", sa.String(length=16), nullable=True),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("lang_fixed", sa.Boolean(), nullable=False),
        sa.Column("promo", sa.Boolean(), nullable=True),
        _timestamp("promo_at", nullable=True),
        _timestamp("blocked_at", nullable=True),
        sa.Column("keyboard_shown", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint("lang IN ('id', 'en')", name=op.f("ck_telegram_chats_lang")),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_telegram_chats")),
    )
    op.create_index("ix_telegram_chats_promo", "telegram_chats", ["promo"])

    op.create_table(
        "telegram_broadcasts",
        sa.Column("id", ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        _timestamp("started_at", nullable=True),
        _timestamp("finished_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'done')", name=op.f("ck_telegram_broadcasts_status")
        ),
        sa.CheckConstraint(
            "lang IS NULL OR lang IN ('id', 'en')", name=op.f("ck_telegram_broadcasts_lang")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_broadcasts")),
    )

    op.create_table(
        "telegram_outbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", ID, nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("broadcast_id", ID, nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("next_attempt_at"),
        _timestamp("created_at"),
        _timestamp("sent_at", nullable=True),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('message', 'notice', 'broadcast')", name=op.f("ck_telegram_outbox_kind")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'blocked')",
            name=op.f("ck_telegram_outbox_status"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_telegram_outbox_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["telegram_broadcasts.id"],
            name=op.f("fk_telegram_outbox_broadcast_id_telegram_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_telegram_outbox_dedupe_key")),
    )
    op.create_index("ix_telegram_outbox_status_chat_id", "telegram_outbox", ["status", "chat_id"])
    op.create_index(
        "ix_telegram_outbox_broadcast_id_status", "telegram_outbox", ["broadcast_id", "status"]
    )

    op.create_table(
        "telegram_cursors",
        sa.Column("conversation_id", ID, autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("swept_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_telegram_cursors_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_telegram_cursors")),
    )

    op.create_table(
        "telegram_callbacks",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_telegram_callbacks")),
    )

    op.create_table(
        "telegram_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        _timestamp("expires_at"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_telegram_leases")),
    )


def downgrade() -> None:
    op.drop_table("telegram_leases")
    op.drop_table("telegram_callbacks")
    op.drop_table("telegram_cursors")
    op.drop_index("ix_telegram_outbox_broadcast_id_status", table_name="telegram_outbox")
    op.drop_index("ix_telegram_outbox_status_chat_id", table_name="telegram_outbox")
    op.drop_table("telegram_outbox")
    op.drop_table("telegram_broadcasts")
    op.drop_index("ix_telegram_chats_promo", table_name="telegram_chats")
    op.drop_table("telegram_chats")

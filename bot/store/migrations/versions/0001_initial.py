"""Initial schema: customers, their channel identities, conversations, messages.

Revision ID: 0001
Revises:
Create Date: 2026-01-01

Types are spelled out here rather than imported from the models: a migration is
a snapshot and must not change when the models do later.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
NULLABLE_JSON = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
)
OPEN_CONVERSATION_WHERE = sa.text("status != 'resolved'")


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", ID, nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("lang", sa.String(length=5), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint("lang IN ('id', 'en')", name=op.f("ck_customers_lang")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )

    op.create_table(
        "channel_identities",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_channel_identities_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_identities")),
        sa.UniqueConstraint(
            "channel", "external_id", name=op.f("uq_channel_identities_channel_external_id")
        ),
    )
    op.create_index(
        op.f("ix_channel_identities_customer_id"), "channel_identities", ["customer_id"]
    )

    op.create_table(
        "conversations",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("last_message_at", nullable=True),
        _timestamp("first_customer_message_at", nullable=True),
        _timestamp("first_response_at", nullable=True),
        _timestamp("handoff_at", nullable=True),
        _timestamp("first_agent_response_at", nullable=True),
        _timestamp("resolved_at", nullable=True),
        sa.CheckConstraint("lang IN ('id', 'en')", name=op.f("ck_conversations_lang")),
        sa.CheckConstraint(
            "status IN ('bot', 'waiting_for_agent', 'with_agent', 'resolved')",
            name=op.f("ck_conversations_status"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_conversations_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index(op.f("ix_conversations_customer_id"), "conversations", ["customer_id"])
    # At most one open conversation per sender; also the per-turn lookup index.
    op.create_index(
        "uq_conversations_open",
        "conversations",
        ["channel", "external_id"],
        unique=True,
        sqlite_where=OPEN_CONVERSATION_WHERE,
        postgresql_where=OPEN_CONVERSATION_WHERE,
    )

    op.create_table(
        "messages",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sender_type", sa.String(length=16), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", JSON, nullable=False),
        sa.Column("attachments", JSON, nullable=False),
        sa.Column("nlu", NULLABLE_JSON, nullable=True),
        sa.Column("client_id", sa.String(length=128), nullable=True),
        _timestamp("created_at"),
        sa.CheckConstraint(
            "sender_type IN ('customer', 'bot', 'agent', 'system')",
            name=op.f("ck_messages_sender_type"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_messages_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "conversation_id", "client_id", name=op.f("uq_messages_conversation_id_client_id")
        ),
        sa.UniqueConstraint(
            "conversation_id", "seq", name=op.f("uq_messages_conversation_id_seq")
        ),
    )


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_index("uq_conversations_open", table_name="conversations")
    op.drop_index(op.f("ix_conversations_customer_id"), table_name="conversations")
    op.drop_table("conversations")
    op.drop_index(op.f("ix_channel_identities_customer_id"), table_name="channel_identities")
    op.drop_table("channel_identities")
    op.drop_table("customers")

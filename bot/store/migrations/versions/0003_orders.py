"""Orders: orders, order lines, order events, payment submissions, stock levels,
counters (readable order numbers), staff accounts (agents) and the outbox of
messages pushed to customers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-01-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", ID, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("customer_name", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("city", sa.String(length=255), nullable=False),
        sa.Column("courier", sa.String(length=64), nullable=False),
        sa.Column("courier_name", sa.String(length=128), nullable=False),
        sa.Column("tracking_number", sa.String(length=64), nullable=True),
        sa.Column("payment_method", sa.String(length=32), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("shipping_cost", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source_key", sa.String(length=255), nullable=False),
        _timestamp("payment_due_at"),
        _timestamp("reminded_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint(
            "status IN ('pending_payment', 'payment_submitted', 'paid', 'shipped', "
            "'delivered', 'cancelled')",
            name=op.f("ck_orders_status"),
        ),
        sa.CheckConstraint(
            "payment_method IN ('bank_transfer', 'ewallet')",
            name=op.f("ck_orders_payment_method"),
        ),
        sa.CheckConstraint("lang IN ('id', 'en')", name=op.f("ck_orders_lang")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_orders_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_orders_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_orders_number")),
        sa.UniqueConstraint("source_key", name=op.f("uq_orders_source_key")),
    )
    op.create_index(op.f("ix_orders_customer_id"), "orders", ["customer_id"])
    op.create_index("ix_orders_status_payment_due_at", "orders", ["status", "payment_due_at"])
    op.create_index("ix_orders_channel_external_id", "orders", ["channel", "external_id"])

    op.create_table(
        "order_lines",
        sa.Column("id", ID, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("product_sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("options", JSON, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("weight_grams", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_lines_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
        sa.UniqueConstraint(
            "order_id", "position", name=op.f("uq_order_lines_order_id_position")
        ),
    )

    op.create_table(
        "order_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        _timestamp("at"),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_events_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    op.create_index(op.f("ix_order_events_order_id"), "order_events", ["order_id"])

    op.create_table(
        "payment_submissions",
        sa.Column("id", ID, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("bank", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("sender_name", sa.String(length=255), nullable=False),
        sa.Column("proof_url", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        _timestamp("submitted_at"),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("verdict_by", sa.String(length=128), nullable=True),
        _timestamp("verdict_at", nullable=True),
        sa.Column("verdict_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "verdict IN ('verified', 'rejected')", name=op.f("ck_payment_submissions_verdict")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_payment_submissions_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_submissions")),
    )
    op.create_index(
        op.f("ix_payment_submissions_order_id"), "payment_submissions", ["order_id"]
    )

    op.create_table(
        "stock_levels",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("catalog_stock", sa.Integer(), nullable=True),
        _timestamp("updated_at"),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_stock_levels_on_hand")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_stock_levels_reserved")),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_stock_levels")),
    )

    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )

    op.create_table(
        "agents",
        sa.Column("id", ID, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _timestamp("last_login_at", nullable=True),
        sa.CheckConstraint("role IN ('agent', 'admin')", name=op.f("ck_agents_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("username", name=op.f("uq_agents_username")),
    )

    op.create_table(
        "outbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        _timestamp("created_at"),
        _timestamp("claimed_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("relayed_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_outbox_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_outbox_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(op.f("ix_outbox_relayed_at"), "outbox", ["relayed_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_relayed_at"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("agents")
    op.drop_table("counters")
    op.drop_table("stock_levels")
    op.drop_index(op.f("ix_payment_submissions_order_id"), table_name="payment_submissions")
    op.drop_table("payment_submissions")
    op.drop_index(op.f("ix_order_events_order_id"), table_name="order_events")
    op.drop_table("order_events")
    op.drop_table("order_lines")
    op.drop_index("ix_orders_channel_external_id", table_name="orders")
    op.drop_index("ix_orders_status_payment_due_at", table_name="orders")
    op.drop_index(op.f("ix_orders_customer_id"), table_name="orders")
    op.drop_table("orders")

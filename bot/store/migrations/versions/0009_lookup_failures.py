"""Failed proofs of order ownership, counted per order number (``lookup_failures``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lookup_failures",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lookup_failures")),
    )
    op.create_index(
        "ix_lookup_failures_order_number_failed_at", "lookup_failures", ["order_number", "failed_at"]
    )
    op.create_index(op.f("ix_lookup_failures_failed_at"), "lookup_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_table("lookup_failures")

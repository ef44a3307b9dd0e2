"""The database schema as SQLAlchemy 2 declarative models.

These models are the source of truth that Alembic's autogenerate compares the
migrations against (``tests/store/test_migrations.py`` keeps them in step).
The store's hot path uses their tables through SQLAlchemy Core; the ORM
classes are for migrations, reports and tooling.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.store.columns import Id, Json, NullableJson, UTCDateTime

# Explicit constraint names, so later migrations (and SQLite batch mode, which
# recreates tables) can refer to constraints by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

LANG_CHECK = "lang IN ('id', 'en')"
STATUS_CHECK = "status IN ('bot', 'waiting_for_agent', 'with_agent', 'resolved')"
SENDER_CHECK = "sender_type IN ('customer', 'bot', 'agent', 'system')"

# The predicate of the partial unique index on open conversations. Queries for
# "the open conversation of (channel, external_id)" must repeat it verbatim so
# SQLite's planner can use the index.
OPEN_CONVERSATION_WHERE = "status != 'resolved'"


class Base(DeclarativeBase):
    """Declarative base holding the shared metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Customer(Base):
    """A person writing to the shop, on one or more channels."""

    __tablename__ = "customers"
    __table_args__ = (CheckConstraint(LANG_CHECK, name="lang"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    lang: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChannelIdentity(Base):
    """How a customer is known on one channel (Telegram chat id, widget session...)."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Conversation(Base):
    """A conversation: from a customer's first message until it is resolved.

    ``channel``/``external_id`` copy the identity so the per-turn lookup of the
    open conversation is one indexed read. At most one conversation per
    (channel, external_id) is open (not resolved) at a time; the partial unique
    index enforces it even across processes.
    """

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="status"),
        CheckConstraint(LANG_CHECK, name="lang"),
        Index(
            "uq_conversations_open",
            "channel",
            "external_id",
            unique=True,
            sqlite_where=text(OPEN_CONVERSATION_WHERE),
            postgresql_where=text(OPEN_CONVERSATION_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(5))
    state: Mapped[dict[str, Any]] = mapped_column(Json)
    last_seq: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_customer_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_agent_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The customer's rating (1-5) and comment at the end of the conversation (widget CSAT).
    csat_score: Mapped[int | None] = mapped_column(SmallInteger)
    csat_comment: Mapped[str | None] = mapped_column(Text)
    csat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Message(Base):
    """One message; ``seq`` numbers a conversation's messages 1, 2, 3... without gaps."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(SENDER_CHECK, name="sender_type"),
        UniqueConstraint("conversation_id", "seq"),
        # NULLs are distinct on both backends, so only real client ids collide.
        UniqueConstraint("conversation_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        Id, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column()
    sender_type: Mapped[str] = mapped_column(String(16))
    # No foreign key yet: agent accounts live in another module's tables.
    agent_id: Mapped[int | None] = mapped_column()
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    nlu: Mapped[dict[str, Any] | None] = mapped_column(NullableJson)
    client_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


customers = Customer.__table__
channel_identities = ChannelIdentity.__table__
conversations = Conversation.__table__
messages = Message.__table__

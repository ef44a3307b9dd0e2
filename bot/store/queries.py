"""Read statements and functions, as plain synchronous SQLAlchemy Core.

They take a sync :class:`~sqlalchemy.Connection`: the store runs them in a
worker thread (SQLite) or through ``AsyncConnection.run_sync`` (PostgreSQL),
see :mod:`bot.store.access`.

Statements are built once at import: SQLAlchemy then finds their compiled
form in its cache on every call, which keeps the per-turn overhead low.
Selected columns follow the record's field order, so a row maps to a record
positionally.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import Column, Connection, bindparam, func, select, text

from bot.store.models import (
    OPEN_CONVERSATION_WHERE,
    channel_identities,
    conversations,
    customers,
    messages,
)
from bot.store.records import ConversationRecord, CustomerRecord, StoredMessage


def _columns(record: type, table: Any) -> list[Column[Any]]:
    return [table.c[f.name] for f in fields(record)]


CONVERSATION_COLUMNS = _columns(ConversationRecord, conversations)
MESSAGE_COLUMNS = _columns(StoredMessage, messages)
CUSTOMER_COLUMNS = _columns(CustomerRecord, customers)

SELECT_CONVERSATION = select(*CONVERSATION_COLUMNS).where(conversations.c.id == bindparam("id"))

SELECT_OPEN_CONVERSATION = select(*CONVERSATION_COLUMNS).where(
    conversations.c.channel == bindparam("channel"),
    conversations.c.external_id == bindparam("external_id"),
    # Verbatim the partial index's predicate, so the index applies.
    text(OPEN_CONVERSATION_WHERE),
)

SELECT_MESSAGES = (
    select(*MESSAGE_COLUMNS)
    .where(
        messages.c.conversation_id == bindparam("conversation_id"),
        messages.c.seq > bindparam("after_seq"),
    )
    .order_by(messages.c.seq)
    .limit(bindparam("limit"))
)

SELECT_BY_CLIENT_ID = select(*MESSAGE_COLUMNS).where(
    messages.c.conversation_id == bindparam("conversation_id"),
    messages.c.client_id == bindparam("client_id"),
)

SELECT_CUSTOMER = select(*CUSTOMER_COLUMNS).where(customers.c.id == bindparam("id"))

SELECT_CUSTOMER_OF_IDENTITY = (
    select(customers.c.id, customers.c.lang)
    .join(channel_identities, channel_identities.c.customer_id == customers.c.id)
    .where(
        channel_identities.c.channel == bindparam("channel"),
        channel_identities.c.external_id == bindparam("external_id"),
    )
)


def fetch_conversation(conn: Connection, conversation_id: int) -> ConversationRecord | None:
    """The conversation with this id, if any."""
    row = (conn.execute(SELECT_CONVERSATION, {"id": conversation_id})).first()
    return None if row is None else ConversationRecord(*row)


def fetch_open_conversation(
    conn: Connection, channel: str, external_id: str
) -> ConversationRecord | None:
    """The sender's conversation that is not resolved, if any."""
    result = conn.execute(
        SELECT_OPEN_CONVERSATION, {"channel": channel, "external_id": external_id}
    )
    row = result.first()
    return None if row is None else ConversationRecord(*row)


def fetch_messages(
    conn: Connection, conversation_id: int, after_seq: int, limit: int
) -> list[StoredMessage]:
    """Up to ``limit`` messages with ``seq > after_seq``, oldest first."""
    result = conn.execute(
        SELECT_MESSAGES,
        {"conversation_id": conversation_id, "after_seq": after_seq, "limit": limit},
    )
    return [StoredMessage(*row) for row in result]


def fetch_by_client_id(
    conn: Connection, conversation_id: int, client_id: str
) -> StoredMessage | None:
    """The message of this conversation stored under ``client_id``, if any."""
    result = conn.execute(
        SELECT_BY_CLIENT_ID, {"conversation_id": conversation_id, "client_id": client_id}
    )
    row = result.first()
    return None if row is None else StoredMessage(*row)


def fetch_customer(conn: Connection, customer_id: int) -> CustomerRecord | None:
    """The customer with this id, if any."""
    row = (conn.execute(SELECT_CUSTOMER, {"id": customer_id})).first()
    return None if row is None else CustomerRecord(*row)


def fetch_customer_of_identity(
    conn: Connection, channel: str, external_id: str
) -> tuple[int, str] | None:
    """``(customer_id, lang)`` of the customer known as ``external_id`` on ``channel``."""
    row = (
        conn.execute(
            SELECT_CUSTOMER_OF_IDENTITY, {"channel": channel, "external_id": external_id}
        )
    ).first()
    return None if row is None else (row[0], row[1])


SELECT_RATING = select(conversations.c.csat_score, conversations.c.csat_comment, conversations.c.csat_at).where(
    conversations.c.id == bindparam("id")
)


def fetch_rating(conn: Connection, conversation_id: int) -> tuple[int, str | None, Any] | None:
    """``(score, comment, rated_at)`` of a rated conversation, if any."""
    row = (conn.execute(SELECT_RATING, {"id": conversation_id})).first()
    return None if row is None or row[0] is None else (row[0], row[1], row[2])




# Agents' replies, system notices and pushed order updates are never part of a turn's
# answer: on a channel that only answers requests (REST), the customer sees them only
# in the next answer.
MAX_UNSEEN = 50
SELECT_UNSEEN_MESSAGES = (
    select(*MESSAGE_COLUMNS)
    .where(
        messages.c.conversation_id == bindparam("conversation_id"),
        messages.c.seq > bindparam("answered_seq"),
        messages.c.sender_type != "customer",
    )
    .order_by(messages.c.seq)
    .limit(MAX_UNSEEN)
)
SELECT_PREVIOUS_CONVERSATION = (
    select(*CONVERSATION_COLUMNS)
    .where(
        conversations.c.channel == bindparam("channel"),
        conversations.c.external_id == bindparam("external_id"),
        conversations.c.id < bindparam("before_id"),
    )
    .order_by(conversations.c.id.desc())
    .limit(1)
)


def fetch_unseen_messages(conn: Connection, conversation: ConversationRecord) -> list[StoredMessage]:
    """The messages written in ``conversation`` since its customer was last answered
    (``answered_seq``), oldest first: agents', system notices, pushed order updates."""
    result = conn.execute(
        SELECT_UNSEEN_MESSAGES, {"conversation_id": conversation.id, "answered_seq": conversation.answered_seq}
    )
    return [StoredMessage(*row) for row in result]


def fetch_previous_conversation(
    conn: Connection, channel: str, external_id: str, before_id: int
) -> ConversationRecord | None:
    """The sender's conversation before ``before_id`` (the one an agent resolved), if any."""
    row = conn.execute(
        SELECT_PREVIOUS_CONVERSATION, {"channel": channel, "external_id": external_id, "before_id": before_id}
    ).first()
    return None if row is None else ConversationRecord(*row)

"""Writes other than turns: opening conversations, updating customers.

Like :mod:`bot.store.turns` they run inside a shared group-commit transaction
(see :mod:`bot.store.writer`): they never commit, and they raise only for
errors that should abort the batch they are in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, update
from sqlalchemy.exc import IntegrityError

from bot.store import queries
from bot.store.models import channel_identities, conversations, customers
from bot.store.records import ConversationRecord
from bot.store.turns import ConversationNotFound
from bot.store.writer import Failed
from bot.types import ConversationStatus


class CustomerNotFound(LookupError):
    """``update_customer`` was given a customer id that does not exist."""


_INSERT_CUSTOMER = insert(customers).returning(customers.c.id)
_INSERT_IDENTITY = insert(channel_identities)
_INSERT_CONVERSATION = insert(conversations).returning(*queries.CONVERSATION_COLUMNS)


def open_conversation(
    conn: Connection,
    channel: str,
    external_id: str,
    lang_hint: str | None,
    default_lang: str,
    now: datetime,
) -> ConversationRecord:
    """Get or create the sender's customer, identity and open conversation.

    Safe against other processes doing the same: each insert runs in a
    savepoint, and losing a unique-constraint race means re-reading the
    winner's row.
    """
    existing = queries.fetch_open_conversation(conn, channel, external_id)
    if existing is not None:
        return existing
    customer_id, customer_lang = _customer_for(
        conn, channel, external_id, lang_hint or default_lang, now
    )
    values = {
        "customer_id": customer_id,
        "channel": channel,
        "external_id": external_id,
        "status": ConversationStatus.BOT,
        "lang": lang_hint or customer_lang,
        "state": {},
        "last_seq": 0,
        "answered_seq": 0,
        "created_at": now,
    }
    try:
        with conn.begin_nested():
            row = (conn.execute(_INSERT_CONVERSATION, values)).one()
        return ConversationRecord(*row)
    except IntegrityError:
        # Another process opened it first (partial unique index on open ones).
        existing = queries.fetch_open_conversation(conn, channel, external_id)
        if existing is None:
            raise
        return existing


def _customer_for(
    conn: Connection, channel: str, external_id: str, lang: str, now: datetime
) -> tuple[int, str]:
    """``(customer_id, lang)`` for the identity, creating both when new."""
    found = queries.fetch_customer_of_identity(conn, channel, external_id)
    if found is not None:
        return found
    try:
        with conn.begin_nested():
            customer_id = (
                conn.execute(
                    _INSERT_CUSTOMER, {"lang": lang, "created_at": now, "updated_at": now}
                )
            ).scalar_one()
            conn.execute(
                _INSERT_IDENTITY,
                {
                    "customer_id": customer_id,
                    "channel": channel,
                    "external_id": external_id,
                    "created_at": now,
                },
            )
        return customer_id, lang
    except IntegrityError:
        # Lost the race for UNIQUE(channel, external_id); the savepoint took our
        # customer row back with it.
        found = queries.fetch_customer_of_identity(conn, channel, external_id)
        if found is None:
            raise
        return found


def save_rating(
    conn: Connection, conversation_id: int, score: int, comment: str | None, now: datetime
) -> Failed | None:
    """Set the conversation's CSAT score, comment and time (a later rating replaces it)."""
    result = conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(csat_score=score, csat_comment=comment, csat_at=now)
    )
    return Failed(ConversationNotFound(conversation_id)) if result.rowcount == 0 else None


def update_customer(
    conn: Connection, customer_id: int, fields: dict[str, Any], now: datetime
) -> Failed | None:
    """Set the given customer columns and ``updated_at``."""
    result = conn.execute(
        update(customers).where(customers.c.id == customer_id).values(**fields, updated_at=now)
    )
    # Nothing was written, so this can fail alone without aborting the batch.
    return Failed(CustomerNotFound(customer_id)) if result.rowcount == 0 else None

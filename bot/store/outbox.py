"""Messages pushed to customers outside a chat turn, and the outbox that carries them.

An order's status change (an admin verified the payment, the parcel shipped, the
deadline passed) is told to the customer as a bot message in their open
conversation. :func:`push_in_transaction` appends that message *and* an outbox
row in the caller's transaction, so a committed status change always comes with
its message, and a message is never announced before it is committed.

The relay (:mod:`bot.relay`) then claims outbox rows, publishes them on the bus
and marks them relayed. Claims are conditional updates, so several workers (or
processes) relaying at once never publish a row twice while its claim is fresh;
a claim older than the lease (a worker died between claiming and publishing) may
be taken again, so delivery on the bus is at least once, and in practice once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, update

from bot.store import queries, writes
from bot.store.models import messages, outbox
from bot.store.records import ConversationChanges, ConversationRecord, NewMessage, StoredMessage
from bot.store.turns import TurnWrite, record_turns
from bot.store.writer import Failed

# A claim older than this is considered abandoned (its worker died) and is retried.
CLAIM_LEASE = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One pushed message waiting for the bus: where it goes and what it is."""

    id: int
    channel: str
    external_id: str
    message: StoredMessage


def push_in_transaction(
    conn: Connection,
    now: datetime,
    *,
    channel: str,
    external_id: str,
    message: NewMessage,
    lang_hint: str | None,
    default_lang: str,
) -> tuple[ConversationRecord, StoredMessage]:
    """Append ``message`` to the open conversation of (channel, external_id), plus its outbox row.

    Opens a conversation when there is none (the last one was resolved), like
    :meth:`bot.store.db.Store.open_conversation`. The message gets the next ``seq``
    under the same row lock a turn takes, so it interleaves safely with turns.
    """
    conversation = writes.open_conversation(conn, channel, external_id, lang_hint, default_lang, now)
    [result] = record_turns(
        conn, [TurnWrite(conversation.id, None, [message], ConversationChanges())], now
    )
    if isinstance(result, Failed):  # pragma: no cover - the conversation was just read
        raise result.error
    stored = result.messages[0]
    conn.execute(
        insert(outbox).values(
            message_id=stored.id,
            conversation_id=stored.conversation_id,
            channel=channel,
            external_id=external_id,
            created_at=now,
            attempts=0,
        )
    )
    return result.conversation, stored


_PENDING = (
    select(outbox.c.id, outbox.c.channel, outbox.c.external_id, *queries.MESSAGE_COLUMNS)
    .join(messages, messages.c.id == outbox.c.message_id)
    .where(
        outbox.c.relayed_at.is_(None),
        or_(outbox.c.claimed_at.is_(None), outbox.c.claimed_at < bindparam("stale")),
    )
    .order_by(outbox.c.id)
    .limit(bindparam("limit"))
)

_CLAIM = (
    update(outbox)
    .where(
        outbox.c.id == bindparam("outbox_id"),
        outbox.c.relayed_at.is_(None),
        or_(outbox.c.claimed_at.is_(None), outbox.c.claimed_at < bindparam("stale")),
    )
    .values(claimed_at=bindparam("now"), attempts=outbox.c.attempts + 1)
)


def fetch_pending(conn: Connection, now: datetime, limit: int) -> list[OutboxItem]:
    """Unrelayed rows that nobody holds a fresh claim on, oldest first."""
    rows = conn.execute(_PENDING, {"stale": now - CLAIM_LEASE, "limit": limit})
    return [OutboxItem(row[0], row[1], row[2], StoredMessage(*row[3:])) for row in rows]


def claim(conn: Connection, now: datetime, ids: list[int]) -> list[int]:
    """Claim the given rows; returns the ids this transaction won (the others are taken)."""
    won: list[int] = []
    for outbox_id in ids:
        result = conn.execute(
            _CLAIM, {"outbox_id": outbox_id, "stale": now - CLAIM_LEASE, "now": now}
        )
        if result.rowcount == 1:
            won.append(outbox_id)
    return won


def mark_relayed(conn: Connection, now: datetime, ids: list[int]) -> None:
    """Record that these rows were published."""
    if ids:
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids), outbox.c.relayed_at.is_(None))
            .values(relayed_at=now)
        )


def release(conn: Connection, now: datetime, ids: list[int]) -> None:  # noqa: ARG001
    """Give up claims without publishing (the bus failed), so the next poll retries."""
    if ids:
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids), outbox.c.relayed_at.is_(None))
            .values(claimed_at=None)
        )


def purge_relayed(conn: Connection, now: datetime, older_than: timedelta) -> int:
    """Delete rows relayed more than ``older_than`` ago (the messages themselves stay)."""
    result = conn.execute(
        delete(outbox).where(
            and_(outbox.c.relayed_at.is_not(None), outbox.c.relayed_at < now - older_than)
        )
    )
    return result.rowcount or 0

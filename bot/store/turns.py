"""Writing a batch of turns with a handful of statements.

A group-commit batch can hold dozens of turns. Written one by one, each turn
costs four statements; here the whole batch costs four: one SELECT of the
conversations, one of already stored client ids, one multi-row INSERT of all
messages and one executemany UPDATE of the conversations. Turns are still
applied strictly in order, so two turns of the same conversation in one batch
chain their ``seq`` numbers and changes exactly as if written separately.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from bot.store import queries
from bot.store.models import conversations, customers, messages
from bot.store.records import (
    ConversationChanges,
    ConversationRecord,
    NewMessage,
    StoredMessage,
    TurnRecord,
)
from bot.store.timeline import turn_updates
from bot.store.writer import Failed


class ConversationNotFound(LookupError):
    """``record_turn`` was given a conversation id that does not exist."""


@dataclass(frozen=True, slots=True)
class TurnWrite:
    """One ``record_turn`` call waiting to be written."""

    conversation_id: int
    incoming: NewMessage | None
    outgoing: Sequence[NewMessage]
    changes: ConversationChanges

    @property
    def new_messages(self) -> list[NewMessage]:
        """The turn's messages in ``seq`` order."""
        if self.incoming is None:
            return list(self.outgoing)
        return [self.incoming, *self.outgoing]

    @property
    def client_id(self) -> str | None:
        """The client id that makes this turn a resend, if stored already."""
        new = self.new_messages
        return new[0].client_id if new else None


# How many stored messages a duplicate may return as "the replies it got".
_MAX_DUPLICATE_REPLIES = 50

# FOR UPDATE locks the rows on PostgreSQL so turns written by other processes
# queue behind this batch (in id order, so two batches cannot deadlock);
# SQLite renders nothing, its write lock already covers the database.
_LOCK_CONVERSATIONS = (
    select(*queries.CONVERSATION_COLUMNS)
    .where(conversations.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(conversations.c.id)
    .with_for_update()
)
# A superset of the wanted (conversation, client id) pairs, narrowed in Python;
# served by the UNIQUE(conversation_id, client_id) index.
_SELECT_CLIENT_IDS = select(*queries.MESSAGE_COLUMNS).where(
    messages.c.conversation_id.in_(bindparam("conversation_ids", expanding=True)),
    messages.c.client_id.in_(bindparam("client_ids", expanding=True)),
)
_SELECT_AFTER = (
    select(*queries.MESSAGE_COLUMNS)
    .where(
        messages.c.conversation_id == bindparam("conversation_id"),
        messages.c.seq > bindparam("after_seq"),
    )
    .order_by(messages.c.seq)
    .limit(_MAX_DUPLICATE_REPLIES)
)
_INSERT_MESSAGES = insert(messages).returning(
    messages.c.id, messages.c.conversation_id, messages.c.seq
)
_UPDATE_CONVERSATION = update(conversations).where(conversations.c.id == bindparam("conv_id"))
# A language change follows the customer into their next conversation.
_UPDATE_CUSTOMER_LANG = (
    update(customers)
    .where(customers.c.id == bindparam("customer_id"))
    .values(lang=bindparam("new_lang"), updated_at=bindparam("now"))
)


@dataclass(slots=True)
class _Planned:
    """A turn's outcome before the INSERT has assigned the message ids."""

    conversation: ConversationRecord
    messages: list[StoredMessage]
    duplicate: bool
    has_incoming: bool

    def record(self, ids: dict[tuple[int, int], int]) -> TurnRecord:
        messages = [
            _with_id(m, ids[(m.conversation_id, m.seq)]) if m.id == 0 else m
            for m in self.messages
        ]
        return TurnRecord(self.conversation, messages, self.duplicate, self.has_incoming)


def record_turns(
    conn: Connection, turns: Sequence[TurnWrite], now: datetime
) -> list[TurnRecord | Failed]:
    """Write ``turns`` in order; one result per turn.

    A turn for an unknown conversation gets ``Failed(ConversationNotFound)``
    and writes nothing; the others are unaffected.
    """
    current = _lock_conversations(conn, {t.conversation_id for t in turns})
    stored_originals = _stored_client_ids(conn, turns)
    # Client ids written earlier in this batch, with the messages of their turn.
    written: dict[tuple[int, str], list[StoredMessage]] = {}
    changed: set[int] = set()
    customer_langs: dict[int, str] = {}
    planned: list[_Planned | Failed] = []
    rows: list[dict[str, Any]] = []

    for turn in turns:
        conversation = current.get(turn.conversation_id)
        if conversation is None:
            planned.append(Failed(ConversationNotFound(turn.conversation_id)))
            continue
        has_incoming = turn.incoming is not None
        key = (turn.conversation_id, turn.client_id) if turn.client_id is not None else None
        if key is not None and key in stored_originals:
            original = stored_originals[key]
            replies = _replies_after(conn, original)
            planned.append(_Planned(conversation, [original, *replies], True, has_incoming))
            continue
        if key is not None and key in written:
            planned.append(_Planned(conversation, written[key], True, has_incoming))
            continue

        new = turn.new_messages
        values = turn_updates(conversation, [m.sender_type for m in new], turn.changes, now)
        stored = [
            _stored(turn.conversation_id, conversation.last_seq + offset, m, now)
            for offset, m in enumerate(new, start=1)
        ]
        rows.extend(_row(m) for m in stored)
        conversation = current[turn.conversation_id] = _updated(conversation, values)
        changed.add(turn.conversation_id)
        if turn.changes.lang is not None:
            customer_langs[conversation.customer_id] = turn.changes.lang
        if key is not None:
            written[key] = stored
        planned.append(_Planned(conversation, stored, False, has_incoming))

    ids = _insert_messages(conn, rows)
    _update_conversations(conn, [current[i] for i in sorted(changed)])
    if customer_langs:
        conn.execute(
            _UPDATE_CUSTOMER_LANG,
            [{"customer_id": c, "new_lang": lang, "now": now} for c, lang in sorted(customer_langs.items())],
        )
    return [p if isinstance(p, Failed) else p.record(ids) for p in planned]


def _lock_conversations(conn: Connection, ids: set[int]) -> dict[int, ConversationRecord]:
    result = conn.execute(_LOCK_CONVERSATIONS, {"ids": sorted(ids)})
    return {row[0]: ConversationRecord(*row) for row in result}


def _stored_client_ids(
    conn: Connection, turns: Sequence[TurnWrite]
) -> dict[tuple[int, str], StoredMessage]:
    keys = {(t.conversation_id, t.client_id) for t in turns if t.client_id is not None}
    if not keys:
        return {}
    result = conn.execute(
        _SELECT_CLIENT_IDS,
        {
            "conversation_ids": sorted({c for c, _ in keys}),
            "client_ids": sorted({k for _, k in keys}),
        },
    )
    found = (StoredMessage(*row) for row in result)
    return {
        (m.conversation_id, m.client_id): m
        for m in found
        if m.client_id is not None and (m.conversation_id, m.client_id) in keys
    }


def _replies_after(conn: Connection, original: StoredMessage) -> list[StoredMessage]:
    """The messages stored after ``original`` up to the customer's next message."""
    result = conn.execute(
        _SELECT_AFTER, {"conversation_id": original.conversation_id, "after_seq": original.seq}
    )
    replies: list[StoredMessage] = []
    for row in result:
        message = StoredMessage(*row)
        if message.sender_type == "customer":
            break
        replies.append(message)
    return replies


def _stored(conversation_id: int, seq: int, m: NewMessage, now: datetime) -> StoredMessage:
    # id is filled in after the INSERT.
    return StoredMessage(
        id=0,
        conversation_id=conversation_id,
        seq=seq,
        sender_type=m.sender_type,
        text=m.text,
        buttons=m.buttons,
        attachments=m.attachments,
        nlu=m.nlu,
        client_id=m.client_id,
        agent_id=m.agent_id,
        created_at=now,
    )


def _with_id(m: StoredMessage, id_: int) -> StoredMessage:
    # Spelled out: dataclasses.replace costs several times more, per message.
    return StoredMessage(
        id_,
        m.conversation_id,
        m.seq,
        m.sender_type,
        m.text,
        m.buttons,
        m.attachments,
        m.nlu,
        m.client_id,
        m.agent_id,
        m.created_at,
    )


def _updated(c: ConversationRecord, values: dict[str, Any]) -> ConversationRecord:
    # values holds every mutable column (see timeline.turn_updates).
    return ConversationRecord(
        id=c.id,
        customer_id=c.customer_id,
        channel=c.channel,
        external_id=c.external_id,
        created_at=c.created_at,
        **values,
    )


def _row(m: StoredMessage) -> dict[str, Any]:
    return {
        "conversation_id": m.conversation_id,
        "seq": m.seq,
        "sender_type": m.sender_type,
        "agent_id": m.agent_id,
        "text": m.text,
        "buttons": m.buttons,
        "attachments": m.attachments,
        "nlu": m.nlu,
        "client_id": m.client_id,
        "created_at": m.created_at,
    }


def _insert_messages(conn: Connection, rows: list[dict[str, Any]]) -> dict[tuple[int, int], int]:
    """Insert all rows with one multi-row INSERT ... RETURNING; ids by (conversation, seq)."""
    if not rows:
        return {}
    result = conn.execute(_INSERT_MESSAGES, rows)
    return {(conversation_id, seq): id_ for id_, conversation_id, seq in result}


def _update_conversations(conn: Connection, changed: list[ConversationRecord]) -> None:
    """One executemany UPDATE with each conversation's state after the batch."""
    if not changed:
        return
    params = [
        {
            "conv_id": c.id,
            "status": c.status,
            "lang": c.lang,
            "state": c.state,
            "last_seq": c.last_seq,
            "answered_seq": c.answered_seq,
            "last_message_at": c.last_message_at,
            "first_customer_message_at": c.first_customer_message_at,
            "first_response_at": c.first_response_at,
            "handoff_at": c.handoff_at,
            "first_agent_response_at": c.first_agent_response_at,
            "resolved_at": c.resolved_at,
        }
        for c in changed
    ]
    conn.execute(_UPDATE_CONVERSATION, params)

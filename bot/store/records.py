"""Plain records the store hands to and takes from its callers.

Callers never see ORM objects, rows or sessions: everything crossing the
:class:`~bot.store.db.Store` boundary is one of these dataclasses. Datetimes
are always timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A customer, whichever channels they write from."""

    id: int
    display_name: str | None
    phone: str | None
    email: str | None
    lang: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """One conversation as stored: status, engine state and its timeline.

    ``state`` is the engine's flow/slot state; ``last_seq`` is the ``seq`` of the
    newest message (0 when there is none); ``answered_seq`` that of the last message
    a customer's turn wrote (its replies included): anything after it was written by
    someone else (an agent, a pushed order update) since the customer last wrote. The ``*_at`` fields are the
    milestones reports are built from; ``None`` means "not yet".
    """

    id: int
    customer_id: int
    channel: str
    external_id: str
    status: str
    lang: str
    state: dict[str, Any]
    last_seq: int
    answered_seq: int
    created_at: datetime
    last_message_at: datetime | None
    first_customer_message_at: datetime | None
    first_response_at: datetime | None
    handoff_at: datetime | None
    first_agent_response_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to append to a conversation.

    ``client_id`` is the sender's own id for the message; a second message with
    the same ``client_id`` in the same conversation is a resend (see
    :meth:`bot.store.db.Store.record_turn`).
    """

    sender_type: str
    text: str
    buttons: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    nlu: dict[str, Any] | None = None
    client_id: str | None = None
    agent_id: int | None = None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message as stored, with its id, per-conversation ``seq`` and time."""

    id: int
    conversation_id: int
    seq: int
    sender_type: str
    text: str
    buttons: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    nlu: dict[str, Any] | None
    client_id: str | None
    agent_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ConversationChanges:
    """What a turn changes on its conversation; ``None`` leaves a field as is.

    ``state`` replaces the stored state as a whole.
    """

    status: str | None = None
    lang: str | None = None
    state: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """The outcome of :meth:`bot.store.db.Store.record_turn`.

    ``messages`` holds the turn's stored messages in ``seq`` order: the incoming
    message first (when the turn had one), then the replies. For a duplicate
    (a resend of an already stored ``client_id``) nothing was written and
    ``messages`` holds the original message followed by the messages stored
    after it up to the customer's next message, so a resend gets the same
    replies.
    """

    conversation: ConversationRecord
    messages: list[StoredMessage]
    duplicate: bool = False
    has_incoming: bool = False

    @property
    def incoming(self) -> StoredMessage | None:
        """The stored incoming message, if the turn had one."""
        return self.messages[0] if self.has_incoming and self.messages else None

    @property
    def replies(self) -> list[StoredMessage]:
        """The stored messages after the incoming one (all of them without one)."""
        return self.messages[1:] if self.has_incoming else list(self.messages)

"""The shapes that travel between channels, the engine, the NLU and the store.

Channel adapters build :class:`IncomingMessage` objects and deliver
:class:`OutgoingMessage` objects; they never see NLU results or flow state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Lang = Literal["id", "en"]
LANGS: tuple[Lang, ...] = ("id", "en")

SenderType = Literal["customer", "bot", "agent", "system"]


class ConversationStatus:
    """Where a conversation stands; stored as these strings."""

    BOT = "bot"
    WAITING_FOR_AGENT = "waiting_for_agent"
    WITH_AGENT = "with_agent"
    RESOLVED = "resolved"

    ALL = (BOT, WAITING_FOR_AGENT, WITH_AGENT, RESOLVED)


@dataclass(frozen=True)
class Button:
    """A quick reply: what the customer sees and what the bot receives back."""

    title: str
    payload: str


@dataclass(frozen=True)
class Attachment:
    """A file the customer or an agent sent (e.g. a payment proof)."""

    kind: Literal["image"]
    url: str
    name: str = ""


@dataclass(frozen=True)
class IncomingMessage:
    """A customer's message as a channel adapter hands it to the engine.

    ``sender_id`` is the channel's own id for the customer (REST ``sender``,
    Telegram chat id, widget session id); together with ``channel`` it keys the
    conversation. ``client_id`` lets a channel make resends idempotent.
    """

    channel: str
    sender_id: str
    text: str
    lang_hint: Lang | None = None
    client_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutgoingMessage:
    """One bot (or agent, or system) message for the customer."""

    text: str
    buttons: tuple[Button, ...] = ()
    sender_type: SenderType = "bot"
    attachments: tuple[Attachment, ...] = ()
    # What the bot is asking for, so a channel can offer a native input: "phone"
    # (Telegram's share-contact button), "email", "image", or None.
    expects: str | None = None


@dataclass(frozen=True)
class TurnInfo:
    """What the engine decided on one turn; REST exposes it as ``custom``."""

    intent: str
    confidence: float
    faq_id: str | None
    lang: Lang
    handoff: bool
    ticket_id: str | None = None
    conversation_id: int | None = None
    status: str = ConversationStatus.BOT
    customer_seq: int | None = None  # where the customer's message was stored, for acks

    def as_custom(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "faq_id": self.faq_id,
            "lang": self.lang,
            "handoff": self.handoff,
            "ticket_id": self.ticket_id,
            "conversation_id": self.conversation_id,
            "status": self.status,
        }


@dataclass(frozen=True)
class TurnResult:
    """The engine's answer to one incoming message."""

    replies: tuple[OutgoingMessage, ...]
    info: TurnInfo
    duplicate: bool = False
    # What agents (and system notices) told the customer since their previous message.
    # Channels that push (widget, Telegram) have delivered it already; one that only
    # answers requests (REST) puts it before ``replies``.
    unseen: tuple[OutgoingMessage, ...] = ()


# --- NLU -----------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """An entity found in a message; ``start``/``end`` index the original text."""

    entity: str
    value: Any
    start: int
    end: int
    text: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"entity": self.entity, "value": self.value, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class IntentScore:
    """An intent name with a calibrated confidence in [0, 1].

    FAQ entries are intents named ``faq/<faq id>``.
    """

    name: str
    confidence: float


@dataclass(frozen=True)
class ParseResult:
    """Everything the NLU says about one message.

    ``intent`` is the decision: a built-in or data-dir intent, ``faq/<id>``, or
    ``out_of_scope`` when nothing is confident enough. ``suggestions`` holds up
    to three plausible intents (mostly FAQ entries) for a "did you mean"
    question when the NLU is unsure; it is empty when the decision is
    confident or the message is clearly out of scope.
    """

    text: str
    normalized: str
    lang: Lang
    intent: IntentScore
    ranking: tuple[IntentScore, ...]
    entities: tuple[Entity, ...] = ()
    suggestions: tuple[IntentScore, ...] = ()

    @property
    def faq_id(self) -> str | None:
        return self.intent.name[4:] if self.intent.name.startswith("faq/") else None

    def as_dict(self) -> dict[str, Any]:
        """The ``POST /model/parse`` response body (the ranking's top ten, as Rasa does)."""
        faq_id = self.faq_id
        return {
            "text": self.text,
            "lang": self.lang,
            "intent": {"name": self.intent.name, "confidence": round(self.intent.confidence, 4)},
            "intent_ranking": [
                {"name": s.name, "confidence": round(s.confidence, 4)} for s in self.ranking[:10]
            ],
            "entities": [e.as_dict() for e in self.entities],
            "faq": {"id": faq_id, "score": round(self.intent.confidence, 4)} if faq_id else None,
        }

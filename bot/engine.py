"""One conversation turn: lock → load → understand → decide → act → persist → reply.

The engine knows no platform: channel adapters hand it an
:class:`~bot.types.IncomingMessage` and deliver the replies it returns. It is
the only writer of conversation turns, and a reply is returned only after the
turn is committed, so anything a customer has seen is already stored.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace
from typing import Any, Protocol

from rasa_sdk import Action

from bot import flows, intents, metrics
from bot.bus import Bus, BusUnavailable, conversation_topic, message_event
from bot.flows.context import FlowContext
from bot.locks import ConversationLocks
from bot.nlu.language import detect_language
from bot.dialogue import Dialogue, Turn, payload_entities
from bot.store import queries
from bot.store.records import ConversationChanges, ConversationRecord, NewMessage, StoredMessage
from bot.store.sanitize import clean_text
from bot.types import (
    Button,
    ConversationStatus,
    Entity,
    IncomingMessage,
    IntentScore,
    Lang,
    OutgoingMessage,
    ParseResult,
    TurnInfo,
    TurnResult,
)

log = logging.getLogger(__name__)



class Understander(Protocol):
    def parse(self, text: str, lang: Lang | None = None) -> ParseResult: ...


class Engine:
    """Runs turns for every channel.

    :param store: the conversation store (:class:`bot.store.Store`).
    :param nlu: the trained NLU model.
    :param flow_context: the shop data and texts the actions read.
    :param bus: where committed messages are announced to live views.
    :param locks: per-conversation locks.
    """

    def __init__(
        self,
        *,
        store,
        nlu: Understander,
        flow_context: FlowContext,
        bus: Bus,
        locks: ConversationLocks,
        default_lang: Lang = "id",
    ) -> None:
        self.store = store
        self.nlu = nlu
        self.flow_context = flow_context
        self.bus = bus
        self.locks = locks
        self.default_lang = default_lang
        flows.context.install(flow_context)
        self.actions: dict[str, Action] = {cls().name(): cls() for cls in _action_classes()}
        self.dialogue = Dialogue(flow_context, self.actions)
        self._flow_triggers = {f.trigger for f in flow_context.shop.flows.values()}
        # The shop's own intents (nlu/*.yml, the triggers of its flows) can be pressed
        # as buttons too: "/warranty_claim" starts the shop's warranty flow.
        self._shop_intents = {e.intent for e in flow_context.shop.nlu_examples} | self._flow_triggers

    async def handle(self, message: IncomingMessage) -> TurnResult:
        """Answer one customer message; returns after the turn is committed."""
        started = time.perf_counter()
        # A lone surrogate ("\ud800" in a widget frame's JSON) breaks the NLU's
        # tokenizer (TypeError), failing the turn for good; like a NUL it becomes
        # U+FFFD, which is what the store would keep anyway.
        message = replace(message, text=clean_text(message.text))
        async with self.locks.hold(f"{message.channel}:{message.sender_id}"):
            conversation = await self.store.open_conversation(
                message.channel, message.sender_id, message.lang_hint
            )
            if message.client_id:
                earlier = await self.store.find_by_client_id(conversation.id, message.client_id)
                if earlier is not None:
                    return await self._replay(conversation, earlier)
            unseen = await self._unseen(conversation)
            if conversation.status == ConversationStatus.WITH_AGENT:
                result, stored = await self._relay_to_agent(message, conversation)
            else:
                result, stored = await self._answer(message, conversation)
            unseen += await self._written_meanwhile(conversation, stored)
            if unseen:
                result = replace(result, unseen=unseen)
        await self._announce(result, stored)
        metrics.observe_turn(message.channel, result.info, time.perf_counter() - started)
        return result

    async def _unseen(self, conversation: ConversationRecord) -> tuple[OutgoingMessage, ...]:
        """What was written since the customer was last answered (see
        :attr:`TurnResult.unseen`): agents' messages, system notices, pushed order
        updates; in the previous conversation when this one is new (an agent resolved
        it, or an update came after). Costs nothing when there is none."""
        if conversation.last_seq == 0:
            previous = await self.store.read(
                queries.fetch_previous_conversation, conversation.channel, conversation.external_id, conversation.id
            )
            if previous is None:
                return ()
            conversation = previous
        if conversation.last_seq <= conversation.answered_seq:
            return ()
        found = await self.store.read(queries.fetch_unseen_messages, conversation)
        return tuple(_shown(m) for m in found)

    async def _written_meanwhile(
        self, conversation: ConversationRecord, stored: list[StoredMessage]
    ) -> tuple[OutgoingMessage, ...]:
        """What someone else wrote between reading ``conversation`` and committing this turn
        (an order update pushed in those milliseconds; pushes take no conversation lock).
        The turn marks the customer answered past it, so it is shown now. Costs nothing
        when the turn's first message directly follows what was read."""
        if not stored or stored[0].seq <= conversation.last_seq + 1:
            return ()
        since_read = replace(conversation, answered_seq=conversation.last_seq)
        found = await self.store.read(queries.fetch_unseen_messages, since_read)
        return tuple(_shown(m) for m in found if m.seq < stored[0].seq)

    # -- the bot answers ------------------------------------------------------

    async def _answer(
        self, message: IncomingMessage, conversation: ConversationRecord
    ) -> tuple[TurnResult, list[StoredMessage]]:
        lang = self._language(message, conversation)
        parse = self._understand(message.text, lang)
        pressed = await self._pressed(conversation, message.text)
        dialogue_turn = Turn(
            message=message,
            parse=parse,
            lang=lang,
            status=conversation.status,
            conversation_id=conversation.id,
            customer_id=conversation.customer_id,
            customer_name=await self._customer_name(conversation, parse),
            previous_text=pressed[1] if pressed else None,
            already_talking=conversation.last_seq > 0,
        )
        outcome = await self.dialogue.respond(dialogue_turn, dict(conversation.state or {}))
        # The intent the dialogue acted on: it may read the NLU's guess otherwise ("mau beli kain
        # batik" is an order, not the FAQ on fabrics), and the console shows agents this one.
        parse = dialogue_turn.parse
        handoff, state, action_name = outcome.handoff, outcome.state, outcome.action
        ticket_id = outcome.ticket_id

        status = conversation.status
        if handoff and status == ConversationStatus.BOT:
            status = ConversationStatus.WAITING_FOR_AGENT
        replies = tuple(_outgoing(m) for m in outcome.messages)
        nlu = _nlu_record(parse, action_name)
        shown = pressed[0] if pressed else None
        if shown is not None:
            nlu["payload"] = message.text
        turn = await self.store.record_turn(
            conversation.id,
            NewMessage(
                sender_type="customer",
                text=shown or message.text,
                attachments=[_attachment_dict(a) for a in message.attachments],
                nlu=nlu,
                client_id=message.client_id,
            ),
            [NewMessage(sender_type="bot", text=r.text, buttons=_buttons_json(r.buttons)) for r in replies],
            ConversationChanges(
                status=status if status != conversation.status else None,
                lang=lang if lang != conversation.lang else None,
                state=state,
            ),
        )
        info = TurnInfo(
            intent=parse.intent.name,
            confidence=parse.intent.confidence,
            faq_id=parse.faq_id,
            lang=lang,
            handoff=handoff,
            ticket_id=ticket_id,
            conversation_id=conversation.id,
            status=turn.conversation.status,
            customer_seq=turn.messages[0].seq,
        )
        return TurnResult(replies=replies, info=info), turn.messages

    def _language(self, message: IncomingMessage, conversation: ConversationRecord) -> Lang:
        """The customer's explicit choice wins; otherwise what they write, and for
        messages too short to tell ("ok", "👍"), the language so far."""
        if message.lang_hint in ("id", "en"):
            return message.lang_hint
        current: Lang = conversation.lang if conversation.lang in ("id", "en") else self.default_lang
        if _payload_intent(message.text) is not None:
            return current
        if (asked := _asked_language(message.text)) is not None:
            return asked  # "can we continue in English?", even in the middle of a flow
        if (conversation.state or {}).get("flow"):
            return current  # "Bank Jago", "Jl. Merpati No. 5": answers to a question don't switch language
        # Once the customer has written, one message of slang or a typo ("noted kak",
        # "gaskeun") must not flip the conversation into English: only a clear change does.
        return detect_language(message.text, default=current, keep=conversation.first_customer_message_at is not None)

    def _understand(self, text: str, lang: Lang) -> ParseResult:
        if text.strip().startswith(intents.CHOICE_PREFIX):
            score = IntentScore("choose", 1.0)
            return ParseResult(text=text, normalized=text, lang=lang, intent=score, ranking=(score,))
        pressed = payload_entities(text)
        if pressed is not None and self._known_intent(pressed[0]):
            name, found = pressed
            score = IntentScore(name, 1.0)
            entities = tuple(Entity(e["entity"], e["value"], 0, 0) for e in found)
            return ParseResult(text=text, normalized=text, lang=lang, intent=score, ranking=(score,), entities=entities)
        started = time.perf_counter()
        parse = self.nlu.parse(text, lang)
        metrics.NLU_SECONDS.observe(time.perf_counter() - started)
        return replace(parse, lang=lang)

    async def _pressed(self, conversation: ConversationRecord, text: str) -> tuple[str, str | None] | None:
        """For a pressed quick reply: the button's title — what the customer saw and what
        history (every tab and device, the console) should show rather than ``/faq/...`` —
        and the customer's message before it (a complaint started by a button reads it)."""
        if _payload_intent(text) is None or conversation.last_seq == 0:
            return None
        recent = await self.store.messages(conversation.id, after_seq=max(0, conversation.last_seq - 8))
        title = None
        for stored in reversed(recent):
            if title is None and stored.sender_type == "bot":
                for button in stored.buttons or ():
                    if button.get("payload") == text.strip():
                        title = str(button.get("title") or "") or None
                        break
            elif title is not None and stored.sender_type == "customer":
                return title, stored.text
        return (title, None) if title else None

    def _known_intent(self, name: str) -> bool:
        if intents.is_faq(name):
            return self.flow_context.shop.faq(name[len(intents.FAQ_PREFIX) :]) is not None
        return name in intents.BUILTIN or name in self._shop_intents

    async def _customer_name(self, conversation: ConversationRecord, parse: ParseResult) -> str | None:
        """The name the customer already gave (widget pre-chat form), for flows that ask for it.
        Read only when a flow runs or may start, to keep ordinary turns at one read."""
        if not (conversation.state or {}).get("flow") and parse.intent.name not in self._flow_triggers:
            return None
        customer = await self.store.customer(conversation.customer_id)
        return customer.display_name if customer is not None else None

    # -- an agent holds the conversation ---------------------------------------

    async def _relay_to_agent(
        self, message: IncomingMessage, conversation: ConversationRecord
    ) -> tuple[TurnResult, list[StoredMessage]]:
        """The bot stays quiet; the message is stored and announced to the agent."""
        lang = self._language(message, conversation)
        parse = self._understand(message.text, lang)
        turn = await self.store.record_turn(
            conversation.id,
            NewMessage(
                sender_type="customer",
                text=message.text,
                attachments=[_attachment_dict(a) for a in message.attachments],
                nlu=_nlu_record(parse, None),
                client_id=message.client_id,
            ),
            [],
            ConversationChanges(lang=lang if lang != conversation.lang else None),
        )
        info = TurnInfo(
            intent=parse.intent.name,
            confidence=parse.intent.confidence,
            faq_id=None,
            lang=lang,
            handoff=False,
            conversation_id=conversation.id,
            status=turn.conversation.status,
            customer_seq=turn.messages[0].seq,
        )
        return TurnResult(replies=(), info=info), turn.messages

    # -- resends and announcements ------------------------------------------

    async def _replay(self, conversation: ConversationRecord, earlier: StoredMessage) -> TurnResult:
        """A resend of a message we already answered: the same replies, nothing new stored."""
        later = await self.store.messages(conversation.id, after_seq=earlier.seq, limit=50)
        replies: list[OutgoingMessage] = []
        for stored in later:
            if stored.sender_type == "customer":
                break
            if stored.sender_type == "bot":
                replies.append(
                    OutgoingMessage(
                        text=stored.text,
                        buttons=tuple(Button(b["title"], b["payload"]) for b in stored.buttons or ()),
                    )
                )
        nlu = earlier.nlu or {}
        intent = nlu.get("intent") or {}
        info = TurnInfo(
            intent=intent.get("name", intents.OUT_OF_SCOPE),
            confidence=float(intent.get("confidence", 0.0)),
            faq_id=(nlu.get("faq") or {}).get("id"),
            lang=nlu.get("lang") or conversation.lang or self.default_lang,
            handoff=False,
            conversation_id=conversation.id,
            status=conversation.status,
            customer_seq=earlier.seq,
        )
        return TurnResult(replies=tuple(replies), info=info, duplicate=True)

    async def _announce(self, result: TurnResult, stored: list[StoredMessage]) -> None:
        """Tell live views (widget tabs, the console) about the committed messages."""
        conversation_id = result.info.conversation_id
        try:
            for m in stored:
                await self.bus.publish(conversation_topic(conversation_id), message_event(m))
            if result.info.handoff:
                await self.bus.publish(
                    "handoff", {"type": "handoff", "conversation_id": conversation_id}
                )
        except BusUnavailable:
            pass  # Redis is away (the bus logged it once); live views re-read the store when it is back
        except Exception:  # the turn is committed; a live view catches up from the store
            log.exception("could not announce conversation %s", conversation_id)


def _action_classes() -> list[type[Action]]:
    return [getattr(flows, name) for name in flows.__all__]


# A customer asking outright for a language: "can we continue in English?", "english please",
# "pakai bahasa indonesia aja kak".
_ASKS_ENGLISH = re.compile(r"\b(?:in|speak|use|using)\s+english\b|\benglish\s*,?\s*(?:please|pls)\b|\bbahasa\s+inggris\b", re.I)
_ASKS_INDONESIAN = re.compile(
    r"\b(?:in|speak|use|using)\s+(?:indonesian|bahasa)\b|\bbahasa\s+indonesia\b|\bindonesian\s*,?\s*(?:please|pls)\b", re.I
)


def _asked_language(text: str) -> Lang | None:
    if _ASKS_ENGLISH.search(text):
        return "en"
    if _ASKS_INDONESIAN.search(text):
        return "id"
    return None


def _payload_intent(text: str) -> str | None:
    """``/faq/payment-methods`` or ``/human_handoff`` (a button press) → the intent name;
    ``/choose:<value>`` (a choice in a flow, the value may have spaces) → ``choose:<value>``."""
    text = text.strip()
    if text.startswith(intents.CHOICE_PREFIX):
        return text[1:]
    if text.startswith("/") and len(text) > 1 and " " not in text:
        return text[1:]
    return None


def _outgoing(message: dict[str, Any]) -> OutgoingMessage:
    buttons = tuple(Button(str(b["title"]), str(b["payload"])) for b in message.get("buttons") or ())
    expects = (message.get("custom") or {}).get("expects")
    return OutgoingMessage(text=message.get("text") or "", buttons=buttons, expects=expects)


def _buttons_json(buttons: tuple[Button, ...]) -> list[dict[str, str]]:
    return [{"title": b.title, "payload": b.payload} for b in buttons]


def _attachment_dict(attachment) -> dict[str, str]:
    return {"kind": attachment.kind, "url": attachment.url, "name": attachment.name}


def _nlu_record(parse: ParseResult, action: str | None) -> dict[str, Any]:
    record = parse.as_dict()
    record["intent_ranking"] = record["intent_ranking"][:5]
    record["normalized"] = parse.normalized
    record["suggestions"] = [{"name": s.name, "confidence": round(s.confidence, 4)} for s in parse.suggestions]
    record["action"] = action
    return record


def _shown(m: StoredMessage) -> OutgoingMessage:
    """A stored message as the customer is shown it."""
    return OutgoingMessage(m.text, tuple(Button(b["title"], b["payload"]) for b in m.buttons or ()), m.sender_type)

"""What the bot does with one understood message: a running flow's next step, or the
policy's one action.

Flows work the way Rasa's forms do. The flow's ``validate_<flow>_form`` action
(``bot/flows/forms.py``) checks the answer to the slot being asked; the first
slot still empty is asked next (``action_ask_flow_slot``); once every slot is
filled the flow's finishing action runs. Around that loop the customer stays in
charge: "batal" cancels at any step, a question in the middle ("ongkir ke
Medan berapa?") is answered and the flow picks up where it was, and starting
another flow (checking an order while ordering) parks the first one, which
resumes when the second is done.

State lives in the conversation's ``state`` (a dict the store keeps):
conversation-wide slots (misses, verified orders...) at the top, the running
flow under ``"flow"`` and parked ones, newest last, under ``"paused_flows"``.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import intents
from bot.catalog import find_products
from bot.flows import slots
from bot.flows.catalog import shown_product
from bot.flows.context import FlowContext
from bot.flows.faq import AWAITING_CITY
from bot.flows.forms import banks_named, payment_methods, validation_action_for
from bot.flows.values import is_cancel, named_as, only_asks_to_complain, typed_choice
from bot.orders.shipping import find_city, names_only_a_city
from bot.store.sanitize import is_blank
from bot.policy import FLOW_PREFIX, choose_action
from bot.shopdata.flows import FlowDef
from bot.types import ConversationStatus, IncomingMessage, IntentScore, Lang, ParseResult

# Slots kept for the whole conversation, outside any flow.
CONVERSATION_SLOTS = (
    slots.MISSES,
    slots.PENDING_OFFER,
    slots.PENDING_PHOTO,
    slots.VERIFIED_ORDERS,
    slots.LOOKUP_FAILURES,
    slots.LOOKUP_LOCKED_UNTIL,
    slots.TICKET_ID,
)
# Slots of the running flow that are not among its declared slots.
FLOW_SLOTS = (
    slots.FLOW, slots.REQUESTED_SLOT, slots.FLOW_ABORT, slots.FLOW_RUN_ID,
    slots.CART, slots.COURIER_NAME, slots.SHIPPING_COST,
)
FLOW = "flow"
# In a running flow: answers its opening message gave to questions asked later, by slot name.
LATER_ANSWERS = "later_answers"
# In a running flow: the choice buttons ([title, payload]) its last question offered.
OFFERED = "offered"
# Stands for the running flow's validation action in :meth:`Dialogue._act`.
VALIDATE = "validate"
PAUSED_FLOWS = "paused_flows"
# Flows parked at once (ordering, then checking an order, then confirming a payment...).
MAX_PAUSED = 3
# Answers that are free text: a question there is taken as a question, not as the answer.
FREE_TEXT_TYPES = ("text", "name")
# How sure the NLU must be before a message that does not answer the question is
# treated as something else (a question, another request).
DIGRESSION_CONFIDENCE = 0.6
# A catalog question that names a size or colour needs less of the NLU's confidence.
NAMED_OPTION_DIGRESSION = 0.5
# A flow untouched this long is parked when the customer writes again.
STALE_FLOW = timedelta(hours=2)
# An opening message this long already describes the problem (complaints).
DESCRIPTION_WORDS = 4
# Wrong answers in a row before the bot also offers a person.
MAX_WRONG_ANSWERS = 3
# A greeting mid-flow ("halo kak", or Telegram's /start pressed again) is not an answer:
# greeted back, then the flow's question again, rather than "that option doesn't exist".
DIGRESSION_INTENTS = (
    intents.GREET,
    intents.PRODUCT_SEARCH,
    intents.ORDER_STATUS,
    intents.PAYMENT_CONFIRMATION,
    intents.PLACE_ORDER,
    intents.COMPLAINT,
    intents.HUMAN_HANDOFF,
    intents.HELP,
)
_QUESTION = re.compile(
    r"\?\s*$|^(apa|apakah|berapa|brp|bagaimana|gimana|gmn|kapan|kenapa|knp|bisa|bisakah|ada|dimana|di mana|"
    r"how|what|when|where|why|can|could|do|does|is|are)\b",
    re.IGNORECASE,
)


@dataclass
class Turn:
    """One customer message with what the engine knows around it."""

    message: IncomingMessage
    parse: ParseResult
    lang: Lang
    status: str
    conversation_id: int
    customer_id: int
    customer_name: str | None = None
    # For a pressed button: what the customer wrote before it ("bajunya sobek" → [Laporkan]).
    previous_text: str | None = None
    # The conversation had messages before this one.
    already_talking: bool = False


@dataclass
class Outcome:
    """What the turn produced: messages to send, the new state, whether to hand over."""

    messages: list[dict[str, Any]]
    state: dict[str, Any]
    action: str
    handoff: bool = False
    ticket_id: str | None = None


@dataclass
class _Run:
    """Collects one turn's messages and effects while actions run."""

    turn: Turn
    state: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    handoff: bool = False
    action: str | None = None


class Dialogue:
    """Runs the actions for a turn. One per engine; holds no per-conversation state."""

    def __init__(self, flow_context: FlowContext, actions: dict[str, Action]) -> None:
        self.ctx = flow_context
        self.actions = actions
        # Every slot an action may read, unset (None), as a Rasa domain declares them:
        # rasa-sdk logs each read of an undeclared slot.
        self.unset_slots: dict[str, None] = dict.fromkeys(
            (*CONVERSATION_SLOTS, *FLOW_SLOTS, *(s.name for f in flow_context.shop.flows.values() for s in f.slots))
        )

    async def respond(self, turn: Turn, state: dict[str, Any]) -> Outcome:
        run = _Run(turn=turn, state=dict(state))
        flow = run.state.get(FLOW)
        if flow and self._stale(flow):
            # Back after hours: the message is probably not the answer to the old question.
            # Park the flow; starting it again ("mau pesan") brings it back as it was.
            run.state.pop(FLOW)
            _set_parked(run, ([f for f in run.state.get(PAUSED_FLOWS) or [] if f.get("name") != flow.get("name")] + [flow])[-MAX_PAUSED:])
            flow = None
        if flow and flow.get("name") in self.ctx.shop.flows:
            await self._continue(run, flow)
        else:
            run.state.pop(FLOW, None)
            await self._choose(run)
        if run.handoff and turn.status == ConversationStatus.BOT:
            await self._act(run, "action_handoff_ticket")  # every handoff waits as a ticket
        if run.state.get(FLOW):
            run.state[FLOW]["at"] = self.ctx.now().isoformat()
            run.state[FLOW][OFFERED] = _choices_offered(run.messages)
        return Outcome(
            run.messages, run.state, run.action or "action_fallback", run.handoff, run.state.get(slots.TICKET_ID)
        )

    def _stale(self, flow: dict[str, Any]) -> bool:
        at = flow.get("at")
        try:
            return bool(at) and self.ctx.now() - datetime.fromisoformat(at) > STALE_FLOW
        except ValueError:
            return True

    # -- outside flows ------------------------------------------------------------

    async def _choose(self, run: _Run) -> None:
        triggers = {f.trigger: f.name for f in self.ctx.shop.flows.values()}
        if self._city_after_shipping_answer(run):
            await self._act(run, "action_shipping_quote")
            return
        if _only_a_photo(run.turn.message):
            await self._act(run, "action_photo_received")
            return
        if self._buys_from_the_catalog(run.turn.parse):
            # "mau beli kain batik": the FAQ about fabrics shares its words, but the customer
            # said outright that they want to buy something the catalog has.
            order = next(s for s in run.turn.parse.ranking if s.name == intents.PLACE_ORDER)
            run.turn.parse = replace(run.turn.parse, intent=order, suggestions=())
        if (faq := _cancel_order_faq(run.turn.parse)) is not None:
            # "batalin aja pesanannya" with no flow running cancels nothing: the shop's
            # answer on cancelling a placed order, not "Oke Kak, sudah dibatalkan".
            run.turn.parse = replace(run.turn.parse, intent=faq, suggestions=())
        action = choose_action(run.turn.parse, run.state, triggers)
        if action.startswith(FLOW_PREFIX):
            await self._start(run, self.ctx.shop.flows[action[len(FLOW_PREFIX) :]])
        else:
            await self._act(run, action)

    def _buys_from_the_catalog(self, parse: ParseResult) -> bool:
        """The message opens with "mau beli/pesan/order", names products of the catalog, and the
        NLU, though it picked an FAQ entry, ranks ordering among its first guesses."""
        if not intents.is_faq(parse.intent.name) or not (said := _BUYING.match(parse.text)):
            return False
        if not any(s.name == intents.PLACE_ORDER for s in parse.ranking[:3]):
            return False
        return bool(find_products(self.ctx.shop.products, parse.text[said.end() :], limit=1, by_word=True))

    def _city_after_shipping_answer(self, run: _Run) -> bool:
        """The shipping answer asked which city, and this message names one and says little
        else the NLU understood ("surabaya", "ke jogja kak")."""
        parse = run.turn.parse
        if run.state.get(slots.PENDING_OFFER) != AWAITING_CITY:
            return False
        rates = getattr(self.ctx.shop, "shipping", None)
        if rates is None:
            return False
        if names_only_a_city(rates, parse.text):
            return True
        if parse.intent.name != intents.OUT_OF_SCOPE and not parse.suggestions:
            return False
        return find_city(rates, parse.text) is not None

    async def _act(self, run: _Run, name: str, flow: dict[str, Any] | None = None, events: list | None = None) -> list[dict]:
        """Run action ``name``; its messages join the turn's, its slot events are applied."""
        dispatcher = CollectingDispatcher()
        tracker = self._tracker(run, flow, events or [])
        domain = {"forms": {}, "slots": {}}
        if flow is not None:
            flow_def = self.ctx.shop.flows[flow["name"]]
            domain["forms"][flow_def.form_name] = {"required_slots": [s.name for s in flow_def.slots]}
        action = validation_action_for(self.ctx.shop.flows[flow["name"]]) if name == VALIDATE else self.actions[name]
        result = await action.run(dispatcher, tracker, domain)
        run.messages.extend(dispatcher.messages)
        run.action = run.action or name
        self._apply(run, flow, result or [])
        return dispatcher.messages

    def _apply(self, run: _Run, flow: dict[str, Any] | None, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event.get("event") != "slot":
                continue
            name, value = event["name"], event["value"]
            if name == slots.HANDOFF:
                run.handoff = run.handoff or bool(value)
            elif name in CONVERSATION_SLOTS:
                if value is None:
                    run.state.pop(name, None)
                else:
                    run.state[name] = value
            elif flow is not None and name != slots.REQUESTED_SLOT:
                flow["slots"][name] = value

    def _tracker(self, run: _Run, flow: dict[str, Any] | None, events: list[dict[str, Any]]) -> Tracker:
        turn = run.turn
        latest = turn.parse.as_dict()
        latest["normalized"] = turn.parse.normalized
        latest["suggestions"] = [{"name": s.name, "confidence": s.confidence} for s in turn.parse.suggestions]
        latest["attachments"] = [{"kind": a.kind, "url": a.url, "name": a.name} for a in turn.message.attachments]
        if not latest["attachments"] and run.state.get(slots.PENDING_PHOTO):
            latest["attachments"] = [run.state[slots.PENDING_PHOTO]]  # sent on its own, just before
        values: dict[str, Any] = dict(self.unset_slots)
        values.update({k: run.state[k] for k in CONVERSATION_SLOTS if k in run.state})
        values.update(
            {
                slots.LANG: turn.lang,
                slots.STATUS: turn.status,
                slots.ALREADY_TALKING: turn.already_talking,
                slots.CONVERSATION_ID: turn.conversation_id,
                slots.CUSTOMER_ID: turn.customer_id,
                slots.CUSTOMER_DISPLAY_NAME: turn.customer_name,
            }
        )
        if flow is not None:
            values.update(flow["slots"])
            values[slots.FLOW] = flow["name"]
            values[slots.FLOW_RUN_ID] = flow["run_id"]
            values[slots.REQUESTED_SLOT] = flow.get("requested")
        return Tracker(
            sender_id=f"{turn.message.channel}:{turn.message.sender_id}",
            slots=values,
            latest_message=latest,
            events=events,
            paused=False,
            followup_action=None,
            active_loop={"name": self.ctx.shop.flows[flow["name"]].form_name} if flow else {},
            latest_action_name=None,
        )

    # -- flows --------------------------------------------------------------------

    async def _start(self, run: _Run, flow_def: FlowDef) -> None:
        lang = run.turn.lang
        blocked = self._unavailable(run, flow_def)
        if blocked is not None:
            run.messages.append(blocked)
            run.action = "action_flow_unavailable"
            run.state[slots.PENDING_OFFER] = "handoff"
            return
        parked = list(run.state.get(PAUSED_FLOWS) or [])
        paused = next((f for f in reversed(parked) if f.get("name") == flow_def.name), None)
        if paused is not None:
            parked.remove(paused)
            _set_parked(run, parked)
            run.state[FLOW] = paused
            run.messages.append({"text": self.ctx.texts.get("flow_resumed", lang)})
            run.action = f"{FLOW_PREFIX}{flow_def.name}"
            await self._ask(run, paused)
            return
        flow = {
            "name": flow_def.name,
            "run_id": f"{run.turn.conversation_id}:{uuid.uuid4().hex[:16]}",
            "requested": None,
            "slots": {},
            "errors": 0,
            LATER_ANSWERS: self._later_answers(run, flow_def),
        }
        run.state[FLOW] = flow
        run.action = f"{FLOW_PREFIX}{flow_def.name}"
        seeds = self._seeds(run, flow_def)
        if shown_product(run.state.get(slots.PENDING_OFFER)):
            run.state.pop(slots.PENDING_OFFER)  # taken by this flow's seeds, or not meant for it
        if "description" in seeds and not run.turn.message.text.startswith("/"):
            # "barang sy dateng sobek, kecewa bgt": the complaint told in the first message skips
            # the question that says sorry, so it is said here. (A complaint opened with a button
            # follows the FAQ answer that already said it.)
            run.messages.append({"text": self.ctx.texts.get("flow_complaint_heard", lang)})
        before = len(run.messages)
        if seeds:
            await self._act(run, VALIDATE, flow, [SlotSet(name, value) for name, value in seeds.items()])
        run.state.pop(slots.PENDING_PHOTO, None)  # taken by this flow's seeds, or not meant for it
        waiting = self._next_slot(flow_def, flow)
        if waiting in seeds and any(m.get("buttons") for m in run.messages[before:]):
            flow["requested"] = waiting  # "which of these?" with buttons already asks it
            return
        await self._advance(run, flow)

    def _unavailable(self, run: _Run, flow_def: FlowDef) -> dict[str, Any] | None:
        """Why a flow cannot start here (no catalog, no database, lookups locked), as a message."""
        lang, texts = run.turn.lang, self.ctx.texts
        offer = _handoff_buttons(texts, lang)
        missing = {"text": texts.get(_UNAVAILABLE.get(flow_def.finish, "not_available_order"), lang), "buttons": offer}
        if flow_def.finish != "action_handoff_details" and self.ctx.orders is None:
            return missing
        if flow_def.finish == "action_place_order" and not (
            self.ctx.shop.products and getattr(self.ctx.shop, "shipping", None) and payment_methods(self.ctx)
        ):
            return missing
        if flow_def.finish in ("action_order_status", "action_confirm_payment"):
            until = run.state.get(slots.LOOKUP_LOCKED_UNTIL)
            if until and datetime.fromisoformat(until) > self.ctx.now():
                return {"text": texts.get("flow_lookup_still_locked", lang), "buttons": offer}
        return None

    def _seeds(self, run: _Run, flow_def: FlowDef) -> dict[str, Any]:
        """Slots the opening message already answers: "cek pesanan SP-2026-000123", "pesan kemeja
        parang L", "udah tf SP-2026-000123 ke BCA 396rb a.n. Sari"."""
        text = run.turn.message.text
        found = {e.entity for e in run.turn.parse.entities}
        if "product" not in found and find_products(self.ctx.shop.products, run.turn.parse.normalized, limit=1):
            found.add("product")  # "the parang shirt": a category or name the validator can narrow down
        # The photo sent just before choosing this flow, or with the opening message itself
        # (a Telegram photo captioned "udah tf SP-… ke BCA 396rb a.n. Sari").
        photo = run.state.get(slots.PENDING_PHOTO) or any(a.kind == "image" for a in run.turn.message.attachments)
        # The one product the previous answer showed: "I want to buy the brown one in XL",
        # "mau pesen 2 ya kak" right after it are about that product.
        shown = shown_product(run.state.get(slots.PENDING_OFFER)) if "product" not in found else None
        seeds = {}
        for slot in flow_def.slots:
            if slot.type == "image" and photo:
                seeds[slot.name] = "photo"
            elif slot.type == "product" and shown:
                seeds[slot.name] = intents.CHOICE_PREFIX + shown
            elif slot.type == "variant" and shown and found & {"size", "color"}:
                seeds[slot.name] = text
            elif slot.type in ("product", "order_number", "amount") and slot.type in found:
                seeds[slot.name] = text
            elif slot.type == "contact" and found & {"phone", "email"} and "order_number" in found:
                # Checked against the order named in the same message; without one there is
                # nothing to check it against, and a failed check would count against them.
                seeds[slot.name] = text
            elif slot.type == "bank" and len(banks := banks_named(self.ctx, text)) == 1:
                seeds[slot.name] = intents.CHOICE_PREFIX + banks[0]
            elif slot.type == "name" and (name := named_as(text)):
                seeds[slot.name] = name
            elif slot.name == "description":
                # "barangnya datang sobek kak" is the complaint itself, typed or just before the button.
                said = run.turn.previous_text if run.turn.message.text.startswith("/") else run.turn.message.text
                if said and len(said.split()) >= DESCRIPTION_WORDS and not only_asks_to_complain(said):
                    seeds[slot.name] = said
        return seeds

    def _later_answers(self, run: _Run, flow_def: FlowDef) -> dict[str, str]:
        """Answers the opening message gives to questions that can only be checked later:
        "mau pesan 2 kemeja parang" — how many is checked against the size picked next."""
        later = {}
        quantity = next((e.value for e in run.turn.parse.entities if e.entity == "quantity"), None)
        for slot in flow_def.slots:
            if slot.type == "quantity" and isinstance(quantity, int):
                later[slot.name] = str(quantity)
        return later

    async def _continue(self, run: _Run, flow: dict[str, Any]) -> None:
        turn, lang = run.turn, run.turn.lang
        flow_def = self.ctx.shop.flows[flow["name"]]
        slot = flow_def.slot(flow.get("requested") or "")
        if slot is None:
            await self._advance(run, flow)
            return
        intent = turn.parse.intent
        if is_cancel(turn.message.text) or (intent.name == intents.CANCEL and intent.confidence >= 0.8):
            self._end(run)
            run.messages.append({"text": self.ctx.texts.get(f"flow_cancelled_{_kind(flow_def)}", lang)})
            run.action = "action_cancel_flow"
            self._resume_paused(run)
            if run.state.get(FLOW):
                await self._ask(run, run.state[FLOW])
            return
        if intent.name == intents.HUMAN_HANDOFF and intent.confidence >= 0.8:
            await self._act(run, "action_handoff")
            return
        # "yg parang" under five shirts' buttons: that button, as if pressed.
        picked = None if turn.message.text.startswith("/") else typed_choice(turn.message.text, flow.get(OFFERED) or [])
        digression = None if picked or _answers_in_kind(slot.type, turn.parse) else self._digression(turn.parse, flow_def)
        if digression and slot.type in FREE_TEXT_TYPES and (_QUESTION.search(turn.message.text) or _only_greets(turn.parse)):
            await self._digress(run, flow, digression)
            return
        before = len(run.messages)
        answers = [SlotSet(slot.name, picked or turn.message.text)]
        contact = flow_def.slot_of_type("contact")
        found = {e.entity for e in turn.parse.entities}
        if slot.type == "order_number" and contact is not None and "order_number" in found and found & {"phone", "email"}:
            # "SP-2026-000123 081234567890" after a failed check: the proof comes with the number.
            answers.append(SlotSet(contact.name, turn.message.text))
        await self._act(run, VALIDATE, flow, answers)
        if flow["slots"].get(slots.FLOW_ABORT):
            self._end(run)
            return
        next_slot = self._next_slot(flow_def, flow)
        rejected = flow["slots"].get(slot.name) is None and next_slot == slot.name
        if not rejected:
            flow["errors"] = 0
            await self._advance(run, flow)
            return
        if digression:
            said = run.messages[before:]
            del run.messages[before:]  # it was not an answer: drop the "that's not valid" reply
            if digression == "action_product_search" and any(e.entity in ("size", "color") for e in turn.parse.entities):
                # "XL biru ada?" while choosing the Parang shirt's size: the catalog's other
                # products in XL biru follow, but first why this one cannot ("sold out").
                run.messages.extend({"text": m["text"]} for m in said if m.get("text"))
            await self._digress(run, flow, digression)
            return
        flow["errors"] = int(flow.get("errors", 0)) + 1
        said_with_buttons = any(m.get("buttons") for m in run.messages[before:])
        if not said_with_buttons:
            await self._ask(run, flow)
        if flow["errors"] >= MAX_WRONG_ANSWERS:
            flow["errors"] = 0
            run.messages.append({"text": self.ctx.texts.get("flow_stuck", lang), "buttons": _handoff_buttons(self.ctx.texts, lang)})
            run.state[slots.PENDING_OFFER] = "handoff"

    def _digression(self, parse: ParseResult, flow_def: FlowDef) -> str | None:
        """The action for a message that is not an answer but something else, or None."""
        intent = parse.intent
        if intents.is_faq(intent.name):
            return None if parse.suggestions or intent.confidence < DIGRESSION_CONFIDENCE else "action_answer_faq"
        threshold = DIGRESSION_CONFIDENCE
        if intent.name == intents.PRODUCT_SEARCH and any(e.entity in ("size", "color") for e in parse.entities):
            threshold = NAMED_OPTION_DIGRESSION  # "XL biru ada?": the options it names say it too
        if intent.name not in DIGRESSION_INTENTS or intent.confidence < threshold:
            return None
        for other in self.ctx.shop.flows.values():
            if other.trigger == intent.name:
                return None if other.name == flow_def.name else FLOW_PREFIX + other.name
        return choose_action(parse, {}, {})

    async def _digress(self, run: _Run, flow: dict[str, Any], action: str) -> None:
        """Answer the side question, then ask the flow's question again (or park the flow for another)."""
        if action.startswith(FLOW_PREFIX):
            parked = [f for f in run.state.get(PAUSED_FLOWS) or [] if f.get("name") != flow["name"]]
            _set_parked(run, (parked + [flow])[-MAX_PAUSED:])
            run.state.pop(FLOW, None)
            await self._start(run, self.ctx.shop.flows[action[len(FLOW_PREFIX) :]])
            return
        await self._act(run, action)
        if run.handoff:
            return
        run.messages.append({"text": self.ctx.texts.get("flow_back_to_it", run.turn.lang)})
        await self._ask(run, flow)

    async def _advance(self, run: _Run, flow: dict[str, Any]) -> None:
        """Ask the next empty slot; with none left, finish the flow."""
        flow_def = self.ctx.shop.flows[flow["name"]]
        if flow["slots"].get(slots.FLOW_ABORT):
            self._end(run)
            return
        next_slot = self._next_slot(flow_def, flow)
        later = flow.get(LATER_ANSWERS) or {}
        while next_slot is not None and next_slot in later:
            # Said already ("mau pesan 2 ..."): answered now that it can be checked, once.
            before = len(run.messages)
            await self._act(run, VALIDATE, flow, [SlotSet(next_slot, later.pop(next_slot))])
            if flow["slots"].get(next_slot) is None:
                if any(m.get("buttons") for m in run.messages[before:]):
                    flow["requested"] = next_slot  # "only 3 left" with buttons asks it again
                    return
                break
            next_slot = self._next_slot(flow_def, flow)
        if next_slot is not None:
            await self._ask(run, flow)
            return
        await self._act(run, flow_def.finish, flow)
        if self._next_slot(flow_def, flow) is not None:  # the finish sent the customer back a step
            await self._ask(run, flow)
            return
        self._end(run)
        if self._resume_paused(run):
            run.messages.append({"text": self.ctx.texts.get("flow_resume_paused", run.turn.lang)})
            await self._ask(run, run.state[FLOW])

    async def _ask(self, run: _Run, flow: dict[str, Any]) -> None:
        flow_def = self.ctx.shop.flows[flow["name"]]
        flow["requested"] = self._next_slot(flow_def, flow)
        if flow["requested"] is not None:
            await self._act(run, "action_ask_flow_slot", flow)

    @staticmethod
    def _next_slot(flow_def: FlowDef, flow: dict[str, Any]) -> str | None:
        return next((s.name for s in flow_def.slots if flow["slots"].get(s.name) is None), None)

    @staticmethod
    def _end(run: _Run) -> None:
        run.state.pop(FLOW, None)

    @staticmethod
    def _resume_paused(run: _Run) -> bool:
        parked = list(run.state.get(PAUSED_FLOWS) or [])
        if not parked or run.state.get(FLOW):
            return False
        run.state[FLOW] = parked.pop()
        _set_parked(run, parked)
        return True


# How a message says outright that the customer wants to buy: "mau beli", "kak pengen order".
_BUYING = re.compile(
    r"^\W*(?:(?:kak|ka|min|gan|sis|halo|hai)\W+)?(?:(?:saya|aku|sy|gue|gw)\s+)?"
    r"(?:mau|pengen|pingin|ingin|mo|mw)\s+(?:beli|pesan|pesen|order)\b|^\W*i(?:'d like| want| would like) to (?:buy|order)\b",
    re.IGNORECASE,
)
# Words with which a "cancel" names an order already placed ("batalin aja pesanannya").
_ORDER_WORDS = re.compile(r"\b(?:pesanan\w*|pesenan\w*|orderan\w*|order|orders|SP-?\d)", re.IGNORECASE)
# How far down the ranking an FAQ entry may be and still be the one such a message asks about.
CANCEL_ORDER_FAQ = 0.2


def _cancel_order_faq(parse: ParseResult) -> IntentScore | None:
    """The FAQ entry a "cancel" that names an order asks about (outside a flow, where there
    is nothing to cancel), when the NLU ranks one."""
    if parse.intent.name != intents.CANCEL or not _ORDER_WORDS.search(parse.text):
        return None
    faq = next((s for s in parse.ranking if intents.is_faq(s.name)), None)
    return faq if faq is not None and faq.confidence >= CANCEL_ORDER_FAQ else None


def _only_greets(parse: ParseResult) -> bool:
    """"halo kak" is a greeting, not a complaint's description or a name, though free text
    would take it: only when the NLU is all but sure, since a real answer may look alike."""
    return parse.intent.name == intents.GREET and parse.intent.confidence >= 0.9


def _answers_in_kind(slot_type: str, parse: ParseResult) -> bool:
    """The message is the kind of value the question asks for, so even when it is refused
    ("order SP-2026-000999 not found") it is a wrong answer to ask again, not a request to
    start the flow the value alone suggests (an order number alone reads as "check my order")."""
    return slot_type == "order_number" and any(e.entity == "order_number" for e in parse.entities)


def _choices_offered(messages: list[dict[str, Any]]) -> list[list[str]]:
    """The choice buttons of the turn's last message with buttons, as ``[title, payload]``."""
    for message in reversed(messages):
        if message.get("buttons"):
            return [
                [str(b.get("title") or ""), str(b["payload"])]
                for b in message["buttons"]
                if str(b.get("payload") or "").startswith(intents.CHOICE_PREFIX)
            ]
    return []


def _only_a_photo(message: IncomingMessage) -> bool:
    """An image with no words: a receipt or a damaged item, sent before saying anything."""
    return any(a.kind == "image" for a in message.attachments) and is_blank(message.text or "")


def _set_parked(run: _Run, parked: list[dict[str, Any]]) -> None:
    if parked:
        run.state[PAUSED_FLOWS] = parked
    else:
        run.state.pop(PAUSED_FLOWS, None)


# What the customer hears when a flow's finishing step cannot work in this shop.
_UNAVAILABLE = {
    "action_place_order": "not_available_order",
    "action_order_status": "not_available_order_status",
    "action_confirm_payment": "not_available_payment_confirmation",
}


def _kind(flow_def: FlowDef) -> str:
    return {"action_place_order": "order", "action_confirm_payment": "payment", "action_order_status": "status"}.get(
        flow_def.finish, "other"
    )


def _handoff_buttons(texts, lang: Lang) -> list[dict[str, str]]:
    return [
        {"title": texts.get("offer_handoff_button", lang), "payload": "/human_handoff"},
        {"title": texts.get("no_thanks_button", lang), "payload": "/deny"},
    ]


def payload_entities(text: str) -> tuple[str, list[dict[str, Any]]] | None:
    """``/place_order{"product":"BTK-KMJ-001"}`` (Rasa's payload form) → intent and entities."""
    match = re.fullmatch(r"/([\w/\-]+)(\{.*\})?", text.strip(), flags=re.S)
    if match is None:
        return None
    entities: list[dict[str, Any]] = []
    if match.group(2):
        try:
            data = json.loads(match.group(2))
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        entities = [{"entity": str(k), "value": v} for k, v in data.items() if isinstance(v, (str, int))]
    return match.group(1), entities

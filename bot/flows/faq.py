"""Answering from the shop's FAQ, and asking "did you mean…" when unsure.

A shipping question gets the shop's live rates on top of the admin's answer: with a city
in it ("ongkir ke sby brp?") the couriers' prices to that city follow the answer; without
one, the next message naming a city ("surabaya") is answered with them.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.catalog import rupiah
from bot.flows import context, slots
from bot.flows.common import lang_of
from bot.orders.shipping import find_city, quotes
from bot.shopdata.model import FaqEntry, ShopData

# The FAQ category whose answers the shop's rates complete.
SHIPPING_CATEGORY = "shipping"
# PENDING_OFFER after a shipping answer without a city: a city named next gets the rates.
AWAITING_CITY = "shipping_city"
# The rates quoted are for a parcel of this weight; the order flow prices the real cart.
QUOTE_WEIGHT_GRAMS = 1000


class ActionAnswerFaq(Action):
    """Answers the FAQ entry named by the intent ``faq/<id>`` in the customer's language."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context.current()
        lang = lang_of(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        entry = ctx.shop.faq(intent.removeprefix("faq/"))
        if entry is None:  # the model knows an entry the data no longer has
            dispatcher.utter_message(text=ctx.texts.get("fallback", lang))
            return [SlotSet(slots.MISSES, int(tracker.get_slot(slots.MISSES) or 0) + 1)]
        buttons = [
            {"title": b.title.get(lang) or b.title.get("id", ""), "payload": b.payload}
            for b in entry.buttons
        ]
        answer = entry.answer[lang]
        if tracker.get_slot(slots.ALREADY_TALKING):
            answer = without_salutation(answer)
        quote = None
        if _quotes_rates(ctx, entry):
            quote = shipping_quote(ctx, tracker.latest_message.get("text") or "", lang)
            if quote is not None:
                answer = without_asking_the_city(answer)  # the city was named: the rates follow
        dispatcher.utter_message(text=answer, buttons=buttons)
        pending = None
        if _quotes_rates(ctx, entry):
            if quote is not None:
                dispatcher.utter_message(text=quote)
            else:
                pending = AWAITING_CITY
        return [SlotSet(slots.MISSES, 0), SlotSet(slots.PENDING_OFFER, pending)]


# "Halo Kak! ", "Hi! ", "Hai Kak, ": how FAQ answers written to stand alone open.
_SALUTATION = re.compile(r"^(?:halo|hallo|hai|hi|hello|hey)(?:[\s,]+(?:kak|kakak|sis|gan|there))?\s*[!,.]\s*", re.IGNORECASE)


def without_salutation(answer: str) -> str:
    """The answer without its opening "Halo Kak!": said once at the start of a chat it is
    friendly, before every answer of a conversation it is not how an admin talks."""
    rest = _SALUTATION.sub("", answer, count=1)
    if rest == answer or not rest:
        return answer
    return rest[0].upper() + rest[1:]


# The closing sentence of a shipping answer that asks for the destination ("Sebutkan kota
# tujuan Kakak, nanti kami cekkan ongkirnya.", "Tell us your city and we'll check it for you.").
_ASKS_THE_CITY = re.compile(
    r"(?<=[.!?])\s+[^.!?]*\b(?:sebutkan|sebut|kasih tahu|kabari|infokan|tulis|tell us|let us know|send us)\b"
    r"[^.!?]*\b(?:kota|city|tujuan|destination)\b[^.!?]*[.!?]?\s*$",
    re.IGNORECASE,
)


def without_asking_the_city(answer: str) -> str:
    """The answer without its last sentence when that sentence asks which city: asked when
    the question named one, it reads as if the customer had not been heard."""
    return _ASKS_THE_CITY.sub("", answer).rstrip() or answer


def _quotes_rates(ctx: context.FlowContext, entry: FaqEntry) -> bool:
    return entry.category == SHIPPING_CATEGORY and getattr(ctx.shop, "shipping", None) is not None


def rates_to_city(shop: ShopData, text: str, lang: str) -> tuple[str, list[tuple[str, str, str]]] | None:
    """The city ``text`` names and every courier's ``(name, price, delivery time)`` to it for
    a 1 kg parcel, from ``shipping.yml``, cheapest first; ``None`` when it names no city the
    shop knows (or the shop has no rates)."""
    rates = getattr(shop, "shipping", None)
    city = find_city(rates, text) if rates is not None else None
    if city is None:
        return None
    return city.name, [
        (q.courier_name, rupiah(q.cost, lang), (q.etd.get(lang) or q.etd.get("id") or "") if q.etd else "")
        for q in quotes(rates, city, QUOTE_WEIGHT_GRAMS)
    ]


def shipping_quote(ctx: context.FlowContext, text: str, lang: str) -> str | None:
    """Every courier's price to the city ``text`` names, as a message; ``None`` when it names
    no city the shop knows."""
    found = rates_to_city(ctx.shop, text, lang)
    if found is None:
        return None
    city, options = found
    if not options:
        return ctx.texts.get("shipping_quote_none", lang, city=city)
    lines = "\n".join(f"• {name}: {price}" + (f" ({etd})" if etd else "") for name, price, etd in options)
    return ctx.texts.get("shipping_quote", lang, city=city, options=lines)


class ActionShippingQuote(Action):
    """Answers a city named after a shipping answer ("surabaya") with the rates to it."""

    def name(self) -> str:
        return "action_shipping_quote"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context.current()
        lang = lang_of(tracker)
        quote = shipping_quote(ctx, tracker.latest_message.get("text") or "", lang)
        dispatcher.utter_message(text=quote or ctx.texts.get("fallback", lang))
        return [SlotSet(slots.MISSES, 0), SlotSet(slots.PENDING_OFFER, None)]


class ActionClarify(Action):
    """Offers up to three likely FAQ entries as buttons when the NLU is unsure."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context.current()
        lang = lang_of(tracker)
        buttons = []
        for suggestion in tracker.latest_message.get("suggestions", [])[:3]:
            name = suggestion["name"]
            title = _suggestion_title(name, lang)
            if title:
                buttons.append({"title": title, "payload": "/" + name})
        misses = int(tracker.get_slot(slots.MISSES) or 0) + 1
        if not buttons:
            dispatcher.utter_message(text=ctx.texts.get("fallback", lang))
            return [SlotSet(slots.MISSES, misses)]
        buttons.append({"title": ctx.texts.get("clarify_none", lang), "payload": "/out_of_scope"})
        dispatcher.utter_message(text=ctx.texts.get("clarify", lang), buttons=buttons)
        return [SlotSet(slots.MISSES, misses), SlotSet(slots.PENDING_OFFER, None)]


def _suggestion_title(intent_name: str, lang: str) -> str | None:
    """A button title for a suggested intent: the FAQ entry's first question in ``lang``."""
    if not intent_name.startswith("faq/"):
        return None
    entry = context.current().shop.faq(intent_name.removeprefix("faq/"))
    if entry is None:
        return None
    questions = entry.questions.get(lang) or entry.all_questions()
    return questions[0] if questions else None


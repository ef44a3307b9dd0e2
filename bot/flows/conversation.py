"""The conversational basics: small talk, fallback, and handing over to a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.flows import context, slots
from bot.flows.common import lang_of, offer_handoff_buttons
from bot.types import ConversationStatus

# Intents answered with one fixed text each, keyed like the text table.
SMALL_TALK = ("greet", "goodbye", "thanks", "help", "cancel", "feedback", "affirm", "deny")

# Intents whose flows arrive in later releases; the bot says so and offers a person.
NOT_YET_AVAILABLE = {
    "place_order": "not_available_order",
    "order_status": "not_available_order_status",
    "payment_confirmation": "not_available_payment_confirmation",
    "complaint": "not_available_complaint",
}


class ActionSmallTalk(Action):
    """Greetings, thanks, goodbye, help, cancel, feedback and a plain yes/no."""

    def name(self) -> str:
        return "action_small_talk"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        texts = context.current().texts
        lang = lang_of(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        key = intent if intent in SMALL_TALK else "help"
        if intent == "deny" and tracker.get_slot(slots.PENDING_OFFER) == "handoff":
            key = "handoff_declined"
        if intent == "greet" and tracker.get_slot(slots.STATUS) == ConversationStatus.WAITING_FOR_AGENT:
            # "halo min, masih lama?" from the queue: a fresh welcome would forget they are waiting.
            key = "handoff_already_waiting"
        dispatcher.utter_message(text=texts.get(key, lang))
        return [SlotSet(slots.MISSES, 0), SlotSet(slots.PENDING_OFFER, None)]


class ActionFallback(Action):
    """Says politely that the bot did not understand; the second miss in a row hands over."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context.current()
        lang = lang_of(tracker)
        misses = int(tracker.get_slot(slots.MISSES) or 0) + 1
        if misses < 2:
            dispatcher.utter_message(text=ctx.texts.get("fallback", lang))
            return [SlotSet(slots.MISSES, misses), SlotSet(slots.PENDING_OFFER, None)]
        if tracker.get_slot(slots.STATUS) == ConversationStatus.WAITING_FOR_AGENT:
            dispatcher.utter_message(text=ctx.texts.get("handoff_already_waiting", lang))
            return [SlotSet(slots.MISSES, 0)]
        dispatcher.utter_message(
            text=ctx.texts.get("fallback_handoff", lang, hours_note=ctx.hours_note(lang))
        )
        return [SlotSet(slots.MISSES, 0), SlotSet(slots.HANDOFF, True)]


class ActionHandoff(Action):
    """The customer asked for a person: queue the conversation for an agent."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context.current()
        lang = lang_of(tracker)
        if tracker.get_slot(slots.STATUS) in (
            ConversationStatus.WAITING_FOR_AGENT,
            ConversationStatus.WITH_AGENT,
        ):
            dispatcher.utter_message(text=ctx.texts.get("handoff_already_waiting", lang))
            return [SlotSet(slots.MISSES, 0), SlotSet(slots.PENDING_OFFER, None)]
        dispatcher.utter_message(text=ctx.texts.get("handoff", lang, hours_note=ctx.hours_note(lang)))
        return [SlotSet(slots.MISSES, 0), SlotSet(slots.PENDING_OFFER, None), SlotSet(slots.HANDOFF, True)]


class ActionNotYetAvailable(Action):
    """Orders, order status, payment confirmation and complaints are not built yet:
    say so honestly and offer a person instead of a fake flow."""

    def name(self) -> str:
        return "action_not_yet_available"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        texts = context.current().texts
        lang = lang_of(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        key = NOT_YET_AVAILABLE.get(intent, "not_available_order")
        dispatcher.utter_message(text=texts.get(key, lang), buttons=offer_handoff_buttons(lang))
        return [SlotSet(slots.MISSES, 0), SlotSet(slots.PENDING_OFFER, "handoff")]


class ActionPhotoReceived(Action):
    """A photo without a word outside a flow: ask what it is for, and keep it for the flow
    the customer picks (a transfer receipt, a damaged item), instead of "belum paham"."""

    def name(self) -> str:
        return "action_photo_received"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context.current()
        lang = lang_of(tracker)
        photo = next(x for x in tracker.latest_message.get("attachments") or [] if x.get("kind") == "image")
        buttons = [
            {"title": ctx.texts.get("photo_for_payment", lang), "payload": "/payment_confirmation"},
            {"title": ctx.texts.get("photo_for_complaint", lang), "payload": "/complaint"},
            {"title": ctx.texts.get("photo_for_person", lang), "payload": "/human_handoff"},
        ]
        dispatcher.utter_message(text=ctx.texts.get("photo_received", lang), buttons=buttons)
        return [SlotSet(slots.MISSES, 0), SlotSet(slots.PENDING_OFFER, None), SlotSet(slots.PENDING_PHOTO, photo)]

"""Answering from the shop's FAQ, and asking "did you mean…" when unsure."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.flows import context, slots
from bot.flows.common import lang_of


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
        dispatcher.utter_message(text=entry.answer[lang], buttons=buttons)
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


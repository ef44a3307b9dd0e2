"""Small helpers the actions share."""

from __future__ import annotations

from rasa_sdk import Tracker

from bot.flows import context, slots
from bot.types import Lang


def identity(tracker: Tracker) -> tuple[str, str]:
    """``(channel, external id)`` of the customer: the engine names trackers ``channel:id``."""
    channel, _, external_id = tracker.sender_id.partition(":")
    return channel, external_id


def lang_of(tracker: Tracker) -> Lang:
    return "en" if tracker.get_slot(slots.LANG) == "en" else "id"


def offer_handoff_buttons(lang: Lang) -> list[dict[str, str]]:
    """The "talk to a person?" buttons; a typed yes/no answers them too."""
    texts = context.current().texts
    return [
        {"title": texts.get("offer_handoff_button", lang), "payload": "/human_handoff"},
        {"title": texts.get("no_thanks_button", lang), "payload": "/deny"},
    ]

"""Which action answers a turn, given what the NLU understood and the conversation so far."""

from __future__ import annotations

import re
from typing import Any, Mapping

from bot import intents
from bot.flows import slots
from bot.flows.conversation import NOT_YET_AVAILABLE, SMALL_TALK
from bot.types import ParseResult


# choose_action's answer for "start this flow": ``flow:<flow name>``.
FLOW_PREFIX = "flow:"


def choose_action(parse: ParseResult, state: Mapping[str, Any], flow_triggers: Mapping[str, str]) -> str:
    """The name of the action for this turn, or ``flow:<name>`` to start a flow.

    ``flow_triggers`` maps an intent to the flow it starts (from the flow files).

    Never a dead end: a confident FAQ hit is answered; an unsure one becomes a
    "did you mean" question; a miss gets a polite fallback, and the second miss
    in a row hands the conversation to a person (inside ``action_fallback``).
    """
    intent = parse.intent.name
    if _only_an_order_number(parse) and intents.ORDER_STATUS in flow_triggers:
        # A pasted "SP-2026-000123" is the customer asking about that order, not an FAQ question.
        return FLOW_PREFIX + flow_triggers[intents.ORDER_STATUS]
    if intent == intents.OUT_OF_SCOPE and _names_an_order(parse) and intents.ORDER_STATUS in flow_triggers:
        # "I ordered a shirt last week and it still hasn't arrived, order SP-2026-000123": what
        # the NLU cannot place but quotes an order number is about that order, not "didn't get that".
        return FLOW_PREFIX + flow_triggers[intents.ORDER_STATUS]
    if _explicit_complaint(parse) and intents.COMPLAINT in flow_triggers:
        # "mau komplain, kainnya luntur parah": an FAQ about fading would not file the complaint.
        return FLOW_PREFIX + flow_triggers[intents.COMPLAINT]
    if intents.is_faq(intent):
        # The NLU offers suggestions only when its FAQ match is middling: then a
        # question with buttons beats answering what may be the wrong entry.
        return "action_clarify" if parse.suggestions else "action_answer_faq"
    if intent == intents.AFFIRM and state.get(slots.PENDING_OFFER) == "handoff":
        return "action_handoff"
    if intent == intents.HUMAN_HANDOFF:
        return "action_handoff"
    if intent == intents.PRODUCT_SEARCH:
        return "action_product_search"
    if intent in flow_triggers:
        return FLOW_PREFIX + flow_triggers[intent]
    if intent in NOT_YET_AVAILABLE:
        return "action_not_yet_available"
    if intent in SMALL_TALK:
        return "action_small_talk"
    if parse.suggestions:
        return "action_clarify"
    return "action_fallback"


# Words with which a customer says outright that this is a complaint.
_COMPLAINT_WORDS = re.compile(r"\b(komplain|komplen|complain|complaint|keluhan|mengeluh)\b", re.IGNORECASE)
# How far down the ranking the complaint intent may be when the customer says "komplain".
COMPLAINT_SAID_SCORE = 0.2


def _explicit_complaint(parse: ParseResult) -> bool:
    """The customer wrote "komplain" and the NLU also sees a complaint among its top guesses."""
    if parse.intent.name == intents.COMPLAINT or not _COMPLAINT_WORDS.search(parse.text):
        return False
    return any(s.name == intents.COMPLAINT and s.confidence >= COMPLAINT_SAID_SCORE for s in parse.ranking[:3])


# What may stand around a pasted order number: "SP-2026-000123 kak", "no pesanan: SP-…".
_AROUND_NUMBER = re.compile(
    r"^(?:\W|kak|ka|min|gan|sis|ya|dong|nih|ini|no|nomor|nomer|pesanan|order|number|resi)*$", re.IGNORECASE
)


def _names_an_order(parse: ParseResult) -> bool:
    return sum(1 for e in parse.entities if e.entity == "order_number") == 1


def _only_an_order_number(parse: ParseResult) -> bool:
    """The message is an order number and nothing that says what the customer wants with it."""
    found = [e for e in parse.entities if e.entity == "order_number"]
    if len(found) != 1:
        return False
    rest = parse.text[: found[0].start] + " " + parse.text[found[0].end :]
    return all(_AROUND_NUMBER.match(word) for word in rest.split())

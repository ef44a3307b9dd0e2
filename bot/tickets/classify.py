"""A complaint's category and priority, by the rules in ``tickets.yml`` (pure functions).

Category: the first category (in file order) one of whose words or phrases
appears in the complaint, after the NLU's normalization of chat language
("brg udh rusak" → "barang sudah rusak"); a long word also matches with one
typo ("robekk"). No category matches → the catch-all (the last one without words).

Priority starts at the category's and is raised by:

- fraud words ("penipuan", "lapor polisi") → ``urgent``, whatever else;
- angry words ("kecewa", "parah", "kapok") → one level up;
- repeated contact: another ticket from this customer in ``repeat_contact_days`` → one level up;
- an order worth at least ``high_value_order`` rupiah → one level up.

Levels stop at ``urgent``. Each raise is returned as a reason, so agents see why.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from bot.nlu.normalize import normalize
from bot.nlu.stem import stem
from bot.shopdata.tickets import PRIORITIES, Category, TicketConfig

_WORD = re.compile(r"\w+")
TYPO_MIN_LENGTH = 6
TYPO_SCORE = 88


def _mentions(text: str, words: set[str], phrase: str) -> bool:
    if " " in phrase:
        return phrase in text
    if phrase in words:
        return True
    if len(phrase) >= TYPO_MIN_LENGTH:
        return any(len(w) >= TYPO_MIN_LENGTH and fuzz.ratio(w, phrase) >= TYPO_SCORE for w in words)
    return False


def _prepared(text: str) -> tuple[str, set[str]]:
    """The text as written, normalized ("udh" → "sudah") and stemmed ("jahitannya" → "jahit"),
    so a listed word or phrase is found in any of the three."""
    lowered = " ".join(_WORD.findall(text.lower()))
    normalized = " ".join(_WORD.findall(normalize(text).lower()))
    stemmed = " ".join(stem(w) for w in normalized.split())
    joined = f"{lowered} | {normalized} | {stemmed}"
    return f" {joined} ", set(joined.split())


def categorize(config: TicketConfig, text: str) -> Category:
    """The category the complaint belongs to."""
    padded, words = _prepared(text)
    for category in config.categories:
        if any(_mentions(padded, words, w) or _mentions(padded, words, _stem_phrase(w)) for w in category.words):
            return category
    return config.fallback


def _stem_phrase(phrase: str) -> str:
    return " ".join(stem(w) for w in phrase.split())


def prioritize(
    config: TicketConfig,
    category: Category,
    text: str,
    *,
    recent_tickets: int = 0,
    order_total: int | None = None,
) -> tuple[str, list[str]]:
    """``(priority, reasons)`` for a complaint of ``category``."""
    padded, words = _prepared(text)
    rules = config.rules
    if any(_mentions(padded, words, w) for w in rules.fraud_words):
        return "urgent", ["fraud_words"]
    level = PRIORITIES.index(category.priority)
    reasons: list[str] = []
    if any(_mentions(padded, words, w) for w in rules.angry_words):
        level += 1
        reasons.append("angry_words")
    if recent_tickets > 0 and rules.repeat_contact_days > 0:
        level += 1
        reasons.append("repeat_contact")
    if order_total is not None and rules.high_value_order > 0 and order_total >= rules.high_value_order:
        level += 1
        reasons.append("high_value_order")
    return PRIORITIES[min(level, len(PRIORITIES) - 1)], reasons

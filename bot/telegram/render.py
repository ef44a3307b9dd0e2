"""From the engine's messages to Telegram sends, and from Telegram's users to languages.

Everything is sent as plain text (no ``parse_mode``), so whatever a customer,
an agent or an FAQ file wrote — ``<b>``, ``*``, ``_``, ``&`` — arrives exactly as
written and can never break formatting or be refused by Telegram.

An outgoing message becomes one or more *parts*, each one Telegram send, each
stored as an outbox row's ``payload``:

- ``{"text": "...", "markup": None}``
- ``{"text": "...", "markup": {"inline": [[{"text": title, "data": callback_data}], ...]}}``
- ``{"text": "...", "markup": {"contact": label}}`` (a one-time reply keyboard with
  Telegram's share-contact button)
- ``{"photo": url}``

Quick replies travel as callback data: the payload itself when it is a short
``/...`` payload (Telegram allows 64 bytes), otherwise ``~<token>`` where the
token (a hash of the payload) is stored with the payload in ``telegram_callbacks``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from bot.intents import CHOICE_PREFIX
from bot.types import Lang

MAX_TEXT = 4096  # Telegram's limit per message, in UTF-16 code units
MAX_CALLBACK_DATA = 64  # bytes
TOKEN_PREFIX = "~"
INTERNAL_PREFIX = "tg:"  # callback data the adapter handles itself (language, promotions)
NOOP = "tg:noop"

Part = dict[str, Any]

# Payloads that answer the question their message asked (yes/no, skip, cancel, a choice):
# their meaning depends on what the conversation is waiting for.
ANSWER_PAYLOADS = ("/affirm", "/deny", "/skip", "/cancel")


def answers_a_question(payload: str) -> bool:
    return payload in ANSWER_PAYLOADS or payload.startswith(CHOICE_PREFIX)


def _units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji is often two)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """The number of characters of ``text`` that fit in ``limit`` UTF-16 units."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return i
    return len(text)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces Telegram accepts: at a line break if there is one in the
    second half of the piece, else at a space, else (one very long word) anywhere."""
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if _units(rest) <= limit:
            pieces.append(rest)
            break
        n = _fit(rest, limit)
        head = rest[:n]
        cut = head.rfind("\n")
        if cut < n // 2:
            cut = max(head.rfind(" "), head.rfind("\t"))
        if cut < n // 4:
            cut = n
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip()
    return pieces


def callback_token(payload: str) -> str:
    """A short, stable token for a payload (the same payload always gets the same token)."""
    digest = hashlib.sha256(payload.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode("ascii")


def callback_data(payload: str, tokens: dict[str, str]) -> str:
    """The callback data for a button's payload; long or unusual ones go through ``tokens``."""
    fits = len(payload.encode("utf-8")) <= MAX_CALLBACK_DATA
    if fits and (payload.startswith("/") or payload.startswith(INTERNAL_PREFIX)):
        return payload
    token = callback_token(payload)
    tokens[token] = payload
    return TOKEN_PREFIX + token


def inline_markup(buttons: Iterable[tuple[str, str]], tokens: dict[str, str]) -> dict[str, Any]:
    """An inline keyboard, one button per row (titles can be long), from (title, payload) pairs."""
    return {
        "inline": [
            [{"text": title[:128] or "…", "data": callback_data(payload, tokens)}]
            for title, payload in buttons
        ]
    }


def render(
    text: str,
    buttons: Sequence[tuple[str, str]] = (),
    attachments: Sequence[dict[str, Any]] = (),
    *,
    expects: str | None = None,
    contact_label: str = "",
    contact_hint: str = "",
    tokens: dict[str, str],
) -> list[Part]:
    """The parts of one message, in sending order.

    Images first, then the text in pieces; the quick replies ride on the last
    piece. When the message asks for a phone number, the share-contact keyboard
    rides on the last piece instead — or, when that piece already carries quick
    replies (a message can have only one keyboard), on a short extra part.
    """
    parts: list[Part] = []
    for attachment in attachments:
        url = attachment.get("url") if isinstance(attachment, dict) else None
        if isinstance(url, str) and url:
            parts.append({"photo": url})
    pieces = split_text(text)
    for piece in pieces:
        parts.append({"text": piece, "markup": None})
    text_parts = [p for p in parts if "text" in p]
    if buttons:
        if not text_parts:  # a keyboard needs a message to sit on
            parts.append({"text": "👇", "markup": None})
            text_parts = parts[-1:]
        text_parts[-1]["markup"] = inline_markup(buttons, tokens)
    if expects == "phone" and contact_label:
        if text_parts and text_parts[-1]["markup"] is None:
            text_parts[-1]["markup"] = {"contact": contact_label}
        else:
            parts.append({"text": contact_hint or contact_label, "markup": {"contact": contact_label}})
    return parts


def lang_from_code(language_code: str | None, default: Lang) -> Lang:
    """A Telegram user's interface language as one of ours: Indonesian (and the
    regional languages of Indonesia) → ``id``, English → ``en``, anything else → ``default``."""
    code = (language_code or "").lower().replace("_", "-").split("-")[0]
    if code in ("id", "in", "jv", "su", "ms", "mad", "ban", "min"):
        return "id"
    if code == "en":
        return "en"
    return default


def phone_text(phone_number: str) -> str:
    """A shared contact's number as the customer would type it (``+628…``)."""
    digits = "".join(ch for ch in phone_number if ch.isdigit())
    return "+" + digits if digits else phone_number.strip()

"""Checking and cleaning what callers hand the store, before it is queued.

Validation errors belong to the caller that made them, so they are raised here
rather than inside a write batch where they would cost other turns a retry.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from bot.store.records import ConversationChanges, NewMessage
from bot.types import LANGS, ConversationStatus

SENDER_TYPES = ("customer", "bot", "agent", "system")
CUSTOMER_FIELDS = frozenset({"display_name", "phone", "email", "lang"})
MAX_CLIENT_ID = 128
MAX_EXTERNAL_ID = 255
MAX_CHANNEL = 32

_SURROGATE = re.compile("[\ud800-\udfff]")
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|d[89a-f])", re.IGNORECASE)


def clean_text(value: str) -> str:
    """Make a string storable on every backend, otherwise unchanged.

    PostgreSQL rejects NUL characters in text and JSON, and no UTF-8 encoder
    takes lone surrogates (which a JSON body can smuggle in as ``\\ud800``);
    both become U+FFFD so one odd message cannot fail a turn.
    """
    if not value.isascii():
        value = _SURROGATE.sub("\ufffd", value)
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def clean_json(value: Any) -> Any:
    """:func:`clean_text` applied to every string (keys too) in a JSON value."""
    # Fast path, run per message: json.dumps (C code) escapes NULs and
    # surrogates, so one regex search over its output tells whether a value
    # can be stored as is. Emoji (surrogate pairs when escaped) take the slow path.
    if value is None or not _SUSPECT_ESCAPE.search(json.dumps(value)):
        return value
    return _clean_json(value)


def _clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    return value


def clean_key(value: str, name: str, max_length: int) -> str:
    """A cleaned identifier (channel, external id, client id) that fits its column."""
    value = clean_text(value)
    if not value:
        raise ValueError(f"{name} must not be empty")
    if len(value) > max_length:
        raise ValueError(f"{name} is longer than {max_length} characters")
    return value


def clean_message(message: NewMessage) -> NewMessage:
    """A validated, storable copy of ``message``."""
    if message.sender_type not in SENDER_TYPES:
        raise ValueError(f"unknown sender_type {message.sender_type!r}")
    return replace(
        message,
        text=clean_text(message.text),
        buttons=clean_json(message.buttons),
        attachments=clean_json(message.attachments),
        nlu=None if message.nlu is None else clean_json(message.nlu),
        client_id=(
            None
            if message.client_id is None
            else clean_key(message.client_id, "client_id", MAX_CLIENT_ID)
        ),
    )


def clean_messages(messages: Iterable[NewMessage]) -> list[NewMessage]:
    """:func:`clean_message` for each message."""
    return [clean_message(m) for m in messages]


def clean_changes(changes: ConversationChanges) -> ConversationChanges:
    """A validated, storable copy of ``changes``."""
    if changes.status is not None and changes.status not in ConversationStatus.ALL:
        raise ValueError(f"unknown conversation status {changes.status!r}")
    if changes.lang is not None and changes.lang not in LANGS:
        raise ValueError(f"unsupported language {changes.lang!r}")
    if changes.state is None:
        return changes
    return replace(changes, state=clean_json(changes.state))


def clean_customer_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Validated customer columns for :meth:`bot.store.db.Store.update_customer`."""
    unknown = set(fields) - CUSTOMER_FIELDS
    if unknown:
        raise TypeError(f"unknown customer fields: {', '.join(sorted(unknown))}")
    if "lang" in fields and fields["lang"] not in LANGS:
        raise ValueError(f"unsupported language {fields['lang']!r}")
    return {k: (clean_text(v) if isinstance(v, str) else v) for k, v in fields.items()}


def is_blank(text: str) -> bool:
    """Nothing a person could see: whitespace, control and format characters only.

    A zero-width space or a direction mark alone passes ``str.strip()``; taken for a
    message it was read as a confident "yes" mid-order."""
    return all(c.isspace() or unicodedata.category(c) in ("Cc", "Cf") for c in text)

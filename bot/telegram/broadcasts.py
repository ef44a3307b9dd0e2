"""Promotions to the Telegram customers who said yes.

Recording a broadcast only writes a row; the server process holding the
Telegram lease turns it into one outbox row per opted-in chat (optionally only
those in one language) and sends them through the rate limiter, about
25 messages a second overall and never two in one second to one chat. The
rows double as the per-recipient report: ``sent``, ``failed``, ``blocked`` (the
customer blocked the bot) or still ``pending``.

Who gets promotions: only customers who opted in — the yes button under the
question the bot asks after ``/start``, the ``/promo`` command, or a
``t.me/<bot>?start=promo`` link. ``/stop`` opts out at any time; every
broadcast ends with a line saying so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.telegram import db as tgdb

if TYPE_CHECKING:
    from bot.store import Store

MAX_TEXT = 3500  # leaves room for the opt-out line within Telegram's 4096


class InvalidBroadcast(ValueError):
    """The text or language of a broadcast cannot be used; the message says why."""


def clean(text: object, lang: object) -> tuple[str, str | None]:
    if not isinstance(text, str) or not text.strip():
        raise InvalidBroadcast("the text of a broadcast must not be empty")
    text = "".join(ch for ch in text.strip() if ch in "\n\t" or ch.isprintable())
    if len(text) > MAX_TEXT:
        raise InvalidBroadcast(f"the text is longer than {MAX_TEXT} characters")
    if lang in (None, "", "all"):
        return text, None
    if lang not in ("id", "en"):
        raise InvalidBroadcast('lang must be "id", "en" or left out (everyone)')
    return text, str(lang)


async def create(store: "Store", text: object, lang: object = None, created_by: str | None = None) -> tuple[int, int]:
    """Record a broadcast; returns its id and how many chats it would reach now."""
    text, lang = clean(text, lang)
    broadcast_id = await store.write(
        lambda conn, now: tgdb.create_broadcast(conn, now, text=text, lang=lang, created_by=created_by)
    )
    audience = await store.read(tgdb.audience, lang)
    return broadcast_id, audience


async def report(store: "Store", broadcast_id: int) -> tgdb.BroadcastReport | None:
    return await store.read(tgdb.broadcast_report, broadcast_id)


async def recent(store: "Store", limit: int = 50) -> list[tgdb.BroadcastReport]:
    return await store.read(tgdb.list_broadcasts, limit)


def format_report(r: tgdb.BroadcastReport) -> str:
    who = {"id": "Indonesian-speaking", "en": "English-speaking", None: "all"}[r.lang]
    lines = [
        f"Broadcast #{r.id} — {r.status}",
        f"  to:        {who} opted-in Telegram customers",
        f"  created:   {r.created_at:%Y-%m-%d %H:%M} UTC" + (f" by {r.created_by}" if r.created_by else ""),
        f"  recipients: {r.recipients if r.recipients is not None else '(not started yet)'}",
        f"  sent: {r.sent}   failed: {r.failed}   blocked: {r.blocked}   pending: {r.pending}",
    ]
    if r.finished_at:
        lines.append(f"  finished:  {r.finished_at:%Y-%m-%d %H:%M} UTC")
    preview = r.text if len(r.text) <= 200 else r.text[:197] + "…"
    lines.append("  text:      " + preview.replace("\n", "\n             "))
    return "\n".join(lines)

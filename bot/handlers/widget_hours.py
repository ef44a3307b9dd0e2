"""Business hours as the widget shows them: online or not, and when a person answers next."""

from __future__ import annotations

from datetime import datetime

from bot.shopdata.widget import BusinessHours
from bot.types import Lang

_DAY_NAMES = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def format_next_open(at: datetime | None, now: datetime, lang: Lang) -> str:
    """``besok pukul 08.00 WIB`` / ``tomorrow at 08:00 WIB`` (``at`` in the shop's zone)."""
    if at is None:
        return "secepatnya" if lang == "id" else "as soon as possible"
    local_now = now.astimezone(at.tzinfo)
    days = (at.date() - local_now.date()).days
    zone = at.tzname() or ""
    if lang == "id":
        clock = f"{at.hour:02d}.{at.minute:02d}"
        day = "hari ini" if days == 0 else "besok" if days == 1 else f"hari {_DAY_NAMES['id'][at.weekday()]}"
        return f"{day} pukul {clock} {zone}".strip()
    clock = f"{at.hour:02d}:{at.minute:02d}"
    day = "today" if days == 0 else "tomorrow" if days == 1 else _DAY_NAMES["en"][at.weekday()]
    return f"{day} at {clock} {zone}".strip()


def availability(hours: BusinessHours | None, now: datetime, lang: Lang) -> tuple[bool, str | None]:
    """``(online, offline message or None)`` at ``now``; no business hours means always online."""
    if hours is None or hours.is_open(now):
        return True, None
    when = format_next_open(hours.next_open(now), now, lang)
    template = hours.offline_message.get(lang) or hours.offline_message.get("id") or ""
    return False, template.format_map(_KeepMissing(next_open=when))

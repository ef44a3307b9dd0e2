"""Business hours as the widget shows them: online or not, and when a person answers next."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from typing import Any

from bot.shopdata.widget import BusinessHours
from bot.types import LANGS, Lang

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


# How far ahead the widget is told about changes, and how many: enough for a
# weekend, small enough for every ``welcome``; the widget asks again after the last.
SCHEDULE_DAYS = 8
SCHEDULE_STATES = 6


def _moments(hours: BusinessHours, now: datetime) -> list[datetime]:
    """Every opening, closing and local midnight (the wording says "today"/"tomorrow") ahead of ``now``."""
    local = now.astimezone(hours.zone)
    points: set[datetime] = set()
    for ahead in range(SCHEDULE_DAYS + 1):
        day = local.date() + timedelta(days=ahead)
        points.add(datetime.combine(day, time(0, 0), tzinfo=hours.zone))
        for start, end in hours.days[day.weekday()]:
            for minute in (start, end):
                at = datetime.combine(day, time(0, 0), tzinfo=hours.zone) + timedelta(minutes=minute)
                points.add(at)
    return sorted(at for at in points if at > now)


def schedule(hours: BusinessHours | None, now: datetime) -> list[dict[str, Any]]:
    """What the widget shows from now on: ``[{in_seconds, online, offline_message}]``.

    The first entry is the state at ``now`` (``in_seconds`` 0); each next one is a
    moment the notice changes (the shop opens or closes, or its "besok" becomes
    "hari ini" at midnight), in whole seconds from ``now`` rounded up, so a page
    left open updates itself without asking the server. Offsets rather than clock
    times keep a visitor's wrong computer clock out of it. ``offline_message`` is
    ``{id, en}`` (or None when online) so a language switch needs no new answer.
    """

    def state(at: datetime) -> tuple[bool, dict[str, str] | None]:
        online = hours is None or hours.is_open(at)
        return online, None if online else {lang: availability(hours, at, lang)[1] or "" for lang in LANGS}

    current = state(now)
    states = [{"in_seconds": 0, "online": current[0], "offline_message": current[1]}]
    if hours is None:
        return states
    for at in _moments(hours, now):
        if len(states) >= SCHEDULE_STATES:
            break
        following = state(at)
        if following != current:
            seconds = math.ceil((at - now).total_seconds())
            states.append({"in_seconds": seconds, "online": following[0], "offline_message": following[1]})
            current = following
    return states

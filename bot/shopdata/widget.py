"""``widget.yml``: how the website chat widget looks and behaves (optional).

```yaml
version: 1
title: {id: "Chat dengan Batik Sekar Ayu", en: "Chat with Batik Sekar Ayu"}
logo: "/widget/assets/logo.svg"        # an https:// URL or a path on this server (optional)
colors: {primary: "#8B4513", text_on_primary: "#FFFFFF"}
position: right                         # right | left
greeting: {id: "...", en: "..."}
prechat: {name: required, email: optional, phone: off}   # each off | optional | required
business_hours:
  timezone: Asia/Jakarta
  days: {mon: "08:00-17:00", ..., sat: "08:00-14:00", sun: closed}
  offline_message: {id: "... {next_open} ...", en: "..."}
csat: {enabled: true, question: {id: "...", en: "..."}}
allowed_origins: []                     # empty = any origin
limits: {messages_per_minute: 40, messages_per_minute_per_ip: 120, max_chars: 2000,
         upload_max_bytes: 5242880}
```

Every key is optional; a data dir without the file gets :func:`default_widget_config`.
A bilingual text may give one language only; the other then uses it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ruamel.yaml.nodes import ScalarNode, SequenceNode

from .problems import Problems
from .yamlio import (
    TAG_BOOL,
    Field,
    bilingual,
    describe,
    integer,
    is_null,
    mapping,
    read_yaml,
    text,
    text_node,
    version,
)

WIDGET_KEYS = (
    "version",
    "title",
    "logo",
    "colors",
    "position",
    "greeting",
    "prechat",
    "business_hours",
    "csat",
    "allowed_origins",
    "limits",
)
PRECHAT_FIELDS = ("name", "email", "phone")
PRECHAT_MODES = ("off", "optional", "required")
POSITIONS = ("right", "left")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LIMIT_KEYS = ("messages_per_minute", "messages_per_minute_per_ip", "max_chars", "upload_max_bytes")
# Upper bounds that keep one widget frame / upload within what the server accepts.
MAX_CHARS_CEILING = 4000
UPLOAD_CEILING = 20 * 1024 * 1024

_COLOR_RE = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_RANGE_RE = re.compile(r"(\d{1,2})[:.](\d{2})\s*[-–]\s*(\d{1,2})[:.](\d{2})")
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")

DEFAULT_GREETING = {
    "id": "Halo Kak! 👋 Ada yang bisa kami bantu? Tanya soal produk, pembayaran, atau pengiriman juga boleh.",
    "en": "Hi there! 👋 How can we help? Ask us about products, payment or shipping.",
}
DEFAULT_OFFLINE = {
    "id": "Tim kami sedang offline. Admin akan membalas mulai {next_open}. "
    "Sementara itu, asisten kami tetap siap menjawab ya, Kak.",
    "en": "Our team is offline right now; a person will reply from {next_open}. "
    "Meanwhile, our assistant is happy to help.",
}
DEFAULT_CSAT_QUESTION = {
    "id": "Bagaimana pengalaman Kakak chat dengan kami hari ini?",
    "en": "How was your chat with us today?",
}


@dataclass(frozen=True)
class WidgetLimits:
    messages_per_minute: int = 40
    messages_per_minute_per_ip: int = 120
    max_chars: int = 2000
    upload_max_bytes: int = 5 * 1024 * 1024


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours per weekday (0 = Monday) as ``(start, end)`` minutes after midnight."""

    timezone: str
    days: tuple[tuple[tuple[int, int], ...], ...]  # 7 entries, Monday first
    offline_message: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_OFFLINE))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.days[local.weekday()])

    def next_open(self, now: datetime) -> datetime | None:
        """The next time the shop opens after ``now`` (local time), or None when it never does."""
        local = now.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        for ahead in range(8):
            day = local.date() + timedelta(days=ahead)
            for start, _end in self.days[day.weekday()]:
                if ahead == 0 and start <= minute:
                    continue
                at = datetime.combine(day, time(start // 60, start % 60), tzinfo=self.zone)
                return at
        return None


@dataclass(frozen=True)
class WidgetConfig:
    """The widget's look and rules; see the module docstring for the file."""

    title: dict[str, str]
    greeting: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_GREETING))
    logo: str | None = None
    primary_color: str = "#8B4513"
    text_on_primary: str = "#FFFFFF"
    position: str = "right"
    prechat: dict[str, str] = field(default_factory=lambda: {f: "off" for f in PRECHAT_FIELDS})
    business_hours: BusinessHours | None = None
    csat_enabled: bool = True
    csat_question: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CSAT_QUESTION))
    allowed_origins: tuple[str, ...] = ()
    limits: WidgetLimits = field(default_factory=WidgetLimits)

    def public(self) -> dict[str, Any]:
        """What the browser may know (``POST /widget/session``'s ``config``)."""
        return {
            "title": dict(self.title),
            "logo": self.logo,
            "colors": {"primary": self.primary_color, "text_on_primary": self.text_on_primary},
            "position": self.position,
            "greeting": dict(self.greeting),
            "prechat": dict(self.prechat),
            "csat": {"enabled": self.csat_enabled, "question": dict(self.csat_question)},
            "limits": {
                "max_chars": self.limits.max_chars,
                "upload_max_bytes": self.limits.upload_max_bytes,
            },
        }


def default_widget_config(shop_name: str | None = None) -> WidgetConfig:
    """The widget of a data dir without ``widget.yml``."""
    if shop_name:
        title = {"id": f"Chat dengan {shop_name}", "en": f"Chat with {shop_name}"}
    else:
        title = {"id": "Chat dengan kami", "en": "Chat with us"}
    return WidgetConfig(title=title)


# -- reading -----------------------------------------------------------------


def read_widget_file(path: Path, probs: Problems, shop_name: str | None = None) -> WidgetConfig | None:
    """Read and check ``widget.yml``; None when it has errors (each one recorded)."""
    root = read_yaml(path, probs)
    if root is None:
        return None
    fields = mapping(probs, root, "widget.yml", allowed=WIDGET_KEYS)
    if fields is None:
        return None
    before = len(probs.sink)
    version(probs, fields, "1")
    base = default_widget_config(shop_name)
    values: dict[str, Any] = {}

    if "title" in fields:
        values["title"] = _texts(probs, fields["title"], "title")
    if "greeting" in fields:
        values["greeting"] = _texts(probs, fields["greeting"], "greeting")
    if "logo" in fields:
        values["logo"] = _logo(probs, fields["logo"])
    if "colors" in fields:
        colors = mapping(probs, fields["colors"].node, "colors", line=fields["colors"].line,
                         allowed=("primary", "text_on_primary"))
        for key, attr in (("primary", "primary_color"), ("text_on_primary", "text_on_primary")):
            if colors and key in colors:
                values[attr] = _color(probs, colors[key], f"colors: {key}")
    if "position" in fields:
        values["position"] = _choice(probs, fields["position"], "position", POSITIONS)
    if "prechat" in fields:
        values["prechat"] = _prechat(probs, fields["prechat"])
    if "business_hours" in fields:
        values["business_hours"] = _business_hours(probs, fields["business_hours"])
    if "csat" in fields:
        csat = mapping(probs, fields["csat"].node, "csat", line=fields["csat"].line,
                       allowed=("enabled", "question"))
        if csat and "enabled" in csat:
            values["csat_enabled"] = _boolean(probs, csat["enabled"], "csat: enabled")
        if csat and "question" in csat:
            values["csat_question"] = _texts(probs, csat["question"], "csat question")
    if "allowed_origins" in fields:
        values["allowed_origins"] = _origins(probs, fields["allowed_origins"])
    if "limits" in fields:
        values["limits"] = _limits(probs, fields["limits"])

    if len(probs.sink) > before and any(p.is_error for p in probs.sink[before:]):
        return None
    return WidgetConfig(
        title=values.get("title") or base.title,
        **{k: v for k, v in values.items() if k != "title" and v is not None},
    )


def _texts(probs: Problems, fld: Field, what: str) -> dict[str, str] | None:
    value = bilingual(probs, fld, what, require_all=False)
    if not value:
        return None
    # One language given: the other shows the same text rather than nothing.
    return {"id": value.get("id") or value["en"], "en": value.get("en") or value["id"]}


def _split(value: str) -> SplitResult | None:
    """``urlsplit(value)``, or None for what it cannot parse ("http://[": an unclosed IPv6 host)."""
    try:
        return urlsplit(value)
    except ValueError:
        return None


def _logo(probs: Problems, fld: Field) -> str | None:
    if is_null(fld.node):
        return None
    value = text(probs, fld, "logo")
    if value is None:
        return None
    parts = _split(value)
    if parts is not None and parts.scheme in ("https", "http") and parts.netloc:
        return value
    if parts is not None and not parts.scheme and not parts.netloc and value.startswith("/") and not value.startswith("//"):
        return value
    probs.error(fld.line, f"logo must be an https:// URL or a path starting with '/', got {value!r}")
    return None


def _color(probs: Problems, fld: Field, what: str) -> str | None:
    value = text(probs, fld, what)
    if value is None:
        return None
    if not _COLOR_RE.fullmatch(value):
        probs.error(fld.line, f"{what} must be a hex colour like \"#8B4513\" (in quotes), got {value!r}")
        return None
    return value


def _choice(probs: Problems, fld: Field, what: str, choices: tuple[str, ...]) -> str | None:
    value = text(probs, fld, what)
    if value is None:
        return None
    if value not in choices:
        probs.error(fld.line, f"{what} must be one of {', '.join(choices)}, got {value!r}")
        return None
    return value


def _boolean(probs: Problems, fld: Field, what: str) -> bool | None:
    node = fld.node
    if isinstance(node, ScalarNode) and not is_null(node):
        tag = node.tag if isinstance(node.tag, str) else str(getattr(node.tag, "value", node.tag))
        if tag == TAG_BOOL:
            return str(node.value).lower() == "true"
    probs.error(fld.line, f"{what} must be true or false, got {describe(node)}")
    return None


def _prechat(probs: Problems, fld: Field) -> dict[str, str] | None:
    entries = mapping(probs, fld.node, "prechat", line=fld.line, allowed=PRECHAT_FIELDS)
    if entries is None:
        return None
    result = {f: "off" for f in PRECHAT_FIELDS}
    for key, entry in entries.items():
        mode = _choice(probs, entry, f"prechat: {key}", PRECHAT_MODES)
        if mode is not None:
            result[key] = mode
    return result


def _business_hours(probs: Problems, fld: Field) -> BusinessHours | None:
    entries = mapping(
        probs, fld.node, "business_hours", line=fld.line,
        allowed=("timezone", "days", "offline_message"), required=("timezone", "days"),
    )
    if entries is None:
        return None
    timezone: str | None = None
    if "timezone" in entries:
        timezone = text(probs, entries["timezone"], "business_hours: timezone")
        if timezone is not None:
            try:
                ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError):
                probs.error(
                    entries["timezone"].line,
                    f"unknown timezone {timezone!r}; use a name like Asia/Jakarta, Asia/Makassar or Asia/Jayapura",
                )
                timezone = None
    days: list[tuple[tuple[int, int], ...]] | None = None
    if "days" in entries:
        days = _days(probs, entries["days"])
    offline = dict(DEFAULT_OFFLINE)
    if "offline_message" in entries:
        message = _texts(probs, entries["offline_message"], "offline_message")
        if message is None:
            return None
        for lang, value in message.items():
            for name in _PLACEHOLDER_RE.findall(value):
                if name != "next_open":
                    probs.error(
                        entries["offline_message"].line,
                        f"offline_message ({lang}) has an unknown placeholder {{{name}}}; "
                        "only {next_open} is filled in",
                    )
                    return None
        offline = message
    if timezone is None or days is None:
        return None
    return BusinessHours(timezone=timezone, days=tuple(days), offline_message=offline)


def _days(probs: Problems, fld: Field) -> list[tuple[tuple[int, int], ...]] | None:
    entries = mapping(probs, fld.node, "business_hours: days", line=fld.line, allowed=DAYS)
    if entries is None:
        return None
    days: list[tuple[tuple[int, int], ...]] = [() for _ in DAYS]
    ok = True
    for key, entry in entries.items():
        value = text(probs, entry, f"hours for {key}")
        if value is None:
            ok = False
            continue
        if value.lower() == "closed":
            continue
        ranges = []
        for part in value.split(","):
            parsed = _time_range(part.strip())
            if parsed is None:
                probs.error(
                    entry.line,
                    f"hours for {key} must be like \"08:00-17:00\" (several separated by commas) "
                    f"or closed, got {value!r}",
                )
                ok = False
                break
            ranges.append(parsed)
        else:
            ranges.sort()
            if any(a[1] > b[0] for a, b in zip(ranges, ranges[1:])):
                probs.error(entry.line, f"hours for {key} overlap: {value!r}")
                ok = False
            days[DAYS.index(key)] = tuple(ranges)
    return days if ok else None


def _time_range(value: str) -> tuple[int, int] | None:
    match = _RANGE_RE.fullmatch(value)
    if not match:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        return None
    start, end = h1 * 60 + m1, h2 * 60 + m2
    return (start, end) if start < end else None


def _origins(probs: Problems, fld: Field) -> tuple[str, ...] | None:
    node = fld.node
    if is_null(node):
        return ()
    if not isinstance(node, SequenceNode):
        probs.error(fld.line, f"allowed_origins must be a list like [\"https://shop.example\"], got {describe(node)}")
        return None
    origins: list[str] = []
    ok = True
    for item in node.value:
        line = item.start_mark.line + 1
        value = text_node(probs, item, line, "an allowed origin")
        if value is None:
            ok = False
            continue
        parts = _split(value)
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc \
                or parts.path not in ("", "/") or parts.query or parts.fragment:
            probs.error(
                line,
                f"allowed origin must be a scheme and host like \"https://shop.example\" "
                f"(no path), got {value!r}",
            )
            ok = False
            continue
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return tuple(origins) if ok else None


def _limits(probs: Problems, fld: Field) -> WidgetLimits | None:
    entries = mapping(probs, fld.node, "limits", line=fld.line, allowed=LIMIT_KEYS)
    if entries is None:
        return None
    values: dict[str, int] = {}
    ok = True
    for key, entry in entries.items():
        example = {"upload_max_bytes": "5242880", "max_chars": "2000"}.get(key, "20")
        value = integer(probs, entry, f"limits: {key}", minimum=1, example=example)
        if value is None:
            ok = False
            continue
        ceiling = {"max_chars": MAX_CHARS_CEILING, "upload_max_bytes": UPLOAD_CEILING}.get(key)
        if ceiling is not None and value > ceiling:
            probs.error(entry.line, f"limits: {key} must be at most {ceiling}, got {value}")
            ok = False
            continue
        values[key] = value
    return WidgetLimits(**values) if ok else None

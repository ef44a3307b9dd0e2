"""The shop's order rules from ``shop.yml``: payment deadline, reminder, accounts, time zone.

```yaml
payment_deadline_days: 3      # unpaid orders are cancelled after this (default 3)
payment_deadline_hours: 12    # optional, added to the days (e.g. days 0 + hours 12)
payment_reminder_hours: 24    # a reminder this long before the deadline (default 24; 0 = none)
timezone: Asia/Jakarta        # how times are shown and which year an order number gets
bank_accounts: [{bank: BCA, number: "123-456-7890", holder: CV Sekar Ayu}]
ewallets: [{name: OVO, number: "0812-3456-7890", holder: CV Sekar Ayu}]
```

``sapa check`` reports wrong values with their line (:func:`check_shop_order_keys`);
at run time a wrong value falls back to the default rather than failing.
"""

from __future__ import annotations

import difflib

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.shopdata.problems import Problems

if TYPE_CHECKING:
    from bot.shopdata.yamlio import Field

DEFAULT_DEADLINE_DAYS = 3
DEFAULT_REMINDER_HOURS = 24
DEFAULT_TIMEZONE = "Asia/Jakarta"
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


@dataclass(frozen=True)
class Account:
    """Where to pay: a bank account or an e-wallet number."""

    bank: str  # "BCA", or the e-wallet's name ("OVO")
    number: str
    holder: str = ""  # the account holder's name ("" when not given)


@dataclass(frozen=True)
class OrderSettings:
    deadline: timedelta = timedelta(days=DEFAULT_DEADLINE_DAYS)
    remind_before: timedelta = timedelta(hours=DEFAULT_REMINDER_HOURS)
    timezone: str = DEFAULT_TIMEZONE
    bank_accounts: tuple[Account, ...] = ()
    ewallets: tuple[Account, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def zone_name(self) -> str:
        return ZONE_NAMES.get(self.timezone, self.timezone)

    def year_of(self, at: datetime) -> int:
        """The year of ``at`` in the shop's time zone (order numbers: SP-<year>-...)."""
        return at.astimezone(self.zone).year

    @classmethod
    def from_shop(cls, shop: dict[str, object]) -> "OrderSettings":
        days = _whole(shop.get("payment_deadline_days"), DEFAULT_DEADLINE_DAYS)
        hours = _whole(shop.get("payment_deadline_hours"), 0)
        deadline = timedelta(days=days, hours=hours)
        if deadline <= timedelta(0):
            deadline = timedelta(days=DEFAULT_DEADLINE_DAYS)
        reminder = _whole(shop.get("payment_reminder_hours"), DEFAULT_REMINDER_HOURS)
        zone = shop.get("timezone")
        if not isinstance(zone, str) or not _valid_zone(zone):
            zone = DEFAULT_TIMEZONE
        return cls(
            deadline=deadline,
            remind_before=timedelta(hours=reminder),
            timezone=zone,
            bank_accounts=_accounts(shop.get("bank_accounts"), "bank"),
            ewallets=_accounts(shop.get("ewallets"), "name"),
        )


def _whole(value: object, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return default
    return value


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _accounts(value: object, name_key: str) -> tuple[Account, ...]:
    if not isinstance(value, list):
        return ()
    found = []
    for item in value:
        if isinstance(item, dict):
            bank, number, holder = item.get(name_key), item.get("number"), item.get("holder") or ""
            if all(isinstance(v, (str, int)) and str(v).strip() for v in (bank, number)):
                found.append(Account(str(bank).strip(), str(number).strip(), str(holder).strip()))
    return tuple(found)


# The shop.yml keys the order book reads.
SETTING_KEYS = (
    "payment_deadline_days", "payment_deadline_hours", "payment_reminder_hours", "timezone",
    "bank_accounts", "ewallets",
)


def check_shop_order_keys(path: Path, probs: Problems) -> None:
    """Report wrong order settings in ``shop.yml`` as ``FILE:LINE`` problems.

    The file's syntax and its other keys are checked by the shop.yml reader; this
    looks only at the keys above.
    """
    from bot.shopdata.yamlio import integer, mapping, read_yaml, sequence, text_node

    quiet = Problems(probs.file, [])  # what the shop.yml reader reports already
    root = read_yaml(path, quiet)
    fields = None if root is None else mapping(quiet, root, "shop.yml")
    if fields is None:
        return
    for key, field in fields.items():
        if key in SETTING_KEYS:
            continue
        # shop.yml takes free-form facts too, so an unknown key is no error; but one a
        # letter away from a setting ("payment_deadline_day") is a setting left unused.
        close = difflib.get_close_matches(key, SETTING_KEYS, n=1, cutoff=0.85)
        if close:
            probs.warning(field.key_line, f"'{key}' is not a setting and is ignored; did you mean '{close[0]}'?")
    numbers: dict[str, int | None] = {}
    for key in ("payment_deadline_days", "payment_deadline_hours", "payment_reminder_hours"):
        if key in fields:
            numbers[key] = integer(probs, fields[key], key, example="3")
    days = numbers.get("payment_deadline_days", DEFAULT_DEADLINE_DAYS)
    hours = numbers.get("payment_deadline_hours", 0)
    if days == 0 and hours == 0:
        field = fields.get("payment_deadline_days") or fields["payment_deadline_hours"]
        probs.error(field.line, "the payment deadline must be longer than 0 (days and hours are both 0)")
    if "timezone" in fields:
        field = fields["timezone"]
        zone = text_node(probs, field.node, field.line, "timezone")
        if zone is not None and not _valid_zone(zone):
            probs.error(
                field.line,
                f"timezone '{zone}' is not a time zone name like Asia/Jakarta, Asia/Makassar or Asia/Jayapura",
            )
    for key, name_key in (("bank_accounts", "bank"), ("ewallets", "name")):
        if key not in fields:
            continue
        for item in sequence(probs, fields[key], key) or ():
            keys = (name_key, "number", "holder")
            entry = mapping(probs, item, f"an entry of {key}", allowed=keys, required=keys[:2])
            for sub in keys:
                if entry is not None and sub in entry:
                    field = entry[sub]
                    what = f"'{sub}' of an entry of {key}"
                    if text_node(probs, field.node, field.line, what) is not None:
                        _check_number_as_written(probs, field, what)


def _check_number_as_written(probs: Problems, field: "Field", what: str) -> None:
    """An unquoted 0123456789 or +62812... is a YAML integer that loses its 0 or +;
    the shop would send customers an account number that is not theirs."""
    from bot.shopdata.yamlio import TAG_INT, node_tag, parse_int

    raw = str(field.node.value)
    if node_tag(field.node) != TAG_INT:
        return
    try:
        read = str(parse_int(raw))
    except ValueError:
        read = "?"
    if read != raw:
        probs.error(field.line, f'write the {what} in quotes, like "{raw}": without them YAML reads it as {read}')

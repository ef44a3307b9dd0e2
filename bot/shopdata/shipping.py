"""``shipping.yml``: where the shop ships from, the zones, couriers with their rates, and cities.

```yaml
version: 1
origin: surakarta                 # the city the shop ships from (an id below)
zones:                            # ids used by the couriers' rates and the cities
  - {id: dalam-kota, name: {id: "Dalam kota", en: "Same city"}}
  - {id: jawa, name: {id: "Pulau Jawa", en: "Java"}}
couriers:
  - id: jne-reg                   # [a-z0-9-]+, unique; what an order records
    name: JNE REG                 # what customers see
    tracking_url: "https://cekresi.com/?noresi={tracking_number}"   # optional
    max_weight_grams: 50000       # optional: heavier parcels are not offered this courier
    rates:                        # per zone; a zone left out is not served by this courier
      dalam-kota: {per_kg: 8000, days: "1-2"}
      jawa: {per_kg: 14000, days: "2-3"}
  - id: gosend
    name: GoSend Instant
    rates:
      dalam-kota: {flat: 20000, etd: {id: "Hari ini, 1–3 jam", en: "Today, 1–3 hours"}}
cities:
  - {id: surakarta, name: Surakarta, zone: dalam-kota, aliases: [Solo]}
  - {id: jakarta, name: Jakarta, zone: jawa, province: DKI Jakarta, aliases: [Jakarta Selatan, Jaksel]}
```

A rate is ``per_kg`` (rupiah per started kilogram, at least 1 kg) or ``flat`` (one
price whatever the weight), with ``days`` ("2", "2-3") or a bilingual ``etd``.
Every problem is reported as ``FILE:LINE: message``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.nodes import SequenceNode

from .problems import Problems
from .yamlio import (
    Field,
    bilingual,
    integer,
    line_of,
    mapping,
    read_yaml,
    sequence,
    text,
    text_node,
    version,
)

ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
DAYS_RE = re.compile(r"(\d{1,2})(?:\s*[-–]\s*(\d{1,2}))?")
FILE_KEYS = ("version", "origin", "zones", "couriers", "cities")
ZONE_KEYS = ("id", "name")
COURIER_KEYS = ("id", "name", "rates", "tracking_url", "max_weight_grams")
RATE_KEYS = ("per_kg", "flat", "days", "etd")
CITY_KEYS = ("id", "name", "zone", "province", "aliases")


# Words that say what kind of place follows, not which one.
PLACE_WORDS = frozenset({"kota", "kab", "kabupaten", "city", "regency", "kotamadya", "provinsi"})
_NON_WORD = re.compile(r"[^\w]+")


def normalize_place(text: str) -> str:
    """``"Kota  Surakarta!"`` → ``"surakarta"``: lowercase, no accents or punctuation, no "kota"/"kab."."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    words = _NON_WORD.sub(" ", text).replace("_", " ").split()
    while len(words) > 1 and words[0] in PLACE_WORDS:
        words = words[1:]
    return " ".join(words)


@dataclass(frozen=True)
class Zone:
    id: str
    name: dict[str, str]  # lang -> name; may be empty


@dataclass(frozen=True)
class Rate:
    """What one courier charges for one zone, and how long it takes."""

    cost: int  # rupiah: per started kg (per_kg), or the whole parcel (flat)
    flat: bool
    etd: dict[str, str]  # lang -> "2–3 hari"


@dataclass(frozen=True)
class Courier:
    id: str
    name: str
    rates: dict[str, Rate]  # zone id -> rate
    tracking_url: str | None = None  # with {tracking_number}
    max_weight_grams: int | None = None


@dataclass(frozen=True)
class City:
    id: str
    name: str
    zone: str
    province: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShippingRates:
    """The whole of ``shipping.yml``."""

    origin: str  # city id
    zones: tuple[Zone, ...]
    couriers: tuple[Courier, ...]
    cities: tuple[City, ...]
    source: str = ""  # the file, for messages
    # normalized name or alias -> city id; built by the reader (see bot.orders.shipping)
    index: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def city(self, city_id: str) -> City | None:
        for city in self.cities:
            if city.id == city_id:
                return city
        return None

    def courier(self, courier_id: str) -> Courier | None:
        for courier in self.couriers:
            if courier.id == courier_id:
                return courier
        return None

    @property
    def origin_city(self) -> City | None:
        return self.city(self.origin)


def etd_for_days(low: int, high: int) -> dict[str, str]:
    """``(2, 3)`` → ``{"id": "2–3 hari", "en": "2–3 days"}``."""
    if low == high:
        return {"id": f"{low} hari", "en": f"{low} day" + ("" if low == 1 else "s")}
    return {"id": f"{low}–{high} hari", "en": f"{low}–{high} days"}


def _slug(probs: Problems, f: Field, what: str) -> str | None:
    value = text(probs, f, what)
    if value is not None and not ID_RE.fullmatch(value):
        probs.error(f.line, f"{what} '{value}' must be lowercase letters, digits and dashes (like jne-reg)")
        return None
    return value


def _read_zones(probs: Problems, f: Field, lines: dict[str, int]) -> dict[str, Zone]:
    zones: dict[str, Zone] = {}
    for item in sequence(probs, f, "zones") or ():
        fields = mapping(probs, item, "a zone", allowed=ZONE_KEYS, required=("id",))
        if fields is None or "id" not in fields:
            continue
        zone_id = _slug(probs, fields["id"], "zone id")
        name = bilingual(probs, fields["name"], "zone name", require_all=False) if "name" in fields else {}
        if zone_id is None:
            continue
        if zone_id in zones:
            probs.error(fields["id"].line, f"duplicate zone '{zone_id}' (first at line {lines[zone_id]})")
            continue
        zones[zone_id] = Zone(zone_id, name or {})
        lines[zone_id] = fields["id"].line
    return zones


def _read_rate(probs: Problems, f: Field, zone: str, courier: str) -> Rate | None:
    what = f"the rate of {courier} for {zone}"
    fields = mapping(probs, f.node, what, line=f.line, allowed=RATE_KEYS)
    if fields is None:
        return None
    ok = True
    if ("per_kg" in fields) == ("flat" in fields):
        probs.error(f.line, f"{what} needs either 'per_kg' (rupiah per kg) or 'flat' (rupiah per parcel)")
        ok = False
    key = "per_kg" if "per_kg" in fields else "flat"
    cost = integer(probs, fields[key], f"'{key}' of {what}", example="10000", unit=" of rupiah") if key in fields else None
    if ("days" in fields) == ("etd" in fields):
        probs.error(f.line, f"{what} needs either 'days' (like \"2-3\") or 'etd' ({{id: ..., en: ...}})")
        ok = False
    etd: dict[str, str] | None = None
    if "days" in fields:
        raw = text(probs, fields["days"], f"'days' of {what}")
        match = DAYS_RE.fullmatch(raw) if raw is not None else None
        if raw is not None and match is None:
            probs.error(fields["days"].line, f"'days' of {what} must be a number of days like \"2\" or \"2-3\", got '{raw}'")
        elif match is not None:
            low, high = int(match.group(1)), int(match.group(2) or match.group(1))
            if high < low:
                probs.error(fields["days"].line, f"'days' of {what} goes from {low} down to {high}; write \"{high}-{low}\"")
            else:
                etd = etd_for_days(low, high)
    elif "etd" in fields:
        etd = bilingual(probs, fields["etd"], f"'etd' of {what}", require_all=False)
    if not ok or cost is None or etd is None:
        return None
    if "id" not in etd or "en" not in etd:
        etd = {"id": etd.get("id") or etd["en"], "en": etd.get("en") or etd["id"]}
    return Rate(cost=cost, flat=key == "flat", etd=etd)


def _read_couriers(probs: Problems, f: Field, zones: dict[str, Zone]) -> list[Courier]:
    couriers: list[Courier] = []
    lines: dict[str, int] = {}
    for item in sequence(probs, f, "couriers") or ():
        fields = mapping(probs, item, "a courier", allowed=COURIER_KEYS, required=("id", "name", "rates"))
        if fields is None or "id" not in fields:
            continue
        courier_id = _slug(probs, fields["id"], "courier id")
        name = text(probs, fields["name"], "courier name") if "name" in fields else None
        label = courier_id or "a courier"
        rates: dict[str, Rate] = {}
        ok = courier_id is not None and name is not None
        if "rates" in fields:
            entries = mapping(probs, fields["rates"].node, f"the rates of {label}", line=fields["rates"].line)
            if entries is not None and not entries:
                probs.error(fields["rates"].line, f"{label} has no rates: list at least one zone")
                ok = False
            for zone_id, rate_field in (entries or {}).items():
                if zone_id not in zones:
                    known = ", ".join(zones) or "none defined"
                    probs.error(rate_field.key_line, f"{label} has a rate for unknown zone '{zone_id}' (zones: {known})")
                    ok = False
                    continue
                rate = _read_rate(probs, rate_field, zone_id, label)
                if rate is None:
                    ok = False
                else:
                    rates[zone_id] = rate
        tracking_url = None
        if "tracking_url" in fields:
            tracking_url = text(probs, fields["tracking_url"], "tracking_url")
            if tracking_url is not None and (
                not tracking_url.startswith(("https://", "http://")) or "{tracking_number}" not in tracking_url
            ):
                probs.error(
                    fields["tracking_url"].line,
                    "tracking_url must be an http(s):// address containing {tracking_number}",
                )
                ok = False
        max_weight = None
        if "max_weight_grams" in fields:
            max_weight = integer(probs, fields["max_weight_grams"], "max_weight_grams", minimum=1, example="20000")
            ok = ok and max_weight is not None
        if courier_id is not None and courier_id in lines:
            probs.error(fields["id"].line, f"duplicate courier '{courier_id}' (first at line {lines[courier_id]})")
            continue
        if courier_id is not None:
            lines[courier_id] = fields["id"].line
        if ok:
            couriers.append(Courier(courier_id, name, rates, tracking_url, max_weight))  # type: ignore[arg-type]
    return couriers


def _read_cities(
    probs: Problems, f: Field, zones: dict[str, Zone], index: dict[str, str]
) -> list[City]:
    cities: list[City] = []
    ids: dict[str, int] = {}
    names: dict[str, tuple[str, int]] = {}  # normalized name -> (city id, line)
    for item in sequence(probs, f, "cities") or ():
        fields = mapping(probs, item, "a city", allowed=CITY_KEYS, required=("id", "name", "zone"))
        if fields is None:
            continue
        city_id = _slug(probs, fields["id"], "city id") if "id" in fields else None
        name = text(probs, fields["name"], "city name") if "name" in fields else None
        zone = text(probs, fields["zone"], "zone") if "zone" in fields else None
        ok = city_id is not None and name is not None and zone is not None
        if zone is not None and zone not in zones:
            probs.error(fields["zone"].line, f"unknown zone '{zone}' (zones: {', '.join(zones) or 'none defined'})")
            ok = False
        province = text(probs, fields["province"], "province") if "province" in fields else None
        aliases: list[tuple[str, int]] = []
        if "aliases" in fields:
            for node in sequence(probs, fields["aliases"], "aliases") or ():
                alias = text_node(probs, node, line_of(node), "an alias")
                if alias is not None:
                    aliases.append((alias, line_of(node)))
        if city_id is not None and city_id in ids:
            probs.error(fields["id"].line, f"duplicate city '{city_id}' (first at line {ids[city_id]})")
            continue
        if city_id is not None:
            ids[city_id] = fields["id"].line
        if not ok:
            continue
        spelled = [(name, fields["name"].line), *aliases]
        for spelling, line in spelled:
            key = normalize_place(spelling)
            if not key:
                probs.error(line, f"'{spelling}' has no letters to match a customer's words against")
                ok = False
                continue
            if key in names and names[key][0] != city_id:
                other, other_line = names[key]
                probs.error(line, f"'{spelling}' already names the city '{other}' (line {other_line})")
                ok = False
            else:
                names.setdefault(key, (city_id, line))  # type: ignore[arg-type]
        if ok:
            for spelling, _ in spelled:
                index[normalize_place(spelling)] = city_id  # type: ignore[assignment]
            cities.append(City(city_id, name, zone, province, tuple(a for a, _ in aliases)))  # type: ignore[arg-type]
    return cities


def read_shipping_file(path: Path, probs: Problems) -> ShippingRates | None:
    """Parse ``shipping.yml``; None (with problems recorded) when it cannot be used."""
    start = len(probs.sink)
    root = read_yaml(path, probs)
    if root is None:
        return None
    fields = mapping(probs, root, "shipping.yml", allowed=FILE_KEYS, required=("version", "origin", "zones", "couriers", "cities"))
    if fields is None:
        return None
    version(probs, fields, "1")
    zone_lines: dict[str, int] = {}
    zones = _read_zones(probs, fields["zones"], zone_lines) if "zones" in fields else {}
    couriers = _read_couriers(probs, fields["couriers"], zones) if "couriers" in fields else []
    index: dict[str, str] = {}
    cities = _read_cities(probs, fields["cities"], zones, index) if "cities" in fields else []
    origin = None
    if "origin" in fields:
        origin = text(probs, fields["origin"], "origin")
        if origin is not None and origin not in {c.id for c in cities}:
            probs.error(fields["origin"].line, f"origin '{origin}' is not one of the cities listed under 'cities'")
    for key in ("zones", "couriers", "cities"):
        node = fields[key].node if key in fields else None
        if isinstance(node, SequenceNode) and not node.value:
            probs.error(fields[key].line, f"no {key}: list at least one")
    if any(p.is_error for p in probs.sink[start:]) or origin is None:
        return None
    served = {zone for c in couriers for zone in c.rates}
    for zone in zones:
        if zone not in served:
            probs.warning(zone_lines[zone], f"no courier has a rate for zone '{zone}': its cities cannot be shipped to")
    return ShippingRates(
        origin=origin,
        zones=tuple(zones.values()),
        couriers=tuple(couriers),
        cities=tuple(cities),
        source=probs.file,
        index=index,
    )

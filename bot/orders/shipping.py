"""Shipping costs from ``shipping.yml``: finding the customer's city, quoting couriers.

Pure functions over :class:`~bot.shopdata.shipping.ShippingRates` (``ShopData.shipping``):

- :func:`find_city` — the city a customer means: "Solo", "kota Surakarta", "Jaksel",
  "kirim ke sby ya kak", or a typo like "Surabya".
- :func:`quotes` — what each courier serving the city's zone charges for a parcel:
  the zone's rate per kilogram × the started kilograms (at least 1), or a flat price.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.shopdata.shipping import PLACE_WORDS as _PLACE_WORDS
from bot.shopdata.shipping import City, ShippingRates, normalize_place

__all__ = ["ShippingQuote", "billable_kg", "find_city", "normalize_place", "quote", "quotes", "suggest_cities"]

# Whole answers close to a city name ("Surabya") and longer words inside a sentence.
WHOLE_CUTOFF = 85.0
WORD_CUTOFF = 90.0
MIN_FUZZY_CHARS = 6  # shorter words ("malam", "batu") are too easily another city


@dataclass(frozen=True)
class ShippingQuote:
    """One courier's offer for one parcel to one city."""

    courier_id: str
    courier_name: str
    cost: int  # rupiah
    etd: dict[str, str]  # lang -> "2–3 hari" / "2–3 days"


def _index(rates: ShippingRates) -> dict[str, str]:
    if rates.index:
        return rates.index
    index: dict[str, str] = {}
    for city in rates.cities:
        for spelling in (city.name, *city.aliases):
            index.setdefault(normalize_place(spelling), city.id)
    object.__setattr__(rates, "index", index)
    return index


def find_city(rates: ShippingRates, text: str) -> City | None:
    """The city ``text`` names, or ``None``.

    Tries, in order: the whole text as a name or alias; the longest run of words
    inside it that is one ("ongkir ke jakarta selatan brp" → Jakarta); then close
    spellings ("Surabya", "Yogyakrta") of the whole text or of a longer word in it.
    """
    if not isinstance(text, str):
        return None
    key = normalize_place(text)
    if not key:
        return None
    index = _index(rates)
    if key in index:
        return rates.city(index[key])
    words = key.split()
    for city_id in _named_in(words, index):
        return rates.city(city_id)
    if len(key) >= 4:
        best = process.extractOne(key, index.keys(), scorer=fuzz.ratio, score_cutoff=WHOLE_CUTOFF)
        if best is not None:
            return rates.city(index[best[0]])
    found: tuple[float, str] | None = None
    for size in (2, 1):
        for start in range(len(words) - size + 1):
            gram = " ".join(words[start : start + size])
            if len(gram) < MIN_FUZZY_CHARS:
                continue
            best = process.extractOne(gram, index.keys(), scorer=fuzz.ratio, score_cutoff=WORD_CUTOFF)
            if best is not None and (found is None or best[1] > found[0]):
                found = (best[1], best[0])
    return rates.city(index[found[1]]) if found is not None else None


def cities_in_address(rates: ShippingRates, address: str, limit: int = 2) -> list[City]:
    """Cities an address names word for word, its last parts first ("Jl. Melati 5, Gubeng,
    Surabaya" → Surabaya); no close spellings, since a street may carry a city's name."""
    index = _index(rates)
    found: list[City] = []
    for part in reversed(address.split(",") if isinstance(address, str) else []):
        for city_id in _named_in(normalize_place(part).split(), index):
            city = rates.city(city_id)
            if city is not None and city not in found:
                found.append(city)
        if len(found) >= limit:
            break
    return found[:limit]


def _named_in(words: list[str], index: dict[str, str]) -> Iterator[str]:
    """Ids of the cities whose name or alias is a run of ``words``, longest runs first
    (a lone place word such as "kota" names none)."""
    for size in range(min(len(words), 4), 0, -1):
        for start in range(len(words) - size + 1):
            gram = " ".join(words[start : start + size])
            if gram in index and not (size == 1 and gram in _PLACE_WORDS):
                yield index[gram]


# Words around a city in a reply to "which city?" that say nothing else ("ke jogja kak").
_AROUND_A_CITY = frozenset(
    "ke di dari to in from kak ka min gan sis mas mbak ya yah aja saja dong deh nih sih kota please pls".split()
)


def names_only_a_city(rates: ShippingRates, text: str) -> bool:
    """``text`` is a city the shop knows and nothing more than a preposition or a polite word
    ("Bandung", "ke jogja kak", "to Medan please")."""
    words = [w for w in normalize_place(text).split() if w not in _AROUND_A_CITY] if isinstance(text, str) else []
    return bool(words) and " ".join(words) in _index(rates)


def suggest_cities(rates: ShippingRates, text: str, limit: int = 3) -> list[City]:
    """Cities whose names look somewhat like ``text``, best first (for "did you mean")."""
    key = normalize_place(text) if isinstance(text, str) else ""
    if not key:
        return []
    index = _index(rates)
    seen: list[str] = []
    for name, _score, _ in process.extract(key, index.keys(), scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=60):
        city_id = index[name]
        if city_id not in seen:
            seen.append(city_id)
        if len(seen) == limit:
            break
    return [c for c in (rates.city(i) for i in seen) if c is not None]


def billable_kg(weight_grams: int) -> int:
    """Started kilograms, at least one: 1 g → 1, 1000 g → 1, 1001 g → 2."""
    return max(1, math.ceil(max(0, weight_grams) / 1000))


def quotes(rates: ShippingRates, city: City | str, weight_grams: int) -> list[ShippingQuote]:
    """Every courier's price for a parcel of ``weight_grams`` to ``city``, cheapest first.

    Couriers without a rate for the city's zone (GoSend outside the shop's own
    city) or with a ``max_weight_grams`` below the parcel's weight are left out.
    """
    if isinstance(weight_grams, bool) or not isinstance(weight_grams, int) or weight_grams < 0:
        raise ValueError("weight_grams must be a whole number of grams, 0 or more")
    target = rates.city(city) if isinstance(city, str) else city
    if target is None:
        return []
    kg = billable_kg(weight_grams)
    found: list[tuple[int, int, ShippingQuote]] = []
    for position, courier in enumerate(rates.couriers):
        rate = courier.rates.get(target.zone)
        if rate is None:
            continue
        if courier.max_weight_grams is not None and weight_grams > courier.max_weight_grams:
            continue
        cost = rate.cost if rate.flat else rate.cost * kg
        found.append((cost, position, ShippingQuote(courier.id, courier.name, cost, dict(rate.etd))))
    return [q for _, _, q in sorted(found, key=lambda t: (t[0], t[1]))]


def quote(rates: ShippingRates, city: City | str, weight_grams: int, courier_id: str) -> ShippingQuote | None:
    """One courier's price (``None`` when it does not serve that city or weight)."""
    for q in quotes(rates, city, weight_grams):
        if q.courier_id == courier_id:
            return q
    return None

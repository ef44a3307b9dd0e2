"""Finding products in the shop's catalog from a customer's question.

"ada kemeja batik ukuran L warna biru?" → the shirts (category ``kemeja``) with
their size-L blue variants; "berapa harga tas rotan?" → the product the NLU
recognised. Everything here is pure: the catalog and the message's entities in,
matches out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from rapidfuzz import fuzz

from bot.shopdata.model import Product, Variant

# A name or alias counts as mentioned when it appears this closely (0-100) in the message.
NAME_MATCH = 88
_WORD = re.compile(r"\w+")

# Words customers use for common catalog categories, so "a blue shirt" finds ``kemeja``.
# A category not listed here is found by its own name (and products by their aliases).
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "kemeja": ("kemeja", "hem", "shirt", "shirts"),
    "dress": ("dress", "dresses", "gaun"),
    "blus": ("blus", "blouse", "blouses", "atasan"),
    "kain": ("kain", "fabric", "cloth", "jarik"),
    "sarung": ("sarung", "sarong", "sarongs"),
    "tas": ("tas", "bag", "bags", "handbag"),
    "aksesoris": ("aksesoris", "accessory", "accessories"),
    "outer": ("outer", "jaket", "jacket", "cardigan"),
    "set": ("set", "setelan", "couple"),
    "sepatu": ("sepatu", "shoe", "shoes"),
}

# How the categories above read in a list of what the shop sells; a shop's own category
# reads as its name.
CATEGORY_LABELS: dict[str, dict[str, str]] = {
    "kemeja": {"id": "Kemeja", "en": "Shirts"},
    "dress": {"id": "Dress", "en": "Dresses"},
    "blus": {"id": "Blus", "en": "Blouses"},
    "kain": {"id": "Kain", "en": "Fabric"},
    "sarung": {"id": "Sarung", "en": "Sarongs"},
    "tas": {"id": "Tas", "en": "Bags"},
    "aksesoris": {"id": "Aksesoris", "en": "Accessories"},
    "outer": {"id": "Outer", "en": "Outerwear"},
    "set": {"id": "Setelan", "en": "Sets"},
    "sepatu": {"id": "Sepatu", "en": "Shoes"},
}


def category_label(category: str, lang: str = "id") -> str:
    labels = CATEGORY_LABELS.get(category.lower())
    return labels[lang if lang in labels else "id"] if labels else category.replace("_", " ").capitalize()


def categories(products: Sequence[Product]) -> list[str]:
    """The catalog's categories, the one with the most products first."""
    counts: dict[str, int] = {}
    for product in products:
        counts[product.category] = counts.get(product.category, 0) + 1
    return sorted(counts, key=lambda c: -counts[c])


@dataclass(frozen=True)
class ProductMatch:
    """A product that fits the question, with the variants that fit the asked options."""

    product: Product
    variants: tuple[Variant, ...]  # all of them when no size or colour was asked for
    asked_options: bool

    @property
    def in_stock(self) -> tuple[Variant, ...]:
        return tuple(v for v in self.variants if v.stock > 0)

    @property
    def available(self) -> bool:
        if not self.product.variants:
            return self.product.stock > 0
        return bool(self.in_stock)


def find_products(
    products: Sequence[Product],
    text: str,
    *,
    skus: Iterable[str] = (),
    size: str | None = None,
    color: str | None = None,
    limit: int = 5,
    by_word: bool = False,
) -> list[ProductMatch]:
    """Products the message asks about, those with the asked options in stock first.

    ``skus`` are products the NLU already recognised; otherwise a product
    matches when its category word or one of its names appears in ``text``; with ``by_word``
    (a catalog question, the answer to "which product?") also when nothing else matches and
    ``text`` has a word of its name that few products share ("parang brp?").
    """
    wanted = set(skus)
    if wanted:
        candidates = [p for p in products if p.sku in wanted]
    else:
        words = set(_WORD.findall(text.lower()))
        candidates = [p for p in products if _in_category(p, words) or _mentions(p, text)]
        if not candidates and by_word:
            # "parang brp harganya", "yg sekar jagad": a motif or model word of a few products' names.
            candidates = _named_by_word(products, words, limit)
        if not candidates and (size or color):
            # "ada batik ukuran L?" in a batik shop: everything that comes in L.
            candidates = [p for p in products if p.variants]
    matches = [_match(p, size, color) for p in candidates]
    matches = [m for m in matches if m.variants or not m.product.variants]
    if any(m.available for m in matches):  # what can be bought answers the question
        matches = [m for m in matches if m.available]
    matches.sort(key=lambda m: m.product.price)
    return matches[:limit]


# Words of product names that do not tell products apart ("Kemeja Batik Lengan Panjang").
_PLAIN_NAME_WORDS = frozenset(
    "batik motif model premium asli original lengan pendek panjang dengan untuk warna ukuran size "
    "produk barang ready stok stock baru murah pria wanita cowok cewek".split()
)


def _named_by_word(products: Sequence[Product], words: set[str], limit: int) -> list[Product]:
    """Products a message names by one word of their names or aliases that only a few of
    them share (a motif: "parang", "lasem"; a model: "kimono"), when it names them no other
    way. Category, colour and plain words ("batik", "panjang") pick nothing here."""
    asked = words | {w[:-3] for w in words if w.endswith("nya") and len(w) > 6}
    category_words = {w for p in products for w in (p.category.lower(), *CATEGORY_WORDS.get(p.category.lower(), ()))}
    named: dict[str, set[str]] = {}
    for product in products:
        for word in _WORD.findall(" ".join((product.name, *product.aliases)).lower()):
            if len(word) >= 4 and not word.isdigit() and word not in _PLAIN_NAME_WORDS | category_words | _COLORS_EN.keys():
                named.setdefault(word, set()).add(product.sku)
    skus = set().union(*(named[w] for w in asked if w in named and len(named[w]) <= limit))
    return [p for p in products if p.sku in skus]


def _in_category(product: Product, words: set[str]) -> bool:
    category = product.category.lower()
    return category in words or any(w in words for w in CATEGORY_WORDS.get(category, ()))


def _mentions(product: Product, text: str) -> bool:
    lowered = text.lower()
    return any(
        fuzz.partial_ratio(name.lower(), lowered) >= NAME_MATCH
        for name in (product.name, *product.aliases)
        if len(name) >= 4
    )


def _match(product: Product, size: str | None, color: str | None) -> ProductMatch:
    def fits(v: Variant) -> bool:
        options = {k: str(val).lower() for k, val in v.options.items()}
        if size and options.get("size", "").lower() != size.lower():
            return False
        if color and options.get("color", "").lower() != color.lower():
            return False
        return True

    variants = tuple(v for v in product.variants if fits(v))
    return ProductMatch(product, variants, asked_options=bool(size or color))


def rupiah(amount: int, lang: str = "id") -> str:
    """``189000`` → ``Rp189.000`` in Indonesian, ``Rp189,000`` in English: each language's
    own digit grouping, so an English reader does not take the dot for a decimal point."""
    grouped = f"{amount:,}"
    return "Rp" + (grouped if lang == "en" else grouped.replace(",", "."))


def price_range(match: ProductMatch, lang: str = "id") -> str:
    prices = sorted({v.price or match.product.price for v in match.variants} or {match.product.price})
    if len(prices) == 1:
        return rupiah(prices[0], lang)
    return f"{rupiah(prices[0], lang)}–{rupiah(prices[-1], lang)}"


# The catalog writes option values in Indonesian ("biru", "4 th"); an English speaker reads
# them in English ("blue", "4 yrs"). Values not listed (navy, maroon, sogan, …) are the same
# in both languages and are shown as written.
_COLORS_EN = {
    "merah": "red", "biru": "blue", "biru muda": "light blue", "biru tua": "dark blue", "hijau": "green",
    "hijau muda": "light green", "hijau tua": "dark green", "kuning": "yellow", "hitam": "black",
    "putih": "white", "putih tulang": "off-white", "coklat": "brown", "cokelat": "brown", "ungu": "purple",
    "ungu muda": "lilac", "merah muda": "pink", "oranye": "orange", "abu-abu": "grey", "abu abu": "grey",
    "krem": "cream", "emas": "gold", "perak": "silver", "salem": "salmon", "hijau army": "olive",
    "hijau tosca": "turquoise", "tosca": "turquoise",
}
_AGE_SIZE = re.compile(r"^(\d+)\s*(?:th|thn|tahun)$", re.IGNORECASE)  # kids' sizes: "4 th" = 4 years


def option_value(key: str, value: object, lang: str = "id") -> str:
    """One option value as the customer reads it: ``biru`` / ``blue``, ``4 th`` / ``4 yrs``."""
    text = str(value)
    if lang != "en":
        return text
    if key in ("color", "colour", "warna"):
        return _COLORS_EN.get(text.lower(), text)
    if key in ("size", "ukuran") and (age := _AGE_SIZE.match(text.strip())):
        return f"{age.group(1)} yrs"
    return text


def options_label(options: Mapping[str, object], lang: str = "id") -> str:
    """``L · biru`` / ``L · blue``: a variant's options in the customer's language."""
    return " · ".join(option_value(k, v, lang) for k, v in options.items())


def option_summary(variants: Sequence[Variant], lang: str = "id") -> str:
    """``M, L, XXL · biru, coklat``: the sizes and colours among ``variants``."""
    parts = []
    for key in ("size", "color"):
        values: list[str] = []
        for v in variants:
            value = v.options.get(key)
            if value and value not in values:
                values.append(str(value))
        if values:
            if key == "size":
                values.sort(key=_size_order)  # stable: sizes it cannot place keep the catalog's order
            parts.append(", ".join(option_value(key, value, lang) for value in values))
    return " · ".join(parts)


_LETTER_SIZES = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL")


def _size_order(size: str) -> tuple[int, float]:
    """S before M before XL ("M, L, XL", not the catalog's "M, XL, L"); 36 before 40;
    "2XL" is XXL."""
    key = size.strip().upper().replace(" ", "")
    if key[:1].isdigit() and key.endswith("XL") and key[:-2].isdigit():
        key = "X" * int(key[:-2]) + "L"
    if key in _LETTER_SIZES:
        return (0, float(_LETTER_SIZES.index(key)))
    # 38, 40; also a number with its unit: kids' ages "4 th" … "10 th", bags' "20 cm"
    if number := re.match(r"\d+(?:[.,]\d+)?(?=[^\d.,]*$)", key):
        return (1, float(number.group(0).replace(",", ".")))
    return (2, 0.0)

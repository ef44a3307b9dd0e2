"""Rule-based entity extraction with offsets into the original text.

``EntityExtractor(products).extract(text)`` finds:

==============  ====================================  ==========================
entity          examples                              value
==============  ====================================  ==========================
order_number    SP-2026-000123, sp 2026 000123        "SP-2026-000123"
phone           0812-3456-7890, +62 812 3456 7890     "+6281234567890" (E.164)
email           Budi@Mail.com                         "budi@mail.com"
quantity        2 pcs, 3 buah, x2, dua, selusin       int (2, 3, 2, 2, 12)
amount          Rp 189.000, 189rb, 1,5jt, 189k        int rupiah
size            ukuran L, size xl, XL, 2XL, uk 42     "L", "XL", "XXL", "42"
color           biru, blue, abu-abu, navy             catalog colour value ("biru")
product         tas rotan, kmeja parang               product sku
courier         JNE, jnt, J&T, si cepat, gosend       "JNE", "J&T", "SiCepat", ...
==============  ====================================  ==========================

How the text is read: every character of the original is NFKC-normalized and
lowercased on its own (zero-width and directional marks dropped), and each
character of that view remembers where it came from, so patterns run on clean
text ("０８１２" is "0812") while ``start``/``end`` index the original.

Conflicts: entities of one kind never overlap (the earlier, then longer, match
wins). Across kinds, the number-like entities have a priority — order_number,
email, phone, amount, quantity — and a lower one overlapping a higher one is
dropped (the digits of a phone number are not also a quantity); nothing is
found inside a URL. Size, colour, product and courier may overlap other kinds
("Kemeja Biru" is a product and a colour).

Quantities: digits count only with a unit ("2 pcs", "3 buah", "2 lusin" = 24),
as "x2"/"2x", or right after an ordering verb ("beli 2", "order 3"); number words
(dua … sepuluh, sebelas, dua belas, two … twelve) count on their own unless a time
word follows ("dua hari"), while "satu"/"one"/"se-" need a unit or a verb
("sebuah", "satu pcs", "order one") because "yang satu lagi"/"the black one"
are not quantities. "selusin"/"a dozen" = 12, "setengah lusin"/"half a dozen" = 6.

Products (fuzzy, with rapidfuzz): product names and aliases are split into
words; each word gets an IDF weight ``log((N + 1) / df)`` over the N products
(words every product shares, like "batik", weigh almost nothing; generic shop
words — batik, baju, produk, motif, model… — and sizes weigh a quarter more,
colour words half). Message words match name words exactly, or with ``fuzz.ratio >= 80``
when both have at least 4 letters (typos: "kmeja", "rotn"). A product is
found when the matched words, lying close together (at most two other words
between neighbours), weigh at least ``0.9 * log(N + 1)`` — as much as one word that
only that product has — or spell a whole alias. When several products reach
the same best weight and coverage on the same words the message is ambiguous
("kemeja" in a shop with five shirts) and no product is returned; otherwise
the best one is. A SKU written in the message always matches. No catalog, no
product entities.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from bot.nlu.normalize import (
    _INVISIBLE_RE,
    EMAIL_RE,
    ORDER_NUMBER_RE,
    PHONE_RE,
    URL_RE,
    normalize_word,
)
from bot.catalog import CATEGORY_WORDS
from bot.shopdata.model import Product
from bot.types import Entity

__all__ = ["EntityExtractor", "COLORS", "COURIERS"]

# --- tables --------------------------------------------------------------------

#: Catalog colour value -> words customers use for it (Indonesian and English).
COLORS: dict[str, tuple[str, ...]] = {
    "merah": ("merah", "red"),
    "biru": ("biru", "blue"),
    "biru muda": ("biru muda", "light blue", "baby blue", "biru langit", "sky blue"),
    "biru tua": ("biru tua", "dark blue"),
    "navy": ("navy", "navy blue", "biru navy", "biru dongker", "dongker", "donker", "biru donker"),
    "hijau": ("hijau", "ijo", "green"),
    "hijau muda": ("hijau muda", "light green"),
    "hijau tua": ("hijau tua", "dark green", "hijau botol", "bottle green"),
    "army": ("army", "hijau army", "olive", "zaitun"),
    "tosca": ("tosca", "tosqa", "hijau tosca", "turquoise", "teal"),
    "kuning": ("kuning", "yellow"),
    "mustard": ("mustard", "kuning mustard"),
    "hitam": ("hitam", "black"),
    "putih": ("putih", "white"),
    "broken white": ("broken white", "off white", "putih tulang"),
    "coklat": ("coklat", "cokelat", "coklat tua", "brown", "soklat"),
    "sogan": ("sogan",),
    "ungu": ("ungu", "purple", "violet"),
    "lilac": ("lilac", "lavender", "ungu muda"),
    "merah muda": ("merah muda", "pink", "merah jambu", "pinky"),
    "maroon": ("maroon", "marun", "merah marun", "merah maroon", "burgundy"),
    "oranye": ("oranye", "orange", "jingga", "orens"),
    "abu-abu": ("abu-abu", "abu abu", "abu2", "abu", "grey", "gray", "abu muda", "abu tua", "misty"),
    "krem": ("krem", "cream", "crem", "beige", "mocca", "moka", "nude"),
    "emas": ("emas", "gold", "keemasan", "golden"),
    "perak": ("perak", "silver"),
    "salem": ("salem", "salmon", "peach"),
    "khaki": ("khaki", "kaki"),
}

#: Canonical courier name -> regex alternatives (on the lowercase view).
COURIERS: dict[str, str] = {
    "JNE": r"jne",
    "J&T": r"j\s?&\s?t|jnt|j\s?n\s?t|jandt",
    "SiCepat": r"si\s?cepat",
    "Pos Indonesia": r"pos\s+indonesia|kantor\s+pos|pos\s?id|(?<=via )pos|(?<=pakai )pos|(?<=pake )pos"
    r"|(?<=lewat )pos|(?<=dengan )pos|(?<=dgn )pos|(?<=by )pos|(?<=kirim )pos|(?<=ekspedisi )pos|(?<=sama )pos",
    "GoSend": r"go\s?-?send|gojek|go-?jek",
    "GrabExpress": r"grab\s?-?express|grab\s?-?send|grab",
    "AnterAja": r"anter\s?aja|anteraja",
    "TIKI": r"tiki",
    "Ninja Xpress": r"ninja(?:\s?(?:xpress|express))?",
    "Lion Parcel": r"lion\s?parcel",
}

_ID_NUMBERS = {
    "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7, "delapan": 8,
    "sembilan": 9, "sepuluh": 10, "sebelas": 11, "dua belas": 12, "duabelas": 12,
}
_EN_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
_NUMBER_WORDS = {**_ID_NUMBERS, **_EN_NUMBERS}
_UNITS = (
    r"pcs|pc|psc|pieces|piece|buah|bh|biji|bj|lembar|lbr|helai|pasang|psg|potong|ptg|pack|pak|box|kotak"
    r"|items|item|units|unit|set|botol|lusin|kodi|dozens|dozen|pairs|pair|stel|setel"
)
_UNIT_MULT = {"lusin": 12, "dozen": 12, "dozens": 12, "kodi": 20}
_TIME_WORDS = (
    r"hari|hr|minggu|mgg|bulan|bln|jam|menit|mnt|detik|tahun|thn|kali|x\b|days?|weeks?|months?|hours?|minutes?"
    r"|years?|times|ribu|rb|juta|jt|ratus|puluh|belas|k\b|persen|%|tahunan|an\b|kg|gram|gr|cm|meter|m\b"
)
_ORDER_VERBS = r"beli|pesan|pesen|order|ambil|mau|minta|checkout|co|buy|want|need|get|take|add"
# Everyday shop-chat words that are never a typo of a product word ("pesan" is not "pesta").
_NO_FUZZY = frozenset(
    "pesan pesen beli order ambil minta mau harga berapa kirim ongkir bayar transfer stok stock "
    "warna ukuran size ready masih tanya dong kakak".split()
)

_SIZE_CANON = {
    "xs": "XS", "s": "S", "m": "M", "l": "L", "xl": "XL", "xxl": "XXL", "2xl": "XXL", "xxxl": "XXXL",
    "3xl": "XXXL", "4xl": "4XL", "5xl": "5XL", "allsize": "ALL SIZE", "all size": "ALL SIZE",
}
_GENERIC_WORDS = frozenset(
    "batik baju produk barang item model motif size ukuran warna original asli premium new baru ready "
    "stok stock set the dan dengan untuk of for with and".split()
)
_COLOR_WORDS = frozenset(w for names in COLORS.values() for n in names for w in n.split())
_SIZE_WORDS = frozenset(("xs", "s", "m", "l", "xl", "xxl", "xxxl"))


# A customer's word for a catalog category -> the catalog's own word ("shirt" -> "kemeja"),
# so "the parang shirt" finds "Kemeja Batik Parang" as "kemeja parang" does: the shop names
# its products in Indonesian, while English speakers describe them in English.
_CATEGORY_SYNONYMS: dict[str, str] = {
    **{word: category for category, words in CATEGORY_WORDS.items() for word in words if word != category},
    **{word: "anak" for word in ("kids", "kid", "children", "child", "childrens")},  # "kids' shirt" = "kemeja anak"
}


def _word_factor(word: str) -> float:
    """Generic shop words and sizes weigh a quarter, colour words half."""
    if word in _GENERIC_WORDS or word in _SIZE_WORDS:
        return 0.25
    if word in _COLOR_WORDS:
        return 0.5
    return 1.0


# --- compiled patterns (on the lowercase view) -------------------------------------

_NUM = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_MULT = r"rb|ribu|rebu|rbu|k|jt|juta|jeti"
_AMOUNT_RP_RE = re.compile(rf"(?<![\w])(?:rp|idr)\.?\s*(?P<num>{_NUM})(?:\s*(?P<mult>{_MULT})(?![\w]))?(?:,-)?")
_AMOUNT_MULT_RE = re.compile(rf"(?<![\w.,])(?P<num>{_NUM})\s*(?P<mult>{_MULT})(?![\w])")
_AMOUNT_GROUPED_RE = re.compile(r"(?<![\w.,])(?P<num>\d{1,3}(?:\.\d{3})+|\d{1,3}(?:,\d{3})+)(?:,-|,00)?(?![\w.,]?\d)")

_QTY_UNIT_RE = re.compile(rf"(?<![\w.,])(?P<num>\d{{1,4}})\s*(?P<unit>{_UNITS})(?![\w])")
_QTY_X_RE = re.compile(r"(?<![\w.,])(?:x\s?(?P<a>\d{1,3})|(?P<b>\d{1,3})\s?x)(?![\w.,])")
_QTY_VERB_RE = re.compile(
    rf"(?<![\w])(?:{_ORDER_VERBS})\s+(?:nya\s+)?(?P<num>\d{{1,3}})(?![\w.,]?\d)(?!\s*(?:{_TIME_WORDS}|{_UNITS}|{_MULT})(?![\w]))"
)
_NUMBER_WORD_ALT = "|".join(sorted((re.escape(w) for w in _NUMBER_WORDS), key=len, reverse=True))
_QTY_WORD_RE = re.compile(
    rf"(?<![\w])(?:(?P<half>setengah|half a|half)\s+(?:lusin|dozen)|(?P<dozen>selusin|sekodi|a dozen)"
    rf"|(?P<se>se(?:buah|biji|lembar|pasang|potong|helai|pcs|set|kotak|box|botol))"
    rf"|(?P<word>{_NUMBER_WORD_ALT})(?:\s+(?P<unit>{_UNITS}))?)(?![\w])"
)
_TIME_AFTER_RE = re.compile(rf"\s*(?:{_TIME_WORDS}|{_MULT}|lagi|nya)(?![\w])")
_VERB_BEFORE_RE = re.compile(rf"(?:{_ORDER_VERBS}|just|only|cuma|hanya|yang)\s+$")

_SIZE_VALUES = r"xxxl|xxl|xl|xs|[2-5]\s?xl|all\s?size|s|m|l|\d{2}"
_SIZE_KEYWORD_RE = re.compile(
    rf"(?<![\w])(?:ukuran|ukuranya|ukurannya|ukr|uk|size|sz|saiz|no|nomor)"
    # a space or ":" between keyword and value; none only before digits ("uk42"), so that
    # "sizes" is not "size S" and "nol" not "no L"
    rf"(?:\s*[:.=]\s*|\s+|(?=\d))(?P<v>{_SIZE_VALUES})(?![\w])"
)
_SIZE_FREE_RE = re.compile(r"(?<![\w])(?P<v>xxxl|xxl|xl|xs|[2-5]xl|all\s?size)(?![\w])")
_SIZE_LETTER_RE = re.compile(r"(?<![\w'’.@-])(?P<v>[sml])(?![\w'’@-])")
_SIZE_AFTER_YANG_RE = re.compile(r"(?:yang|yg|the|in)\s+$")

_COLOR_RE = re.compile(
    r"(?<![\w])(?P<c>"
    + "|".join(
        sorted(
            {re.escape(n).replace(r"\ ", r"[\s-]?") for names in COLORS.values() for n in names},
            key=len,
            reverse=True,
        )
    )
    + r")(?![\w])"
)
_COLOR_LOOKUP = {
    re.sub(r"[\s-]", "", n): canon for canon, names in COLORS.items() for n in names
}
_COURIER_RE = re.compile(
    r"(?<![\w])(?:" + "|".join(f"(?P<c{i}>{rx})" for i, rx in enumerate(COURIERS.values())) + r")(?![\w])"
)
_COURIER_NAMES = list(COURIERS)
_TOKEN_RE = re.compile(r"[^\W_]+")

_PRIORITY = {"order_number": 0, "email": 1, "phone": 2, "amount": 3, "quantity": 4}


# --- the view: clean lowercase text with a map back to the original ------------


def _view(text: str) -> tuple[str, list[int] | None]:
    if text.isascii():
        return text.lower(), None
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ch.isascii():
            out = ch.lower()
        elif _INVISIBLE_RE.match(ch):
            continue
        else:
            out = unicodedata.normalize("NFKC", ch).lower()
            if unicodedata.category(ch) in ("Zs", "Zl", "Zp", "Cc"):
                out = " "
        for c in out:
            chars.append(c)
            index.append(i)
    return "".join(chars), index


@dataclass
class _Found:
    entity: str
    value: Any
    start: int  # view offsets
    end: int
    score: float = 0.0


def _parse_number(num: str, multiplier: int) -> float | None:
    parts = re.split(r"[.,]", num)
    if len(parts) == 1:
        return float(parts[0])
    # "189.000" / "1,500k": groups of three digits are thousands separators;
    # "1,5jt" / "2.5k" / "189.000,00": a short last group is a decimal part
    if all(len(p) == 3 for p in parts[1:]) and not (multiplier > 1 and len(parts) == 2 and parts[0] == "0"):
        return float("".join(parts))
    if len(parts[-1]) <= 2 and all(len(p) == 3 for p in parts[1:-1]):
        return float("".join(parts[:-1]) + "." + parts[-1])
    if multiplier > 1 and len(parts) == 2:
        return float(parts[0] + "." + parts[1])
    return None


def _multiplier(mult: str | None) -> int:
    if not mult:
        return 1
    return 1_000_000 if mult in ("jt", "juta", "jeti") else 1000


# --- products ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Alias:
    sku: str
    tokens: tuple[str, ...]
    total_weight: float


class _ProductIndex:
    def __init__(self, products: Sequence[Product]) -> None:
        self.n = len(products)
        self.aliases: list[_Alias] = []
        self.sku_re: re.Pattern[str] | None = None
        if not products:
            return
        per_product: list[tuple[str, list[tuple[str, ...]]]] = []
        df: dict[str, int] = {}
        for p in products:
            names = []
            for name in (p.name, *p.aliases):
                toks = tuple(self.norm_token(t) for t in _TOKEN_RE.findall(name.lower()))
                toks = tuple(t for t in toks if len(t) >= 2 or t.isdigit())
                if toks:
                    names.append(toks)
            per_product.append((p.sku, names))
            for t in {t for toks in names for t in toks}:
                df[t] = df.get(t, 0) + 1
        self.weight = {
            t: math.log((self.n + 1) / c) * _word_factor(t) for t, c in df.items()
        }
        self.threshold = 0.9 * math.log(self.n + 1)
        self.by_token: dict[str, list[int]] = {}
        for sku, names in per_product:
            for toks in names:
                idx = len(self.aliases)
                self.aliases.append(_Alias(sku, toks, sum(self.weight[t] for t in toks)))
                for t in set(toks):
                    self.by_token.setdefault(t, []).append(idx)
        self.vocab = list(self.by_token)
        skus: dict[str, str] = {}
        for p in products:
            skus[p.sku.lower()] = p.sku
            for v in p.variants:
                skus.setdefault(v.sku.lower(), p.sku)
        self.skus = skus
        self.sku_re = re.compile(
            r"(?<![\w-])(" + "|".join(re.escape(s) for s in sorted(skus, key=len, reverse=True)) + r")(?![\w-])"
        )
        self._fuzzy_cache: dict[str, list[tuple[str, float]]] = {}

    @staticmethod
    def norm_token(tok: str) -> str:
        if tok.isdigit():
            return tok
        out = normalize_word(tok)
        return out if " " not in out else tok

    def matches(self, tok: str) -> list[tuple[str, float]]:
        """Catalog words similar to one message word, with similarity in [0, 1]."""
        cached = self._fuzzy_cache.get(tok)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        forms = {tok}
        if tok.endswith("nya") and len(tok) > 5:
            forms.add(tok[:-3])
        category = _CATEGORY_SYNONYMS.get(tok)
        if category in self.by_token:
            found[category] = 1.0
        for form in forms:
            if form in self.by_token:
                found[form] = 1.0
            if len(form) >= 4 and not form.isdigit() and form not in _NO_FUZZY:
                for cand, score, _ in process.extract(
                    form, self.vocab, scorer=fuzz.ratio, score_cutoff=80, limit=None
                ):
                    if len(cand) >= 4 and not cand.isdigit():
                        found[cand] = max(found.get(cand, 0.0), score / 100.0)
        result = sorted(found.items(), key=lambda kv: -kv[1])
        if len(self._fuzzy_cache) > 20000:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[tok] = result
        return result

    def find(self, view: str) -> list[_Found]:
        if not self.aliases:
            return []
        out: list[_Found] = []
        assert self.sku_re is not None
        for m in self.sku_re.finditer(view):
            out.append(_Found("product", self.skus[m.group(1)], m.start(1), m.end(1), math.inf))
        tokens = [(m.group(0), m.start(), m.end()) for m in _TOKEN_RE.finditer(view)]
        # message token index -> [(catalog word, similarity)]
        tok_matches: list[list[tuple[str, float]]] = []
        candidate_aliases: set[int] = set()
        for raw, _, _ in tokens:
            if len(raw) < 2 and not raw.isdigit():
                tok_matches.append([])
                continue
            ms = self.matches(self.norm_token(raw))
            tok_matches.append(ms)
            for word, _ in ms:
                candidate_aliases.update(self.by_token[word])
        best_per_sku: dict[str, tuple[float, float, int, int]] = {}
        for ai in candidate_aliases:
            alias = self.aliases[ai]
            alias_words = set(alias.tokens)
            used: set[str] = set()
            hits: list[tuple[int, float]] = []  # (message token index, weighted similarity)
            for ti, ms in enumerate(tok_matches):
                for word, sim in ms:
                    if word in alias_words and word not in used:
                        used.add(word)
                        hits.append((ti, self.weight[word] * sim))
                        break
            if not hits:
                continue
            # clusters of nearby hits
            clusters: list[list[tuple[int, float]]] = [[hits[0]]]
            for h in hits[1:]:
                if h[0] - clusters[-1][-1][0] <= 3:
                    clusters[-1].append(h)
                else:
                    clusters.append([h])
            for cl in clusters:
                e = sum(w for _, w in cl)
                cov = e / alias.total_weight if alias.total_weight else 0.0
                full = cov >= 0.999 and len(cl) == len(alias.tokens)
                if e < self.threshold and not (full and e >= 0.5 * self.threshold):
                    continue
                start, end = tokens[cl[0][0]][1], tokens[cl[-1][0]][2]
                key = (e, cov, start, end)
                prev = best_per_sku.get(alias.sku)
                if prev is None or (e, cov) > prev[:2]:
                    best_per_sku[alias.sku] = key
        ranked = sorted(best_per_sku.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
        taken: list[tuple[int, int]] = [(f.start, f.end) for f in out]
        for i, (sku, (e, cov, start, end)) in enumerate(ranked):
            if any(start < te and ts < end for ts, te in taken):
                continue
            # ambiguous: another product as good on overlapping words
            rivals = [
                r for j, r in enumerate(ranked)
                if j != i and r[1][2] < end and start < r[1][3]
                and abs(r[1][0] - e) < 1e-6 and abs(r[1][1] - cov) < 0.02
            ]
            if rivals:
                taken.append((start, end))
                continue
            taken.append((start, end))
            out.append(_Found("product", sku, start, end, e))
        return out


# --- the extractor --------------------------------------------------------------------


class EntityExtractor:
    """Finds entities in a customer's message; offsets index the original text."""

    def __init__(self, products: Sequence[Product] = ()) -> None:
        self.products = tuple(products)
        self._index = _ProductIndex(self.products)
        # catalog spellings of colours and sizes, so values match variant options
        self._catalog_colors: dict[str, str] = {}
        self._catalog_sizes: dict[str, str] = {}
        for p in self.products:
            for v in p.variants:
                for key, val in v.options.items():
                    k = key.lower()
                    if k in ("color", "colour", "warna"):
                        canon = _COLOR_LOOKUP.get(re.sub(r"[\s-]", "", val.lower()))
                        if canon:
                            self._catalog_colors.setdefault(canon, val)
                    elif k in ("size", "ukuran"):
                        canon = _SIZE_CANON.get(val.lower().replace(" ", ""), val.upper())
                        self._catalog_sizes.setdefault(canon, val)

    # each finder returns _Found with view offsets
    def _order_numbers(self, v: str) -> list[_Found]:
        return [_Found("order_number", f"SP-{m.group(1)}-{m.group(2)}", m.start(), m.end())
                for m in ORDER_NUMBER_RE.finditer(v)]

    def _emails(self, v: str) -> list[_Found]:
        return [_Found("email", m.group(0).lower(), m.start(), m.end()) for m in EMAIL_RE.finditer(v)]

    def _phones(self, v: str) -> list[_Found]:
        out = []
        for m in PHONE_RE.finditer(v):
            rest_start = m.start("rest")
            groups = [(g.group(0), rest_start + g.start(), rest_start + g.end())
                      for g in re.finditer(r"\d+", m.group("rest"))]
            while sum(len(g[0]) for g in groups) > 12 and len(groups) > 1 and v[groups[-1][1] - 1] == " ":
                groups.pop()
            nsn = "".join(g[0] for g in groups)
            if 9 <= len(nsn) <= 12:
                out.append(_Found("phone", "+62" + nsn, m.start(), groups[-1][2]))
        return out

    def _amounts(self, v: str) -> list[_Found]:
        out = []
        for rx in (_AMOUNT_RP_RE, _AMOUNT_MULT_RE, _AMOUNT_GROUPED_RE):
            for m in rx.finditer(v):
                mult = _multiplier(m.groupdict().get("mult"))
                num = _parse_number(m.group("num"), mult)
                if num is None:
                    continue
                value = int(round(num * mult))
                if rx is _AMOUNT_GROUPED_RE and value < 1000:
                    continue
                end = m.end()
                if v[end - 2 : end] == ",-":
                    end -= 2
                out.append(_Found("amount", value, m.start(), end))
        return out

    def _quantities(self, v: str) -> list[_Found]:
        out = []
        for m in _QTY_UNIT_RE.finditer(v):
            n = int(m.group("num")) * _UNIT_MULT.get(m.group("unit"), 1)
            out.append(_Found("quantity", n, m.start(), m.end()))
        for m in _QTY_X_RE.finditer(v):
            n = int(m.group("a") or m.group("b"))
            out.append(_Found("quantity", n, m.start(), m.end()))
        for m in _QTY_VERB_RE.finditer(v):
            out.append(_Found("quantity", int(m.group("num")), m.start("num"), m.end("num")))
        for m in _QTY_WORD_RE.finditer(v):
            if m.group("half"):
                out.append(_Found("quantity", 6, m.start(), m.end()))
            elif m.group("dozen"):
                out.append(_Found("quantity", 20 if m.group("dozen") == "sekodi" else 12, m.start(), m.end()))
            elif m.group("se"):
                out.append(_Found("quantity", 1, m.start(), m.end()))
            else:
                word = re.sub(r"\s+", " ", m.group("word"))
                n = _NUMBER_WORDS[word]
                unit = m.group("unit")
                if unit:
                    out.append(_Found("quantity", n * _UNIT_MULT.get(unit, 1), m.start(), m.end()))
                    continue
                if _TIME_AFTER_RE.match(v, m.end()):
                    continue
                before = v[max(0, m.start() - 12) : m.start()]
                if n == 1 and not _VERB_BEFORE_RE.search(before):
                    continue
                if word == "satu" and before.endswith("salah "):
                    continue
                out.append(_Found("quantity", n, m.start(), m.end()))
        return out

    def _sizes(self, v: str, text: str, index: list[int] | None) -> list[_Found]:
        out = []

        def canon(raw: str) -> str:
            key = re.sub(r"\s", "", raw)
            value = _SIZE_CANON.get(key, key.upper())
            return self._catalog_sizes.get(value, value)

        for m in _SIZE_KEYWORD_RE.finditer(v):
            out.append(_Found("size", canon(m.group("v")), m.start(), m.end()))
        for m in _SIZE_FREE_RE.finditer(v):
            out.append(_Found("size", canon(m.group("v")), m.start(), m.end()))
        for m in _SIZE_LETTER_RE.finditer(v):
            orig = text[index[m.start()]] if index is not None else text[m.start()]
            before = v[max(0, m.start() - 6) : m.start()]
            if orig.isupper() or _SIZE_AFTER_YANG_RE.search(before):
                out.append(_Found("size", canon(m.group("v")), m.start(), m.end()))
        return out

    def _colors(self, v: str) -> list[_Found]:
        out = []
        for m in _COLOR_RE.finditer(v):
            canon_value = _COLOR_LOOKUP[re.sub(r"[\s-]", "", m.group("c"))]
            out.append(_Found("color", self._catalog_colors.get(canon_value, canon_value), m.start(), m.end()))
        return out

    def _couriers(self, v: str) -> list[_Found]:
        out = []
        for m in _COURIER_RE.finditer(v):
            name = _COURIER_NAMES[int(m.lastgroup[1:])]  # type: ignore[index]
            out.append(_Found("courier", name, m.start(), m.end()))
        return out

    def extract(self, text: str) -> list[Entity]:
        """All entities in ``text``, sorted by position; offsets index ``text`` itself."""
        if not text or not text.strip():
            return []
        view, index = _view(text)
        found: list[_Found] = []
        has_digit = any(c.isdigit() for c in view)
        if has_digit:
            found += self._order_numbers(view)
            found += self._phones(view)
            found += self._amounts(view)
        if "@" in view:
            found += self._emails(view)
        found += self._quantities(view)
        found += self._sizes(view, text, index)
        found += self._colors(view)
        found += self._couriers(view)
        found += self._index.find(view)
        found = self._resolve(found, view)
        entities = []
        for f in found:
            if index is None:
                start, end = f.start, f.end
            else:
                start, end = index[f.start], index[f.end - 1] + 1
            entities.append(Entity(f.entity, f.value, start, end, text[start:end]))
        return entities

    @staticmethod
    def _resolve(found: list[_Found], view: str) -> list[_Found]:
        emails = [(f.start, f.end) for f in found if f.entity == "email"]
        urls = [
            (m.start(), m.end()) for m in URL_RE.finditer(view)
            if not any(m.start() < ee and es < m.end() for es, ee in emails)
        ] if "." in view else []
        # one kind: earlier, then longer, wins
        found.sort(key=lambda f: (f.start, -(f.end - f.start), -f.score))
        kept: list[_Found] = []
        last_end: dict[str, int] = {}
        for f in found:
            if any(f.start < ue and us < f.end for us, ue in urls):
                continue
            if f.start < last_end.get(f.entity, -1):
                continue
            kept.append(f)
            last_end[f.entity] = f.end
        # across number-like kinds: priority (per character: the best priority covering it)
        cover = [9] * (len(view) + 1)
        for f in kept:
            p = _PRIORITY.get(f.entity)
            if p is not None:
                for i in range(f.start, f.end):
                    if p < cover[i]:
                        cover[i] = p
        result = []
        for f in kept:
            p = _PRIORITY.get(f.entity)
            best = min(cover[f.start : f.end], default=9)
            if p is not None:
                if best < p:
                    continue  # inside a stronger number-like entity
            elif f.entity in ("size", "color", "courier") and best <= 2:
                continue  # sizes/colours/couriers never sit inside an order number, e-mail or phone
            result.append(f)
        return result

"""Text normalization for the intent classifier.

:func:`normalize` turns a raw chat message into the form the classifier (and
language detection) sees::

    >>> normalize("Kakkkk, ongkir ke SBY brp ya??")
    'kak, ongkos kirim ke surabaya berapa ya?'

Steps, in order:

1. Unicode NFKC (fullwidth letters and digits become ASCII), zero-width and
   format characters (ZWJ, ZWNJ, RTL/LTR marks, BOM, soft hyphen, variation
   selectors) removed, control characters turned into spaces.
2. Order numbers (``SP-2026-000123``, also written ``sp 2026 000123`` and
   rewritten to that canonical form), e-mail addresses, URLs and phone numbers
   are set aside and come back verbatim (not lowercased, not split).
3. The rest is lowercased; runs of ``!``/``?`` collapse to one.
4. Reduplication: ``baju2`` / ``baju-baju`` -> ``baju baju`` (``hati2nya`` ->
   ``hati hatinya``).
5. Numbers glued to words are split (``2pcs`` -> ``2 pcs``, ``189rb`` ->
   ``189 ribu``, ``189k`` -> ``189 ribu``) except sizes like ``2xl``.
6. Letter elongations are reduced (``kakkkk`` -> ``kak``, ``makasiiih`` ->
   ``makasih``, ``maaaaf`` -> ``maaf``, ``siapp`` -> ``siap``) using a vocabulary
   (the slang table, the language word lists and Sastrawi's root words) to pick
   between one and two letters.
7. Slang and abbreviations are expanded from ``resources/slang_id.yml``
   (phrases first, longest match), address terms (kak, min, gan, sis, mbak,
   ...) all become the single token ``kak``; laughter becomes ``haha``.
8. Whitespace is collapsed.

The function is deterministic and cheap (tens of microseconds): all tables
and regular expressions are built once, on first use.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.types import Lang

RESOURCES = Path(__file__).with_name("resources")

__all__ = [
    "normalize",
    "normalize_word",
    "clean_unicode",
    "load_yaml_resource",
    "vocabulary",
    "ORDER_NUMBER_RE",
    "PHONE_RE",
    "EMAIL_RE",
    "URL_RE",
]

# --- shared patterns (also used by bot.nlu.entities) -------------------------

#: ``SP-2026-000123`` and loose forms (``sp 2026 000123``, ``SP2026000123``, ``sp-2026000123``).
ORDER_NUMBER_RE = re.compile(r"(?<![0-9a-z])sp[\s\-_./#:]{0,3}(\d{4})[\s\-_./]{0,3}(\d{6})(?![0-9])", re.I | re.A)
#: Indonesian mobile numbers: 08.., +62 8.., 62 8.., (+62) 8..; groups separated by one space, dash or dot.
PHONE_RE = re.compile(
    r"(?<![\w+])(?P<prefix>\(?\+\s?62\)?|\(?62\)?|0)[\s.\-]?(?P<rest>8\d{1,4}(?:[\s.\-]?\d{2,6}){0,5})(?![\w])",
    re.A,
)
EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
URL_RE = re.compile(
    r"(?:\b(?:https?://|www\.)[^\s<>\"']+"
    r"|(?<![\w.@-])[a-z0-9-]+(?:\.[a-z0-9-]+){0,6}\.(?:com|id|co\.id|net|org|io|me|ly|example|shop|store|app)"
    r"(?:/[^\s<>\"']*)?(?![\w@]))",
    re.I,
)

# Format (Cf) characters and friends that carry nothing for us: zero-width
# space/joiners, directional marks and embeddings, BOM, soft hyphen, word joiner,
# invisible operators, variation selectors, tags.
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff"
)
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]+")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES_RE = re.compile(r"\s+")


def clean_unicode(text: str) -> str:
    """NFKC, invisible characters removed, control characters -> spaces (no lowercasing)."""
    if not text.isascii():
        text = _INVISIBLE_RE.sub("", text)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
            text = _INVISIBLE_RE.sub("", text)
    return _CONTROL_RE.sub(" ", text)


# --- resources ---------------------------------------------------------------


def load_yaml_resource(name: str) -> Any:
    """Load a YAML file from ``bot/nlu/resources`` (safe loader)."""
    from ruamel.yaml import YAML

    with open(RESOURCES / name, encoding="utf-8") as fh:
        return YAML(typ="safe", pure=True).load(fh)


@dataclass(frozen=True)
class _Tables:
    words: dict[str, str]  # single word -> replacement
    phrases: dict[tuple[str, ...], str]  # word tuple -> replacement
    phrase_firsts: frozenset[str]
    max_phrase: int
    vocab: frozenset[str]


@lru_cache(maxsize=1)
def sastrawi_words() -> frozenset[str]:
    """Indonesian root words from the dictionary shipped inside the Sastrawi package."""
    try:
        import Sastrawi

        path = Path(Sastrawi.__file__).parent / "Stemmer" / "data" / "kata-dasar.txt"
        with open(path, encoding="utf-8") as fh:
            return frozenset(w.strip().lower() for w in fh if w.strip() and " " not in w.strip())
    except (ImportError, OSError):  # pragma: no cover - Sastrawi is a dependency
        return frozenset()


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    data = load_yaml_resource("slang_id.yml")
    words: dict[str, str] = {}
    for key, value in (data.get("slang") or {}).items():
        words[str(key).lower()] = str(value).lower()
    token = str(data.get("address_token", "kak"))
    for term in data.get("address_terms") or ():
        words[str(term).lower()] = token
    phrases: dict[tuple[str, ...], str] = {}
    for key, value in (data.get("phrases") or {}).items():
        parts = tuple(str(key).lower().split())
        if len(parts) >= 2:
            phrases[parts] = str(value).lower()
    lang_words = load_yaml_resource("lang_words.yml")
    vocab: set[str] = set(words)
    for value in words.values():
        vocab.update(value.split())
    for key in ("id_function", "en_function", "neutral", "en_formula", "id_address"):
        for w in lang_words.get(key) or ():
            vocab.update(str(w).lower().split())
    vocab.update(sastrawi_words())
    return _Tables(
        words=words,
        phrases=phrases,
        phrase_firsts=frozenset(p[0] for p in phrases),
        max_phrase=max((len(p) for p in phrases), default=1),
        vocab=frozenset(vocab),
    )


def vocabulary() -> frozenset[str]:
    """Every word normalization knows (slang keys and values, word lists, Sastrawi roots)."""
    return _tables().vocab


# --- word level ----------------------------------------------------------------

_RUN3_RE = re.compile(r"([^\W\d_])\1{2,}")
_RUN2_RE = re.compile(r"([^\W\d_])\1")
_LAUGH_RE = re.compile(r"^(?:(?:wk)+w?|(?:ha){2,}h?|(?:ah){2,}a?|(?:he){2,}h?|(?:hi){2,}h?|(?:xi){2,})$")


@lru_cache(maxsize=8192)
def _reduce_elongation(word: str) -> str:
    vocab = _tables().vocab
    if word in vocab or len(word) < 3:
        return word
    if _RUN3_RE.search(word):
        one = _RUN3_RE.sub(r"\1", word)
        two = _RUN3_RE.sub(r"\1\1", word)
        if one in vocab:
            return one
        if two in vocab:
            return two
        # try collapsing the remaining doubles too ("kakkk" -> "kak")
        word = one
        if word in vocab:
            return word
    # a doubled last letter is a chat habit ("siapp", "kakk", "yaa", "okee");
    # doubles inside a word are left alone ("wallet", "maaf")
    if len(word) >= 3 and word[-1] == word[-2] and word[-1].isalpha() and word[:-1] in vocab:
        return word[:-1]
    return word


def normalize_word(word: str) -> str:
    """One lowercase word -> its normalized form (elongation reduced, slang expanded)."""
    word = word.lower()
    if _LAUGH_RE.match(word):
        return "haha"
    word = _reduce_elongation(word)
    return _tables().words.get(word, word)


# --- message level ---------------------------------------------------------------

_PUNCT_RUN_RE = re.compile(r"([!?])[!?]+|\.{4,}|,{2,}")
_REDUP_DIGIT_RE = re.compile(r"(?<![\w-])([^\W\d_]{3,})2(nya|an|lah|kah|ku|mu)?(?![\w])")
_REDUP_HYPHEN_RE = re.compile(r"(?<![\w-])([^\W\d_]{2,})-\1(nya|an|lah|kah|ku|mu)?(?![\w-])")
_NOT_REDUP = frozenset({"xxl", "xxxl", "pcs", "ukuran", "size", "rp"})
_NUM_MULT_RE = re.compile(r"(\d)\s?(?:k|rb|rbu|ribu|rebu)(?![\w])")
_NUM_JT_RE = re.compile(r"(\d)\s?(?:jt|jeti|juta)(?![\w])")
_DIGIT_ALPHA_RE = re.compile(r"(?<=\d)(?=[^\W\d_])(?![2-5]?x{1,3}l\b)")
_ALPHA_DIGIT_RE = re.compile(r"(?<=[^\W\d_])(?=\d)")
_WORD_SPLIT_RE = re.compile(r"([^\W\d_]+)")



def _redup_digit(m: re.Match[str]) -> str:
    base = m.group(1)
    if base.lower() in _NOT_REDUP:
        return m.group(0)
    return f"{base} {base}{m.group(2) or ''}"


_EDGE_PUNCT = ",.!?;:\"'()[]{}<>*~"


@lru_cache(maxsize=65536)
def _token_items(tok: str) -> tuple[tuple[str, bool, bool], ...]:
    """The pieces of one lowercase whitespace-free token as (text, is_word, space_before).

    Words come back with elongations reduced and laughter as ``haha``; slang is
    expanded later (phrases need the neighbours).
    """
    items: list[tuple[str, bool, bool]] = []
    _split_token(tok, items)
    return tuple((_word_form(t) if w else t, w, sp) for t, w, sp in items)


def _word_form(word: str) -> str:
    return "haha" if _LAUGH_RE.match(word) else _reduce_elongation(word)


def _split_token(tok: str, items: list[tuple[str, bool, bool]]) -> None:
    core = tok.strip(_EDGE_PUNCT)
    if core.isalpha() and core.isascii():
        lead = tok[: tok.index(core)] if core else tok
        tail = tok[len(lead) + len(core) :]
        first = True
        if lead:
            items.append((_collapse_punct(lead), False, True))
            first = False
        if core:
            items.append((core, True, first))
            first = False
        if tail:
            items.append((_collapse_punct(tail), False, first))
        return
    tok = _collapse_punct(tok)
    if "2" in tok:
        tok = _REDUP_DIGIT_RE.sub(_redup_digit, tok)
    if "-" in tok:
        tok = _REDUP_HYPHEN_RE.sub(lambda m: f"{m.group(1)} {m.group(1)}{m.group(2) or ''}", tok)
    if any(c.isdigit() for c in tok):
        tok = _NUM_MULT_RE.sub(r"\1 ribu", tok)
        tok = _NUM_JT_RE.sub(r"\1 juta", tok)
        tok = _DIGIT_ALPHA_RE.sub(" ", tok)
        tok = _ALPHA_DIGIT_RE.sub(" ", tok)
    for sub in tok.split(" "):
        space = True
        for j, piece in enumerate(_WORD_SPLIT_RE.split(sub)):
            if piece:
                items.append((piece, j % 2 == 1, space))
                space = False


def _collapse_punct(s: str) -> str:
    if len(s) < 2:
        return s
    return _PUNCT_RUN_RE.sub(lambda m: m.group(1) or ("..." if m.group(0)[0] == "." else ","), s)


def _normalize_plain(seg: str) -> str:
    items: list[tuple[str, bool, bool]] = []
    for tok in seg.lower().split():
        items.extend(_token_items(tok))
    if not items:
        return ""
    tables = _tables()
    words_tbl = tables.words
    phrases = tables.phrase_firsts
    n = len(items)
    texts = [t for t, _, _ in items]
    out: list[str] = [" "] if seg[:1].isspace() else []
    i = 0
    while i < n:
        t = texts[i]
        is_word = items[i][1]
        if i and items[i][2]:
            out.append(" ")
        if not is_word:
            out.append(t)
            i += 1
            continue
        if t in phrases:
            matched = False
            for size in range(tables.max_phrase, 1, -1):
                last = i + size - 1
                if last >= n:
                    continue
                if not all(items[j][1] and items[j][2] for j in range(i + 1, last + 1)):
                    continue
                repl = tables.phrases.get(tuple(texts[i : last + 1]))
                if repl is not None:
                    out.append(repl)
                    i = last + 1
                    matched = True
                    break
            if matched:
                continue
        out.append(words_tbl.get(t, t))
        i += 1
    if seg[-1:].isspace():
        out.append(" ")
    return "".join(out)


def _protected_spans(text: str) -> list[re.Match[str]]:
    """Non-overlapping URL / e-mail / order-number / phone matches, in text order."""
    found: list[re.Match[str]] = []
    has_digit = any(c.isdigit() for c in text)
    if "." in text or "/" in text:
        found.extend(URL_RE.finditer(text))
    if "@" in text:
        found.extend(EMAIL_RE.finditer(text))
    if has_digit:
        found.extend(ORDER_NUMBER_RE.finditer(text))
        found.extend(PHONE_RE.finditer(text))
    if len(found) > 1:
        found.sort(key=lambda m: (m.start(), -m.end()))
        kept: list[re.Match[str]] = []
        for m in found:
            if not kept or m.start() >= kept[-1].end():
                kept.append(m)
        found = kept
    return found


def normalize(text: str, lang: Lang | None = None) -> str:
    """Normalize a chat message for intent classification (see the module doc).

    ``lang`` is accepted for symmetry with the classifier; the same tables serve
    both languages (the slang table only rewrites Indonesian chat forms and a few
    English chat abbreviations such as ``pls``/``thx``).
    """
    if not text:
        return ""
    text = clean_unicode(text)
    pieces: list[str] = []
    pos = 0
    for m in _protected_spans(text):
        if m.start() > pos:
            pieces.append(_normalize_plain(text[pos : m.start()]))
        if m.re is ORDER_NUMBER_RE:
            pieces.append(f"SP-{m.group(1)}-{m.group(2)}")
        else:
            pieces.append(m.group(0))
        pos = m.end()
    if pos < len(text):
        pieces.append(_normalize_plain(text[pos:]))
    return _SPACES_RE.sub(" ", "".join(pieces)).strip()


# A greeting in front of a request ("halo kak, mau pesan kemeja parang"): a courtesy, not
# the request. Bare times of day count only with an address or a comma after them ("pagi
# kak, ..."), since "malam ini bisa kirim?" is a question about tonight.
_ADDRESS = r"(?:kak|kakak|ka|kk|min|mimin|admin|gan|sis|sist|mba|mbak|mas|bu|pak|all|semua|there|team)\b"
_OPENING_RE = re.compile(
    rf"^\W*(?:(?:halo+|hal+o|hai+|hi+|hello+|helo+|hey+|permisi|punten|assalamu\W?alaikum\w*|salam(?:\s+kenal)?|"
    rf"selamat\s+(?:pagi|siang|sore|malam)|good\s+(?:morning|afternoon|evening))\b(?:\s+{_ADDRESS})*"
    rf"|(?:pagi|siang|sore|malam)(?:\s+{_ADDRESS})+|(?:pagi|siang|sore|malam)(?=\s*,))[\s,.!~]*",
    re.IGNORECASE,
)


def without_greeting(text: str) -> str:
    """``"halo kak, mau pesan kemeja parang"`` → ``"mau pesan kemeja parang"``; the text
    itself when it opens with no greeting, or is nothing else ("halo kak")."""
    match = _OPENING_RE.match(text)
    if match is None or match.end() == 0:
        return text
    rest = text[match.end():]
    return rest if len(rest.split()) >= 2 else text

"""Fast, cached stemming for Indonesian and English tokens.

Sastrawi's own stemmer takes 10-100 ms for a word it does not know (every
English word), which is far too slow for a parse budget of a few
milliseconds. This module keeps Sastrawi's root-word dictionary but applies a
small confix-stripping algorithm of its own: a form is accepted only when it
is a known Indonesian root, so English words fall through untouched to a light
English suffix stripper. Results are memoised per token.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

_VOWELS = frozenset("aiueo")


def _load_roots() -> frozenset[str]:
    try:
        text = (
            resources.files("Sastrawi.Stemmer")
            .joinpath("data/kata-dasar.txt")
            .read_text(encoding="utf-8")
        )
    except (ModuleNotFoundError, FileNotFoundError, OSError):  # pragma: no cover
        return frozenset()
    return frozenset(w.strip() for w in text.split() if w.strip())


ROOTS: frozenset[str] = _load_roots()

# Short words that look like affixed forms but must never be cut.
_KEEP = frozenset(
    """
    apa apakah kenapa mengapa bagaimana berapa kapan dimana di mana siapa
    bisa ada tidak nggak belum sudah udah mau ingin sama saja juga
    """.split()
)


def _prefix_remainders(word: str) -> list[str]:
    """Forms of ``word`` with one derivational prefix removed (with recoding)."""
    out: list[str] = []
    w = word
    if len(w) < 5:
        return out
    for p in ("di", "ke", "se", "ku", "ka"):
        if w.startswith(p):
            out.append(w[len(p):])
    for p in ("ber", "bel", "be", "ter", "te", "per", "pel"):
        if w.startswith(p):
            out.append(w[len(p):])
    for base in ("me", "pe"):
        if not w.startswith(base):
            continue
        rest = w[2:]
        if rest.startswith("ng"):
            r = rest[2:]
            out.append(r)
            if r[:1] in _VOWELS:
                out.append("k" + r)
        elif rest.startswith("ny"):
            out.append("s" + rest[2:])
        elif rest.startswith("m"):
            r = rest[1:]
            out.append(r)
            if r[:1] in _VOWELS:
                out.append("p" + r)
        elif rest.startswith("n"):
            r = rest[1:]
            out.append(r)
            if r[:1] in _VOWELS:
                out.append("t" + r)
        else:
            out.append(rest)
    return [r for r in out if len(r) >= 2]


def _suffix_remainders(word: str) -> list[str]:
    forms = [word]
    for parts in (("lah", "kah", "tah", "pun"), ("nya", "ku", "mu"), ("kan", "an", "i")):
        new = []
        for f in forms:
            for s in parts:
                if f.endswith(s) and len(f) - len(s) >= 3:
                    new.append(f[: -len(s)])
        forms = forms + new
    return forms


@lru_cache(maxsize=200_000)
def stem_id(word: str) -> str | None:
    """The Indonesian root of ``word`` if one can be found, else ``None``."""
    if word in ROOTS:
        return word
    if len(word) <= 3 or not word.isalpha():
        return None
    # Breadth-first: fewer removed affixes first; shorter-stripped forms later.
    for form in _suffix_remainders(word)[1:] + [word]:
        if form in ROOTS:
            return form
    frontier = _suffix_remainders(word)
    for _depth in range(3):
        nxt: list[str] = []
        for form in frontier:
            for rem in _prefix_remainders(form):
                for cand in _suffix_remainders(rem):
                    if cand in ROOTS:
                        return cand
                nxt.append(rem)
        frontier = nxt
        if not frontier:
            break
    return None


@lru_cache(maxsize=200_000)
def stem_en(word: str) -> str:
    """A light English suffix stripper (plural, -ing, -ed, -ly)."""
    w = word
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("sses"):
        return w[:-2]
    for suf in ("ing", "ed"):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            base = w[: -len(suf)]
            if len(base) >= 2 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]
            elif base.endswith(("at", "iz", "bl", "ceiv", "lv", "rg", "dg", "nc", "rv", "ir", "ur", "ak", "uc", "at")):
                base = base + "e"
            return _final_e(base)
    if w.endswith("ly") and len(w) > 5:
        return w[:-2]
    if w.endswith(("xes", "ches", "shes", "zes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    return _final_e(w)


def _final_e(w: str) -> str:
    return w[:-1] if w.endswith("e") and len(w) > 4 else w


def stem(word: str) -> str:
    """One stem for a lowercase token of either language."""
    if word in _KEEP:
        return word
    root = stem_id(word)
    if root is not None:
        return root
    return stem_en(word)

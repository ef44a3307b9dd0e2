"""Noisy paraphrases of FAQ questions, for training the decision layer.

An FAQ file has two or three tidy example questions per entry; customers write
"brp hari sampe sby kak" or ask in English an entry written in Indonesian.
Leave-one-out queries made of the tidy questions themselves score higher than
real traffic, so a decision trained on them alone rejects real paraphrases.
:func:`augment` makes variants that look more like real traffic:

* translation — each vocabulary phrase (``resources/shop_vocab.txt``) replaced
  by a term of the same concept in the other language (or a synonym);
* slang and typos — the reverse of the slang dictionary ("berapa" → "brp"),
  an address term added or dropped, a swapped or dropped letter;
* word dropout.

Deterministic for a given seed, so a training run is reproducible.
"""

from __future__ import annotations

import random
from functools import lru_cache

from bot.nlu.features import MAX_PHRASE, Vocabulary, tokenize
from bot.nlu.normalize import load_yaml_resource, normalize

ADDRESS = ("kak", "min", "gan", "sis")
FILLERS = ("ya", "dong", "sih", "nih", "kak", "min", "please", "pls")


@lru_cache(maxsize=1)
def reverse_slang() -> dict[str, tuple[str, ...]]:
    """Standard word → its slang spellings (single words only)."""
    data = load_yaml_resource("slang_id.yml")
    out: dict[str, list[str]] = {}
    for key, value in (data.get("slang") or {}).items():
        key, value = str(key).lower(), str(value).lower()
        if key != value and " " not in value and len(key) >= 2:
            out.setdefault(value, []).append(key)
    return {k: tuple(v) for k, v in out.items()}


def _translate(tokens: list[str], vocab: Vocabulary, rng: random.Random, p: float) -> list[str]:
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        for length in range(min(MAX_PHRASE, n - i), 0, -1):
            keys = vocab.surface.get(tuple(tokens[i : i + length]))
            if keys:
                key = keys[0]
                by_lang = vocab.terms_by_lang.get(key, {})
                if key != "_drop" and rng.random() < p:
                    src = "en" if any(" ".join(tokens[i : i + length]) == t.lower() for t in by_lang.get("en", ())) else "id"
                    other = by_lang.get("id" if src == "en" else "en") or by_lang.get(src) or []
                    if other:
                        out.extend(tokenize(normalize(rng.choice(other))))
                    else:
                        out.extend(tokens[i : i + length])
                else:
                    out.extend(tokens[i : i + length])
                i += length
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    j = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5:
        return word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return word[:j] + word[j + 1 :]


def _noise(tokens: list[str], rng: random.Random, dropout: float) -> list[str]:
    slang = reverse_slang()
    out: list[str] = []
    for t in tokens:
        if t in ADDRESS:
            if rng.random() < 0.5:
                continue
        elif len(tokens) > 2 and rng.random() < dropout:
            continue
        forms = slang.get(t)
        if forms and rng.random() < 0.5:
            t = rng.choice(forms)
        elif rng.random() < 0.06:
            t = _typo(t, rng)
        out.append(t)
    if rng.random() < 0.3:
        out.append(rng.choice(FILLERS))
    return out or tokens


def augment(text: str, vocab: Vocabulary, n: int, seed: int = 0) -> list[str]:
    """``n`` noisy variants of ``text`` (a translation, then slang/typos/dropout)."""
    rng = random.Random(f"{seed}\0{text}")
    tokens = tokenize(normalize(text))
    if not tokens:
        return []
    out: list[str] = []
    for k in range(n):
        toks = _translate(tokens, vocab, rng, p=0.7 if k % 2 == 0 else 0.25)
        toks = _noise(toks, rng, dropout=0.15 + 0.1 * (k % 3))
        out.append(" ".join(toks))
    return out

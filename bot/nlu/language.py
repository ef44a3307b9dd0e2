"""Language detection (Indonesian or English) for short chat messages.

The message is first normalized (:func:`bot.nlu.normalize.normalize`), so slang
becomes standard words ("brp ongkir ke bdg" -> "berapa ongkos kirim ke
bandung"). Each word then adds evidence for one language:

=====================================  ==========  ==========================
word                                   weight      examples
=====================================  ==========  ==========================
Indonesian function/common word        1.0 id      yang, berapa, sudah, bisa
English function/common word           1.0 en      the, can, you, where, pay
Indonesian root word (Sastrawi dict,   0.8 id      kemeja, pengiriman
  after stripping affixes)
English word after stripping -s/-ing…  0.8 en      shipped, arriving
address term (kak, min, gan, sis, …)   0.75 id     kak
English chat formula                   0.5 en      thanks, please, sorry, hello
loanword / shop term used in both      0           ok, size, ready, cod, transfer
unknown word                           ≤ 0.5       character-trigram model
=====================================  ==========  ==========================

The language with more evidence wins; a message with no evidence (numbers,
emoji, order numbers, "ok") or a tie gets ``default``.

Mixed messages are decided by the dominant language, with English loanwords
counting for nothing ("kak, size L ready?" -> id, "can I pay by transfer
bank?" -> en). An English chat formula next to an Indonesian address term is
Indonesian: "thanks kak", "sorry min", "thank you kak" -> id, because that is
how Indonesian customers talk and the bot should answer them in Indonesian;
"thank you" or "thanks!" alone -> en.

The character-trigram model (naive Bayes, add-one smoothing) is trained on
first use from the same word lists (Sastrawi's ~30k Indonesian root words and
the English list in ``resources/lang_words.yml``); it only judges words found
in neither list (typos, unknown English words such as "warranty").
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from bot.nlu.normalize import load_yaml_resource, normalize, sastrawi_words
from bot.types import Lang

__all__ = ["detect_language", "language_scores", "word_evidence"]

_WORD_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")

W_FUNCTION = 1.0
W_LEXICON = 0.8
W_ADDRESS = 0.75
W_FORMULA = 0.5
W_NGRAM = 0.5
# How much more known-word evidence the other language needs to switch a conversation.
SWITCH_MARGIN = 1.0


@dataclass(frozen=True)
class _Model:
    id_function: frozenset[str]
    en_words: frozenset[str]
    neutral: frozenset[str]
    en_formula: frozenset[str]
    id_address: frozenset[str]
    id_lexicon: frozenset[str]
    id_logp: dict[str, float]
    en_logp: dict[str, float]
    id_unseen: float
    en_unseen: float


def _trigrams(word: str) -> list[str]:
    w = f"^{word}$"
    return [w[i : i + 3] for i in range(len(w) - 2)]


def _train(words: set[str]) -> tuple[dict[str, float], float]:
    counts: Counter[str] = Counter()
    for w in words:
        counts.update(_trigrams(w))
    total = sum(counts.values())
    vocab = len(counts) + 1
    denom = math.log(total + vocab)
    return {g: math.log(c + 1) - denom for g, c in counts.items()}, -denom


@lru_cache(maxsize=1)
def _model() -> _Model:
    data = load_yaml_resource("lang_words.yml")

    def words(key: str) -> frozenset[str]:
        return frozenset(str(w).lower() for w in data.get(key) or ())

    id_function = words("id_function")
    en_words = words("en_function")
    sastrawi = sastrawi_words()
    id_lexicon = frozenset(sastrawi | id_function)
    id_train = {w for w in id_lexicon if w.isalpha() and w not in en_words}
    en_train = {w for w in en_words if w.isalpha()}
    id_logp, id_unseen = _train(id_train)
    en_logp, en_unseen = _train(en_train)
    return _Model(
        id_function=id_function,
        en_words=en_words,
        neutral=words("neutral"),
        en_formula=words("en_formula"),
        id_address=words("id_address"),
        id_lexicon=id_lexicon,
        id_logp=id_logp,
        en_logp=en_logp,
        id_unseen=id_unseen,
        en_unseen=en_unseen,
    )


_ID_SUFFIXES = ("nya", "lah", "kah", "pun", "ku", "mu")
_ID_SUFFIXES2 = ("kan", "an", "i")
_ID_PREFIXES = (
    ("meng", ("", "k")), ("meny", ("s",)), ("mem", ("", "p")), ("men", ("", "t")), ("me", ("",)),
    ("peng", ("", "k")), ("peny", ("s",)), ("pem", ("", "p")), ("pen", ("", "t")), ("per", ("",)),
    ("pe", ("",)), ("ber", ("",)), ("be", ("",)), ("ter", ("",)), ("di", ("",)), ("ke", ("",)),
    ("se", ("",)),
)


def _id_known(word: str, lexicon: frozenset[str]) -> bool:
    """Is ``word`` an Indonesian root, possibly with common affixes?"""
    if word in lexicon:
        return True
    stems = {word}
    for suf in _ID_SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            stems.add(word[: -len(suf)])
    for s in list(stems):
        for suf in _ID_SUFFIXES2:
            if s.endswith(suf) and len(s) - len(suf) >= 3:
                stems.add(s[: -len(suf)])
    for s in list(stems):
        for pre, restore in _ID_PREFIXES:
            if s.startswith(pre) and len(s) - len(pre) >= 3:
                rest = s[len(pre) :]
                stems.update(r + rest for r in restore)
                break
    return any(len(s) >= 3 and s in lexicon for s in stems)


def _en_known(word: str, en: frozenset[str]) -> bool:
    if word in en:
        return True
    cands = []
    for suf, rep in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"),
                     ("ly", ""), ("er", ""), ("ers", ""), ("est", ""), ("ment", ""), ("ness", ""), ("ful", "")):
        if word.endswith(suf) and len(word) - len(suf) >= 2:
            stem = word[: -len(suf)] + rep
            cands.append(stem)
            if len(stem) >= 3 and stem[-1] == stem[-2] and not rep:
                cands.append(stem[:-1])  # shipped -> ship
    return any(c in en for c in cands)


def _ngram_log_odds(word: str) -> float:
    """log P(word | en) - log P(word | id) under the trigram models, per trigram."""
    m = _model()
    grams = _trigrams(word)
    en = sum(m.en_logp.get(g, m.en_unseen) for g in grams)
    id_ = sum(m.id_logp.get(g, m.id_unseen) for g in grams)
    return (en - id_) / max(1, len(grams))


@lru_cache(maxsize=32768)
def _word(word: str) -> tuple[float, float, bool]:
    """(Indonesian, English) evidence of one word, and whether it is only the trigram model's guess."""
    m = _model()
    if len(word) < 2 and word != "i":
        return (0.0, 0.0, False)
    if word in m.id_address:
        return (W_ADDRESS, 0.0, False)
    if word in m.en_formula:
        return (0.0, W_FORMULA, False)
    if word in m.neutral:
        return (0.0, 0.0, False)
    in_id = word in m.id_function
    in_en = word in m.en_words
    if in_id and in_en:
        return (0.0, 0.0, False)
    if in_en:
        return (0.0, W_FUNCTION, False)
    if in_id:
        return (W_FUNCTION, 0.0, False)
    id_known = _id_known(word, m.id_lexicon)
    en_known = _en_known(word, m.en_words)
    if id_known and not en_known:
        return (W_LEXICON, 0.0, False)
    if en_known and not id_known:
        return (0.0, W_LEXICON, False)
    lo = _ngram_log_odds(word)
    weight = W_NGRAM * (0.5 if id_known else 1.0) * min(1.0, abs(lo) / 1.5)
    return (0.0, weight, True) if lo > 0 else (weight, 0.0, True)


def word_evidence(word: str) -> tuple[float, float]:
    """(Indonesian, English) evidence of one normalized lowercase word."""
    i, e, _ = _word(word)
    return (i, e)


def _evidence(text: str, *, guesses: bool = True) -> tuple[float, float]:
    norm = normalize(text).lower()
    if "thank you" in norm:  # one formula, not "thank" + the pronoun "you"
        norm = norm.replace("thank you", "thanks")
    id_score = en_score = 0.0
    for word in _WORD_RE.findall(norm):
        for part in word.split("-") if word.count("-") and word not in _model().neutral else (word,):
            i, e, guessed = _word(part)
            if guessed and not guesses:
                continue
            id_score += i
            en_score += e
    return id_score, en_score


def language_scores(text: str) -> dict[Lang, float]:
    """Probability-like scores for "id" and "en" (they sum to 1; 0.5/0.5 = no evidence)."""
    id_score, en_score = _evidence(text or "")
    p_id = (id_score + 0.25) / (id_score + en_score + 0.5)
    return {"id": p_id, "en": 1.0 - p_id}


def detect_language(text: str, default: Lang = "id", *, keep: bool = False) -> Lang:
    """"id" or "en" for a short chat message; ``default`` when there is no or equal evidence.

    With ``keep`` (``default`` is the language the conversation is already in), the
    message must say clearly that the customer changed language: words known to be
    the other language's, outweighing this one's by :data:`SWITCH_MARGIN`. Guesses
    about unknown words ("asdfgh", "gaskeun") and a lone loanword among Indonesian
    ("noted kak", "oke noted") keep the conversation's language."""
    id_score, en_score = _evidence(text or "")
    found: Lang = "en" if en_score > id_score else "id" if id_score > en_score else default
    if keep and found != default:
        known_id, known_en = _evidence(text or "", guesses=False)
        lead = known_en - known_id if found == "en" else known_id - known_en
        if lead < SWITCH_MARGIN:
            return default
    return found

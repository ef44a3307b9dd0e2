"""Understanding a customer's answer to one question: phone numbers, e-mails, rupiah
amounts, quantities, yes/no, order numbers. Pure functions: text in, value or None out.

Phone numbers, e-mails, amounts and order numbers come from the NLU's entities
(:mod:`bot.nlu.entities`); what is left here reads the short answers a question
gets and no entity covers: "2", "dua", "iya kak", "lewati", "Budi Santoso".
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def _without_emoji(text: str) -> str:
    """The text with emoji and other pictographs removed: "2 ya kak 😊" is the answer "2 ya kak"."""
    return "".join(
        " " if unicodedata.category(ch) in ("So", "Sk", "Cs") else ch
        for ch in text
        if ch not in "\u200d\ufe0f\ufe0e"  # joiners and variation selectors inside emoji sequences
    )


def entity(entities: list[dict] | None, name: str):
    """The first value the NLU found for entity ``name`` (phone, email, amount, order_number...)."""
    for found in entities or ():
        if found.get("entity") == name:
            return found.get("value")
    return None


def local_phone(e164: str) -> str:
    """``"+6281234567890"`` (the NLU's phone entity) → ``"081234567890"``, as Indonesians write it."""
    return "0" + e164[3:] if e164.startswith("+62") else e164


def parse_amount(text: str, entities: list[dict] | None = None) -> int | None:
    """Rupiah as an integer: the NLU's amount ("Rp215.000", "215rb", "1,5jt") or plain digits."""
    found = entity(entities, "amount")
    if isinstance(found, int) and found > 0:
        return found
    digits = text.strip().lower().removeprefix("rp").strip()
    if digits.isdigit() and len(digits) <= 12 and int(digits) > 0:
        return int(digits)
    return None


_NUMBER_WORDS = {
    "satu": 1, "se": 1, "sebuah": 1, "sepasang": 1, "selusin": 12, "dua": 2, "tiga": 3, "empat": 4,
    "lima": 5, "enam": 6, "tujuh": 7, "delapan": 8, "sembilan": 9, "sepuluh": 10,
    "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "dozen": 12,
}
_UNIT_WORDS = r"(?:pcs|pc|biji|buah|potong|pasang|lembar|item|items|piece|pieces|aja|saja|ya|kak|min|deh|dong)"
_QUANTITY = re.compile(rf"^(?:mau\s+|ambil\s+|pesan\s+|i'?ll take\s+|i want\s+)?(\w+)(?:\s+{_UNIT_WORDS})*[.!]*$")


def parse_quantity(text: str) -> int | None:
    """``"2"``, ``"dua"``, ``"3 pcs"``, ``"ambil 2 aja kak"`` → the number; None otherwise."""
    raw = _SPACES.sub(" ", _without_emoji(text).strip().lower())
    match = _QUANTITY.match(raw)
    if match is None:
        return None
    word = match.group(1)
    if word.isdigit():
        return int(word) if len(word) <= 6 else None
    return _NUMBER_WORDS.get(word)


_YES = {
    "ya", "iya", "iyaa", "iy", "y", "yes", "yess", "yup", "yep", "ok", "oke", "okay", "okey", "sip", "siap",
    "boleh", "betul", "benar", "bener", "lanjut", "lanjutkan", "sudah", "udah", "udh", "sure", "correct",
    "confirm", "mau", "tambah", "add", "yes please", "ya betul", "sudah benar", "udah bener",
}
_NO = {
    "tidak", "tdk", "nggak", "ngga", "enggak", "gak", "ga", "engga", "no", "nope", "nah", "belum", "blm",
    "cukup", "sudah cukup", "udah cukup", "itu aja", "itu saja", "no thanks", "no thank you",
    "gak usah", "ga usah", "tidak usah", "checkout", "lanjut bayar", "not now",
}
_POLITE_TAIL = re.compile(r"(?:\s+(?:kak|min|ka|dong|deh|aja|saja|ya|please|thanks|terima kasih|makasih))+$")


def without_polite_tail(text: str) -> str:
    """``"jnt aja kak"`` → ``"jnt"``: the answer without the courtesy words after it."""
    return _POLITE_TAIL.sub("", text).strip()


# "lanjut" is a yes to most questions, but to "add another product?" — whose other button
# reads "✅ Lanjut ke pengiriman" — going on means no more products. So does saying the cart
# is complete ("udah itu aja", "that's all"); "udah" alone stays a yes elsewhere.
_GO_ON = re.compile(
    r"^(?:(?:lanjut(?:kan)?|lanjut aja|continue|go on|next|proceed)"
    r"(?:\s+(?:ke\s+|to\s+)?(?:pengiriman|pengirimannya|checkout|bayar|pembayaran|delivery|shipping))?"
    r"|(?:(?:udah|sudah|udh|dah)\s+)?(?:itu|segitu)|that'?s (?:all|it)|nothing else|no more|done|that will be all)$"
)


_PUNCTUATION = re.compile(r"[!.,?]+")
_CANCEL_PUNCTUATION = re.compile(r"[!.,]+")  # "batal?" asks; it does not cancel


def _answer_words(text: str, punctuation: re.Pattern[str] = _PUNCTUATION) -> str:
    """A short answer's words: lowercase, without emoji and punctuation, single-spaced."""
    return _SPACES.sub(" ", punctuation.sub(" ", _without_emoji(text).strip().lower())).strip()


def means_go_on(text: str) -> bool:
    """``"lanjut"``, ``"lanjut ke pengiriman kak"``, ``"go on to delivery"``: move on (to checkout)."""
    return bool(_GO_ON.match(_POLITE_TAIL.sub("", _answer_words(text)).strip()))


def parse_yes_no(text: str, intent: str | None = None) -> bool | None:
    """True for yes, False for no, None when the answer is neither (a button's ``/affirm`` counts)."""
    raw = _answer_words(text)
    if raw in ("/affirm",):
        return True
    if raw in ("/deny",):
        return False
    raw = _POLITE_TAIL.sub("", raw).strip()
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    return None


_SKIP = {"lewati", "skip", "tidak ada", "gak ada", "ga ada", "nggak ada", "tdk ada", "-", "none", "no", "tidak",
         "gak", "ga", "nanti", "later", "/skip"}


# "gak ada fotonya", "tidak punya bukti transfer", "I don't have one": the customer has none.
_HAS_NONE = re.compile(
    r"^(?:(?:tidak|tdk|gak|ga|gk|nggak|ngga|enggak|engga|belum|blm)\s+(?:ada|punya)(?:\s+[^\W\d_]+){0,2}"
    r"|(?:i\s+)?(?:don'?t|do not|didn'?t|did not)\s+have(?:\s+(?:a|an|any|the|it|one))?(?:\s+[^\W\d_]+)?"
    r"|no\s+(?:photo|picture|pic|image|receipt|proof|order number|number))$"
)


def is_skip(text: str) -> bool:
    """Whether the customer chose to skip an optional question."""
    raw = _POLITE_TAIL.sub("", _SPACES.sub(" ", _without_emoji(text).strip().lower()).strip().rstrip(".!")).strip()
    return raw in _SKIP or _HAS_NONE.match(raw) is not None


_CANCEL = {"batal", "batalkan", "batalin", "cancel", "gak jadi", "ga jadi", "nggak jadi", "enggak jadi",
           "tidak jadi", "gajadi", "gk jadi", "stop", "/cancel", "never mind", "nevermind", "forget it",
           "cancel order", "batal pesan", "batal aja", "udahan", "sudahi",
           # outside a flow these ask how to cancel a placed order (an FAQ); inside one they end it
           "cancel my order", "cancel the order", "cancel this order", "batalin pesanan", "batalkan pesanan"}


def is_cancel(text: str) -> bool:
    """"batal", "gak jadi", "cancel" — the customer wants out of the current flow."""
    return _POLITE_TAIL.sub("", _answer_words(text, _CANCEL_PUNCTUATION)).strip() in _CANCEL


# Words that do not occur in names but do in requests ("cek pesanan saya dong").
_NOT_NAME_WORDS = {
    "saya", "aku", "kak", "kakak", "min", "admin", "mau", "ingin", "pesan", "pesanan", "order", "cek", "cekin",
    "dong", "deh", "ya", "yg", "yang", "tidak", "gak", "ga", "nggak", "sudah", "udah", "belum", "bayar",
    "transfer", "status", "kirim", "ongkir", "harga", "berapa", "apa", "gimana", "bagaimana", "tolong",
    "batal", "bisa", "ada", "dan", "atau", "di", "ke", "dari", "untuk", "buat", "the", "my", "i", "want",
    "to", "is", "what", "how", "please", "order", "check", "cancel", "help", "halo", "hai", "hello", "hi",
    "terima", "kasih", "makasih", "thanks", "for",
}


# "... a.n. Sari Wulandari", "atas nama Budi ya kak", "from an account in the name of Dewi":
# the name after the marker, up to punctuation, a digit or the courtesy words.
_NAMED_AS = re.compile(
    r"(?:\ba\.\s?n\.?|\ban\.|\batas nama|\bin the name of|\baccount name(?: is)?|\bname on the account(?: is)?)"
    r"\s*:?\s*([^\W\d_][^\W\d_ .'\-]*(?:[ .'\-]+[^\W\d_][^\W\d_.'\-]*){0,4})",
    re.I,
)


# Words that only ask to complain ("I'd like to make a complaint", "saya mau ajukan keluhan"):
# a message made of nothing else does not yet say what went wrong.
_COMPLAINT_REQUEST_WORDS = frozenset(
    "i i'd i'm im want would like to make file submit lodge raise a an have got need can could please "
    "complain complaint complaints about my the an order some something "
    "saya sy aku mau ingin pengen mo ajukan mengajukan bikin buat komplain komplen keluhan ada "
    "soal tentang pesanan kak min dong ya nih".split()
)


def only_asks_to_complain(text: str) -> bool:
    """``"I want to complain"``, ``"saya mau komplain"``: a request with no description in it."""
    words = _answer_words(text).replace("’", "'").split()
    return bool(words) and all(w in _COMPLAINT_REQUEST_WORDS for w in words)


# Words around a choice typed instead of pressed ("yang parang aja kak", "the blue one please").
_CHOICE_FILLER = frozenset(
    "yg yang itu ini aja saja deh dong ya kak min mau pilih ambil sama the one a that this i'll "
    "i'd take want like please pls thanks".split()
)
_ORDINALS = {
    "pertama": 0, "kesatu": 0, "first": 0, "1st": 0, "kedua": 1, "second": 1, "2nd": 1,
    "ketiga": 2, "third": 2, "3rd": 2, "keempat": 3, "fourth": 3, "4th": 3, "kelima": 4, "fifth": 4, "5th": 4,
    "terakhir": -1, "last": -1,
}
_TITLE_WORDS = re.compile(r"[^\W_]+(?:[.\-'][^\W_]+)*")


def typed_choice(text: str, offered: list[list[str]]) -> str | None:
    """The payload of the one offered button ``[title, payload]`` a typed answer names:
    "yg parang" among five shirts, "the blue one", "yang kedua"; None when it names none
    or several ("jne" between JNE REG and JNE YES), so the question's own check decides."""
    words = [w for w in _TITLE_WORDS.findall(_answer_words(text)) if w not in _CHOICE_FILLER]
    if not words or not offered:
        return None
    if len(words) == 1 and words[0] in _ORDINALS:
        index = _ORDINALS[words[0]]
        return offered[index][1] if -len(offered) <= index < len(offered) else None

    def names(title: str) -> bool:
        title_words = _TITLE_WORDS.findall(title.lower())
        return all(any(t == w or (len(w) >= 3 and t.startswith(w)) for t in title_words) for w in words)

    named = [payload for title, payload in offered if names(title)]
    return named[0] if len(named) == 1 else None


def named_as(text: str) -> str | None:
    """The name a message gives after "a.n." / "atas nama" ("... a.n. Sari ya kak" → "Sari")."""
    match = _NAMED_AS.search(text)
    if match is None:
        return None
    # The name ends where the message goes on ("a.n. Sari Wulandari buat pesanan SP-…",
    # "atas nama Budi untuk order kemarin"): its first word no name has.
    words = []
    for word in match.group(1).split():
        if word.lower().strip(".'-") in _NOT_NAME_WORDS:
            break
        words.append(word)
    return clean_name(without_polite_tail(" ".join(words).strip(" .'-")))


def clean_name(text: str) -> str | None:
    """A person's name as given ("budi santoso" → "Budi Santoso"); None when it is not a name."""
    raw = _SPACES.sub(" ", text.strip())
    raw = re.sub(r"^(?:nama saya|namaku|nama|saya|atas nama|a\.?n\.?|my name is|name:?|i'?m)\s+", "", raw, flags=re.I)
    if not 2 <= len(raw) <= 80:
        return None
    if not re.fullmatch(r"[^\W\d_]+(?:[ .,'\-][^\W\d_]*)*\.?", raw):
        return None
    if sum(ch.isalpha() for ch in raw) < 2:
        return None
    if any(w in _NOT_NAME_WORDS for w in re.findall(r"\w+", raw.lower())):
        return None
    return raw if any(ch.isupper() for ch in raw) else raw.title()

"""What a message made only of emoji means.

Customers answer a question with a 👍 or a 🙏 as often as with words. The classifier
has no words to go on in such a message, and left to it "😀" scored as ``cancel`` and
"👎" as ``affirm`` (a confirmation step would have placed the order on a thumbs-down).
So a message without a single letter or digit is read here instead: the few emoji whose
meaning is settled in Indonesian chat answer yes, no or thanks (a heart after
an answer is a thank-you), and everything else
(😀 😭 🤣, a lone zero-width space) says nothing the bot can act on.
"""

from __future__ import annotations

import unicodedata

from bot.intents import AFFIRM, DENY, OUT_OF_SCOPE, THANKS

# Base characters, without the skin-tone modifiers and variation selectors that follow them.
EMOJI_INTENTS: dict[str, str] = {
    "👍": AFFIRM, "👌": AFFIRM, "✅": AFFIRM, "✔": AFFIRM, "☑": AFFIRM, "🆗": AFFIRM, "🙆": AFFIRM,
    "👎": DENY, "❌": DENY, "✖": DENY, "❎": DENY, "🙅": DENY, "🚫": DENY,
    "🙏": THANKS, "❤": THANKS, "😍": THANKS, "🥰": THANKS, "😘": THANKS,
}


def has_words(text: str) -> bool:
    """Whether ``text`` holds a letter or a digit (in any script)."""
    return any(unicodedata.category(c)[0] in "LN" for c in text)


def emoji_intent(text: str) -> str:
    """The intent of a message with no letters or digits (see :func:`has_words`).

    One meaning among its emoji ("👍👍", "🙏🏽") is that intent; thumbs up with a 🙏
    is a yes; yes and no together, or no emoji this module knows, is out of scope.
    """
    found = {EMOJI_INTENTS[c] for c in text if c in EMOJI_INTENTS}
    if AFFIRM in found and DENY in found:
        return OUT_OF_SCOPE
    for intent in (AFFIRM, DENY, THANKS):
        if intent in found:
            return intent
    return OUT_OF_SCOPE

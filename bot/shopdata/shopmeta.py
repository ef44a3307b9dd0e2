"""``shop.yml`` (the shop's own facts) and ``texts.yml`` (overrides of the bot's texts)."""

from __future__ import annotations

import difflib
from functools import cache
from pathlib import Path

from bot.texts import package_text_keys

from .problems import Problems
from .yamlio import bilingual, mapping, read_yaml, text, to_python, version

# shop.yml keys with a fixed shape; every other key is free-form.
SHOP_BILINGUAL_KEYS = ("tagline", "hours")
TEXTS_FILE_KEYS = ("version", "texts")


def read_shop_file(path: Path, probs: Problems) -> dict[str, object] | None:
    """``version: 1``, ``name:`` (text), ``tagline``/``hours`` as ``{id:, en:}``, anything else free-form."""
    root = read_yaml(path, probs)
    if root is None:
        return None
    fields = mapping(probs, root, "shop.yml", required=("version", "name"))
    if fields is None:
        return None
    version(probs, fields, "1")
    shop: dict[str, object] = {}
    ok = True
    for key, field in fields.items():
        if key == "version":
            value: object = 1
        elif key == "name":
            value = text(probs, field, "shop name")
        elif key in SHOP_BILINGUAL_KEYS:
            value = bilingual(probs, field, key)
        else:
            value = to_python(field.node)
        if value is None and key in ("name", *SHOP_BILINGUAL_KEYS):
            ok = False
        shop[key] = value
    return shop if ok else None


def read_texts_file(path: Path, probs: Problems) -> dict[str, dict[str, str]] | None:
    """``texts: {key: {id: text, en: text}}`` — a key may override one or both languages."""
    root = read_yaml(path, probs)
    if root is None:
        return None
    fields = mapping(probs, root, "texts.yml", allowed=TEXTS_FILE_KEYS, required=("texts",))
    if fields is None:
        return None
    version(probs, fields, "1")
    if "texts" not in fields:
        return None
    entries = mapping(probs, fields["texts"].node, "texts", line=fields["texts"].line)
    if entries is None:
        return None
    known = _package_text_keys()
    texts: dict[str, dict[str, str]] = {}
    ok = True
    for key, field in entries.items():
        if key not in known:
            # Such a text is never said: the admin's wording would silently not appear.
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            probs.error(
                field.key_line,
                f"'{key}' is not one of the bot's texts{hint}; the keys are those of bot/resources/texts*.yml",
            )
            ok = False
            continue
        value = bilingual(probs, field, f"text '{key}'", require_all=False)
        if value is None:
            ok = False
        else:
            texts[key] = value
    return texts if ok else None


@cache
def _package_text_keys() -> frozenset[str]:
    return package_text_keys()

"""``faq/*.yml``: the shop's questions and answers."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml.nodes import MappingNode, ScalarNode

from .model import FAQ_CATEGORIES, FaqButton, FaqEntry, SourceRef
from .problems import Problems
from .yamlio import (
    LANGS,
    Field,
    bilingual,
    line_of,
    mapping,
    read_yaml,
    sequence,
    text,
    text_node,
    version,
)

FAQ_ID_RE = re.compile(r"[a-z0-9-]+")

FILE_KEYS = ("version", "category", "faqs")
ENTRY_KEYS = ("id", "questions", "answer", "buttons")
BUTTON_KEYS = ("title", "payload")


def _peek_id(node) -> str | None:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == "id" and isinstance(value, ScalarNode):
                return str(value.value).strip() or None
    return None


def read_faq_file(path: Path, probs: Problems) -> tuple[list[FaqEntry], list[tuple[str, int]]]:
    """Parse one FAQ file.

    Returns the valid entries, and (id, line) for every entry whose id is well formed
    (even when the entry has other errors) so cross-file checks don't cascade.
    """
    entries: list[FaqEntry] = []
    ids: list[tuple[str, int]] = []
    root = read_yaml(path, probs)
    if root is None:
        return entries, ids
    fields = mapping(probs, root, "an FAQ file", allowed=FILE_KEYS, required=FILE_KEYS)
    if fields is None:
        return entries, ids
    version(probs, fields, "1")
    category: str | None = None
    if "category" in fields:
        category = text(probs, fields["category"], "category")
        if category is not None and category not in FAQ_CATEGORIES:
            probs.error(
                fields["category"].line,
                f"unknown category '{category}'; allowed: {', '.join(FAQ_CATEGORIES)}",
            )
            category = None
    if "faqs" not in fields:
        return entries, ids
    items = sequence(probs, fields["faqs"], "faqs")
    if items is None:
        return entries, ids
    for item in items:
        entry_id, entry = _read_entry(item, category, probs)
        if entry_id is not None:
            ids.append(entry_id)
        if entry is not None:
            entries.append(entry)
    return entries, ids


def _read_entry(
    node, category: str | None, probs: Problems
) -> tuple[tuple[str, int] | None, FaqEntry | None]:
    peek = _peek_id(node)
    what = f"FAQ entry '{peek}'" if peek else "FAQ entry"
    fields = mapping(probs, node, what, allowed=ENTRY_KEYS, required=("id", "questions", "answer"))
    if fields is None:
        return None, None
    ok = True
    good_id: tuple[str, int] | None = None
    entry_id: str | None = None
    if "id" in fields:
        entry_id = text(probs, fields["id"], "FAQ id")
        if entry_id is not None:
            if FAQ_ID_RE.fullmatch(entry_id):
                good_id = (entry_id, fields["id"].line)
            else:
                probs.error(
                    fields["id"].line,
                    f"FAQ id '{entry_id}' may contain only lowercase letters a-z, digits and '-'",
                )
                ok = False
    questions = _read_questions(fields["questions"], what, probs) if "questions" in fields else None
    answer = bilingual(probs, fields["answer"], "answer") if "answer" in fields else None
    buttons = _read_buttons(fields["buttons"], probs) if "buttons" in fields else ()
    if not ok or entry_id is None or questions is None or answer is None or buttons is None:
        return good_id, None
    if category is None:
        return good_id, None
    entry = FaqEntry(
        id=entry_id,
        category=category,
        questions=questions,
        answer=answer,
        buttons=buttons,
        source=SourceRef(probs.file, line_of(node)),
    )
    return good_id, entry


def _read_questions(field: Field, what: str, probs: Problems) -> dict[str, tuple[str, ...]] | None:
    langs = mapping(probs, field.node, "questions", line=field.line, allowed=LANGS)
    if langs is None:
        return None
    if not langs:
        probs.error(field.key_line, f"questions of {what} need at least one language ('id' or 'en')")
        return None
    result: dict[str, tuple[str, ...]] = {}
    ok = True
    for lang, lang_field in langs.items():
        items = sequence(probs, lang_field, f"'{lang}' questions")
        if items is None:
            ok = False
            continue
        if not items:
            probs.error(lang_field.line, f"'{lang}' questions list is empty")
            ok = False
            continue
        found: list[str] = []
        for item in items:
            question = text_node(probs, item, line_of(item), f"a question in '{lang}'")
            if question is None:
                ok = False
            else:
                found.append(question)
        result[lang] = tuple(found)
    return result if ok else None


def _read_buttons(field: Field, probs: Problems) -> tuple[FaqButton, ...] | None:
    items = sequence(probs, field, "buttons")
    if items is None:
        return None
    buttons: list[FaqButton] = []
    ok = True
    for item in items:
        fields = mapping(probs, item, "button", allowed=BUTTON_KEYS, required=BUTTON_KEYS)
        if fields is None:
            ok = False
            continue
        title = bilingual(probs, fields["title"], "button title") if "title" in fields else None
        payload = text(probs, fields["payload"], "button payload") if "payload" in fields else None
        if title is None or payload is None:
            ok = False
            continue
        buttons.append(FaqButton(title=title, payload=payload, line=fields["payload"].line))
    return tuple(buttons) if ok else None

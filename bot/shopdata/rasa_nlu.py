"""Rasa 3 NLU training-data files (``nlu/*.yml`` and the files ``sapa nlu test`` reads).

```yaml
version: "3.1"
nlu:
- intent: order_status
  examples: |
    - pesanan [INV-1234](order_id) sudah sampai mana?
    - cek [resi]{"entity": "doc", "value": "tracking"} dong
- synonym: ...        # synonym / regex / lookup items are accepted and ignored
```

Entity annotations are removed from the text and kept as :class:`EntitySpan`
(character offsets in the cleaned text), as Rasa does. Intent names are always
text (``- intent: yes`` is the intent "yes", not a boolean).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .model import EntitySpan, NluExample, SourceRef
from .problems import DataError, DataProblem, Problems, display_path, sort_problems
from .yamlio import Field, describe, is_null, line_of, mapping, read_yaml, sequence, text

FILE_KEYS = ("version", "nlu")
INTENT_KEYS = ("intent", "examples", "metadata")
OTHER_ITEMS = ("synonym", "regex", "lookup")
OTHER_KEYS = ("examples", "metadata")
VERSION_RE = re.compile(r"[23]\.\d+")

# Rasa's own annotation syntax: [text](entity), [text](entity:value),
# [text]{"entity": "e", "value": "v"}, [text][{...}, {...}]
ENTITY_RE = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)"
    r"|\{(?P<dict>[^}]+?)\}"
    r"|\[(?P<list>.*?)\])"
)


def strip_annotations(example: str) -> tuple[str, tuple[EntitySpan, ...]]:
    """Remove entity annotations from ``example``; offsets refer to the cleaned text.

    Raises ValueError for a malformed ``{...}`` annotation.
    """
    if "[" not in example:
        return example, ()
    pieces: list[str] = []
    spans: list[EntitySpan] = []
    pos = 0
    length = 0
    for match in ENTITY_RE.finditer(example):
        before = example[pos : match.start()]
        pieces.append(before)
        length += len(before)
        value_text = match.group("text")
        start, end = length, length + len(value_text)
        pieces.append(value_text)
        length = end
        pos = match.end()
        if match.group("entity") is not None:
            entity = match.group("entity").strip()
            value = match.group("value")
            spans.append(EntitySpan(start, end, entity, value.strip() if value is not None else value_text))
            continue
        raw = "{" + match.group("dict") + "}" if match.group("dict") is not None else "[" + match.group("list") + "]"
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"entity annotation {raw} is not valid JSON ({exc.msg})") from None
        for item in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(item, dict) or not isinstance(item.get("entity"), str) or not item["entity"]:
                raise ValueError(f'entity annotation {raw} needs an "entity" name')
            value = item.get("value", value_text)
            spans.append(EntitySpan(start, end, item["entity"], str(value)))
    pieces.append(example[pos:])
    return "".join(pieces), tuple(spans)


def _example(
    raw: str, intent: str, line: int, probs: Problems
) -> NluExample | None:
    try:
        cleaned, spans = strip_annotations(raw)
    except ValueError as exc:
        probs.error(line, str(exc))
        return None
    lead = len(cleaned) - len(cleaned.lstrip())
    cleaned = cleaned.strip()
    if lead and spans:
        spans = tuple(
            EntitySpan(max(0, s.start - lead), max(0, s.end - lead), s.entity, s.value) for s in spans
        )
    if not cleaned:
        probs.error(line, f"empty example in intent '{intent}'")
        return None
    return NluExample(cleaned, intent, spans, SourceRef(probs.file, line))


def _block_examples(field: Field, intent: str, probs: Problems) -> list[NluExample]:
    """The ``examples: |`` block: one ``- text`` per line."""
    node = field.node
    if node.style == ">":
        probs.error(field.line, "examples must be a literal block ('examples: |'), not a folded one ('>')")
        return []
    # In a literal block the content starts on the line after 'examples: |' and keeps
    # its lines; for any other scalar style, lines are counted from where it starts.
    first = line_of(node) + 1 if node.style == "|" else field.line
    found: list[NluExample] = []
    for offset, line_text in enumerate(str(node.value).split("\n")):
        stripped = line_text.strip()
        if not stripped:
            continue
        line = first + offset
        if not stripped.startswith("-"):
            probs.error(line, f"example in intent '{intent}' must start with '- ': {stripped!r}")
            continue
        example = _example(stripped[1:], intent, line, probs)
        if example is not None:
            found.append(example)
    return found


def _list_examples(field: Field, intent: str, probs: Problems) -> list[NluExample]:
    """Rasa's extended form: ``examples:`` as a list of texts or ``{text:, metadata:}``."""
    found: list[NluExample] = []
    for item in field.node.value:
        if isinstance(item, MappingNode):
            fields = mapping(probs, item, "example", allowed=("text", "metadata"), required=("text",))
            if not fields or "text" not in fields:
                continue
            value = text(probs, fields["text"], "example text")
            line = fields["text"].line
        else:
            value = text(probs, Field("examples", line_of(item), item), "example")
            line = line_of(item)
        if value is not None:
            example = _example(value, intent, line, probs)
            if example is not None:
                found.append(example)
    return found


IntentCheck = Callable[[str], "str | None"]


def parse_nlu_root(root: Node, probs: Problems, check_intent: IntentCheck | None = None) -> list[NluExample]:
    """Examples of a composed NLU file; problems are recorded in ``probs``.

    ``check_intent(name)`` may return an error message for an intent name; it is
    reported at the intent's line and that intent's examples are left out.
    """
    fields = mapping(probs, root, "an NLU file", allowed=FILE_KEYS, required=("nlu",))
    if fields is None:
        return []
    if "version" in fields:
        node = fields["version"].node
        if not isinstance(node, ScalarNode) or is_null(node) or not VERSION_RE.fullmatch(str(node.value).strip()):
            probs.error(fields["version"].line, f'version must be "3.1", got {describe(node)}')
    if "nlu" not in fields:
        return []
    items = sequence(probs, fields["nlu"], "nlu")
    if items is None:
        return []
    examples: list[NluExample] = []
    for item in items:
        if not isinstance(item, MappingNode):
            probs.error(line_of(item), f"items of nlu must be mappings like '- intent: NAME', got {describe(item)}")
            continue
        keys = [k.value for k, _ in item.value if isinstance(k, ScalarNode)]
        kind = next((k for k in ("intent", *OTHER_ITEMS) if k in keys), None)
        if kind is None:
            probs.error(
                line_of(item),
                "each nlu item needs one of 'intent', 'synonym', 'regex' or 'lookup'; "
                f"got keys: {', '.join(map(str, keys)) or 'none'}",
            )
            continue
        allowed = INTENT_KEYS if kind == "intent" else (kind, *OTHER_KEYS)
        item_fields = mapping(probs, item, f"nlu {kind} item", allowed=allowed, required=(kind, "examples"))
        if item_fields is None or kind != "intent" or "intent" not in item_fields:
            continue
        intent = text(probs, item_fields["intent"], "intent name")
        if intent is None or "examples" not in item_fields:
            continue
        if check_intent is not None:
            message = check_intent(intent)
            if message is not None:
                probs.error(item_fields["intent"].line, message)
                continue
        examples_field = item_fields["examples"]
        node = examples_field.node
        if isinstance(node, SequenceNode):
            examples.extend(_list_examples(examples_field, intent, probs))
        elif isinstance(node, ScalarNode) and not is_null(node):
            examples.extend(_block_examples(examples_field, intent, probs))
        else:
            probs.error(
                examples_field.line,
                f"examples of intent '{intent}' must be a block of '- text' lines "
                f"('examples: |'), got {describe(node)}",
            )
    return examples


def read_nlu_examples(path: Path, probs: Problems, check_intent: IntentCheck | None = None) -> list[NluExample]:
    root = read_yaml(path, probs)
    if root is None:
        return []
    return parse_nlu_root(root, probs, check_intent)


def read_nlu_file(path: Path) -> list[NluExample]:
    """All examples of one Rasa-format NLU file, in file order.

    Raises :class:`DataError` listing every problem in the file. Fast enough for
    15,000-example benchmark files (~0.3 s for 700 KB).
    """
    found: list[DataProblem] = []
    examples = read_nlu_examples(Path(path), Problems(display_path(path), found))
    if found:
        raise DataError(sort_problems(found))
    return examples

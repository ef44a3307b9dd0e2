"""Reading YAML data files with a line number for every node.

Files are *composed* (not constructed) with ruamel.yaml's YAML 1.2 resolver, so
every key and value keeps its position, ``yes``/``no``/``on`` stay text, and
duplicate keys are caught here instead of silently overwriting each other. The
helpers below turn nodes into checked Python values and record a problem
(``FILE:LINE: message``, lines 1-based) when a value has the wrong shape.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .problems import Problems

TAG_STR = "tag:yaml.org,2002:str"
TAG_INT = "tag:yaml.org,2002:int"
TAG_FLOAT = "tag:yaml.org,2002:float"
TAG_BOOL = "tag:yaml.org,2002:bool"
TAG_NULL = "tag:yaml.org,2002:null"

LANGS = ("id", "en")

_BOM = b"\xef\xbb\xbf"


def node_tag(node: Node) -> str:
    """The resolved YAML 1.2 tag of ``node`` (``TAG_INT`` for an unquoted 0812...)."""
    tag = node.tag
    return tag if isinstance(tag, str) else str(getattr(tag, "value", tag))



def line_of(node: Node) -> int:
    """1-based line where ``node`` starts."""
    return node.start_mark.line + 1


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node_tag(node) == TAG_NULL


def decode_utf8(raw: bytes, probs: Problems) -> str | None:
    """Decode file bytes as UTF-8 (a leading BOM is allowed), reporting bad bytes with their line."""
    skip = len(_BOM) if raw.startswith(_BOM) else 0
    try:
        return raw[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        pos = skip + exc.start
        line = raw.count(b"\n", 0, pos) + 1
        column = pos - (raw.rfind(b"\n", 0, pos) + 1) + 1
        probs.error(
            line,
            f"not valid UTF-8 (byte 0x{raw[pos]:02x} at column {column}); "
            "save the file with UTF-8 encoding",
        )
        return None


def yaml_error(exc: YAMLError, probs: Problems, text: str | None = None) -> None:
    """Report a ruamel.yaml syntax error at the line where it was found.

    With the file's ``text``, a quote left open is reported at the line that opened it:
    the parser only stumbles where the quoted text happens to end, often many lines later.
    """
    if isinstance(exc, MarkedYAMLError) and text is not None and exc.problem_mark is not None:
        found = exc.problem_mark.line + 1
        since = exc.context_mark.line + 1 if exc.context_mark is not None else found - 1
        opened = _unclosed_quote_line(text, max(1, min(since, found - 1)), found)
        if opened is not None:
            line, quote = opened
            advice = f"end it with {quote} on the same line"
            if quote == "'":
                advice += " (an apostrophe inside '...' is written twice: 'Kakak''s'; or use \" quotes)"
            probs.error(
                line,
                f"invalid YAML: the text in quotes that starts on this line is never closed; {advice}",
            )
            return
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = (exc.problem or "").strip()
        context = (exc.context or "").strip()
        if problem and context:
            cmark = exc.context_mark
            if cmark is not None and mark is not None and cmark.line != mark.line:
                context = f"{context} that started at line {cmark.line + 1}"
            message = f"{problem} ({context})"
        else:
            message = problem or context or "syntax error"
        if "'\\t'" in message:
            message += "; indent with spaces, not tabs"
    else:  # pragma: no cover - ruamel raises marked errors for syntax problems
        line = 1
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else "syntax error"
    probs.error(line, f"invalid YAML: {message}")


def _unclosed_quote_line(text: str, first: int, last: int) -> tuple[int, str] | None:
    """The last line in ``first..last`` (1-based) where a quoted scalar opens and does not close.

    Admins write one-line quoted texts; YAML lets a quoted text run on over many lines,
    which is how one missing quote swallows the lines after it.
    """
    lines = text.splitlines()
    for number in range(min(last, len(lines)), first - 1, -1):
        quote = _open_quote_at_end(lines[number - 1])
        if quote is not None:
            return number, quote
    return None


def _open_quote_at_end(line: str) -> str | None:
    """The quote character still open at the end of ``line`` (scanned on its own), if any."""
    quote: str | None = None
    previous = " "
    i = 0
    while i < len(line):
        char = line[i]
        if quote == '"':
            if char == "\\":
                i += 1
            elif char == '"':
                quote = None
        elif quote == "'":
            if char == "'":
                if line[i + 1 : i + 2] == "'":
                    i += 1
                else:
                    quote = None
        elif char == "#" and previous.isspace():
            return None
        elif char in "\"'" and (previous.isspace() or previous in "-:[{,?"):
            quote = char
        previous = char
        i += 1
    return quote


def compose_text(text: str, probs: Problems) -> Node | None:
    """Compose ``text``; None (with a problem recorded) when it is empty or not valid YAML."""
    if not text.strip():
        probs.error(1, "file is empty")
        return None
    yaml = YAML(typ="safe", pure=True)
    try:
        node = yaml.compose(text)
    except YAMLError as exc:
        yaml_error(exc, probs, text)
        return None
    if node is None:
        probs.error(1, "file is empty (nothing but comments)")
        return None
    return node


def read_yaml(path: Path, probs: Problems) -> Node | None:
    """Read and compose one YAML file, recording unreadable/non-UTF-8/invalid/empty files."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        probs.error(1, f"cannot read file: {exc.strerror or exc}")
        return None
    text = decode_utf8(raw, probs)
    if text is None:
        return None
    return compose_text(text, probs)


def describe(node: Node) -> str:
    """How a node looks to a person reading the file, for "got ..." messages."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    tag = node_tag(node)
    if tag == TAG_NULL:
        return "nothing"
    if tag in (TAG_INT, TAG_FLOAT, TAG_BOOL):
        return str(node.value)
    value = str(node.value)
    if len(value) > 40:
        value = value[:37] + "..."
    return f"the text {value!r}"


@dataclass
class Field:
    """One ``key: value`` pair of a mapping."""

    key: str
    key_line: int
    node: Node

    @property
    def line(self) -> int:
        """Line of the value (the key's line when the value is empty)."""
        if is_null(self.node) and not str(self.node.value).strip():
            return self.key_line
        return line_of(self.node)


def _did_you_mean(key: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def mapping(
    probs: Problems,
    node: Node,
    what: str,
    *,
    line: int | None = None,
    allowed: Iterable[str] | None = None,
    required: Iterable[str] = (),
) -> dict[str, Field] | None:
    """Check that ``node`` is a mapping with string keys, no duplicates, no unknown keys.

    Returns key -> :class:`Field`, or None when ``node`` is not a mapping. Missing
    required keys are reported (at the mapping's first line) but the fields present
    are still returned so the caller can check them too.
    """
    if not isinstance(node, MappingNode):
        if is_null(node):
            probs.error(line or line_of(node), f"{what} is empty; expected key: value lines")
        else:
            probs.error(line or line_of(node), f"{what} must be a mapping (key: value lines), got {describe(node)}")
        return None
    allowed_keys = tuple(allowed) if allowed is not None else None
    fields: dict[str, Field] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            probs.error(line_of(key_node), f"keys in {what} must be plain names, got {describe(key_node)}")
            continue
        key = str(key_node.value)
        key_line = line_of(key_node)
        if key in fields:
            probs.error(key_line, f"duplicate key '{key}' in {what} (first at line {fields[key].key_line})")
            continue
        if allowed_keys is not None and key not in allowed_keys:
            probs.error(
                key_line,
                f"unknown key '{key}' in {what}{_did_you_mean(key, allowed_keys)}; "
                f"allowed keys: {', '.join(allowed_keys)}",
            )
            continue
        fields[key] = Field(key, key_line, value_node)
    for key in required:
        if key not in fields and not _misspelt(key, node, allowed_keys):
            probs.error(line or line_of(node), f"{what} is missing the required key '{key}'")
    return fields


def _misspelt(key: str, node: MappingNode, allowed: tuple[str, ...] | None) -> bool:
    """True when an unknown key that looks like ``key`` was already reported.

    Avoids a second, confusing "missing 'answer'" error right after "unknown key 'answr'
    (did you mean 'answer'?)".
    """
    if allowed is None:
        return False
    for key_node, _ in node.value:
        if isinstance(key_node, ScalarNode):
            other = str(key_node.value)
            if other not in allowed and difflib.get_close_matches(other, [key], n=1, cutoff=0.6):
                return True
    return False


def sequence(probs: Problems, field: Field, what: str) -> list[Node] | None:
    node = field.node
    if not isinstance(node, SequenceNode):
        if is_null(node):
            probs.error(field.line, f"{what} is empty; expected a list (lines starting with '- ')")
        else:
            probs.error(field.line, f"{what} must be a list (lines starting with '- '), got {describe(node)}")
        return None
    return list(node.value)


def text_node(probs: Problems, node: Node, line: int, what: str) -> str | None:
    """Non-empty text (surrounding whitespace removed). Numbers/booleans are taken as written."""
    if not isinstance(node, ScalarNode):
        probs.error(line, f"{what} must be text, got {describe(node)}")
        return None
    if is_null(node):
        probs.error(line, f"{what} is empty")
        return None
    value = str(node.value).strip()
    if not value:
        probs.error(line, f"{what} is empty")
        return None
    return value


def text(probs: Problems, field: Field, what: str) -> str | None:
    return text_node(probs, field.node, field.line, what)


def parse_int(raw: str) -> int:
    cleaned = raw.replace("_", "")
    sign = -1 if cleaned.startswith("-") else 1
    body = cleaned.lstrip("+-").lower()
    if body.startswith(("0x", "0o", "0b")):
        return sign * int(body, 0)
    return sign * int(body, 10)


def integer(
    probs: Problems, field: Field, what: str, *, minimum: int = 0, example: str = "12", unit: str = ""
) -> int | None:
    """A whole number >= ``minimum``: not a float, not quoted, no thousands separators."""
    node = field.node
    if isinstance(node, ScalarNode) and node_tag(node) == TAG_INT:
        try:
            value = parse_int(str(node.value))
        except ValueError:
            value = None
        if value is not None:
            if value < minimum:
                bound = "0 or more" if minimum == 0 else f"at least {minimum}"
                probs.error(field.line, f"{what} must be {bound}, got {value}")
                return None
            return value
    probs.error(
        field.line,
        f"{what} must be a whole number{unit} without dots, commas or quotes "
        f"(like {example}), got {describe(node)}",
    )
    return None


def bilingual(
    probs: Problems, field: Field, what: str, *, require_all: bool = True
) -> dict[str, str] | None:
    """``{id: text, en: text}``; both languages required unless ``require_all`` is False."""
    fields = mapping(probs, field.node, what, line=field.line, allowed=LANGS)
    if fields is None:
        return None
    result: dict[str, str] = {}
    ok = True
    for lang in LANGS:
        if lang in fields:
            value = text(probs, fields[lang], f"'{lang}' text of {what}")
            if value is None:
                ok = False
            else:
                result[lang] = value
    missing = [lang for lang in LANGS if lang not in fields]
    if require_all and missing:
        for lang in missing:
            probs.error(
                field.key_line,
                f"{what} is missing the '{lang}' text (both 'id' and 'en' are required)",
            )
        return None
    if not fields:
        probs.error(field.key_line, f"{what} needs an 'id' or 'en' text")
        return None
    return result if ok else None


def to_python(node: Node) -> object:
    """Plain Python value of a node with YAML 1.2 core-schema typing (keys always text)."""
    if isinstance(node, MappingNode):
        return {str(k.value) if isinstance(k, ScalarNode) else str(to_python(k)): to_python(v) for k, v in node.value}
    if isinstance(node, SequenceNode):
        return [to_python(item) for item in node.value]
    tag = node_tag(node)
    raw = str(node.value)
    try:
        if tag == TAG_NULL:
            return None
        if tag == TAG_BOOL:
            return raw.lower() in ("true", "yes", "on", "y")
        if tag == TAG_INT:
            return parse_int(raw)
        if tag == TAG_FLOAT:
            lowered = raw.replace("_", "").lower()
            if lowered.endswith(".inf"):
                return -math.inf if lowered.startswith("-") else math.inf
            if lowered == ".nan":
                return math.nan
            return float(lowered)
    except ValueError:
        return raw
    return raw


def version(probs: Problems, fields: dict[str, Field], expected: str, what: str = "version") -> None:
    """Check ``version:`` (given as a number or as text) equals ``expected``."""
    field = fields.get("version")
    if field is None:
        return
    node = field.node
    if not isinstance(node, ScalarNode) or is_null(node) or str(node.value).strip() != expected:
        probs.error(field.line, f"{what} must be {expected}, got {describe(node)}")

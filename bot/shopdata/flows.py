"""Flow files: the conversations that collect details step by step (an order, a payment
confirmation, an order-status check).

```yaml
version: 1
flows:
  place_order:                       # the flow's name
    trigger: place_order             # the intent that starts it (default: the name)
    finish: action_place_order       # what runs once every slot is filled
    slots:                           # asked in this order
      - name: phone
        type: phone                  # how the answer is understood and checked
        prompt: {id: "Nomor HP-nya berapa, Kak?", en: "What's your phone number?"}
        invalid: {id: "Nomor HP tidak valid, contoh: 0812xxxx", en: "..."}   # optional
        optional: false              # true: the customer may skip ("lewati")
        min_length: 10               # text only; also max_length
```

The package ships the default flows (``bot/resources/flows/``); a data dir's
``flows/*.yml`` may replace one of them (same name) or add a flow of its own. A
shop's own flow collects details and hands them to a person
(``finish: action_handoff_details``). The README documents every slot type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .model import SourceRef
from .problems import DataProblem, Problems
from .yamlio import Field, bilingual, compose_text, integer, mapping, read_yaml, sequence, text, version

# Slot type → the options it accepts besides name/type/prompt/invalid/optional.
SLOT_TYPES: dict[str, tuple[str, ...]] = {
    "text": ("min_length", "max_length"),
    "name": (),
    "phone": (),
    "email": (),
    "integer": ("min", "max"),
    "yes_no": (),
    "product": (),
    "variant": (),
    "quantity": ("max",),
    "add_more": (),
    "city": (),
    "courier": (),
    "payment_method": (),
    "confirm": (),
    "order_number": (),
    "contact": (),
    "bank": (),
    "amount": (),
    "image": (),
}
SLOT_KEYS = ("name", "type", "prompt", "invalid", "optional")

# What each finishing action needs: slot types that must be in the flow.
FINISH_ACTIONS: dict[str, tuple[str, ...]] = {
    "action_place_order": (
        "product", "variant", "quantity", "add_more", "name", "phone", "address_text",
        "city", "courier", "payment_method", "confirm",
    ),
    "action_confirm_payment": ("order_number", "contact", "bank", "amount", "name"),
    "action_order_status": ("order_number", "contact"),
    "action_handoff_details": (),
    "action_create_ticket": ("description_text",),
}
# "<name>_text": a ``text`` slot with that name (the order's address, the complaint's description).
_NAMED_TEXT = "_text"

FLOW_KEYS = ("trigger", "finish", "slots")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


@dataclass(frozen=True)
class SlotDef:
    """One question of a flow."""

    name: str
    type: str
    prompt: dict[str, str]
    invalid: dict[str, str] = field(default_factory=dict)
    optional: bool = False
    options: dict[str, int] = field(default_factory=dict)  # min_length, max_length, min, max

    def option(self, key: str, default: int) -> int:
        return int(self.options.get(key, default))


@dataclass(frozen=True)
class FlowDef:
    """A flow: the intent that starts it, its slots in order, the action that finishes it."""

    name: str
    trigger: str
    finish: str
    slots: tuple[SlotDef, ...]
    source: SourceRef | None = None

    def slot(self, name: str) -> SlotDef | None:
        return next((s for s in self.slots if s.name == name), None)

    def slot_of_type(self, type_: str) -> SlotDef | None:
        return next((s for s in self.slots if s.type == type_), None)

    @property
    def form_name(self) -> str:
        """The Rasa form name; its validation action is ``validate_<form_name>``."""
        return f"{self.name}_form"


def read_flow_file(path: Path, probs: Problems) -> list[FlowDef]:
    """The flows of one file; problems go to ``probs``."""
    root = read_yaml(path, probs)
    if root is None:
        return []
    return _flows_of(root, probs)


def _flows_of(root, probs: Problems) -> list[FlowDef]:
    fields = mapping(probs, root, "flow file", allowed=("version", "flows"), required=("version", "flows"))
    if fields is None or "flows" not in fields:
        return []
    version(probs, fields, "1")
    flows_field = fields["flows"]
    entries = mapping(probs, flows_field.node, "flows", line=flows_field.line)
    if entries is None:
        return []
    return [flow for name, f in entries.items() if (flow := _flow(name, f, probs)) is not None]


def _flow(name: str, f: Field, probs: Problems) -> FlowDef | None:
    if not _NAME.match(name):
        probs.error(f.key_line, f"flow name '{name}' must be lowercase letters, digits and _")
        return None
    fields = mapping(probs, f.node, f"flow '{name}'", line=f.line, allowed=FLOW_KEYS, required=("finish", "slots"))
    if fields is None:
        return None
    ok = True
    trigger = name
    if "trigger" in fields:
        trigger = text(probs, fields["trigger"], f"trigger of flow '{name}'") or name
    finish = None
    if "finish" in fields:
        finish = text(probs, fields["finish"], f"finish of flow '{name}'")
        if finish is not None and finish not in FINISH_ACTIONS:
            probs.error(
                fields["finish"].line,
                f"unknown finish action '{finish}' in flow '{name}'; one of: {', '.join(FINISH_ACTIONS)}",
            )
            finish = None
    if finish is None:
        ok = False
    slots: list[SlotDef] = []
    if "slots" in fields:
        items = sequence(probs, fields["slots"], f"slots of flow '{name}'")
        if items is None:
            ok = False
        else:
            seen: set[str] = set()
            for item in items:
                slot = _slot(item, name, probs)
                if slot is None:
                    ok = False
                    continue
                if slot.name in seen:
                    probs.error(item.start_mark.line + 1, f"duplicate slot '{slot.name}' in flow '{name}'")
                    ok = False
                    continue
                seen.add(slot.name)
                slots.append(slot)
            if not slots and ok:
                probs.error(fields["slots"].line, f"flow '{name}' has no slots")
                ok = False
    if not ok or finish is None:
        return None
    missing = [t for t in FINISH_ACTIONS[finish] if not _has(slots, t)]
    if missing:
        described = ", ".join(
            f"a text slot named '{t[: -len(_NAMED_TEXT)]}'" if t.endswith(_NAMED_TEXT) else f"a '{t}' slot" for t in missing
        )
        probs.error(f.key_line, f"flow '{name}' finishes with {finish}, which needs {described}")
        return None
    return FlowDef(name=name, trigger=trigger, finish=finish, slots=tuple(slots), source=SourceRef(probs.file, f.key_line))


def _has(slots: list[SlotDef], type_: str) -> bool:
    if type_.endswith(_NAMED_TEXT):
        return any(s.name == type_[: -len(_NAMED_TEXT)] and s.type == "text" for s in slots)
    return any(s.type == type_ for s in slots)


def _slot(node, flow: str, probs: Problems) -> SlotDef | None:
    line = node.start_mark.line + 1
    fields = mapping(probs, node, f"a slot of flow '{flow}'", line=line, required=("name", "type", "prompt"))
    if fields is None:
        return None
    name = text(probs, fields["name"], "slot name") if "name" in fields else None
    type_ = text(probs, fields["type"], "slot type") if "type" in fields else None
    if name is not None and not _NAME.match(name):
        probs.error(fields["name"].line, f"slot name '{name}' must be lowercase letters, digits and _")
        name = None
    if type_ is not None and type_ not in SLOT_TYPES:
        probs.error(fields["type"].line, f"unknown slot type '{type_}'; one of: {', '.join(SLOT_TYPES)}")
        type_ = None
    if name is None or type_ is None:
        return None
    ok = True
    allowed = SLOT_KEYS + SLOT_TYPES[type_]
    for key, f in fields.items():
        if key not in allowed:
            probs.error(f.key_line, f"slot '{name}' of type {type_} has no option '{key}'; allowed: {', '.join(allowed)}")
            ok = False
    prompt = bilingual(probs, fields["prompt"], f"prompt of slot '{name}'") if "prompt" in fields else None
    invalid = {}
    if "invalid" in fields:
        invalid = bilingual(probs, fields["invalid"], f"invalid text of slot '{name}'", require_all=False) or {}
    optional = False
    if "optional" in fields:
        raw = str(getattr(fields["optional"].node, "value", "")).lower()
        if raw not in ("true", "false"):
            probs.error(fields["optional"].line, f"optional of slot '{name}' must be true or false")
            ok = False
        optional = raw == "true"
    options: dict[str, int] = {}
    for key in SLOT_TYPES[type_]:
        if key in fields:
            value = integer(probs, fields[key], f"{key} of slot '{name}'", minimum=1 if key != "min" else 0)
            if value is None:
                ok = False
            else:
                options[key] = value
    if "min_length" in options and "max_length" in options and options["min_length"] > options["max_length"]:
        probs.error(fields["max_length"].line, f"max_length of slot '{name}' is below its min_length")
        ok = False
    if prompt is None or not ok:
        return None
    return SlotDef(name=name, type=type_, prompt=prompt, invalid=invalid, optional=optional, options=options)


def builtin_flows() -> dict[str, FlowDef]:
    """The flows the package ships (``bot/resources/flows/*.yml``)."""
    flows: dict[str, FlowDef] = {}
    problems: list[DataProblem] = []
    folder = resources.files("bot.resources").joinpath("flows")
    for f in sorted(folder.iterdir(), key=lambda f: f.name):
        if not f.name.endswith(".yml"):
            continue
        probs = Problems(f"bot/resources/flows/{f.name}", problems)
        root = compose_text(f.read_text("utf-8"), probs)
        if root is not None:
            for flow in _flows_of(root, probs):
                flows[flow.name] = flow
    if problems:  # a packaging mistake, not the admin's
        raise RuntimeError("built-in flows are invalid:\n" + "\n".join(map(str, problems)))
    return flows

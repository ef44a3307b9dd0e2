"""Load and validate a data dir.

```
DATA_DIR/
  faq/*.yml        FAQ entries            (the only part a bot needs)
  nlu/*.yml        Rasa 3 NLU examples    (optional)
  catalog/*.yml    products and variants  (optional)
  shop.yml         the shop's own facts   (optional)
  texts.yml        overrides of bot texts (optional)
  widget.yml       the website chat widget (optional)
  tickets.yml      complaint categories, teams, SLAs (optional; defaults otherwise)
  flows/*.yml      flows replacing or adding to the built-in ones (optional)
  shipping.yml     zones, couriers, rates, cities (optional; none = no shipping quotes)
```

Other files (the stored secret key, uploads, ...) are not read here.
``*.yaml`` is accepted next to ``*.yml``; files whose name starts with a dot are skipped.

Every problem is reported, not just the first, as ``FILE:LINE: message`` with
FILE relative to the current directory when it lies below it.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

from .catalog import read_catalog_file
from .faq import read_faq_file
from .flows import builtin_flows, read_flow_file
from .tickets import TicketConfig, read_tickets_file
from bot.intents import BUILTIN as BUILTIN_INTENTS
from .model import FaqEntry, NluExample, Product, ShopData
from .problems import ERROR, WARNING, DataError, DataProblem, Problems, display_path, sort_problems
from .rasa_nlu import read_nlu_examples, read_nlu_file, strip_annotations
from .shopmeta import read_shop_file, read_texts_file
from .widget import WidgetConfig, read_widget_file
from .shipping import ShippingRates, read_shipping_file

__all__ = [
    "DataError",
    "DataProblem",
    "ERROR",
    "WARNING",
    "check_data_dir",
    "load_shop",
    "load_shop_checked",
    "read_nlu_file",
    "strip_annotations",
]

FAQ_INTENT_PREFIX = "faq/"


def _yaml_files(directory: Path, problems: list[DataProblem]) -> list[Path]:
    files = []
    for p in directory.iterdir():
        if p.suffix not in (".yml", ".yaml") or p.name.startswith("."):
            continue
        if p.is_dir():
            # An unzipped archive or a copy gone wrong: its contents would be silently skipped.
            problems.append(DataProblem(display_path(p), 0, f"'{p.name}' is a folder; expected a .yml file"))
        elif p.is_file():
            files.append(p)
    return sorted(files, key=lambda p: p.name)


def _subdir(data_dir: Path, name: str, problems: list[DataProblem]) -> list[Path]:
    path = data_dir / name
    if not path.exists():
        return []
    if not path.is_dir():
        problems.append(DataProblem(display_path(path), 0, f"'{name}' must be a folder of .yml files"))
        return []
    return _yaml_files(path, problems)


def _single_file(data_dir: Path, stem: str, problems: list[DataProblem]) -> Path | None:
    for suffix in (".yml", ".yaml"):
        path = data_dir / f"{stem}{suffix}"
        if path.is_file():
            return path
        if path.is_dir():
            problems.append(DataProblem(display_path(path), 0, f"'{path.name}' is a folder; expected a file"))
    return None


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def _check_label_conflicts(
    faqs: list[FaqEntry], examples: list[NluExample], problems: list[DataProblem]
) -> None:
    """Warn when the same text is a question/example of two different FAQs or intents."""
    seen: dict[str, tuple[str, str]] = {}  # normalized text -> (label, where)

    def visit(text: str, label: str, file: str, line: int) -> None:
        key = _norm(text)
        if not key:
            return
        if key not in seen:
            seen[key] = (label, f"{file}:{line}")
            return
        other_label, where = seen[key]
        if other_label != label:
            problems.append(
                DataProblem(
                    file,
                    line,
                    f"'{text}' ({label}) is also an example of {other_label} ({where}); "
                    "the same text under two labels confuses the classifier",
                    WARNING,
                )
            )

    for entry in faqs:
        src = entry.source
        for question in entry.all_questions():
            visit(question, FAQ_INTENT_PREFIX + entry.id, src.file if src else "", src.line if src else 0)
    for example in examples:
        src = example.source
        visit(example.text, example.intent, src.file if src else "", src.line if src else 0)


_PAYLOAD = re.compile(r"/([\w/\-]+)(\{.*\})?", re.S)


def _check_button_payloads(
    faqs: list[FaqEntry], faq_ids: set[str], intents: set[str], problems: list[DataProblem]
) -> None:
    """A payload ``/faq/<id>`` or ``/<intent>`` must name something the bot knows.

    Pressing a button whose FAQ was renamed or whose intent is mistyped only gets
    "we didn't understand" (the payload goes to the NLU as text): a dead end.
    A payload without the leading ``/`` is sent as the customer's own words.
    """
    for entry in faqs:
        file = entry.source.file if entry.source else ""
        for button in entry.buttons:
            payload = button.payload
            if not payload.startswith("/"):
                continue
            match = _PAYLOAD.fullmatch(payload)
            message = None
            if match is None:
                message = f"button payload '{payload}' must be /<intent> or /faq/<id> (no spaces)"
            elif match.group(1).startswith(FAQ_INTENT_PREFIX):
                faq_id = match.group(1)[len(FAQ_INTENT_PREFIX) :]
                if faq_id not in faq_ids:
                    message = f"button payload '{payload}' names no FAQ entry: there is no FAQ with id '{faq_id}'"
                    message += _did_you_mean(faq_id, faq_ids)
            elif match.group(1) not in intents:
                intent = match.group(1)
                message = (
                    f"button payload '{payload}' names intent '{intent}', which is neither built in "
                    f"nor has examples in nlu/{_did_you_mean(intent, intents)}"
                )
            if message is None and match is not None and match.group(2):
                try:
                    entities = json.loads(match.group(2))
                except ValueError:
                    entities = None
                if not isinstance(entities, dict):
                    message = f"button payload '{payload}': the part in {{}} must be JSON like {{\"product\": \"SKU\"}}"
            if message is not None:
                problems.append(DataProblem(file, button.line, message))


def _did_you_mean(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def load_shop_checked(data_dir: Path | str) -> tuple[ShopData | None, list[DataProblem]]:
    """Load ``data_dir`` and return ``(shop data or None, problems)``.

    The shop data is None when any problem is an error; warnings alone keep it.
    """
    data_dir = Path(data_dir)
    problems: list[DataProblem] = []
    if not data_dir.is_dir():
        what = "is not a folder" if data_dir.exists() else "does not exist"
        problems.append(DataProblem(display_path(data_dir), 0, f"data dir {what}"))
        return None, problems

    # FAQ: ids unique across all files.
    faqs: list[FaqEntry] = []
    faq_ids: dict[str, str] = {}  # id -> "file:line" where first defined
    for path in _subdir(data_dir, "faq", problems):
        probs = Problems(display_path(path), problems)
        entries, ids = read_faq_file(path, probs)
        duplicates: set[str] = set()
        for faq_id, line in ids:
            if faq_id in faq_ids:
                probs.error(line, f"duplicate FAQ id '{faq_id}' (first defined at {faq_ids[faq_id]})")
                duplicates.add(faq_id)
            else:
                faq_ids[faq_id] = f"{probs.file}:{line}"
        faqs.extend(e for e in entries if e.id not in duplicates)

    # NLU: faq/<id> must name an FAQ entry.
    def check_intent(intent: str) -> str | None:
        if intent.startswith(FAQ_INTENT_PREFIX):
            faq_id = intent[len(FAQ_INTENT_PREFIX) :]
            if faq_id not in faq_ids:
                return f"intent '{intent}' names no FAQ entry: there is no FAQ with id '{faq_id}'"
        return None

    examples: list[NluExample] = []
    for path in _subdir(data_dir, "nlu", problems):
        probs = Problems(display_path(path), problems)
        examples.extend(read_nlu_examples(path, probs, check_intent))

    # Catalog: SKUs unique across all products and variants of all files.
    products: list[Product] = []
    skus: dict[str, str] = {}
    for path in _subdir(data_dir, "catalog", problems):
        probs = Problems(display_path(path), problems)
        found, file_skus = read_catalog_file(path, probs)
        for sku, line in file_skus:
            if sku in skus:
                probs.error(line, f"duplicate SKU '{sku}' (first used at {skus[sku]})")
            else:
                skus[sku] = f"{probs.file}:{line}"
        products.extend(found)

    shop: dict[str, object] = {}
    shop_path = _single_file(data_dir, "shop", problems)
    if shop_path is not None:
        shop = read_shop_file(shop_path, Problems(display_path(shop_path), problems)) or {}
        # Order rules (payment deadline, reminder, accounts): see bot/orders/settings.py.
        from bot.orders.settings import check_shop_order_keys

        check_shop_order_keys(shop_path, Problems(display_path(shop_path), problems))

    texts: dict[str, dict[str, str]] = {}
    texts_path = _single_file(data_dir, "texts", problems)
    if texts_path is not None:
        texts = read_texts_file(texts_path, Problems(display_path(texts_path), problems)) or {}

    widget: WidgetConfig | None = None
    widget_path = _single_file(data_dir, "widget", problems)
    if widget_path is not None:
        name = shop.get("name")
        widget = read_widget_file(
            widget_path, Problems(display_path(widget_path), problems), name if isinstance(name, str) else None
        )

    # -- shipping.yml (orders) --
    shipping: ShippingRates | None = None
    shipping_path = _single_file(data_dir, "shipping", problems)
    if shipping_path is not None:
        shipping = read_shipping_file(shipping_path, Problems(display_path(shipping_path), problems))

    ticket_config: TicketConfig | None = None
    tickets_path = _single_file(data_dir, "tickets", problems)
    if tickets_path is not None:
        ticket_config = read_tickets_file(
            tickets_path,
            Problems(display_path(tickets_path), problems),
            shipping_file=display_path(shipping_path) if shipping_path is not None else None,
            zones=frozenset(zone.id for zone in shipping.zones) if shipping is not None else None,
        )

    flows = builtin_flows()
    flow_files: dict[str, str] = {}
    for path in _subdir(data_dir, "flows", problems):
        probs = Problems(display_path(path), problems)
        for flow in read_flow_file(path, probs):
            if flow.name in flow_files:
                probs.error(flow.source.line if flow.source else 0, f"flow '{flow.name}' is already defined in {flow_files[flow.name]}")
                continue
            flow_files[flow.name] = str(flow.source)
            known = flow.trigger in BUILTIN_INTENTS or any(e.intent == flow.trigger for e in examples)
            if not known:
                probs.error(
                    flow.source.line if flow.source else 0,
                    f"flow '{flow.name}' is triggered by intent '{flow.trigger}', which is neither built in "
                    "nor has examples in nlu/",
                )
                continue
            flows[flow.name] = flow

    if not any(p.severity == ERROR for p in problems):
        # Only on otherwise sound data: a button to an entry with a broken id is that entry's problem.
        _check_button_payloads(faqs, set(faq_ids), set(BUILTIN_INTENTS) | {e.intent for e in examples}, problems)
        _check_label_conflicts(faqs, examples, problems)

    problems = sort_problems(problems)
    if any(p.severity == ERROR for p in problems):
        return None, problems
    return (
        ShopData(
            data_dir=data_dir,
            faqs=tuple(faqs),
            nlu_examples=tuple(examples),
            products=tuple(products),
            texts=texts,
            shop=shop,
            widget_config=widget,
            flows=flows,
            ticket_config=ticket_config,
            shipping=shipping,
        ),
        problems,
    )


def check_data_dir(data_dir: Path | str) -> list[DataProblem]:
    """Every problem (errors and warnings) in ``data_dir``; empty when all is well."""
    return load_shop_checked(data_dir)[1]


def load_shop(data_dir: Path | str) -> ShopData:
    """Load ``data_dir``; raises :class:`DataError` listing every error found."""
    shop, problems = load_shop_checked(data_dir)
    if shop is None:
        raise DataError([p for p in problems if p.severity == ERROR])
    return shop

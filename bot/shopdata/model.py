"""The contents of a data dir, as the rest of Sapa sees them.

Loaded and validated by :mod:`bot.shopdata.loader`; everything here is plain,
immutable data so the NLU can hash it and the engine can share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .flows import FlowDef
    from .tickets import TicketConfig
    from .shipping import ShippingRates
    from .widget import WidgetConfig

FAQ_CATEGORIES = ("product", "payment", "shipping", "order", "account", "other")


@dataclass(frozen=True)
class SourceRef:
    """Where something was defined, for ``FILE:LINE`` messages."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class FaqButton:
    title: dict[str, str]  # lang -> title
    payload: str
    line: int = field(default=0, compare=False)  # of the payload, for ``sapa check``


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ entry. ``questions`` and ``answer`` are keyed by language ("id", "en")."""

    id: str
    category: str
    questions: dict[str, tuple[str, ...]]
    answer: dict[str, str]
    buttons: tuple[FaqButton, ...] = ()
    source: SourceRef | None = None

    def all_questions(self) -> list[str]:
        return [q for qs in self.questions.values() for q in qs]


@dataclass(frozen=True)
class EntitySpan:
    start: int
    end: int
    entity: str
    value: str


@dataclass(frozen=True)
class NluExample:
    """One training/test example from a Rasa-format NLU file (annotations stripped)."""

    text: str
    intent: str
    entities: tuple[EntitySpan, ...] = ()
    source: SourceRef | None = None


@dataclass(frozen=True)
class Variant:
    """One buyable variant of a product, e.g. size L in blue."""

    sku: str
    options: dict[str, str]  # e.g. {"size": "L", "color": "biru"}
    stock: int
    price: int | None = None  # rupiah; None = the product's price


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    price: int  # rupiah, integer
    weight_grams: int
    description: dict[str, str]  # lang -> text
    variants: tuple[Variant, ...] = ()
    aliases: tuple[str, ...] = ()  # other names customers use
    stock: int = 0  # used when there are no variants
    source: SourceRef | None = None

    @property
    def total_stock(self) -> int:
        return sum(v.stock for v in self.variants) if self.variants else self.stock


@dataclass(frozen=True)
class ShopData:
    """Everything admins curate in one data dir."""

    data_dir: Path
    faqs: tuple[FaqEntry, ...] = ()
    nlu_examples: tuple[NluExample, ...] = ()
    products: tuple[Product, ...] = ()
    texts: dict[str, dict[str, str]] = field(default_factory=dict)  # overrides of bot texts
    shop: dict[str, object] = field(default_factory=dict)  # shop.yml: name, etc.
    widget_config: "WidgetConfig | None" = None  # widget.yml; None = the defaults
    # flows/*.yml over the package's default flows, by flow name.
    flows: dict[str, "FlowDef"] = field(default_factory=dict)
    ticket_config: "TicketConfig | None" = None  # tickets.yml; None = the defaults

    @property
    def tickets(self) -> "TicketConfig":
        """Complaint categories, teams and SLAs (``tickets.yml``, or the defaults)."""
        if self.ticket_config is not None:
            return self.ticket_config
        from .tickets import default_ticket_config

        return default_ticket_config()
    # shipping.yml: zones, couriers, rates, cities; None = the shop quotes no shipping.
    shipping: "ShippingRates | None" = None

    @property
    def widget(self) -> "WidgetConfig":
        """The website chat widget's settings (``widget.yml``, or the defaults)."""
        if self.widget_config is not None:
            return self.widget_config
        from .widget import default_widget_config

        name = self.shop.get("name")
        return default_widget_config(name if isinstance(name, str) else None)

    def faq(self, faq_id: str) -> FaqEntry | None:
        for entry in self.faqs:
            if entry.id == faq_id:
                return entry
        return None

"""What flow actions may read: the shop's data and the bot's texts.

rasa-sdk instantiates actions itself, with no arguments, both in-process and in
the action server (``python -m rasa_sdk --actions bot.flows``). So the actions
cannot receive their resources through a constructor; they read the current
:class:`FlowContext` instead. The engine installs one at start-up; the action
server builds one lazily from ``SAPA_DATA_DIR`` (default ``./data``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from typing import TYPE_CHECKING

from bot.shopdata.model import ShopData
from bot.texts import Texts
from bot.types import Lang

if TYPE_CHECKING:
    from bot.orders.book import OrderBook
    from bot.tickets.desk import TicketDesk

_current: "FlowContext | None" = None


@dataclass(frozen=True)
class FlowContext:
    """The shop's data and texts, shared read-only by every action."""

    shop: ShopData
    texts: Texts
    # Orders, stock and payments; None where no database is at hand (NLU tools).
    orders: "OrderBook | None" = None
    # Complaint and handoff tickets; None where no database is at hand.
    tickets: "TicketDesk | None" = None

    @classmethod
    def for_shop(
        cls, shop: ShopData, orders: "OrderBook | None" = None, tickets: "TicketDesk | None" = None
    ) -> "FlowContext":
        texts = Texts.load(shop.texts, shop_name=shop_name(shop))
        return cls(shop=shop, texts=texts, orders=orders, tickets=tickets)

    def now(self) -> datetime:
        """The time orders are judged by: the store's clock when there is one (tests move it)."""
        store = self.orders.store if self.orders is not None else self.tickets.store if self.tickets is not None else None
        return store.now() if store is not None else datetime.now(UTC)

    def hours(self, lang: Lang) -> str | None:
        hours = self.shop.shop.get("hours")
        if isinstance(hours, dict):
            return hours.get(lang) or hours.get("id")
        return hours if isinstance(hours, str) else None

    def hours_note(self, lang: Lang) -> str:
        hours = self.hours(lang)
        return self.texts.get("hours_note", lang, hours=hours) if hours else ""


def shop_name(shop: ShopData) -> str:
    name = shop.shop.get("name")
    return name if isinstance(name, str) and name else "toko kami"


def install(context: FlowContext) -> None:
    """Make ``context`` the one every action reads (called by the engine)."""
    global _current
    _current = context


def current() -> FlowContext:
    """The installed context, or one loaded from ``SAPA_DATA_DIR`` for the action server."""
    global _current
    if _current is None:
        from bot.shopdata.loader import load_shop

        _current = FlowContext.for_shop(load_shop(Path(os.environ.get("SAPA_DATA_DIR", "data"))))
    return _current

"""A real engine over the demo shop: trained NLU, a SQLite file, the order book.

``Chat`` talks to it as one customer would, so the flows are tested through the
same pipeline every channel uses (the HTTP and browser tests then check the
channels on top).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bus import LocalBus
from bot.engine import Engine
from bot.flows.context import FlowContext, shop_name
from bot.locks import LocalLocks
from bot.nlu.model import train_for_shop
from bot.orders.book import OrderBook
from bot.runtime import _zone_finder
from bot.tickets.desk import TicketDesk
from bot.shopdata.loader import load_shop
from bot.store import Store
from bot.texts import Texts
from bot.types import Attachment, IncomingMessage, OutgoingMessage

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def demo_shop():
    return load_shop(ROOT / "data")


@pytest.fixture(scope="session")
def demo_nlu(demo_shop):
    return train_for_shop(demo_shop)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Bot:
    engine: Engine
    store: Store
    orders: OrderBook
    clock: Clock
    tickets: TicketDesk

    def customer(self, sender: str, channel: str = "rest") -> "Chat":
        return Chat(self, sender, channel)


@dataclass
class Chat:
    """One customer's side of a conversation."""

    bot: Bot
    sender: str
    channel: str = "rest"
    replies: list[OutgoingMessage] = field(default_factory=list)
    last_info: object = None

    async def say(self, text: str, *, lang: str | None = None, image: str | None = None) -> list[OutgoingMessage]:
        attachments = (Attachment("image", image, "bukti.jpg"),) if image else ()
        result = await self.bot.engine.handle(
            IncomingMessage(channel=self.channel, sender_id=self.sender, text=text, lang_hint=lang, attachments=attachments)
        )
        self.replies = list(result.replies)
        self.last_info = result.info
        return self.replies

    async def press(self, title_part: str) -> list[OutgoingMessage]:
        """Press the button (of the last replies) whose title contains ``title_part``."""
        for reply in reversed(self.replies):
            for button in reply.buttons:
                if title_part.lower() in button.title.lower():
                    return await self.say(button.payload)
        raise AssertionError(f"no button with {title_part!r} in {[b.title for r in self.replies for b in r.buttons]}")

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    @property
    def buttons(self) -> list[str]:
        return [b.title for r in self.replies for b in r.buttons]

    async def state(self) -> dict:
        conversation = await self.bot.store.open_conversation(self.channel, self.sender, None)
        return conversation.state


@pytest.fixture
async def bot(tmp_path: Path, demo_shop, demo_nlu):
    clock = Clock()
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'flows.db'}", now=clock)
    texts = Texts.load(demo_shop.texts, shop_name=shop_name(demo_shop))
    orders = OrderBook(store, demo_shop, texts, None)
    await orders.sync_stock()
    tickets = TicketDesk(store, demo_shop.tickets, None, zone_of_city=_zone_finder(demo_shop))
    engine = Engine(
        store=store,
        nlu=demo_nlu,
        flow_context=FlowContext.for_shop(demo_shop, orders=orders, tickets=tickets),
        bus=LocalBus(),
        locks=LocalLocks(),
    )
    yield Bot(engine, store, orders, clock, tickets)
    await store.close()

"""Builds the running bot — NLU model, store, bus, locks, engine — and takes it down."""

from __future__ import annotations

import asyncio
import gc
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator

from bot.bus import Bus, LocalBus, RedisBus
from bot.config import Settings
from bot.engine import Engine
from bot.flows.context import FlowContext, shop_name
from bot.locks import LocalLocks, RedisLocks
from bot.nlu.model import NluModel, load_or_train
from bot.shopdata.model import ShopData
from bot.store import Store
from bot.texts import Texts
# -- orders (issue 4) --
from bot.orders.book import OrderBook
from bot.orders.sweeper import Sweeper
from bot.tickets.desk import TicketDesk
from bot.relay import Relay

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    """The parts of a running bot that channels and endpoints use."""

    settings: Settings
    shop: ShopData
    nlu: NluModel
    store: Store
    bus: Bus
    engine: Engine
    # Orders, stock and payments (also the admin API's and the flows' door to them).
    orders: OrderBook | None = None
    tickets: TicketDesk | None = None


@asynccontextmanager
async def running(settings: Settings, shop: ShopData) -> AsyncIterator[Runtime]:
    """Train or load the NLU model, open (and migrate) the database, connect the bus."""
    loop = asyncio.get_running_loop()
    # Training is CPU-bound; a worker thread keeps the loop responsive meanwhile.
    nlu = await loop.run_in_executor(None, load_or_train, shop, settings.cache_dir)
    # The first parse loads the embedding table and builds the fast paths' lookup
    # tables (about a second); here it is before the first customer's reply, and
    # before the freeze below.
    await loop.run_in_executor(None, nlu.parse, "halo kak, ongkir ke bandung berapa?")
    # The model is hundreds of thousands of long-lived objects; moving them out of
    # the collector's reach keeps full collections (latency spikes) short.
    gc.collect()
    gc.freeze()
    store = await Store.open(settings.database_url_async)
    try:
        if settings.redis_url:
            redis_bus = RedisBus.from_url(settings.redis_url)
            bus: Bus = redis_bus
            locks = RedisLocks(redis_bus.redis, health=redis_bus)
        else:
            bus = LocalBus()
            locks = LocalLocks()
        # Orders: stock from the catalog files, the relay of pushed messages, the
        # unpaid sweep. Every worker runs both; claims and conditional updates
        # keep them from doing anything twice.
        orders = OrderBook(store, shop, Texts.load(shop.texts, shop_name=shop_name(shop)), bus)
        await orders.sync_stock()
        tickets = TicketDesk(store, shop.tickets, bus, zone_of_city=_zone_finder(shop))
        relay = Relay(store, bus)
        sweeper = Sweeper(orders)
        relay.start()
        sweeper.start()
        try:
            engine = Engine(
                store=store,
                nlu=nlu,
                flow_context=FlowContext.for_shop(shop, orders=orders, tickets=tickets),
                bus=bus,
                locks=locks,
                default_lang=settings.default_lang,
            )
            yield Runtime(
                settings=settings, shop=shop, nlu=nlu, store=store, bus=bus, engine=engine, orders=orders,
                tickets=tickets,
            )
        finally:
            await sweeper.stop()
            await relay.stop()
            await bus.close()
    finally:
        await store.close()


def _zone_finder(shop: ShopData):  # type: ignore[no-untyped-def]
    """City → shipping zone, for ticket teams that route by region (None without shipping.yml)."""
    rates = getattr(shop, "shipping", None)
    if rates is None:
        return None
    from bot.orders.shipping import find_city

    def zone_of(city: str) -> str | None:
        found = find_city(rates, city)
        return found.zone if found is not None else None

    return zone_of

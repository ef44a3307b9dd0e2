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
from bot.flows.context import FlowContext
from bot.locks import LocalLocks, RedisLocks
from bot.nlu.model import NluModel, load_or_train
from bot.shopdata.model import ShopData
from bot.store import Store

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


@asynccontextmanager
async def running(settings: Settings, shop: ShopData) -> AsyncIterator[Runtime]:
    """Train or load the NLU model, open (and migrate) the database, connect the bus."""
    loop = asyncio.get_running_loop()
    # Training is CPU-bound; a worker thread keeps the loop responsive meanwhile.
    nlu = await loop.run_in_executor(None, load_or_train, shop, settings.cache_dir)
    # The model is hundreds of thousands of long-lived objects; moving them out of
    # the collector's reach keeps full collections (latency spikes) short.
    gc.collect()
    gc.freeze()
    store = await Store.open(settings.database_url_async)
    try:
        if settings.redis_url:
            redis_bus = RedisBus.from_url(settings.redis_url)
            bus: Bus = redis_bus
            locks = RedisLocks(redis_bus.redis)
        else:
            bus = LocalBus()
            locks = LocalLocks()
        try:
            engine = Engine(
                store=store,
                nlu=nlu,
                flow_context=FlowContext.for_shop(shop),
                bus=bus,
                locks=locks,
                default_lang=settings.default_lang,
            )
            yield Runtime(settings=settings, shop=shop, nlu=nlu, store=store, bus=bus, engine=engine)
        finally:
            await bus.close()
    finally:
        await store.close()

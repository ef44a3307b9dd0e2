"""The relay: puts messages pushed to customers (order updates...) on the bus.

:meth:`bot.store.db.Store.push_message` and the order book's transitions commit
a bot message together with an outbox row (:mod:`bot.store.outbox`). The relay,
running in every server worker, claims those rows, publishes each message on

- ``conversation_topic(conversation_id)`` — open widget tabs show it live, and
- ``channel_topic(channel)`` — a channel adapter (Telegram) delivers it,

then marks the rows relayed. A push made in this process wakes the relay at
once (:meth:`Store.on_outbox`); pushes made elsewhere (``sapa order ...`` in a
shell, another worker without a shared bus) are found by polling about once a
second. Claims are conditional updates, so with several workers each row is
published by one of them.

The event is :func:`bot.bus.message_event` plus ``channel``, ``external_id``
and ``"pushed": true``, so a channel adapter knows where to deliver it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.bus import Bus, BusUnavailable, channel_topic, conversation_topic, message_event
from bot.store import outbox
from bot.store.engines import DatabaseUnavailable, note_database_unavailable

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
BATCH = 100


def pushed_event(item: outbox.OutboxItem) -> dict[str, Any]:
    """What the relay publishes for one outbox row."""
    return {
        **message_event(item.message),
        "channel": item.channel,
        "external_id": item.external_id,
        "pushed": True,
    }


class Relay:
    """Publishes committed outbox rows on the bus; see the module's notes."""

    def __init__(
        self, store: "Store", bus: Bus, *, poll_seconds: float = POLL_SECONDS, batch: int = BATCH
    ) -> None:
        self.store = store
        self.bus = bus
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Any = None

    def start(self) -> None:
        """Start relaying on the running loop (idempotent)."""
        if self._task is None:
            self._unsubscribe = self.store.on_outbox(self.kick)
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sapa-relay")

    def kick(self) -> None:
        """Relay now rather than at the next poll (called after a push in this process)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop relaying; rows left unrelayed are picked up by the next start (or another worker)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def relay_once(self) -> int:
        """Claim, publish and mark one batch of pending rows; returns how many were published."""
        pending = await self.store.read(outbox.fetch_pending, self.store.now(), self.batch)
        if not pending:
            return 0
        won = set(await self.store.write(partial(outbox.claim, ids=[item.id for item in pending])))
        published: list[int] = []
        failed: list[int] = []
        for item in pending:
            if item.id not in won:
                continue
            event = pushed_event(item)
            try:
                await self.bus.publish(conversation_topic(item.message.conversation_id), event)
                await self.bus.publish(channel_topic(item.channel), event)
            except BusUnavailable:  # Redis is away; the bus has logged it once
                failed.append(item.id)
            except Exception:
                log.warning("could not publish pushed message %s; retrying later", item.message.id, exc_info=True)
                failed.append(item.id)
            else:
                published.append(item.id)
        if published:
            await self.store.write(partial(outbox.mark_relayed, ids=published))
        if failed:
            await self.store.write(partial(outbox.release, ids=failed))
        return len(published)

    async def _run(self) -> None:
        while True:
            try:
                while await self.relay_once() >= self.batch:
                    pass
            except asyncio.CancelledError:
                raise
            except DatabaseUnavailable as exc:  # PostgreSQL is away: the next round retries
                note_database_unavailable(exc)
            except Exception:
                log.exception("relaying pushed messages failed; retrying")
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

"""The background task that runs the unpaid-order sweep in the server.

Every ``SAPA_SWEEP_SECONDS`` (default 60) each worker calls
:meth:`OrderBook.sweep_unpaid`; the sweep's conditional updates make running it
from several workers at once harmless. It also forgets outbox rows relayed more
than a week ago (their messages stay in the conversations).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from bot.store import outbox
from bot.store.engines import DatabaseUnavailable, note_database_unavailable

if TYPE_CHECKING:
    from bot.orders.book import OrderBook

log = logging.getLogger(__name__)

DEFAULT_SWEEP_SECONDS = 60.0
OUTBOX_KEEP = timedelta(days=7)


def sweep_seconds(environ: dict[str, str] | None = None) -> float:
    """``SAPA_SWEEP_SECONDS`` (a positive number of seconds), else 60."""
    raw = (os.environ if environ is None else environ).get("SAPA_SWEEP_SECONDS", "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_SWEEP_SECONDS
    return value if value > 0 else DEFAULT_SWEEP_SECONDS


class Sweeper:
    def __init__(self, orders: "OrderBook", every: float | None = None) -> None:
        self.orders = orders
        self.every = sweep_seconds() if every is None else every
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sapa-order-sweeper")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                swept = await self.orders.sweep_unpaid()
                if swept.reminded or swept.cancelled:
                    log.info(
                        "unpaid orders: reminded %s, cancelled %s",
                        ", ".join(swept.reminded) or "none",
                        ", ".join(swept.cancelled) or "none",
                    )
                await self.orders.store.write(partial(outbox.purge_relayed, older_than=OUTBOX_KEEP))
            except asyncio.CancelledError:
                raise
            except DatabaseUnavailable as exc:  # PostgreSQL is away: the next sweep catches up
                note_database_unavailable(exc)
            except Exception:
                log.exception("the unpaid-order sweep failed; trying again later")
            await asyncio.sleep(self.every)

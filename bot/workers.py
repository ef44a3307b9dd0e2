"""The parent process of ``sapa run --workers N``: starts the workers, replaces one that
dies, and stops them all on SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Callable

log = logging.getLogger("sapa")

# A worker that dies this soon after it started most likely meets a lasting problem
# (the database, a port); after MAX_QUICK_DEATHS of those in a row the server gives up
# (exit 1, so systemd or the operator sees it) rather than restarting it forever.
QUICK_DEATH_SECONDS = 30.0
MAX_QUICK_DEATHS = 3


def supervise(count: int, target: Callable[[], None]) -> int:
    """Run ``target`` in ``count`` forked processes until a signal; 0 when they stopped cleanly."""
    ctx = multiprocessing.get_context("fork")
    workers: dict[int, tuple[BaseProcess, float]] = {}  # slot → (process, started at)
    stopping = False
    quick_deaths = 0

    def start(slot: int) -> None:
        process = ctx.Process(target=_worker, args=(target,), name=f"sapa-worker-{slot}")
        process.start()
        workers[slot] = (process, time.monotonic())

    def stop(signum, frame):  # noqa: ARG001
        nonlocal stopping
        stopping = True
        for process, _ in workers.values():
            if process.is_alive():
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(count):
        start(slot)
    clean = True
    while workers:
        wait([process.sentinel for process, _ in workers.values()])
        for slot, (process, started) in list(workers.items()):
            if process.is_alive():
                continue
            process.join()
            del workers[slot]
            if stopping:
                clean = clean and process.exitcode in (0, -signal.SIGTERM, -signal.SIGINT)
                continue
            quick_deaths = quick_deaths + 1 if time.monotonic() - started < QUICK_DEATH_SECONDS else 0
            if quick_deaths > MAX_QUICK_DEATHS:
                log.error("worker %d %s; workers keep dying right after they start, so Sapa stops "
                          "(see the errors above)", process.pid, _how(process.exitcode))
                stop(signal.SIGTERM, None)
                clean = False
                continue
            log.warning("worker %d %s; starting another", process.pid, _how(process.exitcode))
            start(slot)
    return 0 if clean else 1


def _worker(target: Callable[[], None]) -> None:
    # The parent's handlers are for the parent; until the worker's own loop installs its
    # handlers, a signal simply ends a worker that is still starting.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    target()


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with status {exitcode}"

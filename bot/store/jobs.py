"""What the store's writer runs: turns in bulk, everything else one by one.

A job is either a :class:`~bot.store.turns.TurnWrite` or a function
``fn(connection, now)``. :func:`run_batch` runs a batch in submission order,
handing each run of consecutive turns to :func:`~bot.store.turns.record_turns`
so they share its few statements. The clock is read once per batch: every
timestamp a transaction writes is the same instant.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from bot.store.turns import TurnWrite, record_turns

Clock = Callable[[], datetime]
WriteFn = Callable[[Connection, datetime], Any]


def run_batch(conn: Connection, jobs: list[TurnWrite | WriteFn], *, clock: Clock) -> list[Any]:
    """Run ``jobs`` in order inside the open transaction; one result per job."""
    now = clock()
    results: list[Any] = []
    turns: list[TurnWrite] = []
    for job in jobs:
        if isinstance(job, TurnWrite):
            turns.append(job)
            continue
        if turns:
            results.extend(record_turns(conn, turns, now))
            turns = []
        results.append(job(conn, now))
    if turns:
        results.extend(record_turns(conn, turns, now))
    return results

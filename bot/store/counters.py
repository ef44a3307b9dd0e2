"""Named counters bumped inside a transaction: readable numbers without gaps between racers."""

from __future__ import annotations

from sqlalchemy import Connection, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.store.models import counters


def next_value(conn: Connection, name: str) -> int:
    """The counter ``name`` plus one (1 the first time), taken in this transaction.

    The row is created if missing, then bumped with ``UPDATE ... RETURNING``;
    a concurrent transaction waits on the row lock, so two never get one value.
    """
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(counters).on_conflict_do_nothing(), {"name": name, "value": 0})
    value = conn.execute(
        update(counters).where(counters.c.name == name).values(value=counters.c.value + 1).returning(counters.c.value)
    ).scalar_one()
    return int(value)

"""A ticket desk on a SQLite file and on PostgreSQL (the order tests' store fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert

from bot.shopdata.loader import load_shop
from bot.store.models import agents
from bot.tickets.desk import TicketDesk
from tests.orders.conftest import clock, db_url, store  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def demo_config():
    return load_shop(ROOT / "data").tickets


@pytest.fixture
async def desk(store, demo_config):  # noqa: F811
    return TicketDesk(store, demo_config, None, zone_of_city=lambda city: "sumatra-bali-ntb" if city == "Medan" else "jawa")


async def add_agent(store, username: str) -> int:  # noqa: F811
    def job(conn, now):
        return conn.execute(
            insert(agents).returning(agents.c.id),
            {"username": username, "display_name": username.title(), "role": "agent", "password_hash": "x",
             "active": True, "created_at": now},
        ).scalar_one()

    return await store.write(job)

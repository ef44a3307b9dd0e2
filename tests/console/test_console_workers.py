"""The console with two worker processes sharing Redis: whichever worker a customer's socket and an
agent's console socket land on, handoffs, replies and status changes reach both."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from tests.conftest import sapa_env, start_server
from tests.console.conftest import (
    HANDOFF_TEXT,
    Agent,
    ConsoleServer,
    add_account,
    copy_demo_data,
    new_http,
    widget_customer,
)

REDIS_URL = "redis://127.0.0.1:6379/0"

pytestmark = pytest.mark.slow


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    if not redis_answers():
        pytest.skip("Redis is not answering on 127.0.0.1:6379")
    workdir = tmp_path_factory.mktemp("console-workers")
    data = copy_demo_data(workdir / "data")
    for username in ("rina", "budi"):
        add_account(workdir, username)
    server = start_server(workdir, data, env=sapa_env(workdir, REDIS_URL=REDIS_URL), args=("--workers", "2"))
    yield ConsoleServer(server, workdir, data)
    server.stop()


async def test_live_updates_cross_workers(two_workers: ConsoleServer) -> None:
    async with new_http() as h1, new_http() as h2, new_http() as customers_http:
        agents = []
        for http, name in ((h1, "rina"), (h2, "budi")):
            agent = Agent(two_workers, http, name)
            assert (await agent.login()).status == 303
            agents.append(agent)
        # Several sockets each, so that both workers serve some of them.
        sockets = [await agent.socket() for agent in agents for _ in range(3)]
        customers = [await widget_customer(two_workers, customers_http, f"Pelanggan {n}") for n in range(4)]
        for customer in customers:
            await customer.say(HANDOFF_TEXT)
        for customer in customers:
            for sock in sockets:
                await sock.until(lambda e, c=customer.conversation_id: e["type"] == "conversation"
                                 and e["row"]["id"] == c and e["row"]["status"] == "waiting_for_agent")
        rina = agents[0]
        for n, customer in enumerate(customers):
            status, _ = await rina.act(customer.conversation_id, "reply", text=f"Halo Kak, balasan {n}")
            assert status == 200
            reply = await customer.until(lambda e: e["type"] == "message" and e["sender_type"] == "agent")
            assert reply["text"] == f"Halo Kak, balasan {n}"
            await customer.until(lambda e: e["type"] == "status" and e["status"] == "with_agent")
            for sock in sockets:
                await sock.until(lambda e, c=customer.conversation_id: e["type"] == "conversation"
                                 and e["row"]["id"] == c and e["row"]["status"] == "with_agent")
        # A customer's answer reaches every console socket, whichever worker took it.
        ack = await customers[0].say("terima kasih kak, ditunggu ya")
        for sock in sockets:
            event = await sock.until(lambda e: e["type"] == "message" and e["conversation_id"] == customers[0].conversation_id
                                     and e["seq"] == ack["seq"])
            assert event["text"] == "terima kasih kak, ditunggu ya"
        await asyncio.gather(*(s.close() for s in sockets))


async def test_a_worker_holds_more_than_a_hundred_redis_subscriptions() -> None:
    """Each open widget tab (and each console hub) subscribes on its own; redis-py's default pool
    of 100 connections once refused the 101st tab of a worker."""
    if not redis_answers():
        pytest.skip("Redis is not answering on 127.0.0.1:6379")
    from contextlib import AsyncExitStack

    from bot.bus import RedisBus

    bus = RedisBus.from_url(REDIS_URL)
    topic = f"test-many-{id(bus)}"
    try:
        async with AsyncExitStack() as stack:
            subscriptions = [await stack.enter_async_context(bus.subscribe(f"{topic}:{n}")) for n in range(150)]
            await bus.publish(f"{topic}:149", {"type": "ping"})
            event = await asyncio.wait_for(subscriptions[149].get(), 10)
            assert event["type"] == "ping"
    finally:
        await bus.close()

"""Two workers on a Redis that goes away for a moment, as a shop's Redis restart does.

The test runs a Redis server of its own (``redis-server`` on a free port) so that it can
stop and restart it without touching the machine's shared one.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import free_port, port_answers, sapa_env, start_server
from tests.console.conftest import (
    HANDOFF_TEXT,
    Agent,
    ConsoleServer,
    add_account,
    copy_demo_data,
    new_http,
    widget_customer,
)

pytestmark = pytest.mark.slow

REDIS_SERVER = shutil.which("redis-server")


class OwnRedis:
    """A throwaway redis-server that the test may stop and start again on the same port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not port_answers("127.0.0.1", self.port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture(scope="module")
def own_redis() -> Iterator[OwnRedis]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    redis = OwnRedis(free_port())
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory, own_redis: OwnRedis) -> Iterator[ConsoleServer]:
    workdir = tmp_path_factory.mktemp("redis-outage")
    data = copy_demo_data(workdir / "data")
    add_account(workdir, "budi")
    server = start_server(workdir, data, env=sapa_env(workdir, REDIS_URL=own_redis.url), args=("--workers", "2"))
    yield ConsoleServer(server, workdir, data)
    server.stop()


async def rest(base: str, sender: str, text: str) -> tuple[int, object]:
    async with aiohttp.ClientSession() as http:
        async with http.post(base + "/webhooks/rest/webhook", json={"sender": sender, "message": text}) as r:
            text = await r.text()
            try:
                return r.status, json.loads(text)
            except ValueError:
                return r.status, text


async def test_live_views_recover_after_redis_comes_back(two_workers: ConsoleServer, own_redis: OwnRedis) -> None:
    async with new_http() as agent_http, new_http() as customers_http:
        agent = Agent(two_workers, agent_http, "budi")
        assert (await agent.login()).status == 303
        consoles = [await agent.socket() for _ in range(2)]
        # Several customers, so that both workers hold some widget sockets.
        customers = [await widget_customer(two_workers, customers_http, f"Pelanggan {n}") for n in range(3)]
        for customer in customers:
            await customer.say(HANDOFF_TEXT)
            status, _ = await agent.act(customer.conversation_id, "take")
            assert status == 200

        own_redis.stop()
        # While Redis is away a customer is told to try again, in JSON, not with a 500 page.
        status, body = await rest(two_workers.base, "rest-outage", "halo kak")
        assert status == 503, body
        assert isinstance(body, dict) and body["error"] == "unavailable"
        # The widget's message gets its own error, so the widget offers to send it again.
        await customers[0].send(type="message", client_id="during-outage", text="halo kak, masih di sana?")
        refused = await customers[0].until(lambda e: e.get("client_id") == "during-outage")
        assert refused["type"] == "error" and refused["code"] == "server_error"
        own_redis.start()

        # Once Redis is back, requests are answered at once, whichever worker takes them
        # (each on a new connection): connections pooled before the restart are not a 503.
        for n in range(6):
            status, body = await rest(two_workers.base, f"rest-after-{n}", "halo kak")
            assert status == 200, body
        # The agent answers every customer...
        for n, customer in enumerate(customers):
            text = f"Maaf menunggu Kak, ini balasan {n}"
            status, body = await agent.act(customer.conversation_id, "reply", text=text)
            assert status == 200, body
            # ...and each widget, open through the outage, shows the reply live.
            reply = await customer.until(lambda e, t=text: e["type"] == "message" and e["text"] == t)
            assert reply["sender_type"] == "agent"

        # A customer's answer still reaches the agent's screens.
        ack = await customers[0].say("siap kak, terima kasih")
        for console in consoles:
            await console.until(
                lambda e: e["type"] == "message"
                and e["conversation_id"] == customers[0].conversation_id
                and e["seq"] == ack["seq"]
            )
        for console in consoles:
            await console.close()

    log = two_workers.server.output()
    # The operator reads what happened in a line or two per worker, not a traceback a second.
    assert "Redis at redis://127.0.0.1:" in log and "is unreachable" in log
    assert "answers again" in log
    assert "Traceback" not in log, log[-3000:]

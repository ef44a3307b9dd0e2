"""Two workers on PostgreSQL and Redis, as the README's production deployment runs them:
what PostgreSQL refuses that SQLite takes, connections that PostgreSQL drops, and a
PostgreSQL that goes away for a moment.

The module runs `sapa run --workers 2` on a PostgreSQL database of its own (created from
the ``test`` database and dropped at the end) and a Redis server of its own. The server
reaches PostgreSQL through a small TCP relay in the test, which can refuse connections
like a PostgreSQL being restarted, without touching the machine's shared server.
"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator

import aiohttp
import asyncpg
import pytest

from sqlalchemy.engine import make_url

from tests.conftest import own_postgres_database, sapa_env, start_server
from tests.console.conftest import ACCOUNTS, Agent, ConsoleServer, copy_demo_data, new_http, widget_customer
from tests.test_redis_outage import OwnRedis, free_port, own_redis  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def pg_dsn() -> Iterator[str]:
    with own_postgres_database() as dsn:
        yield dsn


class PostgresRelay:
    """A TCP relay to PostgreSQL on a port of its own, run on a thread of its own.

    ``stop()`` closes every relayed connection and stops listening (the server then gets
    "connection refused", as while PostgreSQL restarts); ``start()`` listens again."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: asyncio.AbstractServer | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    def _call(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def start(self) -> None:
        self._call(self._start())

    def stop(self) -> None:
        self._call(self._stop())

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port, reuse_address=True)

    async def _stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self.writers):
            writer.close()
        self.writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers.update((writer, up_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, RuntimeError):
                pass
            finally:
                sink.close()
                self.writers.discard(sink)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture(scope="module")
def pg_relay(pg_dsn: str) -> Iterator[PostgresRelay]:
    relay = PostgresRelay(make_url(pg_dsn).port or 5432)
    relay.start()
    yield relay
    relay.close()


@pytest.fixture(scope="module")
def pg_workers(
    tmp_path_factory: pytest.TempPathFactory, pg_dsn: str, pg_relay: PostgresRelay, own_redis: OwnRedis
) -> Iterator[ConsoleServer]:
    workdir = tmp_path_factory.mktemp("pg-workers")
    data = copy_demo_data(workdir / "data")
    through_relay = make_url(pg_dsn).set(port=pg_relay.port).render_as_string(hide_password=False)
    env = sapa_env(workdir, DATABASE_URL=through_relay, REDIS_URL=own_redis.url)
    role, name, password = ACCOUNTS["rina"]
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "agent", "add", "rina", "--role", role, "--name", name],
        cwd=workdir, env={**env, "SAPA_AGENT_PASSWORD": password}, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    server = start_server(workdir, data, env=env, args=("--workers", "2"))
    yield ConsoleServer(server, workdir, data)
    server.stop()


async def rest(base: str, sender: str, text: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:  # a new connection each: spread over the workers
        async with http.post(base + "/webhooks/rest/webhook", json={"sender": sender, "message": text}) as r:
            return r.status, await r.text()


async def test_a_nul_in_console_searches_and_order_numbers_is_no_server_error(pg_workers: ConsoleServer) -> None:
    """SQLite stores and compares a NUL like any character; PostgreSQL refuses it in text and
    JSON. A NUL typed into a console filter or an order URL (``%00``) names nothing: the page
    says so, instead of a 500 from the database."""
    async with new_http() as http:
        agent = Agent(pg_workers, http, "rina")
        assert (await agent.login()).status == 303
        for query in ("q=%00", "q=budi%00", "channel=%00", "category=%00", "priority=%00", "team=%00"):
            status, body = await agent.get_json(f"/console/api/inbox?{query}")
            assert status == 200, (query, body)
            assert body["rows"] == []
            status, _ = await agent.get(f"/console/inbox?{query}")
            assert status == 200, query
        status, body = await agent.post("/console/views", {"name": "Cari\x00 budi", "q": "budi\x00"})
        assert status == 200, body
        assert "\x00" not in body["view"]["name"] and "\x00" not in body["view"]["filters"]["q"]
        status, _ = await agent.get("/console/admin/orders/SP-2026-000001%00")
        assert status == 404
        status, body = await agent.post("/console/admin/orders/SP%00/cancel", {"reason": "tes"})
        assert status == 404, body
    async with aiohttp.ClientSession() as http:
        token = base64.b64encode(f"rina:{ACCOUNTS['rina'][2]}".encode()).decode()
        auth = {"Authorization": f"Basic {token}"}
        async with http.get(pg_workers.base + "/api/admin/orders/SP%00", headers=auth) as r:
            assert r.status == 404, await r.text()
        async with http.post(pg_workers.base + "/api/admin/orders/SP%00/cancel", json={"reason": "tes"}, headers=auth) as r:
            assert r.status == 404, await r.text()


async def _end_the_servers_connections(dsn: str) -> int:
    """``pg_terminate_backend`` on every connection to the database but this one, as an
    administrator (or a PostgreSQL restart, or a proxy's idle timeout) does."""
    conn = await asyncpg.connect(dsn)
    try:
        ended = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return len(ended)


async def test_turns_after_postgresql_ended_the_servers_connections_are_answered(pg_workers: ConsoleServer, pg_dsn: str) -> None:
    """Pooled connections that PostgreSQL has ended are replaced without failing a customer's
    turn: a read is repeated, and a transaction that had not reached its COMMIT is run again
    on a new connection (PostgreSQL rolled it back), so each turn is stored exactly once."""
    senders = [f"pg-drop-{uuid.uuid4().hex[:8]}" for _ in range(16)]
    for round_ in range(2):
        # Both workers open several pooled connections, then lose them all at once.
        results = await asyncio.gather(*(rest(pg_workers.base, s, f"halo kak {round_}") for s in senders))
        assert all(status == 200 for status, _ in results), results
        assert await _end_the_servers_connections(pg_dsn) > 0
        results = await asyncio.gather(*(rest(pg_workers.base, s, "bisa bayar pakai apa aja?") for s in senders))
        assert [status for status, _ in results] == [200] * len(senders), [b for s, b in results if s != 200][:2]
    conn = await asyncpg.connect(pg_dsn)
    try:
        for sender in senders:
            rows = await conn.fetch(
                "SELECT m.seq, m.sender_type FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                "WHERE c.channel = 'rest' AND c.external_id = $1 ORDER BY m.seq",
                sender,
            )
            customer = [r["seq"] for r in rows if r["sender_type"] == "customer"]
            assert len(customer) == 4 and [r["seq"] for r in rows] == list(range(1, len(rows) + 1)), rows
    finally:
        await conn.close()


async def test_while_postgresql_is_away_requests_get_a_clear_503_and_nothing_is_lost(
    pg_workers: ConsoleServer, pg_relay: PostgresRelay, pg_dsn: str
) -> None:
    """PostgreSQL restarting: REST and console requests are refused with the JSON 503 (and
    Retry-After) that a Redis outage gets, not a 500 page; a widget message gets its own
    error, so the widget offers to send it again; once PostgreSQL is back everything is
    answered, and the message sent again is stored once."""
    sender = f"pg-away-{uuid.uuid4().hex[:8]}"
    async with new_http() as agent_http, new_http() as customer_http, aiohttp.ClientSession() as http:
        agent = Agent(pg_workers, agent_http, "rina")
        assert (await agent.login()).status == 303
        customer = await widget_customer(pg_workers, customer_http)
        status, _ = await rest(pg_workers.base, sender, "halo kak")
        assert status == 200

        log_before = len(pg_workers.server.output())
        pg_relay.stop()
        try:
            for _ in range(4):  # a new connection each: both workers answer some
                async with aiohttp.ClientSession() as one:
                    async with one.post(
                        pg_workers.base + "/webhooks/rest/webhook", json={"sender": sender, "message": "bisa bayar pakai apa aja?"}
                    ) as r:
                        body = await r.json()
                        assert r.status == 503 and body["error"] == "unavailable", body
                        assert r.headers["Retry-After"]
            async with agent_http.get(pg_workers.base + "/console/api/inbox") as r:
                assert r.status == 503 and (await r.json())["error"] == "unavailable"
            await customer.send(type="message", client_id="while-pg-away", text="kak, ongkir ke sby brp?")
            refused = await customer.until(lambda e: e.get("client_id") == "while-pg-away")
            assert refused["type"] == "error" and refused["code"] == "server_error", refused
            async with http.get(pg_workers.base + "/healthz") as r:
                assert r.status == 503
            # The workers' background rounds (relaying pushed messages, sweeping unpaid
            # orders) meet the outage too: told in a line, not a traceback each round.
            await asyncio.sleep(3)  # the relay polls every second
        finally:
            pg_relay.start()
        during = pg_workers.server.output()[log_before:]
        assert "does not answer" in during and "Traceback" not in during, during[-3000:]

        for _ in range(4):
            status, body = await rest(pg_workers.base, sender, "makasih kak")
            assert status == 200, body
        status, _ = await agent.get_json("/console/api/inbox")
        assert status == 200
        # The widget sends the refused message again (its "Kirim ulang" button): answered, once.
        await customer.send(type="message", client_id="while-pg-away", text="kak, ongkir ke sby brp?")
        ack = await customer.until(lambda e: e.get("client_id") == "while-pg-away")
        assert ack["type"] == "ack", ack
        await customer.send(type="message", client_id="while-pg-away", text="kak, ongkir ke sby brp?")
        again = await customer.until(lambda e: e.get("client_id") == "while-pg-away")
        assert again == ack

    conn = await asyncpg.connect(pg_dsn)
    try:
        texts = [
            r["text"]
            for r in await conn.fetch(
                "SELECT m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                "WHERE c.channel = 'rest' AND c.external_id = $1 AND m.sender_type = 'customer' ORDER BY m.seq",
                sender,
            )
        ]
        widget = await conn.fetchval("SELECT count(*) FROM messages WHERE client_id = 'while-pg-away'")
    finally:
        await conn.close()
    assert texts == ["halo kak"] + ["makasih kak"] * 4
    assert widget == 1

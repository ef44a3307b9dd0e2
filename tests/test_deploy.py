"""Sapa on PostgreSQL, and several workers sharing Redis — as an operator deploys it."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from tests.conftest import port_answers, sapa_env, start_server

pytestmark = pytest.mark.slow

needs_redis = pytest.mark.skipif(
    not port_answers("127.0.0.1", 6379), reason="Redis on 127.0.0.1:6379 does not answer"
)


async def say(base: str, sender: str, text: str) -> list[dict]:
    async with aiohttp.ClientSession() as session:
        async with session.post(base + "/webhooks/rest/webhook", json={"sender": sender, "message": text}) as r:
            assert r.status == 200
            return await r.json()


@pytest.mark.postgres
async def test_the_demo_shop_runs_on_postgresql(tmp_path: Path, postgres_database: str):
    conn = await asyncpg.connect(postgres_database)
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    await conn.close()
    server = start_server(tmp_path, env=sapa_env(tmp_path, DATABASE_URL=postgres_database))
    try:
        who = f"pg-{uuid.uuid4().hex[:8]}"
        replies = await say(server.base, who, "kak bisa bayar pakai apa aja?")
        assert replies[0]["custom"]["faq_id"]
        replies = await say(server.base, who, "ok makasih ya kak")
        assert replies[0]["custom"]["intent"] == "thanks"
    finally:
        server.stop()
    assert not (tmp_path / "sapa.db").exists()
    conn = await asyncpg.connect(postgres_database)
    try:
        rows = await conn.fetch(
            "SELECT m.seq, m.sender_type, m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE c.channel = 'rest' AND c.external_id = $1 ORDER BY m.seq",
            who,
        )
        version = await conn.fetchval("SELECT version_num FROM alembic_version")
    finally:
        await conn.close()
    assert [(r["seq"], r["sender_type"]) for r in rows] == [(1, "customer"), (2, "bot"), (3, "customer"), (4, "bot")]
    assert rows[0]["text"] == "kak bisa bayar pakai apa aja?"
    assert version


@needs_redis
async def test_two_workers_share_one_conversation_through_redis(tmp_path: Path):
    """Concurrent messages of one customer, spread over two worker processes, stay in order."""
    env = sapa_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/14")
    server = start_server(tmp_path, env=env, args=("--workers", "2"))
    try:
        who = f"w-{uuid.uuid4().hex[:8]}"
        texts = [f"halo kak {i}" for i in range(20)]

        async def one(text: str) -> list[dict]:
            async with aiohttp.ClientSession() as session:  # a new connection each: spread over workers
                async with session.post(
                    server.base + "/webhooks/rest/webhook", json={"sender": who, "message": text}
                ) as r:
                    assert r.status == 200
                    return await r.json()

        results = await asyncio.gather(*(one(t) for t in texts))
        assert all(r and r[0]["custom"]["intent"] == "greet" for r in results)
        conversation_ids = {r[0]["custom"]["conversation_id"] for r in results}
        assert len(conversation_ids) == 1
    finally:
        server.stop()
    import sqlite3

    db = sqlite3.connect(tmp_path / "sapa.db")
    try:
        rows = db.execute(
            "SELECT m.seq, m.sender_type FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE c.external_id = ? ORDER BY m.seq",
            (who,),
        ).fetchall()
    finally:
        db.close()
    assert [seq for seq, _ in rows] == list(range(1, 41))
    # Each customer message is directly followed by its own reply: the turns never interleaved.
    assert [kind for _, kind in rows] == ["customer", "bot"] * 20


def _turns_counted(text: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("sapa_turns_total{"))


async def test_metrics_count_every_workers_turns(tmp_path: Path):
    """Prometheus scrapes one worker at a time through the shared port; each scrape must
    still count the turns of every worker, or the counters jump up and down between scrapes."""
    own_tmp = tmp_path / "tmp"
    own_tmp.mkdir()
    server = start_server(tmp_path, env=sapa_env(tmp_path, TMPDIR=str(own_tmp)), args=("--workers", "2"))
    try:
        for n in range(10):  # a new connection each: both workers take some
            await say(server.base, f"metrics-{n}", "kak bisa bayar pakai apa aja?")
        counted = []
        for _ in range(6):
            async with aiohttp.ClientSession() as session:
                async with session.get(server.base + "/metrics") as r:
                    assert r.status == 200
                    counted.append(_turns_counted(await r.text()))
        assert counted == [10.0] * 6
    finally:
        server.stop()
    # The workers' shared metric files are the server's own business: gone when it stops.
    assert list(own_tmp.iterdir()) == []


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


@needs_redis
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads worker pids from /proc (Linux)")
async def test_a_turn_in_flight_is_answered_when_every_process_gets_sigterm(tmp_path: Path):
    """systemd stops a service by sending SIGTERM to all of its processes at once (a terminal's
    Ctrl+C reaches them all too): the workers still finish the turns they have started."""
    import redis.asyncio as aioredis

    server = start_server(tmp_path, env=sapa_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/14"), args=("--workers", "2"))
    redis = aioredis.from_url("redis://127.0.0.1:6379/14")
    who = f"stop-{uuid.uuid4().hex[:8]}"
    lock = f"sapa:lock:rest:{who}"
    try:
        # Another turn of this customer holds the conversation, so this one waits in its worker.
        await redis.set(lock, "another-turn", px=60_000)
        turn = asyncio.create_task(say(server.base, who, "kak bisa bayar pakai apa aja?"))
        await asyncio.sleep(1.0)  # the request has reached a worker and waits for the lock
        for pid in [server.process.pid, *_children(server.process.pid)]:
            os.kill(pid, signal.SIGTERM)
        await asyncio.sleep(1.0)
        await redis.delete(lock)  # the other turn ends; this one goes ahead, server stopping or not
        replies = await asyncio.wait_for(turn, 30)
        assert replies and replies[0]["custom"]["faq_id"]
        assert server.process.wait(timeout=30) == 0
    finally:
        await redis.aclose()
        server.stop()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads worker pids from /proc (Linux)")
async def test_a_worker_that_dies_is_replaced(tmp_path: Path):
    """The OOM killer (or a crash) takes one worker: the server starts another and says so,
    instead of serving on at half strength without a word."""
    server = start_server(tmp_path, args=("--workers", "2"))
    try:
        parent = server.process.pid
        for _ in range(600):  # both workers up (healthy means at least one answers)
            if server.output().count(" serving on http://") == 2:
                break
            await asyncio.sleep(0.2)
        before = _children(parent)
        assert len(before) == 2
        os.kill(before[0], signal.SIGKILL)
        for _ in range(600):
            now = _children(parent)
            if len(now) == 2 and before[0] not in now and f"worker {now[-1]} serving" in server.output():
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError(f"no new worker:\n{server.output()}")
        assert f"worker {before[0]} was killed by SIGKILL; starting another" in server.output()
        for n in range(4):
            await say(server.base, f"after-{n}", "halo kak")
    finally:
        server.stop()
    assert server.process.returncode == 0


def _secret_key_of(folder: str, barrier, keys) -> None:  # type: ignore[no-untyped-def]
    from bot.config import Settings, secret_key

    barrier.wait()
    keys.put(secret_key(Settings(data_dir=Path(folder))))


def test_workers_starting_at_once_agree_on_the_generated_secret_key(tmp_path: Path):
    """On a fresh data dir every worker of `sapa run --workers N` reads or creates .secret_key;
    two that created their own signed widget tokens the other worker refused."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    for trial in range(20):  # a race: several rounds, each of which lost it before
        folder = tmp_path / f"data-{trial}"
        barrier, keys = ctx.Barrier(4), ctx.Queue()
        workers = [ctx.Process(target=_secret_key_of, args=(str(folder), barrier, keys)) for _ in range(4)]
        for w in workers:
            w.start()
        found = {keys.get(timeout=30) for _ in workers}
        for w in workers:
            w.join()
        assert len(found) == 1
        assert (folder / ".secret_key").read_text("ascii").strip() == found.pop()

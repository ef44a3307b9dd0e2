"""The live-event bus and conversation locks, in-process and through a real Redis."""

from __future__ import annotations

import asyncio
import socket
import sys
import uuid

import pytest
from redis.exceptions import LockError

from bot.bus import LocalBus, RedisBus
from bot.locks import LocalLocks, RedisLocks

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not _redis_answers(), reason="Redis on 127.0.0.1:6379 does not answer")


async def test_local_bus_delivers_to_subscribers_of_the_topic_only():
    bus = LocalBus()
    async with bus.subscribe("conversation:1") as one, bus.subscribe("conversation:2") as two:
        await bus.publish("conversation:1", {"text": "halo"})
        assert await asyncio.wait_for(one.get(), 1) == {"text": "halo", "topic": "conversation:1"}
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(two.get(), 0.05)


async def test_local_bus_drops_oldest_for_a_slow_subscriber_instead_of_blocking():
    bus = LocalBus(queue_size=2)
    async with bus.subscribe("t") as sub:
        for i in range(5):
            await bus.publish("t", {"i": i})
        assert [(await sub.get())["i"] for _ in range(2)] == [3, 4]


async def test_local_bus_forgets_topics_after_unsubscribe():
    bus = LocalBus()
    async with bus.subscribe("t"):
        pass
    await bus.publish("t", {"x": 1})  # nobody listens; must not raise
    assert bus._subscribers == {}


async def test_local_locks_serialize_one_key_and_clean_up():
    locks = LocalLocks()
    order: list[str] = []

    async def turn(name: str, delay: float) -> None:
        async with locks.hold("rest:abc"):
            order.append(f"{name}-start")
            await asyncio.sleep(delay)
            order.append(f"{name}-end")

    await asyncio.gather(turn("a", 0.02), turn("b", 0))
    assert order == ["a-start", "a-end", "b-start", "b-end"]
    assert len(locks) == 0


async def test_local_locks_let_different_keys_run_together():
    locks = LocalLocks()
    inside = 0
    most = 0

    async def turn(key: str) -> None:
        nonlocal inside, most
        async with locks.hold(key):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(turn(f"k{i}") for i in range(5)))
    assert most == 5


@needs_redis
async def test_redis_bus_crosses_connections():
    topic = f"test-{uuid.uuid4().hex}"
    publisher, subscriber = RedisBus.from_url(REDIS_URL), RedisBus.from_url(REDIS_URL)
    try:
        async with subscriber.subscribe(topic) as sub:
            await publisher.publish(topic, {"text": "<b>halo</b> 'x'; DROP TABLE"})
            event = await asyncio.wait_for(sub.get(), 2)
        assert event == {"text": "<b>halo</b> 'x'; DROP TABLE", "topic": topic}
    finally:
        await publisher.close()
        await subscriber.close()


@needs_redis
async def test_redis_locks_serialize_across_two_lock_managers():
    """Two managers stand for two worker processes sharing one Redis."""
    a_bus, b_bus = RedisBus.from_url(REDIS_URL), RedisBus.from_url(REDIS_URL)
    a, b = RedisLocks(a_bus.redis, wait=5), RedisLocks(b_bus.redis, wait=5)
    key = f"test:{uuid.uuid4().hex}"
    order: list[str] = []

    async def turn(locks: RedisLocks, name: str, delay: float) -> None:
        async with locks.hold(key):
            order.append(f"{name}-start")
            await asyncio.sleep(delay)
            order.append(f"{name}-end")

    try:
        first = asyncio.create_task(turn(a, "a", 0.1))
        await asyncio.sleep(0.02)
        await turn(b, "b", 0)
        await first
        assert order == ["a-start", "a-end", "b-start", "b-end"]
    finally:
        await a_bus.close()
        await b_bus.close()


@needs_redis
async def test_a_redis_lock_outlives_its_lease_while_its_turn_runs():
    """A slow turn renews its lease: another worker does not get the conversation meanwhile."""
    a_bus, b_bus = RedisBus.from_url(REDIS_URL), RedisBus.from_url(REDIS_URL)
    a, b = RedisLocks(a_bus.redis, lease=0.3), RedisLocks(b_bus.redis, wait=0.3, lease=0.3)
    key = f"test:{uuid.uuid4().hex}"
    try:
        async with a.hold(key):
            await asyncio.sleep(0.6)  # two leases long: only renewal keeps it
            with pytest.raises(LockError):
                async with b.hold(key):
                    pass
        async with b.hold(key):  # released at the end of the turn
            pass
    finally:
        await a_bus.close()
        await b_bus.close()


@needs_redis
async def test_a_worker_that_dies_holding_a_lock_keeps_it_only_for_its_lease():
    key = f"test:{uuid.uuid4().hex}"
    dies_inside = (
        "import asyncio, os\n"
        "from bot.bus import RedisBus\n"
        "from bot.locks import RedisLocks\n"
        "async def main():\n"
        f"    locks = RedisLocks(RedisBus.from_url({REDIS_URL!r}).redis, lease=1.0)\n"
        f"    async with locks.hold({key!r}):\n"
        "        print('holding', flush=True)\n"
        "        os._exit(9)  # like SIGKILL: no release, no cleanup\n"
        "asyncio.run(main())\n"
    )
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", dies_inside, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert out.strip() == b"holding" and proc.returncode == 9
    bus = RedisBus.from_url(REDIS_URL)
    try:
        # far less than the default 30 s wait, far more than the dead worker's 1 s lease
        async with RedisLocks(bus.redis, wait=10).hold(key):
            pass
    finally:
        await bus.close()

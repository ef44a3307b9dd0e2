"""Live events between the engine, the channels and the console.

The engine publishes after a turn is committed; a channel (the widget's
socket, the console) subscribes to the topics it shows. In-process by default;
with ``REDIS_URL`` the events go through Redis pub/sub so that several worker
processes see each other's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, AsyncIterator, Protocol

if TYPE_CHECKING:
    from bot.store.records import StoredMessage

log = logging.getLogger(__name__)

Event = dict[str, Any]

# Connections one worker's Redis client may open (see RedisBus.from_url).
MAX_REDIS_CONNECTIONS = 10_000


CONVERSATION_TOPIC_PREFIX = "conversation:"


def conversation_topic(conversation_id: int) -> str:
    """The topic on which a conversation's committed messages and changes are announced."""
    return f"{CONVERSATION_TOPIC_PREFIX}{conversation_id}"


def channel_topic(channel: str) -> str:
    """The topic on which messages for a channel's customers that were not a reply to
    their own turn (agent replies, order notifications) are announced, e.g. so the
    Telegram adapter can deliver them."""
    return f"channel:{channel}"


def message_event(message: "StoredMessage") -> Event:
    """A committed message as every live view (widget tabs, the console) receives it."""
    return {
        "type": "message",
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "sender_type": message.sender_type,
        "text": message.text,
        "buttons": list(message.buttons or []),
        "attachments": list(message.attachments or []),
        "created_at": message.created_at.isoformat(),
    }


class Subscription(Protocol):
    async def get(self) -> Event: ...


class Bus(Protocol):
    async def publish(self, topic: str, event: Event) -> None: ...

    def subscribe(self, *topics: str) -> "asyncio.AbstractAsyncContextManager[Subscription]": ...

    async def close(self) -> None: ...


class _QueueSubscription:
    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)

    async def get(self) -> Event:
        return await self.queue.get()


class LocalBus:
    """Pub/sub inside one process.

    A subscriber that stops reading loses its oldest events rather than
    blocking publishers: live views re-read the store on reconnect anyway.
    """

    def __init__(self, *, queue_size: int = 1000) -> None:
        self._subscribers: dict[str, set[_QueueSubscription]] = {}
        self._queue_size = queue_size

    async def publish(self, topic: str, event: Event) -> None:
        for sub in tuple(self._subscribers.get(topic, ())):
            if sub.queue.full():
                sub.queue.get_nowait()
            sub.queue.put_nowait({**event, "topic": topic})

    @asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscription]:
        sub = _QueueSubscription(self._queue_size)
        for topic in topics:
            self._subscribers.setdefault(topic, set()).add(sub)
        try:
            yield sub
        finally:
            for topic in topics:
                subs = self._subscribers.get(topic)
                if subs is not None:
                    subs.discard(sub)
                    if not subs:
                        del self._subscribers[topic]

    async def close(self) -> None:
        self._subscribers.clear()


RESYNC = "resync"
"""The type of the event a Redis subscription returns once it is subscribed again after
Redis went away: events published meanwhile are lost, so the consumer re-reads the store."""

_RETRY_FIRST, _RETRY_MAX = 0.5, 5.0  # seconds between attempts to reach Redis again


class BusUnavailable(Exception):
    """Redis (the shared bus and locks) does not answer; the request may be tried again soon."""


def redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError, TimeoutError

    return (ConnectionError, TimeoutError, OSError)


class _RedisSubscription:
    """One subscription that outlives a Redis restart: when the connection breaks it
    subscribes again as soon as Redis answers, then returns a :data:`RESYNC` event."""

    def __init__(self, bus: "RedisBus", subscribe) -> None:  # type: ignore[no-untyped-def]
        self._bus = bus
        self._subscribe = subscribe  # (pubsub) -> awaitable: (p)subscribe to its topics
        self._pubsub = None

    async def open(self) -> None:
        """Subscribe; :class:`BusUnavailable` when Redis does not answer."""
        pubsub = self._bus.redis.pubsub()
        try:
            await self._subscribe(pubsub)
        except redis_errors() as exc:
            await _discard(pubsub)
            self._bus.went_away(exc)
            raise BusUnavailable(str(exc)) from exc
        self._pubsub = pubsub

    async def close(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            await _discard(pubsub)

    async def get(self) -> Event:
        while True:
            if self._pubsub is None:
                await self._reopen()
                return {"type": RESYNC}
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            except redis_errors() as exc:
                self._bus.went_away(exc)
                await self.close()
                continue
            if message is None:
                continue
            try:
                return json.loads(message["data"])
            except (ValueError, TypeError):
                log.warning("ignoring a malformed bus event on %s", message.get("channel"))

    async def _reopen(self) -> None:
        delay = _RETRY_FIRST
        while True:
            try:
                await self.open()
            except BusUnavailable:
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX)
            else:
                self._bus.came_back()
                return


async def _discard(pubsub) -> None:  # type: ignore[no-untyped-def]
    # Closing disconnects the subscribed connection, which ends its subscriptions in Redis;
    # on a broken connection there is nothing to say to Redis anyway.
    with contextlib.suppress(Exception):
        await pubsub.aclose()


class RedisBus:
    """Pub/sub through Redis, shared by every worker process.

    When Redis goes away, subscriptions wait for it and then return :data:`RESYNC`;
    publishing raises :class:`BusUnavailable`. The outage and the recovery are each
    logged once per worker (a line each, not a traceback per attempt).
    """

    def __init__(self, redis, *, prefix: str = "sapa:", url: str = "Redis") -> None:
        self.redis = redis
        self._prefix = prefix
        self._where = url
        self._down = False

    @classmethod
    def from_url(cls, url: str) -> "RedisBus":
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff

        # Every subscription (an open widget tab, a console hub) holds a pool connection of its
        # own while it lasts; redis-py caps a pool at 100 connections by default, which refused
        # a worker's 101st open widget tab (MaxConnectionsError). Redis itself allows 10,000.
        # The retry also covers pooled connections that died with a Redis restart: without it
        # the first command on each failed ("Connection closed by server") after Redis was back.
        retry = Retry(ExponentialBackoff(cap=0.5, base=0.05), 2)
        client = aioredis.from_url(url, decode_responses=True, max_connections=MAX_REDIS_CONNECTIONS, retry=retry)
        return cls(client, url=_without_password(url))

    def went_away(self, exc: BaseException) -> None:
        if not self._down:
            self._down = True
            log.warning(
                "Redis at %s is unreachable (%s): live events between workers and conversation locks "
                "are paused, so customers and agents are asked to try again; waiting for it to come back",
                self._where,
                exc,
            )

    def came_back(self) -> None:
        if self._down:
            self._down = False
            log.warning("Redis at %s answers again; live views re-read what they missed", self._where)

    async def publish(self, topic: str, event: Event) -> None:
        try:
            await self.redis.publish(self._prefix + topic, json.dumps({**event, "topic": topic}))
        except redis_errors() as exc:
            self.went_away(exc)
            raise BusUnavailable(str(exc)) from exc
        self.came_back()

    @asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscription]:
        channels = [self._prefix + t for t in topics]
        async with self._subscription(lambda pubsub: pubsub.subscribe(*channels)) as subscription:
            yield subscription

    @asynccontextmanager
    async def subscribe_prefix(self, topic_prefix: str) -> AsyncIterator[Subscription]:
        """Every topic that starts with ``topic_prefix``, through one pattern subscription
        (one pool connection, however many topics); each event carries its ``topic``."""
        pattern = self._prefix + topic_prefix + "*"
        async with self._subscription(lambda pubsub: pubsub.psubscribe(pattern)) as subscription:
            yield subscription

    @asynccontextmanager
    async def _subscription(self, subscribe) -> AsyncIterator[Subscription]:  # type: ignore[no-untyped-def]
        subscription = _RedisSubscription(self, subscribe)
        await subscription.open()
        self.came_back()
        try:
            yield subscription
        finally:
            await subscription.close()

    async def close(self) -> None:
        await self.redis.aclose()


def _without_password(url: str) -> str:
    """The URL for log lines: ``redis://:secret@host`` would print the password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))

"""Live events between the engine, the channels and the console.

The engine publishes after a turn is committed; a channel (the widget's
socket, the console) subscribes to the topics it shows. In-process by default;
with ``REDIS_URL`` the events go through Redis pub/sub so that several worker
processes see each other's events.
"""

from __future__ import annotations

import asyncio
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


class _RedisSubscription:
    def __init__(self, pubsub) -> None:
        self._pubsub = pubsub

    async def get(self) -> Event:
        while True:
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            if message is None:
                continue
            try:
                return json.loads(message["data"])
            except (ValueError, TypeError):
                log.warning("ignoring a malformed bus event on %s", message.get("channel"))


class RedisBus:
    """Pub/sub through Redis, shared by every worker process."""

    def __init__(self, redis, *, prefix: str = "sapa:") -> None:
        self.redis = redis
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str) -> "RedisBus":
        import redis.asyncio as aioredis

        # Every subscription (an open widget tab, a console hub) holds a pool connection of its
        # own while it lasts; redis-py caps a pool at 100 connections by default, which refused
        # a worker's 101st open widget tab (MaxConnectionsError). Redis itself allows 10,000.
        return cls(aioredis.from_url(url, decode_responses=True, max_connections=MAX_REDIS_CONNECTIONS))

    async def publish(self, topic: str, event: Event) -> None:
        await self.redis.publish(self._prefix + topic, json.dumps({**event, "topic": topic}))

    @asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscription]:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(*(self._prefix + t for t in topics))
        try:
            yield _RedisSubscription(pubsub)
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()

    @asynccontextmanager
    async def subscribe_prefix(self, topic_prefix: str) -> AsyncIterator[Subscription]:
        """Every topic that starts with ``topic_prefix``, through one pattern subscription
        (one pool connection, however many topics); each event carries its ``topic``."""
        pubsub = self.redis.pubsub()
        await pubsub.psubscribe(self._prefix + topic_prefix + "*")
        try:
            yield _RedisSubscription(pubsub)
        finally:
            await pubsub.punsubscribe()
            await pubsub.aclose()

    async def close(self) -> None:
        await self.redis.aclose()

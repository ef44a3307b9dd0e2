"""The store: Sapa's one door to its database.

:class:`Store` is what the engine, channels and console use. It hides
engines, connections and rows behind plain records (:mod:`bot.store.records`),
migrates the database when opened, and sends every write through a
group-commit writer (:mod:`bot.store.writer`) so that a turn is committed
before its reply goes out without paying one commit per turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, text

from bot.store import outbox as outbox_module
from bot.store import queries, writes
from bot.store.access import Database, open_database
from bot.store.engines import DEFAULT_URL, DatabaseUnavailable, is_sqlite, normalize_url, shown_url
from bot.store.jobs import Clock, run_batch
from bot.store.migrate import migrate as migrate_database
from bot.store.records import (
    ConversationChanges,
    ConversationRecord,
    CustomerRecord,
    NewMessage,
    StoredMessage,
    TurnRecord,
)
from bot.store.sanitize import (
    MAX_CHANNEL,
    MAX_CLIENT_ID,
    MAX_EXTERNAL_ID,
    clean_changes,
    clean_customer_fields,
    clean_key,
    clean_message,
    clean_messages,
    clean_text,
)
from bot.store.turns import TurnWrite
from bot.store.writer import Failed, GroupCommitWriter
from bot.types import LANGS

T = TypeVar("T")

# /healthz must answer even when the database hangs.
PING_TIMEOUT_SECONDS = 2.0
_NO_CHANGES = ConversationChanges()


def utc_now() -> datetime:
    """The default clock: the current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Store:
    """Customers, conversations and messages, on SQLite or PostgreSQL.

    Create one with :meth:`open` and share it; it is safe for concurrent use
    from many tasks of one event loop. Turns of one conversation must be
    recorded one after the other (the engine's per-conversation lock does
    that); turns of different conversations may run concurrently.
    """

    def __init__(
        self, database: Database, writer: GroupCommitWriter, now: Clock, default_lang: str
    ) -> None:
        """Use :meth:`open`; this only wires already created parts together."""
        self._db = database
        self._writer = writer
        self._now = now
        self._default_lang = default_lang
        self._closed = False
        self._outbox_listeners: list[Callable[[], None]] = []

    @classmethod
    async def open(
        cls,
        url: str = DEFAULT_URL,
        *,
        now: Clock = utc_now,
        default_lang: str = "id",
        migrate: bool = True,
        echo: bool = False,
    ) -> Store:
        """Connect to ``url`` and bring its schema up to date.

        ``url`` is a SQLAlchemy URL; ``sqlite://``, ``postgres://`` and
        ``postgresql://`` get their async drivers. ``now`` is the clock every
        stored timestamp comes from (tests and time-based features replace it).
        ``default_lang`` is a new customer's language when the channel gives no
        hint. ``migrate=False`` skips ``alembic upgrade head`` (for tools that
        must not change the schema).
        """
        if default_lang not in LANGS:
            raise ValueError(f"unsupported language {default_lang!r}")
        parsed = normalize_url(url)
        if migrate:
            if is_sqlite(parsed) and not Path(parsed.database or "").parent.is_dir():
                # Checked before connecting: SQLite cannot create the folder, and a failed
                # aiosqlite connect leaves a worker thread that prints tracebacks at exit.
                raise DatabaseUnavailable(
                    f"cannot open the database at DATABASE_URL {shown_url(parsed)!r}: "
                    f"the folder {str(Path(parsed.database or '').parent)!r} does not exist"
                )
            await migrate_database(parsed, echo=echo)
        database = open_database(parsed, echo=echo)
        writer = GroupCommitWriter(database, partial(run_batch, clock=now))
        writer.start()
        return cls(database, writer, now, default_lang)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._db.dialect

    def now(self) -> datetime:
        """The store's clock, for features that compare against stored times."""
        return self._now()

    async def close(self) -> None:
        """Finish queued writes and close all connections. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._writer.close()
        await self._db.dispose()

    async def ping(self) -> bool:
        """Whether the database answers ``SELECT 1`` (False when closed or failing)."""
        if self._closed:
            return False
        try:
            await asyncio.wait_for(self._db.read(_select_one), PING_TIMEOUT_SECONDS)
        except Exception:
            return False
        return True

    # --- conversations -------------------------------------------------

    async def open_conversation(
        self, channel: str, external_id: str, lang_hint: str | None
    ) -> ConversationRecord:
        """The sender's open conversation; creates customer, identity, conversation as needed.

        A sender whose last conversation was resolved gets a new one. A new
        customer's language is ``lang_hint`` (or the store's default); a new
        conversation's is ``lang_hint`` or the customer's. An existing open
        conversation is returned unchanged. Concurrent calls for the same new
        sender, even from several processes, end with one customer, one
        identity and one conversation.
        """
        channel = clean_key(channel, "channel", MAX_CHANNEL)
        external_id = clean_key(external_id, "external_id", MAX_EXTERNAL_ID)
        if lang_hint not in LANGS:
            lang_hint = None  # a hint from outside; an unknown one is no hint
        # The common case, an ongoing conversation, is a single indexed read
        # that does not wait for the writer.
        existing = await self._db.read(queries.fetch_open_conversation, channel, external_id)
        if existing is not None:
            return existing
        conversation: ConversationRecord = await self._writer.submit(
            partial(
                _open_job,
                channel=channel,
                external_id=external_id,
                lang_hint=lang_hint,
                default_lang=self._default_lang,
            )
        )
        return conversation

    async def record_turn(
        self,
        conversation_id: int,
        incoming: NewMessage | None,
        outgoing: Sequence[NewMessage],
        changes: ConversationChanges = _NO_CHANGES,
    ) -> TurnRecord:
        """Store one turn atomically: its messages, its changes, its milestones.

        The incoming message (if any) and then the outgoing ones get the
        conversation's next ``seq`` numbers; ``changes`` are applied and the
        timestamps updated as described in :func:`bot.store.timeline.turn_updates`.
        Returns after the transaction is committed.

        When the turn's first message carries a ``client_id`` already stored in
        this conversation, the turn is a resend: nothing is written, and the
        record has ``duplicate=True`` and the originally stored messages (see
        :class:`TurnRecord`). Raises :class:`~bot.store.turns.ConversationNotFound`
        for an unknown conversation and ``ValueError`` for an invalid sender
        type, status or language.
        """
        turn = TurnWrite(
            conversation_id=conversation_id,
            incoming=None if incoming is None else clean_message(incoming),
            outgoing=clean_messages(outgoing),
            changes=clean_changes(changes),
        )
        result: TurnRecord = await self._writer.submit(turn)
        return result

    async def conversation(self, conversation_id: int) -> ConversationRecord | None:
        """The conversation with this id, or ``None``."""
        return await self._db.read(queries.fetch_conversation, conversation_id)

    async def messages(
        self, conversation_id: int, after_seq: int = 0, limit: int = 200
    ) -> list[StoredMessage]:
        """Up to ``limit`` messages with ``seq > after_seq``, oldest first.

        A reconnecting client passes the last ``seq`` it saw to get what it missed.
        """
        return await self._db.read(queries.fetch_messages, conversation_id, after_seq, limit)

    async def find_by_client_id(self, conversation_id: int, client_id: str) -> StoredMessage | None:
        """The message this conversation stored under ``client_id``, or ``None``."""
        client_id = clean_key(client_id, "client_id", MAX_CLIENT_ID)
        return await self._db.read(queries.fetch_by_client_id, conversation_id, client_id)

    async def save_rating(self, conversation_id: int, score: int, comment: str | None = None) -> None:
        """Store the customer's CSAT rating of a conversation: ``score`` 1-5, an optional comment.

        A later rating replaces an earlier one (``csat_at`` is the latest). Raises
        ``ValueError`` for a score outside 1-5 and
        :class:`~bot.store.turns.ConversationNotFound` for an unknown conversation.
        """
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise ValueError(f"a rating is a whole number from 1 to 5, got {score!r}")
        if comment is not None:
            comment = clean_text(comment).strip() or None
        await self._writer.submit(
            partial(_rating_job, conversation_id=conversation_id, score=score, comment=comment)
        )

    async def rating(self, conversation_id: int) -> tuple[int, str | None, datetime] | None:
        """``(score, comment, rated_at)`` of a conversation, or ``None`` when not rated."""
        return await self._db.read(queries.fetch_rating, conversation_id)

    # --- customers -----------------------------------------------------

    async def customer(self, customer_id: int) -> CustomerRecord | None:
        """The customer with this id, or ``None``."""
        return await self._db.read(queries.fetch_customer, customer_id)

    async def update_customer(self, customer_id: int, **fields: Any) -> None:
        """Set any of ``display_name``, ``phone``, ``email``, ``lang``.

        Raises ``TypeError`` for other names, ``ValueError`` for an unsupported
        language and :class:`~bot.store.writes.CustomerNotFound` for an unknown id.
        """
        values = clean_customer_fields(fields)
        if not values:
            return
        await self._writer.submit(
            partial(_customer_job, customer_id=customer_id, fields=values)
        )

    # --- for domain modules (orders, accounts, the relay) ------------------
    # Orders and the outbox keep their SQL in their own modules; they run it
    # through these two doors instead of reaching into the store's parts.

    @property
    def default_lang(self) -> str:
        """A new customer's language when nothing better is known."""
        return self._default_lang

    async def write(self, job: Callable[[Connection, datetime], T]) -> T:
        """Run ``job(connection, now)`` in the next group-commit transaction.

        Returns the job's result once committed; a :class:`~bot.store.writer.Failed`
        result is raised as its error. A job that raises has nothing of its batch
        committed (the writer retries the others one by one), so a job may raise
        to undo everything it did.
        """
        result: T = await self._writer.submit(job)
        return result

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(connection, *args)`` on a reading connection (no transaction of its own)."""
        return await self._db.read(fn, *args)

    async def push_message(
        self, channel: str, external_id: str, message: NewMessage, *, lang_hint: str | None = None
    ) -> tuple[ConversationRecord, StoredMessage]:
        """Tell a customer something outside a chat turn (an order shipped, an agent's note).

        Appends ``message`` to the open conversation of (``channel``,
        ``external_id``) — a new conversation when the last one was resolved —
        with the next ``seq``, and in the same transaction an outbox row that the
        relay (:mod:`bot.relay`) publishes on the bus, from this process or any
        other. Returns the conversation and the stored message once committed.
        """
        channel = clean_key(channel, "channel", MAX_CHANNEL)
        external_id = clean_key(external_id, "external_id", MAX_EXTERNAL_ID)
        message = clean_message(message)
        if lang_hint not in LANGS:
            lang_hint = None
        result: tuple[ConversationRecord, StoredMessage] = await self._writer.submit(
            partial(
                outbox_module.push_in_transaction,
                channel=channel,
                external_id=external_id,
                message=message,
                lang_hint=lang_hint,
                default_lang=self._default_lang,
            )
        )
        self.outbox_changed()
        return result

    def on_outbox(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` whenever this process adds outbox rows; returns an unsubscriber."""
        self._outbox_listeners.append(listener)
        return lambda: self._outbox_listeners.remove(listener) if listener in self._outbox_listeners else None

    def outbox_changed(self) -> None:
        """Say that outbox rows were committed (wakes this process's relay at once)."""
        for listener in tuple(self._outbox_listeners):
            try:
                listener()
            except Exception:  # a listener's trouble is not the writer's
                pass


# Write jobs (see bot.store.jobs): run by the writer inside a shared
# transaction, with the batch's clock reading.


def _open_job(
    conn: Connection,
    now: datetime,
    *,
    channel: str,
    external_id: str,
    lang_hint: str | None,
    default_lang: str,
) -> ConversationRecord:
    return writes.open_conversation(conn, channel, external_id, lang_hint, default_lang, now)


def _customer_job(
    conn: Connection, now: datetime, *, customer_id: int, fields: dict[str, Any]
) -> Failed | None:
    return writes.update_customer(conn, customer_id, fields, now)


def _rating_job(
    conn: Connection, now: datetime, *, conversation_id: int, score: int, comment: str | None
) -> Failed | None:
    return writes.save_rating(conn, conversation_id, score, comment, now)


def _select_one(conn: Connection) -> None:
    conn.execute(text("SELECT 1"))

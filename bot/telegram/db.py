"""The Telegram channel's tables, as plain synchronous SQLAlchemy Core.

Reads take ``(connection, ...)`` and run through :meth:`bot.store.Store.read`;
writes take ``(connection, now, ...)`` and run through :meth:`bot.store.Store.write`
inside the store's group-commit transactions. Nothing here commits.

The outbox (``telegram_outbox``) holds one row per Telegram send. A row is
``pending`` until Telegram acknowledged it (``sent``), refused it for good
(``failed``) or said the user blocked the bot (``blocked``). Rows of one chat
are sent one at a time in insertion order; broadcast rows wait while a chat has
conversation rows pending.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from bot.store.models import (
    conversations,
    messages,
    telegram_broadcasts,
    telegram_callbacks,
    telegram_chats,
    telegram_cursors,
    telegram_leases,
    telegram_outbox,
)
from bot.telegram import render

PENDING, SENT, FAILED, BLOCKED = "pending", "sent", "failed", "blocked"
MAX_ERROR = 500


@dataclass(frozen=True, slots=True)
class ChatRecord:
    chat_id: int
    user_id: int | None
    username: str | None
    language_code: str | None
    lang: str
    lang_fixed: bool
    promo: bool | None
    promo_at: datetime | None
    blocked_at: datetime | None
    keyboard_shown: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Draft:
    """An outbox row to add (ignored when its ``dedupe_key`` is already there)."""

    chat_id: int
    dedupe_key: str
    kind: str
    payload: dict[str, Any]
    conversation_id: int | None = None
    seq: int | None = None
    broadcast_id: int | None = None


@dataclass(frozen=True, slots=True)
class Send:
    """A pending outbox row, ready to go."""

    id: int
    chat_id: int
    kind: str
    broadcast_id: int | None
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: datetime
    keyboard_shown: bool


@dataclass(frozen=True, slots=True)
class Due:
    """What the sender may send now, and when it should look again at the rest."""

    sends: list[Send]
    next_at: datetime | None


@dataclass(frozen=True, slots=True)
class BroadcastReport:
    id: int
    text: str
    lang: str | None
    status: str
    created_by: str | None
    recipients: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    sent: int
    failed: int
    blocked: int
    pending: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "lang": self.lang,
            "status": self.status,
            "created_by": self.created_by,
            "recipients": self.recipients,
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "sent": self.sent,
            "failed": self.failed,
            "blocked": self.blocked,
            "pending": self.pending,
        }


def _insert_ignore(conn: Connection, table: Any, rows: Sequence[dict[str, Any]], keys: list[str]) -> None:
    """Insert ``rows``, skipping those that collide on ``keys`` (both backends)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    conn.execute(dialect_insert(table).on_conflict_do_nothing(index_elements=keys), list(rows))


# -- chats -----------------------------------------------------------------------

_CHAT_COLUMNS = [telegram_chats.c[f.name] for f in fields(ChatRecord)]


def fetch_chat(conn: Connection, chat_id: int) -> ChatRecord | None:
    row = conn.execute(select(*_CHAT_COLUMNS).where(telegram_chats.c.chat_id == chat_id)).first()
    return None if row is None else ChatRecord(*row)


def save_chat(
    conn: Connection,
    now: datetime,
    *,
    chat_id: int,
    user_id: int | None,
    username: str | None,
    language_code: str | None,
    lang: str,
) -> ChatRecord:
    """Create the chat's row on first contact, or refresh who it is; writing also
    means the user can be reached again (whoever blocked the bot has unblocked it)."""
    existing = fetch_chat(conn, chat_id)
    if existing is None:
        _insert_ignore(
            conn,
            telegram_chats,
            [
                {
                    "chat_id": chat_id,
                    "user_id": user_id,
                    "username": username,
                    "language_code": language_code,
                    "lang": lang,
                    "lang_fixed": False,
                    "promo": None,
                    "keyboard_shown": False,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
            ["chat_id"],
        )
    else:
        conn.execute(
            update(telegram_chats)
            .where(telegram_chats.c.chat_id == chat_id)
            .values(
                user_id=user_id,
                username=username,
                language_code=language_code,
                blocked_at=None,
                updated_at=now,
            )
        )
    chat = fetch_chat(conn, chat_id)
    assert chat is not None
    return chat


def update_chat(conn: Connection, now: datetime, *, chat_id: int, **values: Any) -> None:
    """Set some of ``lang``, ``lang_fixed``, ``promo`` (stamps ``promo_at``), ``blocked_at``, ``keyboard_shown``."""
    if "promo" in values:
        values["promo_at"] = now
    conn.execute(
        update(telegram_chats).where(telegram_chats.c.chat_id == chat_id).values(updated_at=now, **values)
    )


# -- the outbox ------------------------------------------------------------------


def enqueue(
    conn: Connection,
    now: datetime,
    *,
    drafts: Sequence[Draft],
    tokens: Mapping[str, str] | None = None,
) -> None:
    """Add outbox rows (those already there are left alone) and long callback payloads."""
    if tokens:
        _insert_ignore(
            conn,
            telegram_callbacks,
            [{"token": t, "payload": p, "created_at": now} for t, p in tokens.items()],
            ["token"],
        )
    _insert_ignore(
        conn,
        telegram_outbox,
        [
            {
                "chat_id": d.chat_id,
                "dedupe_key": d.dedupe_key,
                "kind": d.kind,
                "conversation_id": d.conversation_id,
                "seq": d.seq,
                "broadcast_id": d.broadcast_id,
                "payload": d.payload,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for d in drafts
        ],
        ["dedupe_key"],
    )


_SEND_COLUMNS = (
    telegram_outbox.c.id,
    telegram_outbox.c.chat_id,
    telegram_outbox.c.kind,
    telegram_outbox.c.broadcast_id,
    telegram_outbox.c.payload,
    telegram_outbox.c.attempts,
    telegram_outbox.c.next_attempt_at,
    func.coalesce(telegram_chats.c.keyboard_shown, False),
)

_PENDING_CONVERSATION_ROWS = (
    select(*_SEND_COLUMNS)
    .select_from(telegram_outbox.outerjoin(telegram_chats, telegram_chats.c.chat_id == telegram_outbox.c.chat_id))
    .where(telegram_outbox.c.status == PENDING, telegram_outbox.c.kind != "broadcast")
    .order_by(telegram_outbox.c.chat_id, telegram_outbox.c.id)
)


def due_sends(conn: Connection, now: datetime, *, broadcast_limit: int, skip_chats: Iterable[int] = ()) -> Due:
    """The first pending row of every chat whose time has come, then up to
    ``broadcast_limit`` broadcast rows of chats with nothing else pending.
    ``skip_chats`` (sends in flight) get nothing."""
    skip = set(skip_chats)
    heads: list[Send] = []
    busy: set[int] = set()
    next_at: datetime | None = None
    for row in conn.execute(_PENDING_CONVERSATION_ROWS):
        send = Send(*row)
        if send.chat_id in busy:
            continue
        busy.add(send.chat_id)
        if send.chat_id in skip:
            continue
        if send.next_attempt_at <= now:
            heads.append(send)
        elif next_at is None or send.next_attempt_at < next_at:
            next_at = send.next_attempt_at
    if broadcast_limit > 0:
        busy |= skip
        rows = conn.execute(
            select(*_SEND_COLUMNS)
            .select_from(
                telegram_outbox.outerjoin(telegram_chats, telegram_chats.c.chat_id == telegram_outbox.c.chat_id)
            )
            .where(telegram_outbox.c.status == PENDING, telegram_outbox.c.kind == "broadcast")
            .order_by(telegram_outbox.c.next_attempt_at, telegram_outbox.c.id)
            .limit(broadcast_limit + len(busy))
        )
        taken = 0
        for row in rows:
            send = Send(*row)
            if send.chat_id in busy:
                continue
            if send.next_attempt_at > now:
                if next_at is None or send.next_attempt_at < next_at:
                    next_at = send.next_attempt_at
                break
            busy.add(send.chat_id)
            heads.append(send)
            taken += 1
            if taken >= broadcast_limit:
                break
    return Due(heads, next_at)


def mark_sent(
    conn: Connection, now: datetime, *, outbox_id: int, chat_id: int, message_id: int | None, keyboard: bool | None
) -> None:
    """Telegram acknowledged the send; ``keyboard`` records whether a reply keyboard is now open."""
    conn.execute(
        update(telegram_outbox)
        .where(telegram_outbox.c.id == outbox_id)
        .values(
            status=SENT,
            sent_at=now,
            telegram_message_id=message_id,
            attempts=telegram_outbox.c.attempts + 1,
            error=None,
        )
    )
    if keyboard is not None:
        conn.execute(
            update(telegram_chats)
            .where(telegram_chats.c.chat_id == chat_id)
            .values(keyboard_shown=keyboard, updated_at=now)
        )


def retry_later(conn: Connection, now: datetime, *, outbox_id: int, at: datetime, error: str) -> None:
    conn.execute(
        update(telegram_outbox)
        .where(telegram_outbox.c.id == outbox_id, telegram_outbox.c.status == PENDING)
        .values(attempts=telegram_outbox.c.attempts + 1, next_attempt_at=at, error=error[:MAX_ERROR])
    )


def give_up(conn: Connection, now: datetime, *, outbox_id: int, chat_id: int, status: str, error: str) -> None:
    """``failed`` (Telegram refused this send for good) or ``blocked`` (the user blocked the
    bot: the chat is marked too, so broadcasts skip it until they write again)."""
    conn.execute(
        update(telegram_outbox)
        .where(telegram_outbox.c.id == outbox_id)
        .values(status=status, attempts=telegram_outbox.c.attempts + 1, error=error[:MAX_ERROR])
    )
    if status == BLOCKED:
        conn.execute(
            update(telegram_chats)
            .where(telegram_chats.c.chat_id == chat_id)
            .values(blocked_at=now, updated_at=now)
        )


def outbox_rows(conn: Connection, chat_id: int | None = None) -> list[dict[str, Any]]:
    """Every outbox row (of one chat), oldest first — for tools and tests."""
    query = select(telegram_outbox).order_by(telegram_outbox.c.id)
    if chat_id is not None:
        query = query.where(telegram_outbox.c.chat_id == chat_id)
    return [dict(row._mapping) for row in conn.execute(query)]


def keyboard_is_current(conn: Connection, chat_id: int, message_id: int) -> bool:
    """Whether a button that answers a question (yes/no, skip, a choice), pressed under the
    bot's message ``message_id``, answers what the conversation waits for now.

    Telegram leaves every old keyboard pressable. A keyboard is current when

    - its message is the latest one whose keyboard asks something (answer buttons, or the
      share-contact button). One stored message can be several sends (quick replies on
      one, the share-contact button on the next): a press on either part counts. A pushed
      message's buttons ("Cek status pesanan" under an order update) ask nothing, so an
      order update arriving mid-flow leaves the flow's question current;
    - and the customer has said nothing since it was sent: a typed answer ("bca" at the
      bank question) moves the conversation on even when the next question ("how much?")
      has no keyboard of its own, and a later conversation makes it stale too.

    A chat without such a message in the outbox (an older or wiped database) counts as current.
    """
    rows = conn.execute(
        select(
            telegram_outbox.c.telegram_message_id,
            telegram_outbox.c.payload,
            telegram_outbox.c.conversation_id,
            telegram_outbox.c.seq,
        )
        .where(
            telegram_outbox.c.chat_id == chat_id,
            telegram_outbox.c.kind == "message",
            telegram_outbox.c.status.in_((PENDING, SENT)),
        )
        .order_by(telegram_outbox.c.id.desc())
        .limit(200)
    ).all()
    pressed = next(((conv, seq) for sent_id, _, conv, seq in rows if sent_id == message_id), None)
    latest = next(((conv, seq) for _, payload, conv, seq in rows if _asks(conn, payload)), None)
    if latest is not None and pressed != latest:
        return False
    if pressed is None or pressed[0] is None or pressed[1] is None:
        return True
    conversation_id, seq = pressed
    said_since = conn.execute(
        select(messages.c.id)
        .where(
            messages.c.conversation_id == conversation_id,
            messages.c.sender_type == "customer",
            messages.c.seq > seq,
        )
        .limit(1)
    ).first()
    if said_since is not None:
        return False
    newer = conn.execute(
        select(conversations.c.id)
        .where(
            conversations.c.channel == "telegram",
            conversations.c.external_id == str(chat_id),
            conversations.c.id > conversation_id,
        )
        .limit(1)
    ).first()
    return newer is None


def _asks(conn: Connection, payload: Any) -> bool:
    """Whether an outbox payload's keyboard asks the customer something."""
    markup = payload.get("markup") if isinstance(payload, dict) else None
    if not isinstance(markup, dict):
        return False
    if "contact" in markup:
        return True
    for row in markup.get("inline") or ():
        for button in row:
            data = str(button.get("data") or "") if isinstance(button, dict) else ""
            if data.startswith(render.TOKEN_PREFIX):
                data = callback_payload(conn, data[len(render.TOKEN_PREFIX) :]) or ""
            if render.answers_a_question(data):
                return True
    return False


def callback_payload(conn: Connection, token: str) -> str | None:
    return conn.execute(
        select(telegram_callbacks.c.payload).where(telegram_callbacks.c.token == token)
    ).scalar()


# -- the sweep: stored messages that never reached the outbox -------------------


@dataclass(frozen=True, slots=True)
class SweepTarget:
    conversation_id: int
    external_id: str
    last_seq: int
    swept_seq: int


def sweep_targets(conn: Connection, since: datetime, limit: int = 200) -> list[SweepTarget]:
    """Telegram conversations active since ``since`` with messages beyond their cursor."""
    swept = func.coalesce(telegram_cursors.c.swept_seq, 0)
    rows = conn.execute(
        select(conversations.c.id, conversations.c.external_id, conversations.c.last_seq, swept)
        .select_from(
            conversations.outerjoin(telegram_cursors, telegram_cursors.c.conversation_id == conversations.c.id)
        )
        .where(
            conversations.c.channel == "telegram",
            conversations.c.last_message_at >= since,
            conversations.c.last_seq > swept,
        )
        .order_by(conversations.c.last_message_at)
        .limit(limit)
    )
    return [SweepTarget(*row) for row in rows]


def advance_cursor(
    conn: Connection,
    now: datetime,
    *,
    conversation_id: int,
    chat_id: int,
    swept_seq: int,
    drafts: Sequence[Draft],
    tokens: Mapping[str, str],
) -> None:
    """Enqueue what the sweep found and move the conversation's cursor forward."""
    enqueue(conn, now, drafts=drafts, tokens=tokens)
    _insert_ignore(
        conn,
        telegram_cursors,
        [{"conversation_id": conversation_id, "chat_id": chat_id, "swept_seq": 0}],
        ["conversation_id"],
    )
    conn.execute(
        update(telegram_cursors)
        .where(telegram_cursors.c.conversation_id == conversation_id, telegram_cursors.c.swept_seq < swept_seq)
        .values(swept_seq=swept_seq)
    )


# -- the lease: one process polls and sends ---------------------------------------


def acquire_lease(conn: Connection, now: datetime, *, name: str, holder: str, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` for ``holder`` unless someone else holds a fresh one."""
    result = conn.execute(
        update(telegram_leases)
        .where(
            telegram_leases.c.name == name,
            or_(telegram_leases.c.holder == holder, telegram_leases.c.expires_at < now),
        )
        .values(holder=holder, expires_at=now + ttl)
    )
    if result.rowcount == 1:
        return True
    _insert_ignore(
        conn, telegram_leases, [{"name": name, "holder": holder, "expires_at": now + ttl}], ["name"]
    )
    current = conn.execute(
        select(telegram_leases.c.holder).where(telegram_leases.c.name == name)
    ).scalar()
    return current == holder


def release_lease(conn: Connection, now: datetime, *, name: str, holder: str) -> None:
    conn.execute(
        update(telegram_leases)
        .where(telegram_leases.c.name == name, telegram_leases.c.holder == holder)
        .values(expires_at=now - timedelta(seconds=1))
    )


# -- broadcasts ---------------------------------------------------------------------


def create_broadcast(
    conn: Connection, now: datetime, *, text: str, lang: str | None, created_by: str | None
) -> int:
    result = conn.execute(
        insert(telegram_broadcasts)
        .values(text=text, lang=lang, status="queued", created_by=created_by, created_at=now)
        .returning(telegram_broadcasts.c.id)
    )
    return int(result.scalar_one())


def queued_broadcasts(conn: Connection) -> list[int]:
    return list(
        conn.execute(
            select(telegram_broadcasts.c.id)
            .where(telegram_broadcasts.c.status == "queued")
            .order_by(telegram_broadcasts.c.id)
        ).scalars()
    )


def start_broadcast(
    conn: Connection, now: datetime, *, broadcast_id: int, footers: Mapping[str, str]
) -> int:
    """Put one copy per opted-in, reachable chat (of the broadcast's language) in the
    outbox and mark the broadcast ``sending``; returns the number of recipients.
    Idempotent: a broadcast no longer ``queued`` is left alone."""
    broadcast = conn.execute(
        select(telegram_broadcasts.c.text, telegram_broadcasts.c.lang).where(
            telegram_broadcasts.c.id == broadcast_id, telegram_broadcasts.c.status == "queued"
        )
    ).first()
    if broadcast is None:
        return 0
    text, lang = broadcast
    query = select(telegram_chats.c.chat_id, telegram_chats.c.lang).where(
        telegram_chats.c.promo.is_(True), telegram_chats.c.blocked_at.is_(None)
    )
    if lang is not None:
        query = query.where(telegram_chats.c.lang == lang)
    chats = conn.execute(query.order_by(telegram_chats.c.chat_id)).all()
    drafts = [
        Draft(
            chat_id=chat_id,
            dedupe_key=f"b:{broadcast_id}:{chat_id}",
            kind="broadcast",
            broadcast_id=broadcast_id,
            payload={"text": f"{text}\n\n{footers.get(chat_lang, '')}".strip(), "markup": None},
        )
        for chat_id, chat_lang in chats
    ]
    enqueue(conn, now, drafts=drafts)
    conn.execute(
        update(telegram_broadcasts)
        .where(telegram_broadcasts.c.id == broadcast_id)
        .values(status="sending", started_at=now, recipients=len(drafts))
    )
    return len(drafts)


def finish_broadcasts(conn: Connection, now: datetime) -> list[int]:
    """Mark ``done`` the sending broadcasts with nothing left pending; returns their ids."""
    pending = (
        select(telegram_outbox.c.id)
        .where(
            telegram_outbox.c.broadcast_id == telegram_broadcasts.c.id,
            telegram_outbox.c.status == PENDING,
        )
        .exists()
    )
    done = list(
        conn.execute(
            select(telegram_broadcasts.c.id).where(telegram_broadcasts.c.status == "sending", ~pending)
        ).scalars()
    )
    if done:
        conn.execute(
            update(telegram_broadcasts)
            .where(telegram_broadcasts.c.id.in_(done))
            .values(status="done", finished_at=now)
        )
    return done


_BROADCAST_COLUMNS = (
    telegram_broadcasts.c.id,
    telegram_broadcasts.c.text,
    telegram_broadcasts.c.lang,
    telegram_broadcasts.c.status,
    telegram_broadcasts.c.created_by,
    telegram_broadcasts.c.recipients,
    telegram_broadcasts.c.created_at,
    telegram_broadcasts.c.started_at,
    telegram_broadcasts.c.finished_at,
)


def _counts(conn: Connection, ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        rows = conn.execute(
            select(telegram_outbox.c.broadcast_id, telegram_outbox.c.status, func.count())
            .where(telegram_outbox.c.broadcast_id.in_(ids))
            .group_by(telegram_outbox.c.broadcast_id, telegram_outbox.c.status)
        )
        for broadcast_id, status, n in rows:
            counts[broadcast_id][status] = int(n)
    return counts


def _report(row: Any, counts: dict[str, int]) -> BroadcastReport:
    return BroadcastReport(
        *row,
        sent=counts.get(SENT, 0),
        failed=counts.get(FAILED, 0),
        blocked=counts.get(BLOCKED, 0),
        pending=counts.get(PENDING, 0),
    )


def broadcast_report(conn: Connection, broadcast_id: int) -> BroadcastReport | None:
    row = conn.execute(select(*_BROADCAST_COLUMNS).where(telegram_broadcasts.c.id == broadcast_id)).first()
    if row is None:
        return None
    return _report(row, _counts(conn, [broadcast_id])[broadcast_id])


def list_broadcasts(conn: Connection, limit: int = 50) -> list[BroadcastReport]:
    rows = conn.execute(
        select(*_BROADCAST_COLUMNS).order_by(telegram_broadcasts.c.id.desc()).limit(limit)
    ).all()
    counts = _counts(conn, [row[0] for row in rows])
    return [_report(row, counts[row[0]]) for row in rows]


def audience(conn: Connection, lang: str | None) -> int:
    """How many chats a broadcast in ``lang`` (None: all) would reach now."""
    query = select(func.count()).select_from(telegram_chats).where(
        and_(telegram_chats.c.promo.is_(True), telegram_chats.c.blocked_at.is_(None))
    )
    if lang is not None:
        query = query.where(telegram_chats.c.lang == lang)
    return int(conn.execute(query).scalar_one())

"""The Telegram tables on SQLite and PostgreSQL: the outbox's order and idempotency,
broadcast expansion and reports, the sweep cursor, the one-sender lease."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.store import NewMessage, Store
from bot.store.testing import FakeClock
from bot.telegram import db as tgdb
from tests.conftest import blocking

LEASE = timedelta(seconds=20)


async def _reset_schema(dsn: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=3)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'sapa.db'}"
    dsn: str = request.getfixturevalue("postgres_database")
    blocking(_reset_schema, dsn)
    return dsn


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(db_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    opened = await Store.open(db_url, now=clock)
    try:
        yield opened
    finally:
        await opened.close()


async def _chat(store: Store, chat_id: int, lang: str = "id") -> tgdb.ChatRecord:
    return await store.write(
        lambda conn, now: tgdb.save_chat(
            conn, now, chat_id=chat_id, user_id=chat_id, username=None, language_code=lang, lang=lang
        )
    )


def _draft(chat_id: int, key: str, text: str = "x", kind: str = "notice") -> tgdb.Draft:
    return tgdb.Draft(chat_id=chat_id, dedupe_key=key, kind=kind, payload={"text": text, "markup": None})


async def _enqueue(store: Store, *drafts: tgdb.Draft, tokens: dict[str, str] | None = None) -> None:
    await store.write(lambda conn, now: tgdb.enqueue(conn, now, drafts=list(drafts), tokens=tokens))


async def _due(store: Store, broadcast_limit: int = 10, skip: tuple[int, ...] = ()) -> tgdb.Due:
    return await store.read(lambda conn: tgdb.due_sends(conn, store.now(), broadcast_limit=broadcast_limit, skip_chats=skip))


async def test_enqueue_is_idempotent_and_chats_are_served_in_order(store: Store, clock: FakeClock) -> None:
    await _chat(store, 1)
    await _enqueue(store, _draft(1, "a", "first"), _draft(1, "b", "second"), _draft(2, "c", "other chat"))
    await _enqueue(store, _draft(1, "a", "first again"), tokens={"tok": "/faq/x"})
    assert await store.read(tgdb.callback_payload, "tok") == "/faq/x"
    due = await _due(store)
    assert [(s.chat_id, s.payload["text"]) for s in due.sends] == [(1, "first"), (2, "other chat")]
    # A chat with a send in flight gets nothing more.
    assert [s.chat_id for s in (await _due(store, skip=(1,))).sends] == [2]

    first = due.sends[0]
    await store.write(lambda conn, now: tgdb.retry_later(conn, now, outbox_id=first.id, at=now + timedelta(seconds=5), error="429"))
    due = await _due(store)
    # The first row waits, and so does everything after it in that chat.
    assert [s.chat_id for s in due.sends] == [2]
    assert due.next_at == clock.now + timedelta(seconds=5)
    clock.advance(seconds=5)
    [again, _] = (await _due(store)).sends
    assert again.id == first.id and again.attempts == 1
    await store.write(
        lambda conn, now: tgdb.mark_sent(conn, now, outbox_id=first.id, chat_id=1, message_id=77, keyboard=True)
    )
    [second, _] = (await _due(store)).sends
    assert second.payload["text"] == "second" and second.keyboard_shown is True
    rows = await store.read(tgdb.outbox_rows, 1)
    assert [(r["status"], r["attempts"], r["telegram_message_id"]) for r in rows] == [("sent", 2, 77), ("pending", 0, None)]


async def test_broadcasts_go_to_opted_in_reachable_chats_of_their_language(store: Store) -> None:
    for chat_id, lang in ((1, "id"), (2, "id"), (3, "en"), (4, "id"), (5, "id")):
        await _chat(store, chat_id, lang)
    for chat_id, promo in ((1, True), (2, False), (3, True), (4, True)):
        await store.write(lambda conn, now, c=chat_id, p=promo: tgdb.update_chat(conn, now, chat_id=c, promo=p))
    await store.write(lambda conn, now: tgdb.update_chat(conn, now, chat_id=4, blocked_at=now))
    assert await store.read(tgdb.audience, None) == 2
    assert await store.read(tgdb.audience, "id") == 1

    broadcast_id = await store.write(
        lambda conn, now: tgdb.create_broadcast(conn, now, text="Promo!", lang=None, created_by="test")
    )
    assert await store.read(tgdb.queued_broadcasts) == [broadcast_id]
    footers = {"id": "Ketik /stop", "en": "Type /stop"}
    start = lambda conn, now: tgdb.start_broadcast(conn, now, broadcast_id=broadcast_id, footers=footers)  # noqa: E731
    assert await store.write(start) == 2
    assert await store.write(start) == 0  # already started
    # A chat with a conversation message pending gets that first.
    await _enqueue(store, _draft(3, "m:1", "reply", kind="message"))
    due = await _due(store)
    assert sorted((s.chat_id, s.kind) for s in due.sends) == [(1, "broadcast"), (3, "message")]
    assert [s for s in due.sends if s.chat_id == 1][0].payload["text"] == "Promo!\n\nKetik /stop"
    for send in due.sends:
        status = tgdb.BLOCKED if send.chat_id == 1 else None
        if status:
            await store.write(
                lambda conn, now, s=send: tgdb.give_up(conn, now, outbox_id=s.id, chat_id=s.chat_id, status=tgdb.BLOCKED, error="403")
            )
        else:
            await store.write(
                lambda conn, now, s=send: tgdb.mark_sent(conn, now, outbox_id=s.id, chat_id=s.chat_id, message_id=1, keyboard=None)
            )
    assert await store.write(tgdb.finish_broadcasts) == []
    [english] = (await _due(store)).sends
    assert english.payload["text"] == "Promo!\n\nType /stop"
    await store.write(
        lambda conn, now: tgdb.mark_sent(conn, now, outbox_id=english.id, chat_id=3, message_id=2, keyboard=None)
    )
    assert await store.write(tgdb.finish_broadcasts) == [broadcast_id]
    report = await store.read(tgdb.broadcast_report, broadcast_id)
    assert report is not None
    assert (report.status, report.recipients, report.sent, report.blocked, report.failed, report.pending) == (
        "done", 2, 1, 1, 0, 0,
    )
    assert [r.id for r in await store.read(tgdb.list_broadcasts, 10)] == [broadcast_id]
    assert (await store.read(tgdb.fetch_chat, 1)).blocked_at is not None  # type: ignore[union-attr]


async def test_one_lease_holder_at_a_time(store: Store, clock: FakeClock) -> None:
    take = lambda holder: store.write(  # noqa: E731
        lambda conn, now: tgdb.acquire_lease(conn, now, name="telegram", holder=holder, ttl=LEASE)
    )
    assert await take("a") is True
    assert await take("b") is False
    clock.advance(seconds=10)
    assert await take("a") is True  # renewed
    clock.advance(seconds=15)
    assert await take("b") is False  # a's renewal still holds
    clock.advance(seconds=10)
    assert await take("b") is True  # a went quiet: b takes over
    assert await take("a") is False
    await store.write(lambda conn, now: tgdb.release_lease(conn, now, name="telegram", holder="b"))
    assert await take("a") is True  # released: at once


async def test_the_sweep_finds_messages_beyond_the_cursor(store: Store, clock: FakeClock) -> None:
    conversation = await store.open_conversation("telegram", "42", "id")
    await store.record_turn(
        conversation.id, NewMessage(sender_type="customer", text="halo"), [NewMessage(sender_type="bot", text="Halo Kak")]
    )
    [target] = await store.read(tgdb.sweep_targets, clock.now - timedelta(days=1))
    assert (target.conversation_id, target.external_id, target.last_seq, target.swept_seq) == (conversation.id, "42", 2, 0)
    draft = tgdb.Draft(chat_id=42, dedupe_key=f"m:{conversation.id}:2:0", kind="message", payload={"text": "Halo Kak", "markup": None})
    for _ in range(2):
        await store.write(
            lambda conn, now: tgdb.advance_cursor(
                conn, now, conversation_id=conversation.id, chat_id=42, swept_seq=2, drafts=[draft], tokens={}
            )
        )
    assert await store.read(tgdb.sweep_targets, clock.now - timedelta(days=1)) == []
    assert len(await store.read(tgdb.outbox_rows, 42)) == 1
    # Only conversations of Telegram, only recent ones.
    await store.open_conversation("widget", "v1", "id")
    await store.record_turn(conversation.id, None, [NewMessage(sender_type="agent", text="Ada lagi?")])
    assert [t.last_seq for t in await store.read(tgdb.sweep_targets, clock.now - timedelta(days=1))] == [3]
    assert await store.read(tgdb.sweep_targets, clock.now + timedelta(seconds=1)) == []


async def test_only_the_latest_question_keyboard_is_current(store: Store) -> None:
    """A stored message rendered as two sends (quick replies, then the share-contact button)
    is one question: a press on either part is current; an earlier question's is not."""
    await _chat(store, 5)
    conversation = await store.open_conversation("telegram", "5", "id")

    def part(key: str, seq: int, markup: dict | None) -> tgdb.Draft:
        return tgdb.Draft(chat_id=5, dedupe_key=key, kind="message", payload={"text": key, "markup": markup},
                          conversation_id=conversation.id, seq=seq)

    inline = {"inline": [[{"text": "Lewati", "data": "/skip"}]]}
    await _enqueue(store, part("older", 2, inline), part("ask", 4, inline), part("hint", 4, {"contact": "📱"}),
                   part("plain", 5, None))
    for message_id, row in zip((101, 102, 103, 104), await store.read(tgdb.outbox_rows, 5)):
        await store.write(lambda conn, now, i=row["id"], m=message_id: tgdb.mark_sent(
            conn, now, outbox_id=i, chat_id=5, message_id=m, keyboard=None))
    current = [await store.read(tgdb.keyboard_is_current, 5, m) for m in (101, 102, 103)]
    assert current == [False, True, True]
    # A chat the outbox knows nothing about refuses nothing.
    assert await store.read(tgdb.keyboard_is_current, 6, 999) is True

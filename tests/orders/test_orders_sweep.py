"""Unpaid orders remind and cancel themselves (controllable clock); pushed messages reach the bus."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.bus import LocalBus, channel_topic, conversation_topic
from bot.orders.book import OrderBook
from bot.orders.records import OrderStatus
from bot.relay import Relay
from bot.store import NewMessage, Store
from bot.store.testing import FakeClock
from tests.orders.conftest import line, make_book, new_order


async def _bot_texts(store: Store, conversation_id: int) -> list[str]:
    return [m.text for m in await store.messages(conversation_id) if m.sender_type == "bot"]


async def test_reminder_once_then_cancel_once(book: OrderBook, store: Store, clock: FakeClock):
    start = clock.now
    placed = await book.place(await new_order(store, "alice", line("KMJ-01-L")))
    n, conversation_id = placed.number, placed.conversation_id
    assert conversation_id is not None

    clock.now = start + timedelta(days=1)
    assert (await book.sweep_unpaid()).reminded == ()  # 2 days left: too early

    clock.now = start + timedelta(days=2, hours=1)  # 23 hours left
    swept = await book.sweep_unpaid()
    assert (swept.reminded, swept.cancelled) == ((n,), ())
    assert (await book.sweep_unpaid()).reminded == ()  # once only
    [reminder] = await _bot_texts(store, conversation_id)
    assert n in reminder and "Rp199.000" in reminder and "BCA 123-456-7890" in reminder
    assert "Selasa, 4 Maret 2025 pukul 16.00 WIB" in reminder  # the deadline, in the shop's zone
    record = await book.get(n)
    assert record is not None and record.reminded_at == clock.now

    clock.now = start + timedelta(days=3, minutes=1)
    swept = await book.sweep_unpaid()
    assert (swept.reminded, swept.cancelled) == ((), (n,))
    assert (await book.sweep_unpaid()).cancelled == ()
    record = await book.get(n)
    assert record is not None and record.status == OrderStatus.CANCELLED
    assert (record.events[-1].actor, record.events[-1].from_status, record.events[-1].at) == (
        "system",
        "pending_payment",
        clock.now,
    )
    assert await book.available(["KMJ-01-L"]) == {"KMJ-01-L": 1}  # released
    texts = await _bot_texts(store, conversation_id)
    assert len(texts) == 2 and n in texts[1] and "batalkan otomatis" in texts[1]


async def test_sweep_with_an_explicit_time_and_english(book: OrderBook, store: Store, clock: FakeClock):
    placed = await book.place(await new_order(store, "bob", line("KMJ-01-M"), lang="en", method="ewallet"))
    swept = await book.sweep_unpaid(now=clock.now + timedelta(days=2, hours=12))
    assert swept.reminded == (placed.number,)
    [reminder] = await _bot_texts(store, placed.conversation_id)  # type: ignore[arg-type]
    assert "OVO 0812-0000-1111" in reminder and "Rp199,000" in reminder and "reminder" in reminder
    swept = await book.sweep_unpaid(now=clock.now + timedelta(days=4))
    assert swept.cancelled == (placed.number,)
    texts = await _bot_texts(store, placed.conversation_id)  # type: ignore[arg-type]
    assert "cancelled automatically" in texts[-1]


async def test_an_order_paid_for_is_not_cancelled(book: OrderBook, store: Store, clock: FakeClock):
    placed = await book.place(await new_order(store))
    await book.submit_payment(placed.number, bank="BCA", amount=199_000, sender_name="Alice")
    clock.advance(days=10)
    assert await book.sweep_unpaid() == type(await book.sweep_unpaid())()
    assert (await book.get(placed.number)).status == OrderStatus.PAYMENT_SUBMITTED  # type: ignore[union-attr]


async def test_a_short_deadline_cancels_without_a_late_reminder(store: Store, tmp_path, clock: FakeClock):
    from tests.orders.conftest import make_shop

    book = make_book(store, make_shop(tmp_path, payment_reminder_hours=0))
    await book.sync_stock()
    placed = await book.place(await new_order(store))
    clock.advance(days=2, hours=23)
    assert (await book.sweep_unpaid()).reminded == ()
    clock.advance(hours=2)
    assert (await book.sweep_unpaid()).cancelled == (placed.number,)


async def test_two_sweepers_at_once_never_double_remind_or_cancel(db_url: str, shop, clock: FakeClock):
    a, b = await Store.open(db_url, now=clock), await Store.open(db_url, now=clock)
    try:
        book_a, book_b = make_book(a, shop), make_book(b, shop)
        await book_a.sync_stock()
        numbers = []
        for i in range(6):
            order = await new_order(a, f"cust{i}", line("KMJ-01-M" if i < 5 else "TAS-01", 1), key=f"k{i}")
            numbers.append((await book_a.place(order)).number)
        clock.advance(days=2, hours=6)
        first = await asyncio.gather(book_a.sweep_unpaid(), book_b.sweep_unpaid(), book_a.sweep_unpaid())
        reminded = [n for s in first for n in s.reminded]
        assert sorted(reminded) == sorted(numbers)
        clock.advance(days=1)
        second = await asyncio.gather(book_a.sweep_unpaid(), book_b.sweep_unpaid())
        cancelled = [n for s in second for n in s.cancelled]
        assert sorted(cancelled) == sorted(numbers)
        assert await book_a.available(["KMJ-01-M", "TAS-01"]) == {"KMJ-01-M": 5, "TAS-01": 2}
        for order in await book_a.list():
            assert len(order.events) == 2
            texts = await _bot_texts(a, order.conversation_id)  # type: ignore[arg-type]
            assert len(texts) == 2  # one reminder, one cancellation
    finally:
        await a.close()
        await b.close()


async def test_admin_changes_are_pushed_to_the_customer(book: OrderBook, store: Store):
    placed = await book.place(await new_order(store, "alice", line("KMJ-01-M")))
    n, conv = placed.number, placed.conversation_id
    assert conv is not None
    await book.submit_payment(n, bank="BCA", amount=199_000, sender_name="Alice")
    assert await _bot_texts(store, conv) == []  # the customer's own step: the chat answers it
    await book.verify_payment(n, "admin:budi", note="Terima kasih")
    await book.ship(n, "admin:budi", "JNE0123456789")
    await book.deliver(n, "admin:budi")
    texts = await _bot_texts(store, conv)
    assert len(texts) == 3
    assert n in texts[0] and "sudah kami terima" in texts[0] and "Terima kasih" in texts[0]
    assert "JNE REG" in texts[1] and "JNE0123456789" in texts[1]
    assert "sudah sampai" in texts[2] and "Toko Uji" in texts[2]
    stored = await store.messages(conv)
    assert [m.seq for m in stored] == [1, 2, 3]
    assert stored[1].buttons == [{"title": "Cek status pesanan", "payload": "/order_status"}]


async def test_rejection_and_cancellation_messages(book: OrderBook, store: Store):
    placed = await book.place(await new_order(store, "alice", line("KMJ-01-M")))
    n, conv = placed.number, placed.conversation_id
    await book.submit_payment(n, bank="BCA", amount=19_900, sender_name="Alice")
    await book.reject_payment(n, "admin:budi", "Nominal transfer kurang <b>Rp179.100</b>")
    await book.submit_payment(n, bank="BCA", amount=199_000, sender_name="Alice")
    await book.verify_payment(n, "admin:budi")
    await book.cancel(n, "admin:budi", reason="Stok ternyata cacat")
    texts = await _bot_texts(store, conv)  # type: ignore[arg-type]
    assert "Nominal transfer kurang <b>Rp179.100</b>" in texts[0]  # stored literally
    assert "sudah transfer" in texts[0]
    assert "Stok ternyata cacat" in texts[2] and "pengembalian dana" in texts[2]
    # The customer cancelling in the chat is not told by a push (the chat replies).
    other = await book.place(await new_order(store, "bob", line("KMJ-01-M")))
    await book.cancel(other.number, "customer")
    assert await _bot_texts(store, other.conversation_id) == []  # type: ignore[arg-type]


async def test_push_goes_to_a_new_conversation_when_the_last_was_resolved(store: Store):
    from bot.store import ConversationChanges

    first = await store.open_conversation("widget", "v1", "id")
    await store.record_turn(first.id, NewMessage("customer", "halo"), [], ConversationChanges(status="resolved"))
    conversation, message = await store.push_message("widget", "v1", NewMessage("bot", "Pesanan dikirim"))
    assert conversation.id != first.id and conversation.customer_id == first.customer_id
    assert (message.seq, message.conversation_id) == (1, conversation.id)
    again, second = await store.push_message("widget", "v1", NewMessage("bot", "Lagi"))
    assert (again.id, second.seq) == (conversation.id, 2)


async def test_relay_publishes_each_pushed_message_once(db_url: str, clock: FakeClock):
    a, b = await Store.open(db_url, now=clock), await Store.open(db_url, now=clock)
    bus = LocalBus()
    try:
        pushed = [
            await a.push_message("rest", f"c{i}", NewMessage("bot", f"pesan {i}")) for i in range(5)
        ]
        conv_id = pushed[0][0].id
        async with bus.subscribe(channel_topic("rest")) as on_channel, bus.subscribe(
            conversation_topic(conv_id)
        ) as on_conversation:
            relay_a, relay_b = Relay(a, bus), Relay(b, bus)
            counts = await asyncio.gather(relay_a.relay_once(), relay_b.relay_once(), relay_a.relay_once())
            assert sum(counts) == 5
            assert await relay_a.relay_once() == 0
            events = [on_channel.get() for _ in range(5)]  # type: ignore[attr-defined]
            got = [await asyncio.wait_for(e, 5) for e in events]
            assert sorted(e["text"] for e in got) == [f"pesan {i}" for i in range(5)]
            assert {e["external_id"] for e in got} == {f"c{i}" for i in range(5)}
            assert all(e["pushed"] and e["type"] == "message" and e["channel"] == "rest" for e in got)
            first = await asyncio.wait_for(on_conversation.get(), 5)
            assert (first["conversation_id"], first["seq"], first["text"]) == (conv_id, 1, "pesan 0")
            assert on_channel.queue.empty()  # type: ignore[attr-defined]
    finally:
        await a.close()
        await b.close()


async def test_running_relay_is_woken_by_a_push(store: Store):
    bus = LocalBus()
    relay = Relay(store, bus, poll_seconds=3600)  # only the kick can wake it in time
    relay.start()
    try:
        async with bus.subscribe(channel_topic("widget")) as sub:
            await asyncio.sleep(0)  # let the relay's first (empty) pass run
            await store.push_message("widget", "visitor", NewMessage("bot", "Paket dikirim"))
            event = await asyncio.wait_for(sub.get(), 10)
            assert event["text"] == "Paket dikirim" and event["external_id"] == "visitor"
    finally:
        await relay.stop()

"""The order book on a SQLite file and on PostgreSQL: placing, numbers, money, stock, history."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.orders.book import InvalidInput, OrderBook
from bot.orders.records import (
    InvalidTransition,
    OrderNotFound,
    OrderStatus,
    OutOfStock,
)
from bot.store import Store
from bot.store.testing import FakeClock
from tests.orders.conftest import TAS, line, make_book, make_shop, new_order


async def test_place_creates_a_numbered_order_with_integer_totals(book: OrderBook, store: Store, clock: FakeClock):
    order = await new_order(store, "alice", line("KMJ-01-M", 2), line("TAS-01", 1, 245_000))
    placed = await book.place(order)

    assert placed.number == "SP-2025-000001"
    assert placed.status == OrderStatus.PENDING_PAYMENT
    assert placed.subtotal == 2 * 189_000 + 245_000
    assert placed.shipping_cost == 10_000
    assert placed.total == placed.subtotal + 10_000
    for value in (placed.subtotal, placed.total, placed.shipping_cost, *(l.unit_price for l in placed.lines)):
        assert type(value) is int
    assert [l.sku for l in placed.lines] == ["KMJ-01-M", "TAS-01"]
    assert placed.lines[0].options == {"size": "M"}
    assert placed.payment_due_at == clock.now + timedelta(days=3)
    assert placed.created_at == clock.now
    assert [(e.actor, e.from_status, e.to_status) for e in placed.events] == [
        ("customer", None, OrderStatus.PENDING_PAYMENT)
    ]
    assert placed.events[0].at == clock.now
    assert await book.available(["KMJ-01-M", "TAS-01", "NOPE"]) == {"KMJ-01-M": 3, "TAS-01": 1, "NOPE": 0}

    second = await book.place(await new_order(store, "bob", line("KMJ-01-M")))
    assert second.number == "SP-2025-000002"
    assert (await book.get(" sp-2025-000002 ")).id == second.id  # type: ignore[union-attr]
    assert await book.get("SP-2025-999999") is None
    for spelling in ("sp2025000002", "SP 2025 000002", "sp-2025-000002\n", "SP/2025/000002"):
        assert (await book.get(spelling)).number == second.number  # type: ignore[union-attr]


async def test_numbers_restart_each_year_in_the_shops_time_zone(book: OrderBook, store: Store, clock: FakeClock):
    clock.now = datetime(2025, 12, 31, 16, 30, tzinfo=UTC)  # 23:30 WIB
    first = await book.place(await new_order(store, "alice", line("KMJ-01-M")))
    clock.now = datetime(2025, 12, 31, 17, 30, tzinfo=UTC)  # 00:30 WIB on 1 January
    second = await book.place(await new_order(store, "bob", line("KMJ-01-M")))
    assert (first.number, second.number) == ("SP-2025-000001", "SP-2026-000001")


async def test_deadline_from_shop_hours(store: Store, tmp_path: Path, clock: FakeClock):
    book = make_book(store, make_shop(tmp_path, payment_deadline_days=0, payment_deadline_hours=12))
    await book.sync_stock()
    placed = await book.place(await new_order(store))
    assert placed.payment_due_at == clock.now + timedelta(hours=12)


async def test_same_source_key_places_one_order_even_concurrently(book: OrderBook, store: Store, count_rows):
    order = await new_order(store, "alice", line("KMJ-01-M", 2), key="rest:alice:confirm-1")
    results = await asyncio.gather(*(book.place(order) for _ in range(5)))
    assert len({r.number for r in results}) == 1
    again = await book.place(order)
    assert again.number == results[0].number
    assert await count_rows("orders") == 1
    assert await book.available(["KMJ-01-M"]) == {"KMJ-01-M": 3}  # reserved once


async def test_same_source_key_across_two_stores(db_url: str, shop, clock: FakeClock, count_rows):
    """Two processes (two stores on one database) confirming the same cart: one order."""
    a, b = await Store.open(db_url, now=clock), await Store.open(db_url, now=clock)
    try:
        book_a, book_b = make_book(a, shop), make_book(b, shop)
        await book_a.sync_stock()
        order = await new_order(a, "alice", line("KMJ-01-M"), key="same-key")
        results = await asyncio.gather(book_a.place(order), book_b.place(order))
        assert results[0].number == results[1].number
        assert await count_rows("orders") == 1
        assert await book_a.available(["KMJ-01-M"]) == {"KMJ-01-M": 4}
    finally:
        await a.close()
        await b.close()


async def test_the_last_unit_goes_to_exactly_one_customer(book: OrderBook, store: Store, count_rows):
    alice = await new_order(store, "alice", line("KMJ-01-L"))
    bob = await new_order(store, "bob", line("KMJ-01-L"))
    results = await asyncio.gather(book.place(alice), book.place(bob), return_exceptions=True)
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], OutOfStock)
    assert [(s.sku, s.asked, s.available) for s in lost[0].shortages] == [("KMJ-01-L", 1, 0)]
    assert await book.available(["KMJ-01-L"]) == {"KMJ-01-L": 0}
    assert await count_rows("orders") == 1


async def test_the_last_unit_across_two_stores(db_url: str, shop, clock: FakeClock, count_rows):
    """Like two worker processes: separate stores (connections, writers) on one database."""
    a, b = await Store.open(db_url, now=clock), await Store.open(db_url, now=clock)
    try:
        book_a, book_b = make_book(a, shop), make_book(b, shop)
        await book_a.sync_stock()
        await book_b.sync_stock()  # a second worker starting: no double stock
        for round_ in range(3):  # TAS-01 has 2 units: two rounds win, the third finds none
            alice = await new_order(a, f"alice{round_}", line("TAS-01", 1, 245_000))
            bob = await new_order(b, f"bob{round_}", line("TAS-01", 1, 245_000))
            await asyncio.gather(book_a.place(alice), book_b.place(bob), return_exceptions=True)
        assert await book_a.available(["TAS-01"]) == {"TAS-01": 0}
        assert await count_rows("orders") == 2
        stock = await a.read(_stock_row, "TAS-01")
        assert stock == (2, 2)  # on_hand, reserved
    finally:
        await a.close()
        await b.close()


def _stock_row(conn, sku):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from bot.store.models import stock_levels

    row = conn.execute(
        select(stock_levels.c.on_hand, stock_levels.c.reserved).where(stock_levels.c.sku == sku)
    ).one()
    return tuple(row)


async def test_out_of_stock_lists_every_short_line_and_writes_nothing(book: OrderBook, store: Store, count_rows):
    order = await new_order(store, "alice", line("KMJ-01-M", 1), line("KMJ-01-L", 3), line("TAS-01", 5, 245_000))
    with pytest.raises(OutOfStock) as caught:
        await book.place(order)
    assert sorted((s.sku, s.name, s.asked, s.available) for s in caught.value.shortages) == [
        ("KMJ-01-L", "Kemeja Batik Parang", 3, 1),
        ("TAS-01", "Tas Rotan Bulat", 5, 2),
    ]
    assert await count_rows("orders") == 0
    assert await book.available(["KMJ-01-M", "KMJ-01-L", "TAS-01"]) == {"KMJ-01-M": 5, "KMJ-01-L": 1, "TAS-01": 2}


async def test_two_lines_of_one_sku_count_together(book: OrderBook, store: Store):
    with pytest.raises(OutOfStock) as caught:
        await book.place(await new_order(store, "alice", line("TAS-01", 1, 245_000), line("TAS-01", 2, 245_000)))
    assert [(s.asked, s.available) for s in caught.value.shortages] == [(3, 2)]


async def test_malformed_orders_are_refused(book: OrderBook, store: Store):
    order = await new_order(store)
    with pytest.raises(InvalidInput):
        await book.place(replace(order, lines=(replace(line(), unit_price=189_000.0),)))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        await book.place(replace(order, lines=(replace(line(), quantity=0),)))
    with pytest.raises(InvalidInput):
        await book.place(replace(order, lines=()))
    with pytest.raises(InvalidInput):
        await book.place(replace(order, payment_method="cod"))
    with pytest.raises(InvalidInput):
        await book.place(replace(order, shipping_cost=-1))


async def test_full_path_records_every_change_with_actor_and_time(book: OrderBook, store: Store, clock: FakeClock):
    placed = await book.place(await new_order(store, "alice", line("KMJ-01-M", 2)))
    n = placed.number
    clock.advance(hours=1)
    submitted = await book.submit_payment(n, bank="BCA", amount=388_000, sender_name="Alice", proof_url="/widget/uploads/abc")
    assert submitted.status == OrderStatus.PAYMENT_SUBMITTED
    assert [(p.bank, p.amount, p.sender_name, p.proof_url, p.verdict) for p in submitted.payments] == [
        ("BCA", 388_000, "Alice", "/widget/uploads/abc", None)
    ]
    clock.advance(hours=1)
    paid = await book.verify_payment(n, "admin:budi", note="masuk BCA")
    assert paid.status == OrderStatus.PAID
    assert paid.payments[0].verdict == "verified" and paid.payments[0].verdict_by == "admin:budi"
    clock.advance(hours=1)
    shipped = await book.ship(n, "admin:budi", "JP1234567890", courier="J&T EZ")
    assert (shipped.status, shipped.tracking_number, shipped.courier_name) == ("shipped", "JP1234567890", "J&T EZ")
    assert await store.read(_stock_row, "KMJ-01-M") == (3, 0)  # left the shelf when shipped
    clock.advance(days=2)
    delivered = await book.deliver(n, "cli:root")
    assert [(e.actor, e.from_status, e.to_status) for e in delivered.events] == [
        ("customer", None, "pending_payment"),
        ("customer", "pending_payment", "payment_submitted"),
        ("admin:budi", "payment_submitted", "paid"),
        ("admin:budi", "paid", "shipped"),
        ("cli:root", "shipped", "delivered"),
    ]
    times = [e.at for e in delivered.events]
    assert times == sorted(times) and times[-1] == clock.now
    assert delivered.events[2].note == "masuk BCA"
    assert await store.read(_stock_row, "KMJ-01-M") == (3, 0)


async def test_invalid_transitions_are_refused_and_change_nothing(book: OrderBook, store: Store):
    placed = await book.place(await new_order(store))
    n = placed.number
    with pytest.raises(InvalidTransition) as caught:
        await book.ship(n, "admin:budi", "JP1")
    assert (caught.value.status, caught.value.number) == ("pending_payment", n)
    with pytest.raises(InvalidTransition):
        await book.verify_payment(n, "admin:budi")
    with pytest.raises(InvalidTransition):
        await book.deliver(n, "admin:budi")
    with pytest.raises(OrderNotFound):
        await book.cancel("SP-2025-424242", "admin:budi")
    await book.cancel(n, "admin:budi", reason="stok rusak")
    for attempt in (
        book.cancel(n, "admin:budi"),
        book.submit_payment(n, bank="BCA", amount=1, sender_name="x"),
        book.verify_payment(n, "admin:budi"),
    ):
        with pytest.raises(InvalidTransition):
            await attempt
    record = await book.get(n)
    assert record is not None and len(record.events) == 2


async def test_cannot_cancel_after_shipping(book: OrderBook, store: Store):
    n = (await book.place(await new_order(store))).number
    await book.submit_payment(n, bank="BCA", amount=199_000, sender_name="A")
    await book.verify_payment(n, "admin:x")
    await book.ship(n, "admin:x", "RESI1")
    with pytest.raises(InvalidTransition):
        await book.cancel(n, "admin:x")


async def test_cancel_releases_reserved_stock(book: OrderBook, store: Store):
    n = (await book.place(await new_order(store, "alice", line("KMJ-01-L")))).number
    assert await book.available(["KMJ-01-L"]) == {"KMJ-01-L": 0}
    cancelled = await book.cancel(n, "admin:budi", reason="pembeli minta batal")
    assert cancelled.status == OrderStatus.CANCELLED
    assert cancelled.events[-1].note == "pembeli minta batal"
    assert await book.available(["KMJ-01-L"]) == {"KMJ-01-L": 1}
    assert await store.read(_stock_row, "KMJ-01-L") == (1, 0)
    # A paid order can be cancelled too, and gives its units back.
    n2 = (await book.place(await new_order(store, "bob", line("KMJ-01-L")))).number
    await book.submit_payment(n2, bank="BCA", amount=199_000, sender_name="Bob")
    await book.verify_payment(n2, "admin:budi")
    await book.cancel(n2, "admin:budi")
    assert await book.available(["KMJ-01-L"]) == {"KMJ-01-L": 1}


async def test_rejected_payment_goes_back_and_the_deadline_leaves_a_day(book: OrderBook, store: Store, clock: FakeClock):
    placed = await book.place(await new_order(store))
    n = placed.number
    clock.advance(days=2, hours=20)  # 4 hours before the deadline
    await book.submit_payment(n, bank="BCA", amount=1_000, sender_name="Alice")
    rejected = await book.reject_payment(n, "admin:budi", "Nominal Rp1.000 tidak sesuai total")
    assert rejected.status == OrderStatus.PENDING_PAYMENT
    assert rejected.payment_due_at == clock.now + timedelta(hours=24)
    assert rejected.payments[0].verdict == "rejected"
    assert rejected.payments[0].verdict_note == "Nominal Rp1.000 tidak sesuai total"
    # Resubmitting works; twice in a row too (the customer corrects themselves).
    await book.submit_payment(n, bank="BCA", amount=199_000, sender_name="Alice")
    again = await book.submit_payment(n, bank="Mandiri", amount=199_000, sender_name="Alice")
    assert again.status == OrderStatus.PAYMENT_SUBMITTED and len(again.payments) == 3
    # Early rejection keeps the longer original deadline.
    other = await book.place(await new_order(store, "bob", line("KMJ-01-M")))
    await book.submit_payment(other.number, bank="BCA", amount=1, sender_name="Bob")
    kept = await book.reject_payment(other.number, "admin:budi", "belum masuk")
    assert kept.payment_due_at == other.payment_due_at


async def test_search_matches_number_name_phone_and_email_literally(book: OrderBook, store: Store):
    from dataclasses import replace

    plain = await book.place(await new_order(store, "budi santoso", line("KMJ-01-M"), key="s-1"))
    odd = await book.place(
        replace(await new_order(store, "100%_diskon", line("KMJ-01-M"), key="s-2"), phone="085700001111", email="Tia@Mail.example")
    )

    async def found(text: str) -> set[str]:
        return {o.number for o in await book.list(search=text)}

    assert await found("BUDI") == {plain.number}  # any case, on PostgreSQL too
    assert await found(odd.number[-4:]) == {odd.number}
    assert await found("+62 857-0000-1111") == {odd.number}
    assert await found("tia@mail") == {odd.number}
    assert await found("%") == {odd.number}  # the name has a "%": literal, not a wildcard
    assert await found("0_") == set()
    assert await found("   ") == {plain.number, odd.number}  # no words: no filter
    with pytest.raises(InvalidInput):
        await book.list(search="x" * 201)


async def test_submit_payment_checks_its_fields(book: OrderBook, store: Store):
    n = (await book.place(await new_order(store))).number
    for kwargs in (
        {"bank": "", "amount": 1, "sender_name": "A"},
        {"bank": "BCA", "amount": 0, "sender_name": "A"},
        {"bank": "BCA", "amount": 1.5, "sender_name": "A"},
        {"bank": "BCA", "amount": True, "sender_name": "A"},
        {"bank": "BCA", "amount": 1, "sender_name": "x" * 300},
    ):
        with pytest.raises(InvalidInput):
            await book.submit_payment(n, **kwargs)  # type: ignore[arg-type]


async def test_lists_newest_first(book: OrderBook, store: Store, clock: FakeClock):
    numbers = []
    for who in ("alice", "bob", "alice"):
        clock.advance(minutes=1)
        order = await new_order(store, who, line("KMJ-01-M"), key=f"k-{len(numbers)}")
        numbers.append((await book.place(order)).number)
    await book.cancel(numbers[1], "admin:x")
    assert [o.number for o in await book.list()] == numbers[::-1]
    assert [o.number for o in await book.list(status="cancelled")] == [numbers[1]]
    assert [o.number for o in await book.list(limit=1, offset=1)] == [numbers[1]]
    alice = await store.open_conversation("rest", "alice", None)
    assert [o.number for o in await book.for_customer(alice.customer_id)] == [numbers[2], numbers[0]]
    assert [o.number for o in await book.for_identity("rest", "alice")] == [numbers[2], numbers[0]]
    assert await book.for_identity("rest", "nobody") == []
    with pytest.raises(InvalidInput):
        await book.list(status="lost")


async def test_sync_stock_applies_catalog_changes_as_differences(store: Store, tmp_path: Path):
    book = make_book(store, make_shop(tmp_path))
    assert await book.sync_stock() == {"KMJ-01-M": 5, "KMJ-01-L": 1, "TAS-01": 2}
    assert await book.sync_stock() == {}  # unchanged catalog, nothing to do
    n = (await book.place(await new_order(store, "alice", line("TAS-01", 2, 245_000)))).number
    await book.submit_payment(n, bank="BCA", amount=500_000, sender_name="A")
    await book.verify_payment(n, "admin:x")
    await book.ship(n, "admin:x", "R1")  # on_hand 0
    await book.place(await new_order(store, "bob", line("KMJ-01-M", 2)))  # 2 of 5 reserved

    # The admin restocks 10 bags and corrects the M shirts from 5 down to 4.
    restocked = make_shop(tmp_path, products=(_with_stock(TAS, 12), _shirt_with(m=4)))
    book2 = make_book(store, restocked)
    assert await book2.sync_stock() == {"TAS-01": 10, "KMJ-01-M": -1}
    assert await book2.available(["TAS-01", "KMJ-01-M", "KMJ-01-L"]) == {"TAS-01": 10, "KMJ-01-M": 2, "KMJ-01-L": 1}
    assert await store.read(_stock_row, "KMJ-01-M") == (4, 2)
    # Two workers starting with the same file apply it once.
    await asyncio.gather(book2.sync_stock(), make_book(store, restocked).sync_stock())
    assert await book2.available(["TAS-01"]) == {"TAS-01": 10}


def _with_stock(product, stock):  # type: ignore[no-untyped-def]
    return replace(product, stock=stock)


def _shirt_with(m: int):  # type: ignore[no-untyped-def]
    from tests.orders.conftest import KEMEJA

    return replace(KEMEJA, variants=(replace(KEMEJA.variants[0], stock=m), KEMEJA.variants[1]))


async def test_the_tracking_link_works_for_a_number_typed_with_spaces(book: OrderBook, store: Store):
    from dataclasses import replace

    placed = await book.place(await new_order(store, "tina", line("KMJ-01-M", 1)))
    book.notices.tracking_urls["jnt-ez"] = "https://cekresi.com/?noresi={tracking_number}"
    order = replace(placed, courier="jnt-ez", tracking_number="JP 0012 3456#78")
    text = book.notices.shipped(order).text
    assert "JP 0012 3456#78" in text  # shown as the admin typed it
    assert "https://cekresi.com/?noresi=JP00123456%2378" in text

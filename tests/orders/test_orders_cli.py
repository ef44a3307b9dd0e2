"""`sapa agent add` and `sapa order ...` as an operator runs them: subprocesses on a SQLite file."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.accounts import authenticate, get_agent
from bot.flows.context import shop_name
from bot.orders.book import OrderBook
from bot.orders.records import NewOrder, OrderRecord, PaymentMethod
from bot.shopdata.loader import load_shop
from bot.store import Store
from bot.texts import Texts
from tests.orders.conftest import copy_demo, demo_line, sapa_cli


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("orders-cli")
    copy_demo(root / "data")
    yield root


def run(workdir: Path, *args: str, **env: str):  # type: ignore[no-untyped-def]
    return sapa_cli(*args, cwd=workdir, **env)


def order_cmd(workdir: Path, *args: str, **env: str):  # type: ignore[no-untyped-def]
    return sapa_cli("order", *args, "--data-dir", "data", cwd=workdir, **env)


def with_book(workdir: Path, fn):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        store = await Store.open(f"sqlite+aiosqlite:///{workdir / 'sapa.db'}")
        shop = load_shop(workdir / "data")
        try:
            return await fn(OrderBook(store, shop, Texts.load(shop.texts, shop_name=shop_name(shop))))
        finally:
            await store.close()

    return asyncio.run(go())


def place(workdir: Path, who: str, *, paid: bool = False) -> OrderRecord:
    async def go(book: OrderBook) -> OrderRecord:
        await book.sync_stock()  # as `sapa run` does on start
        conversation = await book.store.open_conversation("rest", who, "id")
        order = await book.place(
            NewOrder(
                lines=(demo_line(book.shop),),
                customer_name=who.title(),
                phone="081234567890",
                address="Jl. Pemuda No. 7",
                city="Semarang",
                courier="sicepat-reg",
                courier_name="SiCepat REG",
                shipping_cost=9_000,
                payment_method=PaymentMethod.BANK_TRANSFER,
                lang="id",
                channel="rest",
                external_id=who,
                customer_id=conversation.customer_id,
                conversation_id=conversation.id,
                source_key=f"cli-test-{who}",
            )
        )
        if paid:
            order = await book.submit_payment(order.number, bank="Mandiri", amount=order.total, sender_name=who)
        return order

    return with_book(workdir, go)


def test_agent_add(workdir: Path):
    done = run(workdir, "agent", "add", "Dewi", "--role", "admin", "--name", "Dewi Lestari", SAPA_AGENT_PASSWORD="Kopi-Tubruk-Solo-9")
    assert done.returncode == 0, done.stderr
    assert "admin 'dewi'" in done.stdout

    again = run(workdir, "agent", "add", "dewi", "--role", "agent", SAPA_AGENT_PASSWORD="Another-Good-One-1")
    assert again.returncode == 1 and "taken" in again.stderr

    for weak in ("", "pendek"):
        refused = run(workdir, "agent", "add", "weak", "--role", "agent", SAPA_AGENT_PASSWORD=weak)
        assert refused.returncode == 1, weak
        assert "password" in refused.stderr and "Nothing was created" in refused.stderr

    bad_name = run(workdir, "agent", "add", "no spaces", "--role", "agent", SAPA_AGENT_PASSWORD="Kopi-Tubruk-Solo-9")
    assert bad_name.returncode == 1 and "username" in bad_name.stderr

    # No environment variable and no terminal: the password is read from stdin.
    piped = sapa_cli("agent", "add", "eko", "--role", "agent", cwd=workdir, stdin="Wedang-Jahe-Hangat\n")
    assert piped.returncode == 0, piped.stderr

    async def check(book: OrderBook) -> None:
        dewi = await get_agent(book.store, "dewi")
        assert dewi is not None and (dewi.role, dewi.display_name, dewi.active) == ("admin", "Dewi Lestari", True)
        assert await authenticate(book.store, "Dewi", "Kopi-Tubruk-Solo-9") is not None
        assert await authenticate(book.store, "dewi", "kopi-tubruk-solo-9") is None
        assert (await authenticate(book.store, "eko", "Wedang-Jahe-Hangat")).role == "agent"  # type: ignore[union-attr]
        assert await get_agent(book.store, "weak") is None

    with_book(workdir, check)
    raw = (workdir / "sapa.db").read_bytes()
    assert b"Kopi-Tubruk-Solo-9" not in raw and b"$argon2id$" in raw


def test_order_commands(workdir: Path):
    order = place(workdir, "wati", paid=True)
    n = order.number

    listed = order_cmd(workdir, "list")
    assert listed.returncode == 0 and n in listed.stdout and "payment_submitted" in listed.stdout
    assert n not in order_cmd(workdir, "list", "--status", "paid").stdout

    shown = order_cmd(workdir, "show", n.lower())
    assert shown.returncode == 0
    assert f"Order {n} — payment_submitted" in shown.stdout and "Mandiri" in shown.stdout
    assert "Rp" in shown.stdout and "SiCepat REG" in shown.stdout

    rejected = order_cmd(workdir, "reject", n, "--reason", "Nama pengirim beda")
    assert rejected.returncode == 0 and "pending_payment" in rejected.stdout
    # REST cannot push: the operator is told when the customer hears of it.
    assert "told on rest" not in rejected.stdout
    assert "with the answer to their next message" in rejected.stdout, rejected.stdout

    not_yet = order_cmd(workdir, "ship", n, "--tracking", "000111")
    assert not_yet.returncode == 1 and "pending_payment" in not_yet.stderr

    async def pay_again(book: OrderBook) -> None:
        await book.submit_payment(n, bank="Mandiri", amount=order.total, sender_name="Wati")

    with_book(workdir, pay_again)
    assert order_cmd(workdir, "verify", n, "--note", "sudah masuk", USER="ani").returncode == 0
    shipped = order_cmd(workdir, "ship", n, "--tracking", "004400112233", "--courier", "JNE YES")
    assert shipped.returncode == 0 and f"{n} is now shipped" in shipped.stdout
    assert order_cmd(workdir, "deliver", n).returncode == 0
    again = order_cmd(workdir, "deliver", n)
    assert again.returncode == 1 and again.stderr.strip() == f"sapa: {n} is delivered; cannot deliver it", again.stderr
    cannot = order_cmd(workdir, "cancel", n)
    assert cannot.returncode == 1 and "delivered" in cannot.stderr

    unknown = order_cmd(workdir, "show", "SP-1999-000001")
    assert unknown.returncode == 1 and "no order SP-1999-000001" in unknown.stderr
    assert order_cmd(workdir, "verify", "SP-1999-000001").returncode == 1
    too_long = order_cmd(workdir, "cancel", place(workdir, "yani").number, "--reason", "x" * 600)
    assert too_long.returncode == 1 and "reason" in too_long.stderr

    async def history(book: OrderBook):  # type: ignore[no-untyped-def]
        return await book.get(n)

    record = with_book(workdir, history)
    operator = "cli:" + (os.environ.get("USER") or "operator")
    assert [e.actor for e in record.events] == [
        "customer", "customer", operator, "customer", "cli:ani", operator, operator
    ]
    assert record.events[-3].note == "sudah masuk"
    assert record.courier_name == "JNE YES" and record.courier == "jne-yes"
    texts = with_book(workdir, lambda book: book.store.messages(record.conversation_id))
    assert any("Nama pengirim beda" in m.text for m in texts)
    assert any("004400112233" in m.text for m in texts)


def test_order_sweep_with_a_given_time(workdir: Path):
    order = place(workdir, "tono")
    due = order.payment_due_at
    early = order_cmd(workdir, "sweep", "--now", (due - timedelta(days=2)).isoformat())
    assert early.returncode == 0 and order.number not in early.stdout

    remind = order_cmd(workdir, "sweep", "--now", (due - timedelta(hours=3)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    assert remind.returncode == 0
    assert order.number in remind.stdout.splitlines()[0]  # "Reminded: ..."

    cancel = order_cmd(workdir, "sweep", "--now", (due + timedelta(minutes=5)).isoformat())
    assert cancel.returncode == 0 and order.number in cancel.stdout.splitlines()[1]
    again = order_cmd(workdir, "sweep", "--now", (due + timedelta(minutes=6)).isoformat())
    assert order.number not in again.stdout

    bad = order_cmd(workdir, "sweep", "--now", "kemarin")
    assert bad.returncode == 2 and "ISO-8601" in bad.stderr and "usage:" in bad.stderr  # a usage error

    async def check(book: OrderBook) -> None:
        record = await book.get(order.number)
        assert record is not None and record.status == "cancelled"
        assert record.events[-1].actor == "system"
        assert record.events[-1].at == due + timedelta(minutes=5)
        texts = [m.text for m in await book.store.messages(record.conversation_id)]  # type: ignore[arg-type]
        assert any("mengingatkan" in t for t in texts) and any("batalkan otomatis" in t for t in texts)

    with_book(workdir, check)


@pytest.mark.parametrize(
    "weak", ["", "   ", "pendek", "xy-weak-2026!", "dewi-dewi-dewi-", "aaaaaaaaaaaa", "password123", "x" * 300]
)
def test_weak_passwords_are_refused(weak: str):
    from bot.accounts import WeakPassword, check_password

    with pytest.raises(WeakPassword):
        check_password(weak, "weak")
    check_password("Kopi-Tubruk-Solo-9", "weak")


def test_parse_now():
    from bot.cli_orders import parse_now

    assert parse_now("2026-03-05T14:00:00+07:00") == datetime(2026, 3, 5, 7, 0, tzinfo=UTC)
    assert parse_now("2026-03-05T07:00:00Z") == datetime(2026, 3, 5, 7, 0, tzinfo=UTC)
    assert parse_now("2026-03-05 07:00") == datetime(2026, 3, 5, 7, 0, tzinfo=UTC)

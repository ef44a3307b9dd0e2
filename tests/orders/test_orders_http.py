"""The admin API against a running `sapa run`: auth, the verify → ship → deliver path seen live
in a widget tab, bad input, and a `sapa order` command in a shell reaching the same tab."""

from __future__ import annotations

import base64
import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.flows.context import shop_name
from bot.orders.book import OrderBook
from bot.orders.records import NewOrder, OrderRecord, PaymentMethod
from bot.shopdata.loader import load_shop
from bot.shopdata.model import ShopData
from bot.store import Store
from bot.texts import Texts
from tests.conftest import RunningServer, start_server
from tests.orders.conftest import ADMIN_PASSWORD, AGENT_PASSWORD, copy_demo, demo_line, sapa_cli
from tests.widget.conftest import Tab

API = "/api/admin/orders"


@dataclass
class OrdersServer:
    server: RunningServer
    workdir: Path
    data: Path
    shop: ShopData

    @property
    def base(self) -> str:
        return self.server.base

    @property
    def db_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.workdir / 'sapa.db'}"


@pytest.fixture(scope="module")
def orders_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrdersServer]:
    workdir = tmp_path_factory.mktemp("orders-server")
    data = copy_demo(workdir / "data")
    server = start_server(workdir, data)
    try:
        for name, role, password in (("budi", "admin", ADMIN_PASSWORD), ("sari", "agent", AGENT_PASSWORD)):
            done = sapa_cli("agent", "add", name, "--role", role, cwd=workdir, SAPA_AGENT_PASSWORD=password)
            assert done.returncode == 0, done.stderr
        yield OrdersServer(server, workdir, data, load_shop(data))
    finally:
        server.stop()


@pytest.fixture
async def book(orders_server: OrdersServer) -> AsyncIterator[OrderBook]:
    """An order book of our own on the server's database (a second process, in effect)."""
    store = await Store.open(orders_server.db_url)
    shop = orders_server.shop
    try:
        yield OrderBook(store, shop, Texts.load(shop.texts, shop_name=shop_name(shop)))
    finally:
        await store.close()


def basic(username: str, password: str, **headers: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", **headers}


ADMIN = basic("budi", ADMIN_PASSWORD)
AGENT = basic("sari", AGENT_PASSWORD)
_keys = itertools.count()


async def place_for(book: OrderBook, channel: str, external_id: str, *, lang: str = "id") -> OrderRecord:
    conversation = await book.store.open_conversation(channel, external_id, lang)
    return await book.place(
        NewOrder(
            lines=(demo_line(book.shop),),
            customer_name="Rina Wulandari",
            phone="081298765432",
            address="Jl. Kaliurang KM 5 No. 12",
            city="Yogyakarta",
            courier="jne-reg",
            courier_name="JNE REG",
            shipping_cost=10_000,
            payment_method=PaymentMethod.BANK_TRANSFER,
            lang=lang,
            channel=channel,
            external_id=external_id,
            customer_id=conversation.customer_id,
            conversation_id=conversation.id,
            source_key=f"test-http-{next(_keys)}-{external_id}",
        )
    )


async def paid_in(book: OrderBook, order: OrderRecord) -> None:
    await book.submit_payment(order.number, bank="BCA", amount=order.total, sender_name="Rina W", proof_url="/widget/uploads/x.jpg")


async def post(http: aiohttp.ClientSession, url: str, body: object = None, **kwargs: object) -> tuple[int, dict]:
    async with http.post(url, json=body if body is not None else {}, **kwargs) as r:  # type: ignore[arg-type]
        return r.status, await r.json()


async def widget_tab(server: OrdersServer, http: aiohttp.ClientSession) -> tuple[str, Tab]:
    async with http.post(server.base + "/widget/session", json={"token": None}) as r:
        session = await r.json()
    ws = await http.ws_connect(
        server.base.replace("http://", "ws://") + f"/widget/ws?token={session['token']}", heartbeat=None
    )
    tab = Tab(ws)
    await tab.hello(lang="id")
    return session["visitor_id"], tab


async def test_admin_auth(orders_server: OrdersServer, book: OrderBook):
    order = await place_for(book, "rest", "auth-test")
    url = orders_server.base + API
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as r:
            assert r.status == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
            assert (await r.json())["error"] == "unauthorized"
        async with http.get(url, headers=basic("budi", "salah-password-123")) as r:
            assert r.status == 401 and "WWW-Authenticate" in r.headers
        async with http.get(url, headers=basic("nobody", ADMIN_PASSWORD)) as r:
            assert r.status == 401
        async with http.get(url, headers={"Authorization": "Basic !!!"}) as r:
            assert r.status == 401
        async with http.get(url, headers=AGENT) as r:
            assert r.status == 403 and (await r.json())["error"] == "forbidden"
        async with http.get(url, headers=ADMIN) as r:
            assert r.status == 200
            assert order.number in [o["number"] for o in (await r.json())["orders"]]
        # A cross-site form cannot send JSON: anything else is refused before it is read.
        form = f"{url}/{order.number}/cancel"
        async with http.post(form, data={"reason": "x"}, headers=ADMIN) as r:
            assert r.status == 415
        async with http.post(form, data="{}", headers={**ADMIN, "Content-Type": "text/plain"}) as r:
            assert r.status == 415
        async with http.post(form, json={}, headers=AGENT) as r:
            assert r.status == 403
        async with http.get(f"{url}/SP-1999-000001", headers=ADMIN) as r:
            assert r.status == 404 and (await r.json())["error"] == "order_not_found"
    assert (await book.get(order.number)).status == "pending_payment"  # type: ignore[union-attr]


async def test_failed_logins_are_rate_limited(orders_server: OrdersServer):
    url = orders_server.base + API
    async with aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(6):
            async with http.get(url, headers=basic("mallory", "tebak-tebakan-1")) as r:
                statuses.append(r.status)
                retry_after = r.headers.get("Retry-After")
        assert statuses == [401] * 5 + [429] and retry_after is not None and int(retry_after) >= 1
        # Another username from the same address is still judged on its password.
        async with http.get(url, headers=ADMIN) as r:
            assert r.status == 200


async def test_verify_ship_deliver_reaches_the_widget_live(orders_server: OrdersServer, book: OrderBook):
    base = orders_server.base + API
    async with aiohttp.ClientSession() as http:
        visitor, tab = await widget_tab(orders_server, http)
        order = await place_for(book, "widget", visitor)
        await paid_in(book, order)
        n = order.number

        async with http.get(f"{base}?status=payment_submitted", headers=ADMIN) as r:
            listed = (await r.json())["orders"]
        assert n in [o["number"] for o in listed]
        async with http.get(f"{base}/{n.lower()}", headers=ADMIN) as r:
            detail = (await r.json())["order"]
        assert detail["payments"][0]["proof_url"] == "/widget/uploads/x.jpg"
        assert detail["total"] == order.total and isinstance(detail["total"], int)
        assert detail["lines"][0]["sku"] == order.lines[0].sku

        status, body = await post(http, f"{base}/{n}/verify-payment", {"note": "Dana masuk BCA"}, headers=ADMIN)
        assert status == 200 and body["order"]["status"] == "paid"
        paid = await tab.until(lambda e: e["type"] == "message" and n in e["text"])
        assert "sudah kami terima" in paid["text"] and paid["sender_type"] == "bot"

        status, body = await post(
            http, f"{base}/{n}/ship", {"tracking_number": "JP0012345678", "courier": "jnt-ez"}, headers=ADMIN
        )
        assert status == 200 and body["order"]["tracking_number"] == "JP0012345678"
        assert body["order"]["courier_name"] == "J&T EZ"
        shipped = await tab.until(lambda e: e["type"] == "message" and "JP0012345678" in e["text"])
        assert "J&T EZ" in shipped["text"] and shipped["seq"] == paid["seq"] + 1
        assert "cekresi.com/?noresi=JP0012345678" in shipped["text"]

        async with http.post(f"{base}/{n}/deliver", headers={**ADMIN, "Content-Type": "application/json"}) as r:
            assert r.status == 200  # an empty JSON body is fine
        delivered = await tab.until(lambda e: e["type"] == "message" and "sudah sampai" in e["text"])
        assert n in delivered["text"]
        await tab.close()

    final = await book.get(n)
    assert final is not None and final.status == "delivered"
    assert [(e.actor, e.to_status) for e in final.events][-3:] == [
        ("admin:budi", "paid"),
        ("admin:budi", "shipped"),
        ("admin:budi", "delivered"),
    ]
    stored = await book.store.messages(final.conversation_id)  # type: ignore[arg-type]
    assert [m.text for m in stored][-3:] == [paid["text"], shipped["text"], delivered["text"]]


async def test_bad_input(orders_server: OrdersServer, book: OrderBook):
    base = orders_server.base + API
    order = await place_for(book, "rest", "bad-input")
    await paid_in(book, order)
    n = order.number
    async with aiohttp.ClientSession() as http:
        status, body = await post(http, f"{base}/{n}/ship", {"tracking_number": "R" * 65}, headers=ADMIN)
        assert (status, body["error"], body["field"]) == (400, "invalid_field", "tracking_number")
        status, body = await post(http, f"{base}/{n}/ship", {"tracking_number": 12345}, headers=ADMIN)
        assert (status, body["field"]) == (400, "tracking_number")
        status, body = await post(http, f"{base}/{n}/ship", {}, headers=ADMIN)
        assert (status, body["field"]) == (400, "tracking_number")
        status, body = await post(http, f"{base}/{n}/reject-payment", {}, headers=ADMIN)
        assert (status, body["field"]) == (400, "reason")
        status, body = await post(http, f"{base}/{n}/reject-payment", {"reason": "x" * 501}, headers=ADMIN)
        assert status == 400
        async with http.post(f"{base}/{n}/cancel", data="[1, 2]", headers={**ADMIN, "Content-Type": "application/json"}) as r:
            assert r.status == 400
        async with http.post(f"{base}/{n}/cancel", data="{nope", headers={**ADMIN, "Content-Type": "application/json"}) as r:
            assert r.status == 400
        async with http.get(f"{base}?status=lost", headers=ADMIN) as r:
            assert r.status == 400
        async with http.get(f"{base}?limit=abc", headers=ADMIN) as r:
            assert r.status == 400

        reason = "<script>alert('x')</script> Transfer\x07 belum masuk"
        status, body = await post(http, f"{base}/{n}/reject-payment", {"reason": reason}, headers=ADMIN)
        assert status == 200 and body["order"]["status"] == "pending_payment"
        literal = "<script>alert('x')</script> Transfer belum masuk"  # control character stripped
        assert body["order"]["events"][-1]["note"] == literal
        assert body["order"]["payments"][-1]["verdict_note"] == literal

        status, body = await post(http, f"{base}/{n}/ship", {"tracking_number": "R1"}, headers=ADMIN)
        assert (status, body["error"], body["status"]) == (409, "invalid_transition", "pending_payment")
        status, body = await post(http, f"{base}/SP-1999-000009/ship", {"tracking_number": "R1"}, headers=ADMIN)
        assert status == 404

    messages = await book.store.messages(order.conversation_id)  # type: ignore[arg-type]
    assert literal in messages[-1].text  # the customer reads the reason as written, never as markup


async def test_a_shell_command_reaches_the_widget_through_the_relay(orders_server: OrdersServer, book: OrderBook):
    async with aiohttp.ClientSession() as http:
        visitor, tab = await widget_tab(orders_server, http)
        order = await place_for(book, "widget", visitor)
        await paid_in(book, order)
        await book.verify_payment(order.number, "admin:test")  # in another process, too
        done = sapa_cli(
            "order", "ship", order.number, "--tracking", "SCP77001122", "--data-dir", str(orders_server.data),
            cwd=orders_server.workdir, USER="rudi",
        )
        assert done.returncode == 0, done.stderr
        assert f"{order.number} is now shipped" in done.stdout
        shipped = await tab.until(lambda e: e["type"] == "message" and "SCP77001122" in e["text"])
        assert order.number in shipped["text"]
        await tab.close()
    record = await book.get(order.number)
    assert record is not None and record.events[-1].actor == "cli:rudi"

"""The agent console in real headless Chromium, next to a customer in the widget.

Two browser contexts against one real `sapa run` server: a customer on the demo shop's page
with the chat widget, and an agent (or admin) in the console. Debian's Chromium
(``/usr/bin/chromium``), never a downloaded browser. Screenshots of the key states go to
``test-artifacts/screenshots/console-*.png``.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.conftest import NEEDS_CHROMIUM
from tests.browser.test_widget import REPLY_TIMEOUT, SHOTS, Visitor
from tests.conftest import RunningServer, start_server
from tests.console.conftest import ACCOUNTS, COMPLAINT_TEXT, add_account, copy_demo_data

pytestmark = NEEDS_CHROMIUM

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python")
expect = sync_api.expect


# -- fixtures --------------------------------------------------------------------------------


class Server:
    def __init__(self, running: RunningServer, workdir: Path) -> None:
        self.running = running
        self.workdir = workdir
        self.base = running.base

    def rows(self, sql: str, *params: object) -> list[sqlite3.Row]:
        conn = sqlite3.connect(self.workdir / "sapa.db", timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("console-browser")
    workdir = root / "work"
    workdir.mkdir()
    for username in ("rina", "budi"):
        add_account(workdir, username)
    running = start_server(workdir, copy_demo_data(root / "data"))
    yield Server(running, workdir)
    running.stop()


class ConsoleUser:
    """One browser context logged in (or not yet) to the console."""

    def __init__(self, browser, base: str) -> None:  # type: ignore[no-untyped-def]
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="id-ID")
        self.base = base
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.accept_dialogs = False  # a test that expects a question sets the answer
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog) -> None:  # type: ignore[no-untyped-def]
        self.dialogs.append(dialog.message)
        dialog.accept() if self.accept_dialogs else dialog.dismiss()

    def login(self, username: str) -> None:
        page = self.page
        page.goto(self.base + "/console/inbox")
        expect(page).to_have_url(re.compile(r"/console/login\?next="))
        page.fill("#username", username)
        page.fill("#password", ACCOUNTS[username][2])
        page.click("form.login button[type=submit]")
        expect(page).to_have_url(re.compile(r"/console/inbox$"))
        expect(page.locator("#live-status")).to_have_attribute("data-state", "online")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_timeout(300)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def row(self, text: str):  # type: ignore[no-untyped-def]
        return self.page.locator("#inbox tbody tr", has_text=text)

    def open_conversation(self, customer_name: str) -> int:
        self.row(customer_name).first.locator(".c-customer a").click()
        expect(self.page).to_have_url(re.compile(r"/console/conversations/\d+$"))
        expect(self.page.locator("#live-status")).to_have_attribute("data-state", "online")
        return int(self.page.url.rsplit("/", 1)[1])

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def agent(browser, server: Server) -> Iterator[ConsoleUser]:  # type: ignore[no-untyped-def]
    user = ConsoleUser(browser, server.base)
    yield user
    user.close()
    assert not user.errors, f"JavaScript errors in the console: {user.errors}"
    assert not user.dialogs, f"dialogs opened in the console: {user.dialogs}"


@pytest.fixture
def customer(browser, server: Server) -> Iterator[Visitor]:  # type: ignore[no-untyped-def]
    v = Visitor(browser, server.base)
    yield v
    v.close()
    assert not v.errors, f"JavaScript errors on the shop's page: {v.errors}"


def start_chat(v: Visitor, name: str) -> None:
    v.open_page()
    v.open_widget()
    v.pass_prechat(name)


# -- tests -----------------------------------------------------------------------------------


def test_login_required_and_agents_refused_on_admin_pages(agent: ConsoleUser, server: Server) -> None:
    page = agent.page
    response = page.goto(server.base + "/console/admin/agents")
    assert response is not None
    expect(page).to_have_url(re.compile(r"/console/login\?next=(%2F|/)console(%2F|/)admin(%2F|/)agents$"))
    page.fill("#username", "budi")
    page.fill("#password", "bukan-sandinya")
    page.click("form.login button[type=submit]")
    expect(page.locator(".flash.error")).to_have_text("Nama pengguna atau kata sandi salah.")
    agent.shot("console-01-login")
    page.fill("#password", ACCOUNTS["budi"][2])
    with page.expect_response(re.compile(r"/console/admin/agents$")) as refused:
        page.click("form.login button[type=submit]")
    assert refused.value.status == 403
    expect(page.locator("h1")).to_have_text("Khusus admin")
    expect(page.locator("nav a", has_text="Agen")).to_have_count(0)  # no admin links for agents
    agent.shot("console-02-agent-refused-on-admin-page")
    # The session cookie is out of reach of page scripts.
    assert "sapa_console" not in page.evaluate("document.cookie")


def test_complaint_live_take_over_reply_resolve_and_rating(agent: ConsoleUser, customer: Visitor, server: Server) -> None:
    agent.login("budi")
    page = agent.page
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    start_chat(customer, "Rina Wulandari")
    customer.send(COMPLAINT_TEXT)
    # The complaint appears in the agent's inbox without a reload.
    row = agent.row("Rina Wulandari")
    expect(row).to_have_count(1, timeout=REPLY_TIMEOUT)
    expect(row.locator(".badge")).to_have_text("Menunggu agen")
    expect(row.locator(".c-last")).to_be_visible()
    # The live row names the ticket's priority as the filter does ("Normal", "Tinggi"), not its code.
    expect(row.locator(".prio")).to_have_text(re.compile(r"^(Rendah|Normal|Tinggi|Mendesak)$"))
    assert page.evaluate("window.__sameDocument") is True
    agent.shot("console-03-inbox-live-complaint")

    cid = agent.open_conversation("Rina Wulandari")
    page.evaluate("window.__sameDocument = true")
    timeline = page.locator("#timeline")
    expect(timeline.locator(".msg.m-customer .text", has_text="sobek di lengannya")).to_be_visible()
    expect(timeline.locator(".msg.m-customer .nlu").first).to_be_visible()  # the bot's guess at the intent
    expect(timeline.locator(".msg.m-bot").first).to_be_visible()

    # Take over: the customer sees that an agent joined.
    page.click("button[data-act=take]")
    expect(page.locator("#conv-status")).to_have_text("Ditangani agen")
    expect(customer.loc(".row.system .bubble", ).filter(has_text="Budi (admin) bergabung")).to_be_visible(timeout=REPLY_TIMEOUT)

    # Reply: shown in the widget as the agent's message.
    page.fill("#reply-text", "Mohon maaf ya Kak Rina 🙏 Boleh kirim foto bagian yang sobek?")
    page.press("#reply-text", "Enter")
    expect(timeline.locator(".msg.m-agent .text", has_text="Boleh kirim foto")).to_have_count(1)
    expect(customer.loc(".row.agent .bubble").filter(has_text="Boleh kirim foto bagian yang sobek")).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(page.locator("#reply-text")).to_have_value("")

    # The customer's answer reaches the console live; the bot stays quiet.
    customer.send("Baik kak, fotonya saya kirim sebentar lagi")
    expect(timeline.locator(".msg.m-customer .text", has_text="fotonya saya kirim")).to_be_visible(timeout=REPLY_TIMEOUT)
    customer.shot("console-04-widget-with-agent")
    agent.shot("console-05-conversation-with-agent")
    assert page.evaluate("window.__sameDocument") is True  # all of it live, no reload
    seq = server.rows("SELECT max(seq) AS s FROM messages WHERE conversation_id = ? AND sender_type = 'customer'", cid)[0]["s"]
    assert not server.rows("SELECT id FROM messages WHERE conversation_id = ? AND seq > ? AND sender_type = 'bot'", cid, seq)

    # A private note stays in the console.
    page.fill("#note-text", "Siapkan pengganti ukuran L")
    page.click("#note-form button[type=submit]")
    expect(timeline.locator(".note .text", has_text="Siapkan pengganti")).to_be_visible()
    customer.page.wait_for_timeout(500)
    expect(customer.loc(".bubble").filter(has_text="Siapkan pengganti")).to_have_count(0)

    # Resolve: the widget asks for the rating; the rating is stored and shown in the console.
    page.click("button[data-act=resolve]")
    expect(page.locator("#conv-status")).to_have_text("Selesai")
    card = customer.loc(".card.rating")
    expect(card).to_be_visible(timeout=REPLY_TIMEOUT)
    card.locator("[data-score='5']").click()
    card.locator("textarea").fill("Adminnya cepat tanggap, mantap!")
    card.locator(".primary").click()
    expect(card).to_contain_text("Terima kasih atas penilaiannya")
    expect(page.locator("#rating")).to_contain_text("5/5", timeout=REPLY_TIMEOUT)
    expect(page.locator("#rating q")).to_have_text("Adminnya cepat tanggap, mantap!")
    stored = server.rows("SELECT csat_score, csat_comment, status FROM conversations WHERE id = ?", cid)[0]
    assert (stored["csat_score"], stored["csat_comment"], stored["status"]) == (5, "Adminnya cepat tanggap, mantap!", "resolved")
    agent.shot("console-06-resolved-and-rated")


def test_hand_back_to_the_bot(agent: ConsoleUser, customer: Visitor, server: Server) -> None:
    agent.login("rina")
    start_chat(customer, "Bagus Pratama")
    customer.send("kak saya mau bicara dengan admin dong")
    expect(agent.row("Bagus Pratama")).to_have_count(1, timeout=REPLY_TIMEOUT)
    agent.open_conversation("Bagus Pratama")
    page = agent.page
    page.click("button[data-act=take]")
    expect(customer.loc(".row.system .bubble").filter(has_text="Rina (admin) bergabung")).to_be_visible(timeout=REPLY_TIMEOUT)
    page.fill("#reply-text", "Sudah saya cek ya Kak, pesanannya aman. Untuk pertanyaan lain asisten kami siap bantu.")
    page.click("#reply-send")
    expect(customer.loc(".row.agent .bubble").filter(has_text="pesanannya aman")).to_be_visible(timeout=REPLY_TIMEOUT)

    page.click("button[data-act=handback]")
    expect(page.locator("#conv-status")).to_have_text("Bot")
    expect(customer.loc(".row.system .bubble").filter(has_text="asisten otomatis")).to_be_visible(timeout=REPLY_TIMEOUT)
    # The bot answers again.
    customer.send("kak, bisa bayar pakai apa aja?")
    customer.expect_reply("transfer bank")
    expect(page.locator("#timeline .msg.m-bot .text", has_text="transfer bank").last).to_be_visible(timeout=REPLY_TIMEOUT)
    customer.shot("console-07-widget-after-hand-back")
    agent.shot("console-08-handed-back")


def test_html_and_script_in_messages_are_shown_literally(agent: ConsoleUser, customer: Visitor, server: Server) -> None:
    attack = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>tebal</b> kak tolong admin'
    agent.login("rina")
    start_chat(customer, "<i>Tamu</i> Iseng")
    customer.send("mau bicara dengan admin")
    expect(agent.row("<i>Tamu</i> Iseng")).to_have_count(1, timeout=REPLY_TIMEOUT)
    agent.open_conversation("<i>Tamu</i> Iseng")
    page = agent.page
    # Arriving live (rendered by the page's script)...
    customer.send(attack)
    live = page.locator("#timeline .msg.m-customer .text").filter(has_text="kak tolong admin")
    expect(live).to_have_text(attack, timeout=REPLY_TIMEOUT)
    # ...and after a reload (rendered by the server).
    page.reload()
    expect(page.locator("#timeline .msg.m-customer .text").filter(has_text="kak tolong admin")).to_have_text(attack)
    expect(page.locator("h1")).to_contain_text("<i>Tamu</i> Iseng")
    assert page.locator("#timeline b, #timeline img[src=x], #timeline script, h1 i").count() == 0
    assert page.evaluate("window.__pwned") is None
    page.goto(server.base + "/console/inbox?status=any")
    expect(agent.row("<i>Tamu</i> Iseng").locator(".c-customer a")).to_have_text("<i>Tamu</i> Iseng")
    assert page.evaluate("window.__pwned") is None
    agent.shot("console-09-markup-shown-as-text")


def test_forged_csrf_requests_are_refused(agent: ConsoleUser, customer: Visitor, server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    agent.login("budi")
    start_chat(customer, "Citra Kirana")
    customer.send("tolong sambungkan ke admin ya kak")
    expect(agent.row("Citra Kirana")).to_have_count(1, timeout=REPLY_TIMEOUT)
    cid = agent.open_conversation("Citra Kirana")
    page = agent.page
    # A request with a made-up token, from the console's own page.
    status = page.evaluate(
        """async (cid) => (await fetch(`/console/conversations/${cid}/take`, {method: "POST",
            headers: {"Content-Type": "application/json", "X-CSRF-Token": "forged"}, body: "{}"})).status""",
        cid,
    )
    assert status == 403
    # A form on another site that posts to the console in the agent's browser.
    evil = f"""<html><body><form id=f method=post action="{server.base}/console/conversations/{cid}/take">
        <input name=csrf_token value=guess></form><script>document.getElementById('f').submit()</script></body></html>"""
    page.route("http://evil.example/**", lambda route: route.fulfill(status=200, content_type="text/html", body=evil))
    with page.expect_response(re.compile(rf"/console/conversations/{cid}/take$")) as posted:
        page.goto("http://evil.example/free-voucher")
    assert posted.value.status in (303, 403)  # no session cookie cross-site (SameSite), or refused
    stored = server.rows("SELECT status FROM conversations WHERE id = ?", cid)[0]
    assert stored["status"] == "waiting_for_agent"
    assert not server.rows("SELECT id FROM conversation_actions WHERE conversation_id = ?", cid)
    assert customer.loc(".row.system .bubble").filter(has_text="bergabung").count() == 0


def place_order(server: Server, name: str) -> str:
    """An order waiting for payment, placed in another process as the chat's flow would."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from bot.flows.context import shop_name
    from bot.orders.book import OrderBook
    from bot.orders.records import NewOrder, PaymentMethod
    from bot.shopdata.loader import load_shop
    from bot.store import Store
    from bot.texts import Texts
    from tests.orders.conftest import demo_line

    async def place() -> str:
        shop = load_shop(server.workdir.parent / "data")
        store = await Store.open(f"sqlite+aiosqlite:///{server.workdir / 'sapa.db'}")
        try:
            book = OrderBook(store, shop, Texts.load(shop.texts, shop_name=shop_name(shop)))
            conversation = await store.open_conversation("rest", f"browser-{name}", "id")
            order = await book.place(NewOrder(
                lines=(demo_line(shop),), customer_name=name, phone="081298765432", address="Jl. Slamet Riyadi 1",
                city="Surakarta", courier="jne-reg", courier_name="JNE REG", shipping_cost=8_000,
                payment_method=PaymentMethod.BANK_TRANSFER, lang="id", channel="rest",
                external_id=f"browser-{name}", customer_id=conversation.customer_id,
                conversation_id=conversation.id, source_key=f"browser-test-{name}",
            ))
            return order.number
        finally:
            await store.close()

    # Playwright's sync API keeps an event loop running in this thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, place()).result()


def test_cancelling_an_order_asks_first(agent: ConsoleUser, server: Server) -> None:
    number = place_order(server, "Ayu Lestari")
    agent.login("rina")
    page = agent.page
    page.goto(f"{server.base}/console/admin/orders/{number}")
    expect(page.locator("#order-status")).to_have_text("Menunggu pembayaran")
    # REST cannot push: the page does not promise the customer a message.
    expect(page.locator("#order-notice")).to_contain_text("bersama balasan pesan berikutnya")
    cancel = page.locator("#order-actions button", has_text="Batalkan pesanan")

    cancel.click()  # the admin answers "no": nothing happens
    expect(page.locator("#order-status")).to_have_text("Menunggu pembayaran")
    assert len(agent.dialogs) == 1 and number in agent.dialogs[0], agent.dialogs
    assert server.rows("SELECT status FROM orders WHERE number = ?", number)[0]["status"] == "pending_payment"

    agent.accept_dialogs = True
    cancel.click()
    expect(page.locator("#order-status")).to_have_text("Dibatalkan")
    assert server.rows("SELECT status FROM orders WHERE number = ?", number)[0]["status"] == "cancelled"
    agent.shot("console-10-order-cancelled-after-asking")
    agent.dialogs.clear()  # both questions were expected

"""The website chat widget in real headless Chromium, against a real `sapa run` server.

Debian's Chromium (``/usr/bin/chromium``) driven by Playwright for Python; never a
downloaded browser. Screenshots of the key states go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
import shutil
import struct
import zlib
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.conftest import NEEDS_CHROMIUM
from tests.conftest import DEMO_DATA, ROOT, RunningServer, free_port, start_server

SHOTS = ROOT / "test-artifacts" / "screenshots"
REPLY_TIMEOUT = 20_000  # ms; a reply normally takes well under a second

pytestmark = NEEDS_CHROMIUM

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python")
expect = sync_api.expect

W = "sapa-chat"  # the widget's host element; Playwright's CSS selectors pierce its open shadow root


# -- fixtures --------------------------------------------------------------------


def copy_demo_data(target: Path) -> Path:
    """The demo shop's data dir, copied so uploads and the secret key stay out of the checkout."""
    shutil.copytree(DEMO_DATA, target, ignore=shutil.ignore_patterns("uploads", ".secret_key"))
    return target


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("widget-server")
    running = start_server(root / "work", copy_demo_data(root / "data"))
    yield running
    running.stop()


class Visitor:
    """One browser context (one visitor: its own localStorage) with helpers for the widget."""

    def __init__(self, browser, base: str, **context_args) -> None:  # type: ignore[no-untyped-def]
        args = {"viewport": {"width": 1280, "height": 820}, "locale": "id-ID", **context_args}
        self.context = browser.new_context(**args)
        self.base = base
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page = self.new_tab()

    def new_tab(self):  # type: ignore[no-untyped-def]
        page = self.context.new_page()
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        return page

    def shot(self, name: str, page=None) -> None:  # type: ignore[no-untyped-def]
        SHOTS.mkdir(parents=True, exist_ok=True)
        (page or self.page).wait_for_timeout(350)  # let the entry animations finish
        (page or self.page).screenshot(path=str(SHOTS / f"{name}.png"))

    def loc(self, selector: str, page=None):  # type: ignore[no-untyped-def]
        return (page or self.page).locator(f"{W} {selector}")

    def open_page(self, page=None) -> None:  # type: ignore[no-untyped-def]
        (page or self.page).goto(self.base + "/")
        expect(self.loc(".launcher", page)).to_be_visible()

    def open_widget(self, page=None) -> None:  # type: ignore[no-untyped-def]
        self.loc(".launcher", page).click()
        expect(self.loc(".win", page)).to_be_visible()

    def pass_prechat(self, name: str = "Rina Wulandari", email: str = "", page=None) -> None:  # type: ignore[no-untyped-def]
        expect(self.loc("#sapa-pc-name", page)).to_be_visible()
        self.loc("#sapa-pc-name", page).fill(name)
        if email:
            self.loc("#sapa-pc-email", page).fill(email)
        self.loc(".prechat button[type=submit]", page).click()
        expect(self.loc("textarea.input", page)).to_be_visible()

    def start_chat(self) -> None:
        self.open_page()
        self.open_widget()
        self.pass_prechat()

    def send(self, text: str, page=None) -> None:  # type: ignore[no-untyped-def]
        box = self.loc("textarea.input", page)
        box.fill(text)
        box.press("Enter")

    def customer_rows(self, text: str, page=None):  # type: ignore[no-untyped-def]
        return self.loc(".row.customer .bubble", page).filter(has_text=text)

    def expect_reply(self, contains: str, page=None) -> None:  # type: ignore[no-untyped-def]
        """A bot message (not the local greeting) containing ``contains`` is shown."""
        bubbles = self.loc(".row.bot[data-seq] .bubble", page).filter(has_text=contains)
        expect(bubbles.first).to_be_visible(timeout=REPLY_TIMEOUT)

    def ask(self, text: str, page=None) -> None:  # type: ignore[no-untyped-def]
        """Send ``text`` and wait for the bot's next message."""
        replies = self.loc(".row.bot[data-seq]", page)
        before = replies.count()
        self.send(text, page)
        expect(replies).not_to_have_count(before, timeout=REPLY_TIMEOUT)

    def shadow_focus(self, page=None) -> str:  # type: ignore[no-untyped-def]
        return (page or self.page).evaluate(
            "() => { const a = document.querySelector('sapa-chat').shadowRoot.activeElement;"
            " return a ? a.className || a.id || a.tagName : ''; }"
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visitor(browser, server: RunningServer) -> Iterator[Visitor]:  # type: ignore[no-untyped-def]
    v = Visitor(browser, server.base)
    yield v
    v.close()
    assert not v.errors, f"JavaScript errors on the page: {v.errors}"


def png(width: int = 48, height: int = 32, rgb: tuple[int, int, int] = (139, 69, 19)) -> bytes:
    """A small valid PNG of one colour."""
    row = b"\x00" + bytes(rgb) * width
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b"")


# -- tests -----------------------------------------------------------------------


def test_conversation_prechat_faqs_quick_reply_and_history(visitor: Visitor) -> None:
    v, page = visitor, visitor.page
    v.open_page()
    v.shot("01-demo-page")
    # The shop's broad CSS (serif font, uppercase black buttons) does not reach the widget.
    style = page.evaluate(
        "() => { const b = document.querySelector('sapa-chat').shadowRoot.querySelector('.launcher');"
        " const s = getComputedStyle(b); return [s.fontFamily, s.textTransform, s.borderRadius]; }"
    )
    assert "Georgia" not in style[0] and style[1] == "none" and style[2] == "50%"
    # ... and the widget's styles do not reach the page.
    assert page.evaluate("() => getComputedStyle(document.querySelector('main button')).borderRadius") == "0px"

    v.open_widget()
    # Pre-chat form (demo config: name required, e-mail and phone optional), validated in the browser.
    expect(v.loc(".prechat")).to_be_visible()
    expect(v.loc("#sapa-pc-name")).to_be_focused()
    v.loc(".prechat button[type=submit]").click()
    expect(v.loc("#sapa-pc-name-err")).to_have_text("Yang ini wajib diisi ya, Kak.")
    expect(v.loc("#sapa-pc-name")).to_have_attribute("aria-invalid", "true")
    v.loc("#sapa-pc-name").fill("Rina Wulandari")
    v.loc("#sapa-pc-email").fill("rina@bukan-email")
    v.loc(".prechat button[type=submit]").click()
    expect(v.loc("#sapa-pc-email-err")).to_contain_text("email")
    v.shot("02-prechat-validation")
    v.loc("#sapa-pc-email").fill("rina@example.com")
    v.loc(".prechat button[type=submit]").click()
    expect(v.loc("textarea.input")).to_be_focused()
    expect(v.loc(".row.greeting")).to_contain_text("Batik Sekar Ayu")

    # An FAQ in informal Indonesian.
    v.send("kak, bisa bayar pakai apa aja?")
    expect(v.customer_rows("kak, bisa bayar pakai apa aja?")).to_have_count(1)
    v.expect_reply("transfer bank")
    expect(v.loc(".qr button")).to_have_count(2)
    v.shot("03-faq-indonesian")

    # A quick reply sends its payload and shows its title.
    v.loc(".qr button", ).filter(has_text="Info COD").click()
    expect(v.customer_rows("Info COD")).to_have_count(1)
    v.expect_reply("COD")
    expect(v.loc(".row.customer .bubble").filter(has_text="/faq/")).to_have_count(0)
    v.shot("04-quick-reply")

    # Switch to English; an FAQ in English.
    v.loc(".lang").click()
    expect(v.loc("textarea.input")).to_have_attribute("placeholder", "Write a message…")
    v.send("How long does shipping to Surabaya take?")
    v.expect_reply("working days")
    v.shot("05-faq-english")

    # Multi-line: Shift+Enter is a newline, Enter sends.
    box = v.loc("textarea.input")
    box.fill("")
    box.press_sequentially("line one")
    box.press("Shift+Enter")
    box.press_sequentially("line two")
    assert box.input_value() == "line one\nline two"
    replies = v.loc(".row.bot[data-seq]").count()
    box.press("Enter")
    expect(v.loc(".row.bot[data-seq]")).not_to_have_count(replies, timeout=REPLY_TIMEOUT)
    assert v.loc(".row.customer .bubble").last.evaluate("b => b.textContent") == "line one\nline two"

    shown = v.loc(".row[data-seq]").count()
    assert shown >= 8
    # Reload: the same visitor, the whole history, in English, and no pre-chat form again.
    page.reload()
    expect(v.loc(".win")).to_be_visible()  # it stays open across a reload
    expect(v.loc(".row[data-seq]")).to_have_count(shown)
    expect(v.customer_rows("kak, bisa bayar pakai apa aja?")).to_have_count(1)
    expect(v.customer_rows("Info COD")).to_have_count(1)
    expect(v.loc(".prechat")).to_be_hidden()
    expect(v.loc("textarea.input")).to_have_attribute("placeholder", "Write a message…")
    v.shot("06-history-after-reload")
    assert not v.dialogs


def test_prechat_details_the_server_refuses_bring_the_form_back(visitor: Visitor) -> None:
    """The server checks the pre-chat form too (an Indonesian mobile number, an e-mail with a real
    domain ending). What it refuses must not be lost: the form comes back with the customer's
    entries and the reason under the field, instead of a note in the chat and a nameless customer."""
    v, page = visitor, visitor.page
    from_server: list[str] = []

    def proxy(ws):  # type: ignore[no-untyped-def]
        server = ws.connect_to_server()
        ws.on_message(lambda m: server.send(m))
        server.on_message(lambda m: (from_server.append(str(m)), ws.send(m)))

    page.route_web_socket(re.compile(r".*/widget/ws.*"), proxy)
    v.open_page()
    v.open_widget()
    v.loc("#sapa-pc-name").fill("Budi Santoso")
    # Switching the language redraws the form in English, with what was typed kept.
    v.loc(".lang").click()
    expect(v.loc(".prechat label[for=sapa-pc-name]")).to_have_text("Name")
    expect(v.loc("#sapa-pc-name")).to_have_value("Budi Santoso")
    v.loc(".lang").click()
    v.loc("#sapa-pc-phone").fill("(021) 555-1234")  # a Jakarta landline: no WhatsApp, not a mobile number
    v.loc(".prechat button[type=submit]").click()
    expect(v.loc("#sapa-pc-phone-err")).to_have_text("Nomor HP belum benar, contohnya 0812-3456-7890.")
    expect(v.loc("#sapa-pc-phone")).to_be_focused()

    v.loc("#sapa-pc-phone").fill("0812-3456-7890")
    v.loc("#sapa-pc-email").fill("budi@gmail.c0m")  # a typo only the server notices
    v.loc(".prechat button[type=submit]").click()
    expect(v.loc("#sapa-pc-email-err")).to_have_text(re.compile("^Alamat e-mailnya sepertinya belum benar"))  # the server's words
    expect(v.loc("#sapa-pc-email")).to_have_attribute("aria-invalid", "true")
    expect(v.loc("#sapa-pc-name")).to_have_value("Budi Santoso")
    expect(v.loc("#sapa-pc-phone")).to_have_value("0812-3456-7890")
    expect(v.loc(".row.system")).to_have_count(0)
    v.shot("02b-prechat-refused-by-server")

    v.loc("#sapa-pc-email").fill("budi@gmail.com")
    v.loc(".prechat button[type=submit]").click()
    expect(v.loc("textarea.input")).to_be_focused()
    for _ in range(50):
        if any('"saved"' in m and '"prechat"' in m for m in from_server):
            break
        page.wait_for_timeout(100)
    assert any('"saved"' in m and '"prechat"' in m for m in from_server), from_server[-3:]
    # A reload does not ask again.
    page.reload()
    expect(v.loc("textarea.input")).to_be_visible()
    expect(v.loc(".prechat")).to_be_hidden()


def test_html_is_shown_literally(visitor: Visitor) -> None:
    v = visitor
    v.start_chat()
    attack = "<img src=x onerror=alert(1)>"
    v.ask(attack)
    row = v.customer_rows(attack)
    expect(row).to_have_count(1)
    expect(row).to_have_text(attack)
    v.send("<script>alert('xss')</script> cek https://example.com/a?b=1 ya")
    link = v.loc(".row.customer .bubble a")
    expect(link).to_have_attribute("href", "https://example.com/a?b=1")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow ugc")
    v.page.wait_for_timeout(500)
    assert v.loc(".log img").count() == 0
    assert v.page.evaluate("() => document.querySelector('sapa-chat').shadowRoot.querySelectorAll('script').length") == 0
    v.shot("09-html-literal")
    v.page.reload()
    expect(v.customer_rows(attack)).to_have_text(attack)
    v.page.wait_for_timeout(300)
    assert v.dialogs == []


def test_image_upload_shows_thumbnail(visitor: Visitor, tmp_path: Path) -> None:
    v = visitor
    v.start_chat()
    photo = tmp_path / "bukti-transfer.png"
    photo.write_bytes(png(120, 80))
    v.loc("input[type=file]").set_input_files(str(photo))
    expect(v.loc(".preview")).to_be_visible()
    expect(v.loc(".sendbtn")).to_be_enabled(timeout=10_000)  # uploaded
    v.loc("textarea.input").fill("ini bukti transfernya kak")
    v.loc(".sendbtn").click()
    thumb = v.loc(".row.customer .thumb img")
    expect(thumb).to_have_count(1)
    expect(v.loc(".row.customer[data-seq] .thumb img")).to_have_count(1, timeout=REPLY_TIMEOUT)
    v.page.wait_for_function(
        "() => { const i = document.querySelector('sapa-chat').shadowRoot.querySelector('.row.customer[data-seq] .thumb img');"
        " return i && i.complete && i.naturalWidth === 120; }"
    )
    src = thumb.get_attribute("src") or ""
    assert "/widget/uploads/" in src
    v.shot("10-upload-thumbnail")

    # Not an image (by content, whatever the name says): refused in the browser already.
    fake = tmp_path / "virus.png"
    fake.write_bytes(b"MZ this is not a picture")
    v.loc("input[type=file]").set_input_files(str(fake))
    expect(v.loc(".row.system.err").last).to_contain_text("hanya gambar")
    expect(v.loc(".preview")).to_be_hidden()


def test_keyboard_escape_and_focus(visitor: Visitor) -> None:
    v, page = visitor, visitor.page
    v.open_page()
    launcher = v.loc(".launcher")
    expect(launcher).to_have_attribute("aria-label", "Buka chat — Chat dengan Batik Sekar Ayu")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(v.loc(".win")).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(v.loc("#sapa-pc-name")).to_be_focused()
    v.pass_prechat()
    expect(v.loc("textarea.input")).to_be_focused()
    expect(v.loc("[role=log]")).to_have_attribute("aria-live", "polite")
    expect(v.loc(".win")).to_have_attribute("role", "dialog")
    page.keyboard.press("Escape")
    expect(v.loc(".win")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    # Open again: the composer takes the focus; Tab walks into the send button area.
    page.keyboard.press("Enter")
    expect(v.loc("textarea.input")).to_be_focused()
    page.keyboard.press("Escape")
    expect(v.loc(".win")).to_be_hidden()


def test_tabs_of_one_visitor_stay_in_sync(visitor: Visitor) -> None:
    v = visitor
    v.start_chat()
    other = v.new_tab()
    v.open_page(other)  # the same visitor in a second tab
    v.open_widget(other)
    expect(v.loc("textarea.input", other)).to_be_visible()  # no second pre-chat form
    v.ask("jam buka toko kapan ya kak?")
    # The second tab receives the customer's message and the bot's answer, each once.
    expect(v.customer_rows("jam buka toko kapan ya kak?", other)).to_have_count(1)
    count = v.loc(".row[data-seq]").count()
    expect(v.loc(".row[data-seq]", other)).to_have_count(count)
    # And the other way round.
    v.ask("makasih kak", other)
    expect(v.customer_rows("makasih kak")).to_have_count(1)
    expect(v.loc(".row[data-seq]")).to_have_count(v.loc(".row[data-seq]", other).count())
    other.close()


def test_mobile_viewport_is_full_screen(browser, server: RunningServer) -> None:  # type: ignore[no-untyped-def]
    v = Visitor(browser, server.base, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    try:
        v.open_page()
        v.open_widget()
        # Once the opening animation ends, the window covers the whole viewport.
        v.page.wait_for_function(
            "() => { const r = document.querySelector('sapa-chat').shadowRoot.querySelector('.win').getBoundingClientRect();"
            " return r.x === 0 && r.y === 0 && r.width === 375 && r.height === 740; }",
            timeout=3000,
        )
        expect(v.loc(".launcher")).to_be_hidden()
        v.pass_prechat()
        v.ask("ongkir ke surabaya berapa kak?")
        v.shot("11-mobile-fullscreen")
        v.page.keyboard.press("Escape")
        expect(v.loc(".launcher")).to_be_visible()
        assert not v.errors
    finally:
        v.close()


def test_message_sent_during_outage_is_delivered_once(browser, tmp_path_factory: pytest.TempPathFactory) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("widget-outage")
    data = copy_demo_data(root / "data")
    port = free_port()
    first = start_server(root / "work", data, port=port)
    v = Visitor(browser, first.base)
    second: RunningServer | None = None
    try:
        v.start_chat()
        v.ask("halo kak")
        first.stop()
        expect(v.loc(".notice.conn")).to_be_visible(timeout=10_000)  # "Koneksi terputus…"

        question = "kak, bisa kirim ke luar negeri?"
        v.send(question)
        expect(v.customer_rows(question)).to_have_count(1)
        expect(v.loc(".row.customer.pending")).to_have_count(1)
        v.shot("08a-outage-pending")
        # The customer closes the chat; the answer that comes later shows as an unread badge.
        v.page.keyboard.press("Escape")
        expect(v.loc(".win")).to_be_hidden()

        second = start_server(root / "work", data, port=port)
        badge = v.loc(".badge")
        expect(badge).to_be_visible(timeout=30_000)
        expect(badge).to_have_text("1")
        expect(v.loc(".launcher")).to_have_attribute("aria-label", re.compile("1 pesan baru"))
        v.shot("08b-unread-badge")
        v.open_widget()
        expect(badge).to_be_hidden()
        expect(v.loc(".row.customer[data-seq] .bubble").filter(has_text=question)).to_have_count(1)
        v.expect_reply("DHL")
        expect(v.loc(".notice.conn")).to_be_hidden()
        expect(v.loc(".row.customer.pending")).to_have_count(0)
        v.page.wait_for_timeout(1000)  # nothing more trickles in
        expect(v.customer_rows(question)).to_have_count(1)
        v.shot("08c-outage-delivered")

        # The server stored it once, too: a reload shows it once.
        v.page.reload()
        expect(v.loc(".win")).to_be_visible()
        v.expect_reply("DHL")
        expect(v.customer_rows(question)).to_have_count(1)
        assert not v.errors
    finally:
        v.close()
        first.stop()
        if second is not None:
            second.stop()


def test_rating_card_when_the_conversation_is_resolved(visitor: Visitor) -> None:
    """The server asks for a rating with ``status`` + ``rating_requested`` (sent when an agent resolves
    the conversation); until the console exists, the test injects that one event into the real socket."""
    v, page = visitor, visitor.page
    sockets: list = []
    from_server: list[str] = []

    def relay(ws, message) -> None:  # type: ignore[no-untyped-def]
        from_server.append(str(message))
        ws.send(message)

    def proxy(ws):  # type: ignore[no-untyped-def]
        server = ws.connect_to_server()
        ws.on_message(lambda m: server.send(m))
        server.on_message(lambda m: relay(ws, m))
        sockets.append(ws)

    page.route_web_socket(re.compile(r".*/widget/ws.*"), proxy)
    v.start_chat()
    v.ask("makasih ya kak, udah jelas")
    sockets[-1].send('{"type": "status", "status": "resolved", "rating_requested": true}')
    card = v.loc(".card.rating")
    expect(card).to_be_visible()
    expect(card.locator("h3")).to_contain_text("Kasih bintang")
    expect(card.locator(".primary")).to_be_disabled()
    card.locator("[data-score='4']").click()
    expect(card.locator(".star-label")).to_have_text("Bagus")
    expect(card.locator("[data-score='4']")).to_have_attribute("aria-checked", "true")
    card.locator("textarea").fill("Admin ramah, jawabannya cepat")
    v.shot("12-rating")
    card.locator(".primary").click()
    expect(card).to_contain_text("Terima kasih atas penilaiannya")
    # The server stored it and says so; a reload does not ask again for this conversation.
    for _ in range(50):
        if any('"rating"' in m and '"saved"' in m for m in from_server):
            break
        page.wait_for_timeout(100)
    assert any('"rating"' in m and '"saved"' in m for m in from_server), from_server[-3:]
    page.reload()
    expect(v.loc(".win")).to_be_visible()
    expect(v.loc(".row.customer[data-seq]")).to_have_count(1)
    expect(v.loc(".card.rating")).to_be_hidden()


def test_rate_limit_is_a_friendly_note(visitor: Visitor) -> None:
    v = visitor
    v.start_chat()
    box = v.loc("textarea.input")
    for i in range(60):  # the demo allows 40 messages a minute per visitor
        box.fill(f"pesan ke-{i + 1}")
        box.press("Enter")
    note = v.loc(".row.system.err").first
    expect(note).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(v.loc(".row.customer.failed").first).to_be_visible()
    expect(v.loc(".row.customer.failed .retry").first).to_have_text("Kirim ulang")
    # One note per run of refused messages, not one per message (while 60 messages are
    # typed the bucket refills a token now and then, which lets one pass and ends a run).
    refused = v.loc(".row.customer.failed").count()
    notes = v.loc(".row.system.err").count()
    assert 1 <= notes < refused, (refused, notes)
    v.shot("13-rate-limited")

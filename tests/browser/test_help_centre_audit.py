"""The help centre (``/bantuan``) in real headless Chromium, as visitors meet it: an answer's
buttons lead somewhere, the chat opened from the page follows the page, links to an entry can
be shared. Against a real `sapa run` on the demo shop."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.conftest import NEEDS_CHROMIUM
from tests.conftest import DEMO_DATA, RunningServer, start_server

pytestmark = NEEDS_CHROMIUM

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python")
expect = sync_api.expect

W = "sapa-chat"  # the widget's host element; Playwright's CSS selectors pierce its open shadow root
REPLY_TIMEOUT = 20_000  # ms; a reply normally takes well under a second


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("help-centre-audit"))
    yield running
    running.stop()


def new_page(browser, errors: list[str], **context_args):  # type: ignore[no-untyped-def]
    args = {"viewport": {"width": 375, "height": 740}, "locale": "id-ID", "is_mobile": True, **context_args}
    context = browser.new_context(**args)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page


@pytest.fixture
def errors() -> Iterator[list[str]]:
    seen: list[str] = []
    yield seen
    assert not seen, f"JavaScript errors on the page: {seen}"


@pytest.fixture
def page(browser, errors: list[str]):  # type: ignore[no-untyped-def]
    context, page = new_page(browser, errors)
    yield page
    context.close()


def pass_prechat(page) -> None:  # type: ignore[no-untyped-def]
    """The demo shop asks for a name before the first message."""
    expect(page.locator(f"{W} #sapa-pc-name")).to_be_visible(timeout=15_000)
    page.locator(f"{W} #sapa-pc-name").fill("Rina Wulandari")
    page.locator(f"{W} .prechat button[type=submit]").click()


def test_an_answers_action_button_starts_that_action_in_the_chat(page, server: RunningServer) -> None:  # type: ignore[no-untyped-def]
    # "Laporkan lewat tombol di bawah": the answer promises a button; it must be there and work.
    page.goto(server.base + "/bantuan?q=barang+rusak+gimana")
    best = page.locator("section.result details.entry").first
    expect(best).to_have_attribute("data-faq", "order-damaged-item")
    expect(best.locator(".answer")).to_contain_text("tombol di bawah")
    report = best.get_by_role("button", name="Laporkan sekarang")
    expect(report).to_be_visible()
    report.click()

    # The chat opens (after the shop's pre-chat form) with the button's action sent as its title,
    # and the bot starts the complaint, as a tap on that button in the chat would.
    expect(page.locator(f"{W} .win")).to_be_visible(timeout=15_000)
    pass_prechat(page)
    expect(page.locator(f"{W} .row.customer .bubble")).to_have_text("Laporkan sekarang", timeout=REPLY_TIMEOUT)
    expect(page.locator(f"{W} .row.bot[data-seq] .bubble").last).to_contain_text(
        "Boleh diceritakan masalahnya", timeout=REPLY_TIMEOUT
    )
    # No raw payload anywhere on the page.
    expect(page.locator("body")).not_to_contain_text("/complaint")


@pytest.mark.parametrize(("browser_locale", "page_lang", "title", "reply"), [
    ("id-ID", "en", "Chat with Batik Sekar Ayu", "What's the order number?"),
    ("en-GB", "id", "Chat dengan Batik Sekar Ayu", "Nomor pesanannya berapa?"),
])
def test_the_chat_opened_from_the_page_speaks_the_pages_language(  # type: ignore[no-untyped-def]
    browser, errors: list[str], server: RunningServer, browser_locale: str, page_lang: str, title: str, reply: str
) -> None:
    # A visitor whose browser says Indonesian reads the English page (or the other way round)
    # and asks the chat from it: the chat and the bot answer in the page's language.
    context, page = new_page(browser, errors, locale=browser_locale)
    try:
        page.goto(server.base + f"/bantuan?lang={page_lang}#order-status-check")
        entry = page.locator("details#order-status-check")
        expect(entry).to_have_attribute("open", "")
        entry.locator("button.action").click()
        expect(page.locator(f"{W} .win")).to_be_visible(timeout=15_000)
        expect(page.locator(f"{W} .win")).to_contain_text(title)
        pass_prechat(page)
        expect(page.locator(f"{W} .row.bot[data-seq] .bubble").last).to_contain_text(reply, timeout=REPLY_TIMEOUT)
    finally:
        context.close()


def test_a_question_for_the_chat_is_handed_over_not_retyped(page, server: RunningServer) -> None:  # type: ignore[no-untyped-def]
    # "cek pesanan saya SP-…" is the chat's job; the page says so, and its button takes the
    # question along: the bot goes straight on with that order.
    question = "cek pesanan saya SP-2026-000123"
    page.goto(server.base + "/bantuan")
    box = page.get_by_role("searchbox")
    box.fill(question)
    box.press("Enter")
    result = page.locator("section.result")
    expect(result).to_contain_text("paling cepat lewat chat")
    result.get_by_role("button", name="Chat dengan kami").click()
    pass_prechat(page)
    expect(page.locator(f"{W} .row.customer .bubble")).to_have_text(question, timeout=REPLY_TIMEOUT)
    expect(page.locator(f"{W} .row.bot[data-seq] .bubble").last).to_contain_text("nomor HP atau email", timeout=REPLY_TIMEOUT)


def shop_with_look(root: Path, colors: str, logo: str | None) -> Path:
    """The demo shop with other colours (and logo) in its widget.yml."""
    data = root / "data"
    shutil.copytree(DEMO_DATA, data, ignore=shutil.ignore_patterns("uploads", ".secret_key"))
    widget = data / "widget.yml"
    text = widget.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^colors:.*$", f"colors: {colors}", text)
    text = re.sub(r"(?m)^logo:.*$", f'logo: "{logo}"' if logo else "logo: null", text)
    widget.write_text(text, encoding="utf-8")
    return data


def rgb(hex_color: str) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def contrast(css_a: str, css_b: str) -> float:
    """WCAG contrast ratio of two computed ``rgb(r, g, b)`` colours."""
    def luminance(css: str) -> float:
        channels = [int(v) / 255 for v in re.findall(r"\d+", css)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    hi, lo = sorted((luminance(css_a), luminance(css_b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize(("primary", "on_primary", "logo", "links_in_brand"), [
    ("#0A6E3C", "#FFFFFF", "/widget/assets/logo.svg", True),  # a green shop with its logo
    ("#FFD400", "#111111", None, False),  # a yellow one: too light for links on the page
])
def test_the_page_wears_the_shops_colours_and_logo(  # type: ignore[no-untyped-def]
    browser, errors: list[str], tmp_path: Path, primary: str, on_primary: str, logo: str | None, links_in_brand: bool
) -> None:
    data = shop_with_look(tmp_path, f'{{primary: "{primary}", text_on_primary: "{on_primary}"}}', logo)
    running = start_server(tmp_path / "work", data)
    context, page = new_page(browser, errors, viewport={"width": 1280, "height": 800}, is_mobile=False)
    try:
        page.goto(running.base + "/bantuan#payment-methods")
        style = "(el, prop) => getComputedStyle(el)[prop]"
        header = page.locator("header.top")
        assert header.evaluate(style, "backgroundColor") == rgb(primary)
        assert header.get_by_role("link").first.evaluate(style, "color") == rgb(on_primary)
        search = page.get_by_role("button", name="Cari")
        assert (search.evaluate(style, "backgroundColor"), search.evaluate(style, "color")) == (rgb(primary), rgb(on_primary))
        # Links on the light page take the shop's colour only where it stays readable (4.5:1).
        link = page.locator("details#payment-methods a[data-entry]").first
        expect(link).to_be_visible()
        color = link.evaluate(style, "color")
        assert (color == rgb(primary)) is links_in_brand
        assert contrast(color, page.locator("details#payment-methods").evaluate(style, "backgroundColor")) >= 4.5
        shown = page.locator("header.top img")
        if logo:
            expect(shown).to_have_attribute("src", logo)
            assert shown.evaluate("img => img.complete && img.naturalWidth > 0")
        else:
            expect(shown).to_have_count(0)
    finally:
        context.close()
        running.stop()


def test_an_opened_entry_can_be_shared_by_its_address(browser, errors: list[str], page, server: RunningServer) -> None:  # type: ignore[no-untyped-def]
    # A visitor opens an answer and copies the address bar to a friend: the friend's page opens
    # at that answer, already open.
    page.goto(server.base + "/bantuan?lang=en")
    page.locator("details#payment-cod > summary").click()
    expect(page.locator("details#payment-cod")).to_have_attribute("open", "")
    expect(page).to_have_url(server.base + "/bantuan?lang=en#payment-cod")
    page.locator("details#payment-cod > summary").click()  # closed again: no longer the page's anchor
    expect(page).to_have_url(server.base + "/bantuan?lang=en")

    friend, friend_page = new_page(browser, errors)
    try:
        friend_page.goto(server.base + "/bantuan?lang=en#payment-cod")
        shared = friend_page.locator("details#payment-cod")
        expect(shared).to_have_attribute("open", "")
        expect(shared.locator(".answer")).to_be_in_viewport()
        # Another entry's address typed on the same page opens that one too.
        friend_page.goto(server.base + "/bantuan?lang=en#shipping-cost")
        expect(friend_page.locator("details#shipping-cost")).to_have_attribute("open", "")
        # A link mangled on the way (a broken %-escape) is no script error, just the page.
        friend_page.goto(server.base + "/bantuan?lang=en#%E0%A4")
        expect(friend_page.get_by_role("heading", name="Help Centre")).to_be_visible()
    finally:
        friend.close()


@pytest.mark.parametrize(("query", "found"), [
    ("resep nasi goreng kampung", "belum ada jawaban yang pas"),  # nothing in the FAQ
    ("cek pesanan SP-2026-000123", "paling cepat lewat chat"),  # the chat's job
    ("bisa cod?", "COD tersedia"),  # an answer
])
def test_a_screen_reader_learns_what_a_search_found(page, server: RunningServer, query: str, found: str) -> None:  # type: ignore[no-untyped-def]
    # A search reloads the page: the title says what was searched, and the result (found or
    # not) is a named region with a heading, so heading navigation does not skip past it.
    page.goto(server.base + "/bantuan")
    box = page.get_by_role("searchbox", name="Cari")
    box.fill(query)
    box.press("Enter")
    expect(page).to_have_title(f"“{query}” · Pusat Bantuan · Batik Sekar Ayu")
    name = f"Hasil pencarian untuk “{query}”"
    expect(page.get_by_role("heading", level=2, name=name)).to_have_count(1)
    expect(page.get_by_role("region", name=name)).to_contain_text(found)
    # The outline: h1 page, h2 results, h3 within, h2 all questions, h3 per category.
    levels = page.locator("main").locator("h1, h2, h3").evaluate_all("hs => hs.map(h => h.tagName)")
    assert levels[:2] == ["H1", "H2"] and levels.index("H2", 1) == 1
    assert all(level == "H3" for level in levels[2 : levels.index("H2", 2)])


def test_without_javascript_the_page_answers_and_shows_no_dead_buttons(browser, errors: list[str], server: RunningServer) -> None:  # type: ignore[no-untyped-def]
    # Search is a plain form and entries are <details>: both work without JavaScript. The chat
    # does not, so its buttons are not offered where they could do nothing.
    context, page = new_page(browser, errors, java_script_enabled=False)
    try:
        page.goto(server.base + "/bantuan")
        box = page.get_by_role("searchbox", name="Cari")
        box.fill("barang rusak gimana")
        box.press("Enter")
        best = page.locator("section.result details.entry").first
        expect(best.locator(".answer")).to_contain_text("Mohon maaf")
        expect(page.locator("[data-open-chat]").first).to_be_attached()
        expect(page.locator("[data-open-chat]:visible")).to_have_count(0)
        page.locator("details#payment-methods > summary").click()
        page.locator("details#payment-methods a[data-entry]").first.click()
        expect(page).to_have_url(re.compile(r"#payment-bank-accounts$"))
    finally:
        context.close()

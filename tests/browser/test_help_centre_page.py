"""The help centre (``/bantuan``) in real headless Chromium on a phone-sized screen: a visitor
searches in their own words, follows an entry's link to another entry, switches language, and
opens the chat from the page."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.browser.conftest import NEEDS_CHROMIUM
from tests.conftest import RunningServer, start_server

pytestmark = NEEDS_CHROMIUM

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python")
expect = sync_api.expect


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("help-centre-browser"))
    yield running
    running.stop()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="id-ID", is_mobile=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_search_follow_a_link_switch_language_and_open_the_chat(page, server: RunningServer) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.base + "/bantuan")
    expect(page.get_by_role("heading", name="Pusat Bantuan")).to_be_visible()
    box = page.get_by_role("searchbox")
    box.fill("kak bisa bayar pake apa aja?")
    box.press("Enter")

    best = page.locator("section.result details.entry").first
    expect(best).to_have_attribute("data-faq", "payment-methods")
    expect(best.locator(".answer")).to_be_visible()  # opened, not just listed
    expect(page.get_by_role("searchbox")).to_have_value("kak bisa bayar pake apa aja?")

    # The entry's "Nomor rekening" button is a link to that entry further down, which opens.
    best.get_by_role("link", name="Nomor rekening").click()
    target = page.locator("details#payment-bank-accounts")
    expect(target).to_have_attribute("open", "")
    expect(target.locator(".answer")).to_be_in_viewport()

    # English keeps the question and answers it in English.
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Help Centre")).to_be_visible()
    expect(page.locator("section.result details.entry").first.locator(".answer")).to_contain_text("We accept bank transfer")

    # Nothing in the FAQ: the page offers the chat, and the button opens the widget.
    box = page.get_by_role("searchbox")
    box.fill("what will the weather be in Jakarta tomorrow")
    box.press("Enter")
    expect(page.locator("section.result")).to_contain_text("Ask us in the chat")
    page.locator("section.result [data-open-chat]").click()
    expect(page.locator("sapa-chat .win")).to_be_visible(timeout=15_000)

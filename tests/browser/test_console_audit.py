"""Findings of the console audit, in real headless Chromium next to a customer in the widget:
hostile names and the layout, the inbox search kept live, keyboard focus after actions."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import NEEDS_CHROMIUM
from tests.browser.test_console import ConsoleUser, Server, agent, customer, server, start_chat  # noqa: F401 (fixtures)
from tests.browser.test_widget import REPLY_TIMEOUT, Visitor
from tests.console.conftest import HANDOFF_TEXT

pytestmark = NEEDS_CHROMIUM

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python")
expect = sync_api.expect

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def test_a_long_customer_name_wraps_instead_of_breaking_the_layout(agent: ConsoleUser, customer: Visitor) -> None:
    """Before: a customer name of one long word (the widget takes 100 characters) widened the
    inbox past the window, squeezing "Pesan terakhir" to a few letters a line, and on the
    conversation page it pushed "Ambil alih" and the other actions under the side panel."""
    name = "Nadia " + "W" * 90
    agent.login("budi")
    start_chat(customer, name)
    customer.send(HANDOFF_TEXT)
    row = agent.row("Nadia WWW")
    expect(row).to_have_count(1, timeout=REPLY_TIMEOUT)
    page = agent.page
    page.reload()  # the server's rendering too, not only the live row
    expect(row.locator(".c-customer a")).to_have_text(name)
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the inbox is wider than the window"
    last = row.locator(".c-last").bounding_box()
    assert last is not None and last["width"] >= 150, last

    agent.open_conversation("Nadia WWW")
    expect(page.locator("h1")).to_contain_text(name)
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the conversation page is wider than the window"
    aside = page.locator("aside.aside").bounding_box()
    assert aside is not None
    for act in ("take", "release", "handback", "resolve"):
        box = page.locator(f"button[data-act={act}]").bounding_box()
        assert box is not None and box["x"] + box["width"] <= aside["x"], (act, box, aside)
    agent.shot("console-audit-01-long-name")


def test_a_customer_found_by_phone_stays_in_the_search_when_they_write(agent: ConsoleUser, customer: Visitor) -> None:
    """Before: the inbox searched names, phones and e-mails on the server, but the page judged
    live updates by name alone, so a customer found by their phone number vanished from the
    list the moment they wrote again (and came back only on a reload)."""
    customer.open_page()
    customer.open_widget()
    customer.loc("#sapa-pc-name").fill("Dewi Anggraini")
    customer.loc("#sapa-pc-phone").fill("081277788899")
    customer.loc(".prechat button[type=submit]").click()
    expect(customer.loc("textarea.input")).to_be_visible()
    customer.ask(HANDOFF_TEXT)

    agent.login("budi")
    page = agent.page
    page.goto(agent.base + "/console/inbox?q=0812777")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "online")
    row = agent.row("Dewi Anggraini")
    expect(row).to_have_count(1)
    page.evaluate("window.__sameDocument = true")

    customer.ask("halo kak, masih ada orang?")  # waits for the bot's answer to it
    page.wait_for_timeout(1000)  # let every live update of that turn arrive
    expect(row).to_have_count(1)
    expect(page.locator("#inbox-count")).to_have_text("1")
    assert page.evaluate("window.__sameDocument") is True  # live, not reloaded

    # A customer the search does not find still stays out.
    other = Visitor(customer.context.browser, agent.base)
    try:
        start_chat(other, "Bambang Lain")
        other.send(HANDOFF_TEXT)
        expect(page.locator("#inbox-count")).to_have_text("1")
        page.wait_for_timeout(1500)
        expect(agent.row("Bambang Lain")).to_have_count(0)
    finally:
        other.close()


def test_keyboard_focus_follows_the_conversation_actions(agent: ConsoleUser, customer: Visitor) -> None:
    """Before: a button pressed with the keyboard is disabled while its request runs, which drops
    the focus to the page itself: after "Ambil alih", "Simpan catatan" or "Selesaikan" a
    keyboard user had to Tab from the top of the page again. Now the focus goes to the next
    step: the reply box, the note box, or the conversation's new status."""
    agent.login("budi")
    start_chat(customer, "Joko Keyboard")
    customer.send(HANDOFF_TEXT)
    expect(agent.row("Joko Keyboard")).to_have_count(1, timeout=REPLY_TIMEOUT)
    agent.open_conversation("Joko Keyboard")
    page = agent.page

    page.focus("button[data-act=take]")
    page.keyboard.press("Enter")
    expect(page.locator("#conv-status")).to_have_text("Ditangani agen")
    expect(page.locator("#reply-text")).to_be_focused()

    page.keyboard.type("Halo Kak Joko, saya bantu cek ya")
    page.keyboard.press("Enter")
    expect(page.locator("#timeline .msg.m-agent .text", has_text="saya bantu cek")).to_have_count(1)
    expect(page.locator("#reply-text")).to_be_focused()

    page.fill("#note-text", "Pelanggan pakai keyboard saja")
    page.focus("#note-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#timeline .note .text", has_text="keyboard saja")).to_be_visible()
    expect(page.locator("#note-text")).to_be_focused()

    page.focus("button[data-act=resolve]")
    page.keyboard.press("Enter")
    expect(page.locator("#conv-status")).to_have_text("Selesai")
    expect(page.locator("#conv-status")).to_be_focused()
    assert re.fullmatch(r"Selesai", page.evaluate("document.activeElement.textContent"))


def test_an_ended_session_says_so_and_keeps_the_reply_being_written(agent: ConsoleUser, customer: Visitor, server: Server) -> None:
    """Before: when the session ended while the agent was writing (2 hours unused, or the
    account was deactivated), pressing Enter sent them to the login form with no word of why,
    and after logging in again the reply they had written was gone. Now the form says the
    session ended, and the reply box holds the text until it is sent."""
    import sqlite3

    from tests.console.conftest import ACCOUNTS

    agent.login("budi")
    start_chat(customer, "Sinta Sesi")
    customer.send(HANDOFF_TEXT)
    expect(agent.row("Sinta Sesi")).to_have_count(1, timeout=REPLY_TIMEOUT)
    cid = agent.open_conversation("Sinta Sesi")
    page = agent.page
    page.click("button[data-act=take]")
    expect(page.locator("#conv-status")).to_have_text("Ditangani agen")

    draft = "Kak Sinta, ukuran L-nya sudah saya cek di gudang, masih ada 2 ✅"
    page.locator("#reply-text").press_sequentially(draft)
    db = sqlite3.connect(server.workdir / "sapa.db", timeout=10)
    try:  # the session ends on the server, as after 2 hours unused
        db.execute("DELETE FROM console_sessions WHERE agent_id = (SELECT id FROM agents WHERE username = 'budi')")
        db.commit()
    finally:
        db.close()
    page.press("#reply-text", "Enter")
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    expect(page.locator("#login-notice")).to_have_text("Sesi Anda sudah berakhir. Silakan masuk lagi untuk melanjutkan.")
    agent.errors.clear()  # the refused request's 401 is not a script error, but be sure none other is hidden
    agent.shot("console-audit-02-session-ended")

    page.fill("#username", "budi")
    page.fill("#password", ACCOUNTS["budi"][2])
    page.click("form.login button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/console/conversations/{cid}$"))
    expect(page.locator("#reply-text")).to_have_value(draft)
    page.press("#reply-text", "Enter")
    expect(customer.loc(".row.agent .bubble").filter(has_text="masih ada 2")).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(page.locator("#reply-text")).to_have_value("")
    page.reload()
    expect(page.locator("#reply-text")).to_have_value("")  # sent: not offered again
    # A plain visit to the login form (after logging out) says nothing about an ended session.
    page.click("form.logout button[type=submit]")
    expect(page).to_have_url(re.compile(r"/console/login$"))
    expect(page.locator("#login-notice")).to_have_count(0)


def test_the_numbers_fill_in_as_the_agent_replies_and_resolves(agent: ConsoleUser, customer: Visitor) -> None:
    """Before: "Tunggu agen" and "Waktu penyelesaian" stayed "—" after the reply and the resolve
    until the page was reloaded, though the times were stored."""
    agent.login("budi")
    start_chat(customer, "Rudi Angka")
    customer.send(HANDOFF_TEXT)
    expect(agent.row("Rudi Angka")).to_have_count(1, timeout=REPLY_TIMEOUT)
    agent.open_conversation("Rudi Angka")
    page = agent.page
    page.evaluate("window.__sameDocument = true")
    wait, resolution = page.locator('[data-number="wait_for_human"]'), page.locator('[data-number="resolution"]')
    expect(wait).to_have_text("—")
    expect(resolution).to_have_text("—")
    page.click("button[data-act=take]")
    expect(page.locator("#conv-status")).to_have_text("Ditangani agen")
    page.fill("#reply-text", "Halo Kak Rudi, saya bantu ya")
    page.press("#reply-text", "Enter")
    expect(wait).not_to_have_text("—")
    page.click("button[data-act=resolve]")
    expect(page.locator("#conv-status")).to_have_text("Selesai")
    expect(resolution).not_to_have_text("—")
    assert page.evaluate("window.__sameDocument") is True  # filled live, not by a reload

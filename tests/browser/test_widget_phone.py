"""The demo shop and its chat widget on a phone-sized screen, in real Chromium."""

from __future__ import annotations

import re
from typing import Iterator

import pytest

from tests.browser.conftest import NEEDS_CHROMIUM
from tests.browser.test_widget import Visitor, copy_demo_data
from tests.conftest import RunningServer, start_server

pytestmark = NEEDS_CHROMIUM

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python")
expect = sync_api.expect

PHONE = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("widget-phone")
    running = start_server(root / "work", copy_demo_data(root / "data"))
    yield running
    running.stop()


@pytest.fixture
def phone(browser, server: RunningServer) -> Iterator[Visitor]:  # type: ignore[no-untyped-def]
    v = Visitor(browser, server.base, **PHONE)
    yield v
    v.close()
    assert not v.errors, f"JavaScript errors on the page: {v.errors}"


def overlaps(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_the_footer_scrolls_clear_of_the_launcher(phone: Visitor) -> None:
    v, page = phone, phone.page
    console_errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    v.open_page()
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("() => Math.ceil(window.scrollY + innerHeight) >= document.documentElement.scrollHeight")
    launcher = v.loc(".launcher").bounding_box()
    assert launcher is not None
    # Every piece of footer text (headings, lines, the demo note and its code) is readable, not under the button.
    texts = page.locator("footer.site :is(h4, p, code, a)")
    assert texts.count() >= 5
    covered = [texts.nth(i).inner_text()[:40] for i in range(texts.count()) if overlaps(texts.nth(i).bounding_box(), launcher)]
    assert covered == [], f"the chat button covers: {covered}"
    v.shot("phone-footer-clear-of-launcher")
    assert console_errors == [], "the demo page has errors in the browser console (a missing favicon is one)"


@pytest.fixture
def english_phone(browser, server: RunningServer) -> Iterator[Visitor]:  # type: ignore[no-untyped-def]
    v = Visitor(browser, server.base, **PHONE, locale="en-US")
    yield v
    v.close()
    assert not v.errors, f"JavaScript errors on the page: {v.errors}"


def test_one_unread_reply_is_one_new_message_in_english(english_phone: Visitor) -> None:
    v = english_phone
    # The server's frames are held while the chat is closed, so the answer surely arrives
    # after it is (on a fast machine it used to come before the Escape key).
    held: list = []
    state = {"holding": False, "page_side": None}

    def proxy(ws):  # type: ignore[no-untyped-def]
        server = ws.connect_to_server()
        state["page_side"] = ws
        ws.on_message(lambda m: server.send(m))
        server.on_message(lambda m: held.append(m) if state["holding"] else ws.send(m))

    v.page.route_web_socket(re.compile(r".*/widget/ws.*"), proxy)
    v.open_page()
    v.open_widget()
    v.pass_prechat("John Smith")
    state["holding"] = True
    v.send("what payment methods do you accept?")
    v.page.keyboard.press("Escape")  # closed before the answer comes
    expect(v.loc(".win")).to_be_hidden()
    state["holding"] = False
    for frame in held:
        state["page_side"].send(frame)
    expect(v.loc(".badge")).to_have_text("1", timeout=20_000)
    expect(v.loc(".launcher")).to_have_attribute("aria-label", re.compile(r" — 1 new message$"))


# The colour of an element's text (or of its ``pseudo`` element) and of the first opaque background
# behind it (through the shadow root), each as [r, g, b].
COLOURS = """(el, pseudo) => {
  const rgb = c => c.match(/[\\d.]+/g).map(Number);
  let node = el, back = [255, 255, 255];
  while (node && node.nodeType === 1) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length < 4 || c[3] === 1) { back = c.slice(0, 3); break; }
    node = node.parentNode && node.parentNode.host ? node.parentNode.host : node.parentNode;
  }
  return [rgb(getComputedStyle(el, pseudo).color).slice(0, 3), back];
}"""


def contrast(fg: list[float], bg: list[float]) -> float:
    def lum(c: list[float]) -> float:
        a = [v / 255 for v in c]
        a = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in a]
        return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2]
    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_small_grey_texts_are_readable(english_phone: Visitor) -> None:
    """The counter, message times, day labels and the placeholder meet WCAG AA (4.5:1)."""
    v = english_phone
    v.open_page()
    v.open_widget()
    v.pass_prechat("John Smith")
    v.ask("what payment methods do you accept?")
    v.loc("textarea.input").fill("a" * 1900)
    expect(v.loc(".hint .count")).to_have_text("100 characters left")
    texts = {
        "counter": (".hint .count", None),
        "message time": (".row.bot[data-seq] .meta time", None),
        "day label": (".day", None),
        "placeholder": ("textarea.input", "::placeholder"),
    }
    faint = {}
    for name, (selector, pseudo) in texts.items():
        fg, bg = v.loc(selector).first.evaluate(COLOURS, pseudo)
        if contrast(fg, bg) < 4.5:
            faint[name] = round(contrast(fg, bg), 2)
    assert faint == {}, f"too faint to read: {faint}"


def test_the_full_screen_chat_is_a_modal_dialog_on_a_phone(english_phone: Visitor, browser, server: RunningServer) -> None:  # type: ignore[no-untyped-def]
    """Full screen with Tab kept inside, it must also tell screen readers the page behind is out of reach."""
    v = english_phone
    v.open_page()
    v.open_widget()
    expect(v.loc(".win")).to_have_attribute("aria-modal", "true")
    desktop = Visitor(browser, server.base, locale="en-US")
    try:
        desktop.open_page()
        desktop.open_widget()
        expect(desktop.loc(".win")).to_have_attribute("aria-modal", "false")  # a panel beside the page
    finally:
        desktop.close()

"""The widget's limits as a shop sets them in widget.yml, told to the shopper in real Chromium.

A server whose widget.yml has small limits (a 300 KB image, 120 characters): the widget must
name those limits correctly, not round them away.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.conftest import NEEDS_CHROMIUM
from tests.browser.test_widget import Visitor, copy_demo_data, png
from tests.conftest import RunningServer, start_server

pytestmark = NEEDS_CHROMIUM

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python")
expect = sync_api.expect

SMALL_LIMITS_YML = """\
version: 1
prechat: {name: off, email: off, phone: off}
limits: {max_chars: 120, upload_max_bytes: 300000}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("widget-limits")
    data = copy_demo_data(root / "data")
    (data / "widget.yml").write_text(SMALL_LIMITS_YML, encoding="utf-8")
    running = start_server(root / "work", data)
    yield running
    running.stop()


@pytest.fixture
def visitor(browser, server: RunningServer) -> Iterator[Visitor]:  # type: ignore[no-untyped-def]
    v = Visitor(browser, server.base)
    yield v
    v.close()
    assert not v.errors, f"JavaScript errors on the page: {v.errors}"


def test_a_small_image_limit_is_named_in_kilobytes(visitor: Visitor, tmp_path: Path) -> None:
    v = visitor
    v.open_page()
    v.open_widget()
    big = tmp_path / "foto-produk.png"
    big.write_bytes(png(400, 400) + b"\0" * 400_000)  # a valid PNG header, 0.4 MB
    v.loc("input[type=file]").set_input_files(str(big))
    note = v.loc(".row.system.err .bubble").last
    expect(note).to_have_text("Ukuran gambarnya kebesaran, Kak. Maksimal 292 KB ya.")  # 300,000 bytes, not "0 MB"
    expect(v.loc(".preview")).to_be_hidden()
    v.loc(".lang").click()
    v.loc("input[type=file]").set_input_files(str(big))
    expect(v.loc(".row.system.err .bubble").last).to_have_text("That image is too large. The limit is 292 KB.")


def test_the_character_counter_says_how_many_too_many(visitor: Visitor) -> None:
    v = visitor
    v.open_page()
    v.open_widget()
    box, count = v.loc("textarea.input"), v.loc(".hint .count")
    box.fill("a" * 119)
    expect(count).to_have_text("Sisa 1 karakter")
    box.fill("a" * 123)
    expect(count).to_have_text("Kelebihan 3 karakter")
    expect(v.loc(".sendbtn")).to_be_disabled()
    box.press("Enter")
    expect(v.loc(".row.system.err .bubble").last).to_have_text(re.compile("Maksimal 120 karakter"))
    v.loc(".lang").click()
    expect(count).to_have_text("3 characters too many")
    box.fill("a" * 121)
    expect(count).to_have_text("1 character too many")
    box.fill("a" * 119)
    expect(count).to_have_text("1 character left")


# Every text a screen reader would announce from the composer: each change of a live region in it.
WATCH_LIVE_REGIONS = """() => {
  const composer = document.querySelector('sapa-chat').shadowRoot.querySelector('.composer');
  const live = [...composer.querySelectorAll('[aria-live], [role=status], [role=alert], [role=log]')]
    .filter(n => n.getAttribute('aria-live') !== 'off');
  window.announced = [];
  const observer = new MutationObserver(() => {
    for (const region of live) {
      const text = region.textContent.trim();
      if (text && region.dataset.lastSaid !== text) window.announced.push(text);
      region.dataset.lastSaid = text;
    }
  });
  live.forEach(n => observer.observe(n, {subtree: true, childList: true, characterData: true}));
  return live.map(n => [n.getAttribute('aria-live') || 'polite', n.getAttribute('role')]);
}"""


def test_the_character_counter_is_announced_only_near_and_over_the_limit(visitor: Visitor) -> None:
    v, page = visitor, visitor.page
    v.open_page()
    v.open_widget()
    box, count = v.loc("textarea.input"), v.loc(".hint .count")
    regions = page.evaluate(WATCH_LIVE_REGIONS)
    assert regions and all(politeness == "polite" for politeness, _ in regions), regions
    box.fill("a" * 90)
    box.press_sequentially("b" * 10)  # 20 left: worth one word
    expect(count).to_have_text("Sisa 20 karakter")  # still on screen
    box.press_sequentially("c" * 19)  # typing on near the limit: silent
    expect(count).to_have_text("Sisa 1 karakter")
    box.press_sequentially("dd")  # over the limit: one word, then silence
    expect(count).to_have_text("Kelebihan 1 karakter")
    box.press_sequentially("e")
    expect(count).to_have_text("Kelebihan 2 karakter")
    page.wait_for_function("() => window.announced.length >= 2")
    assert page.evaluate("() => window.announced") == ["Sisa 20 karakter", "Kelebihan 1 karakter"]
    # The box itself says how much room is left when a screen reader lands on it.
    described = box.get_attribute("aria-describedby")
    assert described and v.loc(f"#{described}").inner_text() == "Kelebihan 2 karakter"

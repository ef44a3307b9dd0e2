"""The offline notice follows the shop's business hours while the page stays open (real Chromium).

The browser's clock is Playwright's (``page.clock``), moved hours ahead in a moment; the server
keeps real time, so after the first connection the test keeps the widget away from it (a later
socket is never answered, a later ``/widget/session`` fails): what the widget shows then comes
from what it was told at the start, not from a reconnect.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import NEEDS_CHROMIUM
from tests.browser.test_widget import Visitor, copy_demo_data
from tests.conftest import RunningServer, start_server

pytestmark = NEEDS_CHROMIUM

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python")
expect = sync_api.expect

JAKARTA = ZoneInfo("Asia/Jakarta")
EVERY_DAY_8_TO_5_YML = """\
version: 1
prechat: {name: off, email: off, phone: off}
business_hours:
  timezone: Asia/Jakarta
  days: {mon: "08:00-17:00", tue: "08:00-17:00", wed: "08:00-17:00", thu: "08:00-17:00",
         fri: "08:00-17:00", sat: "08:00-17:00", sun: "08:00-17:00"}
  offline_message:
    id: "Admin membalas mulai {next_open}."
    en: "A person replies from {next_open}."
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("widget-hours")
    data = copy_demo_data(root / "data")
    (data / "widget.yml").write_text(EVERY_DAY_8_TO_5_YML, encoding="utf-8")
    running = start_server(root / "work", data)
    yield running
    running.stop()


def next_local(after: datetime, hour: int) -> datetime:
    """The first ``hour``:00 in Jakarta strictly after ``after``."""
    local = after.astimezone(JAKARTA)
    at = datetime.combine(local.date(), time(hour), tzinfo=JAKARTA)
    return at if at > local else at + timedelta(days=1)


def test_the_offline_notice_follows_the_hours_while_the_page_stays_open(browser, server: RunningServer) -> None:  # type: ignore[no-untyped-def]
    v = Visitor(browser, server.base, viewport={"width": 375, "height": 667})
    page = v.page
    welcomed: list[str] = []
    sockets: list[object] = []

    def socket(ws) -> None:  # type: ignore[no-untyped-def]
        sockets.append(ws)
        if len(sockets) > 1:
            return  # a later socket: the server is out of reach, nothing ever answers
        real = ws.connect_to_server()
        ws.on_message(lambda m: real.send(m))

        def from_server(m: str) -> None:
            if '"welcome"' in m:
                welcomed.append(m)
            ws.send(m)

        real.on_message(from_server)

    sessions: list[str] = []

    def session(route) -> None:  # type: ignore[no-untyped-def]
        sessions.append(route.request.url)
        route.continue_() if len(sessions) == 1 else route.abort()

    page.route_web_socket(re.compile(r"/widget/ws"), socket)
    page.route(re.compile(r"/widget/session$"), session)
    page.clock.install(time=datetime.now(UTC))
    try:
        v.open_page()
        v.open_widget()
        expect(v.loc("textarea.input")).to_be_visible()
        deadline = 400
        while not welcomed and deadline:
            page.wait_for_timeout(50)
            deadline -= 1
        assert welcomed, "the widget never got its welcome"
        notice, status = v.loc(".offline-notice"), v.loc(".status")

        def browser_now() -> datetime:
            return datetime.fromtimestamp(page.evaluate("() => Date.now()") / 1000, UTC)

        def go_to(at: datetime) -> None:
            page.clock.fast_forward(int((at - browser_now()).total_seconds() * 1000))

        opens = next_local(browser_now() + timedelta(minutes=2), 8)
        closes = next_local(opens, 17)

        go_to(opens - timedelta(minutes=1))
        expect(notice).to_be_visible()
        expect(notice).to_have_text("Admin membalas mulai hari ini pukul 08.00 WIB.")
        expect(status).to_have_text("Sedang offline")

        go_to(opens + timedelta(minutes=1))  # the shop opens: the notice goes by itself
        expect(notice).to_be_hidden()
        expect(status).to_have_text(re.compile("^Online"))
        # (At most 4 changes so far, of the 6 it was told: nothing to ask the server yet.)
        assert len(sessions) == 1, "the widget asked the server again before its known changes ran out"

        go_to(closes + timedelta(minutes=1))  # and comes back when it closes
        expect(notice).to_be_visible()
        expect(notice).to_have_text("Admin membalas mulai besok pukul 08.00 WIB.")
        v.loc(".lang").click()
        expect(notice).to_have_text("A person replies from tomorrow at 08:00 WIB.")
        expect(status).to_have_text("Offline")
    finally:
        v.close()
    assert not v.errors, f"JavaScript errors on the page: {v.errors}"

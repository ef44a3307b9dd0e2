"""The help centre (``/bantuan``) over HTTP, audited as visitors and shops meet it: every
button of an answer is on the page, the page carries the shop's look, links keep the query.
Against a running `sapa run`."""

from __future__ import annotations

import html
import re
import urllib.parse
from typing import Iterator

import pytest

from bot.shopdata.loader import load_shop
from tests.conftest import DEMO_DATA, RunningServer, start_server
from tests.test_help_centre import get, result_section


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("help-centre-audit"))
    yield running
    running.stop()


def entry_html(page: str, faq_id: str) -> str:
    match = re.search(rf'<details class="entry" id="{faq_id}".*?</details>', page, re.S)
    assert match, f"entry {faq_id} not listed"
    return match.group(0)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_button_of_an_answer_is_on_the_page(server: RunningServer, lang: str) -> None:
    # Answers say "report it with the button below": each button is either a link to the
    # entry it names or a chat button carrying its payload, under its title, never the raw payload.
    shop = load_shop(DEMO_DATA)
    _, _, page = get(server.base, "/bantuan", lang=lang)
    for entry in shop.faqs:
        shown = entry_html(page, entry.id)
        for button in entry.buttons:
            title = html.escape(button.title[lang], quote=False)
            if button.payload.startswith("/faq/"):
                assert f'href="#{button.payload[5:]}"' in shown and f">{title}</a>" in shown
            else:
                assert f'data-chat-send="{button.payload}"' in shown, (entry.id, button.payload)
                assert f">{title}</button>" in shown and f">{button.payload}<" not in shown


def test_a_search_linked_as_help_still_searches(server: RunningServer) -> None:
    # A shop's English page links "/help?q=cash on delivery": the visitor lands on the answer.
    status, url, page = get(server.base, "/help", q="can I pay cash on delivery?")
    landed = urllib.parse.urlsplit(url)
    assert status == 200 and landed.path == "/bantuan"
    assert urllib.parse.parse_qs(landed.query) == {"lang": ["en"], "q": ["can I pay cash on delivery?"]}
    assert 'data-faq="payment-cod"' in result_section(page)

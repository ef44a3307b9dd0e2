"""The help centre (``/bantuan``) over HTTP against a running `sapa run` on the demo shop:
every FAQ entry listed, searches in the customer's words, hostile queries shown literally."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import DEMO_DATA, RunningServer, start_server
from bot.shopdata.loader import load_shop


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("help-centre"))
    yield running
    running.stop()


def get(base: str, path: str, **query: str) -> tuple[int, str, str]:
    url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.geturl(), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, url, e.read().decode("utf-8", "replace")


def result_section(page: str) -> str:
    match = re.search(r'<section class="result".*?</section>', page, re.S)
    assert match, "no search result on the page"
    return match.group(0)


def shown_entries(fragment: str) -> list[str]:
    return re.findall(r'data-faq="([a-z0-9-]+)"', fragment)


def test_every_entry_is_listed_by_category_in_both_languages(server: RunningServer) -> None:
    shop = load_shop(DEMO_DATA)
    status, _, page = get(server.base, "/bantuan")
    assert status == 200 and '<html lang="id">' in page
    assert sorted(shown_entries(page)) == sorted(e.id for e in shop.faqs)
    headings = re.findall(r'<h3 class="section">([^<]+)</h3>', page)
    assert headings == ["Produk", "Pembayaran", "Pengiriman", "Pesanan", "Akun", "Lainnya"]
    methods = shop.faq("payment-methods")
    assert html.escape(methods.answer["id"], quote=False) in page

    status, _, english = get(server.base, "/bantuan", lang="en")
    assert status == 200 and '<html lang="en">' in english
    assert html.escape(methods.answer["en"], quote=False) in english and "Help Centre" in english
    # An entry's button to another entry is a link to it on the page.
    assert 'href="#payment-bank-accounts"' in english


def test_the_demo_shop_links_to_it(server: RunningServer) -> None:
    _, _, page = get(server.base, "/")
    assert page.count('href="/bantuan"') == 2  # the menu and the footer


def test_help_leads_to_the_english_page(server: RunningServer) -> None:
    status, url, page = get(server.base, "/help")
    assert status == 200 and url.endswith("/bantuan?lang=en") and "Help Centre" in page


def test_a_slangy_question_finds_its_entry_and_the_rates_to_the_city(server: RunningServer) -> None:
    status, _, page = get(server.base, "/bantuan", q="ongkir ke sby brp kak?")
    assert status == 200
    result = result_section(page)
    assert shown_entries(result)[0] == "shipping-cost"
    assert "Ongkir ke Surabaya" in result and "Rp12.000" in result and "SiCepat REG" in result
    # The list below still has every entry; only its copies carry the anchor ids.
    assert page.count('id="shipping-cost"') == 1

    _, _, english = get(server.base, "/bantuan", q="how much is shipping to surabaya?", lang="en")
    result = result_section(english)
    assert "Shipping to Surabaya" in result and "Rp12,000" in result


def test_an_english_question_on_the_indonesian_page_gets_the_indonesian_answer(server: RunningServer) -> None:
    shop = load_shop(DEMO_DATA)
    _, _, page = get(server.base, "/bantuan", q="what payment methods do you accept?")
    result = result_section(page)
    assert shown_entries(result)[0] == "payment-methods"
    assert html.escape(shop.faq("payment-methods").answer["id"], quote=False) in result


def test_what_the_faq_cannot_answer_points_to_the_chat(server: RunningServer) -> None:
    _, _, page = get(server.base, "/bantuan", q="resep nasi goreng kampung")
    result = result_section(page)
    assert "belum ada jawaban yang pas" in result and "resep nasi goreng kampung" in result
    assert "data-open-chat" in result

    _, _, page = get(server.base, "/bantuan", q="cek pesanan saya SP-2026-000123", lang="en")
    result = result_section(page)
    assert "quickest in the chat" in result and "data-open-chat" in result


def test_hostile_and_oversized_queries_are_shown_literally(server: RunningServer) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    status, _, page = get(server.base, "/bantuan", q=attack)
    assert status == 200
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(" in page

    status, _, page = get(server.base, "/bantuan", q="ongkir " * 100)
    assert status == 200 and "terlalu panjang" in result_section(page)

    status, _, page = get(server.base, "/bantuan", q="' OR 1=1; DROP TABLE messages; --\u200b\u202e")
    assert status == 200 and "&#39; OR 1=1" in page
    assert get(server.base, "/healthz")[0] == 200


def test_searches_are_counted_by_result(server: RunningServer) -> None:
    def count(result: str) -> float:
        _, _, text = get(server.base, "/metrics")
        match = re.search(rf'sapa_help_searches_total{{result="{result}"}} ([0-9.e+]+)', text)
        return float(match.group(1)) if match else 0.0

    before = count("answered"), count("not_found")
    get(server.base, "/bantuan", q="nomor rekening bca berapa")
    get(server.base, "/bantuan", q="jadwal kereta ke bandung besok")
    assert (count("answered"), count("not_found")) == (before[0] + 1, before[1] + 1)


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

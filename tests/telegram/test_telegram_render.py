"""From engine messages to Telegram sends: splitting, keyboards, callback data, languages."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.telegram import render
from bot.telegram.broadcasts import InvalidBroadcast, clean
from bot.telegram.channel import _deep_link, file_base_url, webhook_path, webhook_secret, webhook_url


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_short_text_is_one_piece() -> None:
    assert render.split_text("  halo kak  ") == ["halo kak"]
    assert render.split_text("") == []


def test_long_text_splits_at_lines_then_words_then_anywhere() -> None:
    lines = "\n".join(f"baris {i} " + "kata " * 50 for i in range(60))
    pieces = render.split_text(lines)
    assert len(pieces) > 1 and all(_units(p) <= 4096 for p in pieces)
    assert all(p.startswith("baris ") for p in pieces)  # cut at line breaks
    words = "kata " * 3000
    pieces = render.split_text(words)
    assert all(_units(p) <= 4096 and p.endswith("kata") for p in pieces)
    assert " ".join(pieces).split() == words.split()
    word = "x" * 9000
    assert [len(p) for p in render.split_text(word)] == [4096, 4096, 808]


def test_emoji_count_double_towards_the_limit() -> None:
    pieces = render.split_text("😀" * 3000)
    assert [len(p) for p in pieces] == [2048, 952]
    assert all(_units(p) <= 4096 for p in pieces)


def test_quick_replies_ride_on_the_last_piece() -> None:
    tokens: dict[str, str] = {}
    long_payload = "/faq/" + "a" * 80
    parts = render.render("x " * 3000, [("Nomor rekening", "/faq/payment-bank-accounts"), ("Lain", long_payload)], tokens=tokens)
    assert [p["markup"] for p in parts[:-1]] == [None]
    keyboard = parts[-1]["markup"]["inline"]
    assert keyboard[0] == [{"text": "Nomor rekening", "data": "/faq/payment-bank-accounts"}]
    data = keyboard[1][0]["data"]
    assert data.startswith(render.TOKEN_PREFIX) and len(data.encode()) <= 64
    assert tokens == {data[1:]: long_payload}
    # The same payload always gets the same token.
    assert render.callback_data(long_payload, {}) == data
    # Payloads that are not "/..." payloads (or too long in bytes) go through a token too.
    assert render.callback_data("pilih ukuran L", {}).startswith(render.TOKEN_PREFIX)
    assert render.callback_data("/" + "é" * 40, {}).startswith(render.TOKEN_PREFIX)


def test_asking_for_a_phone_adds_the_share_contact_button() -> None:
    parts = render.render("Nomor HP-nya berapa, Kak?", expects="phone", contact_label="📱 Kirim", contact_hint="Atau tekan", tokens={})
    assert parts == [{"text": "Nomor HP-nya berapa, Kak?", "markup": {"contact": "📱 Kirim"}}]
    # With quick replies on the message, the contact button gets a short message of its own.
    parts = render.render(
        "Nomor HP-nya berapa, Kak?", [("Batal", "/cancel")], expects="phone", contact_label="📱 Kirim", contact_hint="Atau tekan", tokens={}
    )
    assert parts[0]["markup"] == {"inline": [[{"text": "Batal", "data": "/cancel"}]]}
    assert parts[1] == {"text": "Atau tekan", "markup": {"contact": "📱 Kirim"}}


def test_images_come_first() -> None:
    parts = render.render("Ini fotonya", attachments=[{"url": "/widget/uploads/abc"}], tokens={})
    assert parts == [{"photo": "/widget/uploads/abc"}, {"text": "Ini fotonya", "markup": None}]
    assert render.render("", attachments=[{"url": "https://x/y.png"}], tokens={}) == [{"photo": "https://x/y.png"}]


@pytest.mark.parametrize(
    ("code", "lang"),
    [("id", "id"), ("in", "id"), ("jv", "id"), ("en", "en"), ("en-GB", "en"), ("de", "id"), (None, "id")],
)
def test_language_from_telegram(code: str | None, lang: str) -> None:
    assert render.lang_from_code(code, "id") == lang


def test_shared_phone_numbers_become_international() -> None:
    assert render.phone_text("6281234567890") == "+6281234567890"
    assert render.phone_text("+62 812-3456-7890") == "+6281234567890"


def test_deep_links() -> None:
    assert _deep_link("", "id") == "/greet"
    assert _deep_link("SP-2026-000123", "id") == "cek status pesanan SP-2026-000123"
    assert _deep_link("order_SP-2026-000123", "en") == "order status SP-2026-000123"
    assert _deep_link("faq-payment-methods", "id") == "/faq/payment-methods"
    assert _deep_link("agent", "id") == "/human_handoff"
    assert _deep_link("hello", "id") == "/greet"


def test_urls_and_the_webhook_secret(tmp_path) -> None:
    assert file_base_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_base_url("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
    base = Settings(data_dir=tmp_path, telegram_token="1:abc")
    assert webhook_url(base) is None
    with_root = Settings(data_dir=tmp_path, telegram_token="1:abc", telegram_webhook_url="https://shop.example")
    assert webhook_url(with_root) == "https://shop.example/telegram/webhook"
    own = Settings(data_dir=tmp_path, telegram_token="1:abc", telegram_webhook_url="https://shop.example/tg/hook")
    assert webhook_path(own) == "/tg/hook"
    derived = webhook_secret(own)
    assert derived == webhook_secret(own) and len(derived) >= 32 and derived.isalnum()
    assert webhook_secret(Settings(data_dir=tmp_path, telegram_token="1:abc", telegram_webhook_secret="s")) == "s"


def test_broadcast_text_is_checked() -> None:
    assert clean("  Promo!  ", None) == ("Promo!", None)
    assert clean("Promo", "en") == ("Promo", "en")
    for text, lang in (("", None), ("x" * 5000, None), ("ok", "fr"), (None, None)):
        with pytest.raises(InvalidBroadcast):
            clean(text, lang)

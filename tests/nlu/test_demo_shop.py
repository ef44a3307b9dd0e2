"""The demo shop's trained model on everyday chat: small talk must never become an FAQ answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.nlu.model import train_for_shop
from bot.shopdata.loader import load_shop

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model():
    return train_for_shop(load_shop(ROOT / "data"))


@pytest.mark.parametrize(
    "text, intent",
    [
        ("halo kak", "greet"),
        ("halo kak selamat pagi semuanya", "greet"),
        ("selamat siang min, mau tanya dong", "greet"),
        ("good morning", "greet"),
        ("ok makasih ya kak", "thanks"),
        ("makasih banyak ya kak atas bantuannya", "thanks"),
        ("thank you so much", "thanks"),
        ("bye kak sampai jumpa lagi ya", "goodbye"),
        ("mau ngobrol sama admin aja", "human_handoff"),
        ("can I talk to a real person", "human_handoff"),
        # a complaint that asks for a person: the person, not the damaged-item FAQ
        ("Kak, batik yang saya terima sobek di lengannya, saya kecewa. Tolong sambungkan ke admin ya", "human_handoff"),
        ("mau pesan", "place_order"),
        ("halo kak mau pesan kemeja parang", "place_order"),  # the greeting is a courtesy, not the request
        ("kak mau pesan dong", "place_order"),  # not the FAQ "Kak pesanan saya mau dibatalkan"
        ("barang saya rusak", "complaint"),
        ("pesanan saya belum datang kak", "order_status"),
        ("pesanan saya belum sampai", "order_status"),  # not the payment-deadline FAQ's "pesanan saya ... belum"
        ("where is my order SP-2026-000123?", "order_status"),
        ("help", "help"),
        ("batal", "cancel"),
        ("asdfghjkl", "out_of_scope"),
        ("qwerty uiop kak", "out_of_scope"),
    ],
)
def test_small_talk_and_requests_keep_their_intent(model, text, intent):
    assert model.parse(text).intent.name == intent


@pytest.mark.parametrize(
    "text, faq_id",
    [
        ("kak bisa bayar pakai apa aja?", "payment-methods"),
        ("What payment methods do you accept?", "payment-methods"),
        ("bisa cod gak kak", "payment-cod"),
        ("how do I return an item", "order-return-exchange"),
        ("lupa pw kak", "account-forgot-password"),  # chat shorthand for "password"
        ("cara cancel order", "order-cancel"),  # asking how, not cancelling
        ("how to cancel", "order-cancel"),
        ("hi kak, how much is shipping to bandung?", "shipping-cost"),
        ("when are you open?", "shop-hours"),
        ("minggu buka ga kak", "shop-hours"),
        ("how can I reach you", "contact-us"),
        # the city is the question's slot, not its topic: "Bali" is in a delivery-time example
        ("how much is the shipping to bali?", "shipping-cost"),
        ("shipping cost to bali", "shipping-cost"),
        ("kirim ke medan berapa hari", "shipping-delivery-time"),
        ("paket saya telat", "shipping-late"),
    ],
)
def test_faq_questions_in_both_languages(model, text, faq_id):
    assert model.parse(text).intent.name == f"faq/{faq_id}"


@pytest.mark.parametrize(
    "text",
    ["ada kemeja batik ukuran L warna biru?", "ada dress merah size S?", "berapa harga tas rotan?"],
)
def test_questions_naming_catalog_products_search_the_catalog(model, text):
    assert model.parse(text).intent.name == "product_search"


@pytest.mark.parametrize(
    "text, intent",
    [
        # "pesanan saya" (my order) is not by itself a question about its status
        ("mau cek pesanan", "order_status"),
        ("mau cek orderan", "order_status"),
        ("where is my order?", "order_status"),  # a built-in example, word for word
        ("cek pesanan saya dong", "order_status"),  # ... but for the "kak"
        ("mau batalin pesanan", "faq/order-cancel"),
        ("batalkan pesanan saya", "faq/order-cancel"),
        ("Kak pesanan saya mau dibatalkan", "faq/order-cancel"),
    ],
)
def test_checking_an_order_is_not_cancelling_it(model, text, intent):
    assert model.parse(text).intent.name == intent


def test_only_examples_one_intent_uses_count_as_labeled():
    from bot.nlu.combine import FAQ_CLASS
    from bot.nlu.features import TextAnalyzer, Vocabulary
    from bot.nlu.model import _unambiguous_examples

    labeled = _unambiguous_examples(
        TextAnalyzer(Vocabulary.builtin()),
        ["Where is my order?", "cek ongkir", "cek ongkir", "bisa cod?", "bisa cod", "halo", "asdf"],
        ["order_status", FAQ_CLASS, "shipping_cost", "payment", "greet", "greet", "out_of_scope"],
    )
    assert labeled == {"where is my order": "order_status", "halo": "greet"}


@pytest.mark.parametrize("text", ["Bandung", "ke jogja kak", "Jakarta Selatan", "to Medan please", "Kota Malang"])
def test_a_place_on_its_own_is_no_question(model, text):
    """The reply to "which city?" must not look like the COD entry that names Yogyakarta."""
    parsed = model.parse(text)
    assert parsed.intent.name == "out_of_scope" and not parsed.suggestions

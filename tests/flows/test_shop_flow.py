"""A shop's own flow (flows/*.yml with finish: action_handoff_details) over the real engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.bus import LocalBus
from bot.engine import Engine
from bot.flows.context import FlowContext, shop_name
from bot.locks import LocalLocks
from bot.nlu.model import train_for_shop
from bot.orders.book import OrderBook
from bot.shopdata.loader import load_shop
from bot.store import Store
from bot.texts import Texts

from .conftest import ROOT, Bot, Clock
from .test_order_status import place

WARRANTY_NLU = """version: "3.1"
nlu:
- intent: warranty_claim
  examples: |
    - mau klaim garansi
    - barang saya rusak mau klaim garansi
    - klaim garansi dong kak
    - i want to make a warranty claim
"""
WARRANTY_FLOW = """version: 1
flows:
  warranty_claim:
    trigger: warranty_claim
    finish: action_handoff_details
    slots:
      - name: order_number
        type: order_number
        prompt: {id: "Nomor pesanannya, Kak?", en: "Your order number?"}
      - name: problem
        type: text
        min_length: 10
        prompt: {id: "Kerusakannya seperti apa, Kak?", en: "What's wrong with it?"}
"""


@pytest.fixture(scope="module")
def warranty_shop(tmp_path_factory):
    data = tmp_path_factory.mktemp("shop") / "data"
    shutil.copytree(ROOT / "data", data)
    (data / "nlu").mkdir(exist_ok=True)
    (data / "nlu" / "warranty.yml").write_text(WARRANTY_NLU, encoding="utf-8")
    (data / "flows").mkdir(exist_ok=True)
    (data / "flows" / "warranty.yml").write_text(WARRANTY_FLOW, encoding="utf-8")
    shop = load_shop(data)
    return shop, train_for_shop(shop)


@pytest.fixture
async def bot(tmp_path: Path, warranty_shop):
    shop, nlu = warranty_shop
    clock = Clock()
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'shop-flow.db'}", now=clock)
    orders = OrderBook(store, shop, Texts.load(shop.texts, shop_name=shop_name(shop)), None)
    await orders.sync_stock()
    engine = Engine(
        store=store,
        nlu=nlu,
        flow_context=FlowContext.for_shop(shop, orders=orders),
        bus=LocalBus(),
        locks=LocalLocks(),
    )
    yield Bot(engine, store, orders, clock, None)
    await store.close()


async def test_a_number_no_order_has_is_asked_again(bot):
    await place(bot, sender="someone")
    chat = bot.customer("claimant")
    await chat.say("mau klaim garansi")
    assert "Nomor pesanannya, Kak?" in chat.text, chat.text
    await chat.say("SP-2026-999999")
    assert "Pesanan SP-2026-999999 tidak kami temukan" in chat.text, chat.text
    assert "Kerusakannya seperti apa" not in chat.text


async def test_a_real_order_goes_on_to_the_person_with_its_details(bot):
    order = await place(bot, sender="someone")
    chat = bot.customer("claimant")
    await chat.say("mau klaim garansi")
    await chat.say(order.number.lower().replace("-", " "))  # "sp 2026 000001"
    assert "Kerusakannya seperti apa, Kak?" in chat.text, chat.text
    await chat.say("jahitan di lengan kanan lepas setelah sekali cuci")
    assert f"order number: {order.number}" in chat.text, chat.text
    assert chat.last_info.handoff is True


async def test_a_motif_alone_finds_the_products_of_that_motif(bot):
    # "parang brp harganya": no category word and no whole name, but "parang" is the motif of
    # four products. It got "produk yang dicari belum ketemu" — a dead end in a batik shop.
    chat = bot.customer("motif")
    await chat.say("parang brp harganya kak")
    assert "belum ketemu" not in chat.text, chat.text
    assert "Kemeja Batik Parang Slim Fit — Rp189.000" in chat.text, chat.text
    assert "Kain Batik Cap Parang Rusak" in chat.text, chat.text
    assert "Dress Batik Wrap Lasem" not in chat.text, chat.text

    # At "which product?" a motif shared by two products asks which of them.
    order = bot.customer("motif-order")
    await order.say("mau pesan dong kak")
    await order.say("yg truntum aja")
    assert {"Kemeja Batik Anak Truntum", "Kain Batik Tulis Sutra Truntum"} <= set(order.buttons), order.text


async def test_faq_answers_say_hello_once_per_conversation(bot):
    # Every demo answer opens with "Halo Kak!"; in the middle of a chat (and of an order)
    # a greeting before each answer is not how an admin talks.
    chat = bot.customer("hello-once")
    await chat.say("kak bisa bayar pake apa aja?")
    assert chat.text.startswith("Halo Kak! Kami menerima transfer bank"), chat.text
    await chat.say("bisa cod ga kak?")
    assert chat.text.startswith("COD tersedia untuk Solo Raya"), chat.text

    english = bot.customer("hello-once-en")
    await english.say("hello")
    await english.say("what payment methods do you accept?", lang="en")
    assert english.replies[0].text.startswith("We accept bank transfer"), english.text

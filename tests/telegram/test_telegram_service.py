"""Telegram users get what widget users get: order status verified by a shared contact,
photos as evidence, a complaint handed to a person, and the agent's replies in the chat."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from tests.telegram.conftest import TelegramServer, tiny_png


def place_order(tg: TelegramServer, owner: str, phone: str = "081234567890") -> str:
    """An order in the server's database, placed by someone on another channel; its number."""
    from bot.flows.context import shop_name
    from bot.orders.book import OrderBook
    from bot.orders.records import CartLine, NewOrder
    from bot.shopdata.loader import load_shop
    from bot.store import Store
    from bot.texts import Texts

    async def run() -> str:
        store = await Store.open(f"sqlite:///{tg.db_path}", migrate=False)
        try:
            shop = load_shop(tg.data)
            book = OrderBook(store, shop, Texts.load(shop.texts, shop_name=shop_name(shop)))
            conversation = await store.open_conversation("rest", owner, "id")
            order = await book.place(
                NewOrder(
                    lines=(
                        CartLine(
                            "BTK-KMJ-001-L-BIRU", "BTK-KMJ-001", "Kemeja Batik Parang Slim Fit",
                            {"size": "L", "color": "biru"}, 1, 189000, 300,
                        ),
                    ),
                    customer_name="Sari Wulandari",
                    phone=phone,
                    email=None,
                    address="Jl. Merpati No. 5, Antapani",
                    city="Bandung",
                    courier="jne-reg",
                    courier_name="JNE REG",
                    shipping_cost=18000,
                    payment_method="bank_transfer",
                    lang="id",
                    channel="rest",
                    external_id=owner,
                    customer_id=conversation.customer_id,
                    conversation_id=conversation.id,
                    source_key=f"telegram-test:{owner}",
                )
            )
            return order.number
        finally:
            await store.close()

    return asyncio.run(run())


def test_order_status_verified_with_the_share_contact_button(tg: TelegramServer) -> None:
    number = place_order(tg, f"owner-{tg.mode}")
    user = tg.user()
    user.say(f"/status {number}")
    [ask] = user.replies(1)
    keyboard = ask.params["reply_markup"]
    assert keyboard["keyboard"] == [[{"text": "📱 Kirim nomor HP saya", "request_contact": True}]]
    assert keyboard["one_time_keyboard"] is True
    assert number not in ask.params["text"]

    # Someone else's contact is not proof.
    user.share_contact("6289999999999", own=False)
    [refused] = user.replies(1)
    assert "nomor HP Kakak sendiri" in refused.params["text"]

    user.share_contact("6281234567890")
    [details] = user.replies(1)
    assert number in details.params["text"]
    assert "Kemeja Batik Parang Slim Fit" in details.params["text"]
    # The shared number went to the bot as the customer's message, and onto the customer.
    assert tg.customer_messages(user.chat_id)[-1][0] == "+6281234567890"
    [(phone,)] = tg.query(
        "SELECT cu.phone FROM customers cu JOIN conversations c ON c.customer_id = cu.id "
        "WHERE c.channel = 'telegram' AND c.external_id = ?",
        str(user.chat_id),
    )
    assert phone == "+6281234567890"
    # The contact keyboard goes away with the next plain message.
    user.say("makasih kak")
    [thanks] = user.replies(1)
    markups = [c.params.get("reply_markup") or {} for c in (details, thanks)]
    assert any(m.get("remove_keyboard") for m in markups)


def test_a_deep_link_with_an_order_number_asks_for_verification(tg: TelegramServer) -> None:
    number = place_order(tg, f"linked-{tg.mode}")
    user = tg.user()
    user.say(f"/start {number}")
    first, *rest = user.replies(2)
    assert number not in first.params["text"]
    assert any("request_contact" in json.dumps(c.params.get("reply_markup") or {}) for c in (first, *rest))


def test_a_photo_reaches_the_conversation_as_an_attachment(tg: TelegramServer) -> None:
    user = tg.user()
    png = tiny_png(40, 30)
    big_id = user.send_photo(png, caption="ini foto barangnya kak, rusak")
    user.replies(1)
    # The largest size was fetched and downloaded through the Bot API's file URL.
    [get_file] = [c for c in tg.fake.calls_of("getFile") if c.params.get("file_id") == big_id]
    assert get_file.status == 200
    assert any(c.params["path"].startswith("photos/big") for c in tg.fake.calls_of("download"))
    [(text, attachments)] = tg.customer_messages(user.chat_id)
    assert text == "ini foto barangnya kak, rusak"
    [attachment] = json.loads(attachments)
    assert attachment["kind"] == "image" and attachment["url"].startswith("/widget/uploads/")
    with urllib.request.urlopen(tg.base + attachment["url"], timeout=10) as response:
        assert response.read() == png
        assert response.headers["Content-Type"] == "image/png"

    # An agent's photo (here: the same image, sent back) goes out with sendPhoto, the file uploaded.
    tg.agent_says(user.chat_id, "Ini foto yang Kakak kirim, sudah kami terima.", attachments=[attachment])
    photo, caption = user.replies(2)
    assert photo.method == "sendPhoto" and photo.params["photo"]["size"] == len(png)
    assert caption.params["text"] == "Ini foto yang Kakak kirim, sudah kami terima."


def test_a_sticker_gets_a_polite_answer(tg: TelegramServer) -> None:
    user = tg.user()
    tg.deliver(user._message(sticker={"file_id": "STK", "file_unique_id": "STK", "width": 1, "height": 1,
                                      "is_animated": False, "is_video": False, "type": "regular"}))
    assert "teks dan foto" in user.texts(1)[0]


def test_agent_command_hands_over_and_the_agent_reply_reaches_the_chat(tg: TelegramServer) -> None:
    user = tg.user()
    user.say("/agent")
    assert "admin" in user.texts(1)[0]
    user.wait_text(r"TK-\d{4}-\d+")  # every handoff opens a ticket, and the customer is told its number
    assert tg.conversation(user.chat_id)[1] == "waiting_for_agent"

    tg.agent_says(user.chat_id, "Halo Kak, saya Rina dari Batik Sekar Ayu. Boleh kirim foto barangnya?")
    [agent] = user.replies(1)
    assert agent.params["text"].startswith("Halo Kak, saya Rina")
    assert tg.conversation(user.chat_id)[1] == "with_agent"

    # While the agent holds the conversation the bot stays quiet; the message is stored for the console.
    user.say("ini kak fotonya nanti saya kirim")
    tg.fake.wait_for(
        lambda: any(t == "ini kak fotonya nanti saya kirim" for t, _ in tg.customer_messages(user.chat_id)),
        what="the customer's message stored",
    )
    tg.agent_says(user.chat_id, "Baik Kak, ditunggu ya.")
    assert user.texts(1) == ["Baik Kak, ditunggu ya."]


def test_a_long_agent_reply_is_split_at_telegrams_limit(tg: TelegramServer) -> None:
    user = tg.user()
    user.say("halo kak")
    user.replies(1)
    paragraph = "Detail pengiriman dan garansi untuk pesanan Kakak. " * 30
    long_text = "\n".join(f"{i}. {paragraph}" for i in range(6))
    assert len(long_text) > 9000
    tg.agent_says(user.chat_id, long_text)
    parts = user.texts(3)
    assert all(len(p) <= 4096 for p in parts)
    assert "".join(parts).replace("\n", "").replace(" ", "") == long_text.replace("\n", "").replace(" ", "")
    # Cut at line breaks: each part starts a numbered paragraph.
    assert all(p[0].isdigit() for p in parts)


def test_an_order_notification_reaches_the_telegram_chat(tg: TelegramServer) -> None:
    """The order book pushes a message (here: an admin cancels the order); the relay announces
    it on the bus and the Telegram channel delivers it."""
    user = tg.user()
    user.say("halo")
    user.replies(1)
    from bot.flows.context import shop_name
    from bot.orders.book import OrderBook
    from bot.orders.records import CartLine, NewOrder
    from bot.shopdata.loader import load_shop
    from bot.store import Store
    from bot.texts import Texts

    async def run() -> str:
        store = await Store.open(f"sqlite:///{tg.db_path}", migrate=False)
        try:
            shop = load_shop(tg.data)
            book = OrderBook(store, shop, Texts.load(shop.texts, shop_name=shop_name(shop)))
            conversation = await store.open_conversation("telegram", str(user.chat_id), "id")
            order = await book.place(
                NewOrder(
                    lines=(CartLine("BTK-KMJ-001-L-BIRU", "BTK-KMJ-001", "Kemeja Batik Parang Slim Fit",
                                    {"size": "L", "color": "biru"}, 1, 189000, 300),),
                    customer_name="Budi", phone="081298765432", email=None,
                    address="Jl. Kenanga 1", city="Bandung", courier="jne-reg", courier_name="JNE REG",
                    shipping_cost=18000, payment_method="bank_transfer", lang="id",
                    channel="telegram", external_id=str(user.chat_id),
                    customer_id=conversation.customer_id, conversation_id=conversation.id,
                    source_key=f"telegram-notify:{user.chat_id}",
                )
            )
            await book.cancel(order.number, "admin:test", reason="stok habis")
            return order.number
        finally:
            await store.close()

    number = asyncio.run(run())
    texts = user.fake.wait_for(
        lambda: [t for t in user.received() if number in t and "dibatalkan" in t], what="the cancellation notice"
    )
    assert len(texts) == 1

"""A Telegram user chatting with the demo shop, in polling and in webhook mode:
/start, FAQ in both languages, buttons, /lang, /help, typing, plain-text formatting."""

from __future__ import annotations

import json

from tests.telegram.conftest import TelegramServer
from tests.telegram.fakebot import Call


def test_start_greets_and_asks_before_sending_promotions(tg: TelegramServer) -> None:
    user = tg.user()
    user.say("/start")
    greeting, question = user.replies(2)
    assert "selamat datang di Batik Sekar Ayu" in greeting.params["text"]
    assert "info promo" in question.params["text"]
    buttons = [row[0]["text"] for row in question.params["reply_markup"]["inline_keyboard"]]
    assert buttons == ["Mau dong 🙌", "Nggak dulu"]
    # "typing…" while the bot worked, and nothing opted in yet.
    assert tg.fake.calls_of("sendChatAction", user.chat_id)[0].params["action"] == "typing"
    assert tg.query("SELECT promo, lang FROM telegram_chats WHERE chat_id = ?", user.chat_id) == [(None, "id")]
    # The bot's command menu was set in both languages.
    menus = tg.fake.calls_of("setMyCommands")
    assert {m.params.get("language_code") for m in menus} == {None, "en"}
    assert "status" in [c["command"] for c in menus[0].params["commands"]]


def test_faq_in_indonesian_and_in_english(tg: TelegramServer) -> None:
    budi = tg.user("id", "Budi")
    budi.say("kak, bisa bayar pakai apa aja?")
    [answer] = budi.replies(1)
    assert "Kami menerima transfer bank" in answer.params["text"]
    assert "parse_mode" not in answer.params

    jane = tg.user("en", "Jane")
    jane.say("What payment methods do you accept?")
    [answer] = jane.replies(1)
    assert "We accept bank transfer" in answer.params["text"]
    buttons = [row[0]["text"] for row in answer.params["reply_markup"]["inline_keyboard"]]
    assert buttons == ["Bank accounts", "About COD"]

    # A user whose Telegram is in English but who writes Indonesian gets Indonesian.
    mixed = tg.user("en", "Sari")
    mixed.say("ongkir ke surabaya berapa kak?")
    [answer] = mixed.replies(1)
    assert "Kak" in answer.params["text"]


def test_a_pressed_button_is_answered_and_its_keyboard_marked(tg: TelegramServer) -> None:
    user = tg.user()
    user.say("metode pembayaran apa saja")
    [answer] = user.replies(1)
    data = user.press(answer, "Nomor rekening")
    assert data == "/faq/payment-bank-accounts"
    [accounts] = user.replies(1)
    assert "BCA" in accounts.params["text"]
    # The spinner on the button stopped, and the used keyboard now shows the choice.
    assert tg.fake.wait_for(lambda: tg.fake.calls_of("answerCallbackQuery"))
    edits = tg.fake.wait_for(lambda: tg.fake.calls_of("editMessageReplyMarkup", user.chat_id))
    assert edits[0].params["message_id"] == answer.result["message_id"]
    assert edits[0].params["reply_markup"]["inline_keyboard"] == [
        [{"text": "✓ Nomor rekening", "callback_data": "tg:noop"}]
    ]
    # History shows what the customer saw, not the payload.
    assert [text for text, _ in tg.customer_messages(user.chat_id)] == ["metode pembayaran apa saja", "Nomor rekening"]


def test_lang_command_fixes_the_language(tg: TelegramServer) -> None:
    user = tg.user("id")
    user.say("/lang")
    [ask] = user.replies(1)
    assert "bahasa apa" in ask.params["text"]
    user.press(ask, "🇬🇧 English")
    [done] = user.replies(1)
    assert "English from now on" in done.params["text"]
    user.say("kak bisa bayar pakai apa aja?")
    [answer] = user.replies(1)
    assert "We accept bank transfer" in answer.params["text"]
    assert tg.query("SELECT lang, lang_fixed FROM telegram_chats WHERE chat_id = ?", user.chat_id) == [("en", 1)]
    user.say("/lang id")
    assert "Bahasa Indonesia" in user.texts(1)[0]


def test_help_lists_the_commands(tg: TelegramServer) -> None:
    user = tg.user("en")
    user.say("/help")
    help_text, commands = user.texts(2)
    assert "ask" in help_text.lower()
    assert "/status" in commands and "/agent" in commands and "/stop" in commands


def test_text_that_looks_like_markup_is_sent_literally(tg: TelegramServer) -> None:
    user = tg.user()
    user.say("<b>halo</b> & <script>alert(1)</script> *kak* _min_")
    [reply] = user.replies(1)
    assert reply.status == 200 and "parse_mode" not in reply.params
    tricky = "Promo <b>12.12</b> & diskon 50% *hari ini* _saja_ [link](http://x) <i>"
    tg.agent_says(user.chat_id, tricky)
    [agent] = user.replies(1)
    assert agent.params["text"] == tricky
    assert "parse_mode" not in agent.params
    stored = tg.customer_messages(user.chat_id)[0][0]
    assert stored == "<b>halo</b> & <script>alert(1)</script> *kak* _min_"
    assert json.dumps(agent.params, ensure_ascii=False).count("<b>12.12</b>") == 1


def test_a_button_under_an_earlier_question_does_not_answer_the_current_one(tg: TelegramServer) -> None:
    """Telegram keeps every old keyboard pressable (the widget shows only the last message's
    quick replies). "➕ Tambah produk" is /affirm: pressed under the cart message while the order
    summary waits for its "yes", it must not place the order."""
    user = tg.user("id", "Lina")

    def answer(text: str) -> Call:
        user.say(text)
        return user.replies(1)[0]

    answer("mau pesan kemeja batik parang")
    answer("M biru")
    cart = answer("1")
    assert "Mau tambah produk lain" in cart.params["text"]
    answer("udah cukup kak")  # typed: the cart message keeps its buttons
    answer("Lina")
    answer("081311112222")
    answer("Jl. Mawar 3 RT 1 RW 2, Kel. Kemiri, Kec. Jebres")
    answer("solo")
    answer("jnt aja")
    summary = answer("transfer bca")
    assert "Sudah benar semua?" in summary.params["text"]

    answered = len(tg.fake.calls_of("answerCallbackQuery"))
    user.press(cart, "➕ Tambah produk")
    [alert] = tg.fake.wait_for(
        lambda: [c for c in tg.fake.calls_of("answerCallbackQuery")[answered:] if c.params.get("text")],
        what="the press answered with a notice",
    )
    assert "sudah tidak berlaku" in alert.params["text"]
    # The stale keyboard is taken away, so it cannot be pressed again.
    tg.fake.wait_for(
        lambda: [
            c for c in tg.fake.calls_of("editMessageReplyMarkup", user.chat_id)
            if c.params["message_id"] == cart.result["message_id"] and not c.params.get("reply_markup")
        ],
        what="the old keyboard removed",
    )
    # Nothing was ordered; the summary's own button still works.
    user.press(summary, "✅ Ya, pesan sekarang")
    [placed] = user.texts(1)
    assert "Pesanan sudah kami catat" in placed
    orders = tg.query("SELECT number FROM orders WHERE channel = 'telegram' AND external_id = ?", str(user.chat_id))
    assert len(orders) == 1
    assert orders[0][0] in placed


def test_typing_lanjut_at_add_another_product_goes_on_to_delivery(tg: TelegramServer) -> None:
    """The cart question's buttons are "➕ Tambah produk" and "✅ Lanjut ke pengiriman"; a customer
    who types "lanjut" instead of pressing means the second, not "yes, add more"."""
    user = tg.user("id", "Wati")
    user.say("mau pesan kemeja batik parang")
    user.replies(1)
    user.say("M biru")
    user.replies(1)
    user.say("1")
    assert "Mau tambah produk lain" in user.texts(1)[0]
    user.say("lanjut kak")
    assert "atas nama siapa" in user.texts(1)[0]

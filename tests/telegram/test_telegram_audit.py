"""An audit of the Telegram channel as a customer meets it, with what the order and payment
flows learned lately: typed choices next to inline keyboards that stay pressable, order
updates arriving mid-flow, English customers, /help, and what Telegram itself refuses
(callback data over 64 bytes, texts over 4,096 characters)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.telegram.conftest import TelegramServer, TgUser, launch, tiny_png
from tests.telegram.fakebot import Call


@pytest.fixture(scope="module")
def tg(tmp_path_factory: pytest.TempPathFactory, telegram_data: Path, nlu_cache: Path) -> Iterator[TelegramServer]:
    """The demo shop on Telegram in polling mode (what is audited here does not depend on
    how updates arrive; test_telegram_chat.py covers both modes)."""
    fake, server = launch("polling", tmp_path_factory.mktemp("tg-audit"), telegram_data, nlu_cache)
    yield server
    server.stop()
    fake.stop()


def ask(user: TgUser, text: str, count: int = 1) -> list[Call]:
    user.say(text)
    return user.replies(count)


def press(user: TgUser, message: Call, title: str, count: int = 1) -> list[Call]:
    user.press(message, title)
    return user.replies(count)


def text_of(call: Call) -> str:
    return str(call.params.get("text", ""))


def keyboard(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [button["text"] for row in markup.get("inline_keyboard") or [] for button in row]


def alerts_since(tg: TelegramServer, before: int) -> list[str]:
    return [c.params["text"] for c in tg.fake.calls_of("answerCallbackQuery")[before:] if c.params.get("text")]


def order_in_chat(user: TgUser, product: str = "mau pesan 1 blus kutubaru M") -> str:
    """An order placed by typing every answer in the chat; its number."""
    assert "keranjang" in text_of(ask(user, product)[0])
    for answer in ("udah itu aja", user.first_name, "081234567890", "Jl. Kaliurang km 5 no 12, Sleman", "sleman",
                   "jne reg"):
        ask(user, answer)
    [summary] = ask(user, "transfer bank")
    assert "Sudah benar semua?" in text_of(summary)
    placed, _instructions = press(user, summary, "✅ Ya, pesan sekarang", 2)
    number = text_of(placed).split("Nomor pesanan: ")[1].split()[0]
    assert number.startswith("SP-")
    return number


def test_an_order_update_mid_flow_leaves_the_flows_question_current(tg: TelegramServer) -> None:
    """An order update with a button ("Sudah transfer" under a rejected payment) arrives while
    the customer is choosing at "Mau tambah produk lain?": the question's buttons still answer it
    (before, the update's button made them "expired" and the keyboard was taken away)."""
    user = tg.user("id", "Rudi")
    number = order_in_chat(user)
    ask(user, f"udah tf {number} ke BCA 189rb a.n. Rudi")  # asks for the receipt photo
    [done] = ask(user, "lewati")
    assert "sudah kami terima" in text_of(done)

    [cart] = ask(user, "mau pesan 1 kemeja parang L biru")
    assert "Mau tambah produk lain" in text_of(cart)
    result = tg.sapa("order", "reject", "--data-dir", str(tg.data), "--reason", "Dana belum masuk", number)
    assert result.returncode == 0, result.stderr
    [update] = user.replies(1)
    assert "belum bisa kami verifikasi" in text_of(update) and keyboard(update) == ["Sudah transfer"]

    before = len(tg.fake.calls_of("answerCallbackQuery"))
    [asked] = press(user, cart, "✅ Lanjut ke pengiriman")
    assert "atas nama siapa" in text_of(asked)
    assert not alerts_since(tg, before)


def test_a_button_under_a_question_answered_by_typing_is_expired(tg: TelegramServer) -> None:
    """At "Transfer ke rekening mana?" the customer types "bca"; the next question ("how much?")
    has no keyboard. Pressing "Mandiri" under the bank question then must not be read as the
    amount (before: "Nominalnya belum terbaca" and the old keyboard marked "✓ Mandiri", as if
    the bank had changed); it is expired, and the flow goes on from the amount."""
    user = tg.user("id", "Sinta")
    number = order_in_chat(user)
    ask(user, "kak saya sudah transfer")
    [bank] = ask(user, number)
    assert "rekening mana" in text_of(bank) and "Mandiri" in keyboard(bank)
    [amount] = ask(user, "bca")
    assert "nominal" in text_of(amount).lower() and not keyboard(amount)

    before = len(tg.fake.calls_of("answerCallbackQuery"))
    user.press(bank, "Mandiri")
    [alert] = tg.fake.wait_for(lambda: alerts_since(tg, before), what="the press answered with a notice")
    assert "sudah tidak berlaku" in alert
    tg.fake.wait_for(
        lambda: [
            c for c in tg.fake.calls_of("editMessageReplyMarkup", user.chat_id)
            if c.params["message_id"] == bank.result["message_id"] and not c.params.get("reply_markup")
        ],
        what="the old keyboard removed",
    )
    [sender] = ask(user, "189rb")
    assert "Atas nama siapa" in text_of(sender)
    assert not [t for t in user.received() if "belum terbaca" in t]
    assert "Mandiri" not in [t for t, _ in tg.customer_messages(user.chat_id)]


def test_start_pressed_again_mid_order_greets_and_asks_the_question_again(tg: TelegramServer) -> None:
    """/start (the menu, a shared t.me link) in the middle of an order was read as the answer to
    the flow's question: "Pilihan itu tidak ada…" at the variant, "Namanya belum terbaca" at the
    name. Now the customer is greeted and the question comes again, its buttons still current."""
    user = tg.user("id", "Wulan")
    [variants] = ask(user, "mau pesan kemeja parang")
    assert "M · biru" in keyboard(variants)
    user.say("/start")
    greeting = user.wait_text("selamat datang")
    assert "tidak ada" not in greeting
    tg.fake.wait_for(lambda: [t for t in user.received() if "info promo" in t], what="the promotions question")
    # the question, and the same question after the greeting (sent after the promotions
    # question, so waited for on its own: on a loaded machine it may not be there yet)
    again = tg.fake.wait_for(
        lambda: (lambda a: a if len(a) >= 2 else None)([c for c in tg.fake.sent(user.chat_id) if keyboard(c) == keyboard(variants)]),
        what="the question asked again",
    )
    assert len(again) == 2
    assert not [t for t in user.received() if "tidak ada" in t or "belum terbaca" in t]
    user.seen = len(tg.fake.sent(user.chat_id))
    [quantity] = press(user, again[-1], "M · biru")
    assert "Mau pesan berapa" in text_of(quantity)


def test_help_mid_order_keeps_the_flows_question_last(tg: TelegramServer) -> None:
    """/help at "Mau tambah produk lain?": the help text and the command list, then the
    question again — the last message, the one to answer (before, the command list came
    after it and buried it)."""
    user = tg.user("id", "Yanti")
    ask(user, "mau pesan kemeja parang")
    ask(user, "M biru")
    [cart] = ask(user, "1")
    assert "Mau tambah produk lain" in text_of(cart)
    help_text, commands, back, question = ask(user, "/help", 4)
    assert "Kakak bisa tanya" in text_of(help_text)
    assert "/status" in text_of(commands) and "/agent" in text_of(commands)
    assert "Lanjut" in text_of(back)
    assert "Mau tambah produk lain" in text_of(question) and keyboard(question) == keyboard(cart)
    [name] = press(user, question, "✅ Lanjut ke pengiriman")
    assert "atas nama siapa" in text_of(name)


def test_a_receipt_photo_captioned_with_the_payment_is_confirmed_at_once(tg: TelegramServer) -> None:
    """On Telegram the receipt screenshot and "udah tf SP-… ke BCA 189rb a.n. …" are one
    message (a captioned photo). Every detail was taken from the caption, but the photo was
    not: "Kalau ada, kirim foto/screenshot bukti transfernya ya" asked for what had just
    been sent. Now the confirmation is recorded with the photo as its receipt."""
    user = tg.user("id", "Lia")
    number = order_in_chat(user)
    user.send_photo(tiny_png(), caption=f"udah tf {number} ke BCA 189rb a.n. Lia Amalia")
    [done] = user.replies(1)
    assert "Konfirmasi pembayaran Rp189.000" in text_of(done) and number in text_of(done)
    [(bank, amount, sender, receipt)] = tg.query(
        "SELECT p.bank, p.amount, p.sender_name, p.proof_url FROM payment_submissions p "
        "JOIN orders o ON o.id = p.order_id WHERE o.number = ?",
        number,
    )
    assert (bank, amount, sender) == ("BCA", 189000, "Lia Amalia")
    assert receipt and receipt.startswith("/widget/uploads/")
    [(status,)] = tg.query("SELECT status FROM orders WHERE number = ?", number)
    assert status == "payment_submitted"

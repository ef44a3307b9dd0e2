"""Greetings, goodbyes and "batal" outside any flow: what the customer reads must be true
and sound like a shop admin."""

from __future__ import annotations

from bot.orders.records import OrderStatus

from .test_order_status import place


async def test_a_goodbye_is_not_answered_with_youre_welcome(bot):
    # "bye kak" thanked nobody: "Sama-sama" (you're welcome) answered a thanks that never came.
    chat = bot.customer("bye")
    await chat.say("bye kak")
    assert chat.last_info.intent == "goodbye", chat.text
    assert "Sama-sama" not in chat.text and "Sampai jumpa" in chat.text, chat.text


async def test_cancelling_with_nothing_running_does_not_claim_a_cancellation(bot):
    # A customer with a placed order types "batal kak": nothing was cancelled, so the bot must
    # not say "sudah dibatalkan" (they would think their order is).
    order = await place(bot, sender="placed")
    chat = bot.customer("placed")
    await chat.say("batal kak")
    assert "dibatalkan" not in chat.text, chat.text
    assert (await bot.orders.get(order.number)).status == OrderStatus.PENDING_PAYMENT


async def test_cancel_my_order_outside_a_flow_gets_how_to_cancel(bot):
    # "batalin aja pesanannya" is the NLU's "cancel", but with no flow running it asks about
    # the order already placed: the shop's answer on cancelling, not "Oke, sudah dibatalkan".
    await place(bot, sender="placed2")
    chat = bot.customer("placed2")
    await chat.say("batalin aja pesanannya")
    assert "dibatalkan. Ada lagi" not in chat.text, chat.text
    assert "otomatis batal setelah 3 hari" in chat.text, chat.text  # the demo shop's order-cancel answer
    assert chat.last_info.faq_id == "order-cancel", chat.last_info  # recorded as what was answered

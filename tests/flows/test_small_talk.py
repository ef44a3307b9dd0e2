"""Greetings, goodbyes and "batal" outside any flow: what the customer reads must be true
and sound like a shop admin."""

from __future__ import annotations


async def test_a_goodbye_is_not_answered_with_youre_welcome(bot):
    # "bye kak" thanked nobody: "Sama-sama" (you're welcome) answered a thanks that never came.
    chat = bot.customer("bye")
    await chat.say("bye kak")
    assert chat.last_info.intent == "goodbye", chat.text
    assert "Sama-sama" not in chat.text and "Sampai jumpa" in chat.text, chat.text

"""Answers made only of emoji: a thumbs-up is a yes, a thumbs-down a no, anything else nothing."""

from __future__ import annotations

from tests.flows.test_place_order import walk_to_summary


async def test_a_thumbs_down_at_the_summary_does_not_place_the_order(bot):
    chat = bot.customer("dewi-emoji")
    await walk_to_summary(chat)
    assert "Mohon dicek" in chat.text
    await chat.say("👎")
    assert "Nomor pesanan" not in chat.text, chat.text
    assert (await chat.state()).get("flow"), "the order is still being placed"
    await chat.say("👍🏽")
    assert "Nomor pesanan" in chat.text, chat.text


async def test_a_smiley_in_the_middle_of_an_order_neither_cancels_nor_answers_it(bot):
    chat = bot.customer("rina-emoji")
    await chat.say("mau pesan kemeja parang ukuran L warna biru")
    assert "Mau pesan berapa" in chat.text, chat.text
    for smiley in ("😀", "😅", "🤣"):
        await chat.say(smiley)
        assert "dibatalkan" not in chat.text.lower(), (smiley, chat.text)
        assert (await chat.state()).get("flow"), smiley
    await chat.say("2")
    assert "× 2" in chat.text, chat.text


async def test_a_zero_width_space_is_not_a_yes(bot):
    chat = bot.customer("zw-emoji")
    await walk_to_summary(chat)
    await chat.say("\u200b")
    assert "Nomor pesanan" not in chat.text, chat.text


def test_emoji_only_messages_are_read_by_their_settled_meaning(demo_nlu):
    expected = {
        "👍": "affirm", "👌🏻": "affirm", "✔️": "affirm", "👎": "deny", "❌": "deny", "🙏🙏": "thanks", "❤️": "thanks",
        "😀": "out_of_scope", "😭": "out_of_scope", "🤣": "out_of_scope", "👍👎": "out_of_scope", "?": "out_of_scope",
        "\u200b": "out_of_scope",
    }
    got = {text: demo_nlu.parse(text).intent.name for text in expected}
    assert got == expected
    # words beside the emoji are read as before
    assert demo_nlu.parse("ya 😊").intent.name == "affirm"

"""Shipping questions get the shop's own rates from shipping.yml, not just the FAQ's guide."""

from __future__ import annotations


async def test_a_city_in_the_question_gets_every_couriers_price(bot):
    chat = bot.customer("ongkir-sby")
    await chat.say("kak ongkir ke sby brp ya?")
    assert "Ongkir dihitung otomatis" in chat.replies[0].text  # the admin's answer first
    quote = chat.replies[-1].text
    assert "Ongkir ke Surabaya untuk paket 1 kg" in quote, chat.text
    assert "• JNE REG: Rp14.000 (2–3 hari)" in quote, quote  # shipping.yml: zone jawa, 14000/kg
    assert "GoSend" not in quote  # GoSend only serves Solo itself
    # the city was named: the answer does not end by asking for it ("Sebutkan kota tujuan Kakak")
    assert "Sebutkan kota tujuan" not in chat.text, chat.text
    english = bot.customer("ship-sby-en")
    await english.say("how much is shipping to surabaya?", lang="en")
    assert "Shipping to Surabaya" in english.text and "Tell us your city" not in english.text, english.text


async def test_the_city_named_after_the_answer_gets_the_prices(bot):
    chat = bot.customer("ongkir-later")
    await chat.say("ongkirnya berapa kak?")
    assert "Sebutkan kota tujuan" in chat.text and "paket 1 kg" not in chat.text
    await chat.say("jayapura")
    assert "Ongkir ke Jayapura" in chat.text and "Rp75.000" in chat.text, chat.text
    # answered once: a later city on its own is not taken for a shipping question again
    await chat.say("bandung")
    assert "Ongkir ke Bandung" not in chat.text


async def test_in_english_and_another_question_in_between(bot):
    chat = bot.customer("ship-en")
    await chat.say("How much is shipping?", lang="en")
    assert "Tell us your city" in chat.text
    await chat.say("what payment methods do you accept?")
    assert "Shipping to" not in chat.text and "transfer" in chat.text.lower(), chat.text
    await chat.say("How much is shipping?")
    await chat.say("Bandung")
    assert "Shipping to Bandung for a 1 kg parcel" in chat.text and "JNE REG" in chat.text, chat.text


async def test_a_city_with_a_few_polite_words_gets_the_prices(bot):
    chat = bot.customer("ship-polite")
    await chat.say("How much is shipping?", lang="en")
    await chat.say("to Medan please")
    assert "Shipping to Medan for a 1 kg parcel" in chat.text, chat.text


async def test_a_late_parcel_is_answered_with_ways_to_check_and_report(bot):
    chat = bot.customer("late-parcel")
    await chat.say("kok paketnya lama banget ga nyampe2")
    assert "Mohon maaf ya Kak, paketnya belum sampai" in chat.text, chat.text
    payloads = [b.payload for b in chat.replies[-1].buttons]
    assert payloads == ["/order_status", "/complaint"]
    await chat.say("/order_status")
    assert "nomor pesanan" in chat.text.lower(), chat.text

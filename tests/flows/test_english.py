"""English-speaking customers get English all the way: words, buttons, and numbers written
the way English readers read them ("Rp189,000", not the Indonesian "Rp189.000")."""

from __future__ import annotations

from tests.flows.test_place_order import walk_to_summary


async def test_prices_use_english_digit_grouping_for_english_customers(bot):
    chat = bot.customer("money-en")
    await walk_to_summary(chat, lang="en")
    assert "× 2 — Rp378,000" in chat.text, chat.text
    assert "Rp378.000" not in chat.text
    await chat.press("Yes, place")
    assert "Please transfer Rp" in chat.text and "," in chat.text.split("Please transfer ")[1].split()[0], chat.text

    quote = bot.customer("quote-en")
    await quote.say("how much is shipping to surabaya?", lang="en")
    assert "SiCepat REG: Rp12,000" in quote.text, quote.text

    search = bot.customer("search-en")
    await search.say("how much is the rattan bag?", lang="en")
    assert "Rp165,000" in search.text, search.text


async def test_prices_keep_indonesian_digit_grouping_for_indonesian_customers(bot):
    chat = bot.customer("money-id")
    await walk_to_summary(chat)
    assert "× 2 — Rp378.000" in chat.text, chat.text
    quote = bot.customer("quote-id")
    await quote.say("ongkir ke surabaya brp kak?")
    assert "SiCepat REG: Rp12.000" in quote.text, quote.text


async def test_english_word_order_finds_the_product_indonesian_names_describe(bot):
    # The catalog says "Kemeja Batik Parang"; an English speaker says "the parang shirt".
    chat = bot.customer("stock-en")
    await chat.say("is the parang shirt in stock?", lang="en")
    assert "Kemeja Batik Parang Slim Fit" in chat.text, chat.text
    assert "Mega Mendung" not in chat.text and "Kawung" not in chat.text, chat.text

    await chat.say("do you have kawung shirts in XL?")
    assert "Kemeja Batik Kawung Lengan Panjang" in chat.text, chat.text
    assert "Parang" not in chat.text and "Mega Mendung" not in chat.text, chat.text

    order = bot.customer("order-en")
    await order.say("I'd like to buy the kawung shirt", lang="en")
    assert "Kemeja Batik Kawung Lengan Panjang comes in these options" in order.text, order.text


async def test_english_customers_read_colours_and_kids_sizes_in_english(bot):
    chat = bot.customer("colours-en")
    await chat.say("I want to order the parang shirt", lang="en")
    assert "L · blue" in chat.buttons and "M · brown" in chat.buttons, chat.buttons
    assert not any("biru" in b or "coklat" in b for b in chat.buttons), chat.buttons
    await chat.press("L · blue")
    assert "(L · blue): 6 in stock" in chat.text, chat.text
    await chat.say("1")
    assert "Kemeja Batik Parang Slim Fit (L · blue) × 1" in chat.text, chat.text

    search = bot.customer("kids-en")
    await search.say("do you have a kids batik shirt?", lang="en")
    assert "4 yrs" in search.text and "green" in search.text, search.text
    assert " th" not in search.text and "hijau" not in search.text, search.text

    # Indonesian keeps the catalog's own words.
    indonesian = bot.customer("colours-id")
    await indonesian.say("mau pesan kemeja parang")
    assert "L · biru" in indonesian.buttons, indonesian.buttons


async def test_thats_all_at_add_another_product_goes_on_to_delivery(bot):
    for sender, first, done, lang, asked in (
        ("done-id", "mau pesan kemeja parang L biru", "udah itu aja kak", "id", "atas nama siapa"),
        ("done-en", "I want to order the parang shirt size L", "that's all", "en", "Whose name"),
        ("done-en2", "I want to order the parang shirt size L", "that's it, thanks", "en", "Whose name"),
    ):
        chat = bot.customer(sender)
        await chat.say(first, lang=lang)
        await chat.say("1")
        assert "another product" in chat.text or "tambah produk" in chat.text.lower(), chat.text
        await chat.say(done)
        assert asked in chat.text, (done, chat.text)


async def test_everyday_english_requests_reach_what_their_indonesian_twins_reach(bot):
    complaint = bot.customer("complain-en")
    await complaint.say("I want to complain", lang="en")  # "saya mau komplain"
    assert complaint.last_info.intent == "complaint", complaint.text
    assert "what went wrong" in complaint.text, complaint.text  # asking to complain is not the complaint itself
    wordy = bot.customer("complain-en2")
    await wordy.say("I have a complaint about my order", lang="en")
    assert "what went wrong" in wordy.text, wordy.text

    cancel = bot.customer("cancel-en")
    await cancel.say("cancel my order", lang="en")  # "batalin pesanan saya": how to cancel, not "Okay, cancelled."
    assert cancel.last_info.faq_id == "order-cancel", cancel.text

    in_flow = bot.customer("cancel-flow-en")
    await in_flow.say("I want to order the parang shirt size L", lang="en")
    await in_flow.say("cancel my order")  # inside the order flow it still cancels the flow
    assert "the order is cancelled" in in_flow.text, in_flow.text


async def test_asking_which_sizes_there_are_is_not_asking_for_size_s(bot):
    # "sizes" is not "size S": the answer lists the sizes, without "S is sold out".
    chat = bot.customer("sizes-en")
    await chat.say("what sizes does the parang shirt come in?", lang="en")
    assert "Kemeja Batik Parang Slim Fit" in chat.text and "M, L, XL, XXL" in chat.text, chat.text
    assert "sold out" not in chat.text, chat.text


async def test_asking_for_english_in_the_middle_of_an_order_switches_to_english(bot):
    # "sorry, can we continue in English?" at "Mau pesan berapa, Kak?" stayed in Indonesian
    # ("Mau berapa, Kak? Tulis angkanya saja"): a flow kept the conversation's language.
    chat = bot.customer("switch-en")
    await chat.say("mau pesan tas rotan")
    await chat.press("20 cm · natural")
    assert "Mau pesan berapa" in chat.text, chat.text
    await chat.say("sorry, can we continue in English?")
    assert chat.last_info.lang == "en" and "How many would you like?" in chat.text, chat.text
    await chat.say("1")
    assert "Added to your cart" in chat.text and "× 1" in chat.text, chat.text
    await chat.say("pakai bahasa indonesia aja deh kak")  # and back
    assert chat.last_info.lang == "id" and "Mau tambah produk lain" in chat.text, chat.text

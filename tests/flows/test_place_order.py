"""Placing an order in chat, from "ada batik ukuran L?" to payment instructions."""

from __future__ import annotations

import asyncio

from bot.flows import slots
from bot.orders.records import OrderStatus


async def walk_to_courier(chat) -> None:
    """An order of one Parang shirt to Surabaya, up to "which courier?"."""
    await chat.say("mau pesan kemeja parang L biru")
    await chat.say("1")
    await chat.press("Lanjut")
    await chat.say("Rina")
    await chat.say("081298765432")
    await chat.say("Jl. Kenanga No. 7, Kelurahan Sukajadi")
    await chat.say("sby")


async def walk_to_summary(chat, *, lang: str = "id") -> None:
    """The happy path up to the summary, answering as a customer types."""
    if lang == "id":
        await chat.say("mau pesan kemeja parang ukuran L warna biru")
        assert "Mau pesan berapa" in chat.text, chat.text
        await chat.say("2")
        assert "keranjang" in chat.text and "× 2" in chat.text
        await chat.press("Lanjut")
        await chat.say("sari wulandari")
        assert "HP" in chat.text
        await chat.say("0812 3456 7890")
        await chat.say("Jl. Merpati No. 5, RT 02/RW 03, Antapani")
        await chat.say("bandung")
        assert "Ongkir ke Bandung" in chat.text, chat.text
        await chat.press("JNE")
        await chat.press("Transfer bank")
    else:
        await chat.say("I want to order the parang shirt", lang="en")
        assert "options" in chat.text, chat.text
        await chat.press("L · blue")
        await chat.say("two")
        await chat.press("delivery")
        await chat.say("Sari Wulandari")
        await chat.say("+62 812-3456-7890")
        await chat.say("Jl. Merpati No. 5, Antapani")
        await chat.say("Bandung")
        await chat.press("JNE")
        await chat.press("Bank transfer")


async def test_an_order_in_indonesian_from_question_to_payment_instructions(bot):
    chat = bot.customer("sari")
    await chat.say("ada kemeja batik ukuran L warna biru?")
    assert "Kemeja Batik Parang" in chat.text
    await walk_to_summary(chat)
    assert "Mohon dicek" in chat.text
    for part in ("Kemeja Batik Parang Slim Fit (L · biru) × 2 — Rp378.000", "Sari Wulandari", "081234567890",
                 "Jl. Merpati No. 5", "Bandung", "Total"):
        assert part in chat.text, part
    available_before = (await bot.orders.available(["BTK-KMJ-001-L-BIRU"]))["BTK-KMJ-001-L-BIRU"]
    await chat.press("Ya, pesan")
    assert "Nomor pesanan" in chat.text
    number = next(w.strip("*") for w in chat.text.split() if w.strip("*").startswith("SP-"))
    assert "BCA" in chat.text and "sudah transfer" in chat.text.lower()
    order = await bot.orders.get(number)
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.customer_name == "Sari Wulandari" and order.phone == "081234567890" and order.city == "Bandung"
    assert order.subtotal == 378000 and isinstance(order.total, int) and order.total == 378000 + order.shipping_cost
    assert (await bot.orders.available(["BTK-KMJ-001-L-BIRU"]))["BTK-KMJ-001-L-BIRU"] == available_before - 2
    assert "flow" not in await chat.state()


async def test_an_order_in_english(bot):
    chat = bot.customer("john")
    await walk_to_summary(chat, lang="en")
    assert "Please check your order" in chat.text
    await chat.press("Yes, place")
    assert "Order number" in chat.text and "Bank transfer" not in chat.buttons


async def test_double_confirm_creates_one_order(bot):
    chat = bot.customer("double")
    await walk_to_summary(chat)
    confirm = next(b.payload for r in chat.replies for b in r.buttons if "Ya, pesan" in b.title)
    first, second = await asyncio.gather(chat.say(confirm), bot.customer("double").say(confirm))
    orders = await bot.orders.for_identity("rest", "double")
    assert len(orders) == 1


async def test_cancel_midway_and_start_again(bot):
    chat = bot.customer("batal")
    await chat.say("mau pesan tas rotan")
    await chat.say("batal")
    assert "dibatalkan" in chat.text
    assert "flow" not in await chat.state()
    assert await bot.orders.for_identity("rest", "batal") == []


async def test_an_faq_in_the_middle_then_back_to_the_order(bot):
    chat = bot.customer("tanya")
    await chat.say("mau pesan kemeja parang L biru")
    await chat.say("1")
    await chat.press("Lanjut")
    await chat.say("Rina")
    await chat.say("bisa bayar pakai apa aja kak?")
    assert "transfer" in chat.text.lower()  # the FAQ answer
    assert "HP" in chat.replies[-1].text  # and the question it was at
    await chat.say("081298765432")
    assert "Alamat" in chat.text


async def test_checking_another_order_parks_this_one(bot):
    chat = bot.customer("multi")
    await chat.say("mau pesan kemeja parang L biru")
    await chat.say("cek status pesanan SP-2026-000001 dong")
    assert "nomor HP atau email" in chat.text
    await chat.say("batal")
    assert "Mau pesan berapa" in chat.text  # the order resumes


async def test_wrong_answers_are_explained(bot):
    chat = bot.customer("typo")
    await chat.say("mau pesan kemeja parang L biru")
    await chat.say("banyak")
    assert "angkanya" in chat.text
    await chat.say("99")
    assert "maksimal" in chat.text
    await chat.say("1")
    await chat.press("Lanjut")
    await chat.say("Rudi")
    await chat.say("12345")
    assert "Nomor HP tidak valid" in chat.text and "0812" in chat.text
    await chat.say("081234567890")
    await chat.say("jl")
    assert "kurang lengkap" in chat.text
    await chat.say("Jl. Kenanga No. 7, " + "Kelurahan Sukajadi " * 20)
    assert "Kepanjangan" in chat.text and "300" in chat.text and "kurang lengkap" not in chat.text
    await chat.say("Jl. Kenanga No. 7, Kelurahan Sukajadi")
    await chat.say("Atlantis")
    assert "belum ada di daftar ongkir" in chat.text


async def test_the_summary_lets_the_customer_change_the_address(bot):
    chat = bot.customer("ubah")
    await walk_to_summary(chat)
    await chat.press("Ubah alamat")
    assert "Alamat lengkap" in chat.text
    await chat.say("Jl. Darmo No. 10, Wonokromo")
    await chat.say("surabaya")
    await chat.press("JNE")
    assert "Surabaya" in chat.text and "Mohon dicek" in chat.text


async def test_resume_an_unfinished_order_later(bot):
    chat = bot.customer("nanti")
    await chat.say("mau pesan kemeja parang L biru")
    await chat.say("1")
    await chat.say("cek status pesanan SP-2026-000001")  # parks the order
    await chat.say("mau pesan")  # the parked order comes back, cart and all
    assert "lanjutkan" in chat.text.lower()
    state = await chat.state()
    assert state["flow"]["slots"][slots.CART][0]["sku"] == "BTK-KMJ-001-L-BIRU"


async def test_the_last_unit_goes_to_exactly_one_customer(bot):
    # BTK-KMJ-001-XXL-COKLAT has one unit in the demo catalog.
    first, second = bot.customer("cepat"), bot.customer("lambat")
    for chat in (first, second):
        await chat.say("mau pesan kemeja parang")
        await chat.press("XXL · coklat")
        await chat.say("1")
        await chat.press("Lanjut")
        await chat.say("Dewi Lestari")
        await chat.say("081377788899")
        await chat.say("Jl. Mawar No. 1, Kecamatan Coblong")
        await chat.say("Bandung")
        await chat.press("JNE")
        await chat.press("Transfer bank")
    confirm = "/affirm"
    await asyncio.gather(first.say(confirm), second.say(confirm))
    placed = [c for c in (first, second) if "Nomor pesanan" in c.text]
    lost = [c for c in (first, second) if "Nomor pesanan" not in c.text]
    assert len(placed) == 1 and len(lost) == 1
    assert "diambil pembeli lain" in lost[0].text
    assert "Kemeja Batik Parang Slim Fit (XXL · coklat): sisa 0" in lost[0].text  # which line changed
    assert (await bot.orders.available(["BTK-KMJ-001-XXL-COKLAT"]))["BTK-KMJ-001-XXL-COKLAT"] == 0


async def test_catalog_answers_show_the_stock_left_after_orders(bot):
    chat = bot.customer("stocky")
    await chat.say("ada kemeja parang ukuran L warna biru?")
    assert "stok 6" in chat.text
    await walk_to_summary(chat)
    await chat.press("Ya, pesan")
    await bot.customer("someone-else").say("ada kemeja parang ukuran L warna biru?")
    later = bot.customer("someone-else")
    await later.say("ada kemeja parang ukuran L warna biru?")
    assert "stok 4" in later.text


async def test_coming_back_hours_later_parks_the_order_until_asked_for(bot):
    from datetime import timedelta

    chat = bot.customer("besok")
    await chat.say("mau pesan kemeja parang L biru")
    await chat.say("1")
    await chat.press("Lanjut")
    assert "atas nama siapa" in chat.text
    bot.clock.now += timedelta(hours=20)
    await chat.say("kak bisa bayar pakai apa aja?")
    assert "transfer" in chat.text.lower() and "atas nama" not in chat.text  # a plain FAQ answer
    await chat.say("mau lanjut pesan")
    assert "lanjutkan yang tadi" in chat.text and "atas nama siapa" in chat.text


async def test_the_courier_can_be_typed_as_customers_spell_it(bot):
    chat = bot.customer("ketik-kurir")
    await walk_to_courier(chat)
    assert "Mau pakai kurir yang mana" in chat.text
    await chat.say("jne")  # REG or YES: the customer is asked which, not given one at random
    assert "Mau yang mana" in chat.text
    assert any(t.startswith("JNE REG") for t in chat.buttons) and any(t.startswith("JNE YES") for t in chat.buttons)
    await chat.say("jnt aja kak")
    assert "Mau bayar pakai apa" in chat.text, chat.text
    assert (await chat.state())["flow"]["slots"][slots.COURIER_NAME] == "J&T EZ"
    await chat.press("Transfer bank")
    await chat.press("Ganti kurir")
    await chat.say("sicepat")
    assert "Mau bayar pakai apa" in chat.text or "Mohon dicek" in chat.text, chat.text
    assert (await chat.state())["flow"]["slots"][slots.COURIER_NAME] == "SiCepat REG"


async def test_answers_with_an_emoji_are_understood(bot):
    chat = bot.customer("emoji")
    await chat.say("mau pesan kemeja parang L biru")
    await chat.say("2 ya kak 😊")
    assert "keranjang" in chat.text and "× 2" in chat.text, chat.text


async def test_ordering_without_naming_a_product_offers_some_to_pick(bot):
    chat = bot.customer("mau-pesan")
    await chat.say("mau pesan")
    assert "pilih di bawah" in chat.text
    assert len(chat.buttons) >= 3, chat.buttons  # the prompt says "pick one below": there is something to pick
    first = chat.buttons[0]
    await chat.press(first)
    assert first in chat.text and ("Mau yang mana" in chat.text or "Mau pesan berapa" in chat.text), chat.text


async def test_a_size_of_several_words_can_be_typed(bot):
    chat = bot.customer("tas-20cm")
    await chat.say("mau pesan tas rotan")
    assert "20 cm · natural" in chat.buttons
    await chat.say("yg 20cm natural ya kak")
    assert "Mau pesan berapa" in chat.text and "20 cm · natural" in chat.text, chat.text
    await chat.say("batal")
    await chat.say("mau pesan tas rotan")
    await chat.say("natural")  # 20 cm or 25 cm: the customer is asked, with just those two
    assert "Yang mana" in chat.text
    assert {"20 cm · natural", "25 cm · natural (Rp195.000)"} <= set(chat.buttons)


async def test_the_payment_deadline_is_told_with_the_order(bot):
    # Three days to pay (shop.yml); unpaid orders are cancelled, so the customer must know when.
    chat = bot.customer("tenggat")
    await walk_to_summary(chat)
    await chat.press("Ya, pesan")
    assert "paling lambat Kamis, 26 November 2026 pukul 10.00 WIB" in chat.text, chat.text
    english = bot.customer("deadline-en")
    await walk_to_summary(english, lang="en")
    await english.press("Yes, place")
    assert "Please pay by Thursday, 26 November 2026, 10:00 WIB" in english.text, english.text


async def test_the_summary_understands_a_typed_change(bot):
    chat = bot.customer("ketik-ubah")
    await walk_to_summary(chat)
    await chat.say("eh alamatnya salah kak, ganti dong")
    assert "Alamat lengkap" in chat.text, chat.text  # not the FAQ about changing a placed order's address
    await chat.say("Jl. Darmo No. 10, Wonokromo")
    await chat.say("surabaya")
    await chat.press("JNE")
    assert "Surabaya" in chat.text and "Mohon dicek" in chat.text
    await chat.say("change the courier please")
    assert "kurir yang mana" in chat.text, chat.text


async def test_everyday_ways_of_starting_an_order_start_one(bot):
    # "kak mau pesan dong" shares three words with the FAQ "Kak pesanan saya mau
    # dibatalkan" and was answered with the cancellation policy.
    for i, text in enumerate(("kak mau pesan dong", "mau order dong kak", "mau pesan dong")):
        chat = bot.customer(f"pesan-dong-{i}")
        await chat.say(text)
        assert (await chat.state()).get("flow", {}).get("name") == "place_order", (text, chat.text)


async def test_asking_for_a_sold_out_option_says_so_before_other_products(bot):
    chat = bot.customer("xl-biru")
    await chat.say("mau pesan kemeja parang")
    await chat.say("XL biru ada?")  # the Parang's XL biru is sold out; the Mega Mendung has it
    assert "XL · biru stoknya sedang habis" in chat.replies[0].text, chat.text
    assert "Mega Mendung" in chat.text and "Mau yang mana" in chat.text
    assert (await chat.state())["flow"]["requested"] == "variant"
    await chat.say("ada motif lain?")  # names no option: no "that option does not exist"
    assert "Pilihan itu tidak ada" not in chat.text, chat.text


async def test_the_name_in_the_opening_message_is_not_asked_again(bot):
    chat = bot.customer("named-orderer")
    await chat.say("mau pesan kemeja parang slim fit L biru 1 atas nama Rina Kurnia")
    for _ in range(6):
        if "nomor hp" in chat.text.lower():
            break
        if "Mau tambah produk" in chat.text:
            await chat.say("tidak")
        elif chat.buttons:
            await chat.press(chat.buttons[0])
        else:
            await chat.say("1")
    assert "atas nama siapa" not in chat.text.lower()
    assert "nomor hp" in chat.text.lower()
    assert (await chat.state())["flow"]["slots"]["customer_name"] == "Rina Kurnia"


async def test_how_many_in_the_opening_message_is_not_asked_again(bot):
    chat = bot.customer("qty-at-once")
    await chat.say("mau pesan 2 kemeja parang slim fit L biru kak")
    assert "berapa" not in chat.text.lower()
    assert "× 2" in chat.text and "Mau tambah produk" in chat.text

    english = bot.customer("qty-at-once-en")
    await english.say("I'd like to order two parang shirts size L blue")
    assert "How many" not in english.text and "× 2" in english.text


async def test_how_many_said_first_waits_for_the_size_to_be_picked(bot):
    chat = bot.customer("qty-later")
    await chat.say("mau pesan 3 kemeja parang")
    assert "Mau yang mana" in chat.text
    await chat.press("M · biru")
    assert "berapa" not in chat.text.lower()
    assert "(M · biru) × 3" in chat.text


async def test_more_than_in_stock_said_first_is_asked_with_the_stock(bot):
    chat = bot.customer("qty-too-many")
    await chat.say("mau pesan 15 kemeja parang L biru")
    assert "tinggal 6" in chat.text and "5" in chat.buttons
    await chat.press("5")
    assert "× 5" in chat.text


async def test_the_city_in_the_address_is_offered_as_a_button(bot):
    chat = bot.customer("city-in-address")
    await chat.say("mau pesan 1 kemeja parang slim fit L biru")
    await chat.press("Lanjut")
    await chat.say("Dewi Lestari")
    await chat.say("081298765432")
    await chat.say("Jl. Melati No. 5, Gubeng, Surabaya")
    assert "Kota/kabupaten" in chat.text and chat.buttons == ["Surabaya"]
    await chat.press("Surabaya")
    assert "Ongkir ke Surabaya" in chat.text
    await chat.press("JNE")
    await chat.press("Transfer bank")
    # the summary writes the city once, not "…, Surabaya, Surabaya"
    assert "📍 Jl. Melati No. 5, Gubeng, Surabaya\n" in chat.text, chat.text

    # nor "…, solo, Surakarta": the same city by its everyday name
    solo = bot.customer("city-alias-in-address")
    await solo.say("mau pesan 1 kemeja parang slim fit L biru")
    await solo.press("Lanjut")
    await solo.say("Sari Wulandari")
    await solo.say("081298765432")
    await solo.say("jl melati no 5 rt 2 rw 3, kel. jebres, solo")
    await solo.press("Surakarta")
    await solo.press("JNE REG")
    await solo.press("Transfer bank")
    assert "📍 jl melati no 5 rt 2 rw 3, kel. jebres, Surakarta\n" in solo.text, solo.text

    street = bot.customer("city-in-street")
    await street.say("mau pesan 1 kemeja parang slim fit L biru")
    await street.press("Lanjut")
    await street.say("Dewi Lestari")
    await street.say("081298765432")
    await street.say("Jl. Merpati No. 5, RT 02/RW 03, Antapani")
    assert "Kota/kabupaten" in street.text and street.buttons == []  # nothing guessed from a street


async def test_a_choice_typed_instead_of_pressed_picks_that_button(bot):
    chat = bot.customer("typed-choice")
    await chat.say("mau beli kemeja batik")
    assert "Kemeja Batik Parang Slim Fit" in chat.buttons and len(chat.buttons) > 2
    await chat.say("yg parang aja kak")
    assert "Kemeja Batik Parang Slim Fit tersedia" in chat.text

    english = bot.customer("typed-choice-en")
    await english.say("I'd like to buy a batik shirt")
    await english.say("the parang one")
    assert "Kemeja Batik Parang Slim Fit comes in these options" in english.text
    await english.say("the brown XL one")
    assert "(XL · brown)" in english.text and "How many" in english.text

    second = bot.customer("typed-ordinal")
    await second.say("mau beli kemeja batik")
    offered = second.buttons
    await second.say("yang kedua kak")
    assert f"{offered[1]} tersedia" in second.text


async def test_a_typed_word_several_buttons_share_is_left_to_the_question(bot):
    chat = bot.customer("typed-ambiguous")
    await chat.say("mau beli kemeja batik")
    await chat.say("kemeja")  # every offered title has it: not a pick
    assert "tersedia dalam pilihan" not in chat.text


async def test_asking_what_the_shop_sells_lists_its_categories_as_buttons(bot):
    chat = bot.customer("browse")
    await chat.say("ada produk apa aja kak?")
    assert chat.text.startswith("Kami jual ") and "tas" in chat.text and "belum ketemu" not in chat.text, chat.text
    assert "Tas" in chat.buttons and "Kemeja" in chat.buttons
    await chat.press("Tas")
    assert "Tas Rotan Bulat" in chat.text and "Kemeja" not in chat.text, chat.text

    english = bot.customer("browse-en")
    await english.say("what do you sell?", lang="en")
    assert english.text.startswith("We sell ") and "Bags" in english.buttons, english.text
    # naming something the shop does not sell is not browsing
    await english.say("do you sell laptops?")
    assert "couldn't find that product" in english.text


async def test_naming_another_product_at_add_more_adds_it(bot):
    chat = bot.customer("second-line")
    await chat.say("mau pesan 1 kemeja parang slim fit L biru")
    assert "Mau tambah produk" in chat.text, chat.text
    await chat.say("tas rotan bulat")  # yes, and this one
    assert "Tas Rotan Bulat tersedia dalam pilihan" in chat.text, chat.text
    await chat.say("20 cm natural")
    assert "Mau pesan berapa" in chat.text, chat.text
    await chat.say("1")
    assert "Kemeja Batik Parang" in chat.text and "Tas Rotan Bulat" in chat.text, chat.text
    await chat.say("kemeja")  # several shirts: the product question asks which
    assert "Mau tambah produk" not in chat.text and chat.buttons, chat.text


async def test_changing_the_size_or_colour_mid_order_changes_it(bot):
    # "eh ukurannya M aja deh" right after the shirt went into the cart, or at "how many?",
    # was not understood: the same question came back until the offer of a person.
    chat = bot.customer("switch-cart")
    await chat.say("kak mau pesan 2 kemeja parang L biru")
    assert "(L · biru) × 2" in chat.text, chat.text
    await chat.say("eh ukurannya M aja deh")
    assert "diganti jadi M · biru" in chat.text, chat.text
    assert "(M · biru) × 2 — Rp378.000" in chat.text and "(L · biru)" not in chat.text, chat.text
    await chat.say("eh yg XL aja")  # XL biru is sold out: said, and the cart stays
    assert "habis" in chat.text and "(M · biru) × 2" in chat.text, chat.text
    await chat.say("tambah yg XL coklat juga")  # as well, not instead: how many of it?
    assert "(XL · coklat): 5" in chat.text, chat.text
    await chat.say("1")
    assert "(M · biru) × 2" in chat.text and "(XL · coklat) × 1" in chat.text, chat.text
    await chat.press("Lanjut")
    assert "atas nama siapa" in chat.text, chat.text
    state = await chat.state()
    assert [(line["sku"], line["quantity"]) for line in state["flow"]["slots"]["cart"]] == [
        ("BTK-KMJ-001-M-BIRU", 2), ("BTK-KMJ-001-XL-COKLAT", 1)
    ]

    asked = bot.customer("switch-quantity")
    await asked.say("mau beli kemeja parang")
    await asked.press("L · biru")
    assert "(L · biru): 6" in asked.text, asked.text
    await asked.say("eh mau yg coklat aja kak")  # L coklat is sold out: said, and still L biru
    assert "L · coklat stoknya sedang habis" in asked.text and "(L · biru): 6" in asked.text, asked.text
    await asked.say("ukurannya M aja deh")
    assert "diganti jadi M · biru" in asked.text and "(M · biru): 4" in asked.text, asked.text
    await asked.say("2")
    assert "(M · biru) × 2" in asked.text, asked.text


async def test_ordering_right_after_a_product_was_shown_orders_that_product(bot):
    # "I want to buy the brown one in XL" / "mau pesen 2 ya kak" right after the bot showed the
    # Parang shirt were asked "Which product would you like?" as if nothing had been said.
    chat = bot.customer("after-shown-en")
    await chat.say("is the parang shirt in stock?", lang="en")
    await chat.say("do you have it in XL?")
    assert "Kemeja Batik Parang Slim Fit — Rp189,000 (XL · brown)" in chat.text, chat.text
    await chat.say("I want to buy the brown one in XL")
    assert "Which product" not in chat.text, chat.text
    assert "(XL · brown): 5 in stock" in chat.text, chat.text

    indo = bot.customer("after-shown-id")
    await indo.say("min ada kemeja batik ukuran L warna biru?")
    await indo.say("mau pesen 2 ya kak")
    assert "produk yang mana" not in indo.text, indo.text
    await indo.press("L · biru")
    assert "(L · biru) × 2" in indo.text, indo.text  # the 2 said before the size was picked

    # Once that order started, a later "mau pesan" no longer assumes the same product.
    await indo.say("batal")
    await indo.say("mau pesan dong")
    assert "produk yang mana" in indo.text, indo.text


async def test_the_cheapest_courier_can_be_asked_for_in_words(bot):
    # "yg paling murah aja" / "cheapest one" at the courier question got "pick a courier from
    # the list" — the list is sorted by price, yet the customer had to read it and type a name.
    chat = bot.customer("kurir-murah")
    await walk_to_courier(chat)
    await chat.say("yg paling murah aja kak")
    assert "Mau bayar pakai apa" in chat.text, chat.text
    assert (await chat.state())["flow"]["slots"][slots.COURIER_NAME] == "SiCepat REG"

    english = bot.customer("courier-cheapest")
    await english.say("I want to order the kawung shirt size L navy", lang="en")
    await english.say("1")
    await english.press("Go on")
    await english.say("Budi Santoso")
    await english.say("0812 3333 4444")
    await english.say("Jl. Kenanga 12, Kebayoran Baru")
    await english.say("jakarta")
    await english.say("the cheapest one please")
    assert "How would you like to pay" in english.text, english.text


async def test_changing_the_cart_from_the_summary_says_it_starts_over(bot):
    # "🛒 Ubah keranjang" emptied the cart and asked "Mau pesan produk yang mana?" as if the
    # order had just begun; the customer could not tell the two shirts were gone.
    chat = bot.customer("ubah-keranjang")
    await walk_to_summary(chat)
    await chat.press("Ubah keranjang")
    assert "keranjangnya kami kosongkan" in chat.text and "produk yang mana" in chat.text, chat.text
    await chat.say("kemeja kawung L navy")
    await chat.say("1")
    await chat.press("Lanjut")
    assert "Mau pakai kurir yang mana" in chat.text, chat.text  # name and address kept


async def test_saying_mau_beli_and_a_catalog_word_starts_an_order(bot):
    # "mau beli kain batik" shares "kain" and "batik" with the FAQ about materials, and got
    # the answer about primisima cotton instead of an order.
    chat = bot.customer("mau-beli-kain")
    await chat.say("mau beli kain batik")
    assert "katun primisima" not in chat.text, chat.text
    assert "Kain Batik Cap Parang Rusak" in chat.buttons, chat.text
    # the turn is recorded (custom.intent, the console) as what the bot acted on
    assert chat.last_info.intent == "place_order", chat.last_info

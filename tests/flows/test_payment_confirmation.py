"""'Sudah transfer': the customer confirms a payment in chat; the order waits for an admin."""

from __future__ import annotations

from bot.orders.records import OrderStatus

from .test_order_status import place


async def test_confirm_a_payment_with_a_proof_image(bot):
    order = await place(bot, sender="payer")
    chat = bot.customer("payer")
    await chat.say("kak saya sudah transfer ya")
    assert "Nomor pesanannya" in chat.text
    assert order.number in chat.buttons  # their own recent order, one tap away
    await chat.press(order.number)
    assert "rekening mana" in chat.text  # same identity: no phone needed
    assert "BCA" in chat.buttons
    await chat.press("BCA")
    assert "nominal" in chat.text.lower()
    await chat.say("Rp396.000")
    assert "nama" in chat.text.lower()
    await chat.say("sari wulandari")
    assert "bukti transfer" in chat.text and "Lewati" in chat.buttons
    assert chat.replies[-1].expects == "image"
    await chat.say("", image="/widget/uploads/abc123.jpg")
    assert "sudah kami terima" in chat.text and order.number in chat.text
    stored = await bot.orders.get(order.number)
    assert stored.status == OrderStatus.PAYMENT_SUBMITTED
    payment = stored.payments[-1]
    assert (payment.bank, payment.amount, payment.sender_name, payment.proof_url) == (
        "BCA", 396000, "Sari Wulandari", "/widget/uploads/abc123.jpg"
    )
    assert stored.events[-1].actor == "customer"


async def test_a_different_amount_is_accepted_but_flagged(bot):
    order = await place(bot, sender="payer2")
    chat = bot.customer("payer2")
    await chat.say(f"udh tf buat pesanan {order.number}")
    assert "rekening mana" in chat.text
    await chat.say("mandiri")
    await chat.say("350rb")
    await chat.say("Budi")
    await chat.say("lewati")
    assert "Rp350.000" in chat.text and "Rp396.000" in chat.text


async def test_someone_else_must_verify_first_and_wrong_answers_are_explained(bot):
    order = await place(bot, sender="owner3")
    chat = bot.customer("helper")
    await chat.say("konfirmasi pembayaran", lang="en")
    await chat.say(order.number)
    assert "phone number or e-mail" in chat.text
    await chat.say("081234567890")
    assert "Which of our accounts" in chat.text
    await chat.say("Bank Jago")
    assert "pick the account" in chat.text
    await chat.say("BRI")
    await chat.say("about two hundred")
    assert "couldn't read that amount" in chat.text
    await chat.say("396000")
    await chat.say("12345")
    assert "name" in chat.text
    await chat.say("Sari")
    await chat.say("skip")
    assert (await bot.orders.get(order.number)).status == OrderStatus.PAYMENT_SUBMITTED


async def test_paid_orders_need_no_confirmation(bot):
    order = await place(bot, sender="early")
    await bot.orders.submit_payment(order.number, bank="BCA", amount=order.total, sender_name="Sari", actor="customer")
    await bot.orders.verify_payment(order.number, actor="admin:rina")
    chat = bot.customer("early")
    await chat.say(f"sudah transfer untuk {order.number}")
    await chat.say("BCA")
    await chat.say("396000")
    await chat.say("Sari")
    await chat.say("lewati")
    assert "sudah lunas" in chat.text


async def test_the_bank_can_be_typed_in_lowercase(bot):
    order = await place(bot, sender="payer-lower")
    chat = bot.customer("payer-lower")
    await chat.say(f"udh tf kak utk {order.number}")
    assert "rekening mana" in chat.text
    await chat.say("bca")
    assert "nominal" in chat.text.lower(), chat.text
    await chat.say("396rb")
    await chat.say("Sari")
    await chat.say("lewati")
    assert (await bot.orders.get(order.number)).payments[-1].bank == "BCA"


async def test_no_receipt_photo_in_words_finishes_the_confirmation(bot):
    order = await place(bot, sender="payer-nophoto")
    chat = bot.customer("payer-nophoto")
    await chat.say(f"sudah transfer untuk {order.number}")
    await chat.say("BCA")
    await chat.say("396000")
    await chat.say("Sari")
    await chat.say("tidak punya bukti transfer")
    assert "sudah kami terima" in chat.text, chat.text
    assert (await bot.orders.get(order.number)).status == OrderStatus.PAYMENT_SUBMITTED


async def test_a_receipt_photo_sent_first_is_asked_about_then_used_as_the_proof(bot):
    # Customers often send the transfer receipt before saying a word; it used to get
    # "kami belum paham", and the flow then asked for the same photo again.
    order = await place(bot, sender="photo-first")
    chat = bot.customer("photo-first")
    await chat.say("", image="/widget/uploads/struk001.jpg")
    assert "Fotonya sudah kami terima" in chat.text and "belum paham" not in chat.text
    assert chat.buttons == ["Bukti transfer", "Komplain barang", "Tanya admin"]
    await chat.press("Bukti transfer")
    await chat.press(order.number)
    await chat.press("BCA")
    await chat.say("396rb")
    await chat.say("sari wulandari")
    assert "sudah kami terima" in chat.text and order.number in chat.text, chat.text  # no second ask for the photo
    stored = await bot.orders.get(order.number)
    assert stored.status == OrderStatus.PAYMENT_SUBMITTED
    assert stored.payments[-1].proof_url == "/widget/uploads/struk001.jpg"


async def test_a_photo_sent_first_goes_with_a_complaint_and_is_not_kept_for_later(bot):
    chat = bot.customer("photo-complaint")
    await chat.say("", image="/widget/uploads/sobek01.jpg")
    await chat.press("Komplain barang")
    await chat.say("lengan kemejanya sobek pas dibuka")
    await chat.press("Lewati")  # no order number
    assert "TK-" in chat.text, chat.text  # the photo question was answered by the photo sent first
    assert "pending_photo" not in await chat.state()


async def test_what_the_opening_message_already_says_is_not_asked_again(bot):
    order = await place(bot, sender="payer-all")
    chat = bot.customer("payer-all")
    await chat.say(f"kak sudah transfer ya buat {order.number}, ke BCA 396rb a.n. Sari Wulandari")
    assert "rekening mana" not in chat.text and "nominal" not in chat.text.lower()
    assert "bukti transfer" in chat.text  # the only thing left to ask
    await chat.press("Lewati")
    stored = await bot.orders.get(order.number)
    payment = stored.payments[-1]
    assert (payment.bank, payment.amount, payment.sender_name) == ("BCA", 396000, "Sari Wulandari")


async def test_a_stranger_opening_with_number_and_phone_is_verified_at_once(bot):
    order = await place(bot, sender="owner-pc")
    chat = bot.customer("helper-pc")
    await chat.say(f"mau konfirmasi pembayaran {order.number} hp 081234567890, transfer via mandiri")
    assert "nomor HP atau email" not in chat.text
    assert "nominal" in chat.text.lower()  # bank given too: the amount comes next


async def test_an_opening_message_that_names_no_order_only_fills_what_it_says(bot):
    await place(bot, sender="payer-part")
    chat = bot.customer("payer-part")
    await chat.say("udah tf 396rb ke bca kak")
    assert "Nomor pesanannya" in chat.text
    # The phone-less opening asked nothing it could not check: no failed verification counted.
    assert "tidak cocok" not in chat.text.lower()


async def test_a_wrong_phone_in_the_opening_message_counts_as_one_failure(bot):
    order = await place(bot, sender="owner-wrong")
    chat = bot.customer("stranger-wrong")
    await chat.say(f"sudah transfer {order.number} no hp 089999999999")
    assert "tidak cocok" in chat.text and "sisa 4" in chat.text  # the same words as a typed answer
    assert "Nomor pesanannya" in chat.text
    assert order.customer_name not in chat.text and "Rp" not in chat.text


async def test_two_banks_named_are_asked_about(bot):
    order = await place(bot, sender="payer-two")
    chat = bot.customer("payer-two")
    await chat.say(f"sudah transfer {order.number} dari bri ke bca")
    assert "rekening mana" in chat.text


async def test_the_sender_name_is_taken_when_the_message_goes_on_after_it(bot):
    # One breath: "... atas nama sari wulandari buat pesanan SP-... tolong dicek ya": the name
    # ends at "buat"; it was dropped whole and asked again.
    order = await place(bot, sender="payer-runon")
    chat = bot.customer("payer-runon")
    await chat.say(
        f"min aku udah tf ya ke bca 396rb atas nama sari wulandari buat pesanan {order.number} "
        "tolong dicek ya soalnya mau dipake buat kondangan"
    )
    assert "Atas nama siapa" not in chat.text, chat.text
    assert "bukti transfer" in chat.text, chat.text  # the only thing left to ask
    await chat.press("Lewati")
    payment = (await bot.orders.get(order.number)).payments[-1]
    assert (payment.bank, payment.amount, payment.sender_name) == ("BCA", 396000, "Sari Wulandari")

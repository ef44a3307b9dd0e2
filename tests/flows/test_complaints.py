"""Complaints in chat become categorized, prioritized, routed tickets."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from bot.store.models import agents

from .test_order_status import place


async def make_agent(bot, username: str, teams: list[str], online: bool = True) -> int:
    def add(conn, now):
        return conn.execute(
            insert(agents).returning(agents.c.id),
            {"username": username, "display_name": username.title(), "role": "agent", "password_hash": "x",
             "active": True, "created_at": now},
        ).scalar_one()

    agent_id = await bot.store.write(add)
    await bot.tickets.set_teams(agent_id, teams)
    if online:
        await bot.tickets.set_online(agent_id)
    return agent_id


async def test_a_damaged_item_complaint_becomes_a_high_priority_ticket(bot):
    order = await place(bot, sender="sari")
    chat = bot.customer("sari")
    await chat.say("kak barang saya datang sobek di bagian lengan")
    await chat.press("Laporkan sekarang")  # the FAQ's answer offers to report it
    assert "nomor pesanan" in chat.text.lower()
    assert order.number in chat.buttons
    await chat.press(order.number)
    assert "foto" in chat.text
    await chat.say("", image="/widget/uploads/sobek123.jpg")
    assert "TK-" in chat.text and "Barang rusak/cacat" in chat.text
    assert chat.last_info.handoff is True
    number = chat.last_info.ticket_id
    assert number and number.startswith("TK-2026-")
    ticket = await bot.tickets.get(number)
    assert (ticket.category, ticket.priority, ticket.team, ticket.source) == ("damaged", "high", "gudang", "complaint")
    assert ticket.order_number == order.number
    assert "sobek" in ticket.summary and "/widget/uploads/sobek123.jpg" in ticket.summary
    assert ticket.first_response_due_at - ticket.created_at == timedelta(minutes=60)
    assert ticket.resolution_due_at - ticket.created_at == timedelta(hours=24)
    conversation = await bot.store.open_conversation("rest", "sari", None)
    assert conversation.status == "waiting_for_agent"
    # The customer keeps sending details while waiting: no second ticket.
    await chat.say("ini fotonya juga kak")
    assert len(await bot.tickets.list(customer_id=ticket.customer_id)) == 1


async def test_anger_and_fraud_words_raise_the_priority(bot):
    chat = bot.customer("marah")
    await chat.say("saya mau komplain, paket belum sampai udah 2 minggu, kecewa banget")
    await chat.say("lewati")
    await chat.say("lewati")
    ticket = await bot.tickets.get(chat.last_info.ticket_id)
    assert (ticket.category, ticket.priority, ticket.priority_reasons) == ("late_delivery", "high", ("angry_words",))

    scam = bot.customer("scam")
    await scam.say("ini penipuan ya, saya komplain uang saya sudah transfer barang tidak dikirim")
    await scam.say("lewati")
    await scam.say("lewati")
    ticket = await bot.tickets.get(scam.last_info.ticket_id)
    assert ticket.priority == "urgent" and ticket.priority_reasons == ("fraud_words",)


async def test_late_parcels_outside_java_go_to_that_team_and_an_online_agent_gets_it(bot):
    agent_id = await make_agent(bot, "yoga", ["pengiriman_luar_jawa"])
    order = await place(bot, sender="medan")
    # The order goes to Medan (Sumatra).
    from sqlalchemy import update

    from bot.store.models import orders

    await bot.store.write(lambda conn, now: conn.execute(update(orders).where(orders.c.number == order.number).values(city="Medan")))
    chat = bot.customer("medan")
    await chat.say("komplain kak, paket saya belum sampai sudah seminggu")
    await chat.press(order.number)
    await chat.say("lewati")
    ticket = await bot.tickets.get(chat.last_info.ticket_id)
    assert ticket.team == "pengiriman_luar_jawa" and ticket.assignee_id == agent_id
    assert "sudah memegang tiketnya" in chat.text


async def test_a_request_for_a_person_becomes_a_ticket_with_the_expected_wait(bot, monkeypatch):
    chat = bot.customer("orang")
    await chat.say("kak baju yang saya terima warnanya beda sama foto")
    await chat.say("mau ngobrol sama admin aja")
    assert chat.last_info.handoff is True
    ticket = await bot.tickets.get(chat.last_info.ticket_id)
    assert ticket.source in ("handoff", "offline") and ticket.category == "wrong_item"
    assert "warnanya beda" in ticket.summary
    assert ("menit" in chat.text) or ("online lagi" in chat.text)


async def test_the_message_asking_for_a_person_also_says_what_is_wrong(bot):
    chat = bot.customer("orang-sekaligus")
    await chat.say("paketnya datang sobek kak, saya mau bicara dengan admin")
    assert chat.last_info.handoff is True
    ticket = await bot.tickets.get(chat.last_info.ticket_id)
    assert ticket.category == "damaged" and ticket.priority == "high"
    assert "sobek" in ticket.subject and "sobek" in ticket.summary


async def test_a_handoff_button_adds_no_payload_to_the_ticket(bot):
    chat = bot.customer("orang-tombol")
    await chat.say("asdf qwerty")
    await chat.say("zxcv lkjh")
    if not any("admin" in b.lower() for b in chat.buttons):
        await chat.say("mau ngobrol sama admin")
    else:
        await chat.press("admin")
    ticket = await bot.tickets.get(chat.last_info.ticket_id)
    assert "/" not in ticket.subject and not ticket.summary.startswith("/")


async def test_agents_edits_are_audited_and_sla_follows_priority(bot):
    chat = bot.customer("audit")
    await chat.say("komplain min, kemeja yang saya terima jahitannya lepas")
    await chat.say("lewati")
    await chat.say("lewati")
    number = chat.last_info.ticket_id
    ticket = await bot.tickets.update(number, "agent:rina", priority="urgent", status="pending")
    assert ticket.first_response_due_at - ticket.created_at == timedelta(minutes=15)
    await bot.tickets.agent_replied(ticket.conversation_id, "agent:rina")
    ticket = await bot.tickets.update(number, "agent:rina", status="resolved")
    assert ticket.resolved_at is not None and ticket.first_response_at is not None
    fields = [(e.actor, e.field, e.old_value, e.new_value) for e in ticket.events]
    assert ("agent:rina", "priority", "high", "urgent") in fields
    assert ("agent:rina", "status", "open", "pending") in fields
    assert ("agent:rina", "status", "pending", "resolved") in fields
    assert any(f[1] == "first_response_at" for f in fields)
    assert not ticket.first_response_breached(ticket.first_response_at)


async def test_saying_komplain_files_a_complaint_even_when_an_faq_is_close(bot):
    chat = bot.customer("luntur")
    await chat.say("mau komplain kak, kain batik yang saya beli lunturnya parah")
    assert "nomor pesanan" in chat.text.lower()  # the complaint flow, not the FAQ about fading
    await chat.say("lewati")
    await chat.say("lewati")
    ticket = await bot.tickets.get(chat.last_info.ticket_id)
    assert ticket.category == "damaged" and "angry_words" in ticket.priority_reasons


async def test_saying_there_is_no_photo_skips_the_photo(bot):
    chat = bot.customer("tanpa-foto")
    await chat.say("kak barang saya rusak, jahitannya lepas")
    await chat.say("gak ada nomornya kak")
    assert "foto" in chat.text and "Lewati" in chat.buttons
    await chat.say("gak ada fotonya kak")
    assert "TK-" in chat.text, chat.text  # not an FAQ answer about product photos
    assert chat.last_info.ticket_id


async def test_text_at_the_photo_question_asks_for_a_photo_not_a_transfer_receipt(bot):
    chat = bot.customer("teks-di-foto")
    await chat.say("barang saya rusak, mau komplain")
    await chat.press("Lewati")
    await chat.say("kainnya sobek di bagian lengan")
    assert "bukti transfer" not in chat.text, chat.text
    assert "fotonya" in chat.text and "Lewati" in chat.buttons


async def test_everyday_complaints_and_late_parcels_reach_a_flow(bot):
    """The most common messages of an unhappy customer start the complaint or status flow,
    never "kami belum paham" or an FAQ that happens to share words."""
    expected = {
        "barang saya rusak": "complaint",
        "kak paket saya belum sampai sudah seminggu": "complaint",
        "pesanan saya belum datang kak": "order_status",
    }
    for i, (text, flow) in enumerate(expected.items()):
        chat = bot.customer(f"everyday-{i}")
        await chat.say(text)
        assert (await chat.state()).get("flow", {}).get("name") == flow, (text, chat.text)


async def test_a_mistyped_order_number_is_asked_again_and_can_be_skipped(bot):
    chat = bot.customer("salah-nomor")
    await chat.say("saya mau komplain, paket belum sampai udah 2 minggu")
    await chat.say("SP-2026-000999")
    assert "Pesanan SP-2026-000999 tidak kami temukan" in chat.text, chat.text
    await chat.say("lewati")
    await chat.say("lewati")
    ticket = await bot.tickets.get(chat.last_info.ticket_id)
    assert ticket is not None and ticket.order_number is None


async def test_a_greeting_is_not_taken_for_the_complaints_description(bot):
    chat = bot.customer("halo-dulu")
    await chat.say("saya mau komplain")
    assert "seperti apa" in chat.text, chat.text
    await chat.say("halo kak")
    assert "seperti apa" in chat.text, chat.text  # greeted back and asked again
    await chat.say("kemejanya luntur setelah dicuci sekali")
    assert "nomor pesanan" in chat.text.lower(), chat.text
    await chat.say("lewati")
    await chat.say("lewati")
    ticket = await bot.tickets.get(chat.last_info.ticket_id)
    assert ticket.summary.startswith("kemejanya luntur setelah dicuci sekali"), ticket.summary


async def test_is_anyone_there_from_the_queue_is_told_a_person_is_coming(bot):
    # "masih ada?" reads like a stock question; from the queue, "not in our catalog, shall
    # we connect you with our team?" would be nonsense.
    chat = bot.customer("waiting-customer")
    await chat.say("mau ngobrol sama admin")
    await chat.say("halo? masih ada orang?")
    assert "antrean" in chat.text and "katalog" not in chat.text
    # A real product question from the queue is still answered.
    await chat.say("kemeja parang ukuran L ada?")
    assert "Rp" in chat.text


async def test_a_complaint_told_in_the_first_message_is_answered_with_an_apology(bot):
    # "barang sy dateng sobek jahitannya, kecewa bgt" went straight to "nomor pesanannya
    # berapa?": the apology lives in the description question, which the message skipped.
    chat = bot.customer("told-at-once")
    await chat.say("kak barang sy dateng sobek jahitannya, kecewa bgt")
    assert chat.replies[0].text.startswith("Mohon maaf atas ketidaknyamanannya"), chat.text
    assert "nomor pesanannya berapa" in chat.text, chat.text
    assert chat.text.count("Mohon maaf") == 1, chat.text

    asked = bot.customer("told-when-asked")  # asked first: the question itself says sorry, once
    await asked.say("saya mau komplain")
    await asked.say("jahitan kemejanya lepas padahal baru dipakai sekali")
    assert "Mohon maaf" not in asked.text, asked.text

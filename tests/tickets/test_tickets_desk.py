"""The ticket desk on both databases: numbering, routing, assignment, queue, audit, SLA."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.tickets.records import NewTicket, TicketNotFound

from .conftest import add_agent


async def conversation(store, sender: str):
    return await store.open_conversation("widget", sender, "id")


def complaint(conv, text: str, **extra) -> NewTicket:
    return NewTicket(conversation_id=conv.id, customer_id=conv.customer_id, channel="widget", text=text,
                     source="complaint", lang="id", **extra)


async def test_numbers_are_unique_under_concurrency(store, desk):
    convs = [await conversation(store, f"c{i}") for i in range(12)]
    results = await asyncio.gather(*(desk.open(complaint(c, "barang rusak kak, sobek")) for c in convs))
    numbers = [t.number for t, created in results]
    assert all(created for _, created in results)
    assert len(set(numbers)) == 12 and all(n.startswith("TK-") for n in numbers)


async def test_one_active_ticket_per_conversation(store, desk):
    conv = await conversation(store, "again")
    first, created = await desk.open(complaint(conv, "paket belum sampai"))
    second, created_again = await desk.open(complaint(conv, "sudah seminggu lho", order_number="SP-2026-000009"))
    assert created and not created_again and first.number == second.number
    assert "sudah seminggu" in second.summary and second.order_number == "SP-2026-000009"


async def test_routing_assignment_limit_and_queue(store, desk):
    yoga = await add_agent(store, "yoga")
    await desk.set_teams(yoga, ["pengiriman_luar_jawa"])
    await desk.set_online(yoga)
    medan = [await conversation(store, f"medan{i}") for i in range(7)]
    tickets = [(await desk.open(complaint(c, "paket belum sampai", city="Medan")))[0] for c in medan]
    assert {t.team for t in tickets} == {"pengiriman_luar_jawa"}
    assigned = [t for t in tickets if t.assignee_id == yoga]
    assert len(assigned) == 5  # max_open_per_agent in the demo tickets.yml
    queued = [t for t in tickets if t.assignee_id is None]
    assert [await desk.expected_wait_minutes(t) for t in queued] == [5, 10]
    # An offline agent gets nothing; Java parcels stay with the main delivery team.
    java = await conversation(store, "jakarta")
    ticket, _ = await desk.open(complaint(java, "paket belum sampai", city="Jakarta"))
    assert ticket.team == "pengiriman" and ticket.assignee_id is None


async def test_edits_are_audited_and_validated(store, desk):
    conv = await conversation(store, "edit")
    ticket, _ = await desk.open(complaint(conv, "warnanya beda sama foto"))
    assert (ticket.category, ticket.priority) == ("wrong_item", "normal")
    changed = await desk.update(ticket.number, "agent:rina", category="damaged", priority="low", team="cs")
    assert changed.resolution_due_at - changed.created_at == timedelta(hours=168)
    assert [(e.actor, e.field) for e in changed.events][-3:] == [
        ("agent:rina", "category"), ("agent:rina", "priority"), ("agent:rina", "team")
    ]
    with pytest.raises(ValueError):
        await desk.update(ticket.number, "agent:rina", priority="whenever")
    with pytest.raises(ValueError):
        await desk.update(ticket.number, "agent:rina", category="nope")
    with pytest.raises(TypeError):
        await desk.update(ticket.number, "agent:rina", created_at="x")
    with pytest.raises(TicketNotFound):
        await desk.update("TK-2026-999999", "agent:rina", status="closed")
    closed = await desk.update(ticket.number, "agent:rina", status="closed", subject="<b>Warna</b>\x07 beda")
    assert closed.closed_at is not None and closed.resolved_at is not None
    assert closed.subject == "<b>Warna</b> beda"  # kept literally, control characters dropped


async def test_sla_breach_and_first_response(store, desk, clock):
    conv = await conversation(store, "sla")
    ticket, _ = await desk.open(complaint(conv, "penipuan! uang sudah transfer barang tidak dikirim"))
    assert ticket.priority == "urgent"
    clock.advance(minutes=20)
    assert ticket.first_response_breached(clock())
    await desk.agent_replied(conv.id, "agent:rina")
    again = await desk.get(ticket.number)
    assert again.first_response_at == clock() and again.first_response_breached(clock())
    await desk.agent_replied(conv.id, "agent:budi")  # only the first reply counts
    assert (await desk.get(ticket.number)).first_response_at == clock()


async def test_repeat_contact_and_order_value_raise_priority(store, desk):
    conv = await conversation(store, "repeat")
    first, _ = await desk.open(complaint(conv, "adminnya lama balas"))
    await desk.update(first.number, "agent:rina", status="resolved")
    second, _ = await desk.open(complaint(await conversation(store, "repeat-2"), "adminnya lama balas"))
    assert second.priority == "normal"  # another customer
    conv_again = await store.open_conversation("widget", "repeat", None)
    third, created = await desk.open(complaint(conv_again, "adminnya lama balas lagi"))
    assert created and third.priority == "high" and "repeat_contact" in third.priority_reasons

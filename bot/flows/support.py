"""Complaints and handoffs become tickets: the customer hears the ticket number and what
happens next (who answers, roughly when)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.flows import context, slots
from bot.flows.common import identity, lang_of
from bot.flows.context import FlowContext
from bot.handlers.widget_hours import format_next_open
from bot.tickets.records import NewTicket, TicketRecord
from bot.types import Lang



async def _order_city(ctx: FlowContext, number: str | None) -> str | None:
    if not number or ctx.orders is None:
        return None
    order = await ctx.orders.get(number)
    return order.city if order is not None else None


async def what_happens_next(ctx: FlowContext, ticket: TicketRecord, lang: Lang) -> str:
    """Who answers and roughly when: an assigned agent, the queue's wait, or the next opening."""
    texts = ctx.texts
    if ticket.assignee_id is not None:
        return texts.get("ticket_next_assigned", lang)
    hours = ctx.shop.widget.business_hours
    now = ctx.now()
    if hours is not None and not hours.is_open(now):
        return texts.get("ticket_next_closed", lang, next_open=format_next_open(hours.next_open(now), now, lang))
    minutes = await ctx.tickets.expected_wait_minutes(ticket)
    return texts.get("ticket_next_queue", lang, minutes=str(minutes or 5))


def _category_name(ctx: FlowContext, ticket: TicketRecord, lang: Lang) -> str:
    category = ctx.shop.tickets.category(ticket.category)
    return (category.name.get(lang) or category.name["id"]) if category else ticket.category


class ActionCreateTicket(Action):
    """Finishes the complaint flow: a categorized, prioritized ticket, and a person is on the way."""

    def name(self) -> str:
        return "action_create_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context.current()
        lang = lang_of(tracker)
        if ctx.tickets is None:
            dispatcher.utter_message(text=ctx.texts.get("handoff", lang, hours_note=ctx.hours_note(lang)))
            return [SlotSet(slots.HANDOFF, True)]
        channel, _ = identity(tracker)
        order_number = tracker.get_slot("order_number") or None
        photo = tracker.get_slot("photo") or None
        ticket, created = await ctx.tickets.open(
            NewTicket(
                conversation_id=int(tracker.get_slot(slots.CONVERSATION_ID) or 0),
                customer_id=int(tracker.get_slot(slots.CUSTOMER_ID) or 0),
                channel=channel,
                text=str(tracker.get_slot("description") or ""),
                source="complaint",
                lang=lang,
                order_number=order_number,
                city=await _order_city(ctx, order_number),
                attachments=(photo,) if photo else (),
            )
        )
        key = "ticket_created" if created else "ticket_added"
        text = ctx.texts.get(key, lang, number=ticket.number, category=_category_name(ctx, ticket, lang))
        dispatcher.utter_message(text=text + " " + await what_happens_next(ctx, ticket, lang))
        return [SlotSet(slots.HANDOFF, True), SlotSet(slots.TICKET_ID, ticket.number)]


class ActionHandoffTicket(Action):
    """After any handoff (asked for, or after two misses): the conversation's ticket, so the
    request waits in a queue with an SLA instead of being forgotten."""

    def name(self) -> str:
        return "action_handoff_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context.current()
        if ctx.tickets is None:
            return []
        conversation_id = int(tracker.get_slot(slots.CONVERSATION_ID) or 0)
        existing = await ctx.tickets.for_conversation(conversation_id)
        if existing is not None:
            return [SlotSet(slots.TICKET_ID, existing.number)]
        lang = lang_of(tracker)
        hours = ctx.shop.widget.business_hours
        offline = hours is not None and not hours.is_open(ctx.now())
        channel, _ = identity(tracker)
        # This turn's message is not stored yet; typed, it often says what is wrong
        # ("paketnya datang sobek, mau bicara dengan admin") and so picks the category.
        said = str(tracker.latest_message.get("text") or "")
        ticket, _ = await ctx.tickets.open(
            NewTicket(
                conversation_id=conversation_id,
                customer_id=int(tracker.get_slot(slots.CUSTOMER_ID) or 0),
                channel=channel,
                text="" if said.startswith("/") else said,
                source="offline" if offline else "handoff",
                lang=lang,
            )
        )
        dispatcher.utter_message(
            text=ctx.texts.get("ticket_for_handoff", lang, number=ticket.number) + " " + await what_happens_next(ctx, ticket, lang)
        )
        return [SlotSet(slots.TICKET_ID, ticket.number)]

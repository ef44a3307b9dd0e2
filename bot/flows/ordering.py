"""The actions that finish the order flows: place the order, record a payment
confirmation, tell a verified customer where their order is."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.catalog import options_label, rupiah
from bot.flows import context, slots
from bot.flows.asking import cart_lines
from bot.flows.common import identity, lang_of, offer_handoff_buttons
from bot.flows.context import FlowContext
from bot.orders.book import InvalidInput
from bot.orders.records import CartLine, InvalidTransition, NewOrder, OrderRecord, OrderStatus, OutOfStock
from bot.types import Lang


def _flow_slot(ctx: FlowContext, tracker: Tracker, type_: str) -> Any:
    flow = ctx.shop.flows.get(tracker.get_slot(slots.FLOW) or "")
    slot = flow.slot_of_type(type_) if flow else None
    return tracker.get_slot(slot.name if slot else type_)



class ActionPlaceOrder(Action):
    """Creates the order the customer confirmed and sends the payment instructions.

    Placing is idempotent per flow run (``source_key``), so a double-clicked
    "confirm" or a resent message yields the same order. When stock ran out
    since the customer chose, the short lines leave the cart and the flow goes
    back to the cart instead of failing.
    """

    def name(self) -> str:
        return "action_place_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context.current()
        lang = lang_of(tracker)
        if ctx.orders is None:
            dispatcher.utter_message(text=ctx.texts.get("not_available_order", lang), buttons=offer_handoff_buttons(lang))
            return []
        channel, external_id = identity(tracker)
        cart = [dict(line) for line in tracker.get_slot(slots.CART) or []]
        order = NewOrder(
            lines=tuple(
                CartLine(
                    sku=line["sku"],
                    product_sku=line["product_sku"],
                    name=line["name"],
                    options=dict(line.get("options") or {}),
                    quantity=int(line["quantity"]),
                    unit_price=int(line["unit_price"]),
                    weight_grams=int(line["weight_grams"]),
                )
                for line in cart
            ),
            customer_name=str(_flow_slot(ctx, tracker, "name")),
            phone=str(_flow_slot(ctx, tracker, "phone")),
            address=str(tracker.get_slot("address")),
            city=str(_flow_slot(ctx, tracker, "city")),
            courier=str(_flow_slot(ctx, tracker, "courier")),
            courier_name=str(tracker.get_slot(slots.COURIER_NAME) or ""),
            shipping_cost=int(tracker.get_slot(slots.SHIPPING_COST) or 0),
            payment_method=str(_flow_slot(ctx, tracker, "payment_method")),
            lang=lang,
            channel=channel,
            external_id=external_id,
            customer_id=int(tracker.get_slot(slots.CUSTOMER_ID) or 0),
            conversation_id=int(tracker.get_slot(slots.CONVERSATION_ID) or 0),
            source_key=str(tracker.get_slot(slots.FLOW_RUN_ID) or ""),
        )
        try:
            placed = await ctx.orders.place(order)
        except OutOfStock as short:
            return _back_to_cart(dispatcher, ctx, tracker, lang, cart, short)
        dispatcher.utter_message(
            text=ctx.texts.get(
                "flow_order_placed", lang, number=placed.number, lines=cart_lines(cart, ctx.texts, lang),
                total=rupiah(placed.total, lang),
            )
        )
        dispatcher.utter_message(text=ctx.orders.payment_instructions(placed))
        verified = list(tracker.get_slot(slots.VERIFIED_ORDERS) or [])
        return [SlotSet(slots.VERIFIED_ORDERS, (verified + [placed.number])[-20:])]


def _back_to_cart(
    dispatcher: CollectingDispatcher,
    ctx: FlowContext,
    tracker: Tracker,
    lang: Lang,
    cart: list[dict[str, Any]],
    short: OutOfStock,
) -> list[EventType]:
    """Someone else bought the last units first: say which, keep what can still be bought."""
    names = []
    by_sku = {s.sku: s for s in short.shortages}
    kept = []
    for line in cart:
        shortage = by_sku.get(line["sku"])
        if shortage is None:
            kept.append(line)
            continue
        # The variant too: with two sizes of one shirt in the cart, "Kemeja Parang (sisa 0)"
        # would not say which line changed.
        options = options_label(line.get("options") or {}, lang)
        name = f"{line['name']} ({options})" if options else line["name"]
        names.append(ctx.texts.get("flow_stock_gone_line", lang, name=name, available=str(shortage.available)))
        if shortage.available > 0:
            kept.append({**line, "quantity": shortage.available})
    dispatcher.utter_message(text=ctx.texts.get("flow_stock_gone", lang, lines="\n".join(names)))
    flow = ctx.shop.flows[tracker.get_slot(slots.FLOW)]
    events: list[EventType] = [SlotSet(slots.CART, kept)]
    for slot in flow.slots:
        if slot.type == "confirm" or slot.type == "courier" or (not kept and slot.type in ("product", "variant", "quantity", "add_more")):
            events.append(SlotSet(slot.name, None))
        elif kept and slot.type == "add_more":
            events.append(SlotSet(slot.name, None))  # "add something else?" before going on
    return events


class ActionConfirmPayment(Action):
    """Records "I have transferred" for a verified order; an admin then verifies it."""

    def name(self) -> str:
        return "action_confirm_payment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context.current()
        lang = lang_of(tracker)
        number = str(_flow_slot(ctx, tracker, "order_number"))
        if ctx.orders is None:
            dispatcher.utter_message(text=ctx.texts.get("not_available_payment_confirmation", lang))
            return []
        amount = int(_flow_slot(ctx, tracker, "amount") or 0)
        flow = ctx.shop.flows[tracker.get_slot(slots.FLOW)]
        sender = next((s.name for s in flow.slots if s.type == "name"), "sender_name")
        proof = next((tracker.get_slot(s.name) for s in flow.slots if s.type == "image"), None)
        try:
            order = await ctx.orders.submit_payment(
                number,
                bank=str(_flow_slot(ctx, tracker, "bank")),
                amount=amount,
                sender_name=str(tracker.get_slot(sender)),
                proof_url=proof or None,
                actor="customer",
            )
        except InvalidTransition as exc:
            dispatcher.utter_message(text=ctx.texts.get(f"flow_payment_when_{_status_group(exc.status)}", lang, number=number))
            return []
        except InvalidInput:  # e.g. an order deleted meanwhile; a person sorts it out
            dispatcher.utter_message(text=ctx.texts.get("flow_payment_when_other", lang, number=number))
            return []
        text = ctx.texts.get("flow_payment_received", lang, number=order.number, amount=rupiah(amount, lang))
        if amount != order.total:
            text += "\n" + ctx.texts.get("flow_payment_amount_differs", lang, total=rupiah(order.total, lang))
        dispatcher.utter_message(text=text)
        return []


def _status_group(status: str) -> str:
    if status in (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        return "paid"
    if status == OrderStatus.CANCELLED:
        return "cancelled"
    return "other"


class ActionOrderStatus(Action):
    """Tells a verified customer their order's status, items, courier, tracking and history."""

    def name(self) -> str:
        return "action_order_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context.current()
        lang = lang_of(tracker)
        number = str(_flow_slot(ctx, tracker, "order_number"))
        order = await ctx.orders.get(number) if ctx.orders is not None else None
        if order is None:  # verified a moment ago, so only a deleted order gets here
            dispatcher.utter_message(text=ctx.texts.get("flow_verification_failed", lang, left="-"))
            return []
        dispatcher.utter_message(text=order_details(order, ctx, lang))
        if order.status == OrderStatus.PENDING_PAYMENT:
            dispatcher.utter_message(text=ctx.orders.payment_instructions(order))
        return []


def order_details(order: OrderRecord, ctx: FlowContext, lang: Lang) -> str:
    """Status, items, totals, courier and tracking, and the history, for a verified customer."""
    texts = ctx.texts
    lines = cart_lines(
        [
            {"name": x.name, "options": x.options, "quantity": x.quantity, "unit_price": x.unit_price}
            for x in order.lines
        ],
        texts,
        lang,
    )
    history = "\n".join(
        f"• {ctx.orders.format_time(e.at, lang)} — {texts.get('order_status_' + e.to_status, lang)}"
        for e in order.events
    )
    shipping = (
        texts.get("flow_status_tracking", lang, courier=order.courier_name, tracking_number=order.tracking_number)
        if order.tracking_number
        else texts.get("flow_status_courier", lang, courier=order.courier_name)
    )
    return texts.get(
        "flow_order_details",
        lang,
        number=order.number,
        status=texts.get("order_status_" + order.status, lang),
        lines=lines,
        shipping_cost=rupiah(order.shipping_cost, lang),
        total=rupiah(order.total, lang),
        shipping=shipping,
        history=history,
    )


class ActionHandoffDetails(Action):
    """Finishes a shop's own flow: the collected details go to a person, who takes it from there."""

    def name(self) -> str:
        return "action_handoff_details"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context.current()
        lang = lang_of(tracker)
        flow = ctx.shop.flows.get(tracker.get_slot(slots.FLOW) or "")
        details = "\n".join(
            f"• {s.name.replace('_', ' ')}: {tracker.get_slot(s.name)}"
            for s in (flow.slots if flow else ())
            if tracker.get_slot(s.name) not in (None, "")
        )
        dispatcher.utter_message(
            text=ctx.texts.get("flow_details_handoff", lang, details=details, hours_note=ctx.hours_note(lang))
        )
        return [SlotSet(slots.HANDOFF, True)]

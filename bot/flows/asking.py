"""Asking a flow's next question: the slot's prompt from the flow file, filled in, with
the buttons that make answering easy (variants in stock, couriers with their cost...)."""

from __future__ import annotations

import re

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.catalog import find_products, options_label, rupiah
from bot.flows import context, slots
from bot.flows.common import identity, lang_of
from bot.flows.context import FlowContext
from bot.orders.shipping import cities_in_address, find_city, names_only_a_city
from bot.flows.forms import (
    CHOICE_PREFIX,
    available,
    bank_names,
    buyable_skus,
    cart_weight,
    courier_button,
    edit_buttons,
    payment_methods,
    product_by_sku,
    shipping_quotes,
    variant_buttons,
    variant_by_sku,
    variant_label,
)
from bot.shopdata.flows import FlowDef, SlotDef
from bot.shopdata.model import Product
from bot.texts import Texts
from bot.types import Lang

# What the channel may offer as a native input for a slot type (OutgoingMessage.expects).
EXPECTS = {"phone": "phone", "contact": "phone", "email": "email", "image": "image"}


class ActionAskFlowSlot(Action):
    """Asks for the flow's ``requested_slot``."""

    def name(self) -> str:
        return "action_ask_flow_slot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context.current()
        flow = ctx.shop.flows.get(tracker.get_slot(slots.FLOW) or "")
        slot = flow.slot(tracker.get_slot(slots.REQUESTED_SLOT) or "") if flow else None
        if flow is None or slot is None:
            return []
        lang = lang_of(tracker)
        values, buttons = await _prompt_parts(slot, flow, tracker, ctx, lang)
        prompt = slot.prompt.get(lang) or slot.prompt.get("id") or next(iter(slot.prompt.values()))
        text = ctx.texts.fill(prompt, **values)
        if slot.optional:
            buttons.append({"title": ctx.texts.get("flow_skip_button", lang), "payload": "/skip"})
        custom = {"expects": EXPECTS[slot.type]} if slot.type in EXPECTS else None
        dispatcher.utter_message(text=text, buttons=buttons, json_message=custom)
        return []


async def _prompt_parts(
    slot: SlotDef, flow: FlowDef, tracker: Tracker, ctx: FlowContext, lang: Lang
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The prompt's placeholder values and the buttons for a slot of this type."""
    texts = ctx.texts
    cart = list(tracker.get_slot(slots.CART) or [])
    get = tracker.get_slot
    kind = slot.type
    product = product_by_sku(ctx, get(_named(flow, "product")))
    if kind == "product":
        query = tracker.latest_message.get("normalized") or tracker.latest_message.get("text") or ""
        matches = [m.product for m in find_products(ctx.shop.products, query, limit=5) if m.available]
        if not matches:  # "mau pesan": the prompt says "pick one below", so there must be some
            matches = await _a_product_per_category(ctx)
        return {}, [{"title": p.name, "payload": CHOICE_PREFIX + p.sku} for p in matches[:5]]
    if kind == "variant" and product is not None:
        stock = await available(ctx, buyable_skus(product))
        return {"product": product.name}, variant_buttons(product, stock, lang=lang)
    if kind == "quantity" and product is not None:
        sku = get(_named(flow, "variant")) or product.sku
        left = (await available(ctx, [sku]))[sku] - sum(int(x["quantity"]) for x in cart if x["sku"] == sku)
        variant = variant_by_sku(product, sku)
        item = f"{product.name} ({variant_label(variant, lang)})" if variant else product.name
        top = min(max(left, 1), 3)
        return {"item": item, "stock": str(max(left, 0))}, [
            {"title": str(n), "payload": f"{CHOICE_PREFIX}{n}"} for n in range(1, top + 1)
        ]
    if kind == "add_more":
        return {"cart": cart_lines(cart, texts, lang)}, [
            {"title": texts.get("flow_add_more_yes", lang), "payload": "/affirm"},
            {"title": texts.get("flow_add_more_no", lang), "payload": "/deny"},
        ]
    if kind == "name":
        known = get(slots.CUSTOMER_DISPLAY_NAME)
        return {}, ([{"title": known, "payload": CHOICE_PREFIX + known}] if known else [])
    if kind == "city":
        # "Jl. Melati No. 5, Surabaya": the city already written in the address, one tap away.
        rates = getattr(ctx.shop, "shipping", None)
        address = get("address") if flow.slot("address") is not None else None
        named = cities_in_address(rates, str(address)) if rates is not None and address else []
        return {}, [{"title": c.name, "payload": CHOICE_PREFIX + c.name} for c in named]
    if kind == "courier":
        city = get(_named(flow, "city"))
        options = await shipping_quotes(ctx, city, cart)
        weight = max(1, -(-cart_weight(cart) // 1000))
        return {"city": str(city or ""), "weight": str(weight)}, [courier_button(q, lang) for q in options]
    if kind == "payment_method":
        return {}, [
            {"title": payment_method_title(method, ctx, lang), "payload": CHOICE_PREFIX + method}
            for method in payment_methods(ctx)
        ]
    if kind == "confirm":
        buttons = [{"title": texts.get("flow_confirm_yes", lang), "payload": "/affirm"}]
        buttons += edit_buttons(texts, lang)
        buttons.append({"title": texts.get("flow_cancel_button", lang), "payload": "/cancel"})
        return {"summary": order_summary(tracker, flow, ctx, lang)}, buttons
    if kind == "bank":
        return {}, [{"title": name, "payload": CHOICE_PREFIX + name} for name in bank_names(ctx)][:8]
    if kind == "order_number":
        orders = await ctx.orders.for_identity(*identity(tracker), limit=3) if ctx.orders is not None else []
        return {}, [{"title": o.number, "payload": CHOICE_PREFIX + o.number} for o in orders]
    return {}, []


async def _a_product_per_category(ctx: FlowContext, limit: int = 5) -> list[Product]:
    """The first product in stock of each category, in catalog order: a starting point to pick from."""
    products = ctx.shop.products
    stock = await available(ctx, [sku for p in products for sku in buyable_skus(p)])
    picked: dict[str, Product] = {}
    for product in products:
        if product.category not in picked and any(stock.get(sku, 0) > 0 for sku in buyable_skus(product)):
            picked[product.category] = product
    return list(picked.values())[:limit]


def _named(flow: FlowDef, type_: str) -> str:
    slot = flow.slot_of_type(type_)
    return slot.name if slot else type_



def payment_method_title(method: str, ctx: FlowContext, lang: Lang) -> str:
    """``Transfer bank (BCA, Mandiri)`` / ``E-wallet (OVO, GoPay)``."""
    if method == "bank_transfer":
        names = [str(b.get("bank")) for b in ctx.shop.shop.get("bank_accounts") or [] if isinstance(b, dict)]
        return ctx.texts.get("payment_bank_transfer", lang, banks=", ".join(names))
    names = [str(w.get("name")) for w in ctx.shop.shop.get("ewallets") or [] if isinstance(w, dict)]
    return ctx.texts.get("payment_ewallet", lang, wallets=", ".join(names))


def cart_lines(cart: list[dict[str, Any]], texts: Texts, lang: Lang) -> str:
    """``• Kemeja Batik Parang (L · biru) × 2 — Rp378.000`` per line."""
    lines = []
    for line in cart:
        options = options_label(line.get("options") or {}, lang)
        name = f"{line['name']} ({options})" if options else line["name"]
        total = int(line["unit_price"]) * int(line["quantity"])
        lines.append(f"• {name} × {line['quantity']} — {rupiah(total, lang)}")
    return "\n".join(lines)


def address_before_city(address: str, city: str, rates: Any = None) -> str:
    """The address without the city it ends with, since the summary writes the city after it:
    "Jl. Kaliurang km 5 no 12, Sleman" and Sleman → "Jl. Kaliurang km 5 no 12" (not "…, Sleman,
    Sleman"); with the shop's rates also when it ends with another name of that city ("…,
    solo" and Surakarta). An address that names the city elsewhere, or only the city, stays
    as written."""
    if not city:
        return address
    ending = re.compile(r"[\s,]+(?:kota|kab\.?|kabupaten)?\s*" + re.escape(city) + r"[\s.,]*$", re.IGNORECASE)
    shorter = ending.sub("", address)
    if shorter == address and rates is not None and "," in address:
        head, last = address.rsplit(",", 1)
        named = find_city(rates, last) if names_only_a_city(rates, last) else None
        if named is not None and named.name == city:
            shorter = head
    return shorter if shorter.strip(" ,.") else address


def order_summary(tracker: Tracker, flow: FlowDef, ctx: FlowContext, lang: Lang) -> str:
    """Everything the customer is about to confirm: items, costs, who, where, how to pay."""
    get = tracker.get_slot
    cart = list(get(slots.CART) or [])
    subtotal = sum(int(x["unit_price"]) * int(x["quantity"]) for x in cart)
    shipping = int(get(slots.SHIPPING_COST) or 0)
    return ctx.texts.get(
        "flow_order_summary",
        lang,
        lines=cart_lines(cart, ctx.texts, lang),
        subtotal=rupiah(subtotal, lang),
        courier=str(get(slots.COURIER_NAME) or ""),
        shipping=rupiah(shipping, lang),
        total=rupiah(subtotal + shipping, lang),
        name=str(get(_named(flow, "name")) or ""),
        phone=str(get(_named(flow, "phone")) or ""),
        address=address_before_city(
            str(get("address") or ""), str(get(_named(flow, "city")) or ""), getattr(ctx.shop, "shipping", None)
        ),
        city=str(get(_named(flow, "city")) or ""),
        payment=payment_method_title(str(get(_named(flow, "payment_method")) or ""), ctx, lang),
    )

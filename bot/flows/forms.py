"""Flow slots, validated: one rasa-sdk ``FormValidationAction`` per built-in flow.

A flow file (``bot/shopdata/flows.py``) says which slots a flow asks and of
which type; each type has a validator here that understands the customer's
answer ("0812 3456 7890", "yang L biru", "2", "JNE") and either fills the slot
(maybe more than one: a product with a single variant also fills ``variant``)
or explains what was wrong. rasa-sdk calls ``validate_<slot name>``; the
methods are looked up by the slot's type, so a shop may rename or add slots in
its flow files without code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Awaitable, Callable

from rapidfuzz import fuzz, utils
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from bot.catalog import find_products, options_label, rupiah
from bot.intents import CHOICE_PREFIX
from bot.flows import context, slots
from bot.flows.common import lang_of
from bot.flows.context import FlowContext
from bot.flows.values import (
    clean_name,
    entity,
    is_skip,
    local_phone,
    means_go_on,
    parse_amount,
    parse_quantity,
    parse_yes_no,
    without_polite_tail,
)
from bot.nlu.entities import EntityExtractor
from bot.orders.book import ORDER_LOOKUP_WINDOW
from bot.shopdata.flows import FlowDef, SlotDef
from bot.shopdata.model import Product, Variant
from bot.texts import Texts
from bot.types import Lang

# Failed order verifications before lookups are locked for the conversation.
MAX_LOOKUP_FAILURES = 5
LOOKUP_LOCK = timedelta(minutes=30)
MAX_CART_LINES = 10


@dataclass
class Answer:
    """The customer's answer to the slot being asked, with what a validator may read."""

    slot: SlotDef
    raw: str
    tracker: Tracker
    ctx: FlowContext
    lang: Lang
    notes: list[str] = field(default_factory=list)  # said before the next question

    @property
    def choice(self) -> str | None:
        """The value of a pressed choice button (``/choose:<value>``), else None."""
        text = self.raw.strip()
        return text[len(CHOICE_PREFIX) :] if text.startswith(CHOICE_PREFIX) else None

    @property
    def entities(self) -> list[dict[str, Any]]:
        """What the NLU found in the answer; read from the answer itself when the message
        came from elsewhere (a Rasa assistant calling the action server) or was a seed."""
        latest = self.tracker.latest_message
        if latest.get("entities") and latest.get("text") == self.raw:
            return latest["entities"]
        return [e.as_dict() for e in _extractor(self.ctx).extract(self.raw)]

    @property
    def intent(self) -> str | None:
        return (self.tracker.latest_message.get("intent") or {}).get("name")

    def slot_value(self, name: str) -> Any:
        return self.tracker.get_slot(name)

    def flow_slot(self, type_: str) -> str | None:
        """The name of this flow's slot of ``type_`` (flows may rename slots)."""
        flow = self.ctx.shop.flows.get(self.tracker.get_slot(slots.FLOW) or "")
        found = flow.slot_of_type(type_) if flow else None
        return found.name if found else None

    def text(self, key: str, **values: Any) -> str:
        return self.ctx.texts.get(key, self.lang, **{k: str(v) for k, v in values.items()})

    def invalid(self, key: str, **values: Any) -> "Rejected":
        """The slot's own ``invalid`` text when the flow file gives one, else the bot's ``key`` text."""
        own = self.slot.invalid.get(self.lang) or self.slot.invalid.get("id")
        return Rejected(own or self.text(key, **values))


@dataclass
class Rejected:
    """An answer that does not fit: why, and optionally buttons that make a better answer easy."""

    reason: str
    buttons: list[dict[str, str]] = field(default_factory=list)


_extractors: dict[int, EntityExtractor] = {}


def _extractor(ctx: FlowContext) -> EntityExtractor:
    key = id(ctx.shop)
    if key not in _extractors:
        _extractors.clear()
        _extractors[key] = EntityExtractor(ctx.shop.products)
    return _extractors[key]


Validator = Callable[[Answer], Awaitable["dict[str, Any] | Rejected"]]
VALIDATORS: dict[str, Validator] = {}


def validator(type_: str) -> Callable[[Validator], Validator]:
    def register(fn: Validator) -> Validator:
        VALIDATORS[type_] = fn
        return fn

    return register


class FlowValidationAction(FormValidationAction):
    """Validates the slots of the flow named :attr:`flow_name` by their types."""

    flow_name = ""

    def name(self) -> str:
        return f"validate_{self.flow_name}_form"

    def __getattr__(self, attr: str) -> Any:
        # rasa-sdk looks up ``validate_<slot>``; answer for every slot the flow file defines.
        if attr.startswith("validate_") and self.flow_name:
            flow = context.current().shop.flows.get(self.flow_name)
            slot = flow.slot(attr[len("validate_") :]) if flow else None
            if slot is not None:
                return _bound_validator(slot)
        raise AttributeError(attr)


def _bound_validator(slot: SlotDef):
    async def validate(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict:
        ctx = context.current()
        answer = Answer(slot=slot, raw=str(value or ""), tracker=tracker, ctx=ctx, lang=lang_of(tracker))
        if slot.optional and is_skip(answer.raw):
            return {slot.name: ""}
        result = await VALIDATORS[slot.type](answer)
        for note in answer.notes:
            dispatcher.utter_message(text=note)
        if isinstance(result, Rejected):
            dispatcher.utter_message(text=result.reason, buttons=result.buttons)
            return {slot.name: None}
        return result

    return validate


class ValidatePlaceOrderForm(FlowValidationAction):
    """Checks the order flow's answers: products and stock, contact, address, courier, payment."""

    flow_name = "place_order"


class ValidatePaymentConfirmationForm(FlowValidationAction):
    """Checks a payment confirmation: order number, who is asking, bank, amount, sender, proof."""

    flow_name = "payment_confirmation"


class ValidateOrderStatusForm(FlowValidationAction):
    """Checks an order-status request: order number and the phone/e-mail that proves it is theirs."""

    flow_name = "order_status"


def validation_action_for(flow: FlowDef) -> FlowValidationAction:
    """The validation action of ``flow``; a shop's own flows get a generic one."""
    for cls in (ValidatePlaceOrderForm, ValidatePaymentConfirmationForm, ValidateOrderStatusForm):
        if cls.flow_name == flow.name:
            return cls()
    generic = FlowValidationAction()
    generic.flow_name = flow.name
    return generic


# -- plain answers -------------------------------------------------------------


@validator("text")
async def _text(a: Answer) -> dict[str, Any] | Rejected:
    value = " ".join(a.raw.split())
    low, high = a.slot.option("min_length", 2), a.slot.option("max_length", 500)
    if len(value) < low or value.startswith("/"):
        return a.invalid("flow_text_too_short", min=low)
    if len(value) > high:
        # The slot's own "invalid" text is written for answers that fall short ("the
        # address seems incomplete"); one that is too long is told so.
        return Rejected(a.text("flow_text_too_long", max=high))
    return {a.slot.name: value}


@validator("name")
async def _name(a: Answer) -> dict[str, Any] | Rejected:
    name = clean_name(a.choice or a.raw)
    return {a.slot.name: name} if name else a.invalid("flow_invalid_name")


@validator("phone")
async def _phone(a: Answer) -> dict[str, Any] | Rejected:
    phone = entity(a.entities, "phone")
    if a.choice:
        phone = a.choice if a.choice.startswith("+62") else None
    return {a.slot.name: local_phone(phone)} if phone else a.invalid("flow_invalid_phone")


@validator("email")
async def _email(a: Answer) -> dict[str, Any] | Rejected:
    email = entity(a.entities, "email")
    return {a.slot.name: email} if email else a.invalid("flow_invalid_email")


@validator("integer")
async def _integer(a: Answer) -> dict[str, Any] | Rejected:
    raw = a.raw.strip()
    low, high = a.slot.option("min", 0), a.slot.option("max", 10**9)
    if raw.isdigit() and low <= int(raw) <= high:
        return {a.slot.name: int(raw)}
    return a.invalid("flow_invalid_integer", min=low, max=high)


@validator("yes_no")
async def _yes_no(a: Answer) -> dict[str, Any] | Rejected:
    value = parse_yes_no(a.raw, a.intent)
    return {a.slot.name: value} if value is not None else a.invalid("flow_invalid_yes_no")


@validator("amount")
async def _amount(a: Answer) -> dict[str, Any] | Rejected:
    amount = parse_amount(a.raw, a.entities)
    return {a.slot.name: amount} if amount else a.invalid("flow_invalid_amount")


@validator("image")
async def _image(a: Answer) -> dict[str, Any] | Rejected:
    images = [x for x in a.tracker.latest_message.get("attachments") or [] if x.get("kind") == "image"]
    if images:
        return {a.slot.name: images[0]["url"]}
    return a.invalid("flow_invalid_image")


# -- the catalog and the cart -------------------------------------------------------


def product_by_sku(ctx: FlowContext, sku: str | None) -> Product | None:
    return next((p for p in ctx.shop.products if p.sku == sku), None) if sku else None


def variant_by_sku(product: Product, sku: str | None) -> Variant | None:
    return next((v for v in product.variants if v.sku == sku), None) if sku else None


async def available(ctx: FlowContext, skus: list[str]) -> dict[str, int]:
    """Live stock: what the order book says is left (the catalog file's figure without one)."""
    if ctx.orders is not None:
        return await ctx.orders.available(skus)
    stock: dict[str, int] = {}
    for p in ctx.shop.products:
        if not p.variants:
            stock[p.sku] = p.stock
        for v in p.variants:
            stock[v.sku] = v.stock
    return {sku: stock.get(sku, 0) for sku in skus}


def buyable_skus(product: Product) -> list[str]:
    return [v.sku for v in product.variants] if product.variants else [product.sku]


def variant_label(variant: Variant, lang: Lang = "id") -> str:
    """``L · biru`` (``L · blue`` in English)"""
    return options_label(variant.options, lang)


def in_cart(cart: list[dict[str, Any]], sku: str) -> int:
    return sum(int(line["quantity"]) for line in cart if line["sku"] == sku)


@validator("product")
async def _product(a: Answer) -> dict[str, Any] | Rejected:
    products = a.ctx.shop.products
    product = product_by_sku(a.ctx, a.choice or entity(a.entities, "product"))
    if product is None:
        query = a.tracker.latest_message.get("normalized") or a.raw
        matches = _narrow([m.product for m in find_products(products, query, limit=5, by_word=True)], query)
        if len(matches) == 1:
            product = matches[0]
        elif matches:
            return Rejected(a.text("flow_product_which"), _product_buttons(matches))
        else:
            return a.invalid("flow_product_unknown")
    stock = await available(a.ctx, buyable_skus(product))
    if not any(stock.values()):
        return a.invalid("flow_product_sold_out", product=product.name)
    filled: dict[str, Any] = {a.slot.name: product.sku}
    variant_slot = a.flow_slot("variant")
    if variant_slot:
        if not product.variants:
            filled[variant_slot] = product.sku
        else:
            size, color = entity(a.entities, "size"), entity(a.entities, "color")
            fitting = [v for v in product.variants if stock.get(v.sku, 0) > 0 and _fits(v, size, color)]
            if (size or color) and len(fitting) == 1:
                filled[variant_slot] = fitting[0].sku
    return filled


def _narrow(products: list[Product], query: str) -> list[Product]:
    """Of several products in the asked category ("parang shirt" → every shirt), the one
    whose own name shares the most words with the question, when one stands out."""
    if len(products) < 2:
        return products
    words = {w for w in re.findall(r"\w+", query.lower()) if len(w) >= 4}
    overlap = [(len(words & set(re.findall(r"\w+", " ".join((p.name, *p.aliases)).lower()))), p) for p in products]
    best = max(n for n, _ in overlap)
    top = [p for n, p in overlap if n == best]
    return top if best > 0 and len(top) == 1 else products


def _product_buttons(products: list[Product]) -> list[dict[str, str]]:
    return [{"title": p.name, "payload": CHOICE_PREFIX + p.sku} for p in products[:5]]


def _fits(variant: Variant, size: str | None, color: str | None) -> bool:
    options = {k: str(v).lower() for k, v in variant.options.items()}
    if size and options.get("size") != str(size).lower():
        return False
    if color and options.get("color") != str(color).lower():
        return False
    return True


_OPTION_TOKEN = re.compile(r"\d+|[^\W\d_]+")


def _variants_named(product: Product, text: str) -> list[Variant]:
    """The variants whose options the text names most of ("20cm natural", "yg natural").

    Options are compared token by token, so a value of several words ("20 cm") or one
    typed without its space ("20cm") counts as named."""
    words = set(_OPTION_TOKEN.findall(text.lower()))

    def named(variant: Variant) -> int:
        tokens = (set(_OPTION_TOKEN.findall(str(o).lower())) for o in variant.options.values())
        return sum(1 for t in tokens if t and t <= words)

    best = max((named(v) for v in product.variants), default=0)
    return [v for v in product.variants if named(v) == best] if best else []


@validator("variant")
async def _variant(a: Answer) -> dict[str, Any] | Rejected:
    product = product_by_sku(a.ctx, a.slot_value(a.flow_slot("product") or "product"))
    if product is None:
        return {a.slot.name: None, (a.flow_slot("product") or "product"): None}
    stock = await available(a.ctx, buyable_skus(product))
    variant = variant_by_sku(product, a.choice)
    if variant is None:
        size, color = entity(a.entities, "size"), entity(a.entities, "color")
        if size or color:
            candidates = [v for v in product.variants if _fits(v, size, color)]
        else:
            candidates = _variants_named(product, a.raw)
        if len(candidates) == 1:
            variant = candidates[0]
        elif candidates:
            in_stock = [v for v in candidates if stock.get(v.sku, 0) > 0]
            if len(in_stock) == 1:
                variant = in_stock[0]
            else:
                return Rejected(a.text("flow_variant_which"), variant_buttons(product, stock, in_stock or candidates, a.lang))
    if variant is None:
        return a.invalid("flow_variant_unknown", product=product.name)
    if stock.get(variant.sku, 0) <= 0:
        return a.invalid("flow_variant_sold_out", variant=variant_label(variant, a.lang))
    return {a.slot.name: variant.sku}


def variant_buttons(
    product: Product, stock: dict[str, int], variants: list[Variant] | None = None, lang: Lang = "id"
) -> list[dict[str, str]]:
    """One button per variant in stock; a variant's own price is shown when it differs."""
    buttons = []
    for v in variants if variants is not None else product.variants:
        if stock.get(v.sku, 0) <= 0:
            continue
        title = variant_label(v, lang)
        if v.price and v.price != product.price:
            title += f" ({rupiah(v.price, lang)})"
        buttons.append({"title": title, "payload": CHOICE_PREFIX + v.sku})
    return buttons[:10]


@validator("quantity")
async def _quantity(a: Answer) -> dict[str, Any] | Rejected:
    product = product_by_sku(a.ctx, a.slot_value(a.flow_slot("product") or "product"))
    sku = a.slot_value(a.flow_slot("variant") or "variant")
    if product is None or not sku:
        return {a.slot.name: None, (a.flow_slot("product") or "product"): None}
    quantity = parse_quantity(a.choice or a.raw)
    if quantity is None:
        found = entity(a.entities, "quantity")
        quantity = found if isinstance(found, int) else None
    if quantity is None and not a.choice and (switched := await _switch_variant(a, product, sku)) is not None:
        return switched  # "eh ukurannya M aja deh": another size, then how many again
    limit = a.slot.option("max", 20)
    if quantity is None or quantity < 1:
        return a.invalid("flow_invalid_quantity")
    if quantity > limit:
        return a.invalid("flow_quantity_over_limit", max=limit)
    cart = list(a.slot_value(slots.CART) or [])
    left = (await available(a.ctx, [sku]))[sku] - in_cart(cart, sku)
    if quantity > left:
        if left <= 0:
            a.notes.append(a.text("flow_variant_sold_out", variant=variant_label(variant_by_sku(product, sku), a.lang) if product.variants else product.name))
            return {a.slot.name: None, (a.flow_slot("variant") or "variant"): None}
        return Rejected(
            a.text("flow_quantity_over_stock", stock=left),
            [{"title": str(n), "payload": CHOICE_PREFIX + str(n)} for n in range(1, min(left, 5) + 1)],
        )
    variant = variant_by_sku(product, sku)
    line = {
        "sku": sku,
        "product_sku": product.sku,
        "name": product.name,
        "options": dict(variant.options) if variant else {},
        "quantity": quantity,
        "unit_price": (variant.price if variant and variant.price else product.price),
        "weight_grams": product.weight_grams,
    }
    merged = False
    for existing in cart:
        if existing["sku"] == sku:
            existing["quantity"] = int(existing["quantity"]) + quantity
            merged = True
    if not merged:
        if len(cart) >= MAX_CART_LINES:
            return a.invalid("flow_cart_full", max=MAX_CART_LINES)
        cart.append(line)
    return {a.slot.name: quantity, slots.CART: cart}


def _switched_variant(product: Product, current: Variant | None, size: str | None, color: str | None) -> Variant | None:
    """The variant a customer changes to by naming a size or colour ("M aja", "yg coklat"):
    the one with what they named and, of the rest, what they had chosen before."""
    if not product.variants or not (size or color):
        return None
    before = {k: str(v) for k, v in current.options.items()} if current else {}
    keep = [v for v in product.variants if _fits(v, size or before.get("size"), color or before.get("color"))]
    named = keep or [v for v in product.variants if _fits(v, size, color)]
    return named[0] if len(named) == 1 else None


async def _switch_variant(a: Answer, product: Product, sku: str) -> dict[str, Any] | Rejected | None:
    """At "how many?", a size/colour of the same product instead of a number: that variant
    is chosen instead, and "how many?" is asked again with its stock. None when the message
    names no other variant."""
    new = _switched_variant(product, variant_by_sku(product, sku), entity(a.entities, "size"), entity(a.entities, "color"))
    if new is None or new.sku == sku:
        return None
    label = variant_label(new, a.lang)
    left = (await available(a.ctx, [new.sku]))[new.sku] - in_cart(list(a.slot_value(slots.CART) or []), new.sku)
    if left <= 0:
        return Rejected(a.text("flow_variant_sold_out", variant=label))
    a.notes.append(a.text("flow_variant_switched", variant=label))
    return {a.slot.name: None, (a.flow_slot("variant") or "variant"): new.sku}


# Words that add a variant rather than change to it ("tambah yg M biru juga", "sama yg XL").
_ADDING = re.compile(r"\b(?:tambah\w*|juga|jg|lagi|sama|plus|also|another|add|too|as well)\b", re.IGNORECASE)


async def _switch_cart_variant(a: Answer) -> dict[str, Any] | Rejected | None:
    """At "add another product?", a size/colour instead of yes or no ("eh salah, mau yg coklat
    aja"): the line just added becomes that variant, same quantity, and the question is asked
    again with the cart as it now is; said as an addition ("tambah yg M juga"), that variant
    is added instead. None when the message names no other variant."""
    cart = [dict(line) for line in a.slot_value(slots.CART) or []]
    if not cart:
        return None
    line = cart[-1]
    product = product_by_sku(a.ctx, line.get("product_sku"))
    if product is None:
        return None
    new = _switched_variant(product, variant_by_sku(product, line["sku"]), entity(a.entities, "size"), entity(a.entities, "color"))
    if new is None or new.sku == line["sku"]:
        return None
    label = variant_label(new, a.lang)
    if _ADDING.search(a.raw):
        # "tambah yg M biru juga": that one as well, so "how many?" of it next.
        if (await available(a.ctx, [new.sku]))[new.sku] - in_cart(cart, new.sku) <= 0:
            return Rejected(a.text("flow_variant_sold_out", variant=label))
        product_slot, variant_slot = a.flow_slot("product") or "product", a.flow_slot("variant") or "variant"
        return {a.slot.name: None, product_slot: product.sku, variant_slot: new.sku, (a.flow_slot("quantity") or "quantity"): None}
    others = cart[:-1]
    left = (await available(a.ctx, [new.sku]))[new.sku] - in_cart(others, new.sku)
    quantity = int(line["quantity"])
    if left <= 0:
        return Rejected(a.text("flow_variant_sold_out", variant=label))
    if left < quantity:
        return Rejected(a.text("flow_variant_switch_short", variant=label, stock=left))
    same = next((other for other in others if other["sku"] == new.sku), None)
    if same is not None:  # already in the cart: one line with both quantities
        same["quantity"] = int(same["quantity"]) + quantity
        cart = others
    else:
        line.update(sku=new.sku, options=dict(new.options), unit_price=new.price or product.price)
    a.notes.append(a.text("flow_variant_switched", variant=label))
    return {a.slot.name: None, slots.CART: cart}


@validator("add_more")
async def _add_more(a: Answer) -> dict[str, Any] | Rejected:
    answer = a.choice or a.raw
    more = False if means_go_on(answer) else parse_yes_no(answer, a.intent)
    named = await _named_product(a) if more is None else None
    if more is None and named is None and not a.choice and (switched := await _switch_cart_variant(a)) is not None:
        return switched
    if more is None and named is None:
        return a.invalid("flow_invalid_add_more")
    if more is False:
        return {a.slot.name: False}
    cleared = {name: None for name in (a.flow_slot("product"), a.flow_slot("variant"), a.flow_slot("quantity")) if name}
    return {a.slot.name: None, **cleared, **(named or {})}


async def _named_product(a: Answer) -> dict[str, Any] | None:
    """"kemeja kawung L" at "add another product?": yes, and this one. The product slot's
    answer when the message names a product it can take (with its size/colour when
    said), an empty dict when it names one the product question must ask about (several
    match, sold out), None when it names none."""
    flow = a.ctx.shop.flows.get(a.tracker.get_slot(slots.FLOW) or "")
    product_slot = flow.slot_of_type("product") if flow else None
    if product_slot is None:
        return None
    query = a.tracker.latest_message.get("normalized") or a.raw
    if not entity(a.entities, "product") and not find_products(a.ctx.shop.products, query, limit=1):
        return None
    filled = await _product(replace(a, slot=product_slot, notes=[]))
    return filled if isinstance(filled, dict) else {}


# -- delivery and payment -----------------------------------------------------------


def cart_weight(cart: list[dict[str, Any]]) -> int:
    return sum(int(line["weight_grams"]) * int(line["quantity"]) for line in cart)


@validator("city")
async def _city(a: Answer) -> dict[str, Any] | Rejected:
    from bot.orders.shipping import find_city

    rates = getattr(a.ctx.shop, "shipping", None)
    city = find_city(rates, a.choice or a.raw) if rates is not None else None
    if city is None:
        return a.invalid("flow_city_unknown", city=a.raw.strip()[:60])
    filled: dict[str, Any] = {a.slot.name: city.name}
    courier = a.flow_slot("courier")
    if courier:
        filled[courier] = None  # a new city means new shipping costs
    return filled


async def shipping_quotes(ctx: FlowContext, city_name: str | None, cart: list[dict[str, Any]]):
    """The couriers serving ``city_name`` with their cost for the cart's weight (none without rates)."""
    from bot.orders.shipping import find_city, quotes

    rates = getattr(ctx.shop, "shipping", None)
    if rates is None or not city_name:
        return []
    city = find_city(rates, city_name)
    return quotes(rates, city, cart_weight(cart)) if city is not None else []


@validator("courier")
async def _courier(a: Answer) -> dict[str, Any] | Rejected:
    city = a.slot_value(a.flow_slot("city") or "city")
    options = await shipping_quotes(a.ctx, city, list(a.slot_value(slots.CART) or []))
    if not options:
        return {a.slot.name: None, (a.flow_slot("city") or "city"): None}
    chosen = next((q for q in options if q.courier_id == a.choice), None)
    if chosen is None and not a.choice and _CHEAPEST.search(a.raw):
        chosen = min(options, key=lambda q: q.cost)  # "yg paling murah aja", "the cheapest one"
    if chosen is None and not a.choice:
        # Customers type "jnt aja", "sicepat", "J&T": the courier's id is often their spelling.
        spellings = [(q.courier_name, q) for q in options]
        spellings += [(q.courier_name.replace("&", "n"), q) for q in options if "&" in q.courier_name]
        spellings += [(q.courier_id.replace("-", " "), q) for q in options]
        best = closest(a.raw, spellings, cutoff=75)
        if len(best) > 1:  # "jne": REG or YES? Let the customer say which.
            return Rejected(a.text("flow_courier_which"), [courier_button(q, a.lang) for q in best])
        chosen = best[0] if best else None
    if chosen is None:
        return a.invalid("flow_courier_unknown")
    return {a.slot.name: chosen.courier_id, slots.COURIER_NAME: chosen.courier_name, slots.SHIPPING_COST: chosen.cost}


# "yang paling murah aja", "termurah", "the cheapest one": the courier with the lowest cost.
_CHEAPEST = re.compile(r"\b(?:termurah|paling murah|(?:yg|yang|yng)\s+murah|murah\s+aja|cheapest|cheaper one|cheap one)\b", re.IGNORECASE)


_FILLER = re.compile(
    r"^(?:(?:pakai|pake|pakai yang|pake yang|yang|yg|via|lewat|dari|ke|transfer|tf|use|with|by|from|to)\s+)+"
)


def closest(raw: str, spellings: list[tuple[str, Any]], *, cutoff: float) -> list[Any]:
    """The values whose spelling best matches what the customer typed (several on a tie).

    Case and punctuation are ignored ("bca" is BCA), and so are the words around the
    name ("pake jnt aja kak")."""
    text = _FILLER.sub("", without_polite_tail(utils.default_process(raw))).strip()
    if not text:
        return []
    scores: dict[int, tuple[float, Any]] = {}
    for spelling, value in spellings:
        score = fuzz.WRatio(text, spelling, processor=utils.default_process)
        if score >= cutoff and score > scores.get(id(value), (0.0, None))[0]:
            scores[id(value)] = (score, value)
    if not scores:
        return []
    top = max(score for score, _ in scores.values())
    return [value for score, value in scores.values() if score == top]


def courier_button(quote: Any, lang: Lang) -> dict[str, str]:
    """``SiCepat REG · Rp12.000 · 2–3 hari``, pressing it picks that courier."""
    etd = quote.etd.get(lang) or quote.etd.get("id", "")
    return {"title": f"{quote.courier_name} · {rupiah(quote.cost, lang)} · {etd}".rstrip(" ·"), "payload": CHOICE_PREFIX + quote.courier_id}


def payment_methods(ctx: FlowContext) -> list[str]:
    """The methods the shop takes in chat orders: bank transfer and/or e-wallets (shop.yml)."""
    methods = []
    if ctx.shop.shop.get("bank_accounts"):
        methods.append("bank_transfer")
    if ctx.shop.shop.get("ewallets"):
        methods.append("ewallet")
    return methods


_EWALLET_WORDS = ("ovo", "gopay", "dana", "shopeepay", "wallet", "ewallet", "e-wallet", "dompet", "linkaja")
_BANK_WORDS = ("transfer", "tf", "bank", "rekening", "bca", "bri", "bni", "mandiri", "atm", "m-banking", "mbanking")


@validator("payment_method")
async def _payment_method(a: Answer) -> dict[str, Any] | Rejected:
    methods = payment_methods(a.ctx)
    raw = (a.choice or a.raw).lower()
    chosen = a.choice if a.choice in methods else None
    if chosen is None:
        if any(w in raw for w in _EWALLET_WORDS) and "ewallet" in methods:
            chosen = "ewallet"
        elif any(w in raw for w in _BANK_WORDS) and "bank_transfer" in methods:
            chosen = "bank_transfer"
    if chosen is None:
        key = "flow_payment_no_cod" if "cod" in raw.split() or "bayar di tempat" in raw else "flow_payment_unknown"
        return a.invalid(key)
    return {a.slot.name: chosen}


# Parts of an order the customer may change from the summary, and the slots each clears.
EDITABLE_PARTS = {
    "cart": ("cart", "product", "variant", "quantity", "add_more", "courier"),
    "contact": ("name", "phone"),
    "address": ("address", "city", "courier"),
    "courier": ("courier",),
    "payment": ("payment_method",),
}


def edit_buttons(texts: Texts, lang: Lang) -> list[dict[str, str]]:
    """The summary's "change this" buttons, one per editable part of the order."""
    return [{"title": texts.get(f"flow_edit_{part}", lang), "payload": f"{CHOICE_PREFIX}edit-{part}"} for part in EDITABLE_PARTS]


# Typed instead of pressing an edit button: "alamatnya salah, ganti dong", "change the courier".
_CHANGE_WORDS = frozenset({
    "ganti", "ubah", "diubah", "diganti", "salah", "koreksi", "revisi", "edit", "ralat", "tukar",
    "change", "wrong", "correct", "switch", "update",
})
_PART_WORDS = {
    "cart": ("keranjang", "jumlah", "ukuran", "warna", "produk", "barang", "pesanan", "cart", "item", "items",
             "size", "color", "colour", "quantity", "qty"),
    "contact": ("nama", "hp", "nomor", "telepon", "telp", "wa", "whatsapp", "name", "phone", "number"),
    "address": ("alamat", "almt", "kota", "address", "city"),
    "courier": ("kurir", "ekspedisi", "courier"),  # not "pengiriman": "alamat pengiriman" is the address
    "payment": ("bayar", "pembayaran", "metode", "transfer", "ewallet", "payment", "pay"),
}


def _typed_edit(text: str) -> str | None:
    """The part of the order a typed message asks to change, when it names exactly one."""
    words = re.findall(r"[^\W_]+", text.lower())
    if not _CHANGE_WORDS.intersection(words):
        return None

    def said(key: str) -> bool:  # "alamatnya" names "alamat"; short keys only as whole words
        return any(w == key or len(key) >= 4 and w.startswith(key) for w in words)

    parts = [part for part, keys in _PART_WORDS.items() if any(said(k) for k in keys)]
    return parts[0] if len(parts) == 1 else None


@validator("confirm")
async def _confirm(a: Answer) -> dict[str, Any] | Rejected:
    part = a.choice[5:] if a.choice and a.choice.startswith("edit-") else None if a.choice else _typed_edit(a.raw)
    if part in EDITABLE_PARTS:
        flow = a.ctx.shop.flows[a.tracker.get_slot(slots.FLOW)]
        cleared: dict[str, Any] = {a.slot.name: None}
        for type_ in EDITABLE_PARTS[part]:
            if type_ == "cart":
                cleared[slots.CART] = []
                # The cart starts over: say so, or "which product?" reads as if it were lost.
                a.notes.append(a.text("flow_cart_emptied"))
            elif type_ == "address":
                cleared["address"] = None
            elif (name := next((s.name for s in flow.slots if s.type == type_), None)) is not None:
                cleared[name] = None
        return cleared
    answer = parse_yes_no(a.raw, a.intent)
    if answer:
        return {a.slot.name: True}
    return Rejected(a.text("flow_edit_which"), edit_buttons(a.ctx.texts, a.lang))


# -- orders someone already placed --------------------------------------------------


@validator("order_number")
async def _order_number(a: Answer) -> dict[str, Any] | Rejected:
    number = entity(a.entities, "order_number")
    if a.choice and re.fullmatch(r"SP-\d{4}-\d{6}", a.choice):
        number = a.choice
    if not number:
        return a.invalid("flow_invalid_order_number")
    filled: dict[str, Any] = {a.slot.name: number}
    contact = a.flow_slot("contact")
    if contact is None:
        # A flow that asks no proof (a complaint, a shop's own warranty claim) still needs a
        # real order for the person it hands over to, and a typo deserves "check the number".
        # Saying a number exists tells a stranger no more than the sequence of numbers does
        # (their own order shows it); what an order holds is never shown here. With a contact
        # slot, an unknown number fails at the contact, exactly like a wrong phone, so a
        # stranger cannot tell which of the two was wrong.
        if a.ctx.orders is not None and await a.ctx.orders.get(number) is None:
            return Rejected(a.text("flow_order_not_found", number=number))
        return filled
    if await owns_order(a, number):
        filled[contact] = "identity"
    return filled


async def owns_order(a: Answer, number: str) -> bool:
    """Whether this conversation already proved the order is theirs, or placed it itself."""
    if number in (a.tracker.get_slot(slots.VERIFIED_ORDERS) or []):
        return True
    if a.ctx.orders is None:
        return False
    order = await a.ctx.orders.get(number)
    return order is not None and f"{order.channel}:{order.external_id}" == a.tracker.sender_id


@validator("contact")
async def _contact(a: Answer) -> dict[str, Any] | Rejected:
    number_slot = a.flow_slot("order_number") or "order_number"
    number = a.slot_value(number_slot)
    if a.slot_value(a.slot.name) == "identity":
        return {a.slot.name: "identity"}  # a seed: the order number, checked just before, is theirs
    phone, email = entity(a.entities, "phone"), entity(a.entities, "email")
    if not phone and not email:
        return a.invalid("flow_invalid_contact")
    book = a.ctx.orders if number else None
    if book is not None and await book.lookups_blocked(number):
        # Too many wrong guesses at this order from anywhere: even a right one is refused.
        minutes = int(ORDER_LOOKUP_WINDOW.total_seconds() // 60)
        a.notes.append(a.text("flow_order_lookup_blocked", minutes=minutes))
        return {a.slot.name: None, number_slot: None, slots.FLOW_ABORT: True}
    order = await book.get(number) if book is not None else None
    matches = order is not None and (
        (phone is not None and local_phone(phone) == order.phone)
        or (email is not None and order.email is not None and email == order.email.lower())
    )
    if matches:
        verified = list(a.tracker.get_slot(slots.VERIFIED_ORDERS) or [])
        if number not in verified:
            verified.append(number)
        return {a.slot.name: "verified", slots.VERIFIED_ORDERS: verified[-20:], slots.LOOKUP_FAILURES: 0}
    if book is not None:
        await book.lookup_failed(number)
    failures = int(a.tracker.get_slot(slots.LOOKUP_FAILURES) or 0) + 1
    if failures >= MAX_LOOKUP_FAILURES:
        until = a.ctx.now() + LOOKUP_LOCK
        a.notes.append(a.text("flow_lookup_locked", minutes=int(LOOKUP_LOCK.total_seconds() // 60)))
        return {
            a.slot.name: None,
            number_slot: None,
            slots.LOOKUP_FAILURES: 0,
            slots.LOOKUP_LOCKED_UNTIL: until.isoformat(),
            slots.FLOW_ABORT: True,
        }
    # The same words whether the number or the contact was wrong: nothing about the order leaks.
    a.notes.append(a.text("flow_verification_failed", left=MAX_LOOKUP_FAILURES - failures))
    return {a.slot.name: None, number_slot: None, slots.LOOKUP_FAILURES: failures}


@validator("bank")
async def _bank(a: Answer) -> dict[str, Any] | Rejected:
    names = bank_names(a.ctx)
    chosen = a.choice if a.choice in names else None
    if chosen is None and names and not a.choice:
        best = closest(a.raw, [(n, n) for n in names], cutoff=80)
        chosen = best[0] if len(best) == 1 else None
    return {a.slot.name: chosen} if chosen else a.invalid("flow_bank_unknown")


def bank_names(ctx: FlowContext) -> list[str]:
    """The shop's bank and e-wallet names (shop.yml), as the customer picks one."""
    names = [str(b.get("bank")) for b in ctx.shop.shop.get("bank_accounts") or [] if isinstance(b, dict)]
    names += [str(w.get("name")) for w in ctx.shop.shop.get("ewallets") or [] if isinstance(w, dict)]
    return [n for n in names if n and n != "None"]


def banks_named(ctx: FlowContext, text: str) -> list[str]:
    """The shop's banks and e-wallets a message names as words ("udah tf ke bca" → ["BCA"])."""
    low = text.lower()
    return [n for n in bank_names(ctx) if re.search(rf"(?<!\w){re.escape(n.lower())}(?!\w)", low)]


__all__ = [
    "ValidateOrderStatusForm",
    "ValidatePaymentConfirmationForm",
    "ValidatePlaceOrderForm",
]

"""Catalog questions: stock, sizes, colours and prices of the shop's products."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.catalog import (
    ProductMatch,
    categories,
    category_label,
    find_products,
    option_summary,
    options_label,
    price_range,
)
from bot.flows import context, slots
from bot.types import ConversationStatus
from bot.flows.common import lang_of, offer_handoff_buttons
from bot.flows.context import FlowContext
from bot.shopdata.model import Product
from bot.texts import Texts
from bot.types import Lang

MAX_PRODUCTS = 4
# Words of a request to see the catalog as a whole ("ada produk apa aja kak?", "what do you
# sell?"): when a message says nothing else, the answer is what the shop sells, not "we
# couldn't find that product". "jual skincare ga?" names something, so it is not browsing.
BROWSE_WORDS = frozenset(
    "ada apa aja saja kak min ya sih dong nih yang yg produk produknya barang barangnya katalog katalognya "
    "jual jualan jualannya dijual kalian kamu toko lihat liat semua tersedia koleksi koleksinya macam jenis "
    "what do does you sell products product items item have catalog catalogue show me your all kind kinds "
    "of which are there available the a we stuff".split()
)
_WORDS = re.compile(r"[^\W\d_]+")
# PENDING_OFFER after an answer that showed one product: "product:<sku>". What the customer
# says next about "it" ("ada XL?", "mau pesan 2") is about that product.
SHOWN_PRODUCT = "product:"


def shown_product(pending_offer: object) -> str | None:
    """The SKU of the one product the bot's last answer showed, if it showed one."""
    if isinstance(pending_offer, str) and pending_offer.startswith(SHOWN_PRODUCT):
        return pending_offer[len(SHOWN_PRODUCT) :]
    return None


class ActionProductSearch(Action):
    """Answers "ada kemeja batik ukuran L warna biru?" from the catalog, with order buttons."""

    def name(self) -> str:
        return "action_product_search"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context.current()
        texts, lang = ctx.texts, lang_of(tracker)
        latest = tracker.latest_message
        if not ctx.shop.products:  # a shop without a catalog has no product search
            dispatcher.utter_message(
                text=texts.get("not_available_product_search", lang), buttons=offer_handoff_buttons(lang)
            )
            return [SlotSet(slots.MISSES, 0), SlotSet(slots.PENDING_OFFER, "handoff")]
        entities = {e["entity"]: e["value"] for e in reversed(latest.get("entities") or [])}
        skus = [e["value"] for e in latest.get("entities") or [] if e["entity"] == "product"]
        size, color = entities.get("size"), entities.get("color")
        query = latest.get("normalized") or latest.get("text") or ""
        products = await live_products(ctx)
        if category := entities.get("category"):  # a button of the list of what we sell
            skus = [p.sku for p in products if p.category == category]
        shown = shown_product(tracker.get_slot(slots.PENDING_OFFER))
        if shown and not skus and not find_products(products, query, limit=1, by_word=True):
            skus = [shown]  # "ada XL ga kak?" right after the Parang shirt: the Parang shirt
        matches = find_products(products, query, skus=skus, size=size, color=color, limit=MAX_PRODUCTS, by_word=True)
        missing = None
        if not any(m.in_stock or not m.product.variants for m in matches) and (size or color):
            # Nothing in the asked size/colour: say so, then show what there is.
            missing = options_label({k: v for k, v in (("size", size), ("color", color)) if v}, lang).replace(" · ", " ")
            matches = find_products(products, query, skus=skus, limit=MAX_PRODUCTS, by_word=True)
        if not matches and not (size or color) and _browsing(str(latest.get("text") or "")):
            dispatcher.utter_message(**_what_we_sell(products, texts, lang))
            return [SlotSet(slots.MISSES, 0), SlotSet(slots.PENDING_OFFER, None)]
        if not matches and tracker.get_slot(slots.STATUS) == ConversationStatus.WAITING_FOR_AGENT:
            # "halo? masih ada orang?" from the queue reads like a stock question ("masih
            # ada?"); with nothing found, the customer is told a person is coming, not
            # offered the handoff they are already waiting for.
            dispatcher.utter_message(text=texts.get("handoff_already_waiting", lang))
            return [SlotSet(slots.MISSES, 0), SlotSet(slots.PENDING_OFFER, None)]
        if not matches:
            dispatcher.utter_message(text=texts.get("product_not_found", lang), buttons=offer_handoff_buttons(lang))
            return [SlotSet(slots.MISSES, 0), SlotSet(slots.PENDING_OFFER, "handoff")]
        dispatcher.utter_message(
            text=_answer(matches, texts, lang, missing), buttons=_order_buttons(matches, texts, lang)
        )
        one = matches[0].product.sku if len(matches) == 1 and matches[0].available else None
        return [SlotSet(slots.MISSES, 0), SlotSet(slots.PENDING_OFFER, SHOWN_PRODUCT + one if one else None)]


def _browsing(text: str) -> bool:
    words = _WORDS.findall(text.lower())
    return bool(words) and all(w in BROWSE_WORDS for w in words)


def _what_we_sell(products: tuple[Product, ...], texts: Texts, lang: Lang) -> dict[str, Any]:
    """The catalog's categories, each a button that shows its products."""
    found = categories(products)
    return {
        "text": texts.get("product_categories", lang, categories=_listed([category_label(c, lang).lower() for c in found], lang)),
        "buttons": [
            {
                "title": category_label(c, lang),
                "payload": "/product_search" + json.dumps({"category": c}, separators=(",", ":")),
            }
            for c in found
        ],
    }


def _listed(items: list[str], lang: Lang) -> str:
    """"kemeja, tas dan kain" / "shirts, bags and fabric"."""
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + (" dan " if lang == "id" else " and ") + items[-1]


async def live_products(ctx: FlowContext) -> tuple[Product, ...]:
    """The catalog with today's stock: what orders have not reserved yet (the file's figures
    when there is no order book)."""
    if ctx.orders is None:
        return ctx.shop.products
    skus = [v.sku for p in ctx.shop.products for v in p.variants] + [p.sku for p in ctx.shop.products if not p.variants]
    stock = await ctx.orders.available(skus)
    return tuple(
        replace(p, variants=tuple(replace(v, stock=stock.get(v.sku, 0)) for v in p.variants))
        if p.variants
        else replace(p, stock=stock.get(p.sku, 0))
        for p in ctx.shop.products
    )


def _answer(matches: list[ProductMatch], texts: Texts, lang: Lang, missing: str | None) -> str:
    """One line per product: name, price, the sizes/colours in stock and how many."""
    lines = []
    if missing:
        lines.append(texts.get("product_sold_out", lang, asked=missing))
        lines.append(texts.get("product_still_available", lang) + ":")
    else:
        lines.append(texts.get("product_found", lang))
    for m in matches:
        in_stock = m.in_stock
        stock = sum(v.stock for v in in_stock) if m.product.variants else m.product.stock
        status = (
            texts.get("product_in_stock", lang, stock=str(stock))
            if stock > 0
            else texts.get("product_sold_out_short", lang)
        )
        options = option_summary(in_stock, lang)
        detail = f" ({options})" if options else ""
        lines.append(f"• {m.product.name} — {price_range(m, lang)}{detail} · {status}")
    return "\n".join(lines)


def _order_buttons(matches: list[ProductMatch], texts: Texts, lang: Lang) -> list[dict[str, str]]:
    """"Pesan <product>" buttons that start the order flow with that product chosen."""
    return [
        {
            "title": texts.get("product_order_button", lang, name=m.product.name),
            "payload": "/place_order" + json.dumps({"product": m.product.sku}, separators=(",", ":")),
        }
        for m in matches
        if m.available
    ][:3]

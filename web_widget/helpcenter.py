"""The shop's help centre: every FAQ entry on one public page, searchable in the customer's words.

New visitors find answers before they ask (``GET /bantuan``, English at
``/bantuan?lang=en``; ``/help`` leads there). The search box goes through the same NLU
the chat uses, so "ongkir ke sby brp?" finds the shipping entry just as it would in the
widget; what the FAQ cannot answer points to the chat widget the page embeds.

Register with ``helpcenter.add_routes(app, shop, default_lang)`` in :func:`bot.app.create_app`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot import api, intents, metrics
from bot.flows.faq import SHIPPING_CATEGORY, rates_to_city
from bot.shopdata.model import FaqEntry, ShopData
from bot.types import Lang, ParseResult
from web_widget.pages import _environment, _text

# Longer than any real question; a longer query is answered with a note, not parsed.
MAX_QUERY_CHARS = 300
# Other FAQ entries the NLU ranks at least this high are shown as related.
RELATED_MIN_CONFIDENCE = 0.01
MAX_RELATED = 3
# What the chat does rather than the FAQ: asked here, the page points to the chat.
CHAT_INTENTS = frozenset({
    intents.PLACE_ORDER, intents.ORDER_STATUS, intents.PAYMENT_CONFIRMATION, intents.COMPLAINT,
    intents.HUMAN_HANDOFF, intents.PRODUCT_SEARCH, intents.FEEDBACK,
})

CATEGORY_ORDER = ("product", "payment", "shipping", "order", "account", "other")
CATEGORY_NAMES: dict[str, dict[Lang, str]] = {
    "product": {"id": "Produk", "en": "Products"},
    "payment": {"id": "Pembayaran", "en": "Payment"},
    "shipping": {"id": "Pengiriman", "en": "Shipping"},
    "order": {"id": "Pesanan", "en": "Orders"},
    "account": {"id": "Akun", "en": "Account"},
    "other": {"id": "Lainnya", "en": "Other"},
}

UI: dict[Lang, dict[str, str]] = {
    "id": {
        "title": "Pusat Bantuan",
        "intro": "Cari jawaban cepat seputar produk, pembayaran, dan pengiriman. Tulis saja pertanyaannya seperti chat biasa, Kak.",
        "placeholder": "Contoh: ongkir ke Surabaya berapa?",
        "search": "Cari",
        "results": "Hasil pencarian untuk “{q}”",
        "best": "Jawaban yang paling cocok",
        "rates": "Ongkir ke {city} untuk paket 1 kg",
        "no_rates": "Belum ada kurir kami yang melayani {city}, Kak. Tanya lewat chat ya, kami carikan jalannya.",
        "courier": "Kurir",
        "price": "Ongkir",
        "etd": "Estimasi",
        "related": "Mungkin ini juga membantu",
        "maybe": "Mungkin maksud Kakak:",
        "not_found": "Maaf Kak, belum ada jawaban yang pas untuk “{q}”. Tanya langsung ke kami lewat chat ya, kami bantu.",
        "too_long": "Pertanyaannya terlalu panjang, Kak. Coba tulis lebih singkat (maksimal {max} huruf) ya.",
        "chat_flow": "Yang ini paling cepat lewat chat, Kak: asisten kami bisa langsung bantu.",
        "all": "Semua pertanyaan",
        "ask": "Masih ada yang mau ditanyakan?",
        "ask_button": "Chat dengan kami",
        "other_lang": "English",
        "back": "Kembali ke toko",
    },
    "en": {
        "title": "Help Centre",
        "intro": "Quick answers about our products, payment and shipping. Type your question the way you would in a chat.",
        "placeholder": "e.g. How much is shipping to Surabaya?",
        "search": "Search",
        "results": "Search results for “{q}”",
        "best": "Best answer",
        "rates": "Shipping to {city} for a 1 kg parcel",
        "no_rates": "None of our couriers deliver to {city} yet. Ask us in the chat and we'll find a way.",
        "courier": "Courier",
        "price": "Cost",
        "etd": "Delivery time",
        "related": "These may help too",
        "maybe": "Did you mean:",
        "not_found": "Sorry, we don't have an answer for “{q}” yet. Ask us in the chat and we'll help.",
        "too_long": "That question is too long. Please keep it under {max} characters.",
        "chat_flow": "This one is quickest in the chat: our assistant can help you right away.",
        "all": "All questions",
        "ask": "Still have a question?",
        "ask_button": "Chat with us",
        "other_lang": "Bahasa Indonesia",
        "back": "Back to the shop",
    },
}


# The page's own colours; links and small headings take the shop's colour only where it is
# dark enough to read on them (WCAG AA, 4.5:1), so a yellow brand does not make links vanish.
PAGE_BACKGROUND = "#fbf7f1"
TEXT_COLOR = "#2b2118"
MIN_TEXT_CONTRAST = 4.5


def _luminance(color: str) -> float:
    """WCAG relative luminance of ``#rgb`` / ``#rrggbb`` (widget.yml's colours are checked to be one)."""
    hex_digits = color.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    channels = [int(hex_digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@dataclass(frozen=True)
class Brand:
    """The shop's look from ``widget.yml``, so the help centre matches its chat and its shop."""

    primary: str  # header bar and buttons, with ``on_primary`` text, as the widget's launcher
    on_primary: str
    accent: str  # links and small headings on the light page
    logo: str | None  # only a logo the shop configured; the widget's default is Sapa's, not theirs

    @classmethod
    def of(cls, shop: ShopData) -> "Brand":
        widget = shop.widget
        primary = widget.primary_color
        readable = contrast(primary, PAGE_BACKGROUND) >= MIN_TEXT_CONTRAST
        return cls(
            primary=primary,
            on_primary=widget.text_on_primary,
            accent=primary if readable else TEXT_COLOR,
            logo=widget.logo if shop.widget_config is not None else None,
        )


@dataclass(frozen=True)
class EntryView:
    """One FAQ entry as the page shows it, in the page's language."""

    id: str
    question: str
    answer: str
    links: tuple[tuple[str, str], ...]  # (title, "#other-entry-id") for the entry's FAQ buttons
    # (title, payload) for its other buttons ("/order_status", "/complaint"...): what the chat
    # does, so on the page they open the chat and send the payload there, as a tap in the chat would.
    actions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SearchView:
    """What a search found: the best entry, related ones, or nothing (then the chat)."""

    query: str
    best: EntryView | None = None
    related: tuple[EntryView, ...] = ()
    maybe: tuple[EntryView, ...] = ()  # the NLU was unsure: "did you mean"
    flow: bool = False  # asked for something the chat does (an order, its status...), not an FAQ
    too_long: bool = False
    # A shipping question naming a city ("ongkir ke sby?"): the shop's rates to it, as the chat gives them.
    rates_city: str | None = None
    rates: tuple[tuple[str, str, str], ...] = ()  # (courier, price, delivery time)


def entry_view(entry: FaqEntry, lang: Lang, known: set[str]) -> EntryView:
    """``entry`` in ``lang`` (its first example question is the headline); buttons to other
    entries become links to them on the page, the others open the chat with their payload
    (answers such as "report it with the button below" rely on that button being there)."""
    questions = entry.questions.get(lang) or entry.questions.get("id") or entry.questions.get("en") or (entry.id,)
    links: list[tuple[str, str]] = []
    actions: list[tuple[str, str]] = []
    for button in entry.buttons:
        target = button.payload[len("/faq/") :] if button.payload.startswith("/faq/") else None
        if target in known:
            links.append((_text(button.title, lang) or target, f"#{target}"))
        else:
            actions.append((_text(button.title, lang) or button.payload, button.payload))
    return EntryView(
        id=entry.id,
        question=questions[0],
        answer=entry.answer.get(lang) or entry.answer.get("id") or "",
        links=tuple(links),
        actions=tuple(actions),
    )


class HelpCentre:
    """The page over one shop's FAQ; the entries are laid out once, searches per request."""

    def __init__(self, shop: ShopData, default_lang: Lang) -> None:
        self.shop = shop
        self.default_lang = default_lang
        self.shop_name = _text((shop.shop or {}).get("name")) or "Toko"
        self.brand = Brand.of(shop)
        known = {e.id for e in shop.faqs}
        self.entries: dict[Lang, dict[str, EntryView]] = {
            lang: {e.id: entry_view(e, lang, known) for e in shop.faqs} for lang in ("id", "en")
        }
        order = {c: i for i, c in enumerate(CATEGORY_ORDER)}
        self.sections: dict[Lang, list[tuple[str, list[EntryView]]]] = {}
        for lang in ("id", "en"):
            grouped: dict[str, list[EntryView]] = {}
            for entry in shop.faqs:
                grouped.setdefault(entry.category, []).append(self.entries[lang][entry.id])
            self.sections[lang] = [
                (CATEGORY_NAMES.get(c, {}).get(lang, c.title()), grouped[c])
                for c in sorted(grouped, key=lambda c: (order.get(c, len(order)), c))
            ]
        self.template = _environment().get_template("help.html.j2")

    def search(self, query: str, lang: Lang, nlu: Any) -> SearchView:
        if len(query) > MAX_QUERY_CHARS:
            return SearchView(query=query[:MAX_QUERY_CHARS] + "…", too_long=True)
        parse: ParseResult = nlu.parse(query)
        entries = self.entries[lang]
        faq_id = parse.faq_id
        if faq_id is not None and faq_id in entries:
            related = [
                e for e in _entries(parse.ranking[1:], entries, RELATED_MIN_CONFIDENCE) if e.id != faq_id
            ][:MAX_RELATED]
            metrics.HELP_SEARCHES.labels("answered").inc()
            city, rates = self._rates(faq_id, query, lang)
            return SearchView(query=query, best=entries[faq_id], related=tuple(related), rates_city=city, rates=rates)
        # The NLU's own "did you mean" when it was unsure; weaker candidates would be noise.
        maybe = _entries(parse.suggestions, entries)
        flow = parse.intent.name in CHAT_INTENTS
        result = "suggested" if maybe else "chat" if flow else "not_found"
        metrics.HELP_SEARCHES.labels(result).inc()
        return SearchView(query=query, maybe=tuple(maybe[:MAX_RELATED]), flow=flow)

    def _rates(self, faq_id: str, query: str, lang: Lang) -> tuple[str | None, tuple[tuple[str, str, str], ...]]:
        entry = self.shop.faq(faq_id)
        found = rates_to_city(self.shop, query, lang) if entry is not None and entry.category == SHIPPING_CATEGORY else None
        return (found[0], tuple(found[1])) if found is not None else (None, ())

    def render(self, lang: Lang, search: SearchView | None) -> str:
        return self.template.render(
            lang=lang,
            other_lang="en" if lang == "id" else "id",
            ui=UI[lang],
            shop_name=self.shop_name,
            brand=self.brand,
            sections=self.sections[lang],
            search=search,
            max_query=MAX_QUERY_CHARS,
        )

    async def handle(self, request: web.Request) -> web.Response:
        raw_lang = request.query.get("lang", "")
        lang: Lang = raw_lang if raw_lang in ("id", "en") else self.default_lang  # type: ignore[assignment]
        query = " ".join(request.query.get("q", "").split())
        search = None
        if query:
            nlu = request.app.get(api.NLU)
            if nlu is None:  # still starting: the list below answers meanwhile
                raise web.HTTPServiceUnavailable(text="starting", headers={"Retry-After": "2"})
            search = self.search(query, lang, nlu)
        return web.Response(
            text=self.render(lang, search),
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )


def _entries(scores: Any, entries: dict[str, EntryView], floor: float = 0.0) -> list[EntryView]:
    """The FAQ entries among NLU scores (``faq/<id>``) that the page lists, best first."""
    return [
        entries[s.name[len(intents.FAQ_PREFIX) :]]
        for s in scores
        if intents.is_faq(s.name) and s.name[len(intents.FAQ_PREFIX) :] in entries and s.confidence >= floor
    ]


async def _help_redirect(request: web.Request) -> web.Response:
    # A search linked as /help?q=… (from a shop's English page) still searches.
    query = request.query.get("q", "")
    raise web.HTTPFound("/bantuan?" + urlencode({"lang": "en", **({"q": query} if query else {})}))


def add_routes(app: web.Application, shop: ShopData, default_lang: Lang) -> None:
    centre = HelpCentre(shop, default_lang)
    app.router.add_get("/bantuan", centre.handle)
    app.router.add_get("/help", _help_redirect)


__all__ = ["Brand", "HelpCentre", "SearchView", "EntryView", "add_routes", "contrast"]

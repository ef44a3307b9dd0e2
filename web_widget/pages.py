"""Routes of the browser side of the widget: the demo shop page, ``/widget.js`` and its assets.

Register with ``pages.add_routes(app, shop)`` in :func:`bot.app.create_app`.

- ``GET /`` — a small product page of the shop in the data dir that embeds the widget
  with the one script tag a shop would paste;
- ``GET /widget.js`` — the widget itself (plain JavaScript, no build step);
- ``GET /widget/assets/{name}`` — its static assets (the default logo).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.catalog import rupiah
from bot.shopdata.model import Product, ShopData

HERE = Path(__file__).resolve().parent
WIDGET_JS = HERE / "widget.js"
ASSETS = HERE / "assets"
ASSET_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}

# The widget is fetched by other origins' pages (the shops'), so it must be embeddable
# even from pages that require cross-origin resource policy.
STATIC_HEADERS = {
    "Cache-Control": "public, max-age=300, must-revalidate",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "X-Content-Type-Options": "nosniff",
}


def add_routes(app: web.Application, shop: ShopData) -> None:
    page = _DemoPage(shop)
    app.router.add_get("/", page.handle)
    app.router.add_get("/widget.js", widget_js)
    app.router.add_get("/widget/assets/{name}", asset)


async def widget_js(request: web.Request) -> web.StreamResponse:
    response = web.FileResponse(WIDGET_JS, headers={**STATIC_HEADERS, "Content-Type": "text/javascript; charset=utf-8"})
    return response


async def asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = ASSETS / name
    # Only plain file names of known types inside the assets folder.
    if "/" in name or "\\" in name or name.startswith(".") or path.suffix not in ASSET_TYPES or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={**STATIC_HEADERS, "Content-Type": ASSET_TYPES[path.suffix]})


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["rupiah"] = rupiah
    return env


def _text(value: Any, lang: str = "id") -> str | None:
    if isinstance(value, dict):
        picked = value.get(lang) or value.get("id") or value.get("en")
        return str(picked) if picked else None
    return str(value) if value not in (None, "") else None


def _product_view(product: Product) -> dict[str, Any]:
    sizes: list[str] = []
    colors: list[str] = []
    prices = {product.price}
    for variant in product.variants:
        size = variant.options.get("size")
        color = variant.options.get("color")
        if size and size not in sizes:
            sizes.append(size)
        if color and color not in colors:
            colors.append(color)
        if variant.price is not None:
            prices.add(variant.price)
    return {
        "sku": product.sku,
        "name": product.name,
        "category": product.category,
        "price": min(prices),
        "price_max": max(prices),
        "description": _text(product.description) or "",
        "sizes": sizes,
        "colors": colors,
        "stock": product.total_stock,
        "weight": product.weight_grams,
    }


def demo_context(shop: ShopData) -> dict[str, Any]:
    meta = shop.shop or {}
    name = _text(meta.get("name")) or "Toko Demo"
    products = [_product_view(p) for p in shop.products]
    in_stock = [p for p in products if p["stock"] > 0] or products
    featured = in_stock[0] if in_stock else None
    others = [p for p in products if featured is None or p["sku"] != featured["sku"]][:4]
    banks = [str(b.get("bank")) for b in meta.get("bank_accounts") or [] if isinstance(b, dict) and b.get("bank")]
    wallets = [str(w.get("name")) for w in meta.get("ewallets") or [] if isinstance(w, dict) and w.get("name")]
    couriers = [str(c) for c in meta.get("couriers") or []]
    return {
        "shop_name": name,
        "tagline": _text(meta.get("tagline")),
        "hours": _text(meta.get("hours")),
        "address": _text(meta.get("address")),
        "city": _text(meta.get("city")),
        "phone": _text(meta.get("phone")),
        "whatsapp": _text(meta.get("whatsapp")),
        "email": _text(meta.get("email")),
        "instagram": _text((meta.get("social") or {}).get("instagram")) if isinstance(meta.get("social"), dict) else None,
        "featured": featured,
        "others": others,
        "payments": banks + wallets,
        "couriers": couriers,
        "initial": (name.strip()[:1] or "T").upper(),
        "has_faq": bool(shop.faqs),  # the help centre (/bantuan) lists them
    }


class _DemoPage:
    """Rendered once: the shop's data does not change while the server runs."""

    def __init__(self, shop: ShopData) -> None:
        self._html = _environment().get_template("demo.html.j2").render(**demo_context(shop))

    async def handle(self, request: web.Request) -> web.Response:
        return web.Response(
            text=self._html,
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

"""Fixtures for the order tests: an OrderBook on a SQLite file and on PostgreSQL.

The shop is built in code (two products, one with variants), so the tests say
exactly what stock they start from; the demo data dir is used by the HTTP and
CLI tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import subprocess
from pathlib import Path

import pytest

from bot.flows.context import shop_name
from bot.orders.book import OrderBook
from bot.orders.records import CartLine, NewOrder, PaymentMethod
from bot.shopdata.model import Product, ShopData, Variant
from bot.store import Store
from bot.store.testing import FakeClock
from bot.texts import Texts
from tests.conftest import blocking
from tests.store.conftest import RowCounter, _reset_schema

SHOP_FACTS: dict[str, object] = {
    "version": 1,
    "name": "Toko Uji",
    "payment_deadline_days": 3,
    "payment_reminder_hours": 24,
    "bank_accounts": [{"bank": "BCA", "number": "123-456-7890", "holder": "CV Toko Uji"}],
    "ewallets": [{"name": "OVO", "number": "0812-0000-1111", "holder": "CV Toko Uji"}],
}

KEMEJA = Product(
    sku="KMJ-01",
    name="Kemeja Batik Parang",
    category="kemeja",
    price=189_000,
    weight_grams=300,
    description={"id": "Kemeja", "en": "Shirt"},
    variants=(
        Variant(sku="KMJ-01-M", options={"size": "M"}, stock=5),
        Variant(sku="KMJ-01-L", options={"size": "L"}, stock=1),
    ),
)
TAS = Product(
    sku="TAS-01",
    name="Tas Rotan Bulat",
    category="tas",
    price=245_000,
    weight_grams=700,
    description={"id": "Tas", "en": "Bag"},
    stock=2,
)


def make_shop(tmp_path: Path, products: tuple[Product, ...] = (KEMEJA, TAS), **facts: object) -> ShopData:
    return ShopData(data_dir=tmp_path, products=products, shop={**SHOP_FACTS, **facts})


def make_book(store: Store, shop: ShopData, bus=None) -> OrderBook:  # type: ignore[no-untyped-def]
    return OrderBook(store, shop, Texts.load(shop.texts, shop_name=shop_name(shop)), bus)


def line(sku: str = "KMJ-01-L", quantity: int = 1, price: int = 189_000) -> CartLine:
    product = KEMEJA if sku.startswith("KMJ") else TAS
    options = {"size": sku.rsplit("-", 1)[1]} if product is KEMEJA else {}
    return CartLine(
        sku=sku,
        product_sku=product.sku,
        name=product.name,
        options=options,
        quantity=quantity,
        unit_price=price,
        weight_grams=product.weight_grams,
    )


async def new_order(
    store: Store,
    who: str = "alice",
    *lines: CartLine,
    key: str | None = None,
    channel: str = "rest",
    lang: str = "id",
    method: str = PaymentMethod.BANK_TRANSFER,
) -> NewOrder:
    conversation = await store.open_conversation(channel, who, lang)
    return NewOrder(
        lines=tuple(lines) or (line(),),
        customer_name=who.title(),
        phone="081234567890",
        address="Jl. Slamet Riyadi No. 1",
        city="Surakarta",
        courier="jne-reg",
        courier_name="JNE REG",
        shipping_cost=10_000,
        payment_method=method,
        lang=lang,
        channel=channel,
        external_id=who,
        customer_id=conversation.customer_id,
        conversation_id=conversation.id,
        source_key=key or f"{channel}:{who}:{conversation.id}:{len(lines)}:{id(lines)}",
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file, or a clean PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'sapa.db'}"
    dsn: str = request.getfixturevalue("postgres_database")
    blocking(_reset_schema, dsn)
    return dsn


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(db_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    opened = await Store.open(db_url, now=clock)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def shop(tmp_path: Path) -> ShopData:
    return make_shop(tmp_path)


@pytest.fixture
async def book(store: Store, shop: ShopData) -> OrderBook:
    orders = make_book(store, shop)
    await orders.sync_stock()
    return orders


@pytest.fixture
def count_rows(db_url: str) -> Callable[[str], Awaitable[int]]:
    return RowCounter(db_url)


# -- a running server and the `sapa` command ---------------------------------------------

ADMIN_PASSWORD = "Gudang-Batik-2026"
AGENT_PASSWORD = "Layanan-Pelanggan-77"


def sapa_cli(
    *args: str, cwd: Path, stdin: str | None = None, timeout: float = 120, **env: str
) -> "subprocess.CompletedProcess[str]":
    """``sapa ARGS`` as a subprocess in ``cwd`` (its ./sapa.db), like an operator in a shell."""
    import subprocess
    import sys

    from tests.conftest import sapa_env

    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=sapa_env(cwd, **env),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def copy_demo(target: Path) -> Path:
    import shutil

    from tests.conftest import DEMO_DATA

    shutil.copytree(DEMO_DATA, target, ignore=shutil.ignore_patterns(".secret_key", "uploads"))
    return target


def demo_line(shop: ShopData, quantity: int = 1, *, min_stock: int = 3) -> CartLine:
    """A line for the demo catalog variant with the most units (at least ``min_stock``)."""
    candidates = [(v.stock, p, v) for p in shop.products for v in p.variants if v.stock >= min_stock]
    if not candidates:
        raise AssertionError("the demo catalog has no variant in stock")
    _, product, variant = max(candidates, key=lambda c: c[0])
    return CartLine(
        sku=variant.sku,
        product_sku=product.sku,
        name=product.name,
        options=dict(variant.options),
        quantity=quantity,
        unit_price=variant.price or product.price,
        weight_grams=product.weight_grams,
    )

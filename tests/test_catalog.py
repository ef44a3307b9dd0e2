"""Catalog search: which products answer "ada kemeja batik ukuran L warna biru?"."""

from __future__ import annotations

from bot.catalog import find_products, option_summary, price_range, rupiah
from bot.shopdata.model import Product, Variant


def product(sku, name, category, price, variants=(), stock=0, aliases=()):
    return Product(
        sku=sku, name=name, category=category, price=price, weight_grams=300,
        description={"id": "", "en": ""}, variants=tuple(variants), stock=stock, aliases=tuple(aliases),
    )


PARANG = product("KMJ-1", "Kemeja Batik Parang", "kemeja", 189000, [
    Variant("KMJ-1-L-BIRU", {"size": "L", "color": "biru"}, 6),
    Variant("KMJ-1-XL-BIRU", {"size": "XL", "color": "biru"}, 0),
    Variant("KMJ-1-L-COKLAT", {"size": "L", "color": "coklat"}, 2, price=199000),
])
KAWUNG = product("KMJ-2", "Kemeja Batik Kawung", "kemeja", 225000, [
    Variant("KMJ-2-L-BIRU", {"size": "L", "color": "biru"}, 0),
    Variant("KMJ-2-M-NAVY", {"size": "M", "color": "navy"}, 3),
])
ROTAN = product("TAS-1", "Tas Rotan Bulat", "tas", 165000, stock=4, aliases=["tas rotan"])
CATALOG = [PARANG, KAWUNG, ROTAN]


def test_category_and_options_find_the_variant_in_stock():
    matches = find_products(CATALOG, "ada kemeja batik ukuran l warna biru?", size="L", color="biru")
    assert [m.product.sku for m in matches] == ["KMJ-1"]
    assert [v.sku for v in matches[0].in_stock] == ["KMJ-1-L-BIRU"]


def test_english_category_words():
    matches = find_products(CATALOG, "do you have a blue shirt in size l", size="L", color="biru")
    assert [m.product.sku for m in matches] == ["KMJ-1"]


def test_recognised_products_win_over_words():
    matches = find_products(CATALOG, "berapa harga tas rotan?", skus=["TAS-1"])
    assert [m.product.sku for m in matches] == ["TAS-1"]
    assert matches[0].available


def test_name_mentioned_with_a_typo():
    assert [m.product.sku for m in find_products(CATALOG, "kemeja batik kawng ready?")] == ["KMJ-1", "KMJ-2"]
    assert [m.product.sku for m in find_products(CATALOG, "tas rotan bulatnya ada?")] == ["TAS-1"]


def test_sold_out_options_are_kept_only_when_nothing_else_fits():
    matches = find_products(CATALOG, "kemeja xl biru", size="XL", color="biru")
    assert [m.product.sku for m in matches] == ["KMJ-1"]
    assert not matches[0].available


def test_nothing_matches_an_unknown_product():
    assert find_products(CATALOG, "jual sepatu kulit ga") == []


def test_prices_are_integer_rupiah():
    assert rupiah(189000) == "Rp189.000"
    assert rupiah(1250000) == "Rp1.250.000"
    assert rupiah(1250000, "en") == "Rp1,250,000"  # English readers take "." for a decimal point
    (m,) = find_products(CATALOG, "kemeja parang", skus=["KMJ-1"])
    assert price_range(m) == "Rp189.000–Rp199.000"
    assert option_summary(m.in_stock) == "L · biru, coklat"


def test_sizes_are_listed_smallest_first():
    variants = [
        Variant("A-XL", {"size": "XL", "color": "biru"}, 1),
        Variant("A-M", {"size": "M", "color": "biru"}, 1),
        Variant("A-2XL", {"size": "2XL", "color": "coklat"}, 1),
        Variant("A-L", {"size": "L", "color": "coklat"}, 1),
        Variant("A-ALL", {"size": "All size", "color": "coklat"}, 1),
    ]
    assert option_summary(variants) == "M, L, XL, 2XL, All size · biru, coklat"
    shoes = [Variant(f"S-{n}", {"size": n}, 1) for n in ("42", "38", "40")]
    assert option_summary(shoes) == "38, 40, 42"
    # kids' ages: "10 th" after "8 th" ("4 th, 6 th, 10 th, 8 th" in the catalog's order)
    kids = [Variant(f"K-{n}", {"size": n}, 1) for n in ("4 th", "6 th", "10 th", "8 th")]
    assert option_summary(kids) == "4 th, 6 th, 8 th, 10 th"
    assert option_summary(kids, "en") == "4 yrs, 6 yrs, 8 yrs, 10 yrs"

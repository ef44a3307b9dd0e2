"""``catalog/*.yml``: products, their variants, prices (integer rupiah) and stock."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml.nodes import MappingNode, ScalarNode

from .model import Product, SourceRef, Variant
from .problems import Problems
from .yamlio import (
    Field,
    bilingual,
    integer,
    line_of,
    mapping,
    read_yaml,
    sequence,
    text,
    text_node,
    version,
)

SKU_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")

FILE_KEYS = ("version", "currency", "products")
PRODUCT_KEYS = (
    "sku",
    "name",
    "category",
    "price",
    "weight_grams",
    "description",
    "variants",
    "aliases",
    "stock",
)
PRODUCT_REQUIRED = ("sku", "name", "category", "price", "weight_grams", "description")
VARIANT_KEYS = ("sku", "options", "stock", "price")
VARIANT_REQUIRED = ("sku", "options", "stock")

PRICE = {"example": "189000", "unit": " of rupiah"}
SKU = tuple[str, int]  # (sku, line)


def _peek(node, key: str) -> str | None:
    if isinstance(node, MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key and isinstance(value, ScalarNode):
                return str(value.value).strip() or None
    return None


def read_catalog_file(path: Path, probs: Problems) -> tuple[list[Product], list[SKU]]:
    """Parse one catalog file: the valid products, and every well-formed SKU with its line."""
    products: list[Product] = []
    skus: list[SKU] = []
    root = read_yaml(path, probs)
    if root is None:
        return products, skus
    fields = mapping(probs, root, "a catalog file", allowed=FILE_KEYS, required=("version", "products"))
    if fields is None:
        return products, skus
    version(probs, fields, "1")
    if "currency" in fields:
        currency = text(probs, fields["currency"], "currency")
        if currency is not None and currency != "IDR":
            probs.error(fields["currency"].line, f"currency must be IDR (prices are whole rupiah), got '{currency}'")
    if "products" not in fields:
        return products, skus
    items = sequence(probs, fields["products"], "products")
    if items is None:
        return products, skus
    for item in items:
        product = _read_product(item, probs, skus)
        if product is not None:
            products.append(product)
    return products, skus


def _sku(probs: Problems, field: Field, what: str, skus: list[SKU]) -> str | None:
    sku = text(probs, field, what)
    if sku is None:
        return None
    if not SKU_RE.fullmatch(sku):
        probs.error(
            field.line,
            f"{what} '{sku}' may contain only letters, digits and . _ / - (no spaces)",
        )
        return None
    skus.append((sku, field.line))
    return sku


def _read_product(node, probs: Problems, skus: list[SKU]) -> Product | None:
    peek = _peek(node, "sku")
    what = f"product '{peek}'" if peek else "product"
    fields = mapping(probs, node, what, allowed=PRODUCT_KEYS, required=PRODUCT_REQUIRED)
    if fields is None:
        return None
    values: dict[str, object] = {}
    ok = True

    def need(key: str, value: object) -> None:
        nonlocal ok
        if value is None:
            ok = False
        else:
            values[key] = value

    if "sku" in fields:
        need("sku", _sku(probs, fields["sku"], "SKU", skus))
    if "name" in fields:
        need("name", text(probs, fields["name"], "product name"))
    if "category" in fields:
        need("category", text(probs, fields["category"], "product category"))
    if "price" in fields:
        need("price", integer(probs, fields["price"], "price", **PRICE))
    if "weight_grams" in fields:
        need("weight_grams", integer(probs, fields["weight_grams"], "weight_grams", minimum=1, example="250"))
    if "description" in fields:
        need("description", bilingual(probs, fields["description"], "description"))
    if "stock" in fields:
        need("stock", integer(probs, fields["stock"], "stock"))
    if "aliases" in fields:
        need("aliases", _read_aliases(fields["aliases"], probs))
    if "variants" in fields:
        need("variants", _read_variants(fields["variants"], probs, skus))
        if "stock" in fields:
            probs.error(
                fields["stock"].key_line,
                f"{what} has variants, so its stock is the variants' stock; "
                "remove 'stock' here or give it no variants",
            )
            ok = False
    if not ok or any(key not in fields for key in PRODUCT_REQUIRED):
        return None
    return Product(
        sku=values["sku"],
        name=values["name"],
        category=values["category"],
        price=values["price"],
        weight_grams=values["weight_grams"],
        description=values["description"],
        variants=values.get("variants", ()),
        aliases=values.get("aliases", ()),
        stock=values.get("stock", 0),
        source=SourceRef(probs.file, line_of(node)),
    )


def _read_aliases(field: Field, probs: Problems) -> tuple[str, ...] | None:
    items = sequence(probs, field, "aliases")
    if items is None:
        return None
    aliases: list[str] = []
    ok = True
    for item in items:
        alias = text_node(probs, item, line_of(item), "an alias")
        if alias is None:
            ok = False
        else:
            aliases.append(alias)
    return tuple(aliases) if ok else None


def _read_variants(field: Field, probs: Problems, skus: list[SKU]) -> tuple[Variant, ...] | None:
    items = sequence(probs, field, "variants")
    if items is None:
        return None
    variants: list[Variant] = []
    seen_options: dict[tuple[tuple[str, str], ...], int] = {}
    ok = True
    for item in items:
        peek = _peek(item, "sku")
        what = f"variant '{peek}'" if peek else "variant"
        fields = mapping(probs, item, what, allowed=VARIANT_KEYS, required=VARIANT_REQUIRED)
        if fields is None:
            ok = False
            continue
        sku = _sku(probs, fields["sku"], "SKU", skus) if "sku" in fields else None
        options = _read_options(fields["options"], what, probs) if "options" in fields else None
        stock = integer(probs, fields["stock"], "stock") if "stock" in fields else None
        price = integer(probs, fields["price"], "price", **PRICE) if "price" in fields else None
        if sku is None or options is None or stock is None or ("price" in fields and price is None):
            ok = False
            continue
        combo = tuple(sorted(options.items()))
        if combo in seen_options:
            shown = ", ".join(f"{k}: {v}" for k, v in options.items())
            probs.error(
                fields["options"].line,
                f"{what} has the same options ({shown}) as the variant at line {seen_options[combo]}",
            )
            ok = False
            continue
        seen_options[combo] = line_of(item)
        variants.append(Variant(sku=sku, options=options, stock=stock, price=price))
    return tuple(variants) if ok else None


def _read_options(field: Field, what: str, probs: Problems) -> dict[str, str] | None:
    fields = mapping(probs, field.node, f"options of {what}", line=field.line)
    if fields is None:
        return None
    if not fields:
        probs.error(field.key_line, f"options of {what} are empty; give e.g. size: L")
        return None
    options: dict[str, str] = {}
    ok = True
    for key, option in fields.items():
        value = text(probs, option, f"option '{key}'")
        if value is None:
            ok = False
        else:
            options[key] = value
    return options if ok else None

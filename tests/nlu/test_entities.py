"""Entity extraction: values, offsets into the original text, and edge cases."""

from __future__ import annotations

import pytest

from bot.nlu.entities import EntityExtractor
from bot.shopdata.model import Product, Variant
from bot.types import Entity


def _product(sku: str, name: str, aliases: tuple[str, ...] = (), variants: tuple[Variant, ...] = ()) -> Product:
    return Product(sku=sku, name=name, category="x", price=100000, weight_grams=300,
                   description={"id": name}, variants=variants, aliases=aliases, stock=5)


CATALOG = [
    _product("KMJ-PRG-01", "Kemeja Batik Parang Rusak", variants=(
        Variant("KMJ-PRG-01-L-BIRU", {"size": "L", "color": "Biru"}, 3),
        Variant("KMJ-PRG-01-2XL-ABU", {"size": "2XL", "color": "Abu-abu"}, 1),
    )),
    _product("KMJ-KWG-01", "Kemeja Batik Kawung Pria"),
    _product("KMJ-TRT-01", "Kemeja Batik Truntum Lengan Panjang"),
    _product("DRS-MGM-01", "Dress Batik Mega Mendung", aliases=("gaun mega mendung",)),
    _product("TAS-RTN-01", "Tas Rotan Bulat Bali", aliases=("tas rotan",)),
    _product("KN-SGN-01", "Kain Batik Tulis Sogan"),
    _product("SRG-PRG-01", "Sarung Batik Parang"),
]


@pytest.fixture(scope="module")
def ex() -> EntityExtractor:
    return EntityExtractor(CATALOG)


def values(entities: list[Entity], kind: str) -> list:
    return [e.value for e in entities if e.entity == kind]


def check_offsets(text: str, entities: list[Entity]) -> None:
    for e in entities:
        assert 0 <= e.start < e.end <= len(text)
        assert text[e.start : e.end] == e.text


def run(ex: EntityExtractor, text: str) -> list[Entity]:
    ents = ex.extract(text)
    check_offsets(text, ents)
    return ents


# --- order numbers ---------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    ["cek SP-2026-000123 dong", "cek sp-2026-000123", "cek sp 2026 000123", "cek SP2026000123",
     "cek #sp-2026000123", "cek Sp 2026-000123?", "ＳＰ－２０２６－０００１２３"],
)
def test_order_number(ex: EntityExtractor, text: str) -> None:
    ents = run(ex, text)
    assert values(ents, "order_number") == ["SP-2026-000123"]
    assert values(ents, "phone") == [] and values(ents, "amount") == [] and values(ents, "quantity") == []


def test_order_number_offsets(ex: EntityExtractor) -> None:
    text = "pesanan sp 2026 000123 blm sampe"
    (e,) = run(ex, text)
    assert (e.start, e.end, e.text) == (8, 22, "sp 2026 000123")


@pytest.mark.parametrize("text", ["SP-2026-00123", "SP-26-000123", "XSP-2026-000123", "SP-2026-0001234"])
def test_not_order_numbers(ex: EntityExtractor, text: str) -> None:
    assert values(run(ex, text), "order_number") == []


# --- phones ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("hp 0812-3456-7890", "+6281234567890"),
        ("hp 081234567890", "+6281234567890"),
        ("wa +62 812 3456 7890", "+6281234567890"),
        ("wa +62812-3456-7890", "+6281234567890"),
        ("62 812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("0857.1234.567", "+628571234567"),
        ("０８１２-３４５６-７８９０", "+6281234567890"),
        ("hp 0812 3456 7890 ya, 2 pcs", "+6281234567890"),
    ],
)
def test_phone(ex: EntityExtractor, text: str, value: str) -> None:
    ents = run(ex, text)
    assert values(ents, "phone") == [value]


@pytest.mark.parametrize("text", ["08123", "0812-345", "081234567890123456", "0271-714285", "123-456-7890", "+1 415 555 0100"])
def test_not_phones(ex: EntityExtractor, text: str) -> None:
    assert values(run(ex, text), "phone") == []


def test_phone_digits_are_not_quantities_or_amounts(ex: EntityExtractor) -> None:
    ents = run(ex, "nomor sy 0812.345.678.90")
    assert [e.entity for e in ents] == ["phone"]


# --- e-mail ----------------------------------------------------------------------------

def test_email(ex: EntityExtractor) -> None:
    text = "email saya Budi.Santoso+toko@Gmail.co.id ya"
    ents = run(ex, text)
    assert values(ents, "email") == ["budi.santoso+toko@gmail.co.id"]
    assert [e.entity for e in ents] == ["email"]


def test_no_email(ex: EntityExtractor) -> None:
    assert values(run(ex, "budi@ gmail"), "email") == []


# --- quantities ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("mau 2 pcs", 2), ("mau 2pcs", 2), ("3 buah", 3), ("x2 aja", 2), ("yg biru 2x", 2), ("beli 4", 4),
        ("order 3 ya", 3), ("dua", 2), ("beli tiga buah", 3), ("sepuluh pcs", 10), ("selusin", 12),
        ("setengah lusin", 6), ("2 lusin", 24), ("sebuah", 1), ("satu pcs", 1), ("two please", 2),
        ("I want three", 3), ("a dozen", 12), ("order one", 1), ("5 pasang", 5), ("1 kodi", 20),
    ],
)
def test_quantity(ex: EntityExtractor, text: str, value: int) -> None:
    assert values(run(ex, text), "quantity") == [value]


@pytest.mark.parametrize(
    "text",
    ["dua hari lagi", "yang satu lagi", "the black one", "salah satu", "sudah 3 hari", "ukuran 42",
     "tanggal 12", "two days ago", "Rp 189.000", "189rb", "SP-2026-000123"],
)
def test_not_quantity(ex: EntityExtractor, text: str) -> None:
    assert values(run(ex, text), "quantity") == []


# --- amounts ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Rp 189.000", 189000), ("rp189.000,-", 189000), ("Rp. 189.000,00", 189000), ("IDR 189,000", 189000),
        ("189rb", 189000), ("189 ribu", 189000), ("1,5jt", 1500000), ("1.5 juta", 1500000), ("189k", 189000),
        ("2.5k", 2500), ("sudah tf 378.000", 378000), ("Rp 1.500.000", 1500000), ("rp 50rb", 50000),
        ("Ｒｐ１８９．０００", 189000),
    ],
)
def test_amount(ex: EntityExtractor, text: str, value: int) -> None:
    assert values(run(ex, text), "amount") == [value]


def test_amount_span(ex: EntityExtractor) -> None:
    text = "total Rp 189.000 ya kak"
    (e,) = run(ex, text)
    assert (e.entity, e.text) == ("amount", "Rp 189.000")


@pytest.mark.parametrize("text", ["jam 17.00", "1.5", "2 pcs", "no 12"])
def test_not_amount(ex: EntityExtractor, text: str) -> None:
    assert values(run(ex, text), "amount") == []


# --- sizes -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("kak, size L ready?", "L"), ("ukuran m ada?", "M"), ("uk xl", "XL"), ("size: xxl", "XXL"),
        ("yg S ada?", "S"), ("yang m", "M"), ("XL ready?", "XL"), ("xxxl ada", "XXXL"), ("3xl", "XXXL"),
        ("ukuran 42", "42"), ("All size ya?", "ALL SIZE"), ("uk42", "42"), ("size:m", "M"),
    ],
)
def test_size(text: str, value: str) -> None:
    assert values(run(EntityExtractor(), text), "size") == [value]


def test_size_uses_catalog_spelling(ex: EntityExtractor) -> None:
    # the catalog writes "2XL"; the customer writes "xxl"
    assert values(run(ex, "ada yg xxl?"), "size") == ["2XL"]


@pytest.mark.parametrize(
    "text",
    [
        "saya mau beli", "I'm looking", "kak m", "s&k berlaku", "email m@x.id",
        # a keyword's plural or a word that starts like one is no size ("size" + "s", "no" + "l")
        "what sizes do you have?", "sizes?", "nol kak",
    ],
)
def test_not_size(ex: EntityExtractor, text: str) -> None:
    assert values(run(ex, text), "size") == []


def test_several_sizes(ex: EntityExtractor) -> None:
    assert values(run(ex, "ada S/M/L?"), "size") == ["S", "M", "L"]


# --- colours -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yg merah", "merah"), ("red one", "merah"), ("warna hitam", "hitam"), ("black", "hitam"),
        ("putih", "putih"), ("white", "putih"), ("coklat", "coklat"), ("cokelat", "coklat"), ("brown", "coklat"),
        ("hijau", "hijau"), ("green", "hijau"), ("kuning", "kuning"), ("yellow", "kuning"), ("ungu", "ungu"),
        ("purple", "ungu"), ("navy", "navy"), ("biru dongker", "navy"), ("maroon", "maroon"), ("grey", "abu-abu"),
        ("gray", "abu-abu"), ("abu abu", "abu-abu"), ("pink", "merah muda"), ("biru muda", "biru muda"),
        ("light blue", "biru muda"), ("orange", "oranye"), ("gold", "emas"),
    ],
)
def test_color(text: str, value: str) -> None:
    assert values(run(EntityExtractor(), text), "color") == [value]


def test_color_uses_catalog_spelling(ex: EntityExtractor) -> None:
    assert values(run(ex, "yang blue ada?"), "color") == ["Biru"]
    assert values(run(ex, "yg abu2"), "color") == ["Abu-abu"]


def test_no_color_in_other_words(ex: EntityExtractor) -> None:
    assert values(run(ex, "ready kak? redaksi"), "color") == []


# --- couriers ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("pakai JNE", "JNE"), ("jne reg", "JNE"), ("J&T bisa?", "J&T"), ("jnt", "J&T"), ("j & t", "J&T"),
        ("sicepat", "SiCepat"), ("Si Cepat", "SiCepat"), ("pos indonesia", "Pos Indonesia"),
        ("kirim via pos", "Pos Indonesia"), ("gosend", "GoSend"), ("go-send", "GoSend"), ("GrabExpress", "GrabExpress"),
        ("grab express", "GrabExpress"), ("anteraja", "AnterAja"), ("Anter Aja", "AnterAja"),
    ],
)
def test_courier(ex: EntityExtractor, text: str, value: str) -> None:
    assert values(run(ex, text), "courier") == [value]


def test_no_courier(ex: EntityExtractor) -> None:
    assert values(run(ex, "ongkos kirim posisi"), "courier") == []


def test_two_couriers(ex: EntityExtractor) -> None:
    assert values(run(ex, "jne atau j&t?"), "courier") == ["JNE", "J&T"]


# --- products -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "sku"),
    [
        ("tas rotan ready?", "TAS-RTN-01"),
        ("kemeja parang ukuran L", "KMJ-PRG-01"),
        ("kmeja parang", "KMJ-PRG-01"),
        ("tas rotn", "TAS-RTN-01"),
        ("mega mendung masih ada", "DRS-MGM-01"),
        ("gaun mega mendung", "DRS-MGM-01"),
        ("kain sogan", "KN-SGN-01"),
        ("kemeja truntum", "KMJ-TRT-01"),
        ("KEMEJA BATIK KAWUNG PRIA", "KMJ-KWG-01"),
        ("KMJ-PRG-01 ada?", "KMJ-PRG-01"),
        ("sku KMJ-PRG-01-L-BIRU", "KMJ-PRG-01"),
        ("ｔａｓ ｒｏｔａｎ", "TAS-RTN-01"),
        ("tasnya rotan", "TAS-RTN-01"),
    ],
)
def test_product(ex: EntityExtractor, text: str, sku: str) -> None:
    assert values(run(ex, text), "product") == [sku]


@pytest.mark.parametrize("text", ["batik", "kemeja", "parang", "batik nya bagus", "ongkir ke sby brp", "warna biru ada?"])
def test_no_product_for_generic_or_ambiguous_words(ex: EntityExtractor, text: str) -> None:
    assert values(run(ex, text), "product") == []


def test_two_products(ex: EntityExtractor) -> None:
    assert values(run(ex, "kemeja truntum sama tas rotan"), "product") == ["KMJ-TRT-01", "TAS-RTN-01"]


def test_product_span(ex: EntityExtractor) -> None:
    text = "kak, kemeja parang nya ready?"
    ents = [e for e in run(ex, text) if e.entity == "product"]
    assert [(e.value, e.text) for e in ents] == [("KMJ-PRG-01", "kemeja parang")]


def test_no_catalog_no_products() -> None:
    assert values(EntityExtractor().extract("tas rotan ready?"), "product") == []
    assert values(EntityExtractor([]).extract("KMJ-PRG-01"), "product") == []


def test_single_product_catalog() -> None:
    ex1 = EntityExtractor([_product("TAS-1", "Tas Rotan Bulat")])
    assert values(ex1.extract("tas bulat ada?"), "product") == ["TAS-1"]
    ex2 = EntityExtractor([_product("BTK-1", "Batik Tulis")])
    assert values(ex2.extract("batik"), "product") == []


# --- whole messages, unicode, odd input ------------------------------------------------------------------

def test_full_message(ex: EntityExtractor) -> None:
    text = "sy mau pesen kemeja parang 2 pcs ukuran XL warna biru, kirim ke sby pakai jne, total Rp 378.000"
    ents = run(ex, text)
    got = {(e.entity, e.value) for e in ents}
    assert got == {("product", "KMJ-PRG-01"), ("quantity", 2), ("size", "XL"), ("color", "Biru"),
                   ("courier", "JNE"), ("amount", 378000)}
    assert [e.start for e in ents] == sorted(e.start for e in ents)


def test_no_overlap_within_a_kind(ex: EntityExtractor) -> None:
    texts = ["2 pcs x2 dua buah", "biru muda biru", "SP-2026-000123 sp 2026 000123", "jne jnt j&t", "size L L L"]
    for text in texts:
        ents = run(ex, text)
        for kind in {e.entity for e in ents}:
            spans = sorted((e.start, e.end) for e in ents if e.entity == kind)
            for (s1, e1), (s2, _) in zip(spans, spans[1:]):
                assert e1 <= s2, (text, kind, spans)


@pytest.mark.parametrize(
    "text",
    [
        "cek \u200bSP-2026-000123\u200f dong 🙏",
        "\u202bcek SP-2026-000123\u202c dong",
        "👨\u200d👩\u200d👧 cek SP-2026-000123 😀😀",
        "ｃｅｋ ＳＰ－２０２６－０００１２３",
    ],
)
def test_unicode_offsets(ex: EntityExtractor, text: str) -> None:
    ents = run(ex, text)
    assert values(ents, "order_number") == ["SP-2026-000123"]


def test_emoji_before_entities_keeps_offsets(ex: EntityExtractor) -> None:
    text = "🙏🏽🙏🏽 kak 2 pcs warna merah, jne"
    ents = run(ex, text)
    assert [(e.entity, e.text) for e in ents] == [("quantity", "2 pcs"), ("color", "merah"), ("courier", "jne")]


@pytest.mark.parametrize("text", ["", "   ", "\u200b", "🙏", "?!", "'; DROP TABLE orders; --", "<script>alert(1)</script>",
                                  "SELECT * FROM products WHERE sku = 'x' OR 1=1", "a" * 5000])
def test_odd_input(ex: EntityExtractor, text: str) -> None:
    assert run(ex, text) == []


def test_nothing_inside_urls(ex: EntityExtractor) -> None:
    text = "lihat https://toko.example/kemeja-parang?size=xl&qty=2pcs"
    assert run(ex, text) == []


def test_entity_as_dict(ex: EntityExtractor) -> None:
    (e,) = ex.extract("189rb")
    assert e.as_dict() == {"entity": "amount", "value": 189000, "start": 0, "end": 5}

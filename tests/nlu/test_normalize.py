"""Normalization: what the intent classifier sees."""

from __future__ import annotations

import pytest

from bot.nlu.normalize import clean_unicode, load_yaml_resource, normalize, normalize_word, without_greeting


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kak, ongkir ke sby brp ya?", "kak, ongkos kirim ke surabaya berapa ya?"),
        ("Kakkkk, ongkir ke SBY brp ya??", "kak, ongkos kirim ke surabaya berapa ya?"),
        ("gmn cara bayarnya", "bagaimana cara bayarnya"),
        ("gimana", "bagaimana"),
        ("ga bisa", "tidak bisa"),
        ("gak", "tidak"),
        ("nggak", "tidak"),
        ("ngga", "tidak"),
        ("enggak", "tidak"),
        ("tdk", "tidak"),
        ("gk", "tidak"),
        ("udh tf", "sudah transfer"),
        ("udah", "sudah"),
        ("sdh", "sudah"),
        ("blm sampe", "belum sampai"),
        ("yg biru dgn ukuran L", "yang biru dengan ukuran l"),
        ("sy mau order", "saya mau order"),
        ("aq", "saya"),
        ("aku", "saya"),
        ("bisa cod?", "bisa cod?"),
        ("rekber bisa?", "rekening bersama bisa?"),
        ("jg krn bs tp sm trs dr utk", "juga karena bisa tapi sama terus dari untuk"),
        ("buat kakak", "untuk kak"),
        ("jkt jogja yogya sby", "jakarta yogyakarta yogyakarta surabaya"),
        ("min, gan, sis, kakak", "kak, kak, kak, kak"),
        ("mau ngomong sama admin", "mau ngomong sama admin"),
        ("makasiiih", "terima kasih"),
        ("maaaaf", "maaf"),
        ("siapp", "siap"),
        ("kakk", "kak"),
        ("pleaseee", "please"),
        ("goooood", "good"),
        ("e-wallet", "e-wallet"),
        ("2pcs", "2 pcs"),
        ("baju2", "baju baju"),
        ("hati2nya", "hati hatinya"),
        ("abu-abu", "abu abu"),
        ("ukuran 2xl", "ukuran 2xl"),
        ("189rb", "189 ribu"),
        ("189k", "189 ribu"),
        ("1,5jt", "1,5 juta"),
        ("x2", "x 2"),
        ("ke2", "ke 2"),
        ("gk bisa buat akun", "tidak bisa membuat akun"),
        ("no rek bca brp", "nomor rekening bca berapa"),
        ("ga papa kak", "tidak apa apa kak"),
        ("wkwkwk", "haha"),
        ("thx u", "thank you"),
        ("pls", "please"),
        ("lupa pw kak", "lupa password kak"),
        ("teknisi dateng ke rmh brp", "teknisi datang ke rumah berapa"),
        ("bisa homeservice ga", "bisa home service tidak"),
        ("wow!!!!", "wow!"),
        ("  banyak    spasi \n\t baris  ", "banyak spasi baris"),
    ],
)
def test_examples(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_empty_and_blank() -> None:
    assert normalize("") == ""
    assert normalize("   \n\t ") == ""
    assert normalize("\u200b\u200d\ufeff") == ""


def test_lowercase_and_nfkc() -> None:
    assert normalize("ＯＮＧＫＩＲ") == "ongkos kirim"
    assert normalize("ｂｅｌｉ ２ｐｃｓ") == "beli 2 pcs"
    assert normalize("Ｒｐ１８９．０００") == "rp 189.000"


@pytest.mark.parametrize(
    "text",
    [
        "on\u200bgkir",  # zero-width space
        "on\u200dgkir",  # zero-width joiner
        "on\u200cgkir",  # zero-width non-joiner
        "\u200fongkir\u200e",  # RTL / LTR marks
        "\u202bongkir\u202c",  # RTL embedding
        "\ufeffongkir",  # BOM
        "ong\u00adkir",  # soft hyphen
    ],
)
def test_invisible_characters_removed(text: str) -> None:
    assert normalize(text) == "ongkos kirim"


def test_control_characters_become_spaces() -> None:
    assert normalize("ongkir\x00brp\x1b\x7f?") == "ongkos kirim berapa ?"


def test_emoji_kept() -> None:
    assert normalize("makasih kak 🙏🏽") == "terima kasih kak 🙏🏽"
    assert normalize("👍") == "👍"
    assert normalize("ok 👨\u200d👩\u200d👧") == "ok 👨👩👧"  # ZWJ sequence loses its joiners


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cek SP-2026-000123 dong", "cek SP-2026-000123 dong"),
        ("cek sp 2026 000123 dong", "cek SP-2026-000123 dong"),
        ("sp2026000123", "SP-2026-000123"),
        ("ＳＰ－２０２６－０００１２３", "SP-2026-000123"),
        ("email Budi.Santoso@Gmail.com ya", "email Budi.Santoso@Gmail.com ya"),
        ("hp 0812-3456-7890 ya", "hp 0812-3456-7890 ya"),
        ("wa +62 812 3456 7890", "wa +62 812 3456 7890"),
        ("link https://sekarayu.example/produk/ABC?x=1&y=2", "link https://sekarayu.example/produk/ABC?x=1&y=2"),
        ("www.Tokoku.co.id/Promo", "www.Tokoku.co.id/Promo"),
    ],
)
def test_protected_spans_kept(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'; DROP TABLE users; --", "'; drop table users; --"),
        ("1 OR 1=1", "1 or 1=1"),
        ("<script>alert('x')</script>", "<script>alert('x')</script>"),
        ('<a href="#">Klik</a>', '<a href="#">klik</a>'),
        ("{{ 7*7 }} ${jndi:x}", "{{ 7*7 }} ${jndi:x}"),
    ],
)
def test_code_like_text_passes_through(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_lang_argument_accepted() -> None:
    assert normalize("brp", "id") == normalize("brp", "en") == normalize("brp", None) == "berapa"


def test_deterministic_and_idempotent_on_typical_messages() -> None:
    msgs = ["kak, ongkir ke sby brp ya?", "udh tf 189rb", "mau 2pcs yg biru", "where is my order?"]
    for m in msgs:
        once = normalize(m)
        assert normalize(m) == once
        assert normalize(once) == once


def test_normalize_word() -> None:
    assert normalize_word("BRP") == "berapa"
    assert normalize_word("kakkkk") == "kak"
    assert normalize_word("wkwkwk") == "haha"
    assert normalize_word("kemeja") == "kemeja"


def test_clean_unicode_keeps_case() -> None:
    assert clean_unicode("A\u200bB\tC") == "AB C"


def test_slang_dictionary_size_and_shape() -> None:
    data = load_yaml_resource("slang_id.yml")
    slang = data["slang"]
    assert len(slang) + len(data["address_terms"]) + len(data["phrases"]) >= 250
    assert len(slang) >= 250
    for key, value in slang.items():
        assert key == key.lower() and " " not in key, key
        assert isinstance(value, str) and value == value.lower() and value.strip(), key
    for required in ("gmn", "gimana", "brp", "ga", "gak", "nggak", "ngga", "enggak", "tdk", "gk", "udh", "udah",
                     "sdh", "blm", "yg", "dgn", "sy", "aq", "aku", "tf", "ongkir", "cod", "rekber", "jg", "krn",
                     "bs", "tp", "sm", "trs", "dr", "utk", "buat", "sby", "jkt", "jogja", "yogya"):
        assert required in slang, required
    for term in ("gan", "sis", "kak", "min", "kakak"):
        assert term in data["address_terms"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mau batalin pesanan", "mau batalkan pesanan"),
        ("tolong dibungkusin ya", "tolong dibungkuskan ya"),
        ("bisa dikecilin ga", "bisa dikecilkan tidak"),
    ],
)
def test_colloquial_in_verbs(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    "text, rest",
    [
        ("halo kak mau pesan kemeja parang", "mau pesan kemeja parang"),
        ("Hi kak, how much is shipping to bandung?", "how much is shipping to bandung?"),
        ("selamat siang kak, ongkir ke bandung berapa?", "ongkir ke bandung berapa?"),
        ("pagi kak, pesanan saya belum sampai", "pesanan saya belum sampai"),
        ("Assalamualaikum kak, mau tanya ongkir", "mau tanya ongkir"),
        ("Halooo kak!! mau order", "mau order"),
        # kept whole: no greeting, a greeting and nothing else, or a time of day that is not one
        ("malam ini bisa kirim?", "malam ini bisa kirim?"),
        ("hiasan dinding ada?", "hiasan dinding ada?"),
        ("halo kak", "halo kak"),
        ("permisi", "permisi"),
    ],
)
def test_a_greeting_before_a_request_is_set_aside(text, rest):
    assert without_greeting(text) == rest

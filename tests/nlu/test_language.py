"""Language detection: a labelled set of short chat messages and the rules around it.

Accuracy on the set is asserted at >= 0.95 (it scores 235/235 at the time of
writing; the first 195 scored 194/195 on the first run, the miss was
"thank you kak", now handled by the "thank you" formula rule).
"""

from __future__ import annotations

import pytest

from bot.nlu.language import detect_language, language_scores


ID_CASES = [
    "kak, ongkir ke sby brp ya?",
    "brp ongkir ke bdg",
    "kak, size L ready?",
    "thanks kak",
    "thank you kak",
    "sorry min",
    "ok kak ditunggu",
    "halo kak",
    "pagi min, mau tanya",
    "gmn cara ordernya?",
    "udh tf kak, tolong dicek",
    "blm nyampe nih paketnya",
    "pesanan sy kok blm dikirim?",
    "bisa cod ga?",
    "rekber bisa?",
    "kemeja parang ukuran xl ada?",
    "warna biru masih ada stok?",
    "min, resi nya mana ya",
    "barangnya rusak pas nyampe",
    "saya mau komplain",
    "mau ngomong sama admin dong",
    "bisa bicara dengan cs?",
    "kapan dikirim kak?",
    "brp lama sampe ke medan?",
    "ongkir ke jogja berapa",
    "ada diskon ga kak",
    "bisa nego ga harganya",
    "sudah transfer ya kak, atas nama budi",
    "konfirmasi pembayaran SP-2026-000123",
    "cek status pesanan sp 2026 000123",
    "nomor resi saya berapa?",
    "kok lama banget sih",
    "kecewa bgt barang salah kirim",
    "ukuran M nya abis ya?",
    "yang hitam ready kak?",
    "bahannya apa ya kak?",
    "ini batik tulis atau cap?",
    "bisa kirim pakai jne?",
    "pake j&t bisa?",
    "gosend bisa kak? sy di solo",
    "tolong dibantu ya kak",
    "makasih banyak kak",
    "makasiiih kakkk",
    "terima kasih",
    "sama sama",
    "gak jadi deh",
    "batal aja kak",
    "iya kak",
    "ya betul",
    "bukan itu maksudnya",
    "tidak, terima kasih",
    "mau pesan 2 pcs",
    "beli 3 yang merah",
    "selusin berapa kak?",
    "harga grosir ada?",
    "bisa jadi reseller?",
    "syarat jadi mitra apa aja",
    "rekening bca nya berapa",
    "transfer ke mandiri bisa?",
    "bisa bayar pake ovo?",
    "bisa cicilan?",
    "akun saya ga bisa login",
    "lupa password gmn",
    "gimana cara daftar akun",
    "alamat tokonya dimana?",
    "jam buka toko jam brp",
    "minggu buka ga?",
    "barang original kan?",
    "ada garansi ga?",
    "bisa retur kalau kekecilan?",
    "gmn cara tukar ukuran",
    "refund nya kapan masuk",
    "uangnya belum dikembalikan",
    "paket sy hilang kak",
    "kurirnya blm dtg dari kemarin",
    "tracking nya ga update2",
    "status masih diproses terus",
    "udah 5 hari blm sampe",
    "bisa dikirim hari ini?",
    "kalo order skrg kapan sampe",
    "pesen sekarang bisa dikirim besok?",
    "kak aku mau order",
    "ready stock kak?",
    "mau liat katalog dong",
    "ada model lain?",
    "ada foto aslinya?",
    "boleh minta video produk",
    "kain batik sogan ada?",
    "ada kemeja pria lengan panjang?",
    "gaun batik untuk kondangan ada?",
    "tas rotan nya masih ada kak",
    "berat paketnya berapa kg",
    "free ongkir ga?",
    "ada promo apa bulan ini",
    "vouchernya ga bisa dipake",
    "kok harganya beda di web",
    "pelayanannya bagus, mantap",
    "pelayanan lambat, kecewa",
    "cs nya lama bales",
    "saran aja, packingnya lebih rapi",
    "aku mw nanya ttg pengiriman",
    "knp pesanan sy dibatalin",
    "sy udh bayar tp status blm berubah",
    "bukti tf udh sy kirim",
    "atas nama siapa rekeningnya?",
    "wkwk oke kak",
    "hehe makasih min",
    "mantul kak",
    "siap kak",
    "oke sip",
    "ditunggu kabarnya",
    "gpp kak",
    "bisa kirim ke luar negeri?",
    "kirim ke malaysia bisa ga",
    "sy di jkt, brp hari sampe",
    "alamat pengiriman mau diganti",
    "bisa ganti alamat ga kak",
    "nomor hp sy 0812-3456-7890",
    "email sy budi@gmail.com",
    "kak tolong hubungi sy di wa",
    "size chart nya ada?",
    "lingkar dada ukuran L berapa",
    "yg XL muat buat BB 80?",
    "warnanya luntur ga?",
    "cara cucinya gimana",
]

EN_CASES = [
    "can I pay by transfer bank?",
    "how much is shipping to Surabaya?",
    "thank you",
    "thanks!",
    "hello, is this item available?",
    "do you have this in size L?",
    "where is my order?",
    "I want to check my order status",
    "my order number is SP-2026-000123",
    "has my package been shipped?",
    "when will it arrive?",
    "I paid yesterday but the status has not changed",
    "I already transferred the money",
    "how do I confirm my payment?",
    "what payment methods do you accept?",
    "can I pay with credit card?",
    "do you ship internationally?",
    "can you ship to Singapore?",
    "which couriers do you use?",
    "is cash on delivery available?",
    "I want to talk to a human",
    "can I speak with an agent please",
    "the item I received is damaged",
    "you sent me the wrong size",
    "I want to return this shirt",
    "how long does a refund take?",
    "this is taking too long",
    "I'm very disappointed with the service",
    "great service, thanks a lot",
    "cancel my order please",
    "never mind",
    "yes please",
    "no thanks",
    "what are your opening hours?",
    "where is your store located?",
    "is the batik hand drawn?",
    "what material is this shirt made of?",
    "do you have it in blue?",
    "is the black one still in stock?",
    "I'd like to buy two of these",
    "I want to order 3 pieces",
    "how much for a dozen?",
    "do you offer wholesale prices?",
    "how can I become a reseller?",
    "I forgot my password",
    "I can't log in to my account",
    "how do I create an account?",
    "is there a warranty?",
    "can I exchange for a bigger size?",
    "the tracking number doesn't work",
    "my parcel is lost",
    "the courier hasn't come yet",
    "please send me the bank account number",
    "can I pay in installments?",
    "any discount for first order?",
    "is this original batik?",
    "do you have a size chart?",
    "will the color fade after washing?",
    "how should I wash it?",
    "my phone number is 0812 3456 7890",
    "please contact me at budi@example.com",
    "good morning, I have a question",
    "hi, I need help with my order",
    "what is the price of the rattan bag?",
    "could you recommend a shirt for a wedding?",
    "is free shipping available?",
    "I sent the payment receipt already",
    "the voucher code is not working",
    "why was my order cancelled?",
    "I would like to change my delivery address",
]

CASES = [(t, "id") for t in ID_CASES] + [(t, "en") for t in EN_CASES]

# No language evidence at all: the caller's default wins.
DEFAULT_CASES = ["", "   ", "123", "SP-2026-000123", "👍", "🙏🙏", "0812-3456-7890", "?!", "ok", "2 pcs"]

# A second batch, written after the detector was done and run once unchanged:
# it scored 40/40 on first run.
HELD_OUT_CASES = [
    ("kak barangnya udah sampai, thanks ya", "id"), ("pls help me track my order", "en"), ("ok thanks", "en"),
    ("sis ready ga", "id"), ("order dong", "id"), ("my size is XL", "en"), ("tolong cancel order saya", "id"),
    ("pengirimannya pakai apa?", "id"), ("how about delivery to Bali", "en"), ("apakah bisa dikirimkan hari ini", "id"),
    ("warranty berapa lama?", "id"), ("what's the warranty period", "en"), ("mau tanya dong", "id"),
    ("sudah sampe blm ya", "id"), ("shipping cost to jakarta pls", "en"), ("payment done", "en"), ("sudah bayar", "id"),
    ("is it ready stock", "en"), ("hi kak", "id"), ("hello, anyone there?", "en"), ("permisi", "id"), ("excuse me", "en"),
    ("ok min siap", "id"), ("yes", "en"), ("iya", "id"), ("nope", "en"), ("ngga", "id"), ("wkwkwk", "id"), ("good", "en"),
    ("bagus", "id"), ("checkout gagal terus", "id"), ("checkout failed", "en"), ("minta nomor rekening", "id"),
    ("send me your account number", "en"), ("hp saya ganti", "id"), ("thx min", "id"),
    ("thanks for the fast response", "en"), ("barang nya kapan dikirim kak?? udah nunggu lama bgt", "id"),
    ("I ordered last week and still nothing", "en"), ("sy org malaysia, can u ship here?", "en"),
]

ALL_CASES = CASES + HELD_OUT_CASES


def test_case_set_is_large_enough() -> None:
    assert len(ALL_CASES) >= 150
    assert sum(1 for _, lang in ALL_CASES if lang == "en") >= 50


def test_accuracy_on_labelled_set() -> None:
    wrong = [(t, lang) for t, lang in ALL_CASES if detect_language(t) != lang]
    accuracy = 1 - len(wrong) / len(ALL_CASES)
    print(f"language detection accuracy: {accuracy:.3f} on {len(ALL_CASES)} messages; wrong: {wrong}")
    assert accuracy >= 0.95, wrong


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("brp ongkir ke bdg", "id"),
        ("kak, size L ready?", "id"),
        ("can I pay by transfer bank?", "en"),
        ("thanks kak", "id"),
        ("thank you kak", "id"),
        ("thank you", "en"),
        ("sorry min", "id"),
        ("where is my order?", "en"),
        ("pesanan sy kok blm dikirim?", "id"),
    ],
)
def test_documented_examples(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", DEFAULT_CASES)
@pytest.mark.parametrize("default", ["id", "en"])
def test_no_evidence_gives_default(text: str, default: str) -> None:
    assert detect_language(text, default=default) == default  # type: ignore[arg-type]


def test_default_parameter_is_indonesian() -> None:
    assert detect_language("12345") == "id"
    assert detect_language("👍") == "id"


def test_scores_are_probabilities() -> None:
    for text in ["kak ongkir brp", "where is my order", "", "123", "thanks kak"]:
        scores = language_scores(text)
        assert set(scores) == {"id", "en"}
        assert abs(scores["id"] + scores["en"] - 1.0) < 1e-9
        assert 0.0 <= scores["id"] <= 1.0
    assert language_scores("") == {"id": 0.5, "en": 0.5}
    assert language_scores("berapa ongkos kirim ke surabaya")["id"] > 0.8
    assert language_scores("how much is the shipping to surabaya")["en"] > 0.8


def test_scores_agree_with_decision() -> None:
    for text, _ in ALL_CASES:
        scores = language_scores(text)
        lang = detect_language(text)
        if scores["id"] != scores["en"]:
            assert lang == max(scores, key=scores.__getitem__)


@pytest.mark.parametrize(
    "text",
    [
        "kak\u200b ongkir\u200d brp?",  # zero-width space / joiner
        "\u200fkak ongkir brp\u200e",  # RTL / LTR marks
        "ｋａｋ ｏｎｇｋｉｒ ｂｒｐ",  # fullwidth
        "kak ongkir brp 🙏🙏",
        "KAK ONGKIR BRP???",
    ],
)
def test_unicode_oddities_do_not_change_the_answer(text: str) -> None:
    assert detect_language(text, default="en") == "id"


def test_sql_and_html_do_not_crash() -> None:
    assert detect_language("'; DROP TABLE orders; --") in ("id", "en")
    assert detect_language("<script>alert(1)</script>") in ("id", "en")
    assert detect_language("select * from users where name = 'budi'") == "en"


@pytest.mark.parametrize("text", ["asdfgh qwerty", "noted kak", "oke noted", "gaskeun", "anjay", "ok thanks", "hmm"])
def test_a_conversation_keeps_its_language_without_clear_evidence(text: str) -> None:
    assert detect_language(text, default="id", keep=True) == "id"


@pytest.mark.parametrize(
    "text", ["where is my order?", "how much is the rattan bag", "English please", "can I pay by transfer?"]
)
def test_a_conversation_switches_language_on_clear_evidence(text: str) -> None:
    assert detect_language(text, default="id", keep=True) == "en"
    assert detect_language("berapa ongkirnya ke surabaya kak", default="en", keep=True) == "id"

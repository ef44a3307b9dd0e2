"""Valid data dirs load into the expected dataclasses."""

from __future__ import annotations

from bot.shopdata.loader import check_data_dir, load_shop
from bot.shopdata.model import FaqButton, FaqEntry, NluExample, Product, SourceRef, Variant, EntitySpan


def test_round_trip(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq)
    data_dir.write(
        "nlu/extra.yml",
        """\
        # more phrasings
        version: "3.1"
        nlu:
        - intent: faq/payment-methods
          examples: |
            - bisa bayar pake [qris](payment_method) ga
        - intent: order_status
          examples: |
            - pesanan [INV-1234](order_id) udah sampe mana
        - synonym: qris
          examples: |
            - QRIS
        - regex: order_id
          examples: |
            - INV-\\d+
        - lookup: city
          examples: |
            - Surabaya
        """,
    )
    data_dir.write(
        "catalog/products.yml",
        """\
        version: 1
        currency: IDR
        products:
          - sku: KMJ-001
            name: Kemeja Batik Parang
            category: kemeja
            price: 189000
            weight_grams: 250
            description:
              id: |
                Kemeja katun, motif parang.
              en: Cotton shirt, parang pattern.
            aliases: [kemeja parang, "batik parang"]
            variants:
              - sku: KMJ-001-M
                options: {size: M, color: biru}
                stock: 3
              - sku: KMJ-001-XL
                options: {size: XL, color: biru}
                stock: 0
                price: 199000
          - sku: SYL-7
            name: Selendang
            category: aksesoris
            price: 0
            weight_grams: 100
            description: {id: Selendang, en: Scarf}
            stock: 12
        """,
    )
    data_dir.write(
        "shop.yml",
        """\
        version: 1
        name: Batik Sekar Ayu
        tagline: {id: "Batik asli Solo", en: "Genuine Solo batik"}
        payment_deadline_days: 3
        open: yes
        couriers: [JNE, "J&T"]
        bank_accounts:
          - {bank: BCA, number: "123-456-7890"}
        """,
    )
    data_dir.write(
        "texts.yml",
        """\
        version: 1
        texts:
          greet: {id: "Halo Kak! Ada yang bisa dibantu?", en: "Hi! How can I help?"}
          fallback: {id: "Maaf, aku belum paham."}
        """,
    )
    assert check_data_dir(data_dir.root) == []
    shop = load_shop(data_dir.root)

    assert shop.data_dir == data_dir.root
    assert shop.faqs == (
        FaqEntry(
            id="payment-methods",
            category="payment",
            questions={
                "id": ("Bisa bayar pakai apa aja?", "metode pembayaran apa saja"),
                "en": ("What payment methods do you accept?",),
            },
            answer={
                "id": "Kami menerima transfer bank, e-wallet, dan COD.",
                "en": "We accept bank transfer, e-wallets and cash on delivery.",
            },
            buttons=(FaqButton(title={"id": "Nomor rekening", "en": "Bank accounts"}, payload="/faq/payment-bank"),),
            source=SourceRef("data/faq/payment.yml", 4),
        ),
        FaqEntry(
            id="payment-bank",
            category="payment",
            questions={"id": ("nomor rekening berapa?",)},
            answer={"id": "BCA 123.", "en": "BCA 123."},
            source=SourceRef("data/faq/payment.yml", 14),
        ),
    )
    assert shop.faq("payment-bank") is shop.faqs[1]
    assert shop.nlu_examples == (
        NluExample(
            "bisa bayar pake qris ga",
            "faq/payment-methods",
            (EntitySpan(16, 20, "payment_method", "qris"),),
            SourceRef("data/nlu/extra.yml", 6),
        ),
        NluExample(
            "pesanan INV-1234 udah sampe mana",
            "order_status",
            (EntitySpan(8, 16, "order_id", "INV-1234"),),
            SourceRef("data/nlu/extra.yml", 9),
        ),
    )
    assert shop.products == (
        Product(
            sku="KMJ-001",
            name="Kemeja Batik Parang",
            category="kemeja",
            price=189000,
            weight_grams=250,
            description={"id": "Kemeja katun, motif parang.", "en": "Cotton shirt, parang pattern."},
            variants=(
                Variant("KMJ-001-M", {"size": "M", "color": "biru"}, 3),
                Variant("KMJ-001-XL", {"size": "XL", "color": "biru"}, 0, 199000),
            ),
            aliases=("kemeja parang", "batik parang"),
            source=SourceRef("data/catalog/products.yml", 4),
        ),
        Product(
            sku="SYL-7",
            name="Selendang",
            category="aksesoris",
            price=0,
            weight_grams=100,
            description={"id": "Selendang", "en": "Scarf"},
            stock=12,
            source=SourceRef("data/catalog/products.yml", 22),
        ),
    )
    for example in shop.nlu_examples:
        for span in example.entities:
            assert example.text[span.start : span.end] == span.value
    assert shop.products[0].total_stock == 3
    assert type(shop.products[0].price) is int
    assert shop.shop == {
        "version": 1,
        "name": "Batik Sekar Ayu",
        "tagline": {"id": "Batik asli Solo", "en": "Genuine Solo batik"},
        "payment_deadline_days": 3,
        "open": "yes",  # YAML 1.2: yes is text, not a boolean
        "couriers": ["JNE", "J&T"],
        "bank_accounts": [{"bank": "BCA", "number": "123-456-7890"}],
    }
    assert shop.texts == {
        "greet": {"id": "Halo Kak! Ada yang bisa dibantu?", "en": "Hi! How can I help?"},
        "fallback": {"id": "Maaf, aku belum paham."},
    }


def test_faq_only_data_dir_is_complete(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq)
    shop = load_shop(data_dir.root)
    assert [f.id for f in shop.faqs] == ["payment-methods", "payment-bank"]
    assert shop.products == () and shop.nlu_examples == () and shop.texts == {} and shop.shop == {}


def test_empty_data_dir_is_clean(data_dir):
    assert check_data_dir(data_dir.root) == []
    shop = load_shop(data_dir.root)
    assert shop.faqs == ()


def test_other_files_are_ignored(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq)
    data_dir.write("faq/README.md", "not yaml: [")
    data_dir.write("faq/.#payment.yml", "editor lock: [")
    data_dir.write("secret_key", "abc")
    assert check_data_dir(data_dir.root) == []


def test_yaml_extension_is_read_too(data_dir, good_faq):
    data_dir.write("faq/payment.yaml", good_faq)
    assert len(load_shop(data_dir.root).faqs) == 2


def test_same_text_under_two_labels_is_a_warning(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq)
    data_dir.write(
        "nlu/extra.yml",
        """\
        version: "3.1"
        nlu:
        - intent: order_status
          examples: |
            - Nomor rekening berapa
        """,
    )
    problems = check_data_dir(data_dir.root)
    assert [str(p) for p in problems] == [
        "data/nlu/extra.yml:5: warning: 'Nomor rekening berapa' (order_status) is also an example of "
        "faq/payment-bank (data/faq/payment.yml:14); the same text under two labels confuses the classifier"
    ]
    assert not problems[0].is_error
    # Warnings do not stop loading.
    assert len(load_shop(data_dir.root).nlu_examples) == 1

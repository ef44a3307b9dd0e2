"""One test per kind of mistake an admin makes, asserting the exact FILE:LINE: message."""

from __future__ import annotations

import pytest

from bot.shopdata.loader import DataError, DataProblem, check_data_dir, load_shop


def lines(data_dir="data") -> list[str]:
    return [str(p) for p in check_data_dir(data_dir)]


def test_bad_yaml_reports_syntax_error_line(data_dir):
    data_dir.write(
        "faq/payment.yml",
        """\
        version: 1
        category: payment
        faqs:
          - id: payment-methods
            questions:
              id: ["bayar pakai apa"
            answer: {id: a, en: b}
        """,
    )
    assert lines() == [
        "data/faq/payment.yml:7: invalid YAML: expected ',' or ']', but got '<scalar>' "
        "(while parsing a flow sequence that started at line 6)"
    ]


def test_tab_indentation_hint(data_dir):
    data_dir.write("faq/a.yml", "version: 1\ncategory: other\nfaqs:\n  - id: x\n\tquestions: 1\n")
    assert lines() == [
        "data/faq/a.yml:5: invalid YAML: found character '\\t' that cannot start any token "
        "(while scanning for the next token); indent with spaces, not tabs"
    ]


def test_duplicate_faq_id_across_two_files(data_dir, good_faq):
    data_dir.write("faq/a-payment.yml", good_faq)
    data_dir.write(
        "faq/b-shipping.yml",
        """\
        version: 1
        category: shipping
        faqs:
          - id: shipping-cost
            questions: {id: ["ongkir berapa"]}
            answer: {id: a, en: b}
          - id: payment-methods
            questions: {id: ["ongkir ke sby"]}
            answer: {id: a, en: b}
        """,
    )
    assert lines() == [
        "data/faq/b-shipping.yml:7: duplicate FAQ id 'payment-methods' "
        "(first defined at data/faq/a-payment.yml:4)"
    ]


def test_missing_answer_language(data_dir):
    data_dir.write(
        "faq/payment.yml",
        """\
        version: 1
        category: payment
        faqs:
          - id: payment-methods
            questions:
              id: ["bayar pakai apa"]
            answer:
              id: "Transfer bank."
        """,
    )
    assert lines() == [
        "data/faq/payment.yml:7: answer is missing the 'en' text (both 'id' and 'en' are required)"
    ]


def test_unknown_key_in_faq_entry(data_dir):
    data_dir.write(
        "faq/payment.yml",
        """\
        version: 1
        category: payment
        faqs:
          - id: payment-methods
            questions:
              id: ["bayar pakai apa"]
            answr:
              id: "Transfer bank."
              en: "Bank transfer."
        """,
    )
    # The misspelt key is reported once, not again as "missing 'answer'".
    assert lines() == [
        "data/faq/payment.yml:7: unknown key 'answr' in FAQ entry 'payment-methods' "
        "(did you mean 'answer'?); allowed keys: id, questions, answer, buttons"
    ]


def test_unknown_top_level_key(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq.replace("faqs:", "faq:"))
    assert lines() == [
        "data/faq/payment.yml:3: unknown key 'faq' in an FAQ file (did you mean 'faqs'?); "
        "allowed keys: version, category, faqs"
    ]


def test_missing_required_top_level_key(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq.replace("category: payment\n", ""))
    assert lines() == ["data/faq/payment.yml:1: an FAQ file is missing the required key 'category'"]


def test_unknown_category(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq.replace("category: payment", "category: payments"))
    assert lines() == [
        "data/faq/payment.yml:2: unknown category 'payments'; "
        "allowed: product, payment, shipping, order, account, other"
    ]


def test_bad_id_characters(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq.replace("id: payment-bank", "id: Payment_Bank"))
    assert lines() == [
        "data/faq/payment.yml:14: FAQ id 'Payment_Bank' may contain only lowercase letters a-z, "
        "digits and '-'"
    ]


def test_empty_question_list_and_empty_question(data_dir):
    data_dir.write(
        "faq/payment.yml",
        """\
        version: 1
        category: payment
        faqs:
          - id: a
            questions:
              id: []
              en: ["ok", ""]
            answer: {id: a, en: b}
          - id: b
            questions: {}
            answer: {id: a, en: b}
        """,
    )
    assert lines() == [
        "data/faq/payment.yml:6: 'id' questions list is empty",
        "data/faq/payment.yml:7: a question in 'en' is empty",
        "data/faq/payment.yml:10: questions of FAQ entry 'b' need at least one language ('id' or 'en')",
    ]


def test_float_price(data_dir):
    data_dir.write(
        "catalog/products.yml",
        """\
        version: 1
        currency: IDR
        products:
          - sku: KMJ-001
            name: Kemeja Batik Parang
            category: kemeja
            price: 189000.5
            weight_grams: 250
            description: {id: "Kemeja katun.", en: "Cotton shirt."}
            stock: 4
        """,
    )
    assert lines() == [
        "data/catalog/products.yml:7: price must be a whole number of rupiah without dots, commas "
        "or quotes (like 189000), got 189000.5"
    ]


def test_price_with_thousands_separator_string(data_dir):
    data_dir.write(
        "catalog/products.yml",
        """\
        version: 1
        currency: IDR
        products:
          - sku: KMJ-001
            name: Kemeja Batik Parang
            category: kemeja
            price: "189.000"
            weight_grams: 250
            description: {id: "Kemeja katun.", en: "Cotton shirt."}
        """,
    )
    assert lines() == [
        "data/catalog/products.yml:7: price must be a whole number of rupiah without dots, commas "
        "or quotes (like 189000), got the text '189.000'"
    ]


def test_negative_stock_and_zero_weight(data_dir):
    data_dir.write(
        "catalog/products.yml",
        """\
        version: 1
        products:
          - sku: KMJ-001
            name: Kemeja
            category: kemeja
            price: 189000
            weight_grams: 0
            description: {id: a, en: b}
            stock: -2
        """,
    )
    assert lines() == [
        "data/catalog/products.yml:7: weight_grams must be at least 1, got 0",
        "data/catalog/products.yml:9: stock must be 0 or more, got -2",
    ]


def test_duplicate_sku_product_and_variant(data_dir):
    data_dir.write(
        "catalog/products.yml",
        """\
        version: 1
        currency: IDR
        products:
          - sku: KMJ-001
            name: Kemeja
            category: kemeja
            price: 189000
            weight_grams: 250
            description: {id: a, en: b}
            variants:
              - {sku: KMJ-001-M, options: {size: M}, stock: 3}
              - {sku: KMJ-001-L, options: {size: L}, stock: 0, price: 199000}
          - sku: KMJ-002
            name: Kemeja 2
            category: kemeja
            price: 150000
            weight_grams: 250
            description: {id: a, en: b}
            variants:
              - {sku: KMJ-001-M, options: {size: M}, stock: 1}
        """,
    )
    data_dir.write(
        "catalog/more.yml",
        """\
        version: 1
        products:
          - sku: KMJ-002
            name: Kemeja lagi
            category: kemeja
            price: 1
            weight_grams: 1
            description: {id: a, en: b}
        """,
    )
    # more.yml is read first (files are read in name order).
    assert lines() == [
        "data/catalog/products.yml:13: duplicate SKU 'KMJ-002' (first used at data/catalog/more.yml:3)",
        "data/catalog/products.yml:20: duplicate SKU 'KMJ-001-M' (first used at data/catalog/products.yml:11)",
    ]


def test_duplicate_variant_options(data_dir):
    data_dir.write(
        "catalog/products.yml",
        """\
        version: 1
        products:
          - sku: KMJ-001
            name: Kemeja
            category: kemeja
            price: 189000
            weight_grams: 250
            description: {id: a, en: b}
            variants:
              - {sku: KMJ-001-M, options: {size: M}, stock: 3}
              - {sku: KMJ-001-M2, options: {size: M}, stock: 3}
        """,
    )
    assert lines() == [
        "data/catalog/products.yml:11: variant 'KMJ-001-M2' has the same options (size: M) "
        "as the variant at line 10"
    ]


def test_nlu_faq_intent_must_name_an_faq(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq)
    data_dir.write(
        "nlu/faq.yml",
        """\
        version: "3.1"
        nlu:
        - intent: faq/payment-methods
          examples: |
            - bayarnya gimana kak
        - intent: faq/payment-method
          examples: |
            - bisa cod?
        """,
    )
    assert lines() == [
        "data/nlu/faq.yml:6: intent 'faq/payment-method' names no FAQ entry: "
        "there is no FAQ with id 'payment-method'"
    ]


def test_nlu_example_without_dash(data_dir):
    data_dir.write(
        "nlu/greet.yml",
        """\
        version: "3.1"
        nlu:
        - intent: greet
          examples: |
            - halo
            selamat pagi
        """,
    )
    assert lines() == ["data/nlu/greet.yml:6: example in intent 'greet' must start with '- ': 'selamat pagi'"]


def test_non_utf8_bytes(data_dir):
    data_dir.write(
        "faq/payment.yml",
        b"version: 1\ncategory: payment\nfaqs:\n  - id: caf\xe9\n",
    )
    assert lines() == [
        "data/faq/payment.yml:4: not valid UTF-8 (byte 0xe9 at column 12); save the file with UTF-8 encoding"
    ]


def test_empty_file(data_dir):
    data_dir.write("faq/payment.yml", "")
    data_dir.write("faq/shipping.yml", "# TODO: write the shipping FAQ\n")
    assert lines() == [
        "data/faq/payment.yml:1: file is empty",
        "data/faq/shipping.yml:1: file is empty (nothing but comments)",
    ]


def test_wrong_top_level_type(data_dir):
    data_dir.write(
        "faq/payment.yml",
        """\
        # a list instead of a mapping
        - id: payment-methods
          questions: {id: ["a"]}
        """,
    )
    assert lines() == [
        "data/faq/payment.yml:2: an FAQ file must be a mapping (key: value lines), got a list"
    ]


def test_wrong_nested_type(data_dir):
    data_dir.write(
        "faq/payment.yml",
        """\
        version: 1
        category: payment
        faqs:
          id: payment-methods
        """,
    )
    assert lines() == [
        "data/faq/payment.yml:4: faqs must be a list (lines starting with '- '), got a mapping"
    ]


def test_duplicate_key(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq.replace("version: 1\n", "version: 1\nversion: 1\n"))
    assert lines() == ["data/faq/payment.yml:2: duplicate key 'version' in an FAQ file (first at line 1)"]


def test_wrong_version(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq.replace("version: 1", "version: 2"))
    assert lines() == ["data/faq/payment.yml:1: version must be 1, got 2"]


def test_shop_and_texts_shapes(data_dir):
    data_dir.write(
        "shop.yml",
        """\
        version: 1
        name: Batik Sekar Ayu
        tagline: {id: "Batik asli Solo"}
        anything_else: [1, 2]
        """,
    )
    data_dir.write(
        "texts.yml",
        """\
        texts:
          greet: {id: "Halo Kak!", en: "Hi!"}
          fallback: "Maaf"
          goodbye: {idn: "Dah"}
        """,
    )
    assert lines() == [
        "data/shop.yml:3: tagline is missing the 'en' text (both 'id' and 'en' are required)",
        "data/texts.yml:3: text 'fallback' must be a mapping (key: value lines), got the text 'Maaf'",
        "data/texts.yml:4: unknown key 'idn' in text 'goodbye' (did you mean 'id'?); allowed keys: id, en",
        "data/texts.yml:4: text 'goodbye' needs an 'id' or 'en' text",
    ]


def test_a_text_the_bot_does_not_have(data_dir, good_faq):
    data_dir.write("faq/a.yml", good_faq)
    data_dir.write(
        "texts.yml",
        """        version: 1
        texts:
          greet: {id: "Halo Kak!"}
          greeet: {id: "Halo Kak, ada yang bisa dibantu?", en: "Hi!"}
          welcome_message: {id: "Selamat datang"}
        """,
    )
    assert lines() == [
        "data/texts.yml:4: 'greeet' is not one of the bot's texts (did you mean 'greet'?); "
        "the keys are those of bot/resources/texts*.yml",
        "data/texts.yml:5: 'welcome_message' is not one of the bot's texts; "
        "the keys are those of bot/resources/texts*.yml",
    ]


def test_all_problems_are_reported_and_load_shop_raises(data_dir, good_faq):
    data_dir.write("faq/a.yml", good_faq.replace("category: payment", "category: nope"))
    data_dir.write("faq/b.yml", "")
    with pytest.raises(DataError) as info:
        load_shop(data_dir.root)
    problems = info.value.problems
    assert [str(p) for p in problems] == [
        "data/faq/a.yml:2: unknown category 'nope'; allowed: product, payment, shipping, order, account, other",
        "data/faq/b.yml:1: file is empty",
    ]
    assert str(info.value).splitlines() == [str(p) for p in problems]


def test_missing_data_dir(data_dir):
    assert lines("nowhere") == ["nowhere: data dir does not exist"]


def test_paths_outside_cwd_are_absolute(tmp_path, monkeypatch):
    (tmp_path / "d" / "faq").mkdir(parents=True)
    (tmp_path / "d" / "faq" / "x.yml").write_text("", encoding="utf-8")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert lines(tmp_path / "d") == [f"{(tmp_path / 'd' / 'faq' / 'x.yml').as_posix()}:1: file is empty"]


def test_problem_str():
    assert str(DataProblem("data/faq/payment.yml", 12, "boom")) == "data/faq/payment.yml:12: boom"
    assert str(DataProblem("data/faq/x.yml", 3, "hmm", "warning")) == "data/faq/x.yml:3: warning: hmm"


def test_account_numbers_that_yaml_would_change_must_be_quoted(data_dir, good_faq):
    # Unquoted, YAML reads 0123456789 as the number 123456789: customers would be told to
    # transfer to an account number without its leading 0 (or an e-wallet without its +62).
    data_dir.write("faq/a.yml", good_faq)
    data_dir.write(
        "shop.yml",
        """\
        version: 1
        name: Batik Sekar Ayu
        bank_accounts:
          - {bank: BRI, number: 0123456789, holder: CV Sekar Ayu}
          - {bank: BCA, number: 1234567890, holder: CV Sekar Ayu}
        ewallets:
          - name: OVO
            number: +6281234567890
          - {name: DANA, number: "0812-3456-7890"}
        """,
    )
    assert lines() == [
        "data/shop.yml:4: write the 'number' of an entry of bank_accounts in quotes, like \"0123456789\": "
        "without them YAML reads it as 123456789",
        "data/shop.yml:8: write the 'number' of an entry of ewallets in quotes, like \"+6281234567890\": "
        "without them YAML reads it as 6281234567890",
    ]


def test_button_payloads_must_name_an_faq_or_an_intent(data_dir, good_faq):
    data_dir.write(
        "faq/a.yml",
        good_faq.replace('payload: "/faq/payment-bank"', 'payload: "/faq/payment-bnak"')
        + """\
  - id: payment-cod
    questions: {id: ["bisa cod?"]}
    answer: {id: "Bisa.", en: "Yes."}
    buttons:
      - {title: {id: "Admin", en: "Admin"}, payload: "/human_handof"}
      - {title: {id: "Garansi", en: "Garansi"}, payload: "/warranty_claim"}
      - {title: {id: "Pesan", en: "Pesan"}, payload: '/place_order{"product": "BTK-1"}'}
      - {title: {id: "Pesan", en: "Pesan"}, payload: "/place_order{product}"}
      - {title: {id: "Tulisan", en: "Tulisan"}, payload: "bisa kirim hari ini?"}
""",
    )
    data_dir.write("nlu/w.yml", 'version: "3.1"\nnlu:\n- intent: warranty_claim\n  examples: |\n    - klaim garansi\n')
    assert lines() == [
        "data/faq/a.yml:13: button payload '/faq/payment-bnak' names no FAQ entry: "
        "there is no FAQ with id 'payment-bnak' (did you mean 'payment-bank'?)",
        "data/faq/a.yml:24: button payload '/human_handof' names intent 'human_handof', which is neither "
        "built in nor has examples in nlu/ (did you mean 'human_handoff'?)",
        "data/faq/a.yml:27: button payload '/place_order{product}': the part in {} must be JSON "
        'like {"product": "SKU"}',
    ]


def test_a_folder_where_a_file_belongs(data_dir, good_faq):
    data_dir.write("faq/a.yml", good_faq)
    (data_dir.root / "faq" / "shipping.yml").mkdir()
    (data_dir.root / "shop.yml").mkdir()
    (data_dir.root / "tickets.yml").mkdir()
    assert lines() == [
        "data/faq/shipping.yml: 'shipping.yml' is a folder; expected a .yml file",
        "data/shop.yml: 'shop.yml' is a folder; expected a file",
        "data/tickets.yml: 'tickets.yml' is a folder; expected a file",
    ]


def test_an_unclosed_quote_is_reported_where_it_opens(data_dir):
    # YAML lets quoted text run over several lines, so the parser stumbles only where the
    # text happens to end: one line later for ", dozens of lines later for an apostrophe.
    data_dir.write(
        "faq/payment.yml",
        """\
        version: 1
        category: payment
        faqs:
          - id: payment-methods
            questions:
              id:
                - "bayar pakai apa
                - "metode pembayaran apa saja"
            answer: {id: "Transfer bank.", en: "Bank transfer."}
        """,
    )
    data_dir.write(
        "faq/shipping.yml",
        """\
        version: 1
        category: shipping
        faqs:
          - id: shipping-time
            questions:
              id:
                - 'berapa lama pengiriman
                - "paket sampai berapa hari"
                - "kirim ke jakarta berapa hari"
            answer: {id: "2-3 hari.", en: "2-3 days, that's all."}
        """,
    )
    assert lines() == [
        "data/faq/payment.yml:7: invalid YAML: the text in quotes that starts on this line is never closed; "
        'end it with " on the same line',
        "data/faq/shipping.yml:7: invalid YAML: the text in quotes that starts on this line is never closed; "
        "end it with ' on the same line (an apostrophe inside '...' is written twice: 'Kakak''s'; "
        'or use " quotes)',
    ]


def test_a_setting_misspelled_in_shop_yml_is_a_warning(data_dir, good_faq):
    # Free-form facts are allowed in shop.yml, but "payment_deadline_day" is the admin's
    # deadline silently not applied.
    data_dir.write("faq/a.yml", good_faq)
    data_dir.write(
        "shop.yml",
        """\
        version: 1
        name: Batik Sekar Ayu
        payment_deadline_day: 2
        timezon: Asia/Makassar
        legal_name: CV Sekar Ayu
        """,
    )
    assert lines() == [
        "data/shop.yml:3: warning: 'payment_deadline_day' is not a setting and is ignored; "
        "did you mean 'payment_deadline_days'?",
        "data/shop.yml:4: warning: 'timezon' is not a setting and is ignored; did you mean 'timezone'?",
    ]

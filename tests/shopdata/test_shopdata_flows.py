"""Flow files: a shop's own flows and overrides, and every mistake reported as FILE:LINE."""

from __future__ import annotations

from bot.shopdata.loader import check_data_dir, load_shop_checked

WARRANTY_FLOW = """\
version: 1
flows:
  warranty_claim:
    trigger: warranty_claim
    finish: action_handoff_details
    slots:
      - name: order_number
        type: order_number
        prompt: {id: "Nomor pesanannya, Kak?", en: "Your order number?"}
      - name: problem
        type: text
        min_length: 10
        prompt: {id: "Kerusakannya seperti apa, Kak?", en: "What's wrong with it?"}
      - name: photo
        type: image
        optional: true
        prompt: {id: "Ada fotonya, Kak?", en: "A photo, if you have one?"}
"""

WARRANTY_NLU = """\
version: "3.1"
nlu:
  - intent: warranty_claim
    examples: |
      - mau klaim garansi
      - barangnya rusak mau klaim garansi
      - I want to make a warranty claim
"""


def test_builtin_flows_are_always_there(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq)
    shop, problems = load_shop_checked(data_dir.root)
    assert problems == []
    assert {"place_order", "payment_confirmation", "order_status"} <= set(shop.flows)
    assert [s.type for s in shop.flows["order_status"].slots] == ["order_number", "contact"]


def test_a_shop_adds_its_own_flow(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq)
    data_dir.write("nlu/warranty.yml", WARRANTY_NLU)
    data_dir.write("flows/warranty.yml", WARRANTY_FLOW)
    shop, problems = load_shop_checked(data_dir.root)
    assert problems == []
    flow = shop.flows["warranty_claim"]
    assert flow.finish == "action_handoff_details"
    assert flow.slot("problem").option("min_length", 2) == 10 and flow.slot("photo").optional


def test_a_shop_overrides_a_builtin_prompt(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq)
    data_dir.write(
        "flows/status.yml",
        """\
version: 1
flows:
  order_status:
    finish: action_order_status
    slots:
      - {name: order_number, type: order_number, prompt: {id: "No. invoice-nya, Kak?", en: "Invoice number?"}}
      - {name: contact, type: contact, prompt: {id: "HP/email pemesan?", en: "Phone or e-mail?"}}
""",
    )
    shop, problems = load_shop_checked(data_dir.root)
    assert problems == []
    assert shop.flows["order_status"].slots[0].prompt["id"] == "No. invoice-nya, Kak?"


def test_mistakes_are_reported_with_their_lines(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq)
    data_dir.write(
        "flows/broken.yml",
        """\
version: 1
flows:
  claim:
    trigger: no_such_intent
    finish: action_handoff_details
    slots:
      - {name: a, type: text, prompt: {id: "A?", en: "A?"}}
  order_status:
    finish: action_order_status
    slots:
      - {name: number, type: order_number, prompt: {id: "Nomor?", en: "Number?"}}
  typo:
    finish: action_launch_rocket
    slots:
      - {name: b, type: colour, prompt: {id: "B?"}}
      - {name: c, type: text, max_lenght: 5, prompt: {id: "C?", en: "C?"}}
      - {name: d, type: integer, min: -1, prompt: {id: "D?", en: "D?"}}
""",
    )
    lines = [str(p) for p in check_data_dir(data_dir.root)]
    text = "\n".join(lines)
    assert "data/flows/broken.yml:3:" in text and "no_such_intent" in text
    assert "data/flows/broken.yml:8:" in text and "needs a 'contact' slot" in text
    assert "data/flows/broken.yml:13:" in text and "unknown finish action 'action_launch_rocket'" in text
    assert "data/flows/broken.yml:15:" in text and "unknown slot type 'colour'" in text
    assert "data/flows/broken.yml:16:" in text and "max_lenght" in text
    assert "data/flows/broken.yml:17:" in text and "min of slot 'd'" in text

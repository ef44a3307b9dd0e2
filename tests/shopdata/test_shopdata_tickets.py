"""tickets.yml: the demo's rules load, defaults without the file, mistakes as FILE:LINE."""

from __future__ import annotations

from bot.shopdata.loader import check_data_dir, load_shop_checked


def test_without_the_file_the_defaults_apply(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq)
    shop, problems = load_shop_checked(data_dir.root)
    assert problems == []
    assert [c.id for c in shop.tickets.categories][-1] == "other"
    assert shop.tickets.slas["urgent"].first_response_minutes == 15


def test_mistakes_are_reported_with_their_lines(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq)
    data_dir.write(
        "tickets.yml",
        """\
version: 1
categories:
  - {id: damaged, name: {id: Rusak, en: Damaged}, team: gudang, priority: high, words: [rusak]}
  - {id: Other!, name: {id: Lain}, team: cs, priority: someday}
teams:
  - {id: cs, name: CS, regions: {jawa: nobody}}
priorities:
  urgent: {first_response_minutes: 0, resolution_hours: 4}
""",
    )
    text = "\n".join(str(p) for p in check_data_dir(data_dir.root))
    assert "tickets.yml:3:" in text and "unknown team 'gudang'" in text
    assert "tickets.yml:4:" in text and "category id 'Other!'" in text
    assert "missing the 'en' text" in text
    assert "priority must be one of" in text
    assert "unknown team 'nobody'" in text
    assert "tickets.yml:8:" in text and "first_response_minutes must be at least 1" in text


SHIPPING = """\
version: 1
origin: surakarta
zones:
  - {id: dalam-kota}
  - {id: sumatra-bali-ntb}
couriers:
  - id: jne-reg
    name: JNE REG
    rates:
      dalam-kota: {per_kg: 8000, days: "1-2"}
      sumatra-bali-ntb: {per_kg: 28000, days: "3-5"}
cities:
  - {id: surakarta, name: Surakarta, zone: dalam-kota, aliases: [Solo]}
  - {id: medan, name: Medan, zone: sumatra-bali-ntb}
"""

TICKETS_WITH_REGIONS = """\
version: 1
categories:
  - {id: other, name: {id: Lainnya, en: Other}, team: pengiriman, priority: normal}
teams:
  - id: pengiriman
    name: Pengiriman
    regions:
      sumatera-bali-ntb: luar_jawa
      dalam-kota: pengiriman_dalam_kota
  - {id: luar_jawa, name: Luar Jawa}
"""


def test_a_region_must_be_a_zone_of_shipping_yml_and_a_team_must_exist(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq)
    data_dir.write("shipping.yml", SHIPPING)
    data_dir.write("tickets.yml", TICKETS_WITH_REGIONS)
    assert [str(p) for p in check_data_dir(data_dir.root)] == [
        "data/tickets.yml:8: team 'pengiriman' names region 'sumatera-bali-ntb', which is not a zone of "
        "data/shipping.yml (did you mean 'sumatra-bali-ntb'?); zones: dalam-kota, sumatra-bali-ntb",
        "data/tickets.yml:9: team 'pengiriman' sends region 'dalam-kota' to unknown team "
        "'pengiriman_dalam_kota'; teams: luar_jawa, pengiriman",
    ]


def test_regions_without_shipping_yml_are_a_warning(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq)
    data_dir.write("tickets.yml", TICKETS_WITH_REGIONS.replace("pengiriman_dalam_kota", "luar_jawa"))
    shop, problems = load_shop_checked(data_dir.root)
    assert shop is not None
    assert [str(p) for p in problems] == [
        "data/tickets.yml:8: warning: team 'pengiriman' has regions, but there is no shipping.yml whose "
        "zones they could name; they never apply",
        "data/tickets.yml:9: warning: team 'pengiriman' has regions, but there is no shipping.yml whose "
        "zones they could name; they never apply",
    ]


def test_a_team_may_be_named_in_each_language(data_dir, good_faq):
    data_dir.write("faq/payment.yml", good_faq)
    data_dir.write(
        "tickets.yml",
        """\
version: 1
categories:
  - {id: other, name: {id: Lainnya, en: Other}, team: keuangan, priority: normal}
teams:
  - {id: cs, name: Customer Service}
  - {id: keuangan, name: {id: Keuangan, en: Finance}}
  - {id: gudang, name: {id: Gudang}}
""",
    )
    text = "\n".join(str(p) for p in check_data_dir(data_dir.root))
    assert "tickets.yml:7:" in text and "name of team 'gudang' is missing the 'en' text" in text
    data_dir.write(
        "tickets.yml",
        """\
version: 1
categories:
  - {id: other, name: {id: Lainnya, en: Other}, team: keuangan, priority: normal}
teams:
  - {id: cs, name: Customer Service}
  - {id: keuangan, name: {id: Keuangan, en: Finance}}
""",
    )
    shop, problems = load_shop_checked(data_dir.root)
    assert problems == []
    cs, finance = shop.tickets.teams
    assert (cs.name, cs.name_in("en")) == ("Customer Service", "Customer Service")
    assert (finance.name, finance.name_in("id"), finance.name_in("en")) == ("Keuangan", "Keuangan", "Finance")


def test_the_console_names_a_transfer_s_team_in_the_customer_s_language():
    from types import SimpleNamespace

    from agent_console.tickets import TicketBridge
    from bot.shopdata.loader import load_shop
    from tests.conftest import DEMO_DATA

    shop = load_shop(DEMO_DATA)
    bridge = TicketBridge(SimpleNamespace(shop=shop, tickets=None, store=None, bus=None))  # type: ignore[arg-type]
    assert bridge.team_name("keuangan") == "Keuangan"  # the console's own label
    assert bridge.team_name("keuangan", "en") == "Finance"
    assert bridge.team_name("gudang", "id") == "Gudang & QC"
    assert bridge.team_name("unknown-team", "en") == "unknown-team"

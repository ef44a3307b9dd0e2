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

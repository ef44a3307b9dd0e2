"""shipping.yml: the reader's FILE:LINE problems, finding cities, quoting couriers."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

from bot.orders.shipping import billable_kg, find_city, quote, quotes, suggest_cities
from bot.shopdata.loader import check_data_dir, load_shop
from tests.conftest import DEMO_DATA

FAQ = """\
version: 1
category: shipping
faqs:
  - id: ongkir
    questions: {id: ["ongkir berapa"], en: ["shipping cost"]}
    answer: {id: "Tergantung kota.", en: "Depends on the city."}
"""

GOOD = """\
version: 1
origin: surakarta
zones:
  - {id: dalam-kota, name: {id: "Dalam kota"}}
  - {id: jawa}
couriers:
  - id: jne-reg
    name: JNE REG
    tracking_url: "https://cekresi.com/?noresi={tracking_number}"
    rates:
      dalam-kota: {per_kg: 8000, days: "1-2"}
      jawa: {per_kg: 14000, days: "2-3"}
  - id: gosend
    name: GoSend
    max_weight_grams: 20000
    rates:
      dalam-kota: {flat: 20000, etd: {id: "Hari ini", en: "Today"}}
cities:
  - {id: surakarta, name: Surakarta, zone: dalam-kota, aliases: [Solo]}
  - {id: surabaya, name: Surabaya, zone: jawa, aliases: [Sby]}
  - {id: jakarta, name: Jakarta, zone: jawa, aliases: [Jakarta Selatan, Jaksel]}
"""


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "faq").mkdir(parents=True)
    (tmp_path / "data" / "faq" / "a.yml").write_text(FAQ, "utf-8")
    return Path("data")


def problems(data: Path, shipping: str) -> list[str]:
    (data / "shipping.yml").write_text(textwrap.dedent(shipping), "utf-8")
    return [str(p) for p in check_data_dir(data)]


def test_a_good_file_loads(data: Path):
    assert problems(data, GOOD) == []
    rates = load_shop(data).shipping
    assert rates is not None and rates.origin == "surakarta"
    assert [c.id for c in rates.couriers] == ["jne-reg", "gosend"]
    assert rates.courier("jne-reg").rates["jawa"].etd == {"id": "2–3 hari", "en": "2–3 days"}  # type: ignore[union-attr]


def test_no_file_means_no_shipping(data: Path):
    assert load_shop(data).shipping is None


def test_the_demo_shop_ships_from_solo():
    rates = load_shop(DEMO_DATA).shipping
    assert rates is not None and rates.origin_city.name == "Surakarta"  # type: ignore[union-attr]
    assert len(rates.cities) >= 80
    assert {c.id for c in rates.couriers} >= {"jne-reg", "jne-yes", "jnt-ez", "sicepat-reg", "pos-kilat", "gosend"}


def test_unknown_zone_in_a_rate_and_a_city(data: Path):
    bad = GOOD.replace("      jawa: {per_kg: 14000", "      jawa-timur: {per_kg: 14000").replace(
        "name: Surabaya, zone: jawa,", "name: Surabaya, zone: jatim,"
    )
    assert problems(data, bad) == [
        "data/shipping.yml:12: jne-reg has a rate for unknown zone 'jawa-timur' (zones: dalam-kota, jawa)",
        "data/shipping.yml:20: unknown zone 'jatim' (zones: dalam-kota, jawa)",
    ]


def test_rates_must_be_whole_rupiah_with_a_delivery_time(data: Path):
    bad = GOOD.replace("{per_kg: 8000, days: \"1-2\"}", "{per_kg: 8.000, days: \"1-2\"}").replace(
        "{per_kg: 14000, days: \"2-3\"}", "{per_kg: 14000}"
    ).replace("{flat: 20000, etd", "{flat: 20000, per_kg: 1, etd")
    assert problems(data, bad) == [
        "data/shipping.yml:11: 'per_kg' of the rate of jne-reg for dalam-kota must be a whole number of rupiah "
        "without dots, commas or quotes (like 10000), got 8.000",
        "data/shipping.yml:12: the rate of jne-reg for jawa needs either 'days' (like \"2-3\") or 'etd' ({id: ..., en: ...})",
        "data/shipping.yml:17: the rate of gosend for dalam-kota needs either 'per_kg' (rupiah per kg) or 'flat' (rupiah per parcel)",
    ]


def test_bad_days_tracking_url_and_origin(data: Path):
    bad = (
        GOOD.replace('days: "1-2"', 'days: "3-1"')
        .replace('days: "2-3"', 'days: "besok"')
        .replace("noresi={tracking_number}", "noresi=")
        .replace("origin: surakarta", "origin: klaten")
    )
    assert problems(data, bad) == [
        "data/shipping.yml:2: origin 'klaten' is not one of the cities listed under 'cities'",
        "data/shipping.yml:9: tracking_url must be an http(s):// address containing {tracking_number}",
        "data/shipping.yml:11: 'days' of the rate of jne-reg for dalam-kota goes from 3 down to 1; write \"1-3\"",
        "data/shipping.yml:12: 'days' of the rate of jne-reg for jawa must be a number of days like \"2\" or \"2-3\", got 'besok'",
    ]


def test_duplicates_and_names_shared_by_two_cities(data: Path):
    bad = GOOD.replace(
        "  - {id: jakarta, name: Jakarta, zone: jawa, aliases: [Jakarta Selatan, Jaksel]}",
        "  - {id: jakarta, name: Jakarta, zone: jawa, aliases: [Jakarta Selatan, Jaksel, solo]}\n"
        "  - {id: surabaya, name: Kota Surabaya, zone: jawa}",
    ).replace("  - id: gosend", "  - id: jne-reg")
    assert problems(data, bad) == [
        "data/shipping.yml:13: duplicate courier 'jne-reg' (first at line 7)",
        "data/shipping.yml:21: 'solo' already names the city 'surakarta' (line 19)",
        "data/shipping.yml:22: duplicate city 'surabaya' (first at line 20)",
    ]


def test_a_misspelt_key_is_named_once(data: Path):
    bad = GOOD.replace("    name: GoSend\n", "    nama: GoSend\n")
    assert problems(data, bad) == [
        "data/shipping.yml:14: unknown key 'nama' in a courier (did you mean 'name'?); "
        "allowed keys: id, name, rates, tracking_url, max_weight_grams",
    ]


def test_a_zone_nobody_serves_is_a_warning(data: Path):
    bad = GOOD.replace("  - {id: jawa}", "  - {id: jawa}\n  - {id: papua}")
    assert problems(data, bad) == [
        "data/shipping.yml:6: warning: no courier has a rate for zone 'papua': its cities cannot be shipped to",
    ]
    assert load_shop(data).shipping is not None


def test_empty_lists(data: Path):
    assert problems(data, "version: 1\norigin: solo\nzones: []\ncouriers: []\ncities: []\n") == [
        "data/shipping.yml:2: origin 'solo' is not one of the cities listed under 'cities'",
        "data/shipping.yml:3: no zones: list at least one",
        "data/shipping.yml:4: no couriers: list at least one",
        "data/shipping.yml:5: no cities: list at least one",
    ]


def test_sapa_check_reports_shipping_problems(tmp_path: Path):
    import subprocess
    import sys

    from tests.conftest import sapa_env

    shutil.copytree(DEMO_DATA, tmp_path / "shop", ignore=shutil.ignore_patterns(".secret_key", "uploads"))
    path = tmp_path / "shop" / "shipping.yml"
    text = path.read_text("utf-8").replace("{per_kg: 8000, days: \"1-2\"}", "{per_kg: \"8.000\", days: \"1-2\"}", 1)
    path.write_text(text, "utf-8")
    line = next(i for i, l in enumerate(text.splitlines(), 1) if '"8.000"' in l)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check", "--data-dir", "shop"],
        cwd=tmp_path, env=sapa_env(tmp_path), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout.startswith(f"shop/shipping.yml:{line}: 'per_kg' of the rate of jne-reg for dalam-kota"), result.stdout


def test_shop_yml_order_settings_are_checked(data: Path):
    (data / "shop.yml").write_text(
        "version: 1\nname: Toko\npayment_deadline_days: 2.5\ntimezone: Asia/Solo\n"
        "bank_accounts:\n  - {bank: BCA, holder: Toko}\n",
        "utf-8",
    )
    assert [str(p) for p in check_data_dir(data)] == [
        "data/shop.yml:3: payment_deadline_days must be a whole number without dots, commas or quotes (like 3), got 2.5",
        "data/shop.yml:4: timezone 'Asia/Solo' is not a time zone name like Asia/Jakarta, Asia/Makassar or Asia/Jayapura",
        "data/shop.yml:6: an entry of bank_accounts is missing the required key 'number'",
    ]


# -- finding cities and quoting ---------------------------------------------------------


@pytest.fixture(scope="module")
def demo_rates():  # type: ignore[no-untyped-def]
    rates = load_shop(DEMO_DATA).shipping
    assert rates is not None
    return rates


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("Surakarta", "surakarta"),
        ("solo", "surakarta"),
        ("SOLO", "surakarta"),
        ("Kota Surakarta", "surakarta"),
        ("Jogja", "yogyakarta"),
        ("yogya", "yogyakarta"),
        ("Jakarta Selatan", "jakarta"),
        ("jaksel", "jakarta"),
        ("kak, ongkir ke sby brp ya?", "surabaya"),
        ("kirim ke Tangerang Selatan ya", "tangerang-selatan"),
        ("Kab. Sleman", "sleman"),
        ("Surabya", "surabaya"),
        ("semarng", "semarang"),
        ("Yogyakrta", "yogyakarta"),
        ("kirim ke balikpapn kak", "balikpapan"),
    ],
)
def test_find_city(demo_rates, text: str, city: str):  # type: ignore[no-untyped-def]
    found = find_city(demo_rates, text)
    assert found is not None and found.id == city


@pytest.mark.parametrize("text", ["", "   ", "xyz", "kirim malam ini", "halo kak", "12345"])
def test_find_city_says_none_rather_than_guessing(demo_rates, text: str):  # type: ignore[no-untyped-def]
    assert find_city(demo_rates, text) is None


def test_suggestions_for_a_far_off_spelling(demo_rates):  # type: ignore[no-untyped-def]
    assert "surabaya" in [c.id for c in suggest_cities(demo_rates, "surbya")]


def test_billable_weight():
    assert [billable_kg(g) for g in (0, 1, 999, 1000, 1001, 2500)] == [1, 1, 1, 1, 2, 3]


def test_quotes_in_town_and_far_away(demo_rates):  # type: ignore[no-untyped-def]
    solo = find_city(demo_rates, "solo")
    in_town = {q.courier_id: q for q in quotes(demo_rates, solo, 1200)}  # type: ignore[arg-type]
    assert in_town["jne-reg"].cost == 2 * 8000  # 1.2 kg → 2 kg
    assert in_town["gosend"].cost == 20_000  # flat
    assert in_town["gosend"].etd["id"].startswith("Hari ini")
    assert all(type(q.cost) is int for q in in_town.values())
    costs = [q.cost for q in quotes(demo_rates, solo, 1200)]  # type: ignore[arg-type]
    assert costs == sorted(costs)

    jayapura = quotes(demo_rates, "jayapura", 300)
    ids = {q.courier_id for q in jayapura}
    assert "gosend" not in ids and "jne-yes" not in ids and "jne-reg" in ids
    assert quote(demo_rates, "jayapura", 300, "jne-reg").cost == 75_000  # type: ignore[union-attr]
    assert quote(demo_rates, "jayapura", 300, "gosend") is None
    # Too heavy for the motorbike couriers.
    assert "gosend" not in {q.courier_id for q in quotes(demo_rates, solo, 25_000)}  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        quotes(demo_rates, solo, 1.5)  # type: ignore[arg-type]
    assert quotes(demo_rates, "atlantis", 1000) == []


def test_no_test_depends_on_the_working_directory():
    assert Path(os.getcwd()).exists()

"""widget.yml: defaults, `sapa check` messages, business hours, and the pieces the socket relies on."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.handlers.widget_hours import availability, schedule
from bot.handlers.widget_session import TokenSigner
from bot.ratelimit import RateLimiter
from bot.shopdata.loader import check_data_dir, load_shop
from bot.shopdata.widget import BusinessHours, WidgetLimits
from tests.conftest import DEMO_DATA, sapa_env

FAQ = """\
version: 1
category: payment
faqs:
  - id: payment-methods
    questions:
      id: ["Bisa bayar pakai apa aja?"]
    answer:
      id: "Kami menerima transfer bank."
      en: "We accept bank transfer."
"""

BROKEN = """\
version: 2
title: {id: "Chat", fr: "Bonjour"}
logo: "javascript:alert(1)"
colors: {primary: "brown", text_on_primary: "#FFF"}
position: middle
prechat: {name: yes, email: optional, age: required}
business_hours:
  timezone: Asia/Jakata
  days: {mon: "08:00-17:00", tue: "17:00-08:00", wed: "8-5", thu: "08:00-12:00, 11:00-15:00", sat: "", sun: closed}
  offline_message: {id: "Buka {next_open} {jam}"}
csat: {enabled: maybe}
allowed_origins: ["https://shop.example/path", "shop.example", "http://ok.example"]
limits: {messages_per_minute: 0, max_chars: 100000, upload_max_bytes: "5MB"}
sound: true
"""

EXPECTED = [
    "data/widget.yml:1: version must be 1, got 2",
    "data/widget.yml:2: unknown key 'fr' in title; allowed keys: id, en",
    "data/widget.yml:3: logo must be an https:// URL or a path starting with '/', got 'javascript:alert(1)'",
    "data/widget.yml:4: colors: primary must be a hex colour like \"#8B4513\" (in quotes), got 'brown'",
    "data/widget.yml:5: position must be one of right, left, got 'middle'",
    "data/widget.yml:6: unknown key 'age' in prechat; allowed keys: name, email, phone",
    "data/widget.yml:6: prechat: name must be one of off, optional, required, got 'yes'",
    "data/widget.yml:8: unknown timezone 'Asia/Jakata'; use a name like Asia/Jakarta, Asia/Makassar or Asia/Jayapura",
    "data/widget.yml:9: hours for tue must be like \"08:00-17:00\" (several separated by commas) or closed, got '17:00-08:00'",
    "data/widget.yml:9: hours for wed must be like \"08:00-17:00\" (several separated by commas) or closed, got '8-5'",
    "data/widget.yml:9: hours for thu overlap: '08:00-12:00, 11:00-15:00'",
    "data/widget.yml:9: hours for sat is empty",
    "data/widget.yml:10: offline_message (id) has an unknown placeholder {jam}; only {next_open} is filled in",
    "data/widget.yml:11: csat: enabled must be true or false, got the text 'maybe'",
    "data/widget.yml:12: allowed origin must be a scheme and host like \"https://shop.example\" (no path), got 'https://shop.example/path'",
    "data/widget.yml:12: allowed origin must be a scheme and host like \"https://shop.example\" (no path), got 'shop.example'",
    "data/widget.yml:13: limits: messages_per_minute must be at least 1, got 0",
    "data/widget.yml:13: limits: max_chars must be at most 4000, got 100000",
    "data/widget.yml:13: limits: upload_max_bytes must be a whole number without dots, commas or quotes "
    "(like 5242880), got the text '5MB'",
    "data/widget.yml:14: unknown key 'sound' in widget.yml; allowed keys: version, title, logo, colors, position, "
    "greeting, prechat, business_hours, csat, allowed_origins, limits",
]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "data"
    (root / "faq").mkdir(parents=True)
    (root / "faq" / "payment.yml").write_text(FAQ, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return root


def write(root: Path, text: str) -> None:
    (root / "widget.yml").write_text(textwrap.dedent(text), encoding="utf-8")


def test_every_mistake_is_reported_with_its_line(data_dir: Path):
    write(data_dir, BROKEN)
    assert [str(p) for p in check_data_dir(data_dir)] == EXPECTED


def test_sapa_check_prints_them_and_fails(data_dir: Path):
    write(data_dir, BROKEN)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check", "--data-dir", "data"],
        cwd=data_dir.parent, env=sapa_env(data_dir.parent), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout.splitlines() == EXPECTED


def test_without_widget_yml_the_defaults_apply(data_dir: Path):
    (data_dir / "shop.yml").write_text("version: 1\nname: Toko Uji\n", encoding="utf-8")
    widget = load_shop(data_dir).widget
    assert widget.title == {"id": "Chat dengan Toko Uji", "en": "Chat with Toko Uji"}
    assert widget.position == "right" and widget.business_hours is None and widget.allowed_origins == ()
    assert widget.prechat == {"name": "off", "email": "off", "phone": "off"}
    assert widget.limits == WidgetLimits(40, 120, 2000, 5 * 1024 * 1024)


def test_one_language_serves_both_and_origins_are_normalized(data_dir: Path):
    write(
        data_dir,
        """\
        version: 1
        greeting: {id: "Halo Kak!"}
        allowed_origins: ["HTTPS://Shop.Example/", "http://localhost:8000"]
        prechat: {phone: required}
        """,
    )
    widget = load_shop(data_dir).widget
    assert widget.greeting == {"id": "Halo Kak!", "en": "Halo Kak!"}
    assert widget.allowed_origins == ("https://shop.example", "http://localhost:8000")
    assert widget.prechat == {"name": "off", "email": "off", "phone": "required"}
    assert widget.title == {"id": "Chat dengan kami", "en": "Chat with us"}


def test_the_demo_shop_widget_file_is_valid():
    shop = load_shop(DEMO_DATA)
    assert shop.widget_config is not None and shop.widget.business_hours is not None
    assert shop.widget.prechat["name"] == "required"


JAKARTA = ZoneInfo("Asia/Jakarta")


def hours():
    from bot.shopdata.widget import BusinessHours

    weekday = ((8 * 60, 17 * 60),)
    return BusinessHours(
        timezone="Asia/Jakarta",
        days=(weekday, weekday, weekday, weekday, weekday, ((8 * 60, 14 * 60),), ()),
        offline_message={"id": "Admin membalas mulai {next_open}.", "en": "A person replies from {next_open}."},
    )


@pytest.mark.parametrize(
    ("local", "online", "id_text", "en_text"),
    [
        (datetime(2026, 1, 5, 10, 0), True, None, None),  # Monday morning
        (datetime(2026, 1, 5, 6, 30), False, "hari ini pukul 08.00 WIB", "today at 08:00 WIB"),
        (datetime(2026, 1, 5, 17, 0), False, "besok pukul 08.00 WIB", "tomorrow at 08:00 WIB"),
        (datetime(2026, 1, 10, 15, 0), False, "hari Senin pukul 08.00 WIB", "Monday at 08:00 WIB"),  # Saturday
        (datetime(2026, 1, 11, 12, 0), False, "besok pukul 08.00 WIB", "tomorrow at 08:00 WIB"),  # Sunday
    ],
)
def test_business_hours_say_when_a_person_answers(local, online, id_text, en_text):
    now = local.replace(tzinfo=JAKARTA)
    assert availability(hours(), now, "id") == (online, None if online else f"Admin membalas mulai {id_text}.")
    assert availability(hours(), now, "en") == (online, None if online else f"A person replies from {en_text}.")
    assert availability(None, now, "id") == (True, None)


def test_the_schedule_tells_the_widget_every_change_ahead():
    friday_evening = datetime(2026, 1, 9, 18, 0, 30, tzinfo=JAKARTA)
    states = schedule(hours(), friday_evening)
    hour = 3600
    assert [(s["in_seconds"], s["online"], s["offline_message"] and s["offline_message"]["id"]) for s in states] == [
        (0, False, "Admin membalas mulai besok pukul 08.00 WIB."),
        (6 * hour - 30, False, "Admin membalas mulai hari ini pukul 08.00 WIB."),  # Saturday 00:00
        (14 * hour - 30, True, None),  # Saturday 08:00
        (20 * hour - 30, False, "Admin membalas mulai hari Senin pukul 08.00 WIB."),  # Saturday 14:00
        (30 * hour - 30, False, "Admin membalas mulai besok pukul 08.00 WIB."),  # Sunday 00:00
        (54 * hour - 30, False, "Admin membalas mulai hari ini pukul 08.00 WIB."),  # Monday 00:00; then the widget asks again
    ]
    assert states[3]["offline_message"]["en"] == "A person replies from Monday at 08:00 WIB."
    # No business hours, or never open: one state, nothing to follow.
    assert schedule(None, friday_evening) == [{"in_seconds": 0, "online": True, "offline_message": None}]
    closed = BusinessHours(timezone="Asia/Jakarta", days=((),) * 7, offline_message={"id": "Mulai {next_open}.", "en": "From {next_open}."})
    assert schedule(closed, friday_evening) == [
        {"in_seconds": 0, "online": False, "offline_message": {"id": "Mulai secepatnya.", "en": "From as soon as possible."}}
    ]


def test_rate_limiter_is_a_token_bucket():
    now = [0.0]
    limiter = RateLimiter(3, 60, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")
    assert limiter.retry_after("a") == pytest.approx(20)
    now[0] += 20
    assert limiter.allow("a") and not limiter.allow("a")
    now[0] += 3600
    limiter._sweep(now[0])
    assert len(limiter) == 0


def test_tokens_are_signed_with_the_secret():
    signer = TokenSigner("s3cret")
    token, visitor = signer.new_token()
    assert signer.visitor(token) == visitor
    assert TokenSigner("other").visitor(token) is None
    for bad in (None, 7, "", token + "x", token.replace(".", ".."), "é" * 22 + "." + token.split(".")[1]):
        assert signer.visitor(bad) is None


def test_a_url_python_cannot_parse_is_reported_not_a_crash(data_dir: Path):
    write(data_dir, 'version: 1\nlogo: "http://["\nallowed_origins: ["http://[zz]", "https://ok.example"]\n')
    assert [str(p) for p in check_data_dir(data_dir)] == [
        "data/widget.yml:2: logo must be an https:// URL or a path starting with '/', got 'http://['",
        "data/widget.yml:3: allowed origin must be a scheme and host like \"https://shop.example\" (no path), "
        "got 'http://[zz]'",
    ]

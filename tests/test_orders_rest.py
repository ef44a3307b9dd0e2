"""The whole order loop over HTTP against a running `sapa run`: a customer orders in chat
(REST channel), confirms the payment with a receipt, an admin verifies and ships through the
admin API, and the customer checks the status; plus unpaid orders cancelling themselves."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import DEMO_DATA, sapa_env, start_server

ADMIN_PASSWORD = "batik-sekar-ayu-2026"


@pytest.fixture(scope="module")
def shop_server(tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("orders-rest")
    env = sapa_env(workdir, SAPA_AGENT_PASSWORD=ADMIN_PASSWORD)
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "agent", "add", "rina", "--role", "admin"],
        cwd=workdir, env=env, check=True, stdin=subprocess.DEVNULL, capture_output=True,
    )
    server = start_server(workdir, env=env)
    server.workdir = workdir  # type: ignore[attr-defined]
    server.env = env  # type: ignore[attr-defined]
    yield server
    server.stop()


class RestCustomer:
    def __init__(self, base: str, sender: str, lang: str | None = None) -> None:
        self.base, self.sender, self.lang = base, sender, lang
        self.replies: list[dict] = []

    def say(self, text: str, **metadata) -> list[dict]:
        if self.lang:
            metadata.setdefault("lang", self.lang)
        body = json.dumps({"sender": self.sender, "message": text, "metadata": metadata}).encode()
        request = urllib.request.Request(
            self.base + "/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            self.replies = json.loads(r.read())
        return self.replies

    def press(self, title_part: str) -> list[dict]:
        for reply in reversed(self.replies):
            for button in reply.get("buttons") or []:
                if title_part.lower() in button["title"].lower():
                    return self.say(button["payload"])
        raise AssertionError(f"no {title_part!r} in {[b['title'] for r in self.replies for b in r.get('buttons') or []]}")

    @property
    def text(self) -> str:
        return "\n".join(r["text"] for r in self.replies)

    def order_number(self) -> str:
        return next(w.strip("*.,") for w in self.text.split() if w.strip("*.,").startswith("SP-"))


def admin(base: str, method: str, path: str, body: dict | None = None) -> dict:
    token = base64.b64encode(f"rina:{ADMIN_PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        body = json.loads(r.read())
    return body.get("order", body)


def order_in_indonesian(customer: RestCustomer) -> str:
    customer.say("ada batik ukuran L?")
    assert "Rp" in customer.text
    customer.say("mau pesan kemeja parang L biru")
    customer.say("1")
    customer.press("Lanjut")
    customer.say("Sari Wulandari")
    customer.say("081234567890")
    customer.say("Jl. Merpati No. 5, Antapani Kidul")
    customer.say("Bandung")
    customer.press("JNE")
    customer.press("Transfer bank")
    assert "Mohon dicek" in customer.text
    customer.press("Ya, pesan")
    assert "BCA" in customer.text
    return customer.order_number()


def test_from_question_to_a_tracked_order(shop_server):
    base = shop_server.base
    sari = RestCustomer(base, "sari-rest")
    number = order_in_indonesian(sari)
    assert sari.replies[0]["custom"]["lang"] == "id"

    sari.say("sudah transfer kak")
    sari.press(number)
    sari.press("BCA")
    total = admin(base, "GET", f"/api/admin/orders/{number}")["total"]
    sari.say(str(total))
    sari.say("Sari Wulandari")
    sari.say("ini buktinya", image_url="https://bank.example/receipt/123.jpg")
    assert "sudah kami terima" in sari.text

    order = admin(base, "GET", f"/api/admin/orders/{number}")
    assert order["status"] == "payment_submitted"
    assert order["payments"][-1]["proof_url"] == "https://bank.example/receipt/123.jpg"
    admin(base, "POST", f"/api/admin/orders/{number}/verify-payment", {})
    admin(base, "POST", f"/api/admin/orders/{number}/ship", {"tracking_number": "JNE1234567890"})

    # REST cannot push: the two updates open the next answer, oldest first, once.
    sari.say("makasih kak")
    pushed = [r["text"] for r in sari.replies[:2]]
    assert "Pembayaran untuk pesanan" in pushed[0] and number in pushed[0]
    assert "sudah kami kirim" in pushed[1] and "JNE1234567890" in pushed[1]
    assert "Pembayaran untuk pesanan" not in sari.text[len(pushed[0]) :]  # each update once
    sari.say("oke")
    assert "Pembayaran untuk pesanan" not in sari.text and "JNE1234567890" not in sari.text

    sari.say("cek pesanan saya dong")
    if "Cek pesanan sekarang" in str(sari.replies):  # the FAQ's how-to, with its button
        sari.press("Cek pesanan sekarang")
    sari.press(number)
    assert "Dikirim" in sari.text and "JNE1234567890" in sari.text
    history = admin(base, "GET", f"/api/admin/orders/{number}")["events"]
    assert [e["to_status"] for e in history] == ["pending_payment", "payment_submitted", "paid", "shipped"]
    assert [e["actor"] for e in history] == ["customer", "customer", "admin:rina", "admin:rina"]


def test_an_order_in_english_over_rest(shop_server):
    john = RestCustomer(shop_server.base, "john-rest", lang="en")
    john.say("do you have batik shirts in size L?")
    john.say("I want to order the parang shirt")
    john.press("L · blue")
    john.say("1")
    john.press("delivery")
    john.say("John Smith")
    john.say("+62 812 1111 2222")
    john.say("Jl. Kemang Raya No. 8, Mampang")
    john.say("Jakarta")
    john.press("JNE")
    john.press("Bank transfer")
    assert "Please check your order" in john.text
    john.press("Yes, place")
    assert "Order number" in john.text
    assert all(r["custom"]["lang"] == "en" for r in john.replies)


def test_a_stranger_gets_nothing_and_is_locked_out(shop_server):
    owner = RestCustomer(shop_server.base, "owner-rest")
    number = order_in_indonesian(owner)
    stranger = RestCustomer(shop_server.base, "stranger-rest")
    stranger.say(f"cek pesanan {number}")
    for attempt in range(5):
        if attempt:
            stranger.say(number)
        stranger.say(f"0899000000{attempt:02d}")
        assert "Kemeja" not in stranger.text and "Sari" not in stranger.text
    assert "kunci sementara" in stranger.text
    stranger.say(f"cek pesanan {number}")
    assert "masih dikunci" in stranger.text


def test_a_new_sender_per_guess_still_runs_into_the_orders_own_lock(shop_server):
    owner = RestCustomer(shop_server.base, "owner-of-guessed-order")
    number = order_in_indonesian(owner)
    for guess in range(10):
        guesser = RestCustomer(shop_server.base, f"fresh-sender-{guess}")
        guesser.say(f"cek pesanan {number}")
        guesser.say(f"08990000{guess:04d}")
        assert "tidak cocok" in guesser.text
    lucky = RestCustomer(shop_server.base, "fresh-sender-with-the-right-phone")
    lucky.say(f"cek pesanan {number}")
    lucky.say("081234567890")
    assert "kunci sementara" in lucky.text
    assert "Kemeja" not in lucky.text and "Sari" not in lucky.text
    owner.say(f"cek pesanan {number}")
    assert "Menunggu pembayaran" in owner.text


def test_admins_find_orders_by_number_name_or_phone(shop_server):
    base = shop_server.base
    number = order_in_indonesian(RestCustomer(base, "searched-customer"))
    year_and_seq = number.removeprefix("SP-")

    def search(q: str, **more: str) -> list[str]:
        query = urllib.parse.urlencode({"q": q, **more})
        return [o["number"] for o in admin(base, "GET", f"/api/admin/orders?{query}")["orders"]]

    assert number in search(year_and_seq)
    assert number in search(number.lower())
    assert number in search("WULANDARI")  # any case
    assert number in search("+62 812-3456-7890")  # the phone however it is written
    assert number in search("0812 3456")
    assert number in search("wulandari", status="pending_payment")
    assert number not in search("wulandari", status="shipped")
    assert search("tidak ada yang bernama begini") == []
    assert search("%") == [] and search("_") == []  # literal characters, not wildcards
    assert search("' OR 1=1 --") == []
    with pytest.raises(urllib.error.HTTPError) as too_long:
        search("x" * 201)
    assert too_long.value.code == 400
    assert json.loads(too_long.value.read())["field"] == "search"


def test_unpaid_orders_cancel_themselves_with_a_reminder_first(shop_server):
    late = RestCustomer(shop_server.base, "late-payer")
    number = order_in_indonesian(late)
    assert admin(shop_server.base, "GET", f"/api/admin/orders/{number}")["status"] == "pending_payment"
    env = shop_server.env

    def sweep(at: datetime) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "order", "sweep", "--data-dir", str(DEMO_DATA), "--now", at.isoformat()],
            cwd=shop_server.workdir, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    now = datetime.now(UTC)
    assert number in sweep(now + timedelta(days=2, hours=12))  # reminded
    assert admin(shop_server.base, "GET", f"/api/admin/orders/{number}")["status"] == "pending_payment"
    assert number in sweep(now + timedelta(days=3, hours=1))  # cancelled
    order = admin(shop_server.base, "GET", f"/api/admin/orders/{number}")
    assert order["status"] == "cancelled"
    assert order["events"][-1]["actor"] == "system"
    # The customer checks and sees it; the stock came back.
    late.say(f"cek pesanan {number}")
    assert "Dibatalkan" in late.text


def test_cancel_midway_and_an_faq_in_between_over_rest(shop_server):
    rina = RestCustomer(shop_server.base, "rina-rest")
    rina.say("mau pesan tas rotan")
    rina.say("berapa lama pengiriman ke surabaya?")
    assert "hari" in rina.text  # the FAQ answer...
    assert "Tas Rotan Bulat" in rina.replies[-1]["text"]  # ...then the order's question again
    rina.say("batal")
    assert "dibatalkan" in rina.text
    rina.say("halo kak")
    assert "Halo" in rina.text  # back to normal chat, no flow question
    assert admin(shop_server.base, "GET", "/api/admin/orders?limit=200").get("orders") is not None


def test_two_customers_race_for_the_last_unit_over_http(shop_server):
    from concurrent.futures import ThreadPoolExecutor

    racers = [RestCustomer(shop_server.base, f"racer-{i}") for i in range(2)]
    for racer in racers:
        racer.say("mau pesan kemeja parang")
        racer.press("XXL · coklat")  # one unit in the demo catalog
        racer.say("1")
        racer.press("Lanjut")
        racer.say("Dewi Lestari")
        racer.say("081377788899")
        racer.say("Jl. Mawar No. 1, Kecamatan Coblong")
        racer.say("Bandung")
        racer.press("JNE")
        racer.press("Transfer bank")
        assert "Mohon dicek" in racer.text
    double_click = RestCustomer(shop_server.base, "racer-0")  # the first one's second click
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda r: r.say("/affirm"), [racers[0], racers[1], double_click]))
    won = {r.sender for r in (*racers, double_click) if "Nomor pesanan" in r.text}
    assert len(won) == 1
    orders = admin(shop_server.base, "GET", "/api/admin/orders?limit=200")["orders"]
    mine = [o for o in orders if o["customer_name"] == "Dewi Lestari"]
    assert len(mine) == 1

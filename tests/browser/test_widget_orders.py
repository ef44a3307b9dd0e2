"""Ordering in the website widget, in real Chromium: from "ada batik ukuran L?" to a paid,
shipped order whose updates arrive live, in Indonesian and in English."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.conftest import NEEDS_CHROMIUM
from tests.browser.test_widget import REPLY_TIMEOUT, Visitor, copy_demo_data, expect, png
from tests.conftest import RunningServer, sapa_env, start_server

pytestmark = NEEDS_CHROMIUM

ADMIN_PASSWORD = "widget-orders-admin-2026"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("widget-orders")
    work = root / "work"
    work.mkdir()
    env = sapa_env(work, SAPA_AGENT_PASSWORD=ADMIN_PASSWORD)
    subprocess.run([sys.executable, "-m", "bot.cli", "agent", "add", "rina", "--role", "admin"],
                   cwd=work, env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    running = start_server(work, copy_demo_data(root / "data"), env=env)
    yield running
    running.stop()


def admin(base: str, path: str, body: dict | None = None) -> dict:
    token = base64.b64encode(f"rina:{ADMIN_PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        base + path, method="GET" if body is None else "POST",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read()).get("order", {})


def press(v: Visitor, title: str) -> None:
    """Click the newest quick reply with this title and wait for the bot's answer."""
    replies = v.loc(".row.bot[data-seq]")
    before = replies.count()
    v.loc(".qr button").filter(has_text=title).last.click()
    expect(replies).not_to_have_count(before, timeout=REPLY_TIMEOUT)


def test_order_pay_and_follow_it_in_the_widget(browser, server: RunningServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    v = Visitor(browser, server.base)
    try:
        v.open_page()
        v.open_widget()
        v.pass_prechat(name="Sari Wulandari")

        v.ask("ada batik ukuran L?")
        v.expect_reply("Rp")
        press(v, "Pesan Kemeja Batik Parang")
        v.expect_reply("pilihan berikut")
        press(v, "L · biru")
        v.expect_reply("Mau pesan berapa")
        press(v, "2")
        v.expect_reply("keranjang")
        press(v, "Lanjut ke pengiriman")
        press(v, "Sari Wulandari")  # the pre-chat name, one tap away
        v.ask("0812 3456 7890")
        v.ask("Jl. Merpati No. 5, Antapani Kidul")
        # A question in the middle is answered, then the order picks up again.
        v.ask("ongkirnya berapa lama sampai kak?")
        v.expect_reply("Lanjut ya")
        v.ask("Bandung")
        v.expect_reply("Ongkir ke Bandung")
        press(v, "JNE")
        press(v, "Transfer bank")
        v.expect_reply("Mohon dicek")
        v.shot("20-order-summary")
        press(v, "Ya, pesan sekarang")
        v.expect_reply("Nomor pesanan")
        v.expect_reply("BCA")
        v.shot("21-order-placed")
        text = v.loc(".row.bot[data-seq] .bubble").filter(has_text="Nomor pesanan").last.inner_text()
        number = next(w.strip("*.,") for w in text.split() if w.strip("*.,").startswith("SP-"))

        # Payment confirmation with a photo of the receipt.
        v.ask("kak saya sudah transfer ya")
        press(v, number)
        press(v, "BCA")
        total = admin(server.base, f"/api/admin/orders/{number}")["total"]
        v.ask(str(total))
        v.ask("Sari Wulandari")
        v.expect_reply("bukti transfer")
        receipt = tmp_path / "bukti-transfer.png"
        receipt.write_bytes(png(90, 60))
        v.loc("input[type=file]").set_input_files(str(receipt))
        expect(v.loc(".sendbtn")).to_be_enabled(timeout=10_000)
        replies = v.loc(".row.bot[data-seq]")
        before = replies.count()
        v.loc(".sendbtn").click()
        expect(replies).not_to_have_count(before, timeout=REPLY_TIMEOUT)
        v.expect_reply("sudah kami terima")
        order = admin(server.base, f"/api/admin/orders/{number}")
        assert order["status"] == "payment_submitted"
        assert "/widget/uploads/" in order["payments"][-1]["proof_url"]

        # The admin verifies and ships; the customer sees both without reloading.
        admin(server.base, f"/api/admin/orders/{number}/verify-payment", {})
        v.expect_reply("sudah kami terima ✅")
        admin(server.base, f"/api/admin/orders/{number}/ship", {"tracking_number": "JNE0012345678"})
        v.expect_reply("JNE0012345678")
        v.shot("22-order-shipped-live")
        assert not v.errors
    finally:
        v.close()


def test_english_order_with_a_cancel_and_a_restart(browser, server: RunningServer) -> None:  # type: ignore[no-untyped-def]
    v = Visitor(browser, server.base, locale="en-US")
    try:
        v.open_page()
        v.open_widget()
        v.pass_prechat(name="John Smith")
        v.ask("I want to order the rattan bag")
        v.ask("cancel")
        v.expect_reply("order is cancelled")
        v.ask("I want to order the parang shirt")
        press(v, "M · blue")
        press(v, "1")
        press(v, "Go on to delivery")
        press(v, "John Smith")
        v.ask("+62 813 2222 3333")
        v.ask("Jl. Kemang Raya No. 8, Mampang Prapatan")
        v.ask("Jakarta")
        press(v, "JNE")
        press(v, "Bank transfer")
        v.expect_reply("Please check your order")
        press(v, "Yes, place the order")
        v.expect_reply("Order number")
        v.shot("23-order-english")
        assert not v.errors
    finally:
        v.close()

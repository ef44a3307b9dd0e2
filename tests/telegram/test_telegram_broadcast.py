"""Promotions reach only the Telegram customers who said yes, with a delivery report;
/stop opts out; a customer who blocked the bot is reported, not retried."""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from typing import Any

from tests.telegram.conftest import TelegramServer, TgUser

PROMO_ID = "Promo 12.12 di Batik Sekar Ayu: diskon 50% <b>semua kemeja</b> & ongkir gratis!"
PROMO_EN = "12.12 sale at Batik Sekar Ayu: 50% off *all* shirts!"


def _opt_in_with_the_button(user: TgUser) -> None:
    user.say("/start")
    _, question = user.replies(2)
    user.press(question, "Yes, please 🙌" if user.language_code == "en" else "Mau dong 🙌")
    assert "promo" in user.texts(1)[0].lower()


def _report(tg: TelegramServer, broadcast_id: int) -> dict[str, Any]:
    result = tg.sapa("telegram", "broadcast-report", str(broadcast_id), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _wait_done(tg: TelegramServer, broadcast_id: int) -> None:
    tg.fake.wait_for(
        lambda: tg.query("SELECT status FROM telegram_broadcasts WHERE id = ?", broadcast_id) == [("done",)],
        what=f"broadcast {broadcast_id} done",
    )


def _api(tg: TelegramServer, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    token = base64.b64encode(b"promo-admin:a-long-admin-password").decode()
    request = urllib.request.Request(
        tg.base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_broadcast_reaches_only_opted_in_customers(tg: TelegramServer) -> None:
    ayu = tg.user("id", "Ayu")  # says yes to the question after /start
    _opt_in_with_the_button(ayu)
    bayu = tg.user("id", "Bayu")  # opts in, then changes his mind
    bayu.say("/promo")
    bayu.replies(1)
    bayu.say("/stop")
    assert "tidak akan menerima info promo" in bayu.texts(1)[0]
    citra = tg.user("id", "Citra")  # never answers the question
    citra.say("/start")
    citra.replies(2)
    dewi = tg.user("id", "Dewi")  # opts in, then blocks the bot
    dewi.say("/promo")
    dewi.replies(1)
    tg.fake.block(dewi.chat_id)
    jane = tg.user("en", "Jane")  # opted in, but chats in English
    _opt_in_with_the_button(jane)

    assert tg.query(
        "SELECT chat_id, promo FROM telegram_chats WHERE chat_id IN (?, ?, ?, ?, ?) ORDER BY chat_id",
        ayu.chat_id, bayu.chat_id, citra.chat_id, dewi.chat_id, jane.chat_id,
    ) == sorted([(ayu.chat_id, 1), (bayu.chat_id, 0), (citra.chat_id, None), (dewi.chat_id, 1), (jane.chat_id, 1)])

    # An Indonesian promotion from the command line.
    result = tg.sapa("telegram", "broadcast", "--text", PROMO_ID, "--lang", "id")
    assert result.returncode == 0, result.stderr
    assert "queued for 2 opted-in" in result.stdout
    broadcast_id = int(re.search(r"#(\d+)", result.stdout).group(1))
    _wait_done(tg, broadcast_id)

    [promo] = [t for t in ayu.received() if "12.12" in t]
    assert promo.startswith(PROMO_ID)  # literally, markup and all
    assert "/stop" in promo.splitlines()[-1]
    for other in (bayu, citra, jane):
        assert not [t for t in other.received() if "12.12" in t]
    report = _report(tg, broadcast_id)
    assert (report["recipients"], report["sent"], report["failed"], report["blocked"], report["pending"]) == (2, 1, 0, 1, 0)
    assert report["status"] == "done" and report["lang"] == "id"
    assert tg.query("SELECT blocked_at IS NOT NULL FROM telegram_chats WHERE chat_id = ?", dewi.chat_id) == [(1,)]

    text = tg.sapa("telegram", "broadcast-report", str(broadcast_id)).stdout
    assert "sent: 1" in text and "blocked: 1" in text
    listing = tg.sapa("telegram", "broadcasts").stdout
    assert f"{broadcast_id:>5}  done" in listing

    # The admin API: an English promotion to everyone opted in; the blocked customer is skipped now.
    created = tg.sapa("agent", "add", "promo-admin", "--role", "admin", SAPA_AGENT_PASSWORD="a-long-admin-password")
    assert created.returncode == 0, created.stderr
    status, body = _api(tg, "POST", "/api/admin/telegram/broadcasts", {"text": PROMO_EN})
    assert status == 201, body
    _wait_done(tg, body["id"])
    status, report = _api(tg, "GET", f"/api/admin/telegram/broadcasts/{body['id']}")
    assert status == 200
    assert (report["recipients"], report["sent"], report["blocked"]) == (2, 2, 0)
    assert [t for t in jane.received() if t.startswith(PROMO_EN)]
    assert len([t for t in ayu.received() if "12.12" in t]) == 2
    assert not [t for t in bayu.received() if "12.12" in t]
    status, listing = _api(tg, "GET", "/api/admin/telegram/broadcasts")
    assert [b["id"] for b in listing["broadcasts"]][:2] == [body["id"], broadcast_id]
    # Bad input is refused.
    assert _api(tg, "POST", "/api/admin/telegram/broadcasts", {"text": "  "})[0] == 400
    assert _api(tg, "POST", "/api/admin/telegram/broadcasts", {"text": "x", "lang": "fr"})[0] == 400
    assert _api(tg, "GET", "/api/admin/telegram/broadcasts/999999")[0] == 404
    assert _api(tg, "GET", "/api/admin/telegram/broadcasts/" + "9" * 30)[0] == 404  # past any database id


def test_a_deep_link_can_opt_in(tg: TelegramServer) -> None:
    user = tg.user()
    user.say("/start promo")
    texts = user.texts(2)
    assert any("Info promo dari Batik Sekar Ayu nanti kami kirim" in t for t in texts)
    assert tg.query("SELECT promo FROM telegram_chats WHERE chat_id = ?", user.chat_id) == [(1,)]


def test_an_empty_broadcast_is_refused(tg: TelegramServer) -> None:
    result = tg.sapa("telegram", "broadcast", "--text", "   ")
    assert result.returncode == 1
    assert "must not be empty" in result.stderr

"""Security audit: the Telegram webhook's secret check against hostile header bytes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from tests.telegram.conftest import WEBHOOK_SECRET, TelegramServer


def test_a_secret_header_that_is_not_utf8_is_refused_with_403_not_a_500(tg: TelegramServer) -> None:
    """Before: the header's bytes reached hmac as surrogates and .encode("utf-8") raised,
    so such a request answered 500 Internal Server Error instead of 403."""
    if tg.mode == "polling":
        return  # no webhook to call
    update = {"update_id": 999_100_001, **tg.user()._message(text="halo kak")}
    # urllib writes header values as Latin-1: "\xff" goes out as the byte 0xFF.
    request = urllib.request.Request(
        tg.webhook_url,
        data=json.dumps(update).encode("utf-8"),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET[:-1] + "\xff"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read().decode("utf-8", "replace")
    assert status == 403, body
    assert json.loads(body)["error"] == "forbidden"

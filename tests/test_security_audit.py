"""Hostile input and isolation between customers, against a real `sapa run`.

One server (the demo shop, a widget.yml that lists one allowed origin, one admin account)
is shared by the module; every test talks to it over HTTP or WebSocket as a client would.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from pathlib import Path
from typing import Any, Iterator

import aiohttp
import pytest

from tests.conftest import RunningServer, sapa_env, start_server
from tests.widget.conftest import TEST_WIDGET_YML, copy_demo_data

ALLOWED_ORIGIN = "https://shop.example"
ADMIN = ("rina", "Kopi-Tubruk-88")
# Origins no browser sends, but any client may: urlsplit() raises ValueError on each.
MALFORMED_ORIGINS = ["http://[", "https://[::1", "http://[zz]", "http://shop]example"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    import subprocess
    import sys

    workdir: Path = tmp_path_factory.mktemp("security-audit")
    data = copy_demo_data(workdir / "data", TEST_WIDGET_YML)
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "agent", "add", ADMIN[0], "--role", "admin"],
        cwd=workdir,
        env=sapa_env(workdir, SAPA_AGENT_PASSWORD=ADMIN[1]),
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    running = start_server(workdir, data)
    yield running
    running.stop()


async def healthy(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.base + "/healthz") as r:
            assert r.status == 200 and await r.json() == {"status": "ok"}


async def widget_token(server: RunningServer, http: aiohttp.ClientSession) -> str:
    async with http.post(server.base + "/widget/session", json={"token": None}) as r:
        assert r.status == 200
        return (await r.json())["token"]


# -- a malformed Origin header ------------------------------------------------------------


@pytest.mark.parametrize("origin", MALFORMED_ORIGINS)
async def test_a_malformed_origin_is_refused_with_a_json_403_not_a_server_error(server: RunningServer, origin: str):
    """Before: the widget's origin check and the console's CSRF check let urlsplit's ValueError
    escape, so the request got a 500 (or, for /widget/* whose CORS hook ran into it again while
    answering, a dropped connection)."""
    async with aiohttp.ClientSession() as http:
        token = await widget_token(server, http)
        headers = {"Origin": origin}
        async with http.post(server.base + "/widget/session", json={"token": None}, headers=headers) as r:
            assert r.status == 403
            assert (await r.json())["error"] == "origin_not_allowed"
        async with http.options(server.base + "/widget/session", headers=headers) as r:
            assert r.status == 403
        form = aiohttp.FormData()
        form.add_field("file", b"\x89PNG\r\n\x1a\n" + b"\0" * 32, filename="bukti.png", content_type="image/png")
        async with http.post(f"{server.base}/widget/upload?token={token}", data=form, headers=headers) as r:
            assert r.status == 403
            assert (await r.json())["error"] == "origin_not_allowed"
        # A GET under /widget/ is not origin-checked, but its CORS hook looks at the header too.
        async with http.get(server.base + "/widget/uploads/" + "A" * 32, headers=headers) as r:
            assert r.status == 404
            assert (await r.json())["error"] == "not_found"
        ws = await http.ws_connect(f"{server.base}/widget/ws?token={token}", headers=headers)
        msg = await ws.receive(timeout=20)
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4403
        # The console: its login form and every POST compare the Origin with its own.
        async with http.post(
            server.base + "/console/login",
            data={"username": ADMIN[0], "password": ADMIN[1], "csrf_token": "x"},
            headers=headers,
            allow_redirects=False,
        ) as r:
            assert r.status == 403
            assert "Formulir kedaluwarsa" in await r.text()
        async with http.post(server.base + "/console/logout", json={}, headers=headers, allow_redirects=False) as r:
            assert r.status == 401  # no session: refused before the Origin matters
    await healthy(server)


@pytest.mark.parametrize("origin", MALFORMED_ORIGINS[:2])
async def test_a_malformed_origin_cannot_open_the_console_socket(server: RunningServer, origin: str):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await console_login(server, http)
        ws = await http.ws_connect(server.base.replace("http", "ws") + "/console/ws", headers={"Origin": origin})
        msg = await ws.receive(timeout=20)
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4403
    await healthy(server)


async def console_login(server: RunningServer, http: aiohttp.ClientSession) -> str:
    """Log the admin in; the session's CSRF token."""
    async with http.get(server.base + "/console/login") as r:
        html = await r.text()
    login_token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    async with http.post(
        server.base + "/console/login",
        data={"username": ADMIN[0], "password": ADMIN[1], "csrf_token": login_token, "next": "/console/inbox"},
        allow_redirects=False,
    ) as r:
        assert r.status == 303, await r.text()
    async with http.get(server.base + "/console/inbox") as r:
        html = await r.text()
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]


# -- the REST channel ------------------------------------------------------------------------


async def rest(server: RunningServer, body: bytes | dict[str, Any]) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with aiohttp.ClientSession() as http:
        async with http.post(
            server.base + "/webhooks/rest/webhook", data=data, headers={"Content-Type": "application/json"}
        ) as r:
            return r.status, await r.json(content_type=None)


@pytest.mark.parametrize(
    "raw_sender",
    [rb"\ud800", rb"\udfff", rb"budi\u0000", rb"budi\ud83d"],  # as a JSON body can spell them
)
async def test_a_sender_the_store_cannot_keep_apart_is_refused(server: RunningServer, raw_sender: bytes):
    """Before: NUL and lone surrogates became U+FFFD in the store, so the senders "\\ud800",
    "\\udfff" and "\\ufffd" shared one conversation (its pushed agent replies, its verified
    orders) while each was answered as if it were its own."""
    status, body = await rest(server, b'{"sender": "' + raw_sender + b'", "message": "halo kak"}')
    assert status == 400, body
    assert body["error"] == "invalid_sender" and body["message"]
    # The replacement character itself is ordinary text, and a sender of its own.
    status, replies = await rest(server, {"sender": f"\ufffd{uuid.uuid4().hex[:6]}", "message": "halo kak"})
    assert status == 200 and replies[0]["custom"]["intent"] == "greet"
    await healthy(server)


# -- the admin API -----------------------------------------------------------------------------


async def admin_api(server: RunningServer, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.request(
            method,
            server.base + path,
            data=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": "Basic " + base64.b64encode(":".join(ADMIN).encode()).decode(),
            },
        ) as r:
            text = await r.text()
            return r.status, json.loads(text) if r.content_type == "application/json" else text


async def test_a_lone_surrogate_in_an_admin_s_reason_is_stored_not_a_500(server: RunningServer):
    """Before: the order book removed control characters but passed lone surrogates on, and
    the database driver failed on them: POST …/cancel {"reason": "…\\ud800…"} answered
    500 Internal Server Error and the order stayed as it was."""
    from tests.test_orders_rest import RestCustomer, order_in_indonesian

    number = order_in_indonesian(RestCustomer(server.base, f"sec-{uuid.uuid4().hex[:8]}"))
    status, body = await admin_api(
        server, "POST", f"/api/admin/orders/{number}/cancel", rb'{"reason": "stok habis \ud800 maaf"}'
    )
    assert status == 200, body
    assert body["order"]["status"] == "cancelled"
    assert body["order"]["events"][-1]["note"] == "stok habis \ufffd maaf"
    await healthy(server)

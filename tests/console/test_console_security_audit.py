"""Console-only findings of the security audit: hostile input from an agent's own client."""

from __future__ import annotations

import aiohttp

from tests.console.conftest import ConsoleServer, new_http
from tests.console.test_console_http import handed_off, logged_in


async def test_a_lone_surrogate_in_an_agent_s_json_is_stored_as_a_replacement_character(console_server: ConsoleServer) -> None:
    """Before: JSON can spell "\\ud800" (a browser's JSON.stringify does, for a broken emoji);
    the reply failed in the database driver and the agent read "'utf-8' codec can't encode
    character '\\ud800' in position 5: surrogates not allowed" (400), and nothing was sent.
    Now it is handled as the customers' texts are: U+FFFD, and the reply reaches the widget."""
    async with new_http() as http:
        customer = await handed_off(console_server, http, "Wati")
        rina = await logged_in(console_server, http, "rina")
        status, body = await rina.act(customer.conversation_id, "reply", text="Halo \ud83d Kak Wati")
        assert status == 200, body
        reply = await customer.until(lambda e: e["type"] == "message" and e["sender_type"] == "agent")
        assert reply["text"] == "Halo \ufffd Kak Wati"
        status, body = await rina.act(customer.conversation_id, "note", text="catatan \udfff")
        assert status == 200 and body["note"]["text"] == "catatan \ufffd", body
        status, body = await rina.post("/console/views", {"name": "Antrean \ud800", "status": "any"})
        assert status == 200 and body["view"]["name"] == "Antrean \ufffd", body
        # Nested almost as deep as the JSON parser allows: a clear 400, not a 500.
        async with http.post(
            console_server.base + "/console/views",
            data=b'{"name": ' + b"[" * 900 + b"]" * 900 + b"}",
            headers={"Content-Type": "application/json", "X-CSRF-Token": rina.csrf, "Origin": rina.origin},
        ) as r:
            assert r.status == 400 and (await r.json())["error"] == "invalid_json"
        status, _ = await rina.get("/console/inbox")
        assert status == 200


# -- header bytes that are not UTF-8 --------------------------------------------------------------
# aiohttp hands such bytes to the application as surrogates ("\udcff"); no client library sends
# them, so these tests write the request themselves.


async def raw_request(server: ConsoleServer, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send one HTTP/1.1 request as bytes; the status and the whole answer."""
    import asyncio

    host, port = server.base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head + f"Host: {host}:{port}\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 20)
    writer.close()
    return int(answer.split(b" ", 2)[1]), answer


async def test_header_bytes_that_are_not_utf8_get_an_answer_not_a_500(console_server: ConsoleServer) -> None:
    """Before, each of these answered 500 Internal Server Error: a login-form cookie that is not
    UTF-8 (echoed into the form), a browser whose User-Agent is not UTF-8 logging in (stored with
    the session), an error page linking back to such a Referer, and HTTP Basic credentials that
    are not even ASCII on the admin API."""
    status, answer = await raw_request(console_server, b"GET /console/login HTTP/1.1\r\nCookie: sapa_console_login=ab\xff\xfecd\r\n")
    assert status == 200 and b'name="csrf_token"' in answer
    # The whole login, from a browser with such a User-Agent.
    async with new_http() as http:
        from tests.console.conftest import ACCOUNTS, login_form_token

        token = await login_form_token(http, console_server.base)
        cookie = next(c for c in http.cookie_jar if c.key == "sapa_console_login").value
    password = ACCOUNTS["budi"][2]
    form = f"username=budi&password={password}&csrf_token={token}&next=/console/inbox".encode()
    status, answer = await raw_request(
        console_server,
        b"POST /console/login HTTP/1.1\r\nUser-Agent: Mozilla/5.0 \xff\xfe\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nCookie: sapa_console_login=" + cookie.encode() + b"\r\n",
        form,
    )
    assert status == 303, answer
    session = next(
        line.split(b"=", 1)[1].split(b";")[0]
        for line in answer.split(b"\r\n")
        if line.lower().startswith(b"set-cookie: sapa_console=")
    )
    async with new_http() as http:
        http.cookie_jar.update_cookies({"sapa_console": session.decode()})
        async with http.get(console_server.base + "/console/inbox") as r:
            html = await r.text()
            assert r.status == 200
    csrf = html.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    # A form action that fails (no such conversation) shows an error page with a link back.
    status, answer = await raw_request(
        console_server,
        b"POST /console/conversations/999999/take HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Cookie: sapa_console=" + session + b"\r\nReferer: " + console_server.base.encode() + b"/console/inbox?q=\xff\r\n",
        b"csrf_token=" + csrf.encode(),
    )
    assert status == 403 and "ditangani tim lain".encode() in answer
    # The admin API: Basic credentials that are not base64 of anything.
    status, answer = await raw_request(console_server, b"GET /api/admin/orders HTTP/1.1\r\nAuthorization: Basic \xff\xfe\r\n")
    assert status == 401 and b'"error": "unauthorized"' in answer and b"WWW-Authenticate" in answer
    async with aiohttp.ClientSession() as http:
        async with http.get(console_server.base + "/healthz") as r:
            assert r.status == 200


def test_an_attachment_url_on_another_host_is_not_loaded_as_an_image() -> None:
    """Only this server's own paths become images; "//host/x" is another host (as in console.js)."""
    import types
    from datetime import UTC, datetime
    from pathlib import Path

    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parents[2] / "agent_console" / "templates")),
        autoescape=True,
    )
    message = types.SimpleNamespace(
        sender_type="customer", seq=1, nlu={}, text="bukti transfer", buttons=None,
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
        attachments=[{"url": "//evil.example/x.png", "name": "x.png"}, {"url": "/widget/uploads/abc", "name": "bukti.jpg"}],
    )
    html = env.get_template("_message.html").render(
        m=message, customer=None, v=types.SimpleNamespace(agent_names={}), when=lambda d, f: d.strftime(f)
    )
    assert 'src="/widget/uploads/abc"' in html
    assert "evil.example/x.png\"" not in html and '<span class="att">x.png</span>' in html

"""The agent console against a running `sapa run`: logins and sessions, CSRF, roles, and the
whole take over → reply → hand back → resolve → rating path seen from a widget customer's socket
and an agent's console socket."""

from __future__ import annotations

import re
from html import unescape

import aiohttp
import pytest

from tests.console.conftest import (
    ACCOUNTS,
    COMPLAINT_TEXT,
    HANDOFF_TEXT,
    Agent,
    ConsoleServer,
    login_form_token,
    new_http,
    widget_customer,
)

pytestmark = pytest.mark.slow


async def logged_in(server: ConsoleServer, http: aiohttp.ClientSession, username: str) -> Agent:
    agent = Agent(server, http, username)
    response = await agent.login()
    assert response.status == 303, await response.text()
    return agent


async def handed_off(server: ConsoleServer, http: aiohttp.ClientSession, name: str, text: str = HANDOFF_TEXT):
    customer = await widget_customer(server, http, name)
    await customer.say(text)
    await customer.until(lambda e: e["type"] == "status" and e["status"] == "waiting_for_agent")
    return customer


# -- logging in ------------------------------------------------------------------------------


async def test_pages_need_a_login(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        agent = Agent(console_server, http, "budi")
        status, _ = await agent.get("/console/inbox")
        assert status == 303
        for path in ("/console/conversations/1", "/console/admin/agents", "/console/admin/orders"):
            async with http.get(console_server.base + path, allow_redirects=False) as r:
                assert r.status == 303 and r.headers["Location"].startswith("/console/login?next=")
        status, body = await agent.get_json("/console/api/inbox")
        assert status == 401 and body["error"] == "unauthorized"
        status, body = await agent.post("/console/conversations/1/take", {}, csrf="x")
        assert status == 401
        ws = await http.ws_connect(console_server.ws_base + "/console/ws", headers={"Origin": console_server.base})
        msg = await ws.receive()
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4401


async def test_login_cookie_and_logout(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        agent = Agent(console_server, http, "budi")
        wrong = await agent.login("not-the-password")
        assert wrong.status == 401
        ok = await agent.login()
        assert ok.status == 303 and ok.headers["Location"] == "/console/inbox"
        cookie = ok.headers.getall("Set-Cookie")
        session_cookie = next(c for c in cookie if c.startswith("sapa_console="))
        assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie and "Path=/console" in session_cookie
        token = session_cookie.split(";")[0].split("=", 1)[1]
        # The database holds only the token's hash.
        stored = [r["id"] for r in console_server.rows("SELECT id FROM console_sessions")]
        assert token not in stored and len(stored) >= 1

        status, html = await agent.get("/console/inbox")
        assert status == 200 and "Budi" in html
        assert "default-src 'self'" in (await http.get(console_server.base + "/console/inbox")).headers["Content-Security-Policy"]

        status, body = await agent.post("/console/logout", {})
        assert status == 200 and body["ok"]
    # The old cookie no longer opens anything.
    async with new_http() as http:
        http.cookie_jar.update_cookies({"sapa_console": token}, response_url=aiohttp.client.URL(console_server.base + "/console/"))
        async with http.get(console_server.base + "/console/inbox", allow_redirects=False) as r:
            assert r.status == 303


async def test_login_form_needs_its_own_token(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        # A login posted from anywhere without the form's token (login CSRF) is refused.
        async with http.post(
            console_server.base + "/console/login",
            data={"username": "budi", "password": ACCOUNTS["budi"][2]},
            allow_redirects=False,
        ) as r:
            assert r.status == 403
        token = await login_form_token(http, console_server.base)
        async with http.post(
            console_server.base + "/console/login",
            data={"username": "budi", "password": ACCOUNTS["budi"][2], "csrf_token": token, "next": "https://evil.example/"},
            allow_redirects=False,
        ) as r:
            # Logged in, and sent to the inbox rather than to another site.
            assert r.status == 303 and r.headers["Location"] == "/console/inbox"


async def test_failed_logins_are_rate_limited_per_username(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        agent = Agent(console_server, http, "tono")
        for _ in range(5):
            r = await agent.login("salah-terus-123")
            assert r.status == 401
        r = await agent.login("salah-terus-123")
        assert r.status == 429 and int(r.headers["Retry-After"]) > 0
        # Even the right password waits now, with a friendly message.
        r = await agent.login()
        assert r.status == 429
        status, html = await agent.get("/console/inbox")
        assert status == 303
    async with new_http() as http:
        token = await login_form_token(http, console_server.base)
        async with http.post(
            console_server.base + "/console/login",
            data={"username": "tono", "password": ACCOUNTS["tono"][2], "csrf_token": token},
        ) as r:
            html = await r.text()
            assert r.status == 429
            assert "Terlalu banyak percobaan masuk" in html and "menit" in html
        # Another account from the same address still logs in.
        other = await logged_in(console_server, http, "sari")
        assert other.csrf


# -- roles and CSRF ------------------------------------------------------------------------------


async def test_agents_are_refused_on_admin_pages(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        budi = await logged_in(console_server, http, "budi")
        for path in ("/console/admin/agents", "/console/admin/canned", "/console/admin/orders",
                     "/console/admin/reports", "/console/admin/teams"):
            status, html = await budi.get(path)
            assert status == 403, path
            assert "hanya untuk admin" in html
        status, body = await budi.post("/console/admin/agents", {"username": "jahat", "password": "Sangat-Rahasia-1", "role": "admin"})
        assert status == 403
        assert not console_server.rows("SELECT id FROM agents WHERE username = 'jahat'")
        status, html = await budi.get("/console/inbox")
        assert status == 200 and "/console/admin/agents" not in html
    async with new_http() as http:
        rina = await logged_in(console_server, http, "rina")
        for path in ("/console/admin/agents", "/console/admin/canned", "/console/admin/orders",
                     "/console/admin/reports", "/console/admin/teams"):
            status, _ = await rina.get(path)
            assert status == 200, path
        # Every agent's row has its own "Simpan": a screen reader says whose.
        status, html = await rina.get("/console/admin/agents")
        assert 'aria-label="Simpan budi"' in html and 'aria-label="Simpan rina"' in html


async def test_forged_requests_are_refused(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        customer = await handed_off(console_server, http, "Dewi Lestari")
        budi = await logged_in(console_server, http, "budi")
        cid = customer.conversation_id
        # JSON without or with a wrong token.
        status, body = await budi.post(f"/console/conversations/{cid}/take", {}, csrf="")
        assert status == 403 and body["error"] == "csrf"
        status, body = await budi.post(f"/console/conversations/{cid}/take", {}, csrf="forged-token")
        assert status == 403 and body["error"] == "csrf"
        # The right token from another site's page.
        status, body = await budi.post(f"/console/conversations/{cid}/take", {}, Origin="https://evil.example")
        assert status == 403
        # A plain form without the token.
        status, html, _ = await budi.form(f"/console/conversations/{cid}/reply", {"text": "ditipu"})
        assert status == 403 and "tidak sah" in html
        assert console_server.rows("SELECT status FROM conversations WHERE id = ?", cid)[0]["status"] == "waiting_for_agent"
        assert not console_server.rows("SELECT id FROM messages WHERE conversation_id = ? AND sender_type = 'agent'", cid)
        # The same form with the token works (and answers with a redirect, no JavaScript needed).
        status, _, location = await budi.form(f"/console/conversations/{cid}/take", {"csrf_token": budi.csrf})
        assert status == 303 and location == f"/console/conversations/{cid}"
        # The socket checks the Origin, and the token on what it changes.
        ws = await http.ws_connect(console_server.ws_base + "/console/ws", headers={"Origin": "https://evil.example"})
        msg = await ws.receive()
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4403
        sock = await budi.socket()
        await sock.send(type="open", conversation_id=cid)
        await sock.until(lambda e: e["type"] == "opened")
        await sock.send(type="typing", conversation_id=cid, on=True, csrf="forged")
        error = await sock.until(lambda e: e["type"] == "error")
        assert error["code"] == "csrf"
        await sock.send(type="typing", conversation_id=cid, on=True, csrf=budi.csrf)
        typing = await customer.until(lambda e: e["type"] == "typing" and e["who"] == "agent")
        assert typing["on"] is True
        await sock.close()



async def test_malformed_requests_get_a_clear_4xx_and_the_server_keeps_serving(console_server: ConsoleServer) -> None:
    base = console_server.base
    huge = "9" * 30  # past any database integer: binding it used to fail the query with a 500
    async with new_http() as http:
        # The login form itself, before anyone is logged in.
        for body, content_type in (
            (b"--x\r\nnot a header line\r\n\r\n--x--\r\n", "multipart/form-data; boundary=x"),
            (b"username=\xff\xfe&password=x", "application/x-www-form-urlencoded"),  # raw bytes, not UTF-8
        ):
            async with http.post(base + "/console/login", data=body, headers={"Content-Type": content_type}) as r:
                assert r.status == 400 and (await r.json())["error"] == "invalid_form"

        rina = await logged_in(console_server, http, "rina")
        for path in (f"/console/conversations/{huge}", f"/console/api/conversations/{huge}/messages"):
            status, _ = await rina.get(path)
            assert status == 404, path
        for path in (
            f"/console/conversations/{huge}/take",
            f"/console/views/{huge}/delete",
            f"/console/admin/agents/{huge}",
            f"/console/admin/canned/{huge}/delete",
        ):
            status, body = await rina.post(path, {})
            assert status == 404 and body["error"] == "not_found", (path, body)

        customer = await handed_off(console_server, http, "Rudi Hartono")
        cid = customer.conversation_id
        status, body = await rina.get_json(f"/console/api/conversations/{cid}/messages?after={huge}")
        assert status == 200 and body["messages"] == []
        for transfer in ({"agent_id": int(huge)}, {"target": f"agent:{huge}"}, {"agent_id": 1e308}):
            status, body = await rina.act(cid, "transfer", **transfer)
            assert status == 400 and body["error"] == "invalid_field", (transfer, body)
        headers = {"X-CSRF-Token": rina.csrf, "Origin": rina.origin}
        async with http.post(
            base + f"/console/conversations/{cid}/transfer", data=b'{"agent_id": Infinity}',
            headers={**headers, "Content-Type": "application/json"},
        ) as r:
            assert r.status == 400 and (await r.json())["error"] == "invalid_field"
        async with http.post(
            base + f"/console/conversations/{cid}/note", data=b"[" * 5000 + b"]" * 5000,
            headers={**headers, "Content-Type": "application/json"},
        ) as r:
            assert r.status == 400 and (await r.json())["error"] == "invalid_json"
        async with http.post(
            base + f"/console/conversations/{cid}/note", data=b"--x\r\nbroken\r\n\r\n--x--\r\n",
            headers={**headers, "Content-Type": "multipart/form-data; boundary=x"},
        ) as r:
            assert r.status == 400 and (await r.json())["error"] == "invalid_form"
        # "Everything": the page clamps the dates instead of overflowing a datetime.
        status, html = await rina.get("/console/admin/reports?from=0001-01-01&to=9999-12-31")
        assert status == 200 and "percakapan" in html

        sock = await rina.socket()
        await sock.ws.send_str("[" * 3000 + "]" * 3000)  # within the frame limit, deeper than the parser recurses
        assert (await sock.until(lambda e: e["type"] == "error"))["code"] == "invalid"
        await sock.send(type="open", conversation_id=int(huge))
        assert (await sock.until(lambda e: e["type"] == "error"))["code"] == "invalid"
        await sock.send(type="open", conversation_id=cid)
        assert (await sock.until(lambda e: e["type"] == "opened"))["conversation_id"] == cid
        await sock.close()
        status, body = await rina.act(cid, "take")
        assert status == 200 and body["conversation"]["status"] == "with_agent"
        async with http.get(base + "/healthz") as r:
            assert r.status == 200


# -- the whole path ---------------------------------------------------------------------------------


async def test_take_over_reply_hand_back_resolve_and_rating(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        budi = await logged_in(console_server, http, "budi")
        sock = await budi.socket()
        # A complaint in Indonesian reaches the agent's socket without anyone reloading.
        customer = await widget_customer(console_server, http, "Rina Wulandari")
        await customer.say(COMPLAINT_TEXT)
        cid = customer.conversation_id
        row = (await sock.until(lambda e: e["type"] == "conversation" and e["row"]["id"] == cid
                                and e["row"]["status"] == "waiting_for_agent"))["row"]
        assert row["customer_name"] == "Rina Wulandari" and row["channel"] == "widget"
        status, inbox = await budi.get_json("/console/api/inbox?view=unassigned&status=people")
        assert cid in [r["id"] for r in inbox["rows"]]

        # The conversation page: the whole history, with the bot's guess at the intent.
        status, html = await budi.get(f"/console/conversations/{cid}")
        assert status == 200
        assert "sobek di lengannya" in html and 'class="nlu"' in html
        await sock.send(type="open", conversation_id=cid)
        await sock.until(lambda e: e["type"] == "opened" and e["conversation_id"] == cid)

        # Take over: the customer is told, the status changes everywhere.
        status, body = await budi.act(cid, "take")
        assert status == 200 and body["conversation"]["status"] == "with_agent"
        joined = await customer.until(lambda e: e["type"] == "message" and e["sender_type"] == "system")
        assert joined["text"].startswith("Budi (admin) bergabung")
        await customer.until(lambda e: e["type"] == "status" and e["status"] == "with_agent")
        status, body = await budi.act(cid, "take")  # again: nothing new
        assert status == 200 and body["changed"] is False

        # Reply: delivered on the customer's channel, live.
        status, body = await budi.act(cid, "reply", text="Mohon maaf Kak Rina 🙏 Boleh kirim foto kerusakannya?")
        assert status == 200 and body["messages"][0]["sender_type"] == "agent"
        reply = await customer.until(lambda e: e["type"] == "message" and e["sender_type"] == "agent")
        assert reply["text"] == "Mohon maaf Kak Rina 🙏 Boleh kirim foto kerusakannya?"

        # The customer answers: it reaches the console, and the bot stays quiet.
        ack = await customer.say("ini kak fotonya nyusul ya, jahitannya lepas")
        live = await sock.until(lambda e: e["type"] == "message" and e["seq"] == ack["seq"])
        assert live["sender_type"] == "customer" and live["text"] == "ini kak fotonya nyusul ya, jahitannya lepas"
        assert live["intent"]  # the open tab gets the NLU's guess too
        bots_after = console_server.rows(
            "SELECT id FROM messages WHERE conversation_id = ? AND sender_type = 'bot' AND seq > ?", cid, ack["seq"]
        )
        assert not bots_after

        # A private note is for the team only.
        status, body = await budi.act(cid, "note", text="Cek stok pengganti ukuran L")
        assert status == 200
        note = await sock.until(lambda e: e["type"] == "note")
        assert note["note"]["text"] == "Cek stok pengganti ukuran L"
        assert not console_server.rows("SELECT id FROM messages WHERE text LIKE '%stok pengganti%'")

        # Hand back to the bot: told, and the bot answers the next question.
        status, body = await budi.act(cid, "handback")
        assert status == 200 and body["conversation"]["status"] == "bot"
        back = await customer.until(lambda e: e["type"] == "message" and e["sender_type"] == "system"
                                    and "asisten otomatis" in e["text"])
        assert back
        ack = await customer.say("kak, bisa bayar pakai apa aja?")
        answer = await customer.until(lambda e: e["type"] == "message" and e["sender_type"] == "bot" and e["seq"] > ack["seq"])
        assert "transfer" in answer["text"].lower()

        # Back to a person, then resolve: the widget asks for the rating; the rating is stored and shown.
        await customer.say("saya mau bicara dengan admin lagi")
        await customer.until(lambda e: e["type"] == "status" and e["status"] == "waiting_for_agent")
        status, body = await budi.act(cid, "reply", text="Saya bantu lagi ya Kak")  # replying takes it over
        assert status == 200 and body["conversation"]["status"] == "with_agent"
        status, body = await budi.act(cid, "resolve")
        assert status == 200 and body["conversation"]["status"] == "resolved"
        resolved = await customer.until(lambda e: e["type"] == "status" and e["status"] == "resolved")
        assert resolved["rating_requested"] is True
        # (a lone surrogate, as a JSON frame can carry, must not stop the live event)
        await customer.send(type="rating", score=5, comment="Cepat & ramah <3\ud800")
        await customer.until(lambda e: e["type"] == "saved" and e["what"] == "rating")
        rating = await sock.until(lambda e: e["type"] == "rating" and e["conversation_id"] == cid)
        assert rating["score"] == 5 and rating["comment"] == "Cepat & ramah <3\ufffd"
        stored = console_server.rows("SELECT csat_score, csat_comment, first_agent_response_at, resolved_at FROM conversations WHERE id = ?", cid)[0]
        assert stored["csat_score"] == 5 and stored["csat_comment"] == "Cepat & ramah <3\ufffd"
        assert stored["first_agent_response_at"] and stored["resolved_at"]
        status, html = await budi.get(f"/console/conversations/{cid}")
        assert "5/5" in html and "Cepat &amp; ramah &lt;3\ufffd" in html
        # Numbers on the page: first response, wait for a person, resolution time.
        assert re.search(r"Respons pertama</dt><dd[^>]*>\d", html)
        assert re.search(r"Waktu penyelesaian</dt><dd[^>]*>\d", html)
        status, body = await budi.act(cid, "reply", text="halo?")
        assert status == 409 and body["error"] == "resolved"
        actions = [r["action"] for r in console_server.rows("SELECT action FROM conversation_actions WHERE conversation_id = ? ORDER BY id", cid)]
        assert actions == ["take_over", "hand_back", "take_over", "resolve"]
        await sock.close()


async def test_customer_text_is_shown_as_text(console_server: ConsoleServer) -> None:
    attack = '<script>alert("xss")</script><img src=x onerror=alert(1)><b>tebal</b>'
    async with new_http() as http:
        customer = await handed_off(console_server, http, '<i>Nama</i> "Jahil"')
        await customer.say(attack)
        rina = await logged_in(console_server, http, "rina")
        status, html = await rina.get(f"/console/conversations/{customer.conversation_id}")
        assert status == 200
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>tebal</b>" not in html
        assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in html or "&lt;script&gt;alert(&quot;xss&quot;)" in html
        assert "&lt;i&gt;Nama&lt;/i&gt;" in html
        # In the inbox too; and the JSON the page's script reads keeps the text as data.
        status, inbox_html = await rina.get("/console/inbox?status=any")
        assert "<i>Nama</i>" not in inbox_html and "&lt;i&gt;Nama&lt;/i&gt;" in inbox_html
        status, body = await rina.get_json(f"/console/api/conversations/{customer.conversation_id}/messages")
        assert attack in [m["text"] for m in body["messages"]]
        # The agent's own markup is stored and delivered literally as well.
        status, body = await rina.act(customer.conversation_id, "reply", text="<b>Halo</b> & selamat")
        assert status == 200
        reply = await customer.until(lambda e: e["type"] == "message" and e["sender_type"] == "agent")
        assert reply["text"] == "<b>Halo</b> & selamat"
        status, html = await rina.get(f"/console/conversations/{customer.conversation_id}")
        assert "&lt;b&gt;Halo&lt;/b&gt; &amp; selamat" in html


async def test_ticket_priority_and_status_are_shown_in_indonesian(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        customer = await handed_off(console_server, http, "Wulan Sari", COMPLAINT_TEXT)
        rina = await logged_in(console_server, http, "rina")
        status, body = await rina.act(customer.conversation_id, "fields", priority="urgent")
        assert status == 200, body
        status, html = await rina.get(f"/console/conversations/{customer.conversation_id}")
        assert status == 200
        assert '<span class="prio p-urgent">Mendesak</span>' in html  # the select's word, not the code
        ticket = re.search(r"<strong>TK-[\d-]+</strong>([^<]*)", html).group(1)  # type: ignore[union-attr]
        assert ticket.endswith(" · Mendesak · terbuka"), ticket
        status, inbox_html = await rina.get("/console/inbox?view=all&priority=urgent")
        assert status == 200 and '<span class="prio p-urgent">Mendesak</span>' in inbox_html
        assert ">urgent<" not in inbox_html


# -- who may do what -----------------------------------------------------------------------------


async def test_held_conversations_transfer_and_team_visibility(console_server: ConsoleServer) -> None:
    async with new_http() as h1, new_http() as h2, new_http() as h3:
        rina = await logged_in(console_server, h1, "rina")
        budi = await logged_in(console_server, h2, "budi")
        sari = await logged_in(console_server, h3, "sari")
        customer = await handed_off(console_server, h1, "Agus Salim")
        cid = customer.conversation_id
        assert (await budi.act(cid, "take"))[0] == 200
        # Another agent cannot barge in; an admin can.
        status, body = await sari.act(cid, "take")
        assert status == 409 and body["error"] == "held_by_other"
        status, body = await sari.act(cid, "reply", text="saya ambil ya")
        assert status == 409

        # Transfer to another agent: she holds it now, the customer is told.
        status, body = await budi.act(cid, "transfer", target=f"agent:{sari.id}")
        assert status == 200
        told = await customer.until(lambda e: e["type"] == "message" and e["sender_type"] == "system" and "Sari" in e["text"])
        assert "dilanjutkan oleh Sari" in told["text"]
        status, inbox = await sari.get_json("/console/api/inbox?view=mine")
        assert cid in [r["id"] for r in inbox["rows"]]
        assert (await sari.act(cid, "reply", text="Halo Kak Agus, saya Sari"))[0] == 200

        # Teams: once a team has members, its conversations are for them (and admins) only.
        status, _ = await rina.post(f"/console/admin/agents/{sari.id}", {"teams": ["keuangan"], "set_teams": "1"})
        assert status == 200
        status, _ = await rina.post(f"/console/admin/agents/{budi.id}", {"teams": ["gudang"], "set_teams": "1"})
        assert status == 200
        status, body = await sari.act(cid, "transfer", target="team:keuangan")
        assert status == 200
        await customer.until(lambda e: e["type"] == "status" and e["status"] == "waiting_for_agent")
        assert console_server.rows("SELECT agent_id, team FROM conversation_assignments WHERE conversation_id = ?", cid)[0]["team"] == "keuangan"
        await budi.refresh_csrf()
        status, html = await budi.get(f"/console/conversations/{cid}")
        assert status == 403 and "Agus Salim" not in html
        status, inbox = await budi.get_json("/console/api/inbox?status=any")
        assert cid not in [r["id"] for r in inbox["rows"]]
        status, body = await budi.get_json(f"/console/api/conversations/{cid}/messages")
        assert status == 403
        status, body = await budi.act(cid, "take")
        assert status == 403
        status, inbox = await sari.get_json("/console/api/inbox?view=teams")
        assert cid in [r["id"] for r in inbox["rows"]]
        status, _ = await rina.get(f"/console/conversations/{cid}")
        assert status == 200
        # Clean up the memberships for the other tests.
        for agent in (sari, budi):
            await rina.post(f"/console/admin/agents/{agent.id}", {"set_teams": "1"})


async def test_saved_views_and_filters(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        budi = await logged_in(console_server, http, "budi")
        status, body = await budi.post("/console/views", {"name": "Widget menunggu", "view": "all", "status": "waiting_for_agent", "channel": "widget"})
        assert status == 200
        view = body["view"]
        assert view["filters"] == {"view": "all", "status": "waiting_for_agent", "channel": "widget"}
        status, html = await budi.get("/console/inbox")
        assert "Widget menunggu" in html
        customer = await handed_off(console_server, http, "Wati")
        status, inbox = await budi.get_json(f"/console/api/inbox?saved={view['id']}")
        rows = inbox["rows"]
        assert customer.conversation_id in [r["id"] for r in rows]
        assert all(r["status"] == "waiting_for_agent" and r["channel"] == "widget" for r in rows)
        # Waiting conversations come oldest handoff first.
        handoffs = [r["handoff_at"] for r in rows]
        assert handoffs == sorted(handoffs)
        status, inbox = await budi.get_json("/console/api/inbox?channel=telegram&status=any")
        assert all(r["channel"] == "telegram" for r in inbox["rows"])
        # Another agent does not see Budi's views.
        async with new_http() as other:
            sari = await logged_in(console_server, other, "sari")
            status, html = await sari.get("/console/inbox")
            assert "Widget menunggu" not in html
            status, _ = await sari.post(f"/console/views/{view['id']}/delete", {})
        status, html = await budi.get("/console/inbox")
        assert "Widget menunggu" in html
        status, _ = await budi.post(f"/console/views/{view['id']}/delete", {})
        assert status == 200
        status, html = await budi.get("/console/inbox")
        assert "Widget menunggu" not in html


async def test_canned_responses_fill_their_placeholders(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        rina = await logged_in(console_server, http, "rina")
        status, body = await rina.post("/console/admin/canned", {
            "shortcut": "salam", "title": "Salam pembuka", "lang": "id",
            "text": "Halo Kak {customer_name}, saya {agent_name} dari {shop_name}. {unknown} tetap.",
        })
        assert status == 200, body
        status, body = await rina.post("/console/admin/canned", {"shortcut": "salam", "title": "x", "text": "y"})
        assert status == 409 and body["error"] == "duplicate"
        status, body = await rina.post("/console/admin/canned", {"shortcut": "Bad Shortcut", "title": "x", "text": "y"})
        assert status == 400
        customer = await handed_off(console_server, http, "Putri")
        budi_http = new_http()
        async with budi_http:
            budi = await logged_in(console_server, budi_http, "budi")
            status, body = await budi.get_json(f"/console/api/conversations/{customer.conversation_id}/canned")
            assert status == 200
            texts = [c["text"] for c in body["canned"] if c["shortcut"] == "salam"]
            assert texts == ["Halo Kak Putri, saya Budi dari Batik Sekar Ayu. {unknown} tetap."]
            status, _ = await budi.post("/console/admin/canned", {"shortcut": "curang", "title": "x", "text": "y"})
            assert status == 403


async def test_canned_responses_for_a_customer_without_name_or_orders(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        rina = await logged_in(console_server, http, "rina")
        for shortcut, text in (
            ("halo-kak", "Halo Kak {customer_name}, saya {agent_name}. Hi {customer_name}!"),
            ("resi-kosong", "Pesanan {order_number} dikirim, resinya {tracking_number} ya Kak."),
        ):
            status, body = await rina.post("/console/admin/canned", {"shortcut": shortcut, "title": shortcut, "text": text})
            assert status == 200, body
        customer = await widget_customer(console_server, http)  # skipped the name
        await customer.say(HANDOFF_TEXT)
        await customer.until(lambda e: e["type"] == "status" and e["status"] == "waiting_for_agent")
        async with new_http() as budi_http:
            budi = await logged_in(console_server, budi_http, "budi")
            status, body = await budi.get_json(f"/console/api/conversations/{customer.conversation_id}/canned")
            assert status == 200
            canned = {c["shortcut"]: c for c in body["canned"]}
            # The honorific already written stands alone, not "Halo Kak Kak".
            assert canned["halo-kak"]["text"] == "Halo Kak, saya Budi. Hi Kak!"
            assert canned["halo-kak"]["unfilled"] == []
            # No order yet: those placeholders stay visible to the agent, and a reply still
            # holding one is refused instead of showing the customer the braces.
            assert canned["resi-kosong"]["unfilled"] == ["order_number", "tracking_number"]
            status, body = await budi.act(customer.conversation_id, "reply", text=canned["resi-kosong"]["text"])
            assert status == 400 and body["error"] == "unfilled_placeholder", body
            assert body["placeholders"] == ["order_number", "tracking_number"]
            assert "{order_number}" in body["message"]
            status, body = await budi.act(customer.conversation_id, "reply", text="Pesanannya belum ada ya Kak {biar}")
            assert status == 200, body  # an unknown placeholder is the agent's own text
            reply = await customer.until(lambda e: e["type"] == "message" and e["sender_type"] == "agent")
            assert reply["text"] == "Pesanannya belum ada ya Kak {biar}"
            assert not any("{order_number}" in m["text"] for m in customer.messages())


async def test_admin_manages_agents(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        rina = await logged_in(console_server, http, "rina")
        status, body = await rina.post("/console/admin/agents", {"username": "lina", "password": "123", "role": "agent"})
        assert status == 400  # weak password
        # Why, in the console's language (the same checks as `sapa agent add`, which speaks English).
        assert body["message"] == "Kata sandi terlalu pendek: minimal 10 karakter.", body
        status, body = await rina.post("/console/admin/agents", {"username": "lina", "password": "lina-sekar-2026", "role": "agent"})
        assert status == 400 and body["message"] == "Kata sandi tidak boleh memuat nama pengguna.", body
        status, body = await rina.post("/console/admin/agents", {"username": "L", "password": "Klepon-Hijau-42", "role": "agent"})
        assert status == 400 and body["message"].startswith("Nama pengguna 2–64 karakter"), body
        status, body = await rina.post("/console/admin/agents", {"username": "budi", "password": "Klepon-Hijau-42", "role": "agent"})
        assert status == 400 and body["message"] == "Nama pengguna budi sudah dipakai.", body
        status, body = await rina.post("/console/admin/agents", {
            "username": "lina", "password": "Klepon-Hijau-42", "role": "agent", "display_name": "Lina", "teams": ["cs"],
        })
        assert status == 200, body
        lina_id = body["agent"]["id"]
        async with new_http() as other:
            lina = Agent(console_server, other, "lina")
            assert (await lina.login("Klepon-Hijau-42")).status == 303
            status, _ = await lina.get("/console/inbox")
            assert status == 200
            # Deactivated: her session ends at once and she cannot log in again.
            status, body = await rina.post(f"/console/admin/agents/{lina_id}", {"active": "0"})
            assert status == 200 and body["agent"]["active"] is False
            status, _ = await lina.get("/console/inbox")
            assert status == 303
            assert (await lina.login("Klepon-Hijau-42")).status == 401
        # An admin cannot lock themselves out.
        status, body = await rina.post(f"/console/admin/agents/{rina.id}", {"active": "0"})
        assert status == 400


async def test_reports_page(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        # a conversation of its own, so the page has one to count whichever tests ran before
        customer = await widget_customer(console_server, http)
        await customer.say("halo kak")
        rina = await logged_in(console_server, http, "rina")
        status, html = await rina.get("/console/admin/reports")
        assert status == 200
        count = int(re.search(r'<span class="n">(\d+)</span><span>percakapan', html).group(1))  # type: ignore[union-attr]
        assert count >= 1
        status, html = await rina.get("/console/admin/reports?from=2020-01-01&to=2020-01-31")
        assert status == 200 and '<span class="n">0</span><span>percakapan' in html
        text = unescape(html)
        assert "Respons pertama" in text and "CSAT" in text


def _ticket_figures(html: str, kind: str, key: str) -> dict[str, str]:
    """One row of the report's ticket tables: {"tickets": "3", "resolved": "1", ...}."""
    row = re.search(rf'<tr data-{kind}="{key}">(.*?)</tr>', html, re.S)
    if row is None:
        return {}
    return dict(re.findall(r'<td data-figure="(\w+)">([^<]*)</td>', row.group(1)))


async def test_report_counts_tickets_by_category_and_team(console_server: ConsoleServer) -> None:
    """Management reads how many complaints of each kind came in, how many were resolved and
    how many missed their SLA, per category and per team (the figures move by exactly what
    happened)."""
    async with new_http() as http:
        rina = await logged_in(console_server, http, "rina")
        _, before = await rina.get("/console/admin/reports")
        customer = await handed_off(console_server, http, "Dian", COMPLAINT_TEXT)  # damaged → team gudang
        cid = customer.conversation_id
        assert (await rina.act(cid, "take"))[0] == 200
        assert (await rina.act(cid, "reply", text="Mohon maaf Kak, kami ganti ya."))[0] == 200
        assert (await rina.act(cid, "resolve"))[0] == 200
        await customer.send(type="rating", score=5)
        await customer.until(lambda e: e["type"] == "saved" and e["what"] == "rating")
        _, after = await rina.get("/console/admin/reports")

    assert "Tiket per kategori" in unescape(after) and "Tiket per tim" in unescape(after)
    for kind, key in (("category", "damaged"), ("team", "gudang")):
        old, new = _ticket_figures(before, kind, key), _ticket_figures(after, kind, key)
        assert new, after
        assert int(new["tickets"]) == int(old.get("tickets", 0)) + 1, (kind, old, new)
        assert int(new["resolved"]) == int(old.get("resolved", 0)) + 1, (kind, old, new)
        assert int(new["late"]) == int(old.get("late", 0)), (kind, old, new)  # answered and resolved in time
    assert "Barang rusak/cacat" in unescape(after) and "Gudang &amp; QC" in after
    assert re.search(r"<strong>\d,\d\d</strong> / 5", after), after  # 4,50 as Indonesians write it


async def place_order_and_pay(server: ConsoleServer, customer, name: str, *, short_by: int = 0):  # type: ignore[no-untyped-def]
    """An order of the widget customer, and their "sudah transfer" of its total less ``short_by``,
    made in another process (as the chat's flows would); returns the order and its conversation."""
    from bot.flows.context import shop_name
    from bot.orders.book import OrderBook
    from bot.orders.records import NewOrder, PaymentMethod
    from bot.shopdata.loader import load_shop
    from bot.store import Store
    from bot.texts import Texts
    from tests.orders.conftest import demo_line

    shop = load_shop(server.data)
    store = await Store.open(server.db_url)
    try:
        book = OrderBook(store, shop, Texts.load(shop.texts, shop_name=shop_name(shop)))
        conversation = await store.open_conversation("widget", customer.visitor_id, "id")
        order = await book.place(NewOrder(
            lines=(demo_line(shop),), customer_name=name, phone="081298765432", address="Jl. Solo 1",
            city="Yogyakarta", courier="jne-reg", courier_name="JNE REG", shipping_cost=10_000,
            payment_method=PaymentMethod.BANK_TRANSFER, lang="id", channel="widget",
            external_id=customer.visitor_id, customer_id=conversation.customer_id,
            conversation_id=conversation.id, source_key=f"console-test-{customer.visitor_id}",
        ))
        await book.submit_payment(order.number, bank="BCA", amount=order.total - short_by, sender_name=name)
    finally:
        await store.close()
    return order, conversation


async def test_admin_searches_orders_in_the_console(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        customer = await widget_customer(console_server, http, "Larasati")
        order, _ = await place_order_and_pay(console_server, customer, "Larasati Pramesti")
        rina = await logged_in(console_server, http, "rina")
        status, html = await rina.get("/console/admin/orders?q=pramesti")
        assert status == 200 and order.number in html and 'value="pramesti"' in html
        status, html = await rina.get("/console/admin/orders?q=0812-9876-5432&status=payment_submitted")
        assert status == 200 and order.number in html
        status, html = await rina.get("/console/admin/orders?q=pramesti&status=shipped")
        assert status == 200 and order.number not in html and "Tidak ada pesanan yang cocok" in html
        # What an admin types is shown as text, and stays in the status tabs' links.
        status, html = await rina.get("/console/admin/orders?q=%3Cscript%3Ealert(1)%3C/script%3E")
        assert status == 200 and "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
        assert "?status=paid&amp;q=%3Cscript%3Ealert%281%29%3C/script%3E" in html
        status, html = await rina.get("/console/admin/orders?q=" + "x" * 201)
        assert status == 200 and "terlalu panjang" in html


async def test_admin_verifies_payments_and_ships_orders(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        customer = await widget_customer(console_server, http, "Sinta")
        order, conversation = await place_order_and_pay(console_server, customer, "Sinta")

        rina = await logged_in(console_server, http, "rina")
        status, html = await rina.get("/console/admin/orders?status=payment_submitted")
        assert status == 200 and order.number in html
        status, html = await rina.get(f"/console/admin/orders/{order.number}")
        assert status == 200 and "Pembayaran diterima" in html
        # The conversation page shows the customer's orders to any agent.
        async with new_http() as other:
            budi = await logged_in(console_server, other, "budi")
            status, html = await budi.get(f"/console/conversations/{conversation.id}")
            assert status == 200 and order.number in html
            status, body = await budi.post(f"/console/admin/orders/{order.number}/verify-payment", {})
            assert status == 403

        status, body = await rina.post(f"/console/admin/orders/{order.number}/ship", {"tracking_number": "JNE123"})
        assert status == 409 and body["status"] == "payment_submitted"
        status, body = await rina.post(f"/console/admin/orders/{order.number}/verify-payment", {"note": "Terima kasih!"})
        assert status == 200 and body["order"]["status"] == "paid"
        paid = await customer.until(lambda e: e["type"] == "message" and order.number in e["text"])
        assert "sudah kami terima" in paid["text"]
        # Plain forms work too (no JavaScript): ship, then deliver.
        status, _, location = await rina.form(
            f"/console/admin/orders/{order.number}/ship", {"csrf_token": rina.csrf, "tracking_number": "JNE0123456789"}
        )
        assert status == 303 and location == f"/console/admin/orders/{order.number}"
        shipped = await customer.until(lambda e: e["type"] == "message" and "JNE0123456789" in e["text"])
        assert shipped
        status, body = await rina.post(f"/console/admin/orders/{order.number}/deliver", {})
        assert status == 200 and body["order"]["status"] == "delivered"
        events = console_server.rows(
            "SELECT e.actor, e.to_status FROM order_events e JOIN orders o ON o.id = e.order_id WHERE o.number = ? ORDER BY e.id",
            order.number,
        )
        assert [(e["actor"], e["to_status"]) for e in events][-3:] == [
            ("admin:rina", "paid"), ("admin:rina", "shipped"), ("admin:rina", "delivered"),
        ]


async def test_order_pages_speak_indonesian_and_flag_a_short_transfer(console_server: ConsoleServer) -> None:
    """The admin deciding on a payment reads the method, the verdicts and the history in the
    console's language, sees at once that the transfer is short of the total, and is asked
    before rejecting a payment or cancelling an order (both are told to the customer)."""
    async with new_http() as http:
        customer = await widget_customer(console_server, http, "Wulan")
        order, _ = await place_order_and_pay(console_server, customer, "Wulan", short_by=25_000)
        rina = await logged_in(console_server, http, "rina")

        status, html = await rina.get("/console/admin/orders?status=payment_submitted")
        row = re.search(rf'<tr data-number="{order.number}">.*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
        assert "Transfer bank" in row and "bank_transfer" not in row, row

        status, html = await rina.get(f"/console/admin/orders/{order.number}")
        text = unescape(re.sub(r"<[^>]+>", " ", html))
        assert status == 200
        assert "bank_transfer" not in html and "Transfer bank" in text
        assert "kurang Rp25.000" in text, text  # the transfer is short of the total
        assert "dikabarkan otomatis ke pelanggan lewat Widget web" in " ".join(text.split())
        # Both send the customer a message that cannot be taken back.
        for act in ("reject-payment", "cancel"):
            form = re.search(rf'<form[^>]*action="/console/admin/orders/{order.number}/{act}"[^>]*>', html).group(0)  # type: ignore[union-attr]
            assert "data-confirm=" in form, form

        status, body = await rina.post(f"/console/admin/orders/{order.number}/reject-payment", {"reason": "   "})
        assert status == 400 and body["message"] == "Tulis alasan penolakannya; pelanggan akan membacanya.", body
        status, body = await rina.post(f"/console/admin/orders/{order.number}/reject-payment", {"reason": "Kurang Rp25.000"})
        assert status == 200 and body["order"]["status"] == "pending_payment"
        status, html = await rina.get(f"/console/admin/orders/{order.number}")
        text = unescape(re.sub(r"<[^>]+>", " ", html))
        assert "ditolak" in text and "rejected" not in text, text
        assert "pelanggan: baru → Menunggu pembayaran" in " ".join(text.split()), text


async def test_a_cancelled_order_s_unchecked_payment_is_not_shown_as_waiting(console_server: ConsoleServer) -> None:
    async with new_http() as http:
        customer = await widget_customer(console_server, http, "Tari")
        order, _ = await place_order_and_pay(console_server, customer, "Tari", short_by=0)
        rina = await logged_in(console_server, http, "rina")
        status, body = await rina.post(f"/console/admin/orders/{order.number}/cancel", {"reason": "Stok habis"})
        assert status == 200 and body["order"]["status"] == "cancelled"
        status, html = await rina.get(f"/console/admin/orders/{order.number}")
        payment = re.search(r"<tr><td>[^<]*</td><td>BCA</td>.*?</tr>", html).group(0)  # type: ignore[union-attr]
        assert "tidak diperiksa (pesanan batal)" in payment and "menunggu" not in payment, payment


async def test_a_rest_customer_gets_what_the_agent_wrote_in_the_next_answer(console_server: ConsoleServer) -> None:
    """REST cannot push: the agent's join notice and replies open the customer's next
    answer, once each, and the "resolved" notice too after the agent resolves."""
    sender = "rest-ani"

    async def say(http: aiohttp.ClientSession, text: str) -> list[dict]:
        async with http.post(console_server.base + "/webhooks/rest/webhook", json={"sender": sender, "message": text}) as r:
            assert r.status == 200
            return await r.json()

    async with new_http() as http:
        # the admin: routing may give the ticket to any online agent's team
        rina = await logged_in(console_server, http, "rina")
        first = await say(http, "mau ngomong sama admin")
        assert first and first[0]["custom"]["handoff"] is True
        cid = first[0]["custom"]["conversation_id"]
        status, _ = await rina.act(cid, "take")
        assert status == 200
        status, _ = await rina.act(cid, "reply", text="Halo Kak Ani, saya Rina. Ada yang bisa dibantu?")
        assert status == 200
        second = await say(http, "halo? ada orang?")
        texts = [m["text"] for m in second]
        assert any("bergabung" in t for t in texts), texts  # "Rina (admin) bergabung…"
        assert texts[-1] == "Halo Kak Ani, saya Rina. Ada yang bisa dibantu?", texts
        assert all(m["recipient_id"] == sender for m in second)
        assert await say(http, "oke makasih kak") == []  # nothing new: nothing repeated
        status, _ = await rina.act(cid, "reply", text="Sama-sama, Kak 🙏")
        assert status == 200
        status, _ = await rina.act(cid, "resolve")
        assert status == 200
        after = [m["text"] for m in await say(http, "kak satu lagi, bisa cod?")]
        assert after[0] == "Sama-sama, Kak 🙏", after
        assert any("cod" in t.lower() for t in after[1:]), after  # then the bot answers, in a new conversation

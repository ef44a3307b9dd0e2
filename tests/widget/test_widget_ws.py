"""The widget channel against a real `sapa run`: sessions, the socket protocol, safety."""

from __future__ import annotations

import base64
import json

import aiohttp

from tests.widget.conftest import ALLOWED_ORIGIN, WidgetServer, client_id

PAY_ID = "kak bisa bayar pakai apa aja?"
PAY_EN = "What payment methods do you accept?"


async def test_session_is_created_resumed_and_forgeries_get_a_new_visitor(widget_server: WidgetServer):
    first = await widget_server.new_session()
    token, visitor = first["token"], first["visitor_id"]
    assert token.startswith(visitor + ".")
    assert len(base64.urlsafe_b64decode(visitor + "==")) == 16
    config = first["config"]
    assert config["title"] == {"id": "Chat dengan Toko Uji", "en": "Chat with Toko Uji"}
    assert config["colors"] == {"primary": "#8B4513", "text_on_primary": "#FFFFFF"}
    assert config["prechat"] == {"name": "required", "email": "optional", "phone": "optional"}
    assert config["csat"]["enabled"] is True and config["csat"]["question"]["id"]
    assert config["limits"] == {"max_chars": 500, "upload_max_bytes": 200000}
    assert config["online"] is False and "secepatnya" in config["offline_message"]["id"]
    assert config["availability"] == [{"in_seconds": 0, "online": False, "offline_message": config["offline_message"]}]

    again = await widget_server.new_session(token)
    assert (again["token"], again["visitor_id"]) == (token, visitor)

    other_id = base64.urlsafe_b64encode(b"\x01" * 16).rstrip(b"=").decode()
    for forged in (visitor + ".AAAA", other_id + "." + token.split(".")[1], "x", 42, ""):
        fresh = await widget_server.new_session(forged)  # type: ignore[arg-type]
        assert fresh["visitor_id"] not in (visitor, other_id)


async def test_faq_in_both_languages_reaches_the_tab_through_the_bus_with_seqs(widget_server: WidgetServer):
    token = (await widget_server.new_session())["token"]
    async with aiohttp.ClientSession() as http:
        tab = await widget_server.connect(token, http)
        welcome = await tab.hello(0)
        assert welcome["last_seq"] == 0 and welcome["status"] == "bot"
        assert welcome["online"] is False and "secepatnya" in welcome["offline_message"]
        assert [(s["online"], s["offline_message"]["id"]) for s in welcome["availability"]] == [(False, welcome["offline_message"])]

        ack = await tab.say(PAY_ID)
        assert ack == {"type": "ack", "client_id": ack["client_id"], "seq": 1}
        await tab.seen_up_to(widget_server.max_seq(tab.conversation_id))
        ack2 = await tab.say(PAY_EN)
        last = widget_server.max_seq(tab.conversation_id)
        assert ack2["seq"] > ack["seq"]
        await tab.seen_up_to(last)
        await tab.close()

    messages = tab.messages()
    assert [m["seq"] for m in messages] == list(range(1, last + 1))
    assert messages[0]["sender_type"] == "customer" and messages[0]["text"] == PAY_ID
    rows = widget_server.rows(
        "SELECT seq, sender_type, text, nlu FROM messages WHERE conversation_id = ? ORDER BY seq", tab.conversation_id
    )
    assert [(m["seq"], m["sender_type"], m["text"]) for m in messages] == [
        (r["seq"], r["sender_type"], r["text"]) for r in rows
    ]
    customer = [r for r in rows if r["sender_type"] == "customer"]
    nlu = [json.loads(r["nlu"]) for r in customer]
    assert nlu[0]["intent"]["name"].startswith("faq/pay") and nlu[0]["lang"] == "id"
    assert nlu[1]["intent"]["name"].startswith("faq/pay") and nlu[1]["lang"] == "en"
    by_seq = {m["seq"]: m for m in messages}
    assert by_seq[2]["sender_type"] == "bot" and by_seq[ack2["seq"] + 1]["sender_type"] == "bot"
    assert by_seq[2]["text"] != by_seq[ack2["seq"] + 1]["text"]  # Indonesian, then English
    assert all(isinstance(m["buttons"], list) and m["created_at"] for m in messages)
    # Live events stop while typing is shown for each turn.
    typing = [e for e in tab.events if e["type"] == "typing"]
    assert typing[:2] == [{"type": "typing", "who": "bot", "on": True}, {"type": "typing", "who": "bot", "on": False}]

    # A returning visitor (reload, next day) gets the whole history once, in order.
    async with aiohttp.ClientSession() as http:
        again = await widget_server.connect(token, http)
        welcome = await again.hello(0)
        assert welcome["conversation_id"] == tab.conversation_id and welcome["last_seq"] == last
        await again.seen_up_to(last)
        assert [m["seq"] for m in again.messages()] == list(range(1, last + 1))
        assert await again.quiet() == []


async def test_a_resend_gets_the_same_ack_and_is_stored_once(widget_server: WidgetServer):
    token = (await widget_server.new_session())["token"]
    cid = client_id()
    async with aiohttp.ClientSession() as http:
        tab = await widget_server.connect(token, http)
        await tab.hello()
        first = await tab.say("halo kak", cid)
        await tab.seen_up_to(widget_server.max_seq(tab.conversation_id))
        second = await tab.say("halo kak", cid)
        assert second == first
        assert await tab.quiet() == []
        # From another tab (the first one's connection lost before the ack), too.
        other = await widget_server.connect(token, http)
        await other.hello(tab.max_seq())
        assert await other.say("halo kak", cid) == first
    rows = widget_server.rows("SELECT seq FROM messages WHERE conversation_id = ? AND client_id = ?", tab.conversation_id, cid)
    assert [r["seq"] for r in rows] == [first["seq"]]


async def test_two_tabs_of_a_visitor_stay_in_sync(widget_server: WidgetServer):
    token = (await widget_server.new_session())["token"]
    async with aiohttp.ClientSession() as http:
        a = await widget_server.connect(token, http)
        b = await widget_server.connect(token, http)
        assert (await a.hello())["conversation_id"] == (await b.hello())["conversation_id"]
        await a.say("ongkir ke surabaya berapa?")
        last = widget_server.max_seq(a.conversation_id)
        await b.say("thanks")
        last = widget_server.max_seq(a.conversation_id)
        await a.seen_up_to(last)
        await b.seen_up_to(last)
        assert [m["seq"] for m in a.messages()] == list(range(1, last + 1))
        assert a.messages() == b.messages()


async def test_reconnect_with_last_seq_gets_exactly_the_missed_messages(widget_server: WidgetServer):
    token = (await widget_server.new_session())["token"]
    async with aiohttp.ClientSession() as http:
        a = await widget_server.connect(token, http)
        await a.hello()
        await a.say("halo")
        seen = widget_server.max_seq(a.conversation_id)
        await a.seen_up_to(seen)
        await a.close()  # network lost

        b = await widget_server.connect(token, http)
        await b.hello(seen)
        await b.say("berapa lama pengiriman ke medan?")
        missed_until = widget_server.max_seq(b.conversation_id)
        assert missed_until > seen + 1

        back = await widget_server.connect(token, http)
        await back.hello(seen)
        await back.seen_up_to(missed_until)
        assert [m["seq"] for m in back.messages()] == list(range(seen + 1, missed_until + 1))
        assert await back.quiet() == []


async def test_a_token_reads_its_own_conversation_only(widget_server: WidgetServer):
    token_a = (await widget_server.new_session())["token"]
    token_b = (await widget_server.new_session())["token"]
    secret = "pesanan saya atas nama Rahasia Sekali, alamat Jl. Mawar 7"
    async with aiohttp.ClientSession() as http:
        a = await widget_server.connect(token_a, http)
        b = await widget_server.connect(token_b, http)
        await a.hello()
        await b.hello()
        assert a.conversation_id != b.conversation_id
        await a.say(secret)
        await a.seen_up_to(widget_server.max_seq(a.conversation_id))
        await b.say("halo")
        await b.seen_up_to(widget_server.max_seq(b.conversation_id))
        assert await b.quiet() == []
        # hello cannot name someone else's conversation either.
        c = await widget_server.connect(token_b, http)
        welcome = await c.hello(0, conversation_id=a.conversation_id)
        assert welcome["conversation_id"] == b.conversation_id
        await c.seen_up_to(widget_server.max_seq(b.conversation_id))
        await c.quiet()
    for tab in (b, c):
        assert all(e.get("conversation_id") in (None, b.conversation_id) for e in tab.events)
        assert all(secret not in json.dumps(e) for e in tab.events)


async def test_bad_tokens_and_origins_are_refused(widget_server: WidgetServer):
    good = (await widget_server.new_session())["token"]
    visitor, sig = good.split(".")
    async with aiohttp.ClientSession() as http:
        for token in ("", "nonsense", visitor + "." + sig[:-2] + "AA", visitor + "x." + sig):
            ws = await http.ws_connect(f"{widget_server.ws_base}/widget/ws?token={token}")
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 4401
        ws = await http.ws_connect(f"{widget_server.ws_base}/widget/ws?token={good}", headers={"Origin": "https://evil.example"})
        await ws.receive()
        assert ws.close_code == 4403
        tab = await widget_server.connect(good, http, Origin=ALLOWED_ORIGIN)
        assert (await tab.hello())["type"] == "welcome"

        url = widget_server.base + "/widget/session"
        async with http.post(url, json={"token": None}, headers={"Origin": "https://evil.example"}) as r:
            assert r.status == 403 and "Access-Control-Allow-Origin" not in r.headers
        async with http.post(url, json={"token": None}, headers={"Origin": ALLOWED_ORIGIN}) as r:
            assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
        host = widget_server.base  # same origin is always allowed
        async with http.post(url, json={"token": None}, headers={"Origin": host}) as r:
            assert r.status == 200
        preflight = {"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST"}
        async with http.options(url, headers=preflight) as r:
            assert r.status == 204 and "POST" in r.headers["Access-Control-Allow-Methods"]
            assert r.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN


async def test_malformed_frames_get_errors_and_the_socket_stays_open(widget_server: WidgetServer):
    token = (await widget_server.new_session())["token"]
    async with aiohttp.ClientSession() as http:
        tab = await widget_server.connect(token, http)
        await tab.send(type="message", client_id=client_id(), text="before hello")
        assert (await tab.next_event())["code"] == "invalid"
        await tab.hello()
        deep = "[" * 20_000 + "]" * 20_000  # deeper than the JSON parser recurses
        for raw in ("not json", "[]", '{"type": 5}', '{"type": "launch_missiles"}', "{", deep):
            await tab.ws.send_str(raw)
            event = await tab.next_event()
            assert event["type"] == "error" and event["code"] == "invalid" and event["message"]
        await tab.ws.send_bytes(b"\x00\x01")
        assert (await tab.next_event())["code"] == "invalid"
        for bad_id in ("", "x" * 65, 123, None):
            await tab.send(type="message", client_id=bad_id, text="halo")
            assert (await tab.next_event())["code"] == "invalid"
        cid = client_id()
        too_long = await tab.say("a" * 501, cid)
        assert too_long["code"] == "too_long" and "500" in too_long["message"]
        assert (await tab.say("   "))["code"] == "empty"
        assert (await tab.say("\u200b\u2060"))["code"] == "empty"  # zero-width characters only
        assert (await tab.say("halo"))["type"] == "ack"

        # A frame over the size limit closes that socket only; the server keeps serving.
        big = await widget_server.connect(token, http)
        await big.hello()
        await big.ws.send_str(json.dumps({"type": "message", "client_id": "x", "text": "a" * 200_000}))
        msg = await big.ws.receive()
        while msg.type == aiohttp.WSMsgType.TEXT:  # its history first
            msg = await big.ws.receive()
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert big.ws.close_code == 1009
        assert (await tab.say("masih di sini?"))["type"] == "ack"
    rows = widget_server.rows("SELECT text FROM messages WHERE conversation_id = ? AND sender_type = 'customer'", tab.conversation_id)
    assert [r["text"] for r in rows] == ["halo", "masih di sini?"]


async def test_rate_limit_says_slow_down_in_the_session_language(widget_server: WidgetServer):
    token = (await widget_server.new_session())["token"]
    async with aiohttp.ClientSession() as http:
        tab = await widget_server.connect(token, http)
        await tab.hello(lang="id")
        answers = [await tab.say(f"halo {i}") for i in range(10)]
        limited = [a for a in answers if a["type"] == "error"]
        assert limited and all(a["code"] == "rate_limited" for a in limited)
        assert limited[0]["message"].startswith("Pelan-pelan ya Kak")

        en = await widget_server.connect((await widget_server.new_session())["token"], http)
        await en.hello(lang="en")
        answers = [await en.say(f"hello {i}") for i in range(10)]
        assert any(a["type"] == "error" and a["message"].startswith("Easy there") for a in answers)
        # A resend of an acknowledged message is not a new message: still acknowledged.
        first_ack = next(a for a in answers if a["type"] == "ack")
        assert (await en.say("hello 0", first_ack["client_id"])) == first_ack


async def test_errors_follow_the_language_the_customer_switched_to(widget_server: WidgetServer):
    """The widget's id/en switch sends ``lang`` with each message: the bot answers in it, and so
    must the server's own notes (slow down, too long, missing image) on that socket."""
    token = (await widget_server.new_session())["token"]
    async with aiohttp.ClientSession() as http:
        tab = await widget_server.connect(token, http)
        await tab.hello(lang="id")
        error = await tab.say("x" * 501, lang="en")
        assert error["code"] == "too_long" and error["message"].startswith("That message is too long"), error
        error = await tab.say("here is the photo", lang="en", attachments=["not-an-upload"])
        assert error["code"] == "invalid_attachment" and "Kak" not in error["message"], error
        error = await tab.say("y" * 501, lang="id")
        assert error["message"].startswith("Pesannya kepanjangan"), error


async def test_prechat_and_rating_are_stored(widget_server: WidgetServer):
    token = (await widget_server.new_session())["token"]
    async with aiohttp.ClientSession() as http:
        tab = await widget_server.connect(token, http)
        await tab.hello(lang="id")
        await tab.send(type="prechat", name="  ", email="siti@example.com")
        event = await tab.next_event()
        assert (event["code"], event["field"]) == ("invalid_prechat", "name")
        assert "nama" in event["message"].lower()
        await tab.send(type="prechat", name="Siti", email="siti@", phone="")
        assert (await tab.next_event())["field"] == "email"
        await tab.send(type="prechat", name="Siti", email="", phone="12345")
        assert (await tab.next_event())["field"] == "phone"
        await tab.send(type="prechat", name="Siti  Rahayu", email="siti@example.com", phone="0812-3456-7890")
        assert await tab.next_event() == {"type": "saved", "what": "prechat"}

        for bad in ({"score": 0}, {"score": 6}, {"score": "5"}, {"score": True}, {"score": 4, "comment": "x" * 1001}):
            await tab.send(type="rating", **bad)
            assert (await tab.next_event())["code"] == "invalid_rating"
        await tab.send(type="rating", score=4, comment="Cepat dan ramah 👍")
        assert await tab.next_event() == {"type": "saved", "what": "rating"}

    customer = widget_server.rows(
        "SELECT c.display_name, c.email, c.phone FROM customers c JOIN conversations v ON v.customer_id = c.id WHERE v.id = ?",
        tab.conversation_id,
    )[0]
    assert tuple(customer) == ("Siti Rahayu", "siti@example.com", "0812-3456-7890")
    conversation = widget_server.rows("SELECT csat_score, csat_comment, csat_at FROM conversations WHERE id = ?", tab.conversation_id)[0]
    assert conversation["csat_score"] == 4 and conversation["csat_comment"] == "Cepat dan ramah 👍"
    assert conversation["csat_at"] is not None


async def test_hostile_text_is_stored_and_echoed_literally(widget_server: WidgetServer):
    token = (await widget_server.new_session())["token"]
    hostile = '<img src=x onerror=alert(1)> <script>alert("x")</script> {{7*7}} \u202e'
    async with aiohttp.ClientSession() as http:
        tab = await widget_server.connect(token, http)
        await tab.hello()
        ack = await tab.say(hostile)
        await tab.seen_up_to(ack["seq"])
    echoed = next(m for m in tab.messages() if m["seq"] == ack["seq"])
    assert echoed["text"] == hostile and echoed["sender_type"] == "customer"
    row = widget_server.rows("SELECT text FROM messages WHERE conversation_id = ? AND seq = ?", tab.conversation_id, ack["seq"])
    assert row[0]["text"] == hostile


async def test_a_lone_surrogate_or_nul_in_a_message_is_answered_not_a_server_error(widget_server: WidgetServer):
    # JSON can carry "\ud800" (half an emoji, e.g. from a cut-off paste): the message must be
    # taken and answered like any other, not fail with server_error for the client to resend forever.
    token = (await widget_server.new_session())["token"]
    async with aiohttp.ClientSession() as http:
        tab = await widget_server.connect(token, http)
        await tab.hello(lang="id")
        acks = []
        for raw_text in ("halo kak \\ud83d", "ongkir \\u0000 ke bandung?"):
            cid = client_id()
            await tab.ws.send_str(f'{{"type": "message", "client_id": "{cid}", "text": "{raw_text}"}}')
            ack = await tab.until(lambda e: e.get("client_id") == cid and e["type"] in ("ack", "error"))
            assert ack["type"] == "ack", ack
            acks.append(ack)
        await tab.seen_up_to(acks[-1]["seq"] + 1)
    texts = {m["seq"]: m["text"] for m in tab.messages()}
    assert texts[acks[0]["seq"]] == "halo kak \ufffd"
    assert texts[acks[1]["seq"]] == "ongkir \ufffd ke bandung?"
    assert any(m["sender_type"] == "bot" and m["seq"] > acks[0]["seq"] for m in tab.messages())


async def test_a_resolved_conversation_is_followed_by_a_new_one(widget_server: WidgetServer):
    token = (await widget_server.new_session())["token"]
    async with aiohttp.ClientSession() as http:
        tab = await widget_server.connect(token, http)
        await tab.hello()
        await tab.say("halo")
        await tab.seen_up_to(widget_server.max_seq(tab.conversation_id))
        old = tab.conversation_id
        # An agent resolves it (the console will do this through the store).
        widget_server.execute("UPDATE conversations SET status = 'resolved' WHERE id = ?", old)
        await tab.send(type="rating", score=5)
        assert await tab.next_event() == {"type": "saved", "what": "rating"}

        cid = client_id()
        await tab.send(type="message", client_id=cid, text="mau tanya lagi dong")
        welcome = await tab.until(lambda e: e["type"] == "welcome")
        ack = await tab.until(lambda e: e["type"] == "ack")
        new = welcome["conversation_id"]
        assert new != old and ack == {"type": "ack", "client_id": cid, "seq": 1}
        last = widget_server.max_seq(new)
        assert last > 1  # the bot answered

        def after() -> list[dict]:
            return [e for e in tab.events[tab.events.index(welcome) :] if e["type"] == "message"]

        if not any(m["seq"] == last for m in after()):
            await tab.until(lambda e: e["type"] == "message" and e["conversation_id"] == new and e["seq"] == last)
        after = after()
        assert [m["seq"] for m in after] == list(range(1, len(after) + 1))
        assert all(m["conversation_id"] == new for m in after)
    assert widget_server.rows("SELECT csat_score FROM conversations WHERE id = ?", old)[0]["csat_score"] == 5

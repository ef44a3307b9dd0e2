"""A server restart mid-conversation: the visitor's token, history and resends survive."""

from __future__ import annotations

import aiohttp

from tests.conftest import start_server
from tests.widget.conftest import WidgetServer, client_id, copy_demo_data


async def test_a_message_sent_across_a_restart_is_stored_exactly_once(tmp_path):
    data = copy_demo_data(tmp_path / "data")
    server = WidgetServer(start_server(tmp_path, data), tmp_path, data)
    during_outage = client_id()
    try:
        token = (await server.new_session())["token"]
        async with aiohttp.ClientSession() as http:
            tab = await server.connect(token, http)
            await tab.hello()
            first = await tab.say("halo kak")
            seen = server.max_seq(tab.conversation_id)
            await tab.seen_up_to(seen)
            server.server.stop()
            # The socket ends (going away, or reset): the widget queues the next message.
            while not tab.ws.closed:
                await tab.ws.receive()
    finally:
        server.server.stop()

    server = WidgetServer(start_server(tmp_path, data), tmp_path, data)
    try:
        async with aiohttp.ClientSession() as http:
            back = await server.connect(token, http)
            welcome = await back.hello(seen)
            assert welcome["conversation_id"] == tab.conversation_id and welcome["last_seq"] == seen
            assert await back.quiet() == []
            # The un-acked message is resent after reconnecting, then once more (ack lost).
            ack = await back.say("ongkir ke bandung berapa?", during_outage)
            assert ack["seq"] == seen + 1
            assert await back.say("ongkir ke bandung berapa?", during_outage) == ack
            assert await back.say("halo kak", first["client_id"]) == first
            last = server.max_seq(tab.conversation_id)
            await back.seen_up_to(last)
            assert [m["seq"] for m in back.messages()] == list(range(seen + 1, last + 1))
    finally:
        server.server.stop()
    rows = server.rows("SELECT client_id FROM messages WHERE conversation_id = ? AND sender_type = 'customer'", tab.conversation_id)
    assert [r["client_id"] for r in rows] == [first["client_id"], during_outage]

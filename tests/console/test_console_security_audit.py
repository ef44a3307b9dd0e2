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

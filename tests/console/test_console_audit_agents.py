"""Findings of the console audit (agents working side by side), against a running `sapa run`."""

from __future__ import annotations

import pytest

from tests.console.conftest import COMPLAINT_TEXT, ConsoleServer, new_http
from tests.console.test_console_http import handed_off, logged_in

pytestmark = pytest.mark.slow


async def test_another_agent_cannot_change_the_ticket_of_a_conversation_someone_holds(console_server: ConsoleServer) -> None:
    """Before: Sari could not reply to, transfer, hand back or resolve a conversation Budi had
    taken (409), but she could still change its ticket's category and priority (200), which
    re-times Budi's SLA behind his back. Now that is refused the same way; Budi and admins may."""
    async with new_http() as h1, new_http() as h2, new_http() as h3:
        customer = await handed_off(console_server, h1, "Ratna Dewi", COMPLAINT_TEXT)
        cid = customer.conversation_id
        budi = await logged_in(console_server, h1, "budi")
        sari = await logged_in(console_server, h2, "sari")
        rina = await logged_in(console_server, h3, "rina")
        assert (await budi.act(cid, "take"))[0] == 200
        [before] = console_server.rows("SELECT category, priority FROM tickets WHERE conversation_id = ?", cid)

        status, body = await sari.act(cid, "fields", priority="urgent", category="payment")
        assert status == 409 and body["error"] == "held_by_other", body
        assert "ditangani agen lain" in body["message"]
        [after] = console_server.rows("SELECT category, priority FROM tickets WHERE conversation_id = ?", cid)
        assert tuple(after) == tuple(before)

        status, body = await budi.act(cid, "fields", priority="urgent")
        assert status == 200 and body["changed"] is True, body
        status, body = await rina.act(cid, "fields", category="payment")
        assert status == 200 and body["changed"] is True, body
        [done] = console_server.rows("SELECT category, priority FROM tickets WHERE conversation_id = ?", cid)
        assert (done["category"], done["priority"]) == ("payment", "urgent")

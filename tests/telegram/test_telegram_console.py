"""A complaint told on Telegram becomes a ticket; an agent answers it from the console,
and the conversation goes on live in both directions."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Callable

import aiohttp

from tests.telegram.conftest import TelegramServer, TgUser, tiny_png

AGENT, PASSWORD = "rina-tg", "Kopi-Susu-Gula-Aren-7"
COMPLAINT = "kak barang saya datang rusak, saya mau komplain"
DESCRIPTION = "Kemeja batik yang saya terima sobek di bagian lengan kiri, jahitannya lepas."


def settle(tg: TelegramServer, user: TgUser, customer_messages: int, timeout: float = 45.0) -> list[Any]:
    """Wait until the customer's ``customer_messages`` messages are stored and everything the
    conversation holds for them has reached the chat; returns the sends new since last time."""

    def done() -> bool:
        [(stored,)] = tg.query(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE c.channel = 'telegram' AND c.external_id = ? AND m.sender_type = 'customer'",
            str(user.chat_id),
        )
        if stored < customer_messages:
            return False
        [(unqueued,)] = tg.query(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE c.channel = 'telegram' AND c.external_id = ? AND m.sender_type != 'customer' AND NOT EXISTS "
            "(SELECT 1 FROM telegram_outbox o WHERE o.dedupe_key = 'm:' || m.conversation_id || ':' || m.seq || ':0')",
            str(user.chat_id),
        )
        [(pending,)] = tg.query(
            "SELECT count(*) FROM telegram_outbox WHERE chat_id = ? AND status = 'pending'", user.chat_id
        )
        return unqueued == 0 and pending == 0

    tg.fake.wait_for(done, timeout, "the conversation to settle")
    sent = tg.fake.sent(user.chat_id)
    new = sent[user.seen :]
    user.seen = len(sent)
    return new


class Console:
    """The agent console as a browser uses it: a session cookie, the CSRF token, the live socket."""

    def __init__(self, base: str, http: aiohttp.ClientSession) -> None:
        self.base = base
        self.http = http
        self.csrf = ""

    async def login(self) -> None:
        async with self.http.get(self.base + "/console/login") as r:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await r.text()).group(1)  # type: ignore[union-attr]
        async with self.http.post(
            self.base + "/console/login",
            data={"username": AGENT, "password": PASSWORD, "csrf_token": token, "next": "/console/inbox"},
            allow_redirects=False,
        ) as r:
            assert r.status == 303, await r.text()
        async with self.http.get(self.base + "/console/inbox") as r:
            self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', await r.text()).group(1)  # type: ignore[union-attr]

    async def act(self, conversation_id: int, action: str, **body: Any) -> dict[str, Any]:
        async with self.http.post(
            f"{self.base}/console/conversations/{conversation_id}/{action}",
            json=body,
            headers={"X-CSRF-Token": self.csrf, "Origin": self.base},
        ) as r:
            data = await r.json()
            assert r.status == 200, data
            return data

    async def socket(self) -> aiohttp.ClientWebSocketResponse:
        return await self.http.ws_connect(
            self.base.replace("http://", "ws://") + "/console/ws", headers={"Origin": self.base}, heartbeat=None
        )


async def until(ws: aiohttp.ClientWebSocketResponse, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        while True:
            event = json.loads((await ws.receive()).data)
            if predicate(event):
                return event

    return await asyncio.wait_for(read(), 45)


async def test_complaint_ticket_and_an_agent_answering_from_the_console(tg: TelegramServer) -> None:
    user = tg.user("id", "Rina")
    user.say(COMPLAINT)
    said = 1
    sends = settle(tg, user, said)
    photo = tiny_png(30, 20)
    for _ in range(8):
        texts = [c.params.get("text", "") for c in sends if c.method == "sendMessage"]
        if any(re.search(r"TK-\d{4}-\d+", t) for t in texts):
            break
        last = sends[-1]
        prompt = texts[-1].lower()
        if "foto" in prompt:
            user.send_photo(photo, caption="ini fotonya kak")
        elif "nomor pesanan" in prompt:
            user.press(last, "Lewati")
        elif "masalah" in prompt or "cerita" in prompt:
            user.say(DESCRIPTION)
        else:
            raise AssertionError(f"unexpected prompt: {texts}")
        said += 1
        sends = settle(tg, user, said)
    else:
        raise AssertionError("no ticket number was given")
    conversation_id, status = tg.conversation(user.chat_id)
    assert status == "waiting_for_agent"
    tickets = tg.query("SELECT number, category FROM tickets WHERE conversation_id = ?", conversation_id)
    assert len(tickets) == 1
    # The photo sent on Telegram is part of the complaint.
    attachments = [json.loads(a) for _, a in tg.customer_messages(user.chat_id) if a and a != "[]"]
    assert attachments and attachments[0][0]["url"].startswith("/widget/uploads/")

    created = tg.sapa("agent", "add", AGENT, "--role", "agent", "--name", "Rina", SAPA_AGENT_PASSWORD=PASSWORD)
    assert created.returncode == 0, created.stderr
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        console = Console(tg.base, http)
        await console.login()
        ws = await console.socket()
        await until(ws, lambda e: e.get("type") == "hello")
        await ws.send_json({"type": "open", "conversation_id": conversation_id})
        await until(ws, lambda e: e.get("type") == "opened")

        # The agent's reply (taking the conversation over) reaches the Telegram chat.
        await console.act(conversation_id, "reply", text="Mohon maaf Kak Rina 🙏 Kami kirim pengganti ya.")
        arrived = await asyncio.to_thread(
            tg.fake.wait_for,
            lambda: [t for t in user.received() if t == "Mohon maaf Kak Rina 🙏 Kami kirim pengganti ya."],
            45,
            "the agent's reply on Telegram",
        )
        assert len(arrived) == 1
        assert tg.conversation(user.chat_id)[1] == "with_agent"

        # The customer answers on Telegram: the agent sees it live, and the bot stays quiet.
        user.say("baik kak terima kasih, ditunggu ya")
        live = await until(
            ws, lambda e: e.get("type") == "message" and e.get("text") == "baik kak terima kasih, ditunggu ya"
        )
        assert live["sender_type"] == "customer"
        await console.act(conversation_id, "reply", text="Sama-sama Kak!")
        await asyncio.to_thread(
            tg.fake.wait_for, lambda: "Sama-sama Kak!" in user.received(), 45, "the second reply"
        )
        bot_after = tg.query(
            "SELECT count(*) FROM messages WHERE conversation_id = ? AND sender_type = 'bot' AND seq > "
            "(SELECT max(seq) FROM messages WHERE conversation_id = ? AND sender_type = 'customer')",
            conversation_id,
            conversation_id,
        )
        assert bot_after == [(0,)]

        # Resolved: the chat gets the closing words with star buttons, like the widget's rating card.
        await console.act(conversation_id, "resolve")
        await asyncio.to_thread(
            tg.fake.wait_for,
            lambda: any("penilaian" in t for t in user.received()),
            45,
            "the rating request",
        )
        request = next(c for c in reversed(tg.fake.sent(user.chat_id)) if "penilaian" in c.params.get("text", ""))
        user.press(request, "⭐⭐⭐⭐")
        await asyncio.to_thread(
            tg.fake.wait_for,
            lambda: tg.query("SELECT csat_score FROM conversations WHERE id = ?", conversation_id) == [(4,)],
            45,
            "the rating to be stored",
        )
        await asyncio.to_thread(
            tg.fake.wait_for, lambda: any("Terima kasih atas penilaiannya" in t for t in user.received()), 45, "thanks"
        )
        await ws.close()

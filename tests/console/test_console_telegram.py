"""An agent in the console answering a Telegram customer: take over, reply and resolve reach the
chat through the real python-telegram-bot stack and the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.console.conftest import Agent, ConsoleServer, add_account, new_http
from tests.telegram.conftest import TelegramServer, launch, nlu_cache, telegram_data  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tg_console(tmp_path_factory: pytest.TempPathFactory, telegram_data: Path, nlu_cache: Path) -> Iterator[TelegramServer]:
    workdir = tmp_path_factory.mktemp("tg-console")
    add_account(workdir, "budi")
    fake, server = launch("polling", workdir, telegram_data, nlu_cache)
    yield server
    server.stop()
    fake.stop()


async def test_console_replies_reach_telegram(tg_console: TelegramServer) -> None:
    user = tg_console.user("id", first_name="Joko")
    user.say("/agent")
    user.replies(1)
    cid, status = tg_console.conversation(user.chat_id)
    assert status == "waiting_for_agent"
    before = len(user.received())

    assert tg_console.server is not None
    async with new_http() as http:
        budi = Agent(ConsoleServer(tg_console.server, tg_console.workdir, tg_console.data), http, "budi")
        assert (await budi.login()).status == 303
        status_code, body = await budi.act(cid, "take")
        assert status_code == 200
        joined = user.wait_text(r"Budi \(admin\) bergabung")
        assert joined
        status_code, body = await budi.act(cid, "reply", text="Halo Kak Joko, <b>ada</b> yang bisa saya bantu?")
        assert status_code == 200
        reply = user.wait_text(r"ada</b> yang bisa")
        assert reply == "Halo Kak Joko, <b>ada</b> yang bisa saya bantu?"  # plain text, as written

        # The customer's answer is stored for the agent; the bot stays quiet.
        user.say("paket saya belum sampai kak")
        status_code, messages = await budi.get_json(f"/console/api/conversations/{cid}/messages")
        texts = [(m["sender_type"], m["text"]) for m in messages["messages"]]
        for _ in range(50):
            if ("customer", "paket saya belum sampai kak") in texts:
                break
            await asyncio.sleep(0.1)
            status_code, messages = await budi.get_json(f"/console/api/conversations/{cid}/messages")
            texts = [(m["sender_type"], m["text"]) for m in messages["messages"]]
        assert ("customer", "paket saya belum sampai kak") in texts
        assert texts[-1][0] == "customer"

        status_code, body = await budi.act(cid, "resolve")
        assert status_code == 200
        closing = user.wait_text(r"Percakapan ini sudah selesai")
        assert "Terima kasih" in closing
    received = user.received()[before:]
    assert received.count("Halo Kak Joko, <b>ada</b> yang bisa saya bantu?") == 1

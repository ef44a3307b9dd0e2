"""A real `sapa run` with TELEGRAM_TOKEN, pointed at the fake Bot API, in polling or webhook mode.

``TgUser`` plays a Telegram user: it builds the updates Telegram would send (a text,
a command, a button press, a shared contact, a photo) and hands them to the server the
way the mode says — queued for ``getUpdates``, or POSTed to the webhook with the
secret token — then reads what the chat received from the fake's records.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import shutil
import sqlite3
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import DEMO_DATA, ROOT, RunningServer, free_port, sapa_env, start_server
from tests.telegram.fakebot import Call, FakeTelegram

WEBHOOK_SECRET = "s3cret-Token_for-the-tests"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_chat_ids = itertools.count(random.randint(10_000_000, 90_000_000) * 10)


@pytest.fixture(scope="session")
def telegram_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo shop (uploads land in the copy, not in the repository)."""
    target = tmp_path_factory.mktemp("telegram-data") / "data"
    shutil.copytree(DEMO_DATA, target, ignore=shutil.ignore_patterns(".secret_key", "uploads"))
    return target


@pytest.fixture(scope="session")
def nlu_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trained model for every Telegram test server."""
    return tmp_path_factory.mktemp("telegram-nlu-cache")


class TelegramServer:
    """A `sapa run` talking to a fake Bot API; restartable on the same port and database."""

    def __init__(
        self,
        mode: str,
        workdir: Path,
        data: Path,
        cache: Path,
        fake: FakeTelegram,
        args: tuple[str, ...] = (),
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.mode = mode
        self.extra_env = dict(extra_env or {})
        self.workdir = workdir
        self.data = data
        self.cache = cache
        self.fake = fake
        self.args = args
        self.port = free_port()
        self.server: RunningServer | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.base}/telegram/webhook"

    @property
    def db_path(self) -> Path:
        return self.workdir / "sapa.db"

    def env(self, **extra: str) -> dict[str, str]:
        values = {
            "TELEGRAM_TOKEN": self.fake.token,
            "TELEGRAM_API_BASE": self.fake.api_base,
            "SAPA_CACHE_DIR": str(self.cache),
            **self.extra_env,
            **extra,
        }
        if self.mode == "webhook":
            values["TELEGRAM_WEBHOOK_URL"] = self.webhook_url
            values["TELEGRAM_WEBHOOK_SECRET"] = WEBHOOK_SECRET
        return sapa_env(self.workdir, **values)

    def start(self) -> "TelegramServer":
        ready_method = "setWebhook" if self.mode == "webhook" else "getUpdates"
        before = len(self.fake.calls_of(ready_method))
        self.server = start_server(self.workdir, self.data, env=self.env(), port=self.port, args=self.args)
        self.fake.wait_for(
            lambda: len(self.fake.calls_of(ready_method)) > before, 60, f"the server's {ready_method}"
        )
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def output(self) -> str:
        return self.server.output() if self.server else ""

    # -- updates in ----------------------------------------------------------------

    def deliver(self, update: dict[str, Any]) -> None:
        if self.mode == "polling":
            self.fake.push_update(update)
            return
        update = {"update_id": self.fake.next_update_id(), **update}
        status, body = self.post_webhook(update, WEBHOOK_SECRET)
        assert status == 200, (status, body, self.output()[-3000:])

    def post_webhook(self, update: dict[str, Any], secret: str | None, path: str = "/telegram/webhook") -> tuple[int, str]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        request = urllib.request.Request(
            self.base + path, data=json.dumps(update).encode("utf-8"), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def user(self, language_code: str | None = "id", first_name: str = "Budi") -> "TgUser":
        return TgUser(self, next(_chat_ids), first_name, language_code)

    # -- looking inside ---------------------------------------------------------------

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db_path, timeout=10) as conn:
            return conn.execute(sql, args).fetchall()

    def conversation(self, chat_id: int) -> tuple[int, str]:
        [(conversation_id, status)] = self.query(
            "SELECT id, status FROM conversations WHERE channel = 'telegram' AND external_id = ? "
            "ORDER BY id DESC LIMIT 1",
            str(chat_id),
        )
        return conversation_id, status

    def customer_messages(self, chat_id: int) -> list[tuple[str, str]]:
        return [
            (text, attachments)
            for text, attachments in self.query(
                "SELECT m.text, m.attachments FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                "WHERE c.channel = 'telegram' AND c.external_id = ? AND m.sender_type = 'customer' ORDER BY m.id",
                str(chat_id),
            )
        ]

    def sapa(self, *args: str, stdin: str | None = None, **env_extra: str) -> subprocess.CompletedProcess[str]:
        """The `sapa` command on this server's database."""
        env = sapa_env(
            self.workdir, DATABASE_URL=f"sqlite:///{self.db_path}", SAPA_CACHE_DIR=str(self.cache), **env_extra
        )
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=self.workdir,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def agent_says(
        self,
        chat_id: int,
        text: str,
        *,
        take_over: bool = True,
        redis_url: str | None = None,
        attachments: list[dict[str, str]] | None = None,
    ) -> None:
        """An agent's reply, committed the way the console will: a stored agent message,
        announced on ``channel_topic("telegram")`` when a Redis bus is shared (else the
        server's sweep finds it)."""
        from bot.bus import RedisBus, channel_topic, message_event
        from bot.store import ConversationChanges, NewMessage, Store

        async def run() -> None:
            store = await Store.open(f"sqlite:///{self.db_path}", migrate=False)
            try:
                conversation = await store.open_conversation("telegram", str(chat_id), None)
                turn = await store.record_turn(
                    conversation.id,
                    None,
                    [NewMessage(sender_type="agent", text=text, attachments=list(attachments or []))],
                    ConversationChanges(status="with_agent" if take_over else None),
                )
                if redis_url:
                    bus = RedisBus.from_url(redis_url)
                    try:
                        await bus.publish(channel_topic("telegram"), message_event(turn.messages[0]))
                    finally:
                        await bus.close()
            finally:
                await store.close()

        asyncio.run(run())


class TgUser:
    """One Telegram user in a private chat with the bot (chat id = user id, as on Telegram)."""

    def __init__(self, server: TelegramServer, chat_id: int, first_name: str, language_code: str | None) -> None:
        self.server = server
        self.fake = server.fake
        self.chat_id = chat_id
        self.first_name = first_name
        self.language_code = language_code
        self.seen = 0

    @property
    def from_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.chat_id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def _message(self, **fields: Any) -> dict[str, Any]:
        return {
            "message": {
                "message_id": self.fake.next_message_id(),
                "date": int(time.time()),
                "chat": {"id": self.chat_id, "type": "private", "first_name": self.first_name},
                "from": self.from_user,
                **fields,
            }
        }

    def say(self, text: str) -> None:
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split(" ")[0])}]
        self.server.deliver(self._message(**fields))

    def press(self, bot_message: Call, title: str) -> str:
        """Press the inline button titled ``title`` under a message the bot sent; returns its data."""
        message = bot_message.result
        keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        for row in keyboard:
            for button in row:
                if button["text"] == title:
                    self.server.deliver(
                        {
                            "callback_query": {
                                "id": str(random.randint(1, 2**62)),
                                "from": self.from_user,
                                "message": message,
                                "chat_instance": f"ci{self.chat_id}",
                                "data": button["callback_data"],
                            }
                        }
                    )
                    return button["callback_data"]
        raise AssertionError(f"no button {title!r} in {keyboard}")

    def share_contact(self, phone_number: str, *, own: bool = True) -> None:
        contact = {
            "phone_number": phone_number,
            "first_name": self.first_name if own else "Someone Else",
            "user_id": self.chat_id if own else self.chat_id + 1,
        }
        self.server.deliver(self._message(contact=contact))

    def send_photo(self, data: bytes, caption: str | None = None) -> str:
        """A photo in two sizes (as Telegram sends them); returns the larger one's file id."""
        small_id, small_uid = self.fake.add_file(data[: len(data) // 2] or data, "photos/small.jpg")
        big_id, big_uid = self.fake.add_file(data, "photos/big.png")
        fields: dict[str, Any] = {
            "photo": [
                {"file_id": small_id, "file_unique_id": small_uid, "width": 90, "height": 90, "file_size": len(data) // 2},
                {"file_id": big_id, "file_unique_id": big_uid, "width": 800, "height": 600, "file_size": len(data)},
            ]
        }
        if caption:
            fields["caption"] = caption
        self.server.deliver(self._message(**fields))
        return big_id

    def replies(self, count: int = 1, timeout: float = 45.0) -> list[Call]:
        """The next ``count`` messages the chat received."""
        calls = self.fake.wait_sent(self.chat_id, self.seen + count, timeout)
        new = calls[self.seen : self.seen + count]
        self.seen += count
        return new

    def texts(self, count: int = 1) -> list[str]:
        return [c.params.get("text", "") for c in self.replies(count)]

    def received(self) -> list[str]:
        return self.fake.texts(self.chat_id)

    def wait_text(self, pattern: str, timeout: float = 45.0) -> str:
        """Wait for a message containing ``pattern``; everything received so far counts as seen."""
        import re

        found = self.fake.wait_for(
            lambda: [t for t in self.received() if re.search(pattern, t)], timeout, f"a message matching {pattern!r}"
        )
        self.seen = len(self.fake.sent(self.chat_id))
        return found[-1]


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid PNG, a few dozen bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def launch(
    mode: str,
    workdir: Path,
    data: Path,
    cache: Path,
    args: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
) -> tuple[FakeTelegram, TelegramServer]:
    fake = FakeTelegram().start()
    server = TelegramServer(mode, workdir, data, cache, fake, args, extra_env)
    try:
        server.start()
    except BaseException:
        fake.stop()
        raise
    return fake, server


@pytest.fixture(scope="module", params=["polling", "webhook"])
def tg(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, telegram_data: Path, nlu_cache: Path) -> Iterator[TelegramServer]:
    """The demo shop on Telegram, one server per mode, shared by a test module."""
    fake, server = launch(request.param, tmp_path_factory.mktemp(f"tg-{request.param}"), telegram_data, nlu_cache)
    yield server
    server.stop()
    fake.stop()


__all__ = ["ROOT", "TelegramServer", "TgUser", "launch", "tiny_png", "WEBHOOK_SECRET"]

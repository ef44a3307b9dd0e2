"""A widget test server (demo shop, its own widget.yml) and a small WebSocket client."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import aiohttp
import pytest

from tests.conftest import DEMO_DATA, RunningServer, start_server

# Strict limits so the limits can be tested; closed every day so the offline
# message is the same whenever the tests run.
TEST_WIDGET_YML = """\
version: 1
title: {id: "Chat dengan Toko Uji", en: "Chat with Toko Uji"}
colors: {primary: "#8B4513", text_on_primary: "#FFFFFF"}
prechat: {name: required, email: optional, phone: optional}
business_hours:
  timezone: Asia/Jakarta
  days: {mon: closed, tue: closed, wed: closed, thu: closed, fri: closed, sat: closed, sun: closed}
csat: {enabled: true}
allowed_origins: ["https://shop.example"]
limits: {messages_per_minute: 6, messages_per_minute_per_ip: 10000, max_chars: 500, upload_max_bytes: 200000}
"""

ALLOWED_ORIGIN = "https://shop.example"
TIMEOUT = 20.0


def copy_demo_data(target: Path, widget_yml: str = TEST_WIDGET_YML) -> Path:
    shutil.copytree(DEMO_DATA, target, ignore=shutil.ignore_patterns(".secret_key", "uploads"))
    (target / "widget.yml").write_text(widget_yml, encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def widget_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator["WidgetServer"]:
    workdir = tmp_path_factory.mktemp("widget-server")
    data = copy_demo_data(workdir / "data")
    server = start_server(workdir, data)
    yield WidgetServer(server, workdir, data)
    server.stop()


class WidgetServer:
    def __init__(self, server: RunningServer, workdir: Path, data: Path) -> None:
        self.server = server
        self.workdir = workdir
        self.data = data

    @property
    def base(self) -> str:
        return self.server.base

    @property
    def ws_base(self) -> str:
        return self.server.base.replace("http://", "ws://")

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.workdir / "sapa.db", timeout=10)
        conn.row_factory = sqlite3.Row
        return conn

    def rows(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        conn = self.db()
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def execute(self, sql: str, *params: Any) -> None:
        conn = self.db()
        try:
            conn.execute(sql, params)
            conn.commit()
        finally:
            conn.close()

    def max_seq(self, conversation_id: int) -> int:
        return self.rows("SELECT max(seq) AS s FROM messages WHERE conversation_id = ?", conversation_id)[0]["s"] or 0

    async def new_session(self, token: str | None = None, **headers: str) -> dict[str, Any]:
        async with aiohttp.ClientSession() as http:
            async with http.post(self.base + "/widget/session", json={"token": token, "lang": None}, headers=headers) as r:
                assert r.status == 200, await r.text()
                return await r.json()

    async def connect(self, token: str, http: aiohttp.ClientSession, **headers: str) -> "Tab":
        ws = await http.ws_connect(f"{self.ws_base}/widget/ws?token={token}", headers=headers, heartbeat=None)
        return Tab(ws)


def client_id() -> str:
    return uuid.uuid4().hex


class Tab:
    """One widget tab: a socket and every event it has received."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self.conversation_id: int | None = None

    async def send(self, **frame: Any) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def next_event(self) -> dict[str, Any]:
        msg = await asyncio.wait_for(self.ws.receive(), TIMEOUT)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"socket ended: {msg.type} {msg.data!r} {msg.extra!r}")
        event = json.loads(msg.data)
        self.events.append(event)
        return event

    async def until(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        while True:
            event = await self.next_event()
            if predicate(event):
                return event

    async def hello(self, last_seq: int = 0, **extra: Any) -> dict[str, Any]:
        await self.send(type="hello", last_seq=last_seq, **extra)
        welcome = await self.until(lambda e: e["type"] == "welcome")
        self.conversation_id = welcome["conversation_id"]
        return welcome

    async def say(self, text: str, cid: str | None = None, **extra: Any) -> dict[str, Any]:
        """Send a message; returns its ack (or the error about it)."""
        cid = cid or client_id()
        await self.send(type="message", client_id=cid, text=text, **extra)
        return await self.until(lambda e: e["type"] in ("ack", "error") and e.get("client_id") == cid)

    async def seen_up_to(self, seq: int) -> None:
        """Read until the message with ``seq`` (or a later one) has arrived."""
        if self.max_seq() >= seq:
            return
        await self.until(lambda e: e["type"] == "message" and e["seq"] >= seq)

    def messages(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == "message"]

    def max_seq(self) -> int:
        return max((e["seq"] for e in self.messages()), default=0)

    async def quiet(self) -> list[dict[str, Any]]:
        """Round-trip a ping and return what arrived before the pong."""
        start = len(self.events)
        await self.send(type="ping")
        await self.until(lambda e: e["type"] == "pong")
        return self.events[start:-1]

    async def close(self) -> None:
        await self.ws.close()

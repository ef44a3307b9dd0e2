"""A `sapa run` server with console accounts, and small clients for the console and the widget."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import aiohttp
import pytest

from tests.conftest import DEMO_DATA, ROOT, RunningServer, sapa_env, start_server

TIMEOUT = 20.0

# username → (role, display name, password)
ACCOUNTS = {
    "rina": ("admin", "Rina", "Kopi-Tubruk-88"),
    "budi": ("agent", "Budi", "Teh-Manis-99x"),
    "sari": ("agent", "Sari", "Es-Cendol-77"),
    "tono": ("agent", "Tono", "Gado-Gado-55"),  # the rate-limit test locks this one out
}


def copy_demo_data(target: Path) -> Path:
    shutil.copytree(DEMO_DATA, target, ignore=shutil.ignore_patterns(".secret_key", "uploads"))
    return target


def add_account(workdir: Path, username: str) -> None:
    role, name, password = ACCOUNTS[username]
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "agent", "add", username, "--role", role, "--name", name],
        cwd=workdir,
        env=sapa_env(workdir, SAPA_AGENT_PASSWORD=password),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


@dataclass
class ConsoleServer:
    server: RunningServer
    workdir: Path
    data: Path

    @property
    def base(self) -> str:
        return self.server.base

    @property
    def ws_base(self) -> str:
        return self.server.base.replace("http://", "ws://")

    @property
    def db_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.workdir / 'sapa.db'}"

    def rows(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        conn = sqlite3.connect(self.workdir / "sapa.db", timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    workdir = tmp_path_factory.mktemp("console-server")
    data = copy_demo_data(workdir / "data")
    for username in ACCOUNTS:
        add_account(workdir, username)
    server = start_server(workdir, data)
    yield ConsoleServer(server, workdir, data)
    server.stop()


# -- the console, as a browser would use it ------------------------------------------------


class Agent:
    """One logged-in console user: cookies, the CSRF token of the session, helpers."""

    def __init__(self, server: ConsoleServer, http: aiohttp.ClientSession, username: str) -> None:
        self.server = server
        self.http = http
        self.username = username
        self.csrf = ""
        self.id: int | None = None

    @property
    def origin(self) -> str:
        return self.server.base

    async def login(self, password: str | None = None) -> aiohttp.ClientResponse:
        password = ACCOUNTS[self.username][2] if password is None else password
        token = await login_form_token(self.http, self.server.base)
        async with self.http.post(
            self.server.base + "/console/login",
            data={"username": self.username, "password": password, "csrf_token": token, "next": "/console/inbox"},
            allow_redirects=False,
        ) as r:
            await r.read()
            if r.status == 303:
                await self.refresh_csrf()
            return r

    async def refresh_csrf(self) -> None:
        async with self.http.get(self.server.base + "/console/inbox") as r:
            html = await r.text()
            assert r.status == 200, html
        self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        self.id = int(re.search(r'data-agent-id="(\d+)"', html).group(1))  # type: ignore[union-attr]

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.server.base + path, allow_redirects=False) as r:
            return r.status, await r.text()

    async def get_json(self, path: str) -> tuple[int, Any]:
        async with self.http.get(self.server.base + path, allow_redirects=False) as r:
            return r.status, await r.json()

    async def act(self, conversation_id: int, action: str, **body: Any) -> tuple[int, dict[str, Any]]:
        return await self.post(f"/console/conversations/{conversation_id}/{action}", body)

    async def post(self, path: str, body: dict[str, Any] | None = None, *, csrf: str | None = None, **headers: str) -> tuple[int, dict[str, Any]]:
        headers = {"X-CSRF-Token": self.csrf if csrf is None else csrf, "Origin": self.origin, **headers}
        async with self.http.post(self.server.base + path, json=body or {}, headers=headers, allow_redirects=False) as r:
            try:
                return r.status, await r.json()
            except aiohttp.ContentTypeError:
                return r.status, {"html": await r.text()}

    async def form(self, path: str, data: dict[str, str], **headers: str) -> tuple[int, str, str | None]:
        """A plain HTML form post (no JavaScript): status, body, Location."""
        async with self.http.post(self.server.base + path, data=data, headers=headers, allow_redirects=False) as r:
            return r.status, await r.text(), r.headers.get("Location")

    async def socket(self, **headers: str) -> "ConsoleSocket":
        ws = await self.http.ws_connect(
            self.server.ws_base + "/console/ws", headers={"Origin": self.origin, **headers}, heartbeat=None
        )
        sock = ConsoleSocket(ws)
        hello = await sock.until(lambda e: e["type"] == "hello")
        assert hello["agent_id"] == self.id
        return sock


async def login_form_token(http: aiohttp.ClientSession, base: str) -> str:
    async with http.get(base + "/console/login") as r:
        html = await r.text()
        assert r.status == 200, html
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def new_http() -> aiohttp.ClientSession:
    # unsafe=True: keep cookies of an IP-address host (127.0.0.1), as browsers do.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


class ConsoleSocket:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []

    async def send(self, **frame: Any) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def next_event(self) -> dict[str, Any]:
        msg = await asyncio.wait_for(self.ws.receive(), TIMEOUT)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"console socket ended: {msg.type} {msg.data!r} {msg.extra!r}")
        event = json.loads(msg.data)
        self.events.append(event)
        return event

    async def until(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        for event in self.events:
            if predicate(event):
                self.events.remove(event)
                return event
        while True:
            event = await self.next_event()
            if predicate(event):
                self.events.remove(event)
                return event

    async def close(self) -> None:
        await self.ws.close()


# -- a customer in the widget ----------------------------------------------------------------


@dataclass
class Customer:
    ws: aiohttp.ClientWebSocketResponse
    visitor_id: str
    conversation_id: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)  # everything received
    unread: list[dict[str, Any]] = field(default_factory=list)  # not yet matched by until()

    async def send(self, **frame: Any) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def next_event(self) -> dict[str, Any]:
        msg = await asyncio.wait_for(self.ws.receive(), TIMEOUT)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"widget socket ended: {msg.type} {msg.data!r}")
        event = json.loads(msg.data)
        self.events.append(event)
        return event

    async def until(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first event (received earlier and not yet matched, or coming) that matches;
        events may arrive in any order (a status change before the message announcing it)."""
        for event in self.unread:
            if predicate(event):
                self.unread.remove(event)
                return event
        while True:
            event = await self.next_event()
            if predicate(event):
                return event
            self.unread.append(event)

    async def say(self, text: str) -> dict[str, Any]:
        cid = uuid.uuid4().hex
        await self.send(type="message", client_id=cid, text=text)
        ack = await self.until(lambda e: e["type"] in ("ack", "error") and e.get("client_id") == cid)
        assert ack["type"] == "ack", ack
        return ack

    def messages(self, sender: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == "message" and (sender is None or e["sender_type"] == sender)]


async def widget_customer(server: ConsoleServer, http: aiohttp.ClientSession, name: str | None = None) -> Customer:
    async with http.post(server.base + "/widget/session", json={"token": None}) as r:
        session = await r.json()
    ws = await http.ws_connect(f"{server.ws_base}/widget/ws?token={session['token']}", heartbeat=None)
    customer = Customer(ws, session["visitor_id"])
    await customer.send(type="hello", last_seq=0, lang="id")
    welcome = await customer.until(lambda e: e["type"] == "welcome")
    customer.conversation_id = welcome["conversation_id"]
    if name:
        await customer.send(type="prechat", name=name)
        await customer.until(lambda e: e["type"] == "saved")
    return customer


HANDOFF_TEXT = "kak saya mau bicara sama admin aja"
COMPLAINT_TEXT = "Kak, batik yang saya terima sobek di lengannya, saya kecewa. Tolong sambungkan ke admin ya"

"""Sapa behind a TLS-terminating reverse proxy on the same machine, as the README deploys it:
every connection comes from 127.0.0.1, and the proxy says who the client is in
``X-Forwarded-For`` and how they came in ``X-Forwarded-Proto``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.proxy import client_address, parse_trusted
from tests.conftest import RunningServer, start_server
from tests.widget.conftest import TEST_WIDGET_YML, copy_demo_data

PER_IP = 4
WIDGET_YML = TEST_WIDGET_YML.replace("messages_per_minute_per_ip: 10000", f"messages_per_minute_per_ip: {PER_IP}")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    workdir = tmp_path_factory.mktemp("proxied")
    server = start_server(workdir, copy_demo_data(workdir / "data", WIDGET_YML))
    yield server
    server.stop()


async def visitor_says(server: RunningServer, ip: str, texts: list[str]) -> list[dict]:
    """One visitor at ``ip`` (as the proxy reports it) sends ``texts``; the acks or errors."""
    headers = {"X-Forwarded-For": ip, "X-Forwarded-Proto": "https"}
    answers = []
    async with aiohttp.ClientSession() as http:
        async with http.post(server.base + "/widget/session", json={"token": None}, headers=headers) as r:
            token = (await r.json())["token"]
        ws = await http.ws_connect(server.base.replace("http", "ws") + f"/widget/ws?token={token}", headers=headers)
        await ws.send_json({"type": "hello", "last_seq": 0, "lang": "id"})
        for text in texts:
            cid = uuid.uuid4().hex
            await ws.send_json({"type": "message", "client_id": cid, "text": text})
            while True:
                event = json.loads((await ws.receive(timeout=20)).data)
                if event["type"] in ("ack", "error") and event.get("client_id") == cid:
                    answers.append(event)
                    break
        await ws.close()
    return answers


async def test_each_customer_has_their_own_rate_limit_behind_the_proxy(proxied: RunningServer) -> None:
    texts = [f"halo kak {n}" for n in range(PER_IP)]
    first = await visitor_says(proxied, "203.0.113.7", texts)
    assert [a["type"] for a in first] == ["ack"] * PER_IP
    # Another customer, elsewhere, through the same proxy: not slowed down by the first one.
    second = await visitor_says(proxied, "198.51.100.23", texts)
    assert [a["type"] for a in second] == ["ack"] * PER_IP
    # The same customer is still limited (the proxy's list ends with the address it saw).
    third = await visitor_says(proxied, "10.1.1.1, 203.0.113.7", ["lagi kak"])
    assert third[0]["type"] == "error" and third[0]["code"] == "rate_limited"


async def test_the_console_cookie_is_secure_when_the_proxy_says_https(proxied: RunningServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(proxied.base + "/console/login", headers={"X-Forwarded-Proto": "https"}) as r:
            assert r.status == 200
            cookies = r.headers.getall("Set-Cookie")
        assert cookies and all("Secure" in c for c in cookies)
        async with http.get(proxied.base + "/console/login") as r:
            assert not any("Secure" in c for c in r.headers.getall("Set-Cookie"))


def test_forwarded_addresses_are_believed_from_trusted_proxies_only() -> None:
    trusted = parse_trusted("127.0.0.1, ::1, 10.0.0.0/8")
    # Walking from the right, the first address that is not a trusted proxy is the client's.
    assert client_address("127.0.0.1", ["198.51.100.1, 203.0.113.7, 10.0.0.5"], trusted) == "203.0.113.7"
    assert client_address("127.0.0.1", ["203.0.113.7", "10.0.0.5"], trusted) == "203.0.113.7"
    # From anyone else, the header is whatever they wrote: ignored.
    assert client_address("192.0.2.50", ["203.0.113.7"], trusted) is None
    assert client_address("127.0.0.1", ["not-an-address"], trusted) is None
    assert client_address("127.0.0.1", [], trusted) is None
    assert client_address("127.0.0.1", ["203.0.113.7"], parse_trusted("")) is None

"""Image uploads: type by content, size limit, unguessable names, bound to the visitor."""

from __future__ import annotations

import struct
import zlib

import aiohttp

from tests.widget.conftest import WidgetServer


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"\x00\xff\x00\x00"  # one red pixel
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def upload(server: WidgetServer, token: str, content: bytes, filename: str, content_type: str = "image/png"):
    form = aiohttp.FormData()
    form.add_field("file", content, filename=filename, content_type=content_type)
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.base}/widget/upload?token={token}", data=form) as r:
            return r.status, await r.json(content_type=None)


async def test_an_image_is_stored_served_and_attached(widget_server: WidgetServer):
    token = (await widget_server.new_session())["token"]
    png = tiny_png()
    status, body = await upload(widget_server, token, png, "../../bukti transfer\u200b.png")
    assert status == 200, body
    assert body["url"] == f"/widget/uploads/{body['id']}" and len(body["id"]) == 32
    assert body["name"] == "bukti transfer.png"
    stored = list((widget_server.data / "uploads").glob(f"{body['id']}.*"))
    assert sorted(p.suffix for p in stored) == [".json", ".png"]

    async with aiohttp.ClientSession() as http:
        async with http.get(widget_server.base + body["url"]) as r:
            assert r.status == 200 and await r.read() == png
            assert r.headers["Content-Type"] == "image/png"
            assert r.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(widget_server.base + "/widget/uploads/" + "A" * 32) as r:
            assert r.status == 404
        async with http.get(widget_server.base + "/widget/uploads/..%2F..%2Fsapa.db") as r:
            assert r.status == 404

        tab = await widget_server.connect(token, http)
        await tab.hello()
        ack = await tab.say("ini bukti transfernya kak", attachments=[body["id"]])
        assert ack["type"] == "ack"
        await tab.seen_up_to(ack["seq"])
        message = next(m for m in tab.messages() if m["seq"] == ack["seq"])
        assert message["attachments"] == [{"kind": "image", "url": body["url"], "name": "bukti transfer.png"}]
        # A photo without words is a message too.
        assert (await tab.say("", attachments=[body["id"]]))["type"] == "ack"

        # Another visitor cannot attach it, nor attach made-up ids.
        thief = await widget_server.connect((await widget_server.new_session())["token"], http)
        await thief.hello()
        for attachments in ([body["id"]], ["A" * 32], ["../etc/passwd"], [1], "x"):
            refused = await thief.say("lihat ini", attachments=attachments)
            assert refused["type"] == "error" and refused["code"] == "invalid_attachment"
    assert widget_server.rows(
        "SELECT count(*) AS n FROM messages WHERE conversation_id = ?", thief.conversation_id
    )[0]["n"] == 0


async def test_uploads_too_large_not_images_or_without_token_are_refused(widget_server: WidgetServer):
    token = (await widget_server.new_session())["token"]
    big = tiny_png() + b"\x00" * 200_001
    status, body = await upload(widget_server, token, big, "big.png")
    assert status == 413 and body["error"] == "too_large"
    for content, name in ((b"<svg onload=alert(1)></svg>", "x.png"), (b"%PDF-1.4 ...", "invoice.jpg"), (b"", "empty.png")):
        status, body = await upload(widget_server, token, content, name)
        assert status == 415 and body["error"] == "not_an_image"
    status, _ = await upload(widget_server, "forged.token", tiny_png(), "a.png")
    assert status == 401
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{widget_server.base}/widget/upload?token={token}", data=b"nope") as r:
            assert r.status == 400
    uploads = widget_server.data / "uploads"
    assert not any(p.name.endswith(".tmp") for p in uploads.iterdir()) if uploads.exists() else True


async def test_a_malformed_multipart_body_is_a_400_not_a_500(widget_server: WidgetServer):
    token = (await widget_server.new_session())["token"]
    url = f"{widget_server.base}/widget/upload?token={token}"
    bodies = (
        b"--x\r\nnot a header line\r\n\r\nabc\r\n--x--\r\n",  # a part header aiohttp cannot parse
        b"--x\r\nContent-Disposition: form-data; name=\"file\"\r\nbroken\r\n\r\nabc\r\n--x--\r\n",
        b"garbage without any boundary",
    )
    async with aiohttp.ClientSession() as http:
        for body in bodies:
            async with http.post(url, data=body, headers={"Content-Type": "multipart/form-data; boundary=x"}) as r:
                assert r.status == 400, await r.text()
                assert (await r.json())["error"] == "invalid"
        async with http.get(f"{widget_server.base}/healthz") as r:
            assert r.status == 200

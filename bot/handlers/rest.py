"""Rasa's REST channel: ``POST /webhooks/rest/webhook``.

Request ``{"sender": "abc", "message": "hi", "metadata": {...}}``; response a
list of ``{"recipient_id", "text", "buttons", "custom"}``. A conversation is
keyed by (channel ``rest``, sender). The channel cannot push, so what agents wrote
since the sender's previous message (replies, "the admin has joined", "resolved")
opens the next response.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from bot.engine import Engine
from bot.httputil import BadRequest, read_json_object, text_field
from bot.types import Attachment, IncomingMessage, TurnResult

CHANNEL = "rest"
MAX_TEXT_BYTES = 4096
MAX_BODY_BYTES = 64 * 1024
MAX_SENDER_CHARS = 128
MAX_IMAGE_URL = 2048
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_IMAGE_URL = re.compile(r"^(https://[^\s<>\"']+|/widget/uploads/[A-Za-z0-9_-]+)$")

ENGINE = web.AppKey("engine", Engine)


async def webhook(request: web.Request) -> web.Response:
    data = await read_json_object(request, max_bytes=MAX_BODY_BYTES)
    sender = data.get("sender")
    if isinstance(sender, int) and not isinstance(sender, bool):
        sender = str(sender)  # Rasa clients often send numeric ids
    if not isinstance(sender, str) or not sender.strip():
        raise BadRequest(400, "invalid_sender", 'Field "sender" must be a non-empty string.')
    if len(sender) > MAX_SENDER_CHARS:
        raise BadRequest(400, "invalid_sender", f'Field "sender" is longer than {MAX_SENDER_CHARS} characters.')
    if _UNSTORABLE.search(sender):
        # The store turns NUL and lone surrogates into U+FFFD, so "\ud800", "\udfff" and
        # "\ufffd" would all be one conversation: each sender would read the others' pushed
        # replies and share their verified orders. No real client id holds them.
        raise BadRequest(400, "invalid_sender", 'Field "sender" contains a NUL character or invalid unicode.')
    text = text_field(data, "message", max_bytes=MAX_TEXT_BYTES)
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadRequest(400, "invalid_type", 'Field "metadata" must be an object.')
    lang = metadata.get("lang")
    message = IncomingMessage(
        channel=CHANNEL,
        sender_id=sender,
        text=text,
        lang_hint=lang if lang in ("id", "en") else None,
        client_id=_client_id(metadata),
        attachments=_image(metadata),
        metadata=metadata,
    )
    result = await request.app[ENGINE].handle(message)
    return web.json_response(render(sender, result))


def _image(metadata: dict[str, Any]) -> tuple[Attachment, ...]:
    """``metadata.image_url``: an image the customer sent (e.g. a transfer receipt), as an
    https URL or a path this server serves (a widget upload)."""
    url = metadata.get("image_url")
    if url is None:
        return ()
    if not isinstance(url, str) or len(url) > MAX_IMAGE_URL or not _IMAGE_URL.match(url):
        raise BadRequest(400, "invalid_image_url", 'Field "metadata.image_url" must be an https:// URL or a /widget/uploads/ path.')
    return (Attachment("image", url, url.rsplit("/", 1)[-1][:100]),)


def _client_id(metadata: dict[str, Any]) -> str | None:
    value = metadata.get("message_id")
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
        return str(value)[:128]
    return None


def render(recipient_id: str, result: TurnResult) -> list[dict[str, Any]]:
    """What agents wrote since the sender's previous message (REST cannot push it), then
    the engine's replies, in Rasa's REST response shape; every one carries the turn's ``custom``."""
    custom = result.info.as_custom()
    return [
        {
            "recipient_id": recipient_id,
            "text": reply.text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in reply.buttons],
            "custom": custom,
        }
        for reply in (*result.unseen, *result.replies)
    ]


def add_routes(app: web.Application) -> None:
    app.router.add_post("/webhooks/rest/webhook", webhook)

"""JSON requests and errors: bad input gets a clear 4xx answer, never a 500."""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy

from bot import metrics
from bot.bus import BusUnavailable
from bot.store.engines import DatabaseUnavailable, note_database_unavailable
from bot.store.sanitize import is_blank

log = logging.getLogger(__name__)


def loads_json(text: str) -> Any:
    """``json.loads`` that fails only with ``ValueError``, whatever the input.

    The parser recurses once per nesting level, so ``[[[[…`` a few thousand deep
    raises ``RecursionError``, and an integer of more than 4,300 digits a plain
    ``ValueError`` without the position details of ``JSONDecodeError``: both are
    a client's malformed input, not a server fault.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


class BadRequest(Exception):
    """A client mistake, answered as ``{"error": code, "message": ...}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


async def read_json_object(request: web.Request, *, max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object, refusing oversized, non-UTF-8 or malformed bodies."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise BadRequest(413, "payload_too_large", f"Request body is larger than {max_bytes} bytes.")
    body = await request.content.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise BadRequest(413, "payload_too_large", f"Request body is larger than {max_bytes} bytes.")
    if not body.strip():
        raise BadRequest(400, "empty_body", "Request body is empty; send a JSON object.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(400, "invalid_encoding", "Request body is not valid UTF-8.") from None
    try:
        data = loads_json(text)
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc).split(";")[0]
        raise BadRequest(400, "invalid_json", f"Request body is not valid JSON: {reason}.") from None
    if not isinstance(data, dict):
        raise BadRequest(400, "invalid_type", "Request body must be a JSON object.")
    return data


# What aiohttp raises on a malformed form or multipart body: a bad part header
# (InvalidHeader), raw bytes that are not UTF-8 (UnicodeDecodeError), a missing
# or wrong boundary (ValueError, AssertionError).
MALFORMED_BODY: tuple[type[Exception], ...] = (HttpProcessingError, ValueError, AssertionError)


def malformed_form() -> BadRequest:
    return BadRequest(400, "invalid_form", "Request body is not a valid form.")


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """``request.post()``, answering a malformed body with 400 instead of a 500."""
    try:
        return await request.post()
    except MALFORMED_BODY:
        raise malformed_form() from None


def text_field(
    data: dict[str, Any], name: str, *, max_bytes: int, required: bool = True
) -> str | None:
    """A string field, present and non-blank when required, at most ``max_bytes`` of UTF-8."""
    value = data.get(name)
    if value is None:
        if required:
            raise BadRequest(400, "missing_field", f'Field "{name}" is required.')
        return None
    if not isinstance(value, str):
        raise BadRequest(400, "invalid_type", f'Field "{name}" must be a string.')
    if "\x00" in value:
        raise BadRequest(400, "invalid_text", f'Field "{name}" contains a NUL character.')
    if len(value.encode("utf-8", "surrogatepass")) > max_bytes:
        raise BadRequest(413, "text_too_long", f'Field "{name}" is longer than {max_bytes} bytes.')
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(400, "invalid_text", f'Field "{name}" contains invalid unicode.') from None
    if required and is_blank(value):
        raise BadRequest(400, "empty_field", f'Field "{name}" must not be empty.')
    return value


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turns client mistakes into JSON errors and keeps the server serving."""
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    try:
        return await handler(request)
    except BadRequest as exc:
        metrics.HTTP_ERRORS.labels(route, str(exc.status)).inc()
        return json_error(exc.status, exc.code, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        metrics.HTTP_ERRORS.labels(route, str(exc.status)).inc()
        return json_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
    except (BusUnavailable, DatabaseUnavailable) as exc:
        # Redis (logged once by the bus) or PostgreSQL is away for a moment; nothing was
        # done, so the client may simply repeat the request.
        if isinstance(exc, DatabaseUnavailable):
            note_database_unavailable(exc)
        response = json_error(503, "unavailable", "Temporarily unavailable; please try again in a moment.")
        response.headers["Retry-After"] = "5"
        return response

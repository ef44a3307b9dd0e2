"""Widget session tokens and the origin check.

A token is ``<visitor id>.<signature>``: the visitor id is 128 random bits in
url-safe base64, the signature HMAC-SHA256 of the id under ``SAPA_SECRET_KEY``
(url-safe base64, no padding). Whoever holds the token is that visitor, and
only that visitor: the token names one conversation key, (``widget``, id).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from urllib.parse import SplitResult, urlsplit

from aiohttp import web

_VISITOR_RE = re.compile(r"[A-Za-z0-9_-]{22}")
MAX_TOKEN_CHARS = 128


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class TokenSigner:
    """Issues and checks visitor tokens with one secret key."""

    def __init__(self, secret: str) -> None:
        # A purpose-bound key: the same secret also signs other things (console sessions).
        self._key = hmac.new(secret.encode("utf-8"), b"sapa widget token v1", hashlib.sha256).digest()

    def _signature(self, visitor_id: str) -> str:
        return _b64(hmac.new(self._key, visitor_id.encode("ascii"), hashlib.sha256).digest())

    def new_token(self) -> tuple[str, str]:
        """``(token, visitor_id)`` for a new visitor."""
        visitor_id = _b64(secrets.token_bytes(16))
        return f"{visitor_id}.{self._signature(visitor_id)}", visitor_id

    def visitor(self, token: object) -> str | None:
        """The visitor id of a genuine token, or None for anything else."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            return None
        visitor_id, signature = token.split(".")
        if not _VISITOR_RE.fullmatch(visitor_id):
            return None
        if not hmac.compare_digest(signature.encode("ascii", "replace"), self._signature(visitor_id).encode("ascii")):
            return None
        return visitor_id


def split_origin(origin: str) -> SplitResult | None:
    """``urlsplit`` of an ``Origin`` header, or None when it cannot be parsed.

    ``urlsplit`` raises ``ValueError`` on an unbalanced or bogus IPv6 host
    ("http://[", "http://[zz]"): any client may send such a header, and it is a
    refused origin, not a server error.
    """
    try:
        return urlsplit(origin.strip())
    except ValueError:
        return None


def request_origin(request: web.Request) -> str | None:
    """The ``Origin`` header, normalized to ``scheme://host[:port]`` in lower case
    (an unparseable one as sent, which matches no allowed origin)."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin or None
    parts = split_origin(origin)
    if parts is None or not parts.scheme or not parts.netloc:
        return origin
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_allowed(request: web.Request, allowed: tuple[str, ...]) -> bool:
    """Whether a request may use the widget endpoints.

    No ``Origin`` (not a browser page), same-origin requests and, when
    ``allowed`` is empty, every origin pass. Otherwise the origin must be listed.
    """
    origin = request_origin(request)
    if origin is None:
        return True
    if origin != "null":
        parts = split_origin(origin)
        if parts is not None and parts.netloc and parts.netloc == (request.host or "").lower():
            return True  # same origin (the scheme may differ behind a TLS-terminating proxy)
    if not allowed:
        return True
    return origin in allowed

"""Behind a reverse proxy: who the client is and how they came in.

A TLS-terminating proxy on the same machine makes every request come from 127.0.0.1
over plain http. Per-address limits (the widget's messages per IP, failed console and
admin logins) then treated all customers as one, and one person guessing passwords
locked every agent out; the console's ``Secure`` cookie (``auto``) was never set.

From a trusted proxy (``SAPA_TRUSTED_PROXIES``, default the loopback addresses) the
middleware believes ``X-Forwarded-For`` — the client is the rightmost address that is
not itself a trusted proxy — and ``X-Forwarded-Proto``. From anyone else those headers
are whatever the sender wrote, and are ignored.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Awaitable, Callable, Sequence

from aiohttp import web

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_TRUSTED = "127.0.0.1, ::1"


def parse_trusted(value: str) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` → networks; an entry that is not an address is logged and skipped."""
    networks = []
    for entry in value.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            log.warning("SAPA_TRUSTED_PROXIES: %r is not an IP address or network; ignored", entry)
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str | None:
    """The client's address when ``peer`` is a trusted proxy that said it; None otherwise."""
    direct = _address(peer or "")
    if direct is None or not _trusted(direct, trusted):
        return None
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return None  # garbled: believe nothing rather than a guess
        if not _trusted(address, trusted):
            return str(address)
    return None


def middleware(trusted: Sequence[Network]) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def forwarded(request: web.Request, handler) -> web.StreamResponse:  # type: ignore[no-untyped-def]
        changes: dict[str, str] = {}
        client = client_address(request.remote, request.headers.getall("X-Forwarded-For", []), trusted)
        if client is not None:
            changes["remote"] = client
        direct = _address(request.remote or "")
        if direct is not None and _trusted(direct, trusted):
            proto = request.headers.get("X-Forwarded-Proto", "").rsplit(",", 1)[-1].strip().lower()
            if proto in ("http", "https"):
                changes["scheme"] = proto
        return await handler(request.clone(**changes) if changes else request)

    return forwarded

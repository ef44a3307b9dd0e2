"""The console's own settings, from the environment (all optional)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Mapping


@dataclass(frozen=True)
class ConsoleSettings:
    """``SAPA_CONSOLE_SECURE_COOKIE``: ``auto`` (default: Secure when the request came over
    https), ``1`` (always: set it behind a TLS proxy) or ``0``. Sessions end after
    ``SAPA_CONSOLE_SESSION_HOURS`` (12) or ``SAPA_CONSOLE_IDLE_MINUTES`` (120) without use."""

    secure_cookie: str = "auto"
    session_lifetime: timedelta = timedelta(hours=12)
    idle_timeout: timedelta = timedelta(minutes=120)
    # Failed logins: per username (any address) and per address, burst then a steady trickle.
    login_failures_per_user: int = 5
    login_failures_per_ip: int = 20
    login_window_seconds: float = 300.0
    timezone: str = "Asia/Jakarta"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ConsoleSettings":
        env = os.environ if environ is None else environ
        secure = (env.get("SAPA_CONSOLE_SECURE_COOKIE") or "auto").strip().lower()
        if secure in ("1", "true", "yes", "on"):
            secure = "1"
        elif secure in ("0", "false", "no", "off"):
            secure = "0"
        else:
            secure = "auto"
        return cls(
            secure_cookie=secure,
            session_lifetime=timedelta(hours=_number(env.get("SAPA_CONSOLE_SESSION_HOURS"), 12)),
            idle_timeout=timedelta(minutes=_number(env.get("SAPA_CONSOLE_IDLE_MINUTES"), 120)),
            timezone=(env.get("SAPA_CONSOLE_TIMEZONE") or "Asia/Jakarta").strip(),
        )


def _number(raw: str | None, default: float) -> float:
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default

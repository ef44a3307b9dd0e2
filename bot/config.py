"""Settings from the environment (all optional) and the command line."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from bot.types import Lang

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./sapa.db"
DEFAULT_TELEGRAM_API_BASE = "https://api.telegram.org/bot"


@dataclass(frozen=True)
class Settings:
    """Everything configurable; see the README's configuration table."""

    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    telegram_token: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_base: str = DEFAULT_TELEGRAM_API_BASE
    secret_key: str | None = None
    default_lang: Lang = "id"
    cache_dir: Path = Path(".sapa-cache")
    trusted_proxies: str = "127.0.0.1, ::1"  # whose X-Forwarded-For/-Proto to believe (bot/proxy.py)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        env = os.environ if environ is None else environ
        lang = env.get("SAPA_DEFAULT_LANG", "id").strip().lower()
        settings = cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            redis_url=env.get("REDIS_URL") or None,
            telegram_token=env.get("TELEGRAM_TOKEN") or None,
            telegram_webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
            telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
            telegram_api_base=env.get("TELEGRAM_API_BASE") or DEFAULT_TELEGRAM_API_BASE,
            secret_key=env.get("SAPA_SECRET_KEY") or None,
            default_lang="en" if lang == "en" else "id",
            cache_dir=Path(env.get("SAPA_CACHE_DIR") or ".sapa-cache"),
            trusted_proxies=env.get("SAPA_TRUSTED_PROXIES", "127.0.0.1, ::1"),
        )
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def database_url_async(self) -> str:
        """Plain ``postgresql://`` and ``sqlite://`` URLs get their async drivers."""
        url = self.database_url
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            return "postgresql+asyncpg://" + url[len("postgresql://") :]
        if url.startswith("sqlite://"):
            return "sqlite+aiosqlite://" + url[len("sqlite://") :]
        return url


def secret_key(settings: Settings) -> str:
    """``SAPA_SECRET_KEY``, or one generated once and kept in the data dir.

    Every worker of ``sapa run --workers N`` asks at about the same moment; the file is
    created whole and only if absent, so all of them end up with the first one's key
    (two keys made widget tokens of one worker invalid on the other).
    """
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / ".secret_key"
    existing = _read_key(path)
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(draft, path)  # fails when another process got there first
        except FileExistsError:
            if not _read_key(path):  # an empty file left behind: ours replaces it
                os.replace(draft, path)
    finally:
        draft.unlink(missing_ok=True)
    return _read_key(path) or secret_key(settings)


def _read_key(path: Path) -> str | None:
    try:
        return path.read_text("ascii").strip() or None
    except FileNotFoundError:
        return None

"""Staff accounts: agents and admins, with argon2id password hashes.

``sapa agent add`` creates them; the admin API (and later the console) checks
their passwords here. Passwords are never stored, only argon2id hashes (the
argon2-cffi defaults, re-hashed on login when those defaults grow). Checking a
password is deliberately slow (a fifth of a second), so it runs in a worker
thread, and an unknown username costs the same time as a wrong password.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.store.models import agents
from bot.store.writer import Failed

if TYPE_CHECKING:
    from bot.store import Store

ROLES = ("agent", "admin")
USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
# Passwords that pass the length rule but that every guesser tries first.
_COMMON = {
    "1234567890", "12345678910", "0123456789", "qwertyuiop", "password1", "password12",
    "password123", "passw0rd123", "iloveyou123", "sapasapasapa", "adminadmin", "admin12345",
    "administrator", "bismillah123", "indonesia123", "rahasia123", "katasandi", "katasandi123",
}

_hasher = PasswordHasher()  # argon2id
# Verified against when the username does not exist, so both cases take as long.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


@dataclass(frozen=True)
class AgentRecord:
    """A staff account as stored (without its password hash)."""

    id: int
    username: str
    display_name: str
    role: str  # "agent" | "admin"
    active: bool
    created_at: datetime
    last_login_at: datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class AccountError(ValueError):
    """A username, role or password that cannot be used; the message says why (in English,
    for the shell). ``code`` and ``params`` say the same for a caller that speaks another
    language (the console)."""

    def __init__(self, message: str, code: str = "invalid", **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class DuplicateUsername(AccountError):
    pass


class WeakPassword(AccountError):
    pass


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_username(username: str) -> str:
    name = normalize_username(username)
    if not USERNAME_RE.fullmatch(name):
        raise AccountError(
            "a username is 2-64 characters: lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            "bad_username",
        )
    return name


def check_password(password: str, username: str = "") -> None:
    """Refuse empty, short, common or username-like passwords (:class:`WeakPassword`)."""
    if not password or not password.strip():
        raise WeakPassword("the password is empty", "empty_password")
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"the password is too short: use at least {MIN_PASSWORD} characters", "short_password", min=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"the password is too long: at most {MAX_PASSWORD} characters", "long_password", max=MAX_PASSWORD)
    lowered = password.lower()
    if len(set(password)) < 4 or re.fullmatch(r"(.{1,8}?)\1+", password):
        raise WeakPassword("the password repeats too few characters; mix more of them", "repetitive_password")
    if lowered in _COMMON or lowered.rstrip("!?.0123456789") in {"password", "qwerty", "admin", "sapa"}:
        raise WeakPassword("the password is one that attackers try first; choose another", "common_password")
    if username and username.lower() in lowered:
        raise WeakPassword("the password must not contain the username", "password_has_username")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_COLUMNS = [
    agents.c.id,
    agents.c.username,
    agents.c.display_name,
    agents.c.role,
    agents.c.active,
    agents.c.created_at,
    agents.c.last_login_at,
]


def _insert_agent(
    conn: Connection, now: datetime, *, username: str, display_name: str, role: str, password_hash: str
) -> AgentRecord | Failed:
    if conn.execute(select(agents.c.id).where(agents.c.username == username)).first() is not None:
        return Failed(DuplicateUsername(f"the username '{username}' is taken", "username_taken", username=username))
    try:
        with conn.begin_nested():
            row = conn.execute(
                insert(agents)
                .values(
                    username=username,
                    display_name=display_name,
                    role=role,
                    password_hash=password_hash,
                    active=True,
                    created_at=now,
                    last_login_at=None,
                )
                .returning(*_COLUMNS)
            ).one()
    except IntegrityError:  # another process created it in the meantime
        return Failed(DuplicateUsername(f"the username '{username}' is taken", "username_taken", username=username))
    return AgentRecord(*row)


def _fetch(conn: Connection, username: str) -> tuple[AgentRecord, str] | None:
    row = conn.execute(
        select(*_COLUMNS, agents.c.password_hash).where(agents.c.username == username)
    ).first()
    return None if row is None else (AgentRecord(*row[:-1]), row[-1])


def _logged_in(conn: Connection, now: datetime, *, agent_id: int, new_hash: str | None) -> None:
    values: dict[str, object] = {"last_login_at": now}
    if new_hash is not None:
        values["password_hash"] = new_hash
    conn.execute(update(agents).where(agents.c.id == agent_id).values(**values))


async def create_agent(
    store: "Store", username: str, password: str, role: str, display_name: str | None = None
) -> AgentRecord:
    """A new active account. Raises :class:`AccountError` (or a subclass) saying what is wrong."""
    name = check_username(username)
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}", "bad_role")
    check_password(password, name)
    display = (display_name or "").strip() or name
    if len(display) > 255:
        raise AccountError("the display name is longer than 255 characters", "long_display_name")
    loop = asyncio.get_running_loop()
    password_hash = await loop.run_in_executor(None, hash_password, password)
    return await store.write(
        partial(_insert_agent, username=name, display_name=display, role=role, password_hash=password_hash)
    )


async def get_agent(store: "Store", username: str) -> AgentRecord | None:
    found = await store.read(_fetch, normalize_username(username))
    return None if found is None else found[0]


def _verify(password_hash: str, password: str) -> tuple[bool, bool]:
    """``(matches, needs_rehash)``."""
    try:
        _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    return True, _hasher.check_needs_rehash(password_hash)


async def authenticate(store: "Store", username: str, password: str) -> AgentRecord | None:
    """The active account with this username and password, or ``None``.

    Records the login time (and upgrades an outdated hash).
    """
    name = normalize_username(username)
    found = await store.read(_fetch, name) if USERNAME_RE.fullmatch(name) else None
    loop = asyncio.get_running_loop()
    if found is None or len(password) > MAX_PASSWORD:
        await loop.run_in_executor(None, _verify, _DUMMY_HASH, password[:MAX_PASSWORD])
        return None
    agent, password_hash = found
    matches, rehash = await loop.run_in_executor(None, _verify, password_hash, password)
    if not matches or not agent.active:
        return None
    new_hash = await loop.run_in_executor(None, hash_password, password) if rehash else None
    await store.write(partial(_logged_in, agent_id=agent.id, new_hash=new_hash))
    return agent

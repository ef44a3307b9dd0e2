"""Shared fixtures: a real `sapa run` server in a subprocess, and helpers to reach it."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from contextlib import contextmanager
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import asyncpg

import pytest
import urllib.request

from bot.store.engines import normalize_url

ROOT = Path(__file__).resolve().parent.parent
DEMO_DATA = ROOT / "data"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class RunningServer:
    """A `sapa run` subprocess; ``base`` is its URL, ``log`` its combined output file."""

    base: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text("utf-8", "replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def sapa_env(workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "TELEGRAM_"))}
    env["SAPA_CACHE_DIR"] = str(workdir / "cache")
    env["PYTHONUNBUFFERED"] = "1"
    # Subprocesses import this checkout, whatever `pip install -e` last pointed at.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def start_server(
    workdir: Path,
    data_dir: Path = DEMO_DATA,
    *,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    timeout: float = 240,
    port: int | None = None,
) -> RunningServer:
    """Start `sapa run` in ``workdir`` (where its default ./sapa.db lives) and wait until healthy.

    ``port`` picks the port (e.g. to restart a server where its clients expect it); a free one by default.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = workdir / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--data-dir", str(data_dir), "--port", str(port), *args],
            cwd=workdir,
            env=env or sapa_env(workdir),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = RunningServer(base=f"http://127.0.0.1:{port}", process=process, log=log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sapa run exited with {process.returncode}:\n{server.output()}")
        try:
            with urllib.request.urlopen(server.base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"sapa run did not become healthy:\n{server.output()}")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The demo shop on a fresh SQLite file, shared by one test module."""
    server = start_server(tmp_path_factory.mktemp("demo-server"))
    yield server
    server.stop()


# -- PostgreSQL ------------------------------------------------------------------
# A database of its own per test session, ``sapa_test_<hex>``, created from the
# ``test`` database on 127.0.0.1:5432 (override with ``SAPA_TEST_POSTGRES``) and
# dropped at the end; tests that need it skip with the reason when the server does not answer.

ADMIN_DSN = os.environ.get("SAPA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _dsn_for(database: str) -> str:
    return str(normalize_url(ADMIN_DSN).set(database=database).set(drivername="postgresql"))


def blocking(coro_fn, *args):  # type: ignore[no-untyped-def]
    """Run a coroutine to completion from sync code, even under a running loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro_fn(*args)).result()


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN, timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; its asyncpg DSN."""
    with own_postgres_database() as dsn:
        yield dsn


@contextmanager
def own_postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; its asyncpg DSN. Skips the test
    when no PostgreSQL server answers."""
    name = f"sapa_test_{uuid.uuid4().hex[:12]}"
    try:
        blocking(_admin, f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        pytest.skip(f"PostgreSQL not available at {ADMIN_DSN}: {exc!r}")
    try:
        yield _dsn_for(name)
    finally:
        blocking(_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

"""Shared fixtures: a real `sapa run` server in a subprocess, and helpers to reach it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import urllib.request

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
    env.update(extra)
    return env


def start_server(
    workdir: Path, data_dir: Path = DEMO_DATA, *, env: dict[str, str] | None = None, timeout: float = 240
) -> RunningServer:
    """Start `sapa run` in ``workdir`` (where its default ./sapa.db lives) and wait until healthy."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--data-dir", str(data_dir), "--port", str(port)],
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

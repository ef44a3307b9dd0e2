"""`sapa run --workers 2`: one process polls and sends; webhook updates land on any worker."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.telegram.conftest import launch

REDIS_URL = "redis://127.0.0.1:6379/14"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_two_workers_one_poller_and_every_message_answered_once(
    mode: str, tmp_path: Path, telegram_data: Path, nlu_cache: Path
) -> None:
    fake, server = launch(mode, tmp_path / "server", telegram_data, nlu_cache, args=("--workers", "2"))
    try:
        users = [server.user() for _ in range(6)]
        for user in users:
            user.say("bisa bayar pakai apa aja kak")
        for user in users:
            [reply] = user.replies(1)
            assert "Kami menerima transfer bank" in reply.params["text"]
        # A second round, after both workers have surely been up for a while.
        for user in users:
            user.say("makasih kak")
        for user in users:
            user.replies(1)
            assert len(user.received()) == 2
        # Two pollers would keep ending each other's getUpdates (409 Conflict).
        assert fake.conflicts == 0
        [(holders,)] = server.query("SELECT count(*) FROM telegram_leases")
        assert holders == 1
        if mode == "webhook":
            assert not fake.calls_of("getUpdates")
    finally:
        server.stop()
        fake.stop()


@pytest.mark.skipif(not _redis_answers(), reason="Redis on 127.0.0.1:6379 does not answer")
def test_with_redis_an_agent_reply_from_elsewhere_arrives_at_once(
    tmp_path: Path, telegram_data: Path, nlu_cache: Path
) -> None:
    """Workers sharing Redis: webhook updates on any worker, and a message another process
    commits and announces on the bus is delivered without waiting for the sweep."""
    fake, server = launch(
        "webhook", tmp_path / "server", telegram_data, nlu_cache, args=("--workers", "2"), extra_env={"REDIS_URL": REDIS_URL}
    )
    try:
        users = [server.user() for _ in range(4)]
        for user in users:
            user.say("/agent")
        for user in users:
            user.wait_text(r"TK-\d{4}-\d+")  # the handoff opened a ticket
        for user in users:
            server.agent_says(user.chat_id, f"Halo Kak {user.chat_id}, saya Rina.", redis_url=REDIS_URL)
        for user in users:
            assert user.texts(1) == [f"Halo Kak {user.chat_id}, saya Rina."]
        # Delivered from the bus (at once), not found later by the sweep: the sweep's cursor
        # is behind and the rows' dedupe keys keep it from sending them again.
        user = users[0]
        user.say("makasih kak")
        server.agent_says(user.chat_id, "Sama-sama Kak!", redis_url=REDIS_URL)
        assert user.texts(1) == ["Sama-sama Kak!"]
        assert user.received().count("Sama-sama Kak!") == 1
        assert user.received().count(f"Halo Kak {user.chat_id}, saya Rina.") == 1
    finally:
        server.stop()
        fake.stop()

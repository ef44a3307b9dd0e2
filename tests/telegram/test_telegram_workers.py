"""`sapa run --workers 2`: one process polls and sends; webhook updates land on any worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.telegram.conftest import launch


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

"""A Telegram customer writes while the workers' Redis is away for a few seconds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.telegram.conftest import launch
from tests.test_redis_outage import REDIS_SERVER, OwnRedis

pytestmark = pytest.mark.slow


@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed (apt-get install redis-server)")
def test_a_message_sent_while_redis_is_away_is_answered_once_it_is_back(
    tmp_path: Path, telegram_data: Path, nlu_cache: Path
) -> None:
    redis = OwnRedis(free_port())
    redis.start()
    fake, server = launch("polling", tmp_path / "server", telegram_data, nlu_cache, extra_env={"REDIS_URL": redis.url})
    try:
        user = server.user()
        user.say("halo kak")
        user.replies(1)
        redis.stop()
        user.say("bisa bayar pakai apa aja kak")
        # Longer than the few attempts the server gives a failing update (about 7 s): it used to
        # drop the update then, and Telegram, told it was processed, never sent it again.
        time.sleep(12)
        redis.start()
        [reply] = user.replies(1)
        assert "Kami menerima transfer bank" in reply.params["text"]
    finally:
        server.stop()
        fake.stop()
        redis.stop()

"""Telegram's limits without losing messages: 429 RetryAfter, network errors, restarts;
and a webhook that only Telegram (knowing the secret) can call."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.telegram.conftest import WEBHOOK_SECRET, TelegramServer, launch

ANSWER = "Kami menerima transfer bank"


def test_a_429_is_retried_after_the_delay_and_delivered_once(tg: TelegramServer) -> None:
    user = tg.user()
    tg.fake.fail_next("sendMessage", status=429, retry_after=2, chat_id=user.chat_id)
    user.say("bisa bayar pakai apa aja kak")
    [reply] = user.replies(1)
    assert ANSWER in reply.params["text"]
    attempts = tg.fake.calls_of("sendMessage", user.chat_id)
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[0].params["text"] == attempts[1].params["text"]
    assert attempts[1].at - attempts[0].at >= 2 * 0.95  # Telegram's retry_after was respected
    # Nothing more comes later.
    user.say("makasih")
    user.replies(1)
    assert sum(ANSWER in t for t in user.received()) == 1


def test_a_network_error_is_retried_with_backoff(tg: TelegramServer) -> None:
    user = tg.user()
    tg.fake.fail_next("sendMessage", status=502, description="Bad Gateway", chat_id=user.chat_id, times=2)
    user.say("bisa bayar pakai apa aja kak")
    [reply] = user.replies(1)
    assert ANSWER in reply.params["text"]
    assert [c.status for c in tg.fake.calls_of("sendMessage", user.chat_id)] == [502, 502, 200]
    # The sender records the send after Telegram's answer reached it, which can be a moment
    # after the fake server (and so the test) saw the message.
    sent = [("sent", 3)]
    query = "SELECT status, attempts FROM telegram_outbox WHERE chat_id = ?"
    tg.fake.wait_for(lambda: tg.query(query, user.chat_id) == sent, what="the send recorded as sent")
    assert tg.query(query, user.chat_id) == sent


def test_a_blocked_user_is_recorded_and_not_retried(tg: TelegramServer) -> None:
    user = tg.user()
    tg.fake.block(user.chat_id)
    user.say("halo kak")
    tg.fake.wait_for(
        lambda: tg.query("SELECT status FROM telegram_outbox WHERE chat_id = ?", user.chat_id) == [("blocked",)],
        what="the send recorded as blocked",
    )
    assert [c.status for c in tg.fake.calls_of("sendMessage", user.chat_id)] == [403]
    [(blocked_at,)] = tg.query("SELECT blocked_at FROM telegram_chats WHERE chat_id = ?", user.chat_id)
    assert blocked_at is not None


def test_the_webhook_refuses_a_wrong_or_missing_secret(tg: TelegramServer) -> None:
    user = tg.user()
    update = {"update_id": 999_000_001, **user._message(text="halo kak")}
    if tg.mode == "polling":
        # No webhook in polling mode: nothing to call.
        status, _ = tg.post_webhook(update, WEBHOOK_SECRET)
        assert status == 404
        return
    assert tg.fake.webhook == {"url": tg.webhook_url, "secret_token": WEBHOOK_SECRET}
    for secret in ("wrong-secret", None, WEBHOOK_SECRET + "x", ""):
        status, body = tg.post_webhook(update, secret)
        assert status == 403, body
    assert tg.query("SELECT count(*) FROM conversations WHERE external_id = ?", str(user.chat_id)) == [(0,)]
    # The same update with the right secret is taken.
    status, _ = tg.post_webhook(update, WEBHOOK_SECRET)
    assert status == 200
    assert user.texts(1)
    # A malformed body with the right secret is a 400, not a crash.
    status, _ = tg.post_webhook({"not": "an update"}, WEBHOOK_SECRET)
    assert status == 400


def test_a_redelivered_update_is_answered_once(tg: TelegramServer) -> None:
    user = tg.user()
    update = user._message(text="metode pembayaran apa saja")
    if tg.mode == "webhook":
        update = {"update_id": tg.fake.next_update_id(), **update}
        for _ in range(2):
            assert tg.post_webhook(update, WEBHOOK_SECRET)[0] == 200
    else:
        tg.fake.push_update(update)
        tg.fake.push_update(update)
    user.replies(1)
    user.say("makasih kak")
    user.replies(1)
    assert sum(ANSWER in t for t in user.received()) == 1
    assert len(tg.customer_messages(user.chat_id)) == 2


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_unsent_messages_are_delivered_after_a_restart_exactly_once(
    mode: str, tmp_path: Path, telegram_data: Path, nlu_cache: Path
) -> None:
    fake, server = launch(mode, tmp_path / "server", telegram_data, nlu_cache)
    try:
        user = server.user()
        # Telegram is unreachable for this chat: the reply stays in the outbox.
        fake.fail_next("sendMessage", status=502, chat_id=user.chat_id, times=10_000)
        user.say("bisa bayar pakai apa aja kak")
        fake.wait_for(lambda: fake.calls_of("sendMessage", user.chat_id), what="a first attempt")
        server.stop()
        assert server.query("SELECT status FROM telegram_outbox WHERE chat_id = ?", user.chat_id) == [("pending",)]
        assert not fake.sent(user.chat_id)

        fake.clear_failures()
        server.start()
        [reply] = user.replies(1)
        assert ANSWER in reply.params["text"]
        user.say("oke makasih kak")
        user.replies(1)
        assert sum(ANSWER in t for t in user.received()) == 1
        assert len(server.customer_messages(user.chat_id)) == 2
    finally:
        server.stop()
        fake.stop()

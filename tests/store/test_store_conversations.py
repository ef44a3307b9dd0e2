"""``open_conversation``: get-or-create, races, and a new conversation after resolution."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.store import ConversationChanges, CustomerNotFound, NewMessage, Store
from bot.types import ConversationStatus

from bot.store.testing import FakeClock

RowCount = Callable[[str], Awaitable[int]]


async def test_creates_customer_identity_and_conversation_once(
    store: Store, clock: FakeClock, count_rows: RowCount
) -> None:
    first = await store.open_conversation("telegram", "12345", "en")
    assert first.channel == "telegram" and first.external_id == "12345"
    assert first.status == ConversationStatus.BOT
    assert first.lang == "en" and first.state == {} and first.last_seq == 0
    assert first.created_at == clock.now
    assert first.last_message_at is None and first.resolved_at is None

    clock.advance(minutes=5)
    again = await store.open_conversation("telegram", "12345", "id")
    assert again == first  # an open conversation is returned unchanged

    customer = await store.customer(first.customer_id)
    assert customer is not None and customer.lang == "en"
    for table in ("customers", "channel_identities", "conversations"):
        assert await count_rows(table) == 1


async def test_same_external_id_on_another_channel_is_another_customer(store: Store) -> None:
    web = await store.open_conversation("widget", "42", None)
    rest = await store.open_conversation("rest", "42", None)
    assert web.id != rest.id and web.customer_id != rest.customer_id


async def test_language_defaults_and_unknown_hints(store: Store, db_url: str) -> None:
    assert (await store.open_conversation("rest", "a", None)).lang == "id"
    assert (await store.open_conversation("rest", "b", "fr")).lang == "id"  # not a hint we know
    english = await Store.open(db_url, default_lang="en")
    try:
        assert (await english.open_conversation("rest", "c", None)).lang == "en"
    finally:
        await english.close()


async def test_concurrent_first_messages_make_one_of_everything(
    store: Store, count_rows: RowCount
) -> None:
    results = await asyncio.gather(
        *(store.open_conversation("rest", "new-sender", "id") for _ in range(20))
    )
    assert len({r.id for r in results}) == 1
    assert len({r.customer_id for r in results}) == 1
    for table in ("customers", "channel_identities", "conversations"):
        assert await count_rows(table) == 1


async def test_two_stores_racing_like_two_processes(
    db_url: str, clock: FakeClock, count_rows: RowCount
) -> None:
    a = await Store.open(db_url, now=clock)
    b = await Store.open(db_url, now=clock)
    try:
        results = await asyncio.gather(
            *(
                s.open_conversation("rest", f"sender-{n % 5}", None)
                for n in range(40)
                for s in (a, b)
            )
        )
    finally:
        await a.close()
        await b.close()
    by_sender: dict[str, set[int]] = {}
    for r in results:
        by_sender.setdefault(r.external_id, set()).add(r.id)
    assert all(len(ids) == 1 for ids in by_sender.values())
    assert await count_rows("customers") == 5
    assert await count_rows("channel_identities") == 5
    assert await count_rows("conversations") == 5


async def test_resolved_conversation_is_followed_by_a_new_one(
    store: Store, clock: FakeClock
) -> None:
    first = await store.open_conversation("rest", "abc", "en")
    await store.record_turn(first.id, NewMessage("customer", "hi"), [NewMessage("bot", "Hello!")])
    clock.advance(minutes=10)
    done = await store.record_turn(
        first.id, None, [], ConversationChanges(status=ConversationStatus.RESOLVED)
    )
    assert done.conversation.status == ConversationStatus.RESOLVED

    clock.advance(days=1)
    second = await store.open_conversation("rest", "abc", None)
    assert second.id != first.id
    assert second.customer_id == first.customer_id
    assert second.lang == "en"  # the customer's language, without a hint
    assert second.status == ConversationStatus.BOT and second.last_seq == 0
    # The old conversation keeps its history and stays resolved.
    old = await store.conversation(first.id)
    assert old is not None and old.status == ConversationStatus.RESOLVED and old.last_seq == 2
    assert [m.text for m in await store.messages(first.id)] == ["hi", "Hello!"]
    assert await store.messages(second.id) == []


async def test_update_customer(store: Store, clock: FakeClock) -> None:
    conversation = await store.open_conversation("rest", "abc", None)
    clock.advance(hours=1)
    await store.update_customer(
        conversation.customer_id, display_name="Budi 🙂", phone="+62812", lang="en"
    )
    customer = await store.customer(conversation.customer_id)
    assert customer is not None
    assert (customer.display_name, customer.phone, customer.email, customer.lang) == (
        "Budi 🙂",
        "+62812",
        None,
        "en",
    )
    assert customer.updated_at == clock.now and customer.created_at < clock.now

    with pytest.raises(TypeError):
        await store.update_customer(conversation.customer_id, address="Jl. Merdeka")
    with pytest.raises(ValueError):
        await store.update_customer(conversation.customer_id, lang="fr")
    with pytest.raises(CustomerNotFound):
        await store.update_customer(999_999, display_name="nobody")
    assert await store.customer(999_999) is None


async def test_a_language_change_follows_the_customer_to_the_next_conversation(
    store: Store, clock: FakeClock
) -> None:
    first = await store.open_conversation("rest", "lang-switch", None)
    assert first.lang == "id"
    await store.record_turn(
        first.id, NewMessage("customer", "hello"), [NewMessage("bot", "Hi!")], ConversationChanges(lang="en")
    )
    customer = await store.customer(first.customer_id)
    assert customer is not None and customer.lang == "en"
    await store.record_turn(first.id, None, [], ConversationChanges(status=ConversationStatus.RESOLVED))
    clock.advance(days=2)
    second = await store.open_conversation("rest", "lang-switch", None)
    assert second.id != first.id and second.lang == "en"

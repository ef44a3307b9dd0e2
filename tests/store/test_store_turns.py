"""``record_turn``: sequence numbers, idempotent resends, milestones, literal storage."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.store import (
    ConversationChanges,
    ConversationNotFound,
    NewMessage,
    Store,
)
from bot.store.testing import FakeClock
from bot.types import ConversationStatus

RowCount = Callable[[str], Awaitable[int]]


def customer(text: str, client_id: str | None = None) -> NewMessage:
    return NewMessage("customer", text, client_id=client_id)


def bot(text: str) -> NewMessage:
    return NewMessage("bot", text)


async def test_turn_stores_messages_in_order(store: Store, clock: FakeClock) -> None:
    conversation = await store.open_conversation("rest", "abc", "id")
    clock.advance(seconds=3)
    turn = await store.record_turn(
        conversation.id,
        customer("kak, ongkir ke sby brp ya?", "c-1"),
        [bot("Rp 12.000 kak"), bot("Ada lagi?")],
        ConversationChanges(state={"flow": "shipping", "slots": {"city": "Surabaya"}}),
    )
    assert not turn.duplicate
    assert [(m.seq, m.sender_type, m.text) for m in turn.messages] == [
        (1, "customer", "kak, ongkir ke sby brp ya?"),
        (2, "bot", "Rp 12.000 kak"),
        (3, "bot", "Ada lagi?"),
    ]
    assert turn.incoming == turn.messages[0] and turn.replies == turn.messages[1:]
    assert all(m.created_at == clock.now and m.id > 0 for m in turn.messages)
    assert turn.conversation.last_seq == 3
    assert turn.conversation.state == {"flow": "shipping", "slots": {"city": "Surabaya"}}
    assert turn.conversation.last_message_at == clock.now
    # What was returned is what is stored.
    assert await store.messages(conversation.id) == turn.messages
    assert await store.conversation(conversation.id) == turn.conversation


async def test_messages_paging(store: Store) -> None:
    conversation = await store.open_conversation("rest", "abc", None)
    for n in range(5):
        await store.record_turn(conversation.id, customer(f"q{n}"), [bot(f"a{n}")])
    assert [m.seq for m in await store.messages(conversation.id, after_seq=4, limit=3)] == [5, 6, 7]
    assert [m.seq for m in await store.messages(conversation.id, after_seq=8)] == [9, 10]
    assert await store.messages(conversation.id, after_seq=10) == []


async def test_seq_is_gapless_under_concurrency(store: Store, count_rows: RowCount) -> None:
    conversations = await asyncio.gather(
        *(store.open_conversation("rest", f"sender-{n}", None) for n in range(25))
    )

    async def chat(conversation_id: int) -> None:
        # Like the engine: one turn at a time per conversation.
        for n in range(8):
            await store.record_turn(conversation_id, customer(f"m{n}"), [bot("ok")] * (n % 3))

    await asyncio.gather(*(chat(c.id) for c in conversations))
    expected = sum(1 + n % 3 for n in range(8))
    for c in conversations:
        stored = await store.messages(c.id)
        assert [m.seq for m in stored] == list(range(1, expected + 1))
        texts = [m.text for m in stored if m.sender_type == "customer"]
        assert texts == [f"m{n}" for n in range(8)]
        record = await store.conversation(c.id)
        assert record is not None and record.last_seq == expected
    assert await count_rows("messages") == expected * len(conversations)


async def test_unserialized_turns_of_one_conversation_still_chain(store: Store) -> None:
    # The engine serializes per conversation, but an agent's message from the
    # console may race a customer's turn; the writer must not lose either.
    conversation = await store.open_conversation("rest", "abc", None)
    turns = await asyncio.gather(
        *(store.record_turn(conversation.id, customer(f"m{n}"), [bot(f"r{n}")]) for n in range(20))
    )
    stored = await store.messages(conversation.id)
    assert [m.seq for m in stored] == list(range(1, 41))
    seqs = sorted(m.seq for t in turns for m in t.messages)
    assert seqs == list(range(1, 41))
    final = await store.conversation(conversation.id)
    assert final is not None and final.last_seq == 40


async def test_resend_with_same_client_id_is_a_duplicate(
    store: Store, clock: FakeClock, count_rows: RowCount
) -> None:
    conversation = await store.open_conversation("widget", "session-1", None)
    original = await store.record_turn(
        conversation.id,
        customer("halo", "msg-1"),
        [bot("Halo kak!"), bot("Ada yang bisa dibantu?")],
    )
    await store.record_turn(conversation.id, customer("mau tanya", "msg-2"), [bot("Silakan")])

    clock.advance(seconds=30)
    resend = await store.record_turn(
        conversation.id,
        customer("halo", "msg-1"),
        [bot("a different reply")],
        ConversationChanges(status=ConversationStatus.WAITING_FOR_AGENT, state={"x": 1}),
    )
    assert resend.duplicate
    assert resend.messages == original.messages  # the same stored messages, same ids
    assert resend.replies == original.replies
    assert await count_rows("messages") == 5
    after = await store.conversation(conversation.id)
    assert after is not None
    assert after.status == ConversationStatus.BOT and after.state == {}  # changes not applied
    assert after.last_seq == 5

    found = await store.find_by_client_id(conversation.id, "msg-2")
    assert found is not None and found.seq == 4 and found.text == "mau tanya"
    assert await store.find_by_client_id(conversation.id, "msg-404") is None


async def test_resends_racing_each_other_write_once(store: Store, count_rows: RowCount) -> None:
    conversation = await store.open_conversation("widget", "s", None)
    turns = await asyncio.gather(
        *(
            store.record_turn(conversation.id, customer("halo", "same"), [bot("hai")])
            for _ in range(5)
        )
    )
    assert sum(not t.duplicate for t in turns) == 1
    # Every caller sees the one stored pair of messages.
    assert len({tuple((m.id, m.seq, m.text) for m in t.messages) for t in turns}) == 1
    assert await count_rows("messages") == 2


async def test_client_ids_are_per_conversation(store: Store) -> None:
    a = await store.open_conversation("widget", "a", None)
    b = await store.open_conversation("widget", "b", None)
    await store.record_turn(a.id, customer("x", "1"), [])
    turn = await store.record_turn(b.id, customer("y", "1"), [])
    assert not turn.duplicate


async def test_milestone_timestamps(store: Store, clock: FakeClock) -> None:
    conversation = await store.open_conversation("rest", "abc", None)
    # A greeting before the customer wrote is not a response.
    greeted = await store.record_turn(conversation.id, None, [bot("Selamat datang!")])
    assert greeted.conversation.first_response_at is None
    assert greeted.conversation.first_customer_message_at is None

    t1 = clock.advance(seconds=10)
    turn = await store.record_turn(conversation.id, customer("halo"), [bot("Halo!")])
    c = turn.conversation
    assert c.first_customer_message_at == t1 and c.first_response_at == t1
    assert c.handoff_at is None and c.first_agent_response_at is None

    t2 = clock.advance(minutes=1)
    turn = await store.record_turn(
        conversation.id,
        customer("mau bicara dengan orang"),
        [bot("Kami hubungkan dengan agen")],
        ConversationChanges(status=ConversationStatus.WAITING_FOR_AGENT),
    )
    c = turn.conversation
    assert c.status == ConversationStatus.WAITING_FOR_AGENT and c.handoff_at == t2
    assert c.first_customer_message_at == t1 and c.first_response_at == t1  # first ones stay

    clock.advance(minutes=1)
    turn = await store.record_turn(conversation.id, customer("halo?"), [])
    assert turn.conversation.first_agent_response_at is None

    t4 = clock.advance(minutes=2)
    turn = await store.record_turn(
        conversation.id,
        None,
        [NewMessage("agent", "Halo, saya Sari", agent_id=7)],
        ConversationChanges(status=ConversationStatus.WITH_AGENT),
    )
    c = turn.conversation
    assert c.status == ConversationStatus.WITH_AGENT
    assert c.first_agent_response_at == t4 and c.handoff_at == t2
    assert turn.messages[0].agent_id == 7 and turn.incoming is None

    t5 = clock.advance(minutes=1)
    turn = await store.record_turn(
        conversation.id, None, [NewMessage("agent", "Sudah beres", agent_id=7)]
    )
    assert turn.conversation.first_agent_response_at == t4

    t6 = clock.advance(minutes=1)
    turn = await store.record_turn(
        conversation.id, None, [], ConversationChanges(status=ConversationStatus.RESOLVED)
    )
    c = turn.conversation
    assert c.status == ConversationStatus.RESOLVED and c.resolved_at == t6
    assert turn.messages == [] and c.last_message_at == t5  # a status change is no message
    assert await store.conversation(conversation.id) == c


async def test_direct_takeover_counts_as_handoff(store: Store, clock: FakeClock) -> None:
    conversation = await store.open_conversation("rest", "abc", None)
    await store.record_turn(conversation.id, customer("halo"), [bot("Halo!")])
    t = clock.advance(minutes=1)
    turn = await store.record_turn(
        conversation.id,
        None,
        [NewMessage("agent", "Saya ambil alih ya", agent_id=3)],
        ConversationChanges(status=ConversationStatus.WITH_AGENT),
    )
    assert turn.conversation.handoff_at == t and turn.conversation.first_agent_response_at == t


@pytest.mark.parametrize(
    "text",
    [
        "Robert'); DROP TABLE messages;--",
        "' OR '1'='1",
        "halo kak 😀🙏🏽 terima kasih",
        "中文 • العربية • ñ • ẞ • 🇮🇩",
        "line one\nline two\ttab \\ backslash %s %(x)s ? :name $1",
        "",
        "x" * 20_000,
    ],
)
async def test_text_is_stored_literally(store: Store, count_rows: RowCount, text: str) -> None:
    conversation = await store.open_conversation("rest", "abc", None)
    client_id = text[:100] or None  # client ids are stored literally too
    turn = await store.record_turn(conversation.id, customer(text, client_id), [])
    assert turn.messages[0].text == text
    assert (await store.messages(conversation.id))[0].text == text
    assert await count_rows("messages") == 1


async def test_unstorable_characters_are_replaced(store: Store) -> None:
    # NUL (PostgreSQL refuses it) and lone surrogates (no UTF-8 encoding).
    conversation = await store.open_conversation("rest", "nul\x00id", None)
    turn = await store.record_turn(
        conversation.id, NewMessage("customer", "a\x00b\ud800c", nlu={"k\x00": ["\udfff"]}), []
    )
    stored = (await store.messages(conversation.id))[0]
    assert stored.text == turn.messages[0].text == "a\ufffdb\ufffdc"
    assert stored.nlu == {"k\ufffd": ["\ufffd"]}
    assert conversation.external_id == "nul\ufffdid"


async def test_json_round_trip(store: Store) -> None:
    conversation = await store.open_conversation("rest", "abc", None)
    nlu = {
        "text": "kak ongkir",
        "intent": {"name": "faq/ongkir", "confidence": 0.9312},
        "intent_ranking": [{"name": "greet", "confidence": 0.01}],
        "entities": [{"entity": "city", "value": "Surabaya", "start": 0, "end": 3}],
        "flags": [True, False, None],
        "big": 2**40,
        "emoji": "🙏",
    }
    buttons = [
        {"title": "Cek ongkir 🚚", "payload": "/shipping"},
        {"title": "Batal", "payload": "/cancel"},
    ]
    attachments = [{"kind": "image", "url": "https://toko.example/bukti.jpg", "name": "bukti.jpg"}]
    state = {
        "flow": "order",
        "slots": {"items": [{"sku": "A-1", "qty": 2}], "note": 'tanpa "es"'},
    }
    await store.record_turn(
        conversation.id,
        NewMessage("customer", "pesan", nlu=nlu, attachments=attachments),
        [NewMessage("bot", "Pilih:", buttons=buttons)],
        ConversationChanges(state=state, lang="en"),
    )
    incoming, reply = await store.messages(conversation.id)
    assert incoming.nlu == nlu and incoming.attachments == attachments and incoming.buttons == []
    assert reply.buttons == buttons and reply.nlu is None and reply.attachments == []
    record = await store.conversation(conversation.id)
    assert record is not None and record.state == state and record.lang == "en"


async def test_unknown_conversation_fails_alone(store: Store) -> None:
    good = await store.open_conversation("rest", "abc", None)
    results = await asyncio.gather(
        store.record_turn(good.id, customer("1"), []),
        store.record_turn(999_999, customer("lost"), []),
        store.record_turn(good.id, customer("2"), []),
        return_exceptions=True,
    )
    assert isinstance(results[1], ConversationNotFound)
    assert [m.text for m in await store.messages(good.id)] == ["1", "2"]


async def test_invalid_input_is_refused_before_writing(store: Store) -> None:
    conversation = await store.open_conversation("rest", "abc", None)
    with pytest.raises(ValueError):
        await store.record_turn(conversation.id, None, [], ConversationChanges(status="closed"))
    with pytest.raises(ValueError):
        await store.record_turn(conversation.id, None, [], ConversationChanges(lang="fr"))
    with pytest.raises(ValueError):
        await store.record_turn(conversation.id, NewMessage("robot", "x"), [])
    with pytest.raises(TypeError):
        not_json = ConversationChanges(state={"t": object()})
        await store.record_turn(conversation.id, None, [], not_json)
    assert await store.messages(conversation.id) == []

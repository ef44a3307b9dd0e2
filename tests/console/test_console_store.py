"""The console's SQL (bot/store/console_queries.py) on SQLite and PostgreSQL: the inbox and
its visibility rule, agents' actions with their pushed messages, sessions; and the login
limits of agent_console/auth.py."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select

from agent_console.auth import Auth, hash_token
from agent_console.config import ConsoleSettings
from bot import accounts
from bot.store import ConversationChanges, NewMessage, Store
from bot.store import console_queries as cq
from bot.store.models import outbox, team_members, tickets
from bot.store.testing import FakeClock
from tests.store.conftest import clock, db_url, store  # noqa: F401  (fixtures: SQLite and PostgreSQL)

PASSWORD = "Kopi-Susu-Gula-Aren-7"
TEXTS = {
    "joined": "{agent} bergabung",
    "handed_back": "kembali ke bot",
    "resolved": "selesai",
    "to_agent": "dilanjutkan",
    "to_team": "diteruskan ke tim",
}


async def staff(store: Store, username: str, role: str = "agent") -> cq.StaffRecord:
    agent = await accounts.create_agent(store, username, PASSWORD, role, username.title())
    found = await store.read(cq.fetch_staff, agent.id)
    assert found is not None
    return found


async def waiting(store: Store, external_id: str, channel: str = "widget", *, text: str = "mau bicara dengan admin") -> int:
    conversation = await store.open_conversation(channel, external_id, "id")
    await store.record_turn(
        conversation.id,
        NewMessage(sender_type="customer", text=text),
        [NewMessage(sender_type="bot", text="Baik Kak, kami hubungkan dengan admin.")],
        ConversationChanges(status="waiting_for_agent"),
    )
    return conversation.id


async def act(store: Store, job, who: cq.StaffRecord, conversation_id: int, **kwargs) -> cq.ActionResult:  # type: ignore[no-untyped-def]
    return await store.write(partial(job, staff=who, conversation_id=conversation_id, texts=TEXTS, **kwargs))


async def ids(store: Store, who: cq.StaffRecord, **filters: str) -> list[int]:
    return [r.id for r in await store.read(cq.inbox, who, cq.Filters(**filters))]


async def test_inbox_order_views_and_filters(store: Store, clock: FakeClock) -> None:
    budi = await staff(store, "budi")
    bot_only = await store.open_conversation("telegram", "555", "id")
    await store.record_turn(bot_only.id, NewMessage(sender_type="customer", text="halo"), [NewMessage(sender_type="bot", text="Halo Kak")])
    clock.advance(minutes=1)
    first = await waiting(store, "a")
    clock.advance(minutes=1)
    second = await waiting(store, "b", "telegram")
    clock.advance(minutes=1)
    third = await waiting(store, "c")
    await act(store, cq.take_over, budi, third)

    # Waiting ones first, oldest handoff first; then with an agent; then the bot's.
    assert await ids(store, budi, status="open") == [first, second, third, bot_only.id]
    assert await ids(store, budi) == [first, second, third]  # by default: those that need a person
    assert await ids(store, budi, view="mine") == [third]
    assert await ids(store, budi, view="unassigned") == [first, second]
    assert await ids(store, budi, view="teams") == []
    assert await ids(store, budi, status="people") == [first, second, third]
    assert await ids(store, budi, status="bot") == [bot_only.id]
    assert await ids(store, budi, channel="telegram", status="open") == [second, bot_only.id]
    assert await ids(store, budi, q="55", status="any") == [bot_only.id]
    assert await ids(store, budi, q="%", status="any") == []  # LIKE wildcards are literal

    [row] = await store.read(cq.inbox_rows, [third])
    assert row.status == "with_agent" and row.agent_id == budi.id and row.agent_name == "Budi"
    assert row.last_sender == "system" and row.last_text == "{agent} bergabung"

    # The ticket desk's active ticket supplies category, priority, team and (before the
    # console assigns anyone) the assignee.
    now = clock()

    def add_ticket(conn, now_):  # type: ignore[no-untyped-def]
        conn.execute(insert(tickets).values(
            number="TK-2026-000001", conversation_id=first, customer_id=1, channel="widget", order_number=None,
            category="damaged", priority="high", priority_reasons=[], status="open", team="gudang",
            assignee_id=budi.id, subject="Barang rusak", summary="sobek", source="complaint",
            created_at=now, updated_at=now, first_response_due_at=now, resolution_due_at=now,
        ))

    await store.write(add_ticket)
    assert await ids(store, budi, category="damaged") == [first]
    # A conversation with an active ticket needs a person even while the bot answers it.
    await store.write(lambda conn, now_: conn.execute(tickets.update().values(conversation_id=bot_only.id)))
    assert await ids(store, budi) == [first, second, third, bot_only.id]
    await store.write(lambda conn, now_: conn.execute(tickets.update().values(conversation_id=first)))
    assert await ids(store, budi, priority="high", view="mine") == [first]
    assert await ids(store, budi, team="gudang") == [first]
    [row] = await store.read(cq.inbox_rows, [first])
    assert (row.ticket_number, row.category, row.priority, row.team, row.agent_id) == ("TK-2026-000001", "damaged", "high", "gudang", budi.id)


async def test_team_conversations_are_for_their_members(store: Store) -> None:
    budi, sari, rina = await staff(store, "budi"), await staff(store, "sari"), await staff(store, "rina", "admin")
    cid = await waiting(store, "x")
    await act(store, cq.transfer, rina, cid, to_agent=None, to_team="keuangan")
    # Nobody is in "keuangan" yet: every agent sees it.
    assert await store.read(cq.can_see, budi, cid)

    async def join(agent_id: int, team: str) -> None:
        await store.write(lambda conn, now: conn.execute(insert(team_members).values(team=team, agent_id=agent_id)))

    await join(sari.id, "keuangan")
    await join(budi.id, "gudang")
    budi = await store.read(cq.fetch_staff, budi.id)
    sari = await store.read(cq.fetch_staff, sari.id)
    assert budi.teams == ("gudang",) and sari.teams == ("keuangan",)
    assert not await store.read(cq.can_see, budi, cid)
    assert await store.read(cq.can_see, sari, cid)
    assert await store.read(cq.can_see, rina, cid)
    assert cid not in await ids(store, budi)
    assert await ids(store, sari, view="teams") == [cid]
    assert await store.read(cq.conversation_view, budi, cid) is None
    with pytest.raises(cq.NotVisible):
        await act(store, cq.take_over, budi, cid)
    # Assigned to Budi personally, he sees it again.
    await act(store, cq.transfer, rina, cid, to_agent=budi, to_team=None)
    assert await store.read(cq.can_see, budi, cid)

    # Keuangan's only member leaves: its conversations are everyone's again, not no one's.
    other = await waiting(store, "y")
    await act(store, cq.transfer, rina, other, to_agent=None, to_team="keuangan")
    assert not await store.read(cq.can_see, budi, other)
    await store.write(partial(cq.update_staff, agent_id=sari.id, active=False))
    assert await store.read(cq.can_see, budi, other)
    assert other in await ids(store, budi)


async def test_actions_push_messages_and_move_the_timeline(store: Store, clock: FakeClock) -> None:
    budi, sari = await staff(store, "budi"), await staff(store, "sari")
    cid = await waiting(store, "v")
    clock.advance(seconds=30)

    result = await act(store, cq.reply, budi, cid, text="Halo Kak, saya Budi")  # replying takes it over
    assert [m.sender_type for m in result.messages] == ["system", "agent"]
    assert result.messages[1].agent_id == budi.id
    conversation = result.conversation
    assert conversation.status == "with_agent"
    assert conversation.first_agent_response_at - conversation.handoff_at == timedelta(seconds=30)

    with pytest.raises(cq.ConsoleConflict) as refused:
        await act(store, cq.take_over, sari, cid)
    assert refused.value.code == "held_by_other"
    with pytest.raises(cq.ConsoleConflict):
        await act(store, cq.hand_back, sari, cid)

    result = await act(store, cq.transfer, budi, cid, to_agent=sari, to_team=None)
    assert [m.text for m in result.messages] == ["dilanjutkan"]
    assert (await store.read(cq.holder, cid)).agent_id == sari.id
    result = await act(store, cq.release, sari, cid)
    assert result.conversation.status == "waiting_for_agent" and not result.messages
    assert (await store.read(cq.holder, cid)).agent_id is None
    result = await act(store, cq.take_over, budi, cid)
    assert result.conversation.status == "with_agent"
    result = await act(store, cq.hand_back, budi, cid)
    assert result.conversation.status == "bot" and result.messages[0].text == "kembali ke bot"
    assert not (await act(store, cq.hand_back, budi, cid)).changed
    result = await act(store, cq.resolve, budi, cid)
    assert result.conversation.status == "resolved" and result.conversation.resolved_at == clock()
    with pytest.raises(cq.ConsoleConflict):
        await act(store, cq.reply, budi, cid, text="masih di sana?")

    # Every message to the customer has an outbox row (the relay announces it, Telegram delivers it).
    pushed = await store.read(lambda conn: conn.execute(select(outbox.c.message_id).where(outbox.c.conversation_id == cid)).all())
    messages = await store.messages(cid)
    assert len(pushed) == len([m for m in messages if m.sender_type in ("agent", "system")]) == 6
    note = (await store.write(partial(cq.add_note, staff=budi, conversation_id=cid, text="rahasia"))).note
    assert note is not None and note.text == "rahasia"
    assert "rahasia" not in [m.text for m in await store.messages(cid)]
    view = await store.read(cq.conversation_view, budi, cid)
    assert [a.action for a in view.actions] == ["take_over", "transfer", "release", "take_over", "hand_back", "resolve"]
    assert [n.text for n in view.notes] == ["rahasia"]


async def test_two_agents_taking_over_at_once(store: Store) -> None:
    budi, sari = await staff(store, "budi"), await staff(store, "sari")
    cid = await waiting(store, "race")
    outcomes = await asyncio.gather(
        act(store, cq.take_over, budi, cid), act(store, cq.take_over, sari, cid), return_exceptions=True
    )
    won = [o for o in outcomes if isinstance(o, cq.ActionResult)]
    lost = [o for o in outcomes if isinstance(o, cq.ConsoleConflict)]
    assert len(won) == 1 and len(lost) == 1
    joined = [m for m in await store.messages(cid) if m.sender_type == "system"]
    assert len(joined) == 1


async def test_sessions(store: Store, clock: FakeClock) -> None:
    budi = await staff(store, "budi")
    await store.write(partial(
        cq.create_session, session_id=hash_token("tok"), agent_id=budi.id, csrf_token="c",
        expires_at=clock() + timedelta(hours=1), ip="127.0.0.1", user_agent="test",
    ))
    found = await store.read(cq.fetch_session, hash_token("tok"), clock())
    assert found is not None and found.agent.username == "budi" and found.csrf_token == "c"
    assert await store.read(cq.fetch_session, hash_token("tok"), clock() + timedelta(hours=2)) is None
    await store.write(partial(cq.update_staff, agent_id=budi.id, active=False))
    assert await store.read(cq.fetch_session, hash_token("tok"), clock()) is None


async def test_login_limits_per_username_and_address(store: Store) -> None:
    await staff(store, "budi")
    auth = Auth(store, ConsoleSettings(login_failures_per_user=3, login_failures_per_ip=5))

    def request(ip: str) -> SimpleNamespace:
        return SimpleNamespace(remote=ip, headers={})

    for _ in range(3):
        assert (await auth.login(request("10.0.0.1"), "budi", "salah")).status == 401  # type: ignore[union-attr]
    limited = await auth.login(request("10.0.0.2"), "budi", PASSWORD)
    assert limited.status == 429 and limited.wait_seconds > 0  # type: ignore[union-attr]
    # Many usernames from one address: the address is limited too.
    for n in range(5):
        assert (await auth.login(request("10.0.0.9"), f"tamu{n}", "salah")).status == 401  # type: ignore[union-attr]
    assert (await auth.login(request("10.0.0.9"), "siapa", "salah")).status == 429  # type: ignore[union-attr]

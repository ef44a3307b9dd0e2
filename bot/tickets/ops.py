"""The ticket desk's SQL: synchronous Core functions run by the store's writer or readers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.store.counters import next_value
from bot.store.models import agent_presence, agents, messages, team_members, ticket_events, tickets
from bot.store.writer import Failed
from bot.tickets.records import TicketEvent, TicketNotFound, TicketRecord, TicketStatus

NUMBER_PREFIX = "TK"
EDITABLE = ("category", "priority", "status", "team", "assignee_id", "order_number", "subject")


@dataclass(frozen=True)
class Draft:
    """A ticket ready to be written: everything decided except its number and assignee."""

    conversation_id: int
    customer_id: int
    channel: str
    order_number: str | None
    category: str
    priority: str
    priority_reasons: list[str]
    team: str
    subject: str
    summary: str
    source: str
    first_response_due: timedelta
    resolution_due: timedelta
    max_open_per_agent: int


def _record(row: Any, events: tuple[TicketEvent, ...] = ()) -> TicketRecord:
    return TicketRecord(
        id=row.id,
        number=row.number,
        conversation_id=row.conversation_id,
        customer_id=row.customer_id,
        channel=row.channel,
        order_number=row.order_number,
        category=row.category,
        priority=row.priority,
        priority_reasons=tuple(row.priority_reasons or ()),
        status=row.status,
        team=row.team,
        assignee_id=row.assignee_id,
        subject=row.subject,
        summary=row.summary,
        source=row.source,
        created_at=row.created_at,
        updated_at=row.updated_at,
        first_response_due_at=row.first_response_due_at,
        resolution_due_at=row.resolution_due_at,
        first_response_at=row.first_response_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        events=events,
    )


def fetch(conn: Connection, number: str, with_events: bool = True) -> TicketRecord | None:
    row = conn.execute(select(tickets).where(tickets.c.number == number.strip().upper())).first()
    if row is None:
        return None
    events: tuple[TicketEvent, ...] = ()
    if with_events:
        events = tuple(
            TicketEvent(e.at, e.actor, e.field, e.old_value, e.new_value)
            for e in conn.execute(
                select(ticket_events).where(ticket_events.c.ticket_id == row.id).order_by(ticket_events.c.id)
            )
        )
    return _record(row, events)


def active_for_conversation(conn: Connection, conversation_id: int) -> TicketRecord | None:
    row = conn.execute(
        select(tickets)
        .where(tickets.c.conversation_id == conversation_id, tickets.c.status.in_(TicketStatus.ACTIVE))
        .order_by(tickets.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _record(row)


def search(
    conn: Connection,
    *,
    status: tuple[str, ...] = (),
    team: tuple[str, ...] = (),
    category: str | None = None,
    priority: str | None = None,
    channel: str | None = None,
    assignee_id: int | None = None,
    unassigned: bool = False,
    customer_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[TicketRecord]:
    """Tickets matching every given filter: the most urgent first, then the oldest."""
    query = select(tickets)
    if status:
        query = query.where(tickets.c.status.in_(status))
    if team:
        query = query.where(tickets.c.team.in_(team))
    if category:
        query = query.where(tickets.c.category == category)
    if priority:
        query = query.where(tickets.c.priority == priority)
    if channel:
        query = query.where(tickets.c.channel == channel)
    if assignee_id is not None:
        query = query.where(tickets.c.assignee_id == assignee_id)
    if unassigned:
        query = query.where(tickets.c.assignee_id.is_(None))
    if customer_id is not None:
        query = query.where(tickets.c.customer_id == customer_id)
    urgency = case(
        (tickets.c.priority == "urgent", 0), (tickets.c.priority == "high", 1), (tickets.c.priority == "normal", 2),
        else_=3,
    )
    query = query.order_by(urgency, tickets.c.created_at, tickets.c.id).limit(limit).offset(offset)
    return [_record(r) for r in conn.execute(query)]


def recent_count(conn: Connection, customer_id: int, since: datetime) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(tickets).where(tickets.c.customer_id == customer_id, tickets.c.created_at >= since)
        ).scalar_one()
    )


def customer_words(conn: Connection, conversation_id: int, limit: int = 6) -> list[str]:
    """The customer's latest messages in the conversation, oldest first."""
    rows = conn.execute(
        select(messages.c.text)
        .where(messages.c.conversation_id == conversation_id, messages.c.sender_type == "customer")
        .order_by(messages.c.seq.desc())
        .limit(limit)
    ).all()
    return [r.text for r in reversed(rows) if r.text and not r.text.startswith("/")]


def _pick_agent(conn: Connection, team: str, now: datetime, limit: int) -> int | None:
    """The online agent of ``team`` with the fewest active tickets, if one has room."""
    load = (
        select(func.count())
        .select_from(tickets)
        .where(tickets.c.assignee_id == agents.c.id, tickets.c.status.in_(TicketStatus.ACTIVE))
        .scalar_subquery()
    )
    row = conn.execute(
        select(agents.c.id, load.label("load"))
        .join(team_members, team_members.c.agent_id == agents.c.id)
        .join(agent_presence, agent_presence.c.agent_id == agents.c.id)
        .where(team_members.c.team == team, agents.c.active.is_(True), agent_presence.c.online_until > now)
        .order_by(load, agents.c.id)
        .limit(1)
    ).first()
    if row is None or row.load >= limit:
        return None
    return int(row.id)


def create(conn: Connection, now: datetime, draft: Draft, year: int) -> TicketRecord:
    """Write a new ticket, assigned to an online agent of its team when one has room."""
    number = f"{NUMBER_PREFIX}-{year}-{next_value(conn, f'ticket:{year}'):06d}"
    assignee = _pick_agent(conn, draft.team, now, draft.max_open_per_agent)
    ticket_id = conn.execute(
        insert(tickets).returning(tickets.c.id),
        {
            "number": number,
            "conversation_id": draft.conversation_id,
            "customer_id": draft.customer_id,
            "channel": draft.channel,
            "order_number": draft.order_number,
            "category": draft.category,
            "priority": draft.priority,
            "priority_reasons": draft.priority_reasons,
            "status": TicketStatus.OPEN,
            "team": draft.team,
            "assignee_id": assignee,
            "subject": draft.subject,
            "summary": draft.summary,
            "source": draft.source,
            "created_at": now,
            "updated_at": now,
            "first_response_due_at": now + draft.first_response_due,
            "resolution_due_at": now + draft.resolution_due,
        },
    ).scalar_one()
    _event(conn, ticket_id, now, "system", "created", None, f"{draft.category}/{draft.priority}/{draft.team}")
    if assignee is not None:
        _event(conn, ticket_id, now, "system", "assignee_id", None, str(assignee))
    record = fetch(conn, number)
    assert record is not None
    return record


def add_to(conn: Connection, now: datetime, number: str, text: str, order_number: str | None) -> TicketRecord | Failed:
    """The customer complained again in the same conversation: add it to the open ticket."""
    row = conn.execute(select(tickets).where(tickets.c.number == number)).first()
    if row is None:
        return Failed(TicketNotFound(number))
    values: dict[str, Any] = {"summary": (row.summary + "\n" + text)[-4000:], "updated_at": now}
    if order_number and not row.order_number:
        values["order_number"] = order_number
        _event(conn, row.id, now, "customer", "order_number", None, order_number)
    conn.execute(update(tickets).where(tickets.c.id == row.id).values(**values))
    _event(conn, row.id, now, "customer", "summary", None, text[:500])
    return fetch(conn, number)  # type: ignore[return-value]


def change(
    conn: Connection, now: datetime, number: str, actor: str, changes: dict[str, Any], due: dict[str, timedelta] | None
) -> TicketRecord | Failed:
    """Apply agent edits with one audit event per changed field; ``due`` re-times the SLA
    (first response, resolution) after a priority change."""
    row = conn.execute(select(tickets).where(tickets.c.number == number.strip().upper())).first()
    if row is None:
        return Failed(TicketNotFound(number))
    values: dict[str, Any] = {}
    for field, new in changes.items():
        old = getattr(row, field)
        if old == new:
            continue
        values[field] = new
        _event(conn, row.id, now, actor, field, None if old is None else str(old), None if new is None else str(new))
    if not values:
        return fetch(conn, row.number)  # type: ignore[return-value]
    if "priority" in values and due is not None:
        values["first_response_due_at"] = row.created_at + due["first_response"]
        values["resolution_due_at"] = row.created_at + due["resolution"]
    status = values.get("status")
    if status == TicketStatus.RESOLVED and row.resolved_at is None:
        values["resolved_at"] = now
    if status == TicketStatus.CLOSED:
        values["closed_at"] = now
        values.setdefault("resolved_at", row.resolved_at or now)
    if status in TicketStatus.ACTIVE:
        values["resolved_at"] = None
        values["closed_at"] = None
    values["updated_at"] = now
    conn.execute(update(tickets).where(tickets.c.id == row.id).values(**values))
    return fetch(conn, row.number)  # type: ignore[return-value]


def first_response(conn: Connection, now: datetime, conversation_id: int, actor: str) -> str | None:
    """The first human reply on a conversation's active ticket; returns its number if it was the first."""
    row = conn.execute(
        select(tickets.c.id, tickets.c.number)
        .where(
            tickets.c.conversation_id == conversation_id,
            tickets.c.status.in_(TicketStatus.ACTIVE),
            tickets.c.first_response_at.is_(None),
        )
        .limit(1)
    ).first()
    if row is None:
        return None
    done = conn.execute(
        update(tickets).where(tickets.c.id == row.id, tickets.c.first_response_at.is_(None)).values(first_response_at=now, updated_at=now)
    ).rowcount
    if done:
        _event(conn, row.id, now, actor, "first_response_at", None, now.isoformat())
    return row.number if done else None


def queue_position(conn: Connection, ticket: TicketRecord) -> int:
    """How many unassigned active tickets of the same team are older (0 = next in line)."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(tickets)
            .where(
                tickets.c.team == ticket.team,
                tickets.c.assignee_id.is_(None),
                tickets.c.status.in_(TicketStatus.ACTIVE),
                or_(tickets.c.created_at < ticket.created_at, and_(tickets.c.created_at == ticket.created_at, tickets.c.id < ticket.id)),
            )
        ).scalar_one()
    )


def set_presence(conn: Connection, now: datetime, agent_id: int, online_until: datetime) -> None:
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = upsert(agent_presence).values(agent_id=agent_id, online_until=online_until)
    conn.execute(stmt.on_conflict_do_update(index_elements=["agent_id"], set_={"online_until": online_until}))


def set_teams(conn: Connection, now: datetime, agent_id: int, teams: list[str]) -> None:
    conn.execute(team_members.delete().where(team_members.c.agent_id == agent_id))
    for team in dict.fromkeys(teams):
        conn.execute(insert(team_members), {"team": team, "agent_id": agent_id})


def teams_of(conn: Connection, agent_id: int) -> list[str]:
    return [r.team for r in conn.execute(select(team_members.c.team).where(team_members.c.agent_id == agent_id))]


def _event(conn: Connection, ticket_id: int, at: datetime, actor: str, field: str, old: str | None, new: str | None) -> None:
    conn.execute(
        insert(ticket_events),
        {"ticket_id": ticket_id, "at": at, "actor": actor[:128], "field": field, "old_value": old, "new_value": new},
    )

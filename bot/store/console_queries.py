"""The agent console's SQL: sessions, the inbox, a conversation's details, agents' actions.

Plain synchronous SQLAlchemy Core, run through :meth:`Store.read` and
:meth:`Store.write` (the group-commit writer) like the order book's
:mod:`bot.orders.ops`. Write jobs take ``(conn, now, ...)``; a job returns
:class:`~bot.store.writer.Failed` to refuse without writing anything.

Who holds a conversation: a ``conversation_assignments`` row (agent and/or team)
once the console touched it; before that, the conversation's active ticket (its
``assignee_id`` and ``team``, set by the ticket desk's routing). The *effective*
agent and team below follow that rule everywhere (inbox, visibility, actions).

Visibility ("restricted data"): admins see everything. An agent sees a
conversation that has no team, that is theirs, that belongs to one of their teams,
or whose team has no active members (a shop that has not set up teams yet, or whose
team's only member left). So once a team has active members, its conversations — the customers' profiles, orders and
history — are for its members only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    ColumnElement,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from bot.store import queries
from bot.store.models import (
    agents,
    canned_responses,
    channel_identities,
    console_sessions,
    conversation_actions,
    conversation_assignments,
    conversation_notes,
    conversations,
    customers,
    messages,
    outbox,
    saved_views,
    team_members,
    tickets,
)
from bot.store.records import ConversationChanges, ConversationRecord, NewMessage, StoredMessage
from bot.store.turns import ConversationNotFound, TurnWrite, record_turns
from bot.store.writer import Failed
from bot.types import ConversationStatus

ACTIVE_TICKET = ("open", "pending")
PEOPLE = (ConversationStatus.WAITING_FOR_AGENT, ConversationStatus.WITH_AGENT)
INBOX_LIMIT = 200


# -- records ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """A console user as a session sees them: the account and its teams."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    teams: tuple[str, ...]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    agent: StaffRecord


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One line of the inbox (and the live updates of it)."""

    id: int
    status: str
    channel: str
    external_id: str
    lang: str
    customer_id: int
    customer_name: str | None
    created_at: datetime
    last_message_at: datetime | None
    handoff_at: datetime | None
    last_seq: int
    last_sender: str | None
    last_text: str | None
    agent_id: int | None
    agent_name: str | None
    team: str | None
    ticket_number: str | None
    category: str | None
    priority: str | None
    csat_score: int | None


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    conversation_id: int
    agent_id: int | None
    agent_name: str | None
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ActionRecord:
    id: int
    conversation_id: int
    agent_id: int | None
    agent_name: str | None
    action: str
    detail: dict[str, Any] | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Canned:
    id: int
    shortcut: str
    title: str
    text: str
    lang: str | None
    updated_by: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SavedViewRecord:
    id: int
    name: str
    filters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a conversation right now (see the module's notes)."""

    agent_id: int | None
    team: str | None


@dataclass(frozen=True, slots=True)
class Filters:
    """An inbox query. ``view``: mine | unassigned | teams | all; ``status``: people
    (waiting for or with an agent, or with an active ticket: the default) | open (not
    resolved) | any | one status."""

    view: str = "all"
    status: str = "people"
    channel: str | None = None
    category: str | None = None
    priority: str | None = None
    team: str | None = None
    q: str | None = None


class ConsoleConflict(Exception):
    """The conversation's state does not allow this action (e.g. already resolved,
    held by another agent); ``code`` says which."""

    def __init__(self, code: str, message: str, **info: Any) -> None:
        super().__init__(message)
        self.code = code
        self.info = info


class NotVisible(LookupError):
    """No such conversation, or not one this agent may see."""


# -- sessions -------------------------------------------------------------------------

_STAFF_COLUMNS = (agents.c.id, agents.c.username, agents.c.display_name, agents.c.role, agents.c.active)


def fetch_staff(conn: Connection, agent_id: int) -> StaffRecord | None:
    row = conn.execute(select(*_STAFF_COLUMNS).where(agents.c.id == agent_id)).first()
    if row is None:
        return None
    return StaffRecord(*row, teams=_teams_of(conn, agent_id))


def _teams_of(conn: Connection, agent_id: int) -> tuple[str, ...]:
    return tuple(
        sorted(r[0] for r in conn.execute(select(team_members.c.team).where(team_members.c.agent_id == agent_id)))
    )


def create_session(
    conn: Connection,
    now: datetime,
    *,
    session_id: str,
    agent_id: int,
    csrf_token: str,
    expires_at: datetime,
    ip: str | None,
    user_agent: str | None,
) -> None:
    # A login is a good moment to forget this account's expired sessions.
    conn.execute(
        delete(console_sessions).where(console_sessions.c.agent_id == agent_id, console_sessions.c.expires_at < now)
    )
    conn.execute(
        insert(console_sessions).values(
            id=session_id,
            agent_id=agent_id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            ip=(ip or "")[:64] or None,
            user_agent=(user_agent or "")[:255] or None,
        )
    )


def fetch_session(conn: Connection, session_id: str, now: datetime) -> SessionRecord | None:
    """The unexpired session of an active account, or ``None``."""
    row = conn.execute(
        select(
            console_sessions.c.id,
            console_sessions.c.csrf_token,
            console_sessions.c.created_at,
            console_sessions.c.last_seen_at,
            console_sessions.c.expires_at,
            *_STAFF_COLUMNS,
        )
        .join(agents, agents.c.id == console_sessions.c.agent_id)
        .where(console_sessions.c.id == session_id, console_sessions.c.expires_at > now, agents.c.active.is_(True))
    ).first()
    if row is None:
        return None
    staff = StaffRecord(*row[5:], teams=_teams_of(conn, row[5]))
    return SessionRecord(row[0], row[1], row[2], row[3], row[4], staff)


def touch_session(conn: Connection, now: datetime, *, session_id: str) -> None:
    """The session was used now (its idle timeout counts from here)."""
    conn.execute(update(console_sessions).where(console_sessions.c.id == session_id).values(last_seen_at=now))


def delete_session(conn: Connection, now: datetime, *, session_id: str) -> None:  # noqa: ARG001
    conn.execute(delete(console_sessions).where(console_sessions.c.id == session_id))


def delete_agent_sessions(conn: Connection, now: datetime, *, agent_id: int) -> None:  # noqa: ARG001
    conn.execute(delete(console_sessions).where(console_sessions.c.agent_id == agent_id))


# -- staff (admin pages) ------------------------------------------------------------------


def list_staff(conn: Connection) -> list[tuple[StaffRecord, datetime | None]]:
    rows = conn.execute(select(*_STAFF_COLUMNS, agents.c.last_login_at).order_by(agents.c.active.desc(), agents.c.username))
    memberships: dict[int, list[str]] = {}
    for team, agent_id in conn.execute(select(team_members.c.team, team_members.c.agent_id)):
        memberships.setdefault(agent_id, []).append(team)
    return [
        (StaffRecord(*row[:5], teams=tuple(sorted(memberships.get(row[0], ())))), row[5]) for row in rows
    ]


def update_staff(
    conn: Connection,
    now: datetime,  # noqa: ARG001
    *,
    agent_id: int,
    role: str | None = None,
    active: bool | None = None,
    display_name: str | None = None,
    teams: list[str] | None = None,
) -> StaffRecord | Failed:
    if conn.execute(select(agents.c.id).where(agents.c.id == agent_id)).first() is None:
        return Failed(LookupError(f"no agent {agent_id}"))
    values: dict[str, Any] = {}
    if role is not None:
        values["role"] = role
    if active is not None:
        values["active"] = active
    if display_name is not None:
        values["display_name"] = display_name
    if values:
        conn.execute(update(agents).where(agents.c.id == agent_id).values(**values))
    if active is False:
        conn.execute(delete(console_sessions).where(console_sessions.c.agent_id == agent_id))
    if teams is not None:
        conn.execute(delete(team_members).where(team_members.c.agent_id == agent_id))
        for team in dict.fromkeys(teams):
            conn.execute(insert(team_members).values(team=team, agent_id=agent_id))
    return fetch_staff(conn, agent_id)  # type: ignore[return-value]


def active_staff(conn: Connection) -> list[StaffRecord]:
    """Active accounts (transfer targets), by name."""
    rows = conn.execute(select(*_STAFF_COLUMNS).where(agents.c.active.is_(True)).order_by(agents.c.display_name))
    return [StaffRecord(*row, teams=()) for row in rows]


# -- the inbox ---------------------------------------------------------------------------

_last = messages.alias("last_message")
_ticket = tickets.alias("current_ticket")
_assignee = agents.alias("assignee")

_CURRENT_TICKET_ID = (
    select(func.max(tickets.c.id))
    .where(tickets.c.conversation_id == conversations.c.id, tickets.c.status.in_(ACTIVE_TICKET))
    .correlate(conversations)
    .scalar_subquery()
)

# The effective holder: the console's assignment once there is one, else the ticket's.
EFFECTIVE_AGENT = case(
    (conversation_assignments.c.conversation_id.is_not(None), conversation_assignments.c.agent_id),
    else_=_ticket.c.assignee_id,
)
EFFECTIVE_TEAM = func.coalesce(conversation_assignments.c.team, _ticket.c.team)

_FROM = (
    conversations.join(customers, customers.c.id == conversations.c.customer_id)
    .outerjoin(conversation_assignments, conversation_assignments.c.conversation_id == conversations.c.id)
    .outerjoin(_ticket, _ticket.c.id == _CURRENT_TICKET_ID)
    .outerjoin(_assignee, _assignee.c.id == EFFECTIVE_AGENT)
    .outerjoin(_last, and_(_last.c.conversation_id == conversations.c.id, _last.c.seq == conversations.c.last_seq))
)

_ROW_COLUMNS = (
    conversations.c.id,
    conversations.c.status,
    conversations.c.channel,
    conversations.c.external_id,
    conversations.c.lang,
    conversations.c.customer_id,
    customers.c.display_name,
    conversations.c.created_at,
    conversations.c.last_message_at,
    conversations.c.handoff_at,
    conversations.c.last_seq,
    _last.c.sender_type,
    _last.c.text,
    EFFECTIVE_AGENT.label("agent_id"),
    _assignee.c.display_name,
    EFFECTIVE_TEAM.label("team"),
    _ticket.c.number,
    _ticket.c.category,
    _ticket.c.priority,
    conversations.c.csat_score,
)

_WITH_ACTIVE_TICKET = select(tickets.c.conversation_id).where(tickets.c.status.in_(ACTIVE_TICKET))

_STATUS_RANK = case(
    (conversations.c.status == ConversationStatus.WAITING_FOR_AGENT, 0),
    (conversations.c.status == ConversationStatus.WITH_AGENT, 1),
    (conversations.c.status == ConversationStatus.BOT, 2),
    else_=3,
)


def visible_to(staff: StaffRecord) -> ColumnElement[bool]:
    """The condition "``staff`` may see this conversation" (see the module's notes)."""
    if staff.is_admin:
        return literal(True)
    conditions = [
        EFFECTIVE_AGENT == staff.id,
        EFFECTIVE_TEAM.is_(None),
        # A team whose members were all deactivated is as good as empty: hiding its
        # conversations from everyone else would leave its customers unanswered.
        EFFECTIVE_TEAM.not_in(
            select(team_members.c.team).join(agents, agents.c.id == team_members.c.agent_id).where(agents.c.active)
        ),
    ]
    if staff.teams:
        conditions.append(EFFECTIVE_TEAM.in_(staff.teams))
    return or_(*conditions)


def _row(row: Any) -> InboxRow:
    return InboxRow(*row)


def inbox(conn: Connection, staff: StaffRecord, filters: Filters, limit: int = INBOX_LIMIT) -> list[InboxRow]:
    """The conversations ``staff`` sees through ``filters``: those waiting for a person first
    (oldest handoff first), then those with an agent, then the rest by latest message."""
    query = select(*_ROW_COLUMNS).select_from(_FROM).where(visible_to(staff))
    if filters.view == "mine":
        query = query.where(EFFECTIVE_AGENT == staff.id)
    elif filters.view == "unassigned":
        query = query.where(EFFECTIVE_AGENT.is_(None), conversations.c.status.in_(PEOPLE))
    elif filters.view == "teams":
        query = query.where(EFFECTIVE_TEAM.in_(staff.teams) if staff.teams else false())
    status = filters.status
    if status == "open":
        query = query.where(conversations.c.status != ConversationStatus.RESOLVED)
    elif status == "people":
        # Both sides indexed (status; the primary key), so no scan of every bot conversation.
        query = query.where(or_(conversations.c.status.in_(PEOPLE), conversations.c.id.in_(_WITH_ACTIVE_TICKET)))
    elif status in ConversationStatus.ALL:
        query = query.where(conversations.c.status == status)
    if filters.channel:
        query = query.where(conversations.c.channel == filters.channel)
    if filters.category:
        query = query.where(_ticket.c.category == filters.category)
    if filters.priority:
        query = query.where(_ticket.c.priority == filters.priority)
    if filters.team:
        query = query.where(EFFECTIVE_TEAM == filters.team)
    if filters.q:
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                customers.c.display_name.ilike(pattern, escape="\\"),
                customers.c.phone.ilike(pattern, escape="\\"),
                customers.c.email.ilike(pattern, escape="\\"),
                conversations.c.external_id.ilike(pattern, escape="\\"),
                _ticket.c.number.ilike(pattern, escape="\\"),
            )
        )
    query = query.order_by(
        _STATUS_RANK,
        case((conversations.c.status == ConversationStatus.WAITING_FOR_AGENT, conversations.c.handoff_at)).asc(),
        conversations.c.last_message_at.desc(),
        conversations.c.id.desc(),
    ).limit(limit)
    return [_row(r) for r in conn.execute(query)]


def inbox_rows(conn: Connection, ids: list[int]) -> list[InboxRow]:
    """The inbox lines of these conversations (for live updates), whoever may see them."""
    if not ids:
        return []
    return [_row(r) for r in conn.execute(select(*_ROW_COLUMNS).select_from(_FROM).where(conversations.c.id.in_(ids)))]


def needing_people(conn: Connection, limit: int = 5000) -> list[int]:
    """Ids of conversations waiting for or with an agent (the live hub watches them)."""
    return [
        r[0]
        for r in conn.execute(
            select(conversations.c.id).where(conversations.c.status.in_(PEOPLE)).order_by(conversations.c.id.desc()).limit(limit)
        )
    ]


def can_see(conn: Connection, staff: StaffRecord, conversation_id: int) -> bool:
    return (
        conn.execute(
            select(conversations.c.id).select_from(_FROM).where(conversations.c.id == conversation_id, visible_to(staff))
        ).first()
        is not None
    )


def holder(conn: Connection, conversation_id: int) -> Holder:
    row = conn.execute(
        select(EFFECTIVE_AGENT, EFFECTIVE_TEAM).select_from(_FROM).where(conversations.c.id == conversation_id)
    ).first()
    return Holder(None, None) if row is None else Holder(row[0], row[1])


# -- one conversation ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConversationView:
    """Everything the conversation page shows, read in one go."""

    conversation: ConversationRecord
    row: InboxRow
    customer: Any  # CustomerRecord
    identities: list[tuple[str, str]]
    messages: list[StoredMessage]
    notes: list[Note]
    actions: list[ActionRecord]
    past: list[InboxRow]
    csat: tuple[int | None, str | None, datetime | None]
    agent_names: dict[int, str]


def conversation_view(
    conn: Connection, staff: StaffRecord, conversation_id: int, history_limit: int = 1000
) -> ConversationView | None:
    if not can_see(conn, staff, conversation_id):
        return None
    conversation = queries.fetch_conversation(conn, conversation_id)
    if conversation is None:
        return None
    [row] = inbox_rows(conn, [conversation_id])
    customer = queries.fetch_customer(conn, conversation.customer_id)
    identities = [
        (r[0], r[1])
        for r in conn.execute(
            select(channel_identities.c.channel, channel_identities.c.external_id)
            .where(channel_identities.c.customer_id == conversation.customer_id)
            .order_by(channel_identities.c.id)
        )
    ]
    history = list(
        reversed(
            [
                StoredMessage(*r)
                for r in conn.execute(
                    select(*queries.MESSAGE_COLUMNS)
                    .where(messages.c.conversation_id == conversation_id)
                    .order_by(messages.c.seq.desc())
                    .limit(history_limit)
                )
            ]
        )
    )
    past_ids = [
        r[0]
        for r in conn.execute(
            select(conversations.c.id)
            .where(conversations.c.customer_id == conversation.customer_id, conversations.c.id != conversation_id)
            .order_by(conversations.c.id.desc())
            .limit(20)
        )
    ]
    past = [r for r in inbox_rows(conn, past_ids)]
    past.sort(key=lambda r: r.id, reverse=True)
    csat = conn.execute(
        select(conversations.c.csat_score, conversations.c.csat_comment, conversations.c.csat_at).where(
            conversations.c.id == conversation_id
        )
    ).one()
    names = {
        r[0]: r[1] for r in conn.execute(select(agents.c.id, agents.c.display_name))
    }
    return ConversationView(
        conversation=conversation,
        row=row,
        customer=customer,
        identities=identities,
        messages=history,
        notes=fetch_notes(conn, conversation_id),
        actions=fetch_actions(conn, conversation_id),
        past=past,
        csat=(csat[0], csat[1], csat[2]),
        agent_names=names,
    )


def fetch_notes(conn: Connection, conversation_id: int) -> list[Note]:
    rows = conn.execute(
        select(
            conversation_notes.c.id,
            conversation_notes.c.conversation_id,
            conversation_notes.c.agent_id,
            agents.c.display_name,
            conversation_notes.c.text,
            conversation_notes.c.created_at,
        )
        .outerjoin(agents, agents.c.id == conversation_notes.c.agent_id)
        .where(conversation_notes.c.conversation_id == conversation_id)
        .order_by(conversation_notes.c.id)
    )
    return [Note(*r) for r in rows]


def fetch_actions(conn: Connection, conversation_id: int) -> list[ActionRecord]:
    rows = conn.execute(
        select(
            conversation_actions.c.id,
            conversation_actions.c.conversation_id,
            conversation_actions.c.agent_id,
            agents.c.display_name,
            conversation_actions.c.action,
            conversation_actions.c.detail,
            conversation_actions.c.at,
        )
        .outerjoin(agents, agents.c.id == conversation_actions.c.agent_id)
        .where(conversation_actions.c.conversation_id == conversation_id)
        .order_by(conversation_actions.c.id)
    )
    return [ActionRecord(*r) for r in rows]


def fetch_rating(conn: Connection, conversation_id: int) -> tuple[int | None, str | None, datetime | None]:
    row = conn.execute(
        select(conversations.c.csat_score, conversations.c.csat_comment, conversations.c.csat_at).where(
            conversations.c.id == conversation_id
        )
    ).first()
    return (None, None, None) if row is None else (row[0], row[1], row[2])


# -- agents' actions (write jobs) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action wrote: the conversation after it, the messages pushed to the customer
    (already in the outbox), and whether anything changed at all."""

    conversation: ConversationRecord
    messages: tuple[StoredMessage, ...] = ()
    changed: bool = True
    note: Note | None = None


def refusable(job: Any) -> Any:
    """A job whose refusals (raised before it wrote anything) come back as :class:`Failed`,
    so the rest of its group-commit batch is not rolled back and retried."""

    def wrapped(conn: Connection, now: datetime, **kwargs: Any) -> Any:
        try:
            return job(conn, now, **kwargs)
        except (ConsoleConflict, NotVisible, ConversationNotFound) as exc:
            return Failed(exc)

    wrapped.__name__ = job.__name__
    wrapped.__doc__ = job.__doc__
    return wrapped


def _lock(conn: Connection, conversation_id: int) -> ConversationRecord:
    row = conn.execute(
        select(*queries.CONVERSATION_COLUMNS).where(conversations.c.id == conversation_id).with_for_update()
    ).first()
    if row is None:
        raise ConversationNotFound(conversation_id)
    return ConversationRecord(*row)


def _log(conn: Connection, now: datetime, conversation_id: int, agent_id: int | None, action: str, **detail: Any) -> None:
    conn.execute(
        insert(conversation_actions).values(
            conversation_id=conversation_id, agent_id=agent_id, action=action, detail=detail or None, at=now
        )
    )


def set_assignment(
    conn: Connection, now: datetime, conversation_id: int, *, agent_id: int | None, team: str | None, by: int | None
) -> None:
    """Record who holds a conversation (for other modules too, inside their own write job)."""
    exists = conn.execute(
        select(conversation_assignments.c.conversation_id).where(
            conversation_assignments.c.conversation_id == conversation_id
        )
    ).first()
    values = {"agent_id": agent_id, "team": team, "assigned_by": by, "updated_at": now}
    if exists is None:
        conn.execute(insert(conversation_assignments).values(conversation_id=conversation_id, **values))
    else:
        conn.execute(
            update(conversation_assignments)
            .where(conversation_assignments.c.conversation_id == conversation_id)
            .values(**values)
        )


def _push(
    conn: Connection, now: datetime, conversation: ConversationRecord, new: list[NewMessage], status: str | None
) -> tuple[ConversationRecord, tuple[StoredMessage, ...]]:
    """Append ``new`` (and the status change) as one turn, with an outbox row per message so
    the relay announces them and channel adapters (Telegram) deliver them."""
    [result] = record_turns(
        conn, [TurnWrite(conversation.id, None, new, ConversationChanges(status=status))], now
    )
    if isinstance(result, Failed):  # pragma: no cover - the row is locked and exists
        raise result.error
    for stored in result.messages:
        conn.execute(
            insert(outbox).values(
                message_id=stored.id,
                conversation_id=stored.conversation_id,
                channel=conversation.channel,
                external_id=conversation.external_id,
                created_at=now,
                attempts=0,
            )
        )
    return result.conversation, tuple(result.messages)


def _may_act(staff: StaffRecord, current: Holder) -> bool:
    return staff.is_admin or current.agent_id in (None, staff.id)


def _not_resolved(conversation: ConversationRecord) -> None:
    if conversation.status == ConversationStatus.RESOLVED:
        raise ConsoleConflict("resolved", "this conversation is already resolved")


def _held_elsewhere(current: Holder) -> ConsoleConflict:
    return ConsoleConflict("held_by_other", "another agent holds this conversation", agent_id=current.agent_id)


def _checked(conn: Connection, staff: StaffRecord, conversation_id: int) -> tuple[ConversationRecord, Holder]:
    conversation = _lock(conn, conversation_id)
    if not can_see(conn, staff, conversation_id):
        raise NotVisible(conversation_id)
    return conversation, holder(conn, conversation_id)


def _join_messages(staff: StaffRecord, texts: dict[str, str]) -> list[NewMessage]:
    return [NewMessage(sender_type="system", text=texts["joined"], agent_id=staff.id)]


@refusable
def take_over(
    conn: Connection, now: datetime, *, staff: StaffRecord, conversation_id: int, texts: dict[str, str]
) -> ActionResult:
    """The agent holds the conversation: ``with_agent``, assigned to them, the customer told."""
    conversation, current = _checked(conn, staff, conversation_id)
    _not_resolved(conversation)
    if conversation.status == ConversationStatus.WITH_AGENT and current.agent_id == staff.id:
        return ActionResult(conversation, changed=False)
    if conversation.status == ConversationStatus.WITH_AGENT and current.agent_id is not None and not staff.is_admin:
        raise _held_elsewhere(current)
    set_assignment(conn, now, conversation_id, agent_id=staff.id, team=current.team, by=staff.id)
    updated, pushed = _push(conn, now, conversation, _join_messages(staff, texts), ConversationStatus.WITH_AGENT)
    _log(conn, now, conversation_id, staff.id, "take_over", previous_agent=current.agent_id, status=conversation.status)
    return ActionResult(updated, pushed)


@refusable
def reply(
    conn: Connection, now: datetime, *, staff: StaffRecord, conversation_id: int, text: str, texts: dict[str, str]
) -> ActionResult:
    """An agent's message to the customer; taking the conversation over first when needed."""
    conversation, current = _checked(conn, staff, conversation_id)
    _not_resolved(conversation)
    new: list[NewMessage] = []
    status = None
    if conversation.status != ConversationStatus.WITH_AGENT or current.agent_id != staff.id:
        if conversation.status == ConversationStatus.WITH_AGENT and current.agent_id not in (None, staff.id) and not staff.is_admin:
            raise _held_elsewhere(current)
        set_assignment(conn, now, conversation_id, agent_id=staff.id, team=current.team, by=staff.id)
        new += _join_messages(staff, texts)
        status = ConversationStatus.WITH_AGENT
        _log(conn, now, conversation_id, staff.id, "take_over", previous_agent=current.agent_id, status=conversation.status)
    new.append(NewMessage(sender_type="agent", text=text, agent_id=staff.id))
    updated, pushed = _push(conn, now, conversation, new, status)
    return ActionResult(updated, pushed)


@refusable
def add_note(
    conn: Connection, now: datetime, *, staff: StaffRecord, conversation_id: int, text: str
) -> ActionResult:
    conversation, _ = _checked(conn, staff, conversation_id)
    note_id = conn.execute(
        insert(conversation_notes)
        .values(conversation_id=conversation_id, agent_id=staff.id, text=text, created_at=now)
        .returning(conversation_notes.c.id)
    ).scalar_one()
    note = Note(note_id, conversation_id, staff.id, staff.display_name, text, now)
    return ActionResult(conversation, note=note)


@refusable
def transfer(
    conn: Connection,
    now: datetime,
    *,
    staff: StaffRecord,
    conversation_id: int,
    to_agent: StaffRecord | None,
    to_team: str | None,
    texts: dict[str, str],
) -> ActionResult:
    """Hand the conversation to another agent (who then holds it) or to a team's queue."""
    conversation, current = _checked(conn, staff, conversation_id)
    _not_resolved(conversation)
    if not _may_act(staff, current):
        raise _held_elsewhere(current)
    new: list[NewMessage] = []
    status = None
    if to_agent is not None:
        if to_agent.id == current.agent_id:
            return ActionResult(conversation, changed=False)
        team = to_team if to_team is not None else current.team
        set_assignment(conn, now, conversation_id, agent_id=to_agent.id, team=team, by=staff.id)
        if conversation.status == ConversationStatus.WITH_AGENT:
            new.append(NewMessage(sender_type="system", text=texts["to_agent"], agent_id=to_agent.id))
        _log(conn, now, conversation_id, staff.id, "transfer", to_agent=to_agent.id, from_agent=current.agent_id, team=team)
    else:
        set_assignment(conn, now, conversation_id, agent_id=None, team=to_team, by=staff.id)
        if conversation.status == ConversationStatus.WITH_AGENT:
            status = ConversationStatus.WAITING_FOR_AGENT
            new.append(NewMessage(sender_type="system", text=texts["to_team"], agent_id=staff.id))
        _log(conn, now, conversation_id, staff.id, "transfer", to_team=to_team, from_agent=current.agent_id)
    if not new and status is None:
        return ActionResult(_lock(conn, conversation_id))
    updated, pushed = _push(conn, now, conversation, new, status)
    return ActionResult(updated, pushed)


@refusable
def hand_back(
    conn: Connection, now: datetime, *, staff: StaffRecord, conversation_id: int, texts: dict[str, str]
) -> ActionResult:
    """The bot answers again: status ``bot``, nobody holds it, the customer told."""
    conversation, current = _checked(conn, staff, conversation_id)
    _not_resolved(conversation)
    if not _may_act(staff, current):
        raise _held_elsewhere(current)
    if conversation.status == ConversationStatus.BOT:
        return ActionResult(conversation, changed=False)
    set_assignment(conn, now, conversation_id, agent_id=None, team=current.team, by=staff.id)
    updated, pushed = _push(
        conn, now, conversation, [NewMessage(sender_type="system", text=texts["handed_back"], agent_id=staff.id)],
        ConversationStatus.BOT,
    )
    _log(conn, now, conversation_id, staff.id, "hand_back", previous_agent=current.agent_id)
    return ActionResult(updated, pushed)


@refusable
def release(
    conn: Connection, now: datetime, *, staff: StaffRecord, conversation_id: int, texts: dict[str, str] | None = None
) -> ActionResult:
    """Back to the queue: ``waiting_for_agent``, no agent (the team stays); the customer is not told."""
    conversation, current = _checked(conn, staff, conversation_id)
    _not_resolved(conversation)
    if not _may_act(staff, current):
        raise _held_elsewhere(current)
    if conversation.status == ConversationStatus.WAITING_FOR_AGENT and current.agent_id is None:
        return ActionResult(conversation, changed=False)
    set_assignment(conn, now, conversation_id, agent_id=None, team=current.team, by=staff.id)
    updated, pushed = _push(conn, now, conversation, [], ConversationStatus.WAITING_FOR_AGENT)
    _log(conn, now, conversation_id, staff.id, "release", previous_agent=current.agent_id)
    return ActionResult(updated, pushed)


# Channels that get the rating request as buttons (the widget shows its own rating card).
RATING_BUTTON_CHANNELS = ("telegram",)
# The rating buttons' payload: ``tg:rate:<conversation id>:<score>`` (handled by the channel itself).
RATING_PAYLOAD = "tg:rate:"


@refusable
def resolve(
    conn: Connection, now: datetime, *, staff: StaffRecord, conversation_id: int, texts: dict[str, str]
) -> ActionResult:
    """Done: status ``resolved`` (the widget asks for a rating); the customer's next message opens
    a new conversation."""
    conversation, current = _checked(conn, staff, conversation_id)
    if conversation.status == ConversationStatus.RESOLVED:
        return ActionResult(conversation, changed=False)
    if not _may_act(staff, current):
        raise _held_elsewhere(current)
    if current.agent_id is None:
        set_assignment(conn, now, conversation_id, agent_id=staff.id, team=current.team, by=staff.id)
    closing = NewMessage(sender_type="system", text=texts["resolved"], agent_id=staff.id)
    if conversation.channel in RATING_BUTTON_CHANNELS and texts.get("rate"):
        # Telegram has no rating card like the widget's: the question comes as buttons.
        closing = NewMessage(
            sender_type="system",
            text=texts["resolved"] + "\n" + texts["rate"],
            agent_id=staff.id,
            buttons=[{"title": "⭐" * n, "payload": f"{RATING_PAYLOAD}{conversation_id}:{n}"} for n in range(5, 0, -1)],
        )
    updated, pushed = _push(conn, now, conversation, [closing], ConversationStatus.RESOLVED)
    _log(conn, now, conversation_id, staff.id, "resolve", previous_status=conversation.status)
    return ActionResult(updated, pushed)


# -- canned responses -----------------------------------------------------------------------

_CANNED_COLUMNS = (
    canned_responses.c.id,
    canned_responses.c.shortcut,
    canned_responses.c.title,
    canned_responses.c.text,
    canned_responses.c.lang,
    canned_responses.c.updated_by,
    canned_responses.c.updated_at,
)


def list_canned(conn: Connection) -> list[Canned]:
    return [Canned(*r) for r in conn.execute(select(*_CANNED_COLUMNS).order_by(canned_responses.c.shortcut))]


def save_canned(
    conn: Connection,
    now: datetime,
    *,
    canned_id: int | None,
    shortcut: str,
    title: str,
    text: str,
    lang: str | None,
    actor: str,
) -> Canned | Failed:
    taken = conn.execute(
        select(canned_responses.c.id).where(canned_responses.c.shortcut == shortcut)
    ).first()
    if taken is not None and taken[0] != canned_id:
        return Failed(ConsoleConflict("duplicate", f"the shortcut '{shortcut}' is taken"))
    values = {"shortcut": shortcut, "title": title, "text": text, "lang": lang, "updated_by": actor, "updated_at": now}
    if canned_id is None:
        canned_id = conn.execute(
            insert(canned_responses).values(created_at=now, **values).returning(canned_responses.c.id)
        ).scalar_one()
    else:
        done = conn.execute(update(canned_responses).where(canned_responses.c.id == canned_id).values(**values))
        if done.rowcount != 1:
            return Failed(LookupError(f"no canned response {canned_id}"))
    row = conn.execute(select(*_CANNED_COLUMNS).where(canned_responses.c.id == canned_id)).one()
    return Canned(*row)


def delete_canned(conn: Connection, now: datetime, *, canned_id: int) -> None:  # noqa: ARG001
    conn.execute(delete(canned_responses).where(canned_responses.c.id == canned_id))


# -- saved views ------------------------------------------------------------------------------


def list_views(conn: Connection, agent_id: int) -> list[SavedViewRecord]:
    rows = conn.execute(
        select(saved_views.c.id, saved_views.c.name, saved_views.c.filters)
        .where(saved_views.c.agent_id == agent_id)
        .order_by(saved_views.c.name)
    )
    return [SavedViewRecord(*r) for r in rows]


def save_view(
    conn: Connection, now: datetime, *, agent_id: int, name: str, filters: dict[str, Any]
) -> SavedViewRecord:
    """Create the view, or replace the filters of this agent's view of the same name."""
    existing = conn.execute(
        select(saved_views.c.id).where(saved_views.c.agent_id == agent_id, saved_views.c.name == name)
    ).first()
    if existing is None:
        view_id = conn.execute(
            insert(saved_views)
            .values(agent_id=agent_id, name=name, filters=filters, created_at=now)
            .returning(saved_views.c.id)
        ).scalar_one()
    else:
        view_id = existing[0]
        conn.execute(update(saved_views).where(saved_views.c.id == view_id).values(filters=filters))
    return SavedViewRecord(view_id, name, filters)


def delete_view(conn: Connection, now: datetime, *, agent_id: int, view_id: int) -> None:  # noqa: ARG001
    conn.execute(delete(saved_views).where(saved_views.c.id == view_id, saved_views.c.agent_id == agent_id))


# -- numbers ------------------------------------------------------------------------------------


def report_rows(conn: Connection, start: datetime, end: datetime, limit: int = 100_000) -> list[tuple[Any, ...]]:
    """Timeline columns of the conversations created in ``[start, end)`` that a customer wrote in."""
    return [
        tuple(r)
        for r in conn.execute(
            select(
                conversations.c.channel,
                conversations.c.status,
                conversations.c.first_customer_message_at,
                conversations.c.first_response_at,
                conversations.c.handoff_at,
                conversations.c.first_agent_response_at,
                conversations.c.resolved_at,
                conversations.c.csat_score,
            )
            .where(
                conversations.c.created_at >= start,
                conversations.c.created_at < end,
                conversations.c.first_customer_message_at.is_not(None),
            )
            .limit(limit)
        )
    ]


def ticket_report_rows(conn: Connection, start: datetime, end: datetime, limit: int = 100_000) -> list[tuple[Any, ...]]:
    """Category, team, creation, SLA due times, first response and resolution of the tickets
    created in ``[start, end)``."""
    return [
        tuple(r)
        for r in conn.execute(
            select(
                tickets.c.category,
                tickets.c.team,
                tickets.c.created_at,
                tickets.c.first_response_due_at,
                tickets.c.resolution_due_at,
                tickets.c.first_response_at,
                tickets.c.resolved_at,
            )
            .where(tickets.c.created_at >= start, tickets.c.created_at < end)
            .limit(limit)
        )
    ]

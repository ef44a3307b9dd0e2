"""The ticket desk: opening tickets from the chat, and everything agents change on them.

A complaint, a request for a person or a message left while the shop is closed
becomes a ticket: categorized and prioritized by ``tickets.yml``'s rules
(:mod:`bot.tickets.classify`), routed to the category's team (or the team for
the customer's region), assigned to that team's online agent with the fewest
active tickets when one has room, otherwise queued oldest first. A conversation
has at most one active ticket; a second complaint in it is added to that one.

Every change is announced on the bus topic ``"tickets"`` for live consoles and
kept in the ticket's audit trail (who, what, when).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.bus import BusUnavailable
from bot.shopdata.tickets import PRIORITIES, TicketConfig
from bot.tickets import ops
from bot.tickets.classify import categorize, prioritize
from bot.tickets.records import NewTicket, TicketRecord, TicketStatus

if TYPE_CHECKING:
    from bot.bus import Bus
    from bot.store import Store

log = logging.getLogger(__name__)

TICKETS_TOPIC = "tickets"
SUBJECT_CHARS = 80
# How long a ticket waits per ticket ahead of it in the queue, for the estimate customers get.
MINUTES_PER_QUEUED_TICKET = 5
PRESENCE_SECONDS = 90


class TicketDesk:
    """Tickets over the store. One per process; safe for concurrent use."""

    def __init__(self, store: "Store", config: TicketConfig, bus: "Bus | None" = None, zone_of_city=None) -> None:
        self.store = store
        self.config = config
        self.bus = bus
        # city name → shipping zone id, for teams that route by region (None: no regions).
        self.zone_of_city = zone_of_city

    # -- from the chat -----------------------------------------------------------

    async def open(self, new: NewTicket) -> tuple[TicketRecord, bool]:
        """The conversation's ticket: a new one, or the active one with this complaint added.
        Returns ``(ticket, created)``."""
        existing = await self.store.read(ops.active_for_conversation, new.conversation_id)
        if existing is not None:
            updated = await self.store.write(
                lambda conn, now: ops.add_to(conn, now, existing.number, _clean(new.text), new.order_number)
            )
            await self._announce(updated, "updated")
            return updated, False
        words = await self.store.read(ops.customer_words, new.conversation_id)
        text = " ".join([*words, new.text]) if new.source != "complaint" else new.text
        category = categorize(self.config, text)
        since = self.store.now() - timedelta(days=max(self.config.rules.repeat_contact_days, 0))
        recent = await self.store.read(ops.recent_count, new.customer_id, since)
        order_total = await self._order_total(new.order_number)
        priority, reasons = prioritize(self.config, category, text, recent_tickets=recent, order_total=order_total)
        sla = self.config.slas[priority]
        draft = ops.Draft(
            conversation_id=new.conversation_id,
            customer_id=new.customer_id,
            channel=new.channel,
            order_number=new.order_number,
            category=category.id,
            priority=priority,
            priority_reasons=reasons,
            team=self._team_for(category.team, new.city),
            subject=_subject(category.name.get(new.lang) or category.name["id"], new.text or text),
            summary=_summary(new, words),
            source=new.source,
            first_response_due=timedelta(minutes=sla.first_response_minutes),
            resolution_due=timedelta(hours=sla.resolution_hours),
            max_open_per_agent=self.config.max_open_per_agent,
        )
        ticket = await self.store.write(lambda conn, now: ops.create(conn, now, draft, now.year))
        await self._announce(ticket, "created")
        return ticket, True

    def _team_for(self, team_id: str, city: str | None) -> str:
        team = self.config.team(team_id)
        if team is None or not team.regions or not city or self.zone_of_city is None:
            return team_id
        zone = self.zone_of_city(city)
        return team.regions.get(zone, team_id) if zone else team_id

    async def _order_total(self, number: str | None) -> int | None:
        if not number:
            return None
        from bot.orders import ops as order_ops

        try:
            order = await self.store.read(order_ops.fetch_by_number, number)
        except Exception:  # no order tables or no such order: the rule just does not apply
            return None
        return order.total if order is not None else None

    async def expected_wait_minutes(self, ticket: TicketRecord) -> int | None:
        """Roughly how long until a person answers: None when someone is already assigned."""
        if ticket.assignee_id is not None:
            return None
        ahead = await self.store.read(ops.queue_position, ticket)
        sla = self.config.slas[ticket.priority].first_response_minutes
        return min(max(MINUTES_PER_QUEUED_TICKET, (ahead + 1) * MINUTES_PER_QUEUED_TICKET), sla)

    # -- reading --------------------------------------------------------------------

    async def get(self, number: str) -> TicketRecord | None:
        return await self.store.read(ops.fetch, number)

    async def for_conversation(self, conversation_id: int) -> TicketRecord | None:
        """The conversation's active ticket, if any."""
        return await self.store.read(ops.active_for_conversation, conversation_id)

    async def list(self, **filters: Any) -> list[TicketRecord]:
        """Tickets by ``status``, ``team`` (tuples), ``category``, ``priority``, ``channel``,
        ``assignee_id``, ``unassigned``, ``customer_id``; most urgent first, then oldest."""
        return await self.store.read(lambda conn: ops.search(conn, **filters))

    # -- agents' changes ------------------------------------------------------------

    async def update(self, number: str, actor: str, **changes: Any) -> TicketRecord:
        """Change ``category``, ``priority``, ``status``, ``team``, ``assignee_id``,
        ``order_number`` or ``subject``; each change lands in the audit trail."""
        unknown = set(changes) - set(ops.EDITABLE)
        if unknown:
            raise TypeError(f"cannot change {', '.join(sorted(unknown))}")
        self._check(changes)
        due = None
        if "priority" in changes:
            sla = self.config.slas[changes["priority"]]
            due = {"first_response": timedelta(minutes=sla.first_response_minutes), "resolution": timedelta(hours=sla.resolution_hours)}
        ticket = await self.store.write(lambda conn, now: ops.change(conn, now, number, actor, changes, due))
        await self._announce(ticket, "updated")
        return ticket

    def _check(self, changes: dict[str, Any]) -> None:
        if "category" in changes and self.config.category(changes["category"]) is None:
            raise ValueError(f"unknown category {changes['category']!r}")
        if "team" in changes and self.config.team(changes["team"]) is None:
            raise ValueError(f"unknown team {changes['team']!r}")
        if "priority" in changes and changes["priority"] not in PRIORITIES:
            raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}")
        if "status" in changes and changes["status"] not in TicketStatus.ALL:
            raise ValueError(f"status must be one of {', '.join(TicketStatus.ALL)}")
        if "subject" in changes:
            changes["subject"] = _clean(str(changes["subject"]))[:255] or "-"

    async def agent_replied(self, conversation_id: int, actor: str) -> None:
        """Record the first human reply on the conversation's ticket (for the SLA)."""
        number = await self.store.write(lambda conn, now: ops.first_response(conn, now, conversation_id, actor))
        if number:
            ticket = await self.get(number)
            if ticket is not None:
                await self._announce(ticket, "updated")

    async def set_online(self, agent_id: int, seconds: int = PRESENCE_SECONDS) -> None:
        """Mark an agent online for ``seconds`` (the console renews it while open)."""
        until = self.store.now() + timedelta(seconds=seconds)
        await self.store.write(lambda conn, now: ops.set_presence(conn, now, agent_id, until))

    async def set_teams(self, agent_id: int, teams: list[str]) -> None:
        for team in teams:
            if self.config.team(team) is None:
                raise ValueError(f"unknown team {team!r}")
        await self.store.write(lambda conn, now: ops.set_teams(conn, now, agent_id, teams))

    async def teams_of(self, agent_id: int) -> list[str]:
        return await self.store.read(ops.teams_of, agent_id)

    async def _announce(self, ticket: TicketRecord, kind: str) -> None:
        if self.bus is None:
            return
        try:
            await self.bus.publish(TICKETS_TOPIC, {"type": f"ticket_{kind}", "ticket": ticket_json(ticket, self.store.now())})
        except BusUnavailable:
            pass  # Redis is away (the bus logged it once); consoles re-read when it is back
        except Exception:  # committed already; consoles catch up on reload
            log.exception("could not announce ticket %s", ticket.number)


def ticket_json(ticket: TicketRecord, now: datetime) -> dict[str, Any]:
    """A ticket as the console and the admin API show it."""
    return {
        "number": ticket.number,
        "conversation_id": ticket.conversation_id,
        "customer_id": ticket.customer_id,
        "channel": ticket.channel,
        "order_number": ticket.order_number,
        "category": ticket.category,
        "priority": ticket.priority,
        "priority_reasons": list(ticket.priority_reasons),
        "status": ticket.status,
        "team": ticket.team,
        "assignee_id": ticket.assignee_id,
        "subject": ticket.subject,
        "summary": ticket.summary,
        "source": ticket.source,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "first_response_due_at": ticket.first_response_due_at.isoformat(),
        "resolution_due_at": ticket.resolution_due_at.isoformat(),
        "first_response_at": ticket.first_response_at.isoformat() if ticket.first_response_at else None,
        "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
        "first_response_breached": ticket.first_response_breached(now),
        "resolution_breached": ticket.resolution_breached(now),
        "events": [
            {"at": e.at.isoformat(), "actor": e.actor, "field": e.field, "old": e.old_value, "new": e.new_value}
            for e in ticket.events
        ],
    }


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean(text: str) -> str:
    return _CONTROL.sub("", text).strip()


def _subject(category_name: str, text: str) -> str:
    words = " ".join(_clean(text).split())
    if len(words) > SUBJECT_CHARS:
        words = words[: SUBJECT_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return f"{category_name}: {words}" if words else category_name


def _summary(new: NewTicket, earlier: list[str]) -> str:
    """What the agent needs at a glance: the complaint, the order, photos, what came before."""
    lines = [_clean(new.text)] if new.text else []
    if new.order_number:
        lines.append(f"Order: {new.order_number}")
    lines += [f"Photo: {url}" for url in new.attachments]
    context = [w for w in earlier if w.strip() and w.strip() != new.text.strip()][-4:]
    if context:
        lines.append("Earlier: " + " / ".join(_clean(w)[:200] for w in context))
    return "\n".join(lines)[:4000] or "-"


__all__ = ["TicketDesk", "ticket_json", "TICKETS_TOPIC"]

"""Where the console meets the ticket desk (``bot/tickets/``).

Everything ticket-shaped the console shows or changes goes through
:class:`TicketBridge`, so the ticket desk can evolve behind it:

- the categories, priorities and teams offered in filters and forms come from the
  data dir's ``tickets.yml`` (``shop.tickets``);
- the inbox reads each conversation's active ticket itself (category, priority,
  team, assignee — see :mod:`bot.store.console_queries`);
- after an agent's action the bridge tells the desk: the first human reply
  (``first_response``), a transfer (the ticket's assignee/team follow), a changed
  category or priority (re-timed SLA); and it renews the agent's presence while a
  console tab is open, which the desk's automatic assignment reads.

The desk is ``runtime.tickets`` (:class:`bot.tickets.desk.TicketDesk`); without one
the bridge does nothing. Every call is best effort: a ticket problem is logged and
never undoes the console's action (which is already committed).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.store.console_queries import StaffRecord

log = logging.getLogger(__name__)

PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_LABELS = {"low": "Rendah", "normal": "Normal", "high": "Tinggi", "urgent": "Mendesak"}

class TicketBridge:
    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.config = getattr(runtime.shop, "tickets", None)
        self.desk = getattr(runtime, "tickets", None)

    # -- what the forms and filters offer ------------------------------------------

    def categories(self) -> list[tuple[str, str]]:
        """``(id, Indonesian name)`` of every ticket category."""
        if self.config is None:
            return []
        return [(c.id, (c.name or {}).get("id") or c.id) for c in getattr(self.config, "categories", ())]

    def priorities(self) -> list[tuple[str, str]]:
        return [(p, PRIORITY_LABELS[p]) for p in PRIORITIES]

    def teams(self) -> list[tuple[str, str]]:
        """``(id, name)`` of every team in ``tickets.yml``."""
        if self.config is None:
            return []
        return [(t.id, t.name) for t in getattr(self.config, "teams", ())]

    def team_name(self, team: str | None, lang: str | None = None) -> str | None:
        """The team's name in the console, or as a customer writing ``lang`` reads it."""
        if team is None:
            return None
        for t in getattr(self.config, "teams", ()) if self.config is not None else ():
            if t.id == team:
                return t.name_in(lang) if lang else t.name
        return team

    def category_name(self, category: str | None) -> str | None:
        if category is None:
            return None
        return dict(self.categories()).get(category, category)

    # -- telling the desk -------------------------------------------------------------

    async def _safely(self, what: str, call: Any) -> Any:
        if self.desk is None:
            return None
        try:
            return await call()
        except Exception:
            log.exception("ticket desk: %s failed (the console's action stands)", what)
        return None

    async def agent_replied(self, conversation_id: int, staff: "StaffRecord") -> None:
        """An agent answered: the first human reply counts for the ticket's SLA."""
        await self._safely("agent_replied", lambda: self.desk.agent_replied(conversation_id, _actor(staff)))

    async def assigned(self, conversation_id: int, staff: "StaffRecord", agent_id: int | None, team: str | None) -> None:
        """The conversation's holder changed: its active ticket follows (assignee, team)."""

        async def call() -> None:
            ticket = await self.desk.for_conversation(conversation_id)
            if ticket is None:
                return
            changes: dict[str, Any] = {"assignee_id": agent_id}
            if team:
                changes["team"] = team
            await self.desk.update(ticket.number, _actor(staff), **changes)

        await self._safely("assigned", call)

    async def resolved(self, conversation_id: int, staff: "StaffRecord") -> None:
        """The agent resolved the conversation: its active ticket is resolved with it."""

        async def call() -> None:
            ticket = await self.desk.for_conversation(conversation_id)
            if ticket is not None:
                await self.desk.update(ticket.number, _actor(staff), status="resolved")

        await self._safely("resolved", call)

    async def set_fields(self, conversation_id: int, staff: "StaffRecord", **changes: str) -> bool:
        """Change the active ticket's category and/or priority; False when there is none."""

        async def call() -> bool:
            ticket = await self.desk.for_conversation(conversation_id)
            if ticket is None:
                return False
            await self.desk.update(ticket.number, _actor(staff), **changes)
            return True

        return bool(await self._safely("set_fields", call))

    async def presence(self, agent_id: int, seconds: int) -> None:
        """The agent has a console tab open (0 seconds: closed the last one)."""
        await self._safely("presence", lambda: self.desk.set_online(agent_id, seconds))

    async def set_teams(self, agent_id: int, teams: list[str]) -> None:
        await self._safely("set_teams", lambda: self.desk.set_teams(agent_id, teams))

    async def for_customer(self, customer_id: int, limit: int = 20) -> list[Any]:
        """The customer's tickets, newest first (:class:`bot.tickets.records.TicketRecord`)."""
        found = await self._safely("for_customer", lambda: self.desk.list(customer_id=customer_id, limit=limit))
        return sorted(found or [], key=lambda t: t.id, reverse=True)

    async def active(self, conversation_id: int) -> Any:
        return await self._safely("active", lambda: self.desk.for_conversation(conversation_id))


def _actor(staff: "StaffRecord") -> str:
    return f"agent:{staff.username}"

"""The shapes tickets travel in between the chat, the console and the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class TicketStatus:
    OPEN = "open"  # waiting for the shop
    PENDING = "pending"  # waiting for the customer (or a third party)
    RESOLVED = "resolved"
    CLOSED = "closed"

    ALL = (OPEN, PENDING, RESOLVED, CLOSED)
    ACTIVE = (OPEN, PENDING)


@dataclass(frozen=True)
class NewTicket:
    """What the chat knows when it opens a ticket."""

    conversation_id: int
    customer_id: int
    channel: str
    text: str  # the customer's words about the problem (also decides category and priority)
    source: str  # "complaint" | "handoff" | "offline"
    lang: str
    order_number: str | None = None
    city: str | None = None  # for region routing (the order's or the customer's city)
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class TicketEvent:
    at: datetime
    actor: str
    field: str
    old_value: str | None
    new_value: str | None


@dataclass(frozen=True)
class TicketRecord:
    id: int
    number: str  # e.g. "TK-2026-000045"
    conversation_id: int
    customer_id: int
    channel: str
    order_number: str | None
    category: str
    priority: str
    priority_reasons: tuple[str, ...]
    status: str
    team: str
    assignee_id: int | None
    subject: str
    summary: str
    source: str
    created_at: datetime
    updated_at: datetime
    first_response_due_at: datetime
    resolution_due_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    events: tuple[TicketEvent, ...] = ()

    def first_response_breached(self, now: datetime) -> bool:
        """The first reply came (or is still missing) after its SLA due time."""
        return (self.first_response_at or now) > self.first_response_due_at

    def resolution_breached(self, now: datetime) -> bool:
        return (self.resolved_at or now) > self.resolution_due_at


class TicketNotFound(LookupError):
    """No ticket has this number."""

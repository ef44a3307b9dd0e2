"""The database schema as SQLAlchemy 2 declarative models.

These models are the source of truth that Alembic's autogenerate compares the
migrations against (``tests/store/test_migrations.py`` keeps them in step).
The store's hot path uses their tables through SQLAlchemy Core; the ORM
classes are for migrations, reports and tooling.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.store.columns import Id, Json, NullableJson, UTCDateTime

# Explicit constraint names, so later migrations (and SQLite batch mode, which
# recreates tables) can refer to constraints by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

LANG_CHECK = "lang IN ('id', 'en')"
STATUS_CHECK = "status IN ('bot', 'waiting_for_agent', 'with_agent', 'resolved')"
SENDER_CHECK = "sender_type IN ('customer', 'bot', 'agent', 'system')"

# The predicate of the partial unique index on open conversations. Queries for
# "the open conversation of (channel, external_id)" must repeat it verbatim so
# SQLite's planner can use the index.
OPEN_CONVERSATION_WHERE = "status != 'resolved'"


class Base(DeclarativeBase):
    """Declarative base holding the shared metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Customer(Base):
    """A person writing to the shop, on one or more channels."""

    __tablename__ = "customers"
    __table_args__ = (CheckConstraint(LANG_CHECK, name="lang"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    lang: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChannelIdentity(Base):
    """How a customer is known on one channel (Telegram chat id, widget session...)."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Conversation(Base):
    """A conversation: from a customer's first message until it is resolved.

    ``channel``/``external_id`` copy the identity so the per-turn lookup of the
    open conversation is one indexed read. At most one conversation per
    (channel, external_id) is open (not resolved) at a time; the partial unique
    index enforces it even across processes.
    """

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="status"),
        CheckConstraint(LANG_CHECK, name="lang"),
        Index(
            "uq_conversations_open",
            "channel",
            "external_id",
            unique=True,
            sqlite_where=text(OPEN_CONVERSATION_WHERE),
            postgresql_where=text(OPEN_CONVERSATION_WHERE),
        ),
        # Every conversation of a sender, newest last (migration 0007).
        Index("ix_conversations_channel_external_id", "channel", "external_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(5))
    state: Mapped[dict[str, Any]] = mapped_column(Json)
    last_seq: Mapped[int] = mapped_column()
    # The seq of the last message a customer's turn wrote, its replies included: what the
    # customer has been answered up to. Messages written later by anyone else (an agent, a
    # pushed order update) are what a REST sender has not seen yet (migration 0008).
    answered_seq: Mapped[int] = mapped_column(server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_customer_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_agent_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The customer's rating (1-5) and comment at the end of the conversation (widget CSAT).
    csat_score: Mapped[int | None] = mapped_column(SmallInteger)
    csat_comment: Mapped[str | None] = mapped_column(Text)
    csat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Message(Base):
    """One message; ``seq`` numbers a conversation's messages 1, 2, 3... without gaps."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(SENDER_CHECK, name="sender_type"),
        UniqueConstraint("conversation_id", "seq"),
        # NULLs are distinct on both backends, so only real client ids collide.
        UniqueConstraint("conversation_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        Id, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column()
    sender_type: Mapped[str] = mapped_column(String(16))
    # No foreign key yet: agent accounts live in another module's tables.
    agent_id: Mapped[int | None] = mapped_column()
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    nlu: Mapped[dict[str, Any] | None] = mapped_column(NullableJson)
    client_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


customers = Customer.__table__
channel_identities = ChannelIdentity.__table__
conversations = Conversation.__table__
messages = Message.__table__


# ---------------------------------------------------------------------------
# Orders (issue 4): orders, their lines, history and payment submissions, the
# stock the shop can sell, readable-number counters, staff accounts and the
# outbox of messages pushed to customers. Migration 0003.
# ---------------------------------------------------------------------------

ORDER_STATUS_CHECK = (
    "status IN ('pending_payment', 'payment_submitted', 'paid', 'shipped', "
    "'delivered', 'cancelled')"
)
PAYMENT_METHOD_CHECK = "payment_method IN ('bank_transfer', 'ewallet')"
VERDICT_CHECK = "verdict IN ('verified', 'rejected')"
AGENT_ROLE_CHECK = "role IN ('agent', 'admin')"


class Order(Base):
    """An order. Money columns are whole rupiah; ``source_key`` makes placing idempotent."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(ORDER_STATUS_CHECK, name="status"),
        CheckConstraint(PAYMENT_METHOD_CHECK, name="payment_method"),
        CheckConstraint(LANG_CHECK, name="lang"),
        Index("ix_orders_status_payment_due_at", "status", "payment_due_at"),
        Index("ix_orders_channel_external_id", "channel", "external_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("conversations.id", ondelete="SET NULL")
    )
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    lang: Mapped[str] = mapped_column(String(5))
    customer_name: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(Text)
    city: Mapped[str] = mapped_column(String(255))
    courier: Mapped[str] = mapped_column(String(64))
    courier_name: Mapped[str] = mapped_column(String(128))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    payment_method: Mapped[str] = mapped_column(String(32))
    subtotal: Mapped[int] = mapped_column(BigInteger)
    shipping_cost: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    source_key: Mapped[str] = mapped_column(String(255), unique=True)
    payment_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderLine(Base):
    """One line of an order, with the name, options and price the customer confirmed."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "position"),
        CheckConstraint("quantity > 0", name="quantity"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(Id, ForeignKey("orders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    sku: Mapped[str] = mapped_column(String(64))
    product_sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    options: Mapped[dict[str, Any]] = mapped_column(Json)
    quantity: Mapped[int] = mapped_column()
    unit_price: Mapped[int] = mapped_column(BigInteger)
    weight_grams: Mapped[int] = mapped_column()


class OrderEventRow(Base):
    """One change of an order's status: when, by whom, from what to what."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        Id, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class PaymentSubmissionRow(Base):
    """A customer's "sudah transfer" and the admin's verdict on it."""

    __tablename__ = "payment_submissions"
    __table_args__ = (CheckConstraint(VERDICT_CHECK, name="verdict"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        Id, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    bank: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    sender_name: Mapped[str] = mapped_column(String(255))
    proof_url: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verdict: Mapped[str | None] = mapped_column(String(16))
    verdict_by: Mapped[str | None] = mapped_column(String(128))
    verdict_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verdict_note: Mapped[str | None] = mapped_column(Text)


class StockLevel(Base):
    """Sellable stock per SKU: ``on_hand - reserved`` is what can still be ordered.

    ``catalog_stock`` is the catalog file's figure at the last sync, so a changed
    figure (the admin restocked by editing the file) is applied as a difference.
    """

    __tablename__ = "stock_levels"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand"),
        CheckConstraint("reserved >= 0", name="reserved"),
    )

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    on_hand: Mapped[int] = mapped_column()
    reserved: Mapped[int] = mapped_column()
    catalog_stock: Mapped[int | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Counter(Base):
    """Named counters bumped inside a transaction (e.g. ``order:2026`` for order numbers)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Agent(Base):
    """A staff account (console agents and admins; the admin API takes admins)."""

    __tablename__ = "agents"
    __table_args__ = (CheckConstraint(AGENT_ROLE_CHECK, name="role"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LookupFailure(Base):
    """One failed proof of an order's ownership (a phone or e-mail that did not match).

    Counted per order number over every conversation, so a guesser who starts a new
    conversation for every five tries still runs into the order's own limit.
    """

    __tablename__ = "lookup_failures"
    __table_args__ = (Index("ix_lookup_failures_order_number_failed_at", "order_number", "failed_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_number: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class OutboxEntry(Base):
    """A message pushed to a customer outside a chat turn, waiting to be put on the bus.

    Written in the transaction that stores the message; the relay claims a row
    (``claimed_at``), publishes it and sets ``relayed_at``.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(Id, ForeignKey("messages.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(
        Id, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column()
    relayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


orders = Order.__table__
order_lines = OrderLine.__table__
order_events = OrderEventRow.__table__
payment_submissions = PaymentSubmissionRow.__table__
stock_levels = StockLevel.__table__
counters = Counter.__table__
lookup_failures = LookupFailure.__table__
agents = Agent.__table__
outbox = OutboxEntry.__table__


# ---------------------------------------------------------------------------
# Telegram channel (bot/telegram/): who writes from Telegram and what they agreed
# to, the outbox every message to Telegram goes through, broadcasts, and the
# lease that picks the one process that polls and sends.
# ---------------------------------------------------------------------------

TELEGRAM_LANG_CHECK = "lang IN ('id', 'en')"
TELEGRAM_OUTBOX_KIND_CHECK = "kind IN ('message', 'notice', 'broadcast')"
TELEGRAM_OUTBOX_STATUS_CHECK = "status IN ('pending', 'sent', 'failed', 'blocked')"
TELEGRAM_BROADCAST_STATUS_CHECK = "status IN ('queued', 'sending', 'done')"


class TelegramChat(Base):
    """A private chat with a Telegram user: language, promotions consent, reachability.

    ``promo`` is ``None`` until the user answers (no promotions without a yes),
    then ``True`` (``/promo`` or the yes button) or ``False`` (``/stop``).
    ``lang`` is the language last used with them; ``lang_fixed`` says they chose
    it with ``/lang`` (then it is forced on every turn). ``keyboard_shown``: a
    reply keyboard (share-contact button) is open and the next plain message removes it.
    """

    __tablename__ = "telegram_chats"
    __table_args__ = (
        CheckConstraint(TELEGRAM_LANG_CHECK, name="lang"),
        Index("ix_telegram_chats_promo", "promo"),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(64))
    language_code: Mapped[str | None] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(5))
    lang_fixed: Mapped[bool] = mapped_column(Boolean)
    promo: Mapped[bool | None] = mapped_column(Boolean)
    promo_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    keyboard_shown: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TelegramBroadcast(Base):
    """An announcement to the opted-in Telegram customers (optionally one language only)."""

    __tablename__ = "telegram_broadcasts"
    __table_args__ = (
        CheckConstraint(TELEGRAM_BROADCAST_STATUS_CHECK, name="status"),
        CheckConstraint("lang IS NULL OR " + TELEGRAM_LANG_CHECK, name="lang"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(128))
    recipients: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TelegramOutboxEntry(Base):
    """One Telegram send (a message part, a notice, a broadcast copy) until Telegram acknowledges it.

    ``dedupe_key`` makes enqueuing idempotent: ``m:<conversation>:<seq>:<part>`` for
    a stored message, ``n:<update>:<n>`` for a notice, ``b:<broadcast>:<chat>`` for a
    broadcast copy (so the rows of a broadcast are also its per-recipient report).
    ``payload`` is ``{"text", "markup"}`` or ``{"photo"}``.
    """

    __tablename__ = "telegram_outbox"
    __table_args__ = (
        CheckConstraint(TELEGRAM_OUTBOX_KIND_CHECK, name="kind"),
        CheckConstraint(TELEGRAM_OUTBOX_STATUS_CHECK, name="status"),
        Index("ix_telegram_outbox_status_chat_id", "status", "chat_id"),
        Index("ix_telegram_outbox_broadcast_id_status", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int | None] = mapped_column()
    broadcast_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("telegram_broadcasts.id", ondelete="CASCADE")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column()
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)


class TelegramCursor(Base):
    """How far a Telegram conversation's stored messages have been put in the outbox.

    The sweep re-reads only what lies beyond ``swept_seq``, so a message committed
    while no sender was listening (another process, a restart) is still delivered.
    """

    __tablename__ = "telegram_cursors"

    conversation_id: Mapped[int] = mapped_column(
        Id, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    swept_seq: Mapped[int] = mapped_column()


class TelegramCallback(Base):
    """A quick reply's payload too long for Telegram's 64-byte callback data, by short token."""

    __tablename__ = "telegram_callbacks"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TelegramLease(Base):
    """Who is the one process that polls Telegram and sends the outbox, until when."""

    __tablename__ = "telegram_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


telegram_chats = TelegramChat.__table__
telegram_broadcasts = TelegramBroadcast.__table__
telegram_outbox = TelegramOutboxEntry.__table__
telegram_cursors = TelegramCursor.__table__
telegram_callbacks = TelegramCallback.__table__
telegram_leases = TelegramLease.__table__


# ---------------------------------------------------------------------------
# Tickets (issue 5): complaints and requests for a person, their audit trail,
# which agents belong to which team, and who is online. Migration 0005.
# ---------------------------------------------------------------------------

TICKET_STATUS_CHECK = "status IN ('open', 'pending', 'resolved', 'closed')"
TICKET_PRIORITY_CHECK = "priority IN ('low', 'normal', 'high', 'urgent')"


class Ticket(Base):
    """A complaint or request for a person, linked to its conversation and maybe an order.

    Categories and teams are ids from the data dir's ``tickets.yml``. The due
    times come from the priority's SLA when the ticket is created (and again
    when its priority changes).
    """

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(TICKET_STATUS_CHECK, name="status"),
        CheckConstraint(TICKET_PRIORITY_CHECK, name="priority"),
        Index("ix_tickets_status_team", "status", "team"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    conversation_id: Mapped[int] = mapped_column(
        Id, ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    order_number: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16))
    priority_reasons: Mapped[list[str]] = mapped_column(Json)
    status: Mapped[str] = mapped_column(String(16))
    team: Mapped[str] = mapped_column(String(64))
    assignee_id: Mapped[int | None] = mapped_column(Id, ForeignKey("agents.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(255))
    summary: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # complaint | handoff | offline
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_response_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TicketEvent(Base):
    """One change of a ticket: who, when, which field, from what to what."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Id, ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)


class TeamMember(Base):
    """An agent's membership of a team (teams themselves are defined in tickets.yml)."""

    __tablename__ = "team_members"

    team: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(Id, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)


class AgentPresence(Base):
    """An agent counts as online until ``online_until`` (the console renews it while open)."""

    __tablename__ = "agent_presence"

    agent_id: Mapped[int] = mapped_column(Id, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    online_until: Mapped[datetime] = mapped_column(UTCDateTime())


tickets = Ticket.__table__
ticket_events = TicketEvent.__table__
team_members = TeamMember.__table__
agent_presence = AgentPresence.__table__


# ---------------------------------------------------------------------------
# Agent console (agent_console/): staff sessions, who holds which
# conversation, private notes, canned responses, saved inbox views and the log
# of what agents did to conversations. Migration 0006.
# ---------------------------------------------------------------------------

CANNED_LANG_CHECK = "lang IS NULL OR lang IN ('id', 'en')"


class ConsoleSession(Base):
    """A logged-in console tab's session. ``id`` is the SHA-256 of the cookie's token
    (a stolen database does not yield usable cookies); ``csrf_token`` must accompany
    every state-changing request of the session."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(Id, ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class ConversationAssignment(Base):
    """Which agent (and/or team) holds a conversation; no row = unassigned. ``team`` is a
    team id of the data dir's ``tickets.yml`` (see :class:`TeamMember`)."""

    __tablename__ = "conversation_assignments"

    conversation_id: Mapped[int] = mapped_column(
        Id, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    agent_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    team: Mapped[str | None] = mapped_column(String(64), index=True)
    assigned_by: Mapped[int | None] = mapped_column(Id)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConversationNote(Base):
    """An agent's private note on a conversation; never sent to the customer."""

    __tablename__ = "conversation_notes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        Id, ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(Id, ForeignKey("agents.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CannedResponse(Base):
    """A ready answer agents insert with a shortcut; ``{placeholders}`` are filled per
    conversation. ``lang`` NULL means any language."""

    __tablename__ = "canned_responses"
    __table_args__ = (CheckConstraint(CANNED_LANG_CHECK, name="lang"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(5))
    updated_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SavedView(Base):
    """An agent's named inbox filter (view, status, channel, category, priority...)."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("agent_id", "name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    agent_id: Mapped[int] = mapped_column(Id, ForeignKey("agents.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    filters: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConversationAction(Base):
    """What an agent did to a conversation (took over, transferred, resolved...), and when."""

    __tablename__ = "conversation_actions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        Id, ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(Id, ForeignKey("agents.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any] | None] = mapped_column(NullableJson)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


console_sessions = ConsoleSession.__table__
conversation_assignments = ConversationAssignment.__table__
conversation_notes = ConversationNote.__table__
canned_responses = CannedResponse.__table__
saved_views = SavedView.__table__
conversation_actions = ConversationAction.__table__

# The inbox lists conversations by status (those needing people first) and the
# reports by time; both without scanning every conversation.
Index("ix_conversations_status_last_message_at", conversations.c.status, conversations.c.last_message_at)
Index("ix_conversations_created_at", conversations.c.created_at)

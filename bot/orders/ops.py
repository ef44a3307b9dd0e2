"""The order book's SQL: plain synchronous SQLAlchemy Core over a connection.

Write functions run as jobs of the store's group-commit writer (see
:meth:`bot.store.db.Store.write`): inside a shared transaction, never
committing. A write that cannot happen (no stock, unknown order, a transition
the status does not allow) undoes its own work in a savepoint and returns
:class:`~bot.store.writer.Failed`, so the other jobs of its batch commit.

Concurrency: every change is a conditional ``UPDATE ... WHERE`` on the state it
expects (stock still available, the status still what was read), and its row
count decides. On PostgreSQL (READ COMMITTED) a second transaction waiting on
the row re-evaluates that WHERE after the first commits; on SQLite the write
transaction (``BEGIN IMMEDIATE``) excludes every other writer, even in other
processes. Either way two racers never both win.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from bot.orders.records import (
    CartLine,
    InvalidTransition,
    NewOrder,
    OrderEvent,
    OrderNotFound,
    OrderRecord,
    OrderStatus,
    OutOfStock,
    PaymentSubmission,
    StockShortage,
)
from bot.store.models import (
    channel_identities,
    lookup_failures,
    order_events,
    order_lines,
    orders,
    payment_submissions,
    stock_levels,
)
from bot.store.counters import next_value
from bot.store.outbox import push_in_transaction
from bot.store.records import NewMessage
from bot.store.writer import Failed

NUMBER_PREFIX = "SP"

# -- reading ------------------------------------------------------------------------

_ORDER_COLUMNS = [
    orders.c.id,
    orders.c.number,
    orders.c.status,
    orders.c.subtotal,
    orders.c.shipping_cost,
    orders.c.total,
    orders.c.customer_name,
    orders.c.phone,
    orders.c.email,
    orders.c.address,
    orders.c.city,
    orders.c.courier,
    orders.c.courier_name,
    orders.c.payment_method,
    orders.c.payment_due_at,
    orders.c.tracking_number,
    orders.c.lang,
    orders.c.channel,
    orders.c.external_id,
    orders.c.customer_id,
    orders.c.conversation_id,
    orders.c.created_at,
    orders.c.updated_at,
    orders.c.note,
    orders.c.reminded_at,
]
_LINE_COLUMNS = [
    order_lines.c.order_id,
    order_lines.c.sku,
    order_lines.c.product_sku,
    order_lines.c.name,
    order_lines.c.options,
    order_lines.c.quantity,
    order_lines.c.unit_price,
    order_lines.c.weight_grams,
]
_EVENT_COLUMNS = [
    order_events.c.order_id,
    order_events.c.at,
    order_events.c.actor,
    order_events.c.from_status,
    order_events.c.to_status,
    order_events.c.note,
]
_PAYMENT_COLUMNS = [
    payment_submissions.c.order_id,
    payment_submissions.c.id,
    payment_submissions.c.bank,
    payment_submissions.c.amount,
    payment_submissions.c.sender_name,
    payment_submissions.c.proof_url,
    payment_submissions.c.submitted_at,
    payment_submissions.c.verdict,
    payment_submissions.c.verdict_by,
    payment_submissions.c.verdict_at,
    payment_submissions.c.verdict_note,
]


def _records(conn: Connection, rows: Sequence[Any]) -> list[OrderRecord]:
    """Full records (lines, events, payments) for order rows, in the rows' order."""
    if not rows:
        return []
    ids = [row.id for row in rows]
    lines: dict[int, list[CartLine]] = {i: [] for i in ids}
    for row in conn.execute(
        select(*_LINE_COLUMNS)
        .where(order_lines.c.order_id.in_(ids))
        .order_by(order_lines.c.order_id, order_lines.c.position)
    ):
        lines[row.order_id].append(
            CartLine(
                sku=row.sku,
                product_sku=row.product_sku,
                name=row.name,
                options=dict(row.options or {}),
                quantity=row.quantity,
                unit_price=int(row.unit_price),
                weight_grams=row.weight_grams,
            )
        )
    events: dict[int, list[OrderEvent]] = {i: [] for i in ids}
    for row in conn.execute(
        select(*_EVENT_COLUMNS)
        .where(order_events.c.order_id.in_(ids))
        .order_by(order_events.c.order_id, order_events.c.id)
    ):
        events[row.order_id].append(
            OrderEvent(row.at, row.actor, row.from_status, row.to_status, row.note)
        )
    payments: dict[int, list[PaymentSubmission]] = {i: [] for i in ids}
    for row in conn.execute(
        select(*_PAYMENT_COLUMNS)
        .where(payment_submissions.c.order_id.in_(ids))
        .order_by(payment_submissions.c.order_id, payment_submissions.c.id)
    ):
        payments[row.order_id].append(
            PaymentSubmission(
                id=row.id,
                bank=row.bank,
                amount=int(row.amount),
                sender_name=row.sender_name,
                proof_url=row.proof_url,
                submitted_at=row.submitted_at,
                verdict=row.verdict,
                verdict_by=row.verdict_by,
                verdict_at=row.verdict_at,
                verdict_note=row.verdict_note,
            )
        )
    return [
        OrderRecord(
            id=row.id,
            number=row.number,
            status=row.status,
            lines=tuple(lines[row.id]),
            subtotal=int(row.subtotal),
            shipping_cost=int(row.shipping_cost),
            total=int(row.total),
            customer_name=row.customer_name,
            phone=row.phone,
            email=row.email,
            address=row.address,
            city=row.city,
            courier=row.courier,
            courier_name=row.courier_name,
            payment_method=row.payment_method,
            payment_due_at=row.payment_due_at,
            tracking_number=row.tracking_number,
            lang=row.lang,
            channel=row.channel,
            external_id=row.external_id,
            customer_id=row.customer_id,
            conversation_id=row.conversation_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            note=row.note,
            events=tuple(events[row.id]),
            payments=tuple(payments[row.id]),
            reminded_at=row.reminded_at,
        )
        for row in rows
    ]


def fetch_by_number(conn: Connection, number: str) -> OrderRecord | None:
    rows = conn.execute(select(*_ORDER_COLUMNS).where(orders.c.number == number)).all()
    found = _records(conn, rows)
    return found[0] if found else None


def fetch_by_id(conn: Connection, order_id: int) -> OrderRecord | None:
    rows = conn.execute(select(*_ORDER_COLUMNS).where(orders.c.id == order_id)).all()
    found = _records(conn, rows)
    return found[0] if found else None


def fetch_for_customer(conn: Connection, customer_id: int, limit: int) -> list[OrderRecord]:
    rows = conn.execute(
        select(*_ORDER_COLUMNS)
        .where(orders.c.customer_id == customer_id)
        .order_by(orders.c.created_at.desc(), orders.c.id.desc())
        .limit(limit)
    ).all()
    return _records(conn, rows)


# Built once: a flow asking for an order number or a product reads these on every
# turn, and building the statement costs more than SQLite running it.
_SELECT_FOR_IDENTITY = (
    select(*_ORDER_COLUMNS)
    .where(
        (
            orders.c.customer_id
            == select(channel_identities.c.customer_id)
            .where(
                channel_identities.c.channel == bindparam("channel"),
                channel_identities.c.external_id == bindparam("external_id"),
            )
            .scalar_subquery()
        )
        | ((orders.c.channel == bindparam("channel")) & (orders.c.external_id == bindparam("external_id")))
    )
    .order_by(orders.c.created_at.desc(), orders.c.id.desc())
    .limit(bindparam("limit"))
)
_SELECT_AVAILABLE = select(stock_levels.c.sku, stock_levels.c.on_hand, stock_levels.c.reserved).where(
    stock_levels.c.sku.in_(bindparam("skus", expanding=True))
)


def fetch_for_identity(
    conn: Connection, channel: str, external_id: str, limit: int
) -> list[OrderRecord]:
    """Orders of the customer known as ``external_id`` on ``channel`` (from any channel)."""
    rows = conn.execute(
        _SELECT_FOR_IDENTITY, {"channel": channel, "external_id": external_id, "limit": limit}
    ).all()
    return _records(conn, rows)


def fetch_list(
    conn: Connection, status: str | None, limit: int, offset: int, search: "OrderSearch | None" = None
) -> list[OrderRecord]:
    query = select(*_ORDER_COLUMNS)
    if status is not None:
        query = query.where(orders.c.status == status)
    if search is not None:
        query = query.where(search.condition())
    rows = conn.execute(
        query.order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit).offset(offset)
    ).all()
    return _records(conn, rows)


@dataclass(frozen=True)
class OrderSearch:
    """What an admin typed to find orders: part of the number, the customer's name, phone,
    e-mail or tracking number. ``digits`` are the text's digits when it looks like a phone
    ("0812-3456", "+62 812 3456"), matched against the stored local form."""

    text: str
    digits: str | None = None

    def condition(self) -> Any:
        # autoescape: "%" and "_" typed by the admin are literal characters, not wildcards.
        low = self.text.lower()
        found = [
            func.lower(column).contains(low, autoescape=True)
            for column in (orders.c.number, orders.c.customer_name, orders.c.email, orders.c.tracking_number)
        ]
        found.append(orders.c.phone.contains(self.digits or self.text, autoescape=True))
        return or_(*found)


def fetch_available(conn: Connection, skus: list[str]) -> dict[str, int]:
    found = {
        sku: max(0, on_hand - reserved)
        for sku, on_hand, reserved in conn.execute(_SELECT_AVAILABLE, {"skus": list(skus)})
    }
    return {sku: found.get(sku, 0) for sku in skus}


@dataclass(frozen=True)
class StockRow:
    sku: str
    on_hand: int
    reserved: int
    catalog_stock: int | None


def fetch_stock(conn: Connection, skus: list[str] | None = None) -> dict[str, StockRow]:
    query = select(
        stock_levels.c.sku, stock_levels.c.on_hand, stock_levels.c.reserved, stock_levels.c.catalog_stock
    )
    if skus is not None:
        query = query.where(stock_levels.c.sku.in_(skus))
    return {row.sku: StockRow(*row) for row in conn.execute(query)}


# -- stock --------------------------------------------------------------------------


def _insert_ignore(conn: Connection, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    return sqlite_insert(table).on_conflict_do_nothing()


def _not_below_zero(expr: Any) -> Any:
    return case((expr < 0, literal(0)), else_=expr)


def sync_stock(conn: Connection, now: datetime, catalog: dict[str, int]) -> dict[str, int]:
    """Bring ``stock_levels`` in line with the catalog's figures; returns what changed.

    A new SKU starts with ``on_hand`` = its catalog stock. A SKU whose catalog
    figure changed since the last sync gets the difference added to ``on_hand``
    (never below 0): the admin edited the file to restock or correct. The update
    is conditional on the old figure, so two workers syncing at once apply a
    change once. Returns ``{sku: delta}`` for new and changed SKUs.
    """
    changes: dict[str, int] = {}
    if not catalog:
        return changes
    existing = fetch_stock(conn, sorted(catalog))
    new_rows = [
        {"sku": sku, "on_hand": stock, "reserved": 0, "catalog_stock": stock, "updated_at": now}
        for sku, stock in sorted(catalog.items())
        if sku not in existing
    ]
    if new_rows:
        inserted = conn.execute(_insert_ignore(conn, stock_levels), new_rows)
        if inserted.rowcount:
            changes.update({row["sku"]: row["on_hand"] for row in new_rows})
    for sku, stock in sorted(catalog.items()):
        row = existing.get(sku)
        if row is None or row.catalog_stock == stock:
            continue
        old = row.catalog_stock if row.catalog_stock is not None else row.on_hand
        delta = stock - old
        result = conn.execute(
            update(stock_levels)
            .where(
                stock_levels.c.sku == sku,
                stock_levels.c.catalog_stock.is_not_distinct_from(row.catalog_stock),
            )
            .values(
                on_hand=_not_below_zero(stock_levels.c.on_hand + delta),
                catalog_stock=stock,
                updated_at=now,
            )
        )
        if result.rowcount == 1:
            changes[sku] = delta
    return changes


_RESERVE = (
    update(stock_levels)
    .where(
        stock_levels.c.sku == bindparam("s_sku"),
        stock_levels.c.on_hand - stock_levels.c.reserved >= bindparam("quantity"),
    )
    .values(reserved=stock_levels.c.reserved + bindparam("quantity"), updated_at=bindparam("now"))
)


def _release(conn: Connection, now: datetime, wanted: dict[str, int]) -> None:
    """Give reserved units back (a cancelled order)."""
    for sku, quantity in sorted(wanted.items()):
        conn.execute(
            update(stock_levels)
            .where(stock_levels.c.sku == sku)
            .values(
                reserved=_not_below_zero(stock_levels.c.reserved - quantity), updated_at=now
            )
        )


def _consume(conn: Connection, now: datetime, wanted: dict[str, int]) -> None:
    """Reserved units leave the shelf (the parcel shipped): on_hand and reserved both drop."""
    for sku, quantity in sorted(wanted.items()):
        conn.execute(
            update(stock_levels)
            .where(stock_levels.c.sku == sku)
            .values(
                on_hand=_not_below_zero(stock_levels.c.on_hand - quantity),
                reserved=_not_below_zero(stock_levels.c.reserved - quantity),
                updated_at=now,
            )
        )


def _wanted(lines: Iterable[CartLine]) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    return wanted


# -- placing ------------------------------------------------------------------------


class _Short(Exception):
    def __init__(self, shortages: list[StockShortage]) -> None:
        self.shortages = shortages


def next_number(conn: Connection, year: int) -> str:
    """``SP-<year>-<6 digits>``, from a per-year counter bumped in this transaction."""
    return f"{NUMBER_PREFIX}-{year}-{next_value(conn, f'order:{year}'):06d}"


def _order_by_source_key(conn: Connection, source_key: str) -> OrderRecord | None:
    order_id = conn.execute(
        select(orders.c.id).where(orders.c.source_key == source_key)
    ).scalar_one_or_none()
    return None if order_id is None else fetch_by_id(conn, order_id)


def place(
    conn: Connection,
    now: datetime,
    *,
    order: NewOrder,
    due_in: timedelta,
    year_of: Callable[[datetime], int],
) -> OrderRecord | Failed:
    """Reserve the stock and create the order, or nothing at all (see :meth:`OrderBook.place`)."""
    existing = _order_by_source_key(conn, order.source_key)
    if existing is not None:
        return existing
    wanted = _wanted(order.lines)
    names = {}
    for line in order.lines:
        names.setdefault(line.sku, line.name)
    subtotal = sum(line.unit_price * line.quantity for line in order.lines)
    try:
        with conn.begin_nested():
            shortages: list[StockShortage] = []
            for sku, quantity in sorted(wanted.items()):  # one lock order: no deadlocks
                done = conn.execute(_RESERVE, {"s_sku": sku, "quantity": quantity, "now": now})
                if done.rowcount != 1:
                    shortages.append(StockShortage(sku, names[sku], quantity, 0))
            if shortages:
                left = fetch_available(conn, [s.sku for s in shortages])
                raise _Short(
                    [StockShortage(s.sku, s.name, s.asked, left[s.sku]) for s in shortages]
                )
            number = next_number(conn, year_of(now))
            order_id = conn.execute(
                insert(orders)
                .values(
                    number=number,
                    status=OrderStatus.PENDING_PAYMENT,
                    customer_id=order.customer_id,
                    conversation_id=order.conversation_id,
                    channel=order.channel,
                    external_id=order.external_id,
                    lang=order.lang,
                    customer_name=order.customer_name,
                    phone=order.phone,
                    email=order.email,
                    address=order.address,
                    city=order.city,
                    courier=order.courier,
                    courier_name=order.courier_name,
                    tracking_number=None,
                    payment_method=order.payment_method,
                    subtotal=subtotal,
                    shipping_cost=order.shipping_cost,
                    total=subtotal + order.shipping_cost,
                    note=order.note,
                    source_key=order.source_key,
                    payment_due_at=now + due_in,
                    reminded_at=None,
                    created_at=now,
                    updated_at=now,
                )
                .returning(orders.c.id)
            ).scalar_one()
            conn.execute(
                insert(order_lines),
                [
                    {
                        "order_id": order_id,
                        "position": position,
                        "sku": line.sku,
                        "product_sku": line.product_sku,
                        "name": line.name,
                        "options": dict(line.options),
                        "quantity": line.quantity,
                        "unit_price": line.unit_price,
                        "weight_grams": line.weight_grams,
                    }
                    for position, line in enumerate(order.lines, start=1)
                ],
            )
            _event(conn, order_id, now, "customer", None, OrderStatus.PENDING_PAYMENT, None)
    except _Short as short:
        return Failed(OutOfStock(short.shortages))
    except IntegrityError:
        # Another process placed the same source_key first and committed; its
        # order is the answer (our reservations went with the savepoint).
        existing = _order_by_source_key(conn, order.source_key)
        if existing is None:
            raise
        return existing
    record = fetch_by_id(conn, order_id)
    assert record is not None
    return record


def _event(
    conn: Connection,
    order_id: int,
    at: datetime,
    actor: str,
    from_status: str | None,
    to_status: str,
    note: str | None,
) -> None:
    conn.execute(
        insert(order_events).values(
            order_id=order_id,
            at=at,
            actor=actor,
            from_status=from_status,
            to_status=to_status,
            note=note,
        )
    )


# -- transitions --------------------------------------------------------------------

# What a message for the customer is built from, once the change is made.
Notice = Callable[[OrderRecord], NewMessage | None]


@dataclass(frozen=True)
class Transition:
    """One status change: from which statuses, to which, and its side effects."""

    action: str  # for InvalidTransition: "verify the payment of", "ship", ...
    allowed_from: tuple[str, ...]
    to_status: str
    actor: str
    note: str | None = None
    values: dict[str, Any] | None = None  # other order columns to set
    stock: str | None = None  # "release" | "consume" | None
    verdict: tuple[str, str | None] | None = None  # (verdict, note) for undecided payments
    payment: dict[str, Any] | None = None  # a new payment submission's columns
    extend_due_to: timedelta | None = None  # the deadline becomes at least now + this
    notice: Notice | None = None  # the message pushed to the customer


def _lock_order(conn: Connection, number: str) -> Any:
    return conn.execute(
        select(orders.c.id, orders.c.status, orders.c.payment_due_at)
        .where(orders.c.number == number)
        .with_for_update()
    ).first()


def transition(
    conn: Connection, now: datetime, *, number: str, change: Transition, at: datetime | None = None
) -> OrderRecord | Failed:
    """Apply ``change`` to the order ``number``, record it, tell the customer."""
    at = at or now
    row = _lock_order(conn, number)
    if row is None:
        return Failed(OrderNotFound(number))
    if row.status not in change.allowed_from:
        return Failed(InvalidTransition(number, row.status, change.action))
    values: dict[str, Any] = {"status": change.to_status, "updated_at": at, **(change.values or {})}
    if change.extend_due_to is not None:
        values["payment_due_at"] = max(row.payment_due_at, at + change.extend_due_to)
    done = conn.execute(
        update(orders).where(orders.c.id == row.id, orders.c.status == row.status).values(**values)
    )
    if done.rowcount != 1:  # pragma: no cover - the row is locked (or the database is)
        current = conn.execute(select(orders.c.status).where(orders.c.id == row.id)).scalar_one()
        return Failed(InvalidTransition(number, current, change.action))
    return _after_change(conn, at, row.id, row.status, change)


def _after_change(
    conn: Connection, at: datetime, order_id: int, from_status: str, change: Transition
) -> OrderRecord:
    if change.stock is not None:
        lines = conn.execute(
            select(order_lines.c.sku, order_lines.c.quantity).where(order_lines.c.order_id == order_id)
        ).all()
        wanted: dict[str, int] = {}
        for sku, quantity in lines:
            wanted[sku] = wanted.get(sku, 0) + quantity
        (_release if change.stock == "release" else _consume)(conn, at, wanted)
    if change.verdict is not None:
        verdict, verdict_note = change.verdict
        conn.execute(
            update(payment_submissions)
            .where(payment_submissions.c.order_id == order_id, payment_submissions.c.verdict.is_(None))
            .values(verdict=verdict, verdict_by=change.actor, verdict_at=at, verdict_note=verdict_note)
        )
    if change.payment is not None:
        conn.execute(
            insert(payment_submissions).values(order_id=order_id, submitted_at=at, **change.payment)
        )
    _event(conn, order_id, at, change.actor, from_status, change.to_status, change.note)
    record = fetch_by_id(conn, order_id)
    assert record is not None
    if change.notice is not None:
        message = change.notice(record)
        if message is not None:
            push_in_transaction(
                conn,
                at,
                channel=record.channel,
                external_id=record.external_id,
                message=message,
                lang_hint=record.lang,
                default_lang=record.lang,
            )
    return record


# -- the unpaid-order sweep ---------------------------------------------------------

SWEEP_BATCH = 100


def sweep(
    conn: Connection,
    now: datetime,
    *,
    at: datetime | None,
    remind_before: timedelta,
    expire: Callable[[], Transition],
    reminder: Notice,
) -> tuple[list[str], list[str], bool]:
    """One batch of the unpaid sweep: ``(reminded, cancelled, more_left)``.

    Every change is conditional on the order still being unpaid (and not yet
    reminded), so two sweepers at once never cancel or remind an order twice.
    """
    at = at or now
    cancelled: list[str] = []
    due = conn.execute(
        select(orders.c.id, orders.c.number)
        .where(orders.c.status == OrderStatus.PENDING_PAYMENT, orders.c.payment_due_at <= at)
        .order_by(orders.c.payment_due_at, orders.c.id)
        .limit(SWEEP_BATCH)
    ).all()
    for order_id, number in due:
        change = expire()
        done = conn.execute(
            update(orders)
            .where(
                orders.c.id == order_id,
                orders.c.status == OrderStatus.PENDING_PAYMENT,
                orders.c.payment_due_at <= at,
            )
            .values(status=change.to_status, updated_at=at)
        )
        if done.rowcount == 1:
            _after_change(conn, at, order_id, OrderStatus.PENDING_PAYMENT, change)
            cancelled.append(number)

    reminded: list[str] = []
    soon = conn.execute(
        select(orders.c.id, orders.c.number)
        .where(
            orders.c.status == OrderStatus.PENDING_PAYMENT,
            orders.c.reminded_at.is_(None),
            orders.c.payment_due_at > at,
            orders.c.payment_due_at <= at + remind_before,
        )
        .order_by(orders.c.payment_due_at, orders.c.id)
        .limit(SWEEP_BATCH)
    ).all()
    for order_id, number in soon:
        done = conn.execute(
            update(orders)
            .where(
                orders.c.id == order_id,
                orders.c.status == OrderStatus.PENDING_PAYMENT,
                orders.c.reminded_at.is_(None),
            )
            .values(reminded_at=at)
        )
        if done.rowcount != 1:
            continue
        record = fetch_by_id(conn, order_id)
        assert record is not None
        message = reminder(record)
        if message is not None:
            push_in_transaction(
                conn,
                at,
                channel=record.channel,
                external_id=record.external_id,
                message=message,
                lang_hint=record.lang,
                default_lang=record.lang,
            )
        reminded.append(number)
    return reminded, cancelled, len(due) == SWEEP_BATCH or len(soon) == SWEEP_BATCH


def record_lookup_failure(conn: Connection, now: datetime, number: str, window: timedelta) -> None:
    """Note a failed proof of owning order ``number``; failures older than ``window`` go."""
    conn.execute(delete(lookup_failures).where(lookup_failures.c.failed_at < now - window))
    conn.execute(insert(lookup_failures).values(order_number=number, failed_at=now))


def count_lookup_failures(conn: Connection, number: str, since: datetime) -> int:
    return conn.execute(
        select(func.count()).where(
            lookup_failures.c.order_number == number, lookup_failures.c.failed_at >= since
        )
    ).scalar_one()


def count_statuses(conn: Connection) -> dict[str, int]:
    return {
        status: count
        for status, count in conn.execute(
            select(orders.c.status, func.count()).group_by(orders.c.status)
        )
    }

"""The shapes orders travel in, between the chat flows, the admin API/CLI and the store.

Money is always an ``int`` of rupiah; times are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class OrderStatus:
    """An order's life: stored as these strings.

    ``pending_payment`` → (customer confirms a transfer) ``payment_submitted`` →
    (admin verifies) ``paid`` → ``shipped`` (with a tracking number) → ``delivered``.
    A rejected payment goes back to ``pending_payment``. ``cancelled`` is reachable
    from every state before ``shipped`` (by the customer's admin, or by the
    payment deadline passing) and releases the reserved stock.
    """

    PENDING_PAYMENT = "pending_payment"
    PAYMENT_SUBMITTED = "payment_submitted"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    ALL = (PENDING_PAYMENT, PAYMENT_SUBMITTED, PAID, SHIPPED, DELIVERED, CANCELLED)


class PaymentMethod:
    BANK_TRANSFER = "bank_transfer"
    EWALLET = "ewallet"

    ALL = (BANK_TRANSFER, EWALLET)


@dataclass(frozen=True)
class CartLine:
    """One line of a cart or an order: a buyable SKU (a variant's, or a product's
    without variants) and how many."""

    sku: str
    product_sku: str
    name: str  # the product's name as shown to the customer
    options: dict[str, str]  # e.g. {"size": "L", "color": "biru"}; {} without variants
    quantity: int
    unit_price: int  # rupiah
    weight_grams: int  # of one unit

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class NewOrder:
    """What the order flow hands over when the customer confirms.

    ``source_key`` makes placing idempotent: a second :meth:`OrderBook.place`
    with the same key (a double-clicked "confirm", a resent message) returns the
    order the first one created instead of creating another.
    """

    lines: tuple[CartLine, ...]
    customer_name: str
    phone: str  # normalized, e.g. "081234567890"
    address: str
    city: str
    courier: str  # courier id from shipping.yml, e.g. "jne-reg"
    courier_name: str  # e.g. "JNE REG"
    shipping_cost: int  # rupiah
    payment_method: str  # PaymentMethod.*
    lang: str  # the customer's language, for every later message about this order
    channel: str
    external_id: str
    customer_id: int
    conversation_id: int
    source_key: str
    email: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class OrderEvent:
    """One change of an order: when, who (``customer``, ``admin:<username>``,
    ``cli:<user>``, ``system``), from which status to which, and a note."""

    at: datetime
    actor: str
    from_status: str | None  # None for the creation
    to_status: str
    note: str | None = None


@dataclass(frozen=True)
class PaymentSubmission:
    """A customer's "I have transferred": what they told us, and the admin's verdict."""

    id: int
    bank: str
    amount: int
    sender_name: str
    proof_url: str | None
    submitted_at: datetime
    verdict: str | None = None  # None (waiting), "verified" or "rejected"
    verdict_by: str | None = None
    verdict_at: datetime | None = None
    verdict_note: str | None = None


@dataclass(frozen=True)
class OrderRecord:
    """An order as stored, with its lines, history and payment submissions."""

    id: int
    number: str  # e.g. "SP-2026-000123"
    status: str
    lines: tuple[CartLine, ...]
    subtotal: int
    shipping_cost: int
    total: int
    customer_name: str
    phone: str
    email: str | None
    address: str
    city: str
    courier: str
    courier_name: str
    payment_method: str
    payment_due_at: datetime
    tracking_number: str | None
    lang: str
    channel: str
    external_id: str
    customer_id: int
    conversation_id: int | None
    created_at: datetime
    updated_at: datetime
    note: str | None = None
    events: tuple[OrderEvent, ...] = ()
    payments: tuple[PaymentSubmission, ...] = ()
    reminded_at: datetime | None = None


@dataclass(frozen=True)
class StockShortage:
    """A line that could not be reserved: how many were asked and how many are left."""

    sku: str
    name: str
    asked: int
    available: int


class OutOfStock(Exception):
    """Raised by :meth:`OrderBook.place` when any line cannot be reserved; nothing was written."""

    def __init__(self, shortages: list[StockShortage]) -> None:
        super().__init__(", ".join(f"{s.sku}: {s.available} left, {s.asked} asked" for s in shortages))
        self.shortages = shortages


class OrderNotFound(LookupError):
    """No order has this number."""


class InvalidTransition(ValueError):
    """The order's current status does not allow this change (e.g. shipping an unpaid order)."""

    def __init__(self, number: str, status: str, action: str) -> None:
        super().__init__(f"order {number} is {status}; cannot {action}")
        self.number = number
        self.status = status
        self.action = action


@dataclass(frozen=True)
class ExpirySweep:
    """What one run of the unpaid-order sweep did."""

    reminded: tuple[str, ...] = field(default_factory=tuple)  # order numbers
    cancelled: tuple[str, ...] = field(default_factory=tuple)

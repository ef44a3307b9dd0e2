"""The order book: the one door to orders, stock and payments.

The chat flows place orders and take payment confirmations through it; admins
(JSON API, ``sapa order``) verify, reject, ship, deliver and cancel through it;
a sweeper cancels unpaid orders past their deadline. Every change of an order is
one transaction: the status, its stock effect, an :class:`OrderEvent` (when, who,
from, to) and — when anyone but the customer made it — the message that tells
the customer, with its outbox row (see :mod:`bot.store.outbox`, :mod:`bot.relay`).

Stock: placing an order *reserves* its units (``reserved`` grows); they leave
the shelf (``on_hand`` and ``reserved`` both drop) when the order **ships**;
cancelling before that releases the reservation. So ``on_hand - reserved`` is
always what can still be sold, and ``on_hand`` is what is physically in the shop.

A rejected payment sends the order back to ``pending_payment`` with a deadline
of at least 24 hours from the rejection (never shorter than it was), so the
customer has time to fix it; the rejection message counts as the reminder.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.orders import ops
from bot.orders.notify import Notices, format_time
from bot.orders.records import (
    CartLine,
    ExpirySweep,
    NewOrder,
    OrderNotFound,
    OrderRecord,
    OrderStatus,
    PaymentMethod,
)
from bot.orders.settings import OrderSettings
from bot.store.sanitize import clean_text
from bot.texts import Texts
from bot.types import LANGS

if TYPE_CHECKING:
    from bot.bus import Bus
    from bot.shopdata.model import ShopData
    from bot.store import Store

log = logging.getLogger(__name__)

# Topic on which order changes are announced (for the console's live lists).
ORDERS_TOPIC = "orders"

# Failed proofs of owning one order, from any conversation, within the window before
# the order's lookups are refused (to all but the identity that placed it) until the
# oldest of them is a window old. Each conversation has its own, smaller limit
# (bot/flows/forms.py); this one stops a guesser who opens a new conversation every time.
MAX_ORDER_LOOKUP_FAILURES = 10
ORDER_LOOKUP_WINDOW = timedelta(hours=1)

# A rejected payment leaves the customer at least this long to pay again.
REJECTED_GRACE = timedelta(hours=24)

MAX_TRACKING = 64
MAX_COURIER = 64
MAX_REASON = 500
MAX_NOTE = 500
MAX_BANK = 64
MAX_SENDER = 255
MAX_PROOF_URL = 2048
MAX_ACTOR = 128
MAX_SOURCE_KEY = 255

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_LINE_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\u2028\u2029]+")
_NUMBER_SPACES = re.compile(r"\s+")


class InvalidInput(ValueError):
    """A field handed to the order book is missing, too long or of the wrong kind."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def clean_field(
    value: object, field: str, max_chars: int, *, required: bool = True, multiline: bool = False
) -> str | None:
    """Text as it will be stored: control characters removed, trimmed, at most ``max_chars``.

    Single-line fields (tracking numbers, names) get their line breaks turned into
    spaces; multi-line ones (reasons, notes) keep them. Markup is stored literally.
    """
    if value is None:
        if required:
            raise InvalidInput(field, f"{field} is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, f"{field} must be text")
    if not multiline:
        value = _LINE_BREAKS.sub(" ", value)
    else:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    # clean_text: no database takes a lone surrogate, which a JSON body spells "\ud800"
    # and `sapa order … --reason` gets from a byte of argv that is not UTF-8.
    value = clean_text(_CONTROL.sub("", value)).strip()
    if len(value) > max_chars:
        raise InvalidInput(field, f"{field} is longer than {max_chars} characters")
    if not value:
        if required:
            raise InvalidInput(field, f"{field} must not be empty")
        return None
    return value


_NUMBER_PARTS = re.compile(r"SP[-_/.]?(\d{4})[-_/.]?(\d{6})")


def normalize_number(number: str) -> str:
    """``" sp-2026-000123 "``, ``"SP2026000123"``, ``"sp 2026 000123"`` → ``"SP-2026-000123"``."""
    # A NUL (or lone surrogate) from a URL names no order, and PostgreSQL would refuse the query.
    compact = clean_text(_NUMBER_SPACES.sub("", number)).upper()
    parts = _NUMBER_PARTS.fullmatch(compact)
    return f"SP-{parts.group(1)}-{parts.group(2)}" if parts else compact


MAX_SEARCH = 200
_PHONE_LIKE = re.compile(r"\+?[\d\s().-]+")


def order_search(text: str | None) -> ops.OrderSearch | None:
    """An admin's search words as :class:`ops.OrderSearch` (``None`` when there are none)."""
    cleaned = clean_field(text, "search", MAX_SEARCH, required=False) if text is not None else None
    if not cleaned:
        return None
    digits = None
    if _PHONE_LIKE.fullmatch(cleaned):
        digits = re.sub(r"\D", "", cleaned)
        if cleaned.startswith("+62") or (digits.startswith("62") and len(digits) >= 10):
            digits = "0" + digits[2:]  # stored as Indonesians write it: 0812…
    return ops.OrderSearch(cleaned, digits or None)


class OrderBook:
    """Orders, stock and payments over the store (see the module's notes)."""

    def __init__(
        self, store: "Store", shop: "ShopData", texts: Texts, bus: "Bus | None" = None
    ) -> None:
        self.store = store
        self.shop = shop
        self.texts = texts
        self.bus = bus
        self.settings = OrderSettings.from_shop(dict(shop.shop))
        shipping = getattr(shop, "shipping", None)
        tracking = {}
        if shipping is not None:
            tracking = {c.id: c.tracking_url for c in shipping.couriers if c.tracking_url}
        self.notices = Notices(texts, self.settings, tracking)

    # -- stock --------------------------------------------------------------------

    def catalog_stock(self) -> dict[str, int]:
        """The catalog's stock per buyable SKU (a variant's, or a product's without variants)."""
        stock: dict[str, int] = {}
        for product in self.shop.products:
            if product.variants:
                for variant in product.variants:
                    stock[variant.sku] = variant.stock
            else:
                stock[product.sku] = product.stock
        return stock

    async def sync_stock(self) -> dict[str, int]:
        """Bring the stored stock in line with the catalog files; returns ``{sku: change}``.

        New SKUs start with their catalog stock; a SKU whose catalog figure changed
        since the last sync gets the difference added to what is on hand (the
        admin restocked, or corrected a count, by editing the file).
        """
        return await self.store.write(partial(ops.sync_stock, catalog=self.catalog_stock()))

    async def available(self, skus: Iterable[str]) -> dict[str, int]:
        """How many units of each SKU can still be ordered (0 for unknown SKUs)."""
        wanted = list(dict.fromkeys(skus))
        if not wanted:
            return {}
        return await self.store.read(ops.fetch_available, wanted)

    # -- proofs of ownership --------------------------------------------------------

    async def lookup_failed(self, number: str) -> None:
        """Note that someone failed to prove order ``number`` is theirs (it may not exist)."""
        await self.store.write(
            partial(ops.record_lookup_failure, number=normalize_number(number), window=ORDER_LOOKUP_WINDOW)
        )

    async def lookups_blocked(self, number: str) -> bool:
        """Whether order ``number`` has had too many failed proofs lately to try another."""
        since = self.store.now() - ORDER_LOOKUP_WINDOW
        failures = await self.store.read(ops.count_lookup_failures, normalize_number(number), since)
        return failures >= MAX_ORDER_LOOKUP_FAILURES

    # -- placing and reading --------------------------------------------------------

    async def place(self, order: NewOrder) -> OrderRecord:
        """Reserve the stock and create the order, all in one transaction.

        Idempotent by ``order.source_key``: placing the same key again returns
        the order the first call created (no second reservation). Raises
        :class:`~bot.orders.records.OutOfStock` listing every line that cannot be
        had (with what is left) — nothing is written then — and
        :class:`InvalidInput` for a malformed order.
        """
        order = _checked(order)
        record: OrderRecord = await self.store.write(
            partial(ops.place, order=order, due_in=self.settings.deadline, year_of=self.settings.year_of)
        )
        await self._announce(record, "customer")
        return record

    async def get(self, number: str) -> OrderRecord | None:
        """The order with this number (any case, spaces ignored), or ``None``."""
        if not isinstance(number, str) or not number.strip():
            return None
        return await self.store.read(ops.fetch_by_number, normalize_number(number))

    async def for_customer(self, customer_id: int, limit: int = 10) -> list[OrderRecord]:
        """The customer's orders, newest first."""
        return await self.store.read(ops.fetch_for_customer, customer_id, _limit(limit))

    async def for_identity(self, channel: str, external_id: str, limit: int = 10) -> list[OrderRecord]:
        """The orders of whoever writes as ``external_id`` on ``channel``, newest first."""
        return await self.store.read(ops.fetch_for_identity, channel, external_id, _limit(limit))

    async def list(
        self, status: str | None = None, limit: int = 50, offset: int = 0, search: str | None = None
    ) -> list[OrderRecord]:
        """Orders, newest first, optionally only those with ``status`` and those matching
        ``search`` (part of the number, the customer's name, phone, e-mail or tracking number)."""
        if status is not None and status not in OrderStatus.ALL:
            raise InvalidInput("status", f"unknown status {status!r}; one of {', '.join(OrderStatus.ALL)}")
        wanted = order_search(search)
        return await self.store.read(ops.fetch_list, status, _limit(limit, 500), max(0, int(offset)), wanted)

    async def status_counts(self) -> dict[str, int]:
        """How many orders are in each status."""
        return await self.store.read(ops.count_statuses)

    # -- payments -------------------------------------------------------------------

    async def submit_payment(
        self,
        number: str,
        *,
        bank: str,
        amount: int,
        sender_name: str,
        proof_url: str | None = None,
        actor: str = "customer",
    ) -> OrderRecord:
        """The customer says they paid: ``pending_payment`` (or a resubmission while
        ``payment_submitted``) → ``payment_submitted``, waiting for an admin."""
        bank = clean_field(bank, "bank", MAX_BANK)  # type: ignore[assignment]
        sender_name = clean_field(sender_name, "sender_name", MAX_SENDER)  # type: ignore[assignment]
        proof_url = clean_field(proof_url, "proof_url", MAX_PROOF_URL, required=False)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidInput("amount", "amount must be a whole number of rupiah above 0")
        actor = _actor(actor)
        from bot.catalog import rupiah

        change = ops.Transition(
            action="submit a payment for",
            allowed_from=(OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_SUBMITTED),
            to_status=OrderStatus.PAYMENT_SUBMITTED,
            actor=actor,
            note=f"{bank} {rupiah(amount)} / {sender_name}",
            payment={
                "bank": bank,
                "amount": amount,
                "sender_name": sender_name,
                "proof_url": proof_url,
                "actor": actor,
            },
        )
        return await self._change(number, change)

    async def verify_payment(self, number: str, actor: str, note: str | None = None) -> OrderRecord:
        """An admin saw the money arrive: ``payment_submitted`` → ``paid``; the customer is told."""
        note = clean_field(note, "note", MAX_NOTE, required=False, multiline=True)
        change = ops.Transition(
            action="verify the payment of",
            allowed_from=(OrderStatus.PAYMENT_SUBMITTED,),
            to_status=OrderStatus.PAID,
            actor=_actor(actor),
            note=note,
            verdict=("verified", note),
            notice=lambda order: self.notices.paid(order, note),
        )
        return await self._change(number, change)

    async def reject_payment(self, number: str, actor: str, reason: str) -> OrderRecord:
        """An admin could not find the money: ``payment_submitted`` → ``pending_payment``.

        The deadline becomes at least 24 hours from now (never shorter than it
        was); the customer is told why and what to do, which counts as their reminder.
        """
        reason = clean_field(reason, "reason", MAX_REASON, multiline=True)  # type: ignore[assignment]
        change = ops.Transition(
            action="reject the payment of",
            allowed_from=(OrderStatus.PAYMENT_SUBMITTED,),
            to_status=OrderStatus.PENDING_PAYMENT,
            actor=_actor(actor),
            note=reason,
            verdict=("rejected", reason),
            extend_due_to=REJECTED_GRACE,
            values={"reminded_at": self.store.now()},
            notice=lambda order: self.notices.payment_rejected(order, reason),
        )
        return await self._change(number, change)

    # -- fulfilment -------------------------------------------------------------------

    async def ship(
        self, number: str, actor: str, tracking_number: str, courier: str | None = None
    ) -> OrderRecord:
        """``paid`` → ``shipped`` with a tracking number; the units leave the stock.

        ``courier`` (an id or name from shipping.yml, or any text) replaces the
        courier the customer chose, e.g. when the shop sent it another way.
        """
        tracking_number = clean_field(tracking_number, "tracking_number", MAX_TRACKING)  # type: ignore[assignment]
        values: dict[str, Any] = {"tracking_number": tracking_number}
        courier = clean_field(courier, "courier", MAX_COURIER, required=False)
        if courier is not None:
            values.update(self._courier_values(courier))
        change = ops.Transition(
            action="ship",
            allowed_from=(OrderStatus.PAID,),
            to_status=OrderStatus.SHIPPED,
            actor=_actor(actor),
            note=f"{values.get('courier_name', '')} {tracking_number}".strip(),
            values=values,
            stock="consume",
            notice=self.notices.shipped,
        )
        return await self._change(number, change)

    async def deliver(self, number: str, actor: str) -> OrderRecord:
        """``shipped`` → ``delivered``; the customer is thanked."""
        change = ops.Transition(
            action="deliver",
            allowed_from=(OrderStatus.SHIPPED,),
            to_status=OrderStatus.DELIVERED,
            actor=_actor(actor),
            notice=self.notices.delivered,
        )
        return await self._change(number, change)

    async def cancel(self, number: str, actor: str, reason: str | None = None) -> OrderRecord:
        """Any status before ``shipped`` → ``cancelled``; the reserved units are released.

        The customer is told unless they cancelled it themselves (``actor`` "customer").
        """
        reason = clean_field(reason, "reason", MAX_REASON, required=False, multiline=True)
        actor = _actor(actor)

        def notice(order: OrderRecord):  # type: ignore[no-untyped-def]
            was_paid = order.events[-1].from_status in (OrderStatus.PAID, OrderStatus.PAYMENT_SUBMITTED)
            return self.notices.cancelled(order, reason, was_paid)

        change = ops.Transition(
            action="cancel",
            allowed_from=(OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_SUBMITTED, OrderStatus.PAID),
            to_status=OrderStatus.CANCELLED,
            actor=actor,
            note=reason,
            stock="release",
            notice=None if actor == "customer" else notice,
        )
        return await self._change(number, change)

    # -- the unpaid sweep ---------------------------------------------------------------

    async def sweep_unpaid(self, now: datetime | None = None) -> ExpirySweep:
        """Cancel unpaid orders past their deadline and remind those close to it.

        ``pending_payment`` orders whose ``payment_due_at`` has passed are
        cancelled by ``system`` (stock released, customer told); those within
        ``payment_reminder_hours`` of it, not yet reminded, get one reminder with
        the amount, the accounts and the deadline. ``now`` replaces the store's
        clock (tests, ``sapa order sweep --now``). Safe to run from several
        workers at once: nothing is cancelled or reminded twice.
        """
        if now is not None and now.tzinfo is None:
            raise InvalidInput("now", "now must be timezone-aware")
        remind_before = self.settings.remind_before

        def expire() -> ops.Transition:
            return ops.Transition(
                action="cancel",
                allowed_from=(OrderStatus.PENDING_PAYMENT,),
                to_status=OrderStatus.CANCELLED,
                actor="system",
                note="payment deadline passed",
                stock="release",
                notice=self.notices.expired,
            )

        reminded: list[str] = []
        cancelled: list[str] = []
        while True:
            batch_reminded, batch_cancelled, more = await self.store.write(
                partial(
                    ops.sweep,
                    at=now,
                    remind_before=remind_before if remind_before > timedelta(0) else timedelta(0),
                    expire=expire,
                    reminder=self.notices.reminder,
                )
            )
            reminded.extend(batch_reminded)
            cancelled.extend(batch_cancelled)
            if not more:
                break
        if reminded or cancelled:
            self.store.outbox_changed()
            for number in cancelled:
                await self._publish({"type": "order", "number": number, "status": OrderStatus.CANCELLED, "actor": "system"})
        return ExpirySweep(reminded=tuple(reminded), cancelled=tuple(cancelled))

    # -- for the chat flows -------------------------------------------------------------

    def payment_instructions(self, order: OrderRecord) -> str:
        """Where and how much to pay and how to confirm, in the order's language."""
        return self.notices.payment_instructions(order)

    def format_time(self, at: datetime, lang: str) -> str:
        """A time as the shop's customers read it: ``Kamis, 5 Maret 2026 pukul 14.00 WIB``."""
        return format_time(at, self.settings, lang)

    # -- internals ------------------------------------------------------------------------

    async def _change(self, number: str, change: ops.Transition) -> OrderRecord:
        if not isinstance(number, str) or not number.strip():
            raise OrderNotFound(str(number))
        record: OrderRecord = await self.store.write(
            partial(ops.transition, number=normalize_number(number), change=change)
        )
        if change.notice is not None:
            self.store.outbox_changed()
        await self._announce(record, change.actor)
        return record

    async def _announce(self, record: OrderRecord, actor: str) -> None:
        await self._publish(
            {"type": "order", "number": record.number, "status": record.status, "actor": actor}
        )

    async def _publish(self, event: dict[str, Any]) -> None:
        if self.bus is None:
            return
        try:
            await self.bus.publish(ORDERS_TOPIC, event)
        except Exception:  # committed already; a live list re-reads the store
            log.warning("could not announce order %s on the bus", event.get("number"), exc_info=True)

    def _courier_values(self, courier: str) -> dict[str, Any]:
        shipping = getattr(self.shop, "shipping", None)
        if shipping is not None:
            wanted = courier.casefold()
            for c in shipping.couriers:
                if wanted in (c.id.casefold(), c.name.casefold()):
                    return {"courier": c.id, "courier_name": c.name}
        return {"courier_name": courier}


def _limit(limit: int, maximum: int = 200) -> int:
    return max(1, min(int(limit), maximum))


def _actor(actor: str) -> str:
    return clean_field(actor, "actor", MAX_ACTOR)  # type: ignore[return-value]


def _whole(value: object, field: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(field, f"{field} must be a whole number (rupiah/grams/units) of at least {minimum}")
    return value


def _checked(order: NewOrder) -> NewOrder:
    """Refuse malformed orders before they reach a transaction: money must be int rupiah."""
    if not order.lines:
        raise InvalidInput("lines", "an order needs at least one line")
    for line in order.lines:
        if not isinstance(line, CartLine):
            raise InvalidInput("lines", "order lines must be CartLine records")
        clean_field(line.sku, "sku", 64)
        _whole(line.quantity, "quantity", 1)
        _whole(line.unit_price, "unit_price", 0)
        _whole(line.weight_grams, "weight_grams", 0)
    _whole(order.shipping_cost, "shipping_cost", 0)
    _whole(order.customer_id, "customer_id", 1)
    if order.payment_method not in PaymentMethod.ALL:
        raise InvalidInput("payment_method", f"payment_method must be one of {', '.join(PaymentMethod.ALL)}")
    if order.lang not in LANGS:
        raise InvalidInput("lang", f"lang must be one of {', '.join(LANGS)}")
    clean_field(order.source_key, "source_key", MAX_SOURCE_KEY)
    clean_field(order.channel, "channel", 32)
    clean_field(order.external_id, "external_id", 255)
    from dataclasses import replace

    return replace(
        order,
        customer_name=clean_field(order.customer_name, "customer_name", 255),
        phone=clean_field(order.phone, "phone", 32),
        email=clean_field(order.email, "email", 320, required=False),
        address=clean_field(order.address, "address", 1000, multiline=True),
        city=clean_field(order.city, "city", 255),
        courier=clean_field(order.courier, "courier", MAX_COURIER),
        courier_name=clean_field(order.courier_name, "courier_name", 128),
        note=clean_field(order.note, "note", MAX_NOTE, required=False, multiline=True),
    )

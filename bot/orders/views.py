"""Orders as the admin API (JSON) and ``sapa order`` (text) show them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.catalog import rupiah
from bot.orders.records import OrderRecord


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def order_summary_json(order: OrderRecord) -> dict[str, Any]:
    """One row of an order list."""
    return {
        "number": order.number,
        "status": order.status,
        "customer_name": order.customer_name,
        "city": order.city,
        "items": sum(line.quantity for line in order.lines),
        "total": order.total,
        "currency": "IDR",
        "payment_method": order.payment_method,
        "payment_due_at": _iso(order.payment_due_at),
        "tracking_number": order.tracking_number,
        "channel": order.channel,
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
    }


def order_json(order: OrderRecord) -> dict[str, Any]:
    """Everything about an order: lines, money (integer rupiah), history, payment submissions."""
    return {
        "number": order.number,
        "status": order.status,
        "customer": {
            "id": order.customer_id,
            "name": order.customer_name,
            "phone": order.phone,
            "email": order.email,
            "address": order.address,
            "city": order.city,
        },
        "lines": [
            {
                "sku": line.sku,
                "product_sku": line.product_sku,
                "name": line.name,
                "options": dict(line.options),
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
                "weight_grams": line.weight_grams,
            }
            for line in order.lines
        ],
        "subtotal": order.subtotal,
        "shipping_cost": order.shipping_cost,
        "total": order.total,
        "currency": "IDR",
        "courier": order.courier,
        "courier_name": order.courier_name,
        "tracking_number": order.tracking_number,
        "payment_method": order.payment_method,
        "payment_due_at": _iso(order.payment_due_at),
        "reminded_at": _iso(order.reminded_at),
        "note": order.note,
        "lang": order.lang,
        "channel": order.channel,
        "external_id": order.external_id,
        "conversation_id": order.conversation_id,
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
        "events": [
            {
                "at": _iso(e.at),
                "actor": e.actor,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
            }
            for e in order.events
        ],
        "payments": [
            {
                "id": p.id,
                "bank": p.bank,
                "amount": p.amount,
                "sender_name": p.sender_name,
                "proof_url": p.proof_url,
                "submitted_at": _iso(p.submitted_at),
                "verdict": p.verdict,
                "verdict_by": p.verdict_by,
                "verdict_at": _iso(p.verdict_at),
                "verdict_note": p.verdict_note,
            }
            for p in order.payments
        ],
    }


def _when(at: datetime | None) -> str:
    return "-" if at is None else at.strftime("%Y-%m-%d %H:%M UTC")


def order_line_text(order: OrderRecord) -> str:
    """One line per order for ``sapa order list``."""
    return (
        f"{order.number}  {order.status:<17}  {rupiah(order.total):>13}  "
        f"{_when(order.created_at)}  {order.customer_name} ({order.city})"
    )


def order_text(order: OrderRecord) -> str:
    """The whole order, readable in a terminal (``sapa order show``)."""
    out = [
        f"Order {order.number} — {order.status}",
        f"Customer: {order.customer_name}, {order.phone}" + (f", {order.email}" if order.email else ""),
        f"Address:  {order.address}, {order.city}",
        f"Channel:  {order.channel} {order.external_id} (language {order.lang})",
        f"Courier:  {order.courier_name}" + (f", tracking {order.tracking_number}" if order.tracking_number else ""),
        f"Payment:  {order.payment_method}, due {_when(order.payment_due_at)}",
        "",
        "Items:",
    ]
    for line in order.lines:
        options = ", ".join(f"{k} {v}" for k, v in line.options.items())
        label = f"{line.name}" + (f" ({options})" if options else "")
        out.append(f"  {line.quantity} × {label} [{line.sku}] @ {rupiah(line.unit_price)} = {rupiah(line.line_total)}")
    out += [
        f"Subtotal: {rupiah(order.subtotal)}",
        f"Shipping: {rupiah(order.shipping_cost)}",
        f"Total:    {rupiah(order.total)}",
    ]
    if order.note:
        out.append(f"Note:     {order.note}")
    if order.payments:
        out += ["", "Payment confirmations:"]
        for p in order.payments:
            verdict = p.verdict or "waiting"
            if p.verdict:
                verdict += f" by {p.verdict_by} at {_when(p.verdict_at)}"
                if p.verdict_note:
                    verdict += f": {p.verdict_note}"
            out.append(
                f"  {_when(p.submitted_at)}  {p.bank} {rupiah(p.amount)} from {p.sender_name}"
                + (f", proof {p.proof_url}" if p.proof_url else "")
                + f" — {verdict}"
            )
    out += ["", "History:"]
    for e in order.events:
        change = f"{e.from_status} → {e.to_status}" if e.from_status else f"created ({e.to_status})"
        out.append(f"  {_when(e.at)}  {e.actor:<16} {change}" + (f" — {e.note}" if e.note else ""))
    return "\n".join(out)

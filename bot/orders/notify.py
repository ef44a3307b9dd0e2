"""What the shop says to a customer about their order: pushed messages and payment instructions.

Pure functions of an :class:`~bot.orders.records.OrderRecord`, the bot's texts
(``bot/resources/texts_orders.yml``, overridable in a data dir's ``texts.yml``)
and the shop's order settings. Money goes through :func:`bot.catalog.rupiah`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from bot.catalog import rupiah
from bot.orders.records import OrderRecord, PaymentMethod
from bot.orders.settings import OrderSettings
from bot.store.records import NewMessage
from bot.texts import Texts

_DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
           "September", "Oktober", "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}


def format_time(at: datetime, settings: OrderSettings, lang: str) -> str:
    """``Kamis, 5 Maret 2026 pukul 14.00 WIB`` / ``Thursday, 5 March 2026, 14:00 WIB``."""
    local = at.astimezone(settings.zone)
    lang = "en" if lang == "en" else "id"
    day = _DAYS[lang][local.weekday()]
    month = _MONTHS[lang][local.month - 1]
    if lang == "en":
        return f"{day}, {local.day} {month} {local.year}, {local:%H:%M} {settings.zone_name}"
    return f"{day}, {local.day} {month} {local.year} pukul {local:%H.%M} {settings.zone_name}"


class Notices:
    """Builds the bot messages about an order, in the order's language."""

    def __init__(self, texts: Texts, settings: OrderSettings, tracking_urls: dict[str, str] | None = None) -> None:
        self.texts = texts
        self.settings = settings
        # courier id -> URL template with {tracking_number} (from shipping.yml)
        self.tracking_urls = tracking_urls or {}

    def _t(self, key: str, order: OrderRecord, **values: Any) -> str:
        return self.texts.get(
            key,
            order.lang,  # type: ignore[arg-type]
            number=order.number,
            total=rupiah(order.total, order.lang),
            deadline=format_time(order.payment_due_at, self.settings, order.lang),
            **{k: str(v) for k, v in values.items()},
        )

    def _message(self, text: str, order: OrderRecord, *buttons: tuple[str, str]) -> NewMessage:
        return NewMessage(
            sender_type="bot",
            text=text,
            buttons=[
                {"title": self.texts.get(key, order.lang), "payload": payload}  # type: ignore[arg-type]
                for key, payload in buttons
            ],
        )

    # -- payment instructions (also for the order flow's confirmation) -----------------

    def payment_instructions(self, order: OrderRecord, *, confirm_hint: bool = True) -> str:
        """Where and how much to pay (and, with ``confirm_hint``, how to confirm), in the order's language."""
        ewallet = order.payment_method == PaymentMethod.EWALLET
        accounts = self.settings.ewallets if ewallet else self.settings.bank_accounts
        if not accounts:
            return self._t("order_pay_no_accounts", order)
        lines = "\n".join(
            self.texts.get(
                "order_pay_account_line" if a.holder else "order_pay_account_line_plain",
                order.lang,  # type: ignore[arg-type]
                bank=a.bank, number=a.number, holder=a.holder,
            )
            for a in accounts
        )
        head = self._t("order_pay_ewallet" if ewallet else "order_pay_bank", order, accounts=lines)
        return head + "\n" + self._t("order_pay_confirm_hint", order) if confirm_hint else head

    # -- pushed messages -----------------------------------------------------------

    def paid(self, order: OrderRecord, note: str | None) -> NewMessage:
        text = self._t("order_push_paid", order)
        if note:
            text += "\n" + self._t("order_push_admin_note", order, note=note)
        return self._message(text, order)

    def payment_rejected(self, order: OrderRecord, reason: str) -> NewMessage:
        return self._message(
            self._t("order_push_payment_rejected", order, reason=reason),
            order,
            ("order_button_paid", "/payment_confirmation"),
        )

    def shipped(self, order: OrderRecord) -> NewMessage:
        text = self._t(
            "order_push_shipped",
            order,
            courier=order.courier_name,
            tracking_number=order.tracking_number or "-",
        )
        template = self.tracking_urls.get(order.courier)
        if template and order.tracking_number:
            # an admin may type "JP 1234 5678" (trackers want it without spaces), and "&" or "#"
            # would break the link
            url = template.replace("{tracking_number}", quote("".join(order.tracking_number.split()), safe=""))
            text += "\n" + self._t("order_push_tracking_link", order, url=url)
        return self._message(text, order, ("order_button_status", "/order_status"))

    def delivered(self, order: OrderRecord) -> NewMessage:
        return self._message(self._t("order_push_delivered", order), order)

    def cancelled(self, order: OrderRecord, reason: str | None, was_paid: bool) -> NewMessage:
        parts = [self._t("order_push_cancelled", order)]
        if reason:
            parts.append(self._t("order_push_cancelled_reason", order, reason=reason))
        if was_paid:
            parts.append(self._t("order_push_cancelled_refund", order))
        parts.append(self._t("order_push_cancelled_closing", order))
        return self._message("\n".join(parts), order)

    def expired(self, order: OrderRecord) -> NewMessage:
        return self._message(self._t("order_push_expired", order), order)

    def reminder(self, order: OrderRecord) -> NewMessage:
        return self._message(
            self._t("order_push_reminder", order, instructions=self.payment_instructions(order, confirm_hint=False)),
            order,
            ("order_button_paid", "/payment_confirmation"),
        )

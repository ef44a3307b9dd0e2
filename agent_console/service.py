"""What the console does, independent of HTTP: agents' actions on conversations,
canned responses with placeholders, the numbers.

Every action that touches a conversation runs under the engine's per-conversation
lock (so it never interleaves with a customer's turn), is one group-commit write
(status, assignment, the messages pushed to the customer with their outbox rows,
the action log), and is then announced: the messages by the relay (the widget shows
them, Telegram delivers them), a status change on the conversation's topic (the
widget shows the rating request on ``resolved``), and a ``changed`` event on the
console topic (every worker's hub updates its tabs).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from statistics import mean, median
from typing import TYPE_CHECKING, Any, Callable
from zoneinfo import ZoneInfo

from agent_console.auth import Auth
from agent_console.config import ConsoleSettings
from agent_console.live import CONSOLE_TOPIC, Hub
from agent_console.tickets import TicketBridge
from bot.bus import BusUnavailable, conversation_topic
from bot.catalog import rupiah
from bot.flows.context import shop_name
from bot.store import console_queries as cq
from bot.store.records import ConversationRecord
from bot.store.turns import ConversationNotFound
from bot.texts import Texts

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 4000
MAX_NOTE_CHARS = 4000
PLACEHOLDERS = (
    "customer_name",
    "agent_name",
    "shop_name",
    "order_number",
    "order_status",
    "order_total",
    "tracking_number",
    "courier",
    "ticket_number",
)
ORDER_STATUS_WORDS = {
    "id": {
        "pending_payment": "menunggu pembayaran",
        "payment_submitted": "pembayaran sedang dicek",
        "paid": "sudah dibayar, sedang dikemas",
        "shipped": "sudah dikirim",
        "delivered": "sudah sampai",
        "cancelled": "dibatalkan",
    },
    "en": {
        "pending_payment": "waiting for payment",
        "payment_submitted": "payment being checked",
        "paid": "paid, being packed",
        "shipped": "shipped",
        "delivered": "delivered",
        "cancelled": "cancelled",
    },
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# "Halo Kak {customer_name}" for a customer without a name: the fallback is "Kak" itself,
# so the honorific already written stands alone ("Halo Kak,") instead of "Halo Kak Kak,".
_HONORIFIC_BEFORE_NAME = re.compile(r"\b(kak|kakak|mas|mbak|bu|ibu|pak|bapak)[ \t]+\{customer_name\}", re.IGNORECASE)


class InvalidText(ValueError):
    """An empty or too long text from an agent."""


class UnfilledPlaceholder(InvalidText):
    """A reply that still holds a placeholder this conversation has no value for
    (``{order_number}`` of a customer without orders): sent as is, the customer would
    read the braces."""

    def __init__(self, names: list[str]) -> None:
        super().__init__("unfilled_placeholder")
        self.names = names


def clean_agent_text(value: Any, max_chars: int) -> str:
    """An agent's text as stored: control characters out, line breaks kept, trimmed.
    Markup stays literal (it is shown as text everywhere)."""
    if not isinstance(value, str):
        raise InvalidText("text must be a string")
    value = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not value:
        raise InvalidText("empty")
    if len(value) > max_chars:
        raise InvalidText("too_long")
    return value


def unfilled_placeholders(text: str) -> list[str]:
    """The known placeholders still written in ``text``, in order, once each."""
    names = [m.group(1) for m in _PLACEHOLDER.finditer(text) if m.group(1) in PLACEHOLDERS]
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Numbers:
    """A conversation's service figures (seconds, or None when not reached yet)."""

    first_response: float | None
    first_human_response: float | None
    wait_for_human: float | None
    resolution: float | None
    csat: int | None


def conversation_numbers(c: ConversationRecord, csat: int | None) -> Numbers:
    def between(a: datetime | None, b: datetime | None) -> float | None:
        return None if a is None or b is None else max(0.0, (b - a).total_seconds())

    return Numbers(
        first_response=between(c.first_customer_message_at, c.first_response_at),
        first_human_response=between(c.first_customer_message_at, c.first_agent_response_at),
        wait_for_human=between(c.handoff_at, c.first_agent_response_at),
        resolution=between(c.first_customer_message_at or c.created_at, c.resolved_at),
        csat=csat,
    )


class Console:
    """The console of one worker process (see the module's notes)."""

    def __init__(self, runtime: "Runtime", settings: ConsoleSettings | None = None) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.bus = runtime.bus
        self.locks = runtime.engine.locks
        self.orders = runtime.orders
        self.shop = runtime.shop
        self.settings = settings or ConsoleSettings.from_env()
        self.auth = Auth(self.store, self.settings)
        self.shop_name = shop_name(self.shop)
        self.texts = Texts.load(self.shop.texts, shop_name=self.shop_name)
        self.tickets = TicketBridge(runtime)
        self.hub = Hub(self)
        try:
            self.tz = ZoneInfo(self.settings.timezone)
        except Exception:
            self.tz = ZoneInfo("Asia/Jakarta")

    async def start(self) -> None:
        await self.hub.start()

    async def stop(self) -> None:
        await self.hub.stop()

    # -- actions on conversations -----------------------------------------------------------

    def _customer_texts(self, lang: str, staff: cq.StaffRecord, **extra: str) -> dict[str, str]:
        values = {"agent_name": staff.display_name, **extra}
        return {
            "joined": self.texts.get("console_agent_joined", lang, **values),
            "handed_back": self.texts.get("console_handed_back", lang, **values),
            "resolved": self.texts.get("console_resolved", lang, **values),
            "rate": self.texts.get("console_rate_ask", lang, **values),
            "to_agent": self.texts.get("console_transferred_agent", lang, **values),
            "to_team": self.texts.get("console_transferred_team", lang, **values),
        }

    async def _act(
        self, staff: cq.StaffRecord, conversation_id: int, job: Callable[..., Any], *, texts: dict[str, str] | None = None, **kwargs: Any
    ) -> cq.ActionResult:
        before = await self.store.conversation(conversation_id)
        if before is None:
            raise cq.NotVisible(conversation_id)
        if texts is None:
            texts = self._customer_texts(before.lang, staff)
        async with self.locks.hold(f"{before.channel}:{before.external_id}"):
            try:
                result: cq.ActionResult = await self.store.write(
                    partial(job, staff=staff, conversation_id=conversation_id, texts=texts, **kwargs)
                )
            except ConversationNotFound:
                raise cq.NotVisible(conversation_id) from None
        await self._announce(before, result)
        return result

    async def _announce(self, before: ConversationRecord, result: cq.ActionResult) -> None:
        if result.messages:
            self.store.outbox_changed()  # the relay publishes them now
        if not result.changed:
            return
        conversation = result.conversation
        try:
            if conversation.status != before.status:
                await self.bus.publish(
                    conversation_topic(conversation.id),
                    {"type": "status", "conversation_id": conversation.id, "status": conversation.status},
                )
            await self.bus.publish(CONSOLE_TOPIC, {"type": "changed", "conversation_id": conversation.id})
        except BusUnavailable:
            pass  # Redis is away (the bus logged it once); the tabs re-read when it is back
        except Exception:  # committed; the tabs catch up on their next refresh
            log.exception("could not announce a console action on conversation %s", conversation.id)

    async def take_over(self, staff: cq.StaffRecord, conversation_id: int) -> cq.ActionResult:
        result = await self._act(staff, conversation_id, cq.take_over)
        if result.changed:
            await self.tickets.assigned(conversation_id, staff, staff.id, None)
        return result

    async def reply(self, staff: cq.StaffRecord, conversation_id: int, text: Any) -> cq.ActionResult:
        text = clean_agent_text(text, MAX_REPLY_CHARS)
        missing = unfilled_placeholders(text)
        if missing:
            raise UnfilledPlaceholder(missing)
        result = await self._act(staff, conversation_id, cq.reply, text=text)
        if len(result.messages) > 1:  # it took the conversation over first
            await self.tickets.assigned(conversation_id, staff, staff.id, None)
        await self.tickets.agent_replied(conversation_id, staff)
        return result

    async def add_note(self, staff: cq.StaffRecord, conversation_id: int, text: Any) -> cq.Note:
        text = clean_agent_text(text, MAX_NOTE_CHARS)
        result = await self.store.write(partial(cq.add_note, staff=staff, conversation_id=conversation_id, text=text))
        note = result.note
        assert note is not None
        try:
            await self.bus.publish(
                CONSOLE_TOPIC, {"type": "note", "conversation_id": conversation_id, "note": note_json(note)}
            )
        except Exception:
            log.exception("could not announce a note on conversation %s", conversation_id)
        return note

    async def transfer(
        self, staff: cq.StaffRecord, conversation_id: int, *, to_agent_id: int | None = None, to_team: str | None = None
    ) -> cq.ActionResult:
        target = None
        if to_agent_id is not None:
            target = await self.store.read(cq.fetch_staff, to_agent_id)
            if target is None or not target.active:
                raise cq.ConsoleConflict("unknown_agent", "no active agent with this id")
        elif to_team is None or to_team not in dict(self.tickets.teams()):
            raise cq.ConsoleConflict("unknown_team", "no team with this id")
        before = await self.store.conversation(conversation_id)
        if before is None:
            raise cq.NotVisible(conversation_id)
        texts = self._customer_texts(
            before.lang,
            staff,
            **({"agent_name": target.display_name} if target is not None else {"team_name": self.tickets.team_name(to_team, before.lang) or ""}),
        )
        result = await self._act(staff, conversation_id, cq.transfer, texts=texts, to_agent=target, to_team=to_team)
        if result.changed:
            await self.tickets.assigned(conversation_id, staff, target.id if target else None, to_team)
        return result

    async def hand_back(self, staff: cq.StaffRecord, conversation_id: int) -> cq.ActionResult:
        return await self._act(staff, conversation_id, cq.hand_back)

    async def release(self, staff: cq.StaffRecord, conversation_id: int) -> cq.ActionResult:
        return await self._act(staff, conversation_id, cq.release)

    async def resolve(self, staff: cq.StaffRecord, conversation_id: int) -> cq.ActionResult:
        result = await self._act(staff, conversation_id, cq.resolve)
        if result.changed:
            await self.tickets.resolved(conversation_id, staff)
        return result

    async def set_status(self, staff: cq.StaffRecord, conversation_id: int, status: str) -> cq.ActionResult:
        """The status select: each status is one of the actions above."""
        actions = {
            "with_agent": self.take_over,
            "waiting_for_agent": self.release,
            "bot": self.hand_back,
            "resolved": self.resolve,
        }
        if status not in actions:
            raise cq.ConsoleConflict("invalid_status", "unknown status")
        return await actions[status](staff, conversation_id)

    async def set_fields(self, staff: cq.StaffRecord, conversation_id: int, *, category: str | None, priority: str | None) -> bool:
        if not await self.store.read(cq.can_see, staff, conversation_id):
            raise cq.NotVisible(conversation_id)
        # The ticket's category and priority belong to whoever holds the conversation, as
        # every other action does: another agent asks for a transfer instead of re-timing
        # their colleague's SLA behind their back (admins may).
        current = await self.store.read(cq.holder, conversation_id)
        if not staff.is_admin and current.agent_id not in (None, staff.id):
            raise cq.ConsoleConflict("held_by_other", "another agent holds this conversation", agent_id=current.agent_id)
        changes: dict[str, str] = {}
        if category:
            if category not in dict(self.tickets.categories()):
                raise cq.ConsoleConflict("invalid_category", "unknown category")
            changes["category"] = category
        if priority:
            if priority not in dict(self.tickets.priorities()):
                raise cq.ConsoleConflict("invalid_priority", "unknown priority")
            changes["priority"] = priority
        if not changes:
            return False
        done = await self.tickets.set_fields(conversation_id, staff, **changes)
        if done:
            await self.bus.publish(CONSOLE_TOPIC, {"type": "changed", "conversation_id": conversation_id})
        return done

    # -- canned responses -------------------------------------------------------------------------

    async def canned_for(self, staff: cq.StaffRecord, conversation: ConversationRecord) -> list[dict[str, Any]]:
        """Every canned response with this conversation's placeholders filled in, those in the
        conversation's language (or any) first."""
        canned = await self.store.read(cq.list_canned)
        values, named = await self.placeholder_values(staff, conversation)
        result = []
        for c in canned:
            if c.lang not in (None, conversation.lang):
                continue
            template = c.text if named else _HONORIFIC_BEFORE_NAME.sub(r"\1", c.text)
            text = fill(template, values)
            result.append({
                "id": c.id, "shortcut": c.shortcut, "title": c.title, "text": text,
                "unfilled": unfilled_placeholders(text),
            })
        return result

    async def placeholder_values(self, staff: cq.StaffRecord, conversation: ConversationRecord) -> tuple[dict[str, str], bool]:
        """The placeholders this conversation has a value for (the others stay written as
        ``{name}``, and a reply still holding one is refused), and whether the customer's
        name is known (otherwise ``customer_name`` is the bare "Kak"/"there")."""
        customer = await self.store.customer(conversation.customer_id)
        named = bool(customer and customer.display_name)
        values = {
            "customer_name": (customer.display_name if customer and customer.display_name else ("Kak" if conversation.lang == "id" else "there")),
            "agent_name": staff.display_name,
            "shop_name": self.shop_name,
        }
        if self.orders is not None:
            found = await self.orders.for_customer(conversation.customer_id, limit=1)
            if found:
                order = found[0]
                values.update(
                    order_number=order.number,
                    order_status=ORDER_STATUS_WORDS.get(conversation.lang, ORDER_STATUS_WORDS["id"]).get(order.status, order.status),
                    order_total=rupiah(order.total),
                    courier=order.courier_name,
                )
                if order.tracking_number:  # not shipped yet: no number to fill in
                    values["tracking_number"] = order.tracking_number
        ticket = await self.tickets.active(conversation.id)
        if ticket is not None:
            values["ticket_number"] = ticket.number
        return values, named

    # -- numbers --------------------------------------------------------------------------------

    async def report(self, start: datetime, end: datetime) -> dict[str, Any]:
        rows = await self.store.read(cq.report_rows, start, end)
        ticket_rows = await self.store.read(cq.ticket_report_rows, start, end)
        first, human, wait, resolution, csat = [], [], [], [], []
        handoffs = resolved = bot_only = 0
        per_channel: dict[str, int] = {}
        for channel, status, first_customer, first_response, handoff, first_agent, resolved_at, score in rows:
            per_channel[channel] = per_channel.get(channel, 0) + 1
            if first_customer and first_response:
                first.append((first_response - first_customer).total_seconds())
            if handoff:
                handoffs += 1
                if first_agent:
                    wait.append((first_agent - handoff).total_seconds())
            if first_customer and first_agent:
                human.append((first_agent - first_customer).total_seconds())
            if resolved_at:
                resolved += 1
                if first_customer:
                    resolution.append((resolved_at - first_customer).total_seconds())
            if not handoff:
                bot_only += 1
            if score:
                csat.append(score)

        def stats(values: list[float]) -> dict[str, float | int | None]:
            return {
                "n": len(values),
                "mean": mean(values) if values else None,
                "median": median(values) if values else None,
            }

        return {
            "conversations": len(rows),
            "handoffs": handoffs,
            "resolved": resolved,
            "bot_only": bot_only,
            "per_channel": per_channel,
            "first_response": stats(first),
            "first_human_response": stats(human),
            "wait_for_human": stats(wait),
            "resolution": stats(resolution),
            "csat": {"n": len(csat), "mean": mean(csat) if csat else None,
                     "distribution": {s: csat.count(s) for s in range(1, 6)}},
            "tickets": len(ticket_rows),
            "tickets_by_category": ticket_breakdown(ticket_rows, 0, self.tickets.category_name, datetime.now(UTC)),
            "tickets_by_team": ticket_breakdown(ticket_rows, 1, self.tickets.team_name, datetime.now(UTC)),
        }

    def local(self, at: datetime | None) -> datetime | None:
        return None if at is None else at.astimezone(self.tz)


def ticket_breakdown(
    rows: list[tuple[Any, ...]], by: int, name: Callable[[str], str | None], now: datetime
) -> list[dict[str, Any]]:
    """Tickets grouped by column ``by`` of :func:`cq.ticket_report_rows` (0 category, 1 team),
    most tickets first: how many, resolved, late (the first reply or the resolution after its
    SLA due time, or still missing past it — as the ticket desk counts a breach), and the
    mean first response and resolution times."""
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        _category, _team, created, response_due, resolution_due, responded, resolved = row
        key = row[by]
        group = groups.setdefault(key, {"key": key, "name": name(key) or key, "tickets": 0, "resolved": 0,
                                        "late": 0, "first_response": [], "resolution": []})
        group["tickets"] += 1
        if resolved is not None:
            group["resolved"] += 1
            group["resolution"].append((resolved - created).total_seconds())
        if responded is not None:
            group["first_response"].append((responded - created).total_seconds())
        # Resolved without a reply (handed back to the bot, say): the resolution answered it.
        if (responded or resolved or now) > response_due or (resolved or now) > resolution_due:
            group["late"] += 1
    for group in groups.values():
        group["first_response"] = mean(group["first_response"]) if group["first_response"] else None
        group["resolution"] = mean(group["resolution"]) if group["resolution"] else None
    return sorted(groups.values(), key=lambda g: (-g["tickets"], g["name"]))


def fill(template: str, values: dict[str, str]) -> str:
    """``{placeholder}`` → its value; unknown placeholders stay as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def note_json(note: cq.Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "conversation_id": note.conversation_id,
        "agent_id": note.agent_id,
        "agent_name": note.agent_name,
        "text": note.text,
        "created_at": note.created_at.isoformat(),
    }


def duration(seconds: float | None) -> str:
    """``"45 dtk"``, ``"3 mnt 20 dtk"``, ``"2 jam 5 mnt"``, ``"3 hari 4 jam"``; ``"—"`` for none."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    if s < 60:
        return f"{s} dtk"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} mnt {s} dtk" if s else f"{m} mnt"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h} jam {m} mnt" if m else f"{h} jam"
    d, h = divmod(h, 24)
    return f"{d} hari {h} jam" if h else f"{d} hari"


FIRST_REPORT_DAY = date(1970, 1, 1)
LAST_REPORT_DAY = date(9000, 12, 31)


def day_range(start: str | None, end: str | None, tz: ZoneInfo, default_days: int = 7) -> tuple[datetime, datetime, str, str]:
    """``YYYY-MM-DD`` bounds in the shop's time zone (end inclusive) → UTC ``[start, end)``."""
    today = datetime.now(tz).date()

    def parse(value: str | None, fallback: date) -> date:
        try:
            day = date.fromisoformat(value) if value else fallback
        except ValueError:
            return fallback
        # "0001-01-01" or "9999-12-31" (everything): the bounds below, so that the
        # day after and the zone's offset stay within what datetime can hold.
        return min(max(day, FIRST_REPORT_DAY), LAST_REPORT_DAY)

    last = parse(end, today)
    first = parse(start, last - timedelta(days=default_days - 1))
    if first > last:
        first, last = last, first
    lo = datetime(first.year, first.month, first.day, tzinfo=tz)
    hi = datetime(last.year, last.month, last.day, tzinfo=tz) + timedelta(days=1)
    return lo, hi, first.isoformat(), last.isoformat()

"""Live updates for console tabs: one WebSocket per tab, one hub per worker process.

The hub listens on the bus for

- ``handoff`` (the engine: a customer asked for a person),
- ``console`` (:data:`CONSOLE_TOPIC`: an agent's action, from any worker),
- ``tickets`` (the ticket desk: a ticket opened or changed), and
- ``conversation:<id>`` of every conversation that needs people (waiting for or
  with an agent) or is open on some tab — messages, status changes, typing, ratings,

and turns them into events for the tabs that may see each conversation (the same
visibility rule as the inbox query, evaluated in memory on the cached inbox line):

Server → tab: ``hello`` {agent_id}, ``conversation`` {row} (insert or update an inbox
line), ``remove`` {id}, ``message`` {conversation_id, seq, sender_type, text, ...,
nlu (when the tab has the conversation open)}, ``note`` {conversation_id, note},
``typing`` {conversation_id, who}, ``rating`` {conversation_id, score, comment},
``opened`` {conversation_id, last_seq}, ``error`` {code}, ``pong``.

Tab → server: ``open``/``close`` {conversation_id} (follow one conversation's messages
in full), ``typing`` {conversation_id, on, csrf} (shown in the customer's widget;
needs the session's CSRF token like every state-changing request), ``ping``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from agent_console import auth
from bot.bus import CONVERSATION_TOPIC_PREFIX, RESYNC, BusUnavailable, Event, RedisBus, conversation_topic
from bot.httputil import loads_json
from bot.store import console_queries as cq
from bot.store.columns import MAX_ID
from bot.types import ConversationStatus

if TYPE_CHECKING:
    from agent_console.service import Console

log = logging.getLogger(__name__)

CONSOLE_TOPIC = "console"
TICKETS_TOPIC = "tickets"  # bot.tickets.desk announces ticket changes here
HEARTBEAT_SECONDS = 30.0
RECHECK_SESSION_SECONDS = 60.0
PRESENCE_SECONDS = 60.0
PRESENCE_TTL_SECONDS = 150  # renewed every PRESENCE_SECONDS while a tab is open
MAX_FRAME_BYTES = 16 * 1024
TYPING_EVERY_SECONDS = 1.5  # at most this often per tab, whatever the page sends
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403


def row_json(row: cq.InboxRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "channel": row.channel,
        "lang": row.lang,
        "customer_id": row.customer_id,
        "customer_name": row.customer_name,
        "external_id": row.external_id,
        "created_at": _iso(row.created_at),
        "last_message_at": _iso(row.last_message_at),
        "handoff_at": _iso(row.handoff_at),
        "last_seq": row.last_seq,
        "last_sender": row.last_sender,
        "last_text": (row.last_text or "")[:300],
        "agent_id": row.agent_id,
        "agent_name": row.agent_name,
        "team": row.team,
        "ticket_number": row.ticket_number,
        "category": row.category,
        "priority": row.priority,
        "csat_score": row.csat_score,
    }


def message_json(message: Any) -> dict[str, Any]:
    """A stored message for the console (with the NLU's guess on customer messages)."""
    nlu = message.nlu or {}
    intent = nlu.get("intent") or {}
    return {
        "type": "message",
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "sender_type": message.sender_type,
        "agent_id": message.agent_id,
        "text": message.text,
        "buttons": list(message.buttons or []),
        "attachments": list(message.attachments or []),
        "created_at": _iso(message.created_at),
        "intent": intent.get("name"),
        "confidence": intent.get("confidence"),
        "action": nlu.get("action"),
    }


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


class AgentSocket:
    """One open console tab."""

    def __init__(self, ws: web.WebSocketResponse, session: cq.SessionRecord) -> None:
        self.ws = ws
        self.session = session
        self.staff = session.agent
        self.open: set[int] = set()
        self.typing_at = 0.0

    async def send_raw(self, data: str) -> None:
        if self.ws.closed:
            return
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await self.ws.send_str(data)

    async def send(self, event: dict[str, Any]) -> None:
        await self.send_raw(json.dumps(event, ensure_ascii=False))


class Hub:
    """The worker's live view of conversations needing people, fanned out to its tabs."""

    def __init__(self, console: "Console") -> None:
        self.console = console
        self.store = console.store
        self.bus = console.bus
        self.sockets: set[AgentSocket] = set()
        self.rows: dict[int, cq.InboxRow] = {}
        # Followed conversation topics. In-process bus: one cheap subscription each. Redis:
        # one pattern subscription per worker for every conversation topic, filtered by
        # ``watched`` (a Redis subscription holds a pool connection; one per conversation
        # would run the pool dry).
        self.watches: dict[int, asyncio.Task[None]] = {}
        self.watched: set[int] = set()
        self._pattern = isinstance(self.bus, RedisBus)
        self.staffed_teams: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._started = asyncio.Event()

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self.staffed_teams = await self.store.read(_staffed_teams)
        subscribed = asyncio.Event()
        self._tasks.append(asyncio.create_task(self._main(subscribed), name="console-hub"))
        self._tasks.append(asyncio.create_task(self._presence_loop(), name="console-presence"))
        await subscribed.wait()
        if self._pattern:
            all_subscribed = asyncio.Event()
            self._tasks.append(asyncio.create_task(self._follow_all(all_subscribed), name="console-hub-conversations"))
            await all_subscribed.wait()
        for conversation_id in await self.store.read(cq.needing_people):
            await self.watch(conversation_id)
        rows = await self.store.read(cq.inbox_rows, sorted(self.watched))
        self.rows.update({r.id: r for r in rows})
        self._started.set()

    async def stop(self) -> None:
        for ws in [s.ws for s in self.sockets]:
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"server stopping")
        tasks = [*self._tasks, *self.watches.values()]
        self._tasks.clear()
        self.watches.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _main(self, subscribed: asyncio.Event) -> None:
        missed = False
        while True:
            try:
                async with self.bus.subscribe("handoff", CONSOLE_TOPIC, TICKETS_TOPIC) as subscription:
                    subscribed.set()
                    if missed:
                        missed = False
                        await self.resync()
                    while True:
                        event = await subscription.get()
                        try:
                            await self._on_event(event)
                        except asyncio.CancelledError:
                            raise
                        except Exception:
                            log.exception("console hub: event %r failed", event.get("type"))
            except asyncio.CancelledError:
                raise
            except BusUnavailable:  # Redis is away (the bus logs it once); events meanwhile are lost
                missed = True
                await asyncio.sleep(1.0)
            except Exception:
                log.exception("console hub: bus subscription failed; retrying")
                await asyncio.sleep(1.0)

    # -- watching conversations ------------------------------------------------------------

    async def watch(self, conversation_id: int) -> None:
        """Follow a conversation's topic (idempotent); returns once subscribed."""
        self.watched.add(conversation_id)
        if self._pattern:
            return
        task = self.watches.get(conversation_id)
        if task is not None and not task.done():
            return
        subscribed = asyncio.Event()
        task = asyncio.create_task(self._follow(conversation_id, subscribed), name=f"console-watch-{conversation_id}")
        self.watches[conversation_id] = task
        waiter = asyncio.create_task(subscribed.wait())
        await asyncio.wait({waiter, task}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()

    def _maybe_unwatch(self, conversation_id: int) -> None:
        row = self.rows.get(conversation_id)
        if row is not None and row.status in cq.PEOPLE:
            return
        if any(conversation_id in s.open for s in self.sockets):
            return
        self.watched.discard(conversation_id)
        task = self.watches.pop(conversation_id, None)
        if task is not None:
            task.cancel()
        self.rows.pop(conversation_id, None)

    async def _follow(self, conversation_id: int, subscribed: asyncio.Event) -> None:
        try:
            async with self.bus.subscribe(conversation_topic(conversation_id)) as subscription:
                subscribed.set()
                while True:
                    event = await subscription.get()
                    try:
                        await self._on_conversation_event(conversation_id, event)
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        log.exception("console hub: conversation %s event failed", conversation_id)
        finally:
            if self.watches.get(conversation_id) is asyncio.current_task():
                del self.watches[conversation_id]
                self.watched.discard(conversation_id)

    async def _follow_all(self, subscribed: asyncio.Event) -> None:
        """Redis: every conversation topic through one pattern subscription."""
        missed = False
        while True:
            try:
                async with self.bus.subscribe_prefix(CONVERSATION_TOPIC_PREFIX) as subscription:  # type: ignore[attr-defined]
                    subscribed.set()
                    if missed:
                        missed = False
                        await self.resync()
                    while True:
                        event = await subscription.get()
                        if event.get("type") == RESYNC:
                            await self.resync()
                            continue
                        topic = str(event.get("topic", ""))
                        try:
                            conversation_id = int(topic[len(CONVERSATION_TOPIC_PREFIX):])
                        except ValueError:
                            continue
                        if conversation_id not in self.watched:
                            continue
                        try:
                            await self._on_conversation_event(conversation_id, event)
                        except asyncio.CancelledError:
                            raise
                        except Exception:
                            log.exception("console hub: conversation %s event failed", conversation_id)
            except asyncio.CancelledError:
                raise
            except BusUnavailable:
                missed = True
                await asyncio.sleep(1.0)
            except Exception:
                log.exception("console hub: Redis pattern subscription failed; retrying")
                await asyncio.sleep(1.0)

    # -- events ------------------------------------------------------------------------------

    async def resync(self) -> None:
        """The bus is back after Redis went away and the events published meanwhile are
        lost: re-read every followed conversation, and those that came to need people, and
        send the tabs their lines (a page whose open conversation has new messages fetches them)."""
        self.staffed_teams = await self.store.read(_staffed_teams)
        for conversation_id in await self.store.read(cq.needing_people):
            await self.watch(conversation_id)
        for conversation_id in sorted(self.watched):
            await self.refresh(conversation_id)

    async def _on_event(self, event: Event) -> None:
        kind = event.get("type")
        conversation_id = event.get("conversation_id")
        if kind == RESYNC:
            await self.resync()
        elif kind == "handoff" and isinstance(conversation_id, int):
            await self.watch(conversation_id)
            await self.refresh(conversation_id)
        elif kind == "changed" and isinstance(conversation_id, int):
            await self.refresh(conversation_id)
        elif kind == "note" and isinstance(conversation_id, int):
            await self._to_open(conversation_id, {"type": "note", "conversation_id": conversation_id, "note": event.get("note")})
        elif kind == "staff":
            await self._staff_changed(event)
        elif isinstance(kind, str) and kind.startswith("ticket_"):
            ticket = event.get("ticket") or {}
            if isinstance(ticket.get("conversation_id"), int):
                await self.refresh(ticket["conversation_id"])

    async def _on_conversation_event(self, conversation_id: int, event: Event) -> None:
        kind = event.get("type")
        if kind == "message":
            await self._on_message(conversation_id, event)
        elif kind == "status":
            await self.refresh(conversation_id)
        elif kind == "typing" and event.get("who") == "customer":
            await self._to_open(conversation_id, {"type": "typing", "conversation_id": conversation_id, "who": "customer"})
        elif kind == "rating":
            await self.refresh(conversation_id)
            await self._to_open(
                conversation_id,
                {"type": "rating", "conversation_id": conversation_id, "score": event.get("score"), "comment": event.get("comment")},
            )

    async def _on_message(self, conversation_id: int, event: Event) -> None:
        seq = event.get("seq")
        if not isinstance(seq, int):
            return
        row = self.rows.get(conversation_id)
        if row is None:
            rows = await self.store.read(cq.inbox_rows, [conversation_id])
            if not rows:
                return
            row = rows[0]
        elif seq > row.last_seq:
            row = _with_message(row, event)
        self.rows[conversation_id] = row
        light = {
            "type": "message",
            "conversation_id": conversation_id,
            "seq": seq,
            "sender_type": event.get("sender_type"),
            "text": event.get("text") or "",
            "buttons": list(event.get("buttons") or []),
            "attachments": list(event.get("attachments") or []),
            "created_at": event.get("created_at"),
            "row": row_json(row),
        }
        full = None
        if any(conversation_id in s.open for s in self.sockets):
            found = await self.store.messages(conversation_id, seq - 1, 1)
            if found and found[0].seq == seq:
                full = {**message_json(found[0]), "row": light["row"]}
        light_raw = json.dumps(light, ensure_ascii=False)
        full_raw = json.dumps(full, ensure_ascii=False) if full is not None else light_raw
        await self._fan_out(row, lambda s: full_raw if conversation_id in s.open else light_raw)

    async def refresh(self, conversation_id: int) -> None:
        """Re-read a conversation's inbox line and send it to whoever may see it."""
        rows = await self.store.read(cq.inbox_rows, [conversation_id])
        if not rows:
            return
        row = rows[0]
        self.rows[conversation_id] = row
        if row.status in cq.PEOPLE:
            await self.watch(conversation_id)
        update = json.dumps({"type": "conversation", "row": row_json(row)}, ensure_ascii=False)
        remove = json.dumps({"type": "remove", "id": conversation_id})
        for s in self.sockets:  # transferred out of sight: its page stops following it
            if conversation_id in s.open and not self.visible(s.staff, row):
                s.open.discard(conversation_id)
        await asyncio.gather(
            *(s.send_raw(update if self.visible(s.staff, row) else remove) for s in tuple(self.sockets)),
            return_exceptions=True,
        )
        self._maybe_unwatch(conversation_id)

    async def _fan_out(self, row: cq.InboxRow, payload) -> None:  # type: ignore[no-untyped-def]
        targets = [s for s in tuple(self.sockets) if self.visible(s.staff, row)]
        await asyncio.gather(*(s.send_raw(payload(s)) for s in targets), return_exceptions=True)

    async def _to_open(self, conversation_id: int, event: dict[str, Any]) -> None:
        raw = json.dumps(event, ensure_ascii=False)
        row = self.rows.get(conversation_id)
        targets = [
            s for s in tuple(self.sockets)
            if conversation_id in s.open and (row is None or self.visible(s.staff, row))
        ]
        await asyncio.gather(*(s.send_raw(raw) for s in targets), return_exceptions=True)

    def visible(self, staff: cq.StaffRecord, row: cq.InboxRow) -> bool:
        """The inbox query's visibility rule (:func:`bot.store.console_queries.visible_to`)."""
        return (
            staff.is_admin
            or row.agent_id == staff.id
            or row.team is None
            or row.team in staff.teams
            or row.team not in self.staffed_teams
        )

    async def _staff_changed(self, event: Event) -> None:
        self.staffed_teams = await self.store.read(_staffed_teams)
        agent_id = event.get("agent_id")
        for socket in tuple(self.sockets):
            if agent_id is not None and socket.staff.id != agent_id:
                continue
            session = await self.console.auth.session_for_token_hash(socket.session.id)
            if session is None:
                await socket.ws.close(code=CLOSE_UNAUTHORIZED, message=b"session ended")
            else:
                socket.session, socket.staff = session, session.agent

    async def end_session(self, session_id: str) -> None:
        for socket in tuple(self.sockets):
            if socket.session.id == session_id:
                await socket.ws.close(code=CLOSE_UNAUTHORIZED, message=b"logged out")

    # -- presence (the ticket desk's automatic assignment reads it) ----------------------------

    async def _presence_loop(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_SECONDS)
            try:
                await self._presence_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("console hub: presence round failed")

    async def _presence_once(self) -> None:
        for agent_id in {s.staff.id for s in self.sockets}:
            await self.console.tickets.presence(agent_id, PRESENCE_TTL_SECONDS)
        checked: dict[str, bool] = {}
        for socket in tuple(self.sockets):
            sid = socket.session.id
            if sid not in checked:
                checked[sid] = await self.console.auth.session_for_token_hash(sid, touch=True) is not None
            if not checked[sid]:
                await socket.ws.close(code=CLOSE_UNAUTHORIZED, message=b"session ended")

    # -- one tab ---------------------------------------------------------------------------------

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=MAX_FRAME_BYTES, compress=False)
        await ws.prepare(request)
        if not auth.origin_ok(request) or request.headers.get("Origin") is None:
            await ws.close(code=CLOSE_FORBIDDEN_ORIGIN, message=b"origin not allowed")
            return ws
        session = await self.console.auth.current(request)
        if session is None:
            await ws.close(code=CLOSE_UNAUTHORIZED, message=b"log in first")
            return ws
        await self._started.wait()
        socket = AgentSocket(ws, session)
        self.sockets.add(socket)
        try:
            await socket.send({"type": "hello", "agent_id": session.agent.id})
            await self.console.tickets.presence(session.agent.id, PRESENCE_TTL_SECONDS)
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    try:
                        await self._on_frame(socket, frame.data)
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        log.exception("console socket frame failed (agent %s)", socket.staff.id)
                        await socket.send({"type": "error", "code": "server_error"})
                elif frame.type == WSMsgType.ERROR:
                    break
        finally:
            self.sockets.discard(socket)
            for conversation_id in tuple(socket.open):
                socket.open.discard(conversation_id)
                self._maybe_unwatch(conversation_id)
            if not any(s.staff.id == socket.staff.id for s in self.sockets):
                await self.console.tickets.presence(socket.staff.id, 0)
        return ws

    async def _on_frame(self, socket: AgentSocket, raw: str) -> None:
        try:
            data = loads_json(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            await socket.send({"type": "error", "code": "invalid"})
            return
        kind = data.get("type")
        conversation_id = data.get("conversation_id")
        if isinstance(conversation_id, bool) or not (isinstance(conversation_id, int) and 0 < conversation_id <= MAX_ID):
            conversation_id = None  # not any conversation's id: the frame is invalid below
        if kind == "ping":
            await socket.send({"type": "pong"})
        elif kind == "open" and isinstance(conversation_id, int):
            if not await self.store.read(cq.can_see, socket.staff, conversation_id):
                await socket.send({"type": "error", "code": "not_visible", "conversation_id": conversation_id})
                return
            socket.open.add(conversation_id)
            await self.watch(conversation_id)
            conversation = await self.store.conversation(conversation_id)
            if conversation_id not in self.rows:
                rows = await self.store.read(cq.inbox_rows, [conversation_id])
                if rows:
                    self.rows[conversation_id] = rows[0]
            await socket.send(
                {"type": "opened", "conversation_id": conversation_id, "last_seq": conversation.last_seq if conversation else 0}
            )
        elif kind == "close" and isinstance(conversation_id, int):
            socket.open.discard(conversation_id)
            self._maybe_unwatch(conversation_id)
        elif kind == "typing" and isinstance(conversation_id, int):
            if not auth.same_token(data.get("csrf") if isinstance(data.get("csrf"), str) else None, socket.session.csrf_token):
                await socket.send({"type": "error", "code": "csrf"})
                return
            row = self.rows.get(conversation_id)
            if conversation_id not in socket.open or row is None or row.status != ConversationStatus.WITH_AGENT:
                return
            now = time.monotonic()
            if now - socket.typing_at < TYPING_EVERY_SECONDS:
                return
            socket.typing_at = now
            await self.bus.publish(
                conversation_topic(conversation_id),
                {"type": "typing", "conversation_id": conversation_id, "who": "agent", "on": bool(data.get("on", True))},
            )
        else:
            await socket.send({"type": "error", "code": "invalid"})


def _with_message(row: cq.InboxRow, event: Event) -> cq.InboxRow:
    from dataclasses import replace
    from datetime import datetime

    created = event.get("created_at")
    try:
        at = datetime.fromisoformat(created) if isinstance(created, str) else row.last_message_at
    except ValueError:
        at = row.last_message_at
    return replace(
        row,
        last_seq=int(event["seq"]),
        last_sender=event.get("sender_type"),
        last_text=event.get("text") or "",
        last_message_at=at,
    )


def _staffed_teams(conn: Any) -> set[str]:
    from sqlalchemy import select

    from bot.store.models import team_members

    return {r[0] for r in conn.execute(select(team_members.c.team).distinct())}

"""A small fake Telegram Bot API server on 127.0.0.1, for python-telegram-bot to talk to.

It runs an aiohttp app in a thread of its own (the tests are synchronous and the
server under test is a subprocess), answers the methods Sapa uses the way
Telegram does — ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code",
"description", "parameters"}`` — and records every call. Tests can:

- queue updates for ``getUpdates`` (long polling with offsets: an update is
  dropped once a later call's offset confirms it);
- register files for ``getFile`` and serve their bytes under ``/file/bot<token>/``;
- make the next call(s) of a method fail: a 429 with ``retry_after``, a 5xx, a 403;
- block a chat (every send to it answers 403 "bot was blocked by the user").

As Telegram does, ``getUpdates`` answers 409 Conflict while a webhook is set, and
a new ``getUpdates`` ends one still waiting (which gets 409); :attr:`FakeTelegram.conflicts`
counts those (a waiting request whose client went away does not count), so a test can
tell that only one process polls.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

BOT_ID = 7000001
BOT_USERNAME = "sapa_test_bot"


@dataclass
class Call:
    """One request to the fake: its method, decoded parameters, when, and what it answered."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    result: Any = None


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None
    chat_id: int | None = None


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-token"
    host: str = "127.0.0.1"
    port: int = 0
    calls: list[Call] = field(default_factory=list)
    conflicts: int = 0
    webhook: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self._files: dict[str, tuple[str, bytes]] = {}
        self._failures: dict[str, list[Failure]] = {}
        self._blocked: set[int] = set()
        self._waiting: web.Request | None = None
        self._poll_generation = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new_update: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # -- running -------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        """``TELEGRAM_API_BASE`` for the server under test."""
        return f"http://{self.host}:{self.port}/bot"

    def start(self) -> "FakeTelegram":
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._new_update = asyncio.Event()
            app = web.Application(client_max_size=50 * 1024 * 1024)
            app.router.add_route("*", "/bot{token}/{method}", self._api)
            app.router.add_get("/file/bot{token}/{path:.+}", self._file)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, self.host, self.port)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-telegram", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    # -- what tests do -------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
        if self._loop is not None and self._new_update is not None:
            self._loop.call_soon_threadsafe(self._new_update.set)
        return update["update_id"]

    def next_update_id(self) -> int:
        with self._lock:
            return next(self._update_ids)

    def next_message_id(self) -> int:
        with self._lock:
            return next(self._message_ids)

    def add_file(self, data: bytes, path_hint: str = "photos/file.jpg") -> tuple[str, str]:
        """Make a file downloadable; returns its (file_id, file_unique_id)."""
        with self._lock:
            n = next(self._file_ids)
            file_id = f"FILE{n:06d}"
            stem, _, ext = path_hint.rpartition(".")
            self._files[file_id] = (f"{stem}_{n}.{ext}", data)
        return file_id, f"U{file_id}"

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` (to ``chat_id``, if given) fail."""
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}" if status == 429 else f"Error {status}"
            )
        with self._lock:
            self._failures.setdefault(method, []).extend(
                Failure(status, description, retry_after, chat_id) for _ in range(times)
            )

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def block(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.add(chat_id)

    def calls_of(self, method: str, chat_id: int | None = None, *, ok: bool | None = None) -> list[Call]:
        with self._lock:
            calls = list(self.calls)
        return [
            c
            for c in calls
            if c.method == method
            and (chat_id is None or c.params.get("chat_id") == chat_id)
            and (ok is None or (c.status == 200) == ok)
        ]

    def sent(self, chat_id: int) -> list[Call]:
        """The messages and photos the chat received (acknowledged sends), in order."""
        with self._lock:
            calls = list(self.calls)
        return [
            c
            for c in calls
            if c.method in ("sendMessage", "sendPhoto") and c.status == 200 and c.params.get("chat_id") == chat_id
        ]

    def texts(self, chat_id: int) -> list[str]:
        return [c.params.get("text", "") for c in self.sent(chat_id) if c.method == "sendMessage"]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 45.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what or predicate}; calls: {self._summary()}")

    def wait_sent(self, chat_id: int, count: int, timeout: float = 45.0) -> list[Call]:
        return self.wait_for(
            lambda: (lambda s: s if len(s) >= count else None)(self.sent(chat_id)),
            timeout,
            f"{count} message(s) to chat {chat_id}",
        )

    def _summary(self) -> str:
        with self._lock:
            calls = list(self.calls)[-40:]
        return "\n".join(
            f"  {c.method} {c.status} {json.dumps(c.params, ensure_ascii=False)[:200]}" for c in calls
        )

    # -- the API --------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                params.update(body if isinstance(body, dict) else {})
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = {"file": value.filename, "size": len(value.file.read())}
                    else:
                        params[key] = value
        for key, value in list(params.items()):
            if isinstance(value, str):
                if key in ("chat_id", "offset", "limit", "timeout", "message_id", "max_connections"):
                    try:
                        params[key] = int(value)
                    except ValueError:
                        pass
                elif value[:1] in ("{", "["):
                    try:
                        params[key] = json.loads(value)
                    except ValueError:
                        pass
        return params

    def _record(self, method: str, params: dict[str, Any], status: int, result: Any) -> None:
        with self._lock:
            self.calls.append(Call(method, params, time.monotonic(), status, result))

    def _take_failure(self, method: str, chat_id: Any) -> Failure | None:
        with self._lock:
            queue = self._failures.get(method) or []
            for i, failure in enumerate(queue):
                if failure.chat_id is None or failure.chat_id == chat_id:
                    return queue.pop(i)
            if method in ("sendMessage", "sendPhoto") and chat_id in self._blocked:
                return Failure(403, "Forbidden: bot was blocked by the user")
        return None

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if request.match_info["token"] != self.token:
            self._record(method, params, 401, None)
            return self._error(401, "Unauthorized")
        failure = self._take_failure(method, params.get("chat_id"))
        if failure is not None:
            self._record(method, params, failure.status, None)
            return self._error(failure.status, failure.description, failure.retry_after)
        if method == "getUpdates":
            return await self._get_updates(request, params)
        handler = getattr(self, "_m_" + method, None)
        if handler is None:
            self._record(method, params, 404, None)
            return self._error(404, "Not Found: method not found")
        result = handler(params)
        self._record(method, params, 200, result)
        return web.json_response({"ok": True, "result": result})

    def _error(self, status: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=status)

    async def _get_updates(self, request: web.Request, params: dict[str, Any]) -> web.Response:
        if self.webhook:
            self._record("getUpdates", params, 409, None)
            self.conflicts += 1
            return self._error(409, "Conflict: can't use getUpdates method while webhook is active")
        # As Telegram does: a new getUpdates ends the one still waiting, which gets 409.
        waiting = self._waiting
        if waiting is not None and waiting.transport is not None and not waiting.transport.is_closing():
            self.conflicts += 1
        self._poll_generation += 1
        generation = self._poll_generation
        self._waiting = request
        assert self._new_update is not None
        self._new_update.set()
        await asyncio.sleep(0)
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 30.0)
        while True:
            with self._lock:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = self._updates[:limit]
            if generation != self._poll_generation:
                self._record("getUpdates", params, 409, None)
                return self._error(409, "Conflict: terminated by other getUpdates request")
            left = deadline - time.monotonic()
            if ready or left <= 0:
                break
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), left)
            except asyncio.TimeoutError:
                pass
        if self._waiting is request:
            self._waiting = None
        self._record("getUpdates", params, 200, [u["update_id"] for u in ready])
        return web.json_response({"ok": True, "result": ready})

    async def _file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        with self._lock:
            found = next((data for p, data in self._files.values() if p == path), None)
        self._record("download", {"path": path}, 200 if found is not None else 404, None)
        if request.match_info["token"] != self.token or found is None:
            raise web.HTTPNotFound()
        return web.Response(body=found, content_type="application/octet-stream")

    # -- methods ----------------------------------------------------------------------

    def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Sapa Test",
            "username": BOT_USERNAME,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {"url": params.get("url"), "secret_token": params.get("secret_token")}
        return True

    def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}

    def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    def _m_sendChatAction(self, params: dict[str, Any]) -> bool:
        return True

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": params.get("chat_id"), "type": "private", "first_name": "Customer"}

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(params),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Sapa Test", "username": BOT_USERNAME},
            **extra,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, text=params.get("text", ""))

    def _m_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(
            params,
            photo=[{"file_id": "SENTPHOTO", "file_unique_id": "SENTPHOTO", "width": 10, "height": 10}],
        )

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params, text="")
        message["message_id"] = params.get("message_id")
        return message

    def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id")
        with self._lock:
            path, data = self._files.get(file_id, (None, b""))
        if path is None:
            raise web.HTTPBadRequest(
                text=json.dumps({"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}),
                content_type="application/json",
            )
        return {"file_id": file_id, "file_unique_id": f"U{file_id}", "file_size": len(data), "file_path": path}

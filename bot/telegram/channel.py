"""The Telegram channel adapter: updates in, the outbox out.

**In.** An update arrives by long polling (``TELEGRAM_TOKEN`` without
``TELEGRAM_WEBHOOK_URL``) or by webhook (served by the same aiohttp server,
see :mod:`bot.handlers.telegram`). Either way :meth:`TelegramChannel.handle_update`
turns it into an :class:`~bot.types.IncomingMessage` for the engine — a text, a
pressed quick reply (its payload), a shared contact (its phone number), a photo
(stored under ``DATA_DIR/uploads`` and attached) — or handles the Telegram
commands that are the channel's own business (``/lang``, ``/promo``, ``/stop``).
The message's id is the turn's ``client_id``, so an update Telegram delivers
twice is answered once. Polling confirms an update to Telegram only after it
was processed.

**Out.** Nothing is sent directly. The replies of a turn, messages pushed to a
customer later (an agent's reply, an order notification — announced on the bus
under ``channel_topic("telegram")``) and broadcast copies become rows of the
``telegram_outbox`` table, committed before anything is sent. One process — the
holder of the ``telegram`` lease — polls and sends: each chat's rows go out one
at a time in order, through python-telegram-bot's :class:`~telegram.ext.AIORateLimiter`;
a row is marked sent only once Telegram acknowledged it. ``429 RetryAfter``
pauses sending for the time Telegram asks and then retries the same row; a
network error retries it with backoff; a user who blocked the bot is recorded
(and skipped by broadcasts). A sweep re-reads Telegram conversations beyond
their cursor, so a message committed while nobody listened (another process,
a restart, a lost bus event) still goes out — once, thanks to the rows'
dedupe keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import logging
import os
import random
import secrets
import socket
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from prometheus_client import Counter
from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot import metrics
from bot.bus import BusUnavailable, Event, channel_topic
from bot.config import Settings, secret_key
from bot.flows.context import shop_name
from bot.handlers.widget_uploads import NotAnImage, UploadStore
from bot.runtime import Runtime
from bot.store import StoredMessage
from bot.telegram import CHANNEL, db as tgdb, render
from bot.texts import Texts
from bot.types import LANGS, Attachment, Button, ConversationStatus, IncomingMessage, Lang, OutgoingMessage, TurnResult

log = logging.getLogger(__name__)
# httpx logs every request at INFO with its URL — which holds the bot token.
logging.getLogger("httpx").setLevel(logging.WARNING)
# A 429 is handled here (delayed and retried); the limiter would log it as an error first.
logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)

LEASE_NAME = "telegram"
LEASE_TTL = timedelta(seconds=20)
LEASE_RENEW_SECONDS = 5.0
POLL_TIMEOUT_SECONDS = 25  # long polling: Telegram answers at once when an update comes
POLL_RETRY_SECONDS = 3.0
IDLE_CHECK_SECONDS = 1.0  # the sender's look at the outbox when nothing woke it
SWEEP_SECONDS = 3.0
SWEEP_GRACE = timedelta(seconds=3)  # a turn's own handler enqueues its replies; the sweep waits that long
SWEEP_WINDOW = timedelta(days=7)
MAX_IN_FLIGHT = 16
BROADCAST_RATE = 25  # messages per second, overall (Telegram allows about 30)
SAME_CHAT_SECONDS = 1.0  # a broadcast copy waits this long after anything else sent to its chat
MAX_BACKOFF_SECONDS = 60.0
MAX_PHOTO_BYTES = 20 * 1024 * 1024  # what getFile can download
UPDATE_ATTEMPTS = 3
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
WAKE_TOPIC = "telegram:outbox"
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"

SENDS = Counter(
    "sapa_telegram_sends_total",
    "Telegram sends from the outbox, by result (sent, retry_after, network_error, failed, blocked).",
    ["result"],
    registry=metrics.REGISTRY,
)
UPDATES = Counter(
    "sapa_telegram_updates_total",
    "Telegram updates received, by mode (polling, webhook).",
    ["mode"],
    registry=metrics.REGISTRY,
)
WEBHOOK_REFUSED = Counter(
    "sapa_telegram_webhook_refused_total",
    "Webhook requests refused for a missing or wrong secret token.",
    registry=metrics.REGISTRY,
)


# -- configuration ----------------------------------------------------------------


def file_base_url(api_base: str) -> str:
    """Where files are downloaded, from the Bot API base: ``…/bot`` → ``…/file/bot``."""
    i = api_base.rfind("/bot")
    if i >= 0:
        return api_base[:i] + "/file" + api_base[i:]
    return api_base.rstrip("/") + "/file/bot"


def webhook_url(settings: Settings) -> str | None:
    """The URL given to Telegram; one without a path gets ``/telegram/webhook``."""
    url = settings.telegram_webhook_url
    if not url:
        return None
    parts = urlsplit(url)
    if parts.path in ("", "/"):
        parts = parts._replace(path=DEFAULT_WEBHOOK_PATH)
    return urlunsplit(parts)


def webhook_path(settings: Settings) -> str | None:
    """The path this server answers the webhook on (that of the webhook URL)."""
    url = webhook_url(settings)
    return urlsplit(url).path if url else None


def webhook_secret(settings: Settings) -> str:
    """``TELEGRAM_WEBHOOK_SECRET``, or one derived from the server's secret key and the
    bot token (the same in every worker and across restarts)."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    digest = hmac.new(
        secret_key(settings).encode("utf-8"),
        b"telegram-webhook:" + (settings.telegram_token or "").encode("utf-8"),
        hashlib.sha256,
    ).hexdigest()
    return digest[:48]


def build_application(settings: Settings) -> Application:
    """python-telegram-bot's Application: no Updater (updates come from our own poller or
    the webhook route), an AIORateLimiter on every request."""
    assert settings.telegram_token
    return (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_api_base)
        .base_file_url(file_base_url(settings.telegram_api_base))
        .rate_limiter(AIORateLimiter(overall_max_rate=BROADCAST_RATE, overall_time_period=1, max_retries=0))
        .updater(None)
        .connection_pool_size(MAX_IN_FLIGHT + 8)
        .pool_timeout(30.0)
        .get_updates_read_timeout(10.0)
        .build()
    )


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _retry_after(exc: RetryAfter) -> float:
    return max(0.0, _seconds(exc._retry_after))  # noqa: SLF001 - the public property warns about ints


def _backoff(attempts: int) -> float:
    base = min(MAX_BACKOFF_SECONDS, 2.0 ** min(attempts, 10))
    return base * random.uniform(0.8, 1.2)


# -- the channel ------------------------------------------------------------------------


class TelegramChannel:
    """One per server process. Every process handles webhook updates; the lease
    holder also polls (in polling mode), sends the outbox, sweeps and broadcasts."""

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.settings = settings
        self.store = runtime.store
        self.engine = runtime.engine
        self.bus = runtime.bus
        self.mode = "webhook" if settings.telegram_webhook_url else "polling"
        self.webhook_secret = webhook_secret(settings)
        self.application = build_application(settings)
        self.bot: Bot = self.application.bot
        self.default_lang: Lang = settings.default_lang
        self.texts = Texts.load(runtime.shop.texts, shop_name=shop_name(runtime.shop))
        self.uploads = UploadStore(settings.data_dir / "uploads")
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.ready = asyncio.Event()
        self.leading = False
        self._task: asyncio.Task[None] | None = None
        self._leader_tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self._deliveries: dict[int, asyncio.Task[None]] = {}  # chat id → its send in flight
        self._wake = asyncio.Event()
        self._paused_until = 0.0
        self._last_sent: dict[int, float] = {}
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._started = False
        self._stopping = False

    def text(self, key: str, lang: str, **values: Any) -> str:
        return self.texts.get(key, lang if lang in LANGS else self.default_lang, **values)  # type: ignore[arg-type]

    # -- life cycle ------------------------------------------------------------

    async def start(self) -> None:
        """Start in the background: the server serves at once even if Telegram is unreachable."""
        self._task = asyncio.create_task(self._run(), name="sapa-telegram")

    async def stop(self) -> None:
        """Stop polling and sending (letting sends in flight finish), release the lease,
        shut python-telegram-bot down."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._stop_leading()
        for task in list(self._background):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*self._background, return_exceptions=True), 5)
        if self._started:
            with contextlib.suppress(Exception):
                await self.application.stop()
        with contextlib.suppress(Exception):
            await self.application.shutdown()

    async def _run(self) -> None:
        delay = 1.0
        while True:
            try:
                await self.application.initialize()
                break
            except InvalidToken:
                log.error("Telegram refused TELEGRAM_TOKEN (InvalidToken); the Telegram channel is off")
                return
            except (NetworkError, TelegramError, OSError) as exc:
                log.warning("Telegram Bot API not reachable (%s); retrying in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(60.0, delay * 2)
        await self.application.start()
        self._started = True
        self.ready.set()
        me = self.bot.bot
        log.info("Telegram: @%s in %s mode", me.username if me else "?", self.mode)
        while True:
            try:
                held = await self.store.write(
                    lambda conn, now: tgdb.acquire_lease(
                        conn, now, name=LEASE_NAME, holder=self.holder, ttl=LEASE_TTL
                    )
                )
            except Exception:
                log.exception("could not renew the Telegram lease")
                held = False
            if held and not self.leading:
                await self._start_leading()
            elif not held and self.leading:
                log.warning("Telegram: lost the lease; another process sends now")
                await self._stop_leading()
            await asyncio.sleep(LEASE_RENEW_SECONDS)

    async def _start_leading(self) -> None:
        self.leading = True
        log.info("Telegram: this process (%s) polls and sends", self.holder)
        await self._setup_bot()
        await self._sweep()
        self._leader_tasks = [
            asyncio.create_task(self._send_loop(), name="sapa-telegram-send"),
            asyncio.create_task(self._housekeeping_loop(), name="sapa-telegram-housekeeping"),
            asyncio.create_task(self._bus_loop(), name="sapa-telegram-bus"),
        ]
        if self.mode == "polling":
            self._leader_tasks.append(asyncio.create_task(self._poll_loop(), name="sapa-telegram-poll"))

    async def _stop_leading(self) -> None:
        if not self.leading:
            return
        self.leading = False
        for task in self._leader_tasks:
            task.cancel()
        await asyncio.gather(*self._leader_tasks, return_exceptions=True)
        self._leader_tasks = []
        if self._deliveries:  # let sends Telegram may already have received finish and be recorded
            await asyncio.wait(list(self._deliveries.values()), timeout=5)
        for task in list(self._deliveries.values()):
            task.cancel()
        self._deliveries.clear()
        with contextlib.suppress(Exception):
            await self.store.write(
                lambda conn, now: tgdb.release_lease(conn, now, name=LEASE_NAME, holder=self.holder)
            )

    async def _setup_bot(self) -> None:
        """The command menu, and where updates go (the webhook, or nowhere: we poll)."""
        try:
            for lang in LANGS:
                commands = [("help", self.text("tg_help_command", lang))] + [
                    (line.split(" — ")[0].lstrip("/"), line.split(" — ", 1)[1])
                    for line in self.text("tg_commands", lang).splitlines()
                    if line.startswith("/") and " — " in line
                ]
                await self.bot.set_my_commands(commands, language_code=None if lang == self.default_lang else lang)
        except TelegramError as exc:
            log.warning("Telegram: could not set the command menu: %s", exc)
        try:
            if self.mode == "webhook":
                url = webhook_url(self.settings)
                await self.bot.set_webhook(
                    url=url,  # type: ignore[arg-type]
                    secret_token=self.webhook_secret,
                    allowed_updates=list(ALLOWED_UPDATES),
                    max_connections=40,
                )
                log.info("Telegram: webhook set to %s", url)
            else:
                await self.bot.delete_webhook(drop_pending_updates=False)
        except TelegramError as exc:
            log.error("Telegram: could not set up %s mode: %s", self.mode, exc)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- updates in ------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        offset: int | None = None
        try:
            while True:
                try:
                    updates = await self.bot.get_updates(
                        offset=offset, timeout=POLL_TIMEOUT_SECONDS, allowed_updates=list(ALLOWED_UPDATES)
                    )
                except TimedOut:
                    continue
                except Conflict as exc:
                    log.warning("Telegram: another getUpdates or a webhook is active (%s)", exc)
                    await asyncio.sleep(POLL_RETRY_SECONDS)
                    continue
                except (NetworkError, TelegramError) as exc:
                    log.warning("Telegram: getUpdates failed (%s); retrying", exc)
                    await asyncio.sleep(POLL_RETRY_SECONDS)
                    continue
                if not updates:
                    continue
                UPDATES.labels("polling").inc(len(updates))
                await self._process_batch(updates)
                # Only now does the next getUpdates confirm them to Telegram.
                offset = updates[-1].update_id + 1
        finally:
            if offset is not None:
                # Confirm what was processed, so a restart does not see it again.
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(self.bot.get_updates(offset=offset, timeout=0, limit=1), 3)

    async def _process_batch(self, updates: Sequence[Update]) -> None:
        """Each chat's updates in order; different chats side by side."""
        by_chat: dict[int, list[Update]] = {}
        for update in updates:
            chat = update.effective_chat
            by_chat.setdefault(chat.id if chat else 0, []).append(update)

        async def run(chat_updates: list[Update]) -> None:
            for update in chat_updates:
                attempt = 0
                while attempt < UPDATE_ATTEMPTS:
                    try:
                        await self.handle_update(update)
                        break
                    except asyncio.CancelledError:
                        raise
                    except BusUnavailable:
                        # Redis is away (the bus logs it once) and the turn was not taken: wait
                        # for it, however long, rather than give up on the customer's message
                        # (the offset would confirm it to Telegram, which never sends it again).
                        await asyncio.sleep(POLL_RETRY_SECONDS)
                    except Exception:
                        log.exception("Telegram update %s failed (attempt %d)", update.update_id, attempt + 1)
                        await asyncio.sleep(_backoff(attempt))
                        attempt += 1

        await asyncio.gather(*(run(u) for u in by_chat.values()))

    async def handle_update(self, update: Update) -> None:
        """Process one update; returns once its turn and outbox rows are committed."""
        if update.callback_query is not None:
            query = update.callback_query
            if query.message is None or query.message.chat.type != ChatType.PRIVATE:
                return
            async with self._chat_lock(query.message.chat.id):
                await self._on_callback(query)
        elif update.message is not None:
            message = update.message
            if message.chat.type != ChatType.PRIVATE or message.from_user is None:
                return
            async with self._chat_lock(message.chat.id):
                await self._on_message(message)
        elif update.my_chat_member is not None:
            member = update.my_chat_member
            if member.chat.type == ChatType.PRIVATE:
                blocked = member.new_chat_member.status in ("kicked", "left")
                chat_id = member.chat.id
                if await self.store.read(tgdb.fetch_chat, chat_id) is not None:
                    await self.store.write(
                        lambda conn, now: tgdb.update_chat(
                            conn, now, chat_id=chat_id, blocked_at=now if blocked else None
                        )
                    )

    def _chat_lock(self, chat_id: int) -> asyncio.Lock:
        lock = self._chat_locks.get(chat_id)
        if lock is None:
            if len(self._chat_locks) > 10_000:
                for key, old in list(self._chat_locks.items()):
                    if not old.locked():
                        del self._chat_locks[key]
            lock = self._chat_locks[chat_id] = asyncio.Lock()
        return lock

    async def _chat(self, message: Message) -> tgdb.ChatRecord:
        """The chat's row, created on first contact (its language from the user's
        Telegram language), refreshed when who they are changed or they were blocked."""
        user = message.from_user
        assert user is not None
        chat_id = message.chat.id
        chat = await self.store.read(tgdb.fetch_chat, chat_id)
        if (
            chat is not None
            and chat.blocked_at is None
            and chat.user_id == user.id
            and chat.username == user.username
            and chat.language_code == user.language_code
        ):
            return chat
        fresh = chat is None
        chat = await self.store.write(
            lambda conn, now: tgdb.save_chat(
                conn,
                now,
                chat_id=chat_id,
                user_id=user.id,
                username=user.username,
                language_code=user.language_code,
                lang=render.lang_from_code(user.language_code, self.default_lang),
            )
        )
        if fresh:
            conversation = await self.store.open_conversation(CHANNEL, str(chat_id), chat.lang)
            name = " ".join(filter(None, [user.first_name, user.last_name])).strip()
            if name:
                with contextlib.suppress(Exception):
                    await self.store.update_customer(conversation.customer_id, display_name=name[:255])
        return chat

    async def _on_message(self, message: Message) -> None:
        chat = await self._chat(message)
        client_id = f"tg:{message.message_id}"
        user = message.from_user
        assert user is not None
        if message.contact is not None:
            contact = message.contact
            if contact.user_id is not None and contact.user_id == user.id:
                phone = render.phone_text(contact.phone_number)
                await self._turn(chat, phone, client_id, metadata={"verified_phone": phone}, phone=phone)
            else:
                await self._notices(chat, client_id, [("tg_contact_not_own", None, {"contact": True})])
            return
        if message.photo or (message.document and (message.document.mime_type or "").startswith("image/")):
            attachment = await self._download_image(message)
            if attachment is None:
                await self._notices(chat, client_id, [("tg_photo_failed", None, None)])
                return
            await self._turn(chat, message.caption or "", client_id, attachments=(attachment,))
            return
        text = message.text
        if text is None:
            await self._notices(chat, client_id, [("tg_unsupported", None, None)])
            return
        if text.startswith("/"):
            await self._command(chat, text, client_id)
            return
        await self._turn(chat, text, client_id)

    async def _command(self, chat: tgdb.ChatRecord, text: str, client_id: str) -> None:
        head, _, rest = text.partition(" ")
        name = head[1:].split("@", 1)[0].lower()
        arg = rest.strip()
        lang = chat.lang
        if name == "start":
            engine_text = _deep_link(arg, lang)
            notices: list[tuple[str, Any, Any]] = []
            if arg.lower() == "promo":
                await self._set_promo(chat, True)
                notices.append(("tg_promo_on", None, None))
                engine_text = "/greet"
            elif chat.promo is None:
                notices.append(("tg_promo_ask", _promo_buttons(self, lang), None))
            await self._turn(chat, engine_text, client_id, notices=notices)
        elif name == "help":
            await self._turn(chat, "/help", client_id, notices=[("tg_commands", None, None)])
        elif name == "status":
            order = arg.split()[0] if arg else ""
            await self._turn(chat, _status_text(order, lang) if order else "/order_status", client_id)
        elif name in ("agent", "admin", "human"):
            await self._turn(chat, "/human_handoff", client_id)
        elif name == "lang":
            choice = arg.lower()[:2]
            if choice in LANGS:
                await self._set_lang(chat, choice, client_id)  # type: ignore[arg-type]
            else:
                await self._notices(chat, client_id, [("tg_lang_ask", _lang_buttons(), None)])
        elif name == "promo":
            await self._set_promo(chat, True)
            await self._notices(chat, client_id, [("tg_promo_on", None, None)])
        elif name == "stop":
            await self._set_promo(chat, False)
            await self._notices(chat, client_id, [("tg_promo_off", None, None)])
        else:  # not ours: let the bot read it as text ("/ongkir jakarta")
            await self._turn(chat, text.lstrip("/") or text, client_id)

    async def _on_callback(self, query: CallbackQuery) -> None:
        message = query.message
        assert message is not None
        data = query.data or ""
        if data == render.NOOP:
            self._spawn(self._answer_callback(query))
            return
        chat = await self.store.read(tgdb.fetch_chat, message.chat.id)
        if chat is None:  # pressed in a chat we do not know (a wiped database): start it
            from_user = query.from_user
            chat = await self.store.write(
                lambda conn, now: tgdb.save_chat(
                    conn,
                    now,
                    chat_id=message.chat.id,
                    user_id=from_user.id,
                    username=from_user.username,
                    language_code=from_user.language_code,
                    lang=render.lang_from_code(from_user.language_code, self.default_lang),
                )
            )
        client_id = f"tgcb:{query.id}"
        payload: str | None = data
        if data.startswith(render.TOKEN_PREFIX):
            payload = await self.store.read(tgdb.callback_payload, data[len(render.TOKEN_PREFIX) :])
        if (
            payload is not None
            and render.answers_a_question(payload)
            and not await self.store.read(tgdb.keyboard_is_current, message.chat.id, message.message_id)
        ):
            # Telegram leaves old keyboards pressable (the widget shows only the last one):
            # "➕ Tambah produk" (/affirm) under an old message would answer whatever is
            # asked now — placing the order. Say so, and take the old keyboard away.
            self._spawn(self._answer_callback(query, self.text("tg_button_expired", chat.lang)))
            self._spawn(self._mark_chosen(message.chat.id, message.message_id, None))
            return
        self._spawn(self._answer_callback(query))
        self._spawn(self._mark_chosen(message.chat.id, message.message_id, _pressed_title(query, data)))
        if payload is None:
            return
        if payload.startswith(render.INTERNAL_PREFIX):
            _, _, what = payload.partition(render.INTERNAL_PREFIX)
            kind, _, value = what.partition(":")
            if kind == "lang" and value in LANGS:
                await self._set_lang(chat, value, client_id)  # type: ignore[arg-type]
            elif kind == "promo":
                await self._set_promo(chat, value == "yes")
                await self._notices(
                    chat, client_id, [("tg_promo_on" if value == "yes" else "tg_promo_declined", None, None)]
                )
            elif kind == "rate":
                await self._rate(chat, value, client_id)
            return
        await self._turn(chat, payload, client_id)

    async def _rate(self, chat: Any, value: str, client_id: str) -> None:
        """A star pressed under "rate our service": stored with that conversation, if it is this chat's."""
        conversation_id, _, score = value.partition(":")
        if not (conversation_id.isdigit() and score in ("1", "2", "3", "4", "5")):
            return
        conversation = await self.store.conversation(int(conversation_id))
        if conversation is None or conversation.channel != CHANNEL or conversation.external_id != str(chat.chat_id):
            return  # not theirs: nothing to say about someone else's conversation
        await self.store.save_rating(conversation.id, int(score))
        await self._notices(chat, client_id, [("tg_rating_thanks", None, None)])

    async def _answer_callback(self, query: CallbackQuery, alert: str | None = None) -> None:
        with contextlib.suppress(TelegramError):
            await query.answer(text=alert, show_alert=alert is not None)

    async def _mark_chosen(self, chat_id: int, message_id: int, title: str | None) -> None:
        """Replace a used keyboard with the choice, so it cannot be pressed twice by mistake."""
        markup = (
            InlineKeyboardMarkup([[InlineKeyboardButton(f"✓ {title}", callback_data=render.NOOP)]])
            if title
            else None
        )
        with contextlib.suppress(TelegramError):
            await self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=markup)

    async def _set_lang(self, chat: tgdb.ChatRecord, lang: Lang, client_id: str) -> None:
        await self.store.write(
            lambda conn, now: tgdb.update_chat(conn, now, chat_id=chat.chat_id, lang=lang, lang_fixed=True)
        )
        conversation = await self.store.open_conversation(CHANNEL, str(chat.chat_id), lang)
        with contextlib.suppress(Exception):
            await self.store.update_customer(conversation.customer_id, lang=lang)
        chat = await self.store.read(tgdb.fetch_chat, chat.chat_id)
        assert chat is not None
        await self._notices(chat, client_id, [("tg_lang_set", None, None)])

    async def _set_promo(self, chat: tgdb.ChatRecord, on: bool) -> None:
        await self.store.write(lambda conn, now: tgdb.update_chat(conn, now, chat_id=chat.chat_id, promo=on))

    async def _download_image(self, message: Message) -> Attachment | None:
        """The largest size of a photo (or an image sent as a file) that Telegram lets us download."""
        if message.photo:
            sizes = [p for p in message.photo if (p.file_size or 0) <= MAX_PHOTO_BYTES]
            if not sizes:
                return None
            best = max(sizes, key=lambda p: (p.width * p.height, p.file_size or 0))
            file_id, name = best.file_id, f"telegram-{message.message_id}.jpg"
        else:
            document = message.document
            assert document is not None
            if (document.file_size or 0) > MAX_PHOTO_BYTES:
                return None
            file_id, name = document.file_id, document.file_name or f"telegram-{message.message_id}"
        try:
            file = await self.bot.get_file(file_id)
            data = bytes(await file.download_as_bytearray())
            upload = await self.uploads.save_bytes(data, name, f"telegram:{message.chat.id}")
        except (TelegramError, NotAnImage, OSError) as exc:
            log.warning("Telegram: could not take a photo from chat %s: %s", message.chat.id, exc)
            return None
        return Attachment(kind="image", url=upload.url, name=upload.name)

    async def _typing(self, chat_id: int) -> None:
        with contextlib.suppress(TelegramError):
            await self.bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)

    # -- turns ---------------------------------------------------------------------

    async def _turn(
        self,
        chat: tgdb.ChatRecord,
        text: str,
        client_id: str,
        *,
        attachments: tuple[Attachment, ...] = (),
        metadata: dict[str, Any] | None = None,
        notices: Sequence[tuple[str, Any, Any]] = (),
        phone: str | None = None,
    ) -> TurnResult:
        """One engine turn; its replies (and any notices after them) go into the outbox."""
        # A new conversation starts in the chat's language; the engine then follows what
        # the customer writes, unless they chose a language with /lang.
        conversation = await self.store.open_conversation(CHANNEL, str(chat.chat_id), chat.lang)
        if conversation.status != ConversationStatus.WITH_AGENT:  # an agent holds it: the bot stays quiet
            self._spawn(self._typing(chat.chat_id))
        if phone is not None:
            with contextlib.suppress(Exception):
                await self.store.update_customer(conversation.customer_id, phone=phone)
        result = await self.engine.handle(
            IncomingMessage(
                channel=CHANNEL,
                sender_id=str(chat.chat_id),
                text=text,
                lang_hint=chat.lang if chat.lang_fixed else None,  # type: ignore[arg-type]
                client_id=client_id,
                attachments=attachments,
                metadata={"telegram": {"chat_id": chat.chat_id}, **(metadata or {})},
            )
        )
        lang = result.info.lang
        tokens: dict[str, str] = {}
        drafts = await self._reply_drafts(chat.chat_id, result, tokens)
        extra = self._notice_drafts(chat.chat_id, lang, client_id, notices, tokens, start=len(drafts))
        # The notices (/help's command list, /start's promotions question) follow the turn's
        # first answer (the help text, the greeting): when a flow was waiting, the replies go
        # on with "Lanjut ya, Kak" and its question, which must stay the last thing to answer.
        first = sum(1 for d in itertools.takewhile(lambda d: d.seq == drafts[0].seq, drafts)) if drafts else 0
        drafts[first:first] = extra
        await self._enqueue(drafts, tokens)
        if lang != chat.lang and not chat.lang_fixed and lang in LANGS:
            await self.store.write(lambda conn, now: tgdb.update_chat(conn, now, chat_id=chat.chat_id, lang=lang))
        return result

    async def _reply_drafts(self, chat_id: int, result: TurnResult, tokens: dict[str, str]) -> list[tgdb.Draft]:
        info = result.info
        if info.conversation_id is None or info.customer_seq is None or not result.replies:
            return []
        if result.duplicate:
            # A resend: the replies as stored (they may already be in the outbox; dedupe keys tell).
            stored = await self.store.messages(info.conversation_id, info.customer_seq, 50)
            drafts: list[tgdb.Draft] = []
            for m in stored:
                if m.sender_type == "customer":
                    break
                drafts += self.message_drafts(chat_id, m, info.lang, tokens)
            return drafts
        drafts = []
        for i, reply in enumerate(result.replies):
            drafts += self._drafts(
                chat_id, info.conversation_id, info.customer_seq + 1 + i, reply, info.lang, tokens
            )
        return drafts

    def _drafts(
        self,
        chat_id: int,
        conversation_id: int,
        seq: int,
        message: OutgoingMessage,
        lang: str,
        tokens: dict[str, str],
    ) -> list[tgdb.Draft]:
        parts = render.render(
            message.text,
            [(b.title, b.payload) for b in message.buttons],
            [{"url": a.url, "name": a.name} for a in message.attachments],
            expects=message.expects,
            contact_label=self.text("tg_share_phone_button", lang),
            contact_hint=self.text("tg_share_phone_hint", lang),
            tokens=tokens,
        )
        return [
            tgdb.Draft(
                chat_id=chat_id,
                dedupe_key=f"m:{conversation_id}:{seq}:{n}",
                kind="message",
                payload=part,
                conversation_id=conversation_id,
                seq=seq,
            )
            for n, part in enumerate(parts)
        ]

    def message_drafts(
        self, chat_id: int, message: StoredMessage, lang: str, tokens: dict[str, str]
    ) -> list[tgdb.Draft]:
        """The sends of a stored bot, agent or system message (nothing for a customer's)."""
        if message.sender_type == "customer":
            return []
        outgoing = OutgoingMessage(
            text=message.text,
            buttons=tuple(
                _button(b) for b in message.buttons or () if isinstance(b, dict) and b.get("payload")
            ),
            sender_type=message.sender_type,  # type: ignore[arg-type]
            attachments=tuple(
                Attachment("image", str(a.get("url")), str(a.get("name") or ""))
                for a in message.attachments or ()
                if isinstance(a, dict) and a.get("url")
            ),
        )
        return self._drafts(chat_id, message.conversation_id, message.seq, outgoing, lang, tokens)

    def _notice_drafts(
        self,
        chat_id: int,
        lang: str,
        client_id: str,
        notices: Sequence[tuple[str, Any, Any]],
        tokens: dict[str, str],
        start: int = 0,
    ) -> list[tgdb.Draft]:
        drafts: list[tgdb.Draft] = []
        for n, (key, buttons, extra) in enumerate(notices, start=start):
            markup: dict[str, Any] | None = None
            if buttons:
                markup = render.inline_markup(buttons, tokens)
            elif extra and extra.get("contact"):
                markup = {"contact": self.text("tg_share_phone_button", lang)}
            drafts.append(
                tgdb.Draft(
                    chat_id=chat_id,
                    dedupe_key=f"n:{chat_id}:{client_id}:{n}",
                    kind="notice",
                    payload={"text": self.text(key, lang), "markup": markup},
                )
            )
        return drafts

    async def _notices(
        self, chat: tgdb.ChatRecord, client_id: str, notices: Sequence[tuple[str, Any, Any]]
    ) -> None:
        tokens: dict[str, str] = {}
        await self._enqueue(self._notice_drafts(chat.chat_id, chat.lang, client_id, notices, tokens), tokens)

    async def _enqueue(self, drafts: list[tgdb.Draft], tokens: dict[str, str]) -> None:
        if not drafts:
            return
        await self.store.write(lambda conn, now: tgdb.enqueue(conn, now, drafts=drafts, tokens=tokens))
        self.wake()
        if not self.leading:
            with contextlib.suppress(Exception):
                await self.bus.publish(WAKE_TOPIC, {"type": "outbox"})

    def wake(self) -> None:
        self._wake.set()

    # -- messages pushed later (agents, order notifications) --------------------------

    async def _bus_loop(self) -> None:
        while True:
            try:
                async with self.bus.subscribe(channel_topic(CHANNEL), WAKE_TOPIC) as subscription:
                    while True:
                        event = await subscription.get()
                        try:
                            await self._on_event(event)
                        except asyncio.CancelledError:
                            raise
                        except Exception:
                            log.exception("Telegram: a bus event failed (the sweep will catch up)")
            except asyncio.CancelledError:
                raise
            except BusUnavailable:  # Redis is away (logged once by the bus); the sweep catches up
                await asyncio.sleep(POLL_RETRY_SECONDS)
                continue
            except Exception:
                log.exception("Telegram: bus subscription failed; retrying")
                await asyncio.sleep(POLL_RETRY_SECONDS)

    async def _on_event(self, event: Event) -> None:
        if event.get("type") == "outbox":
            self.wake()
            return
        if event.get("type") != "message" or event.get("sender_type") == "customer":
            return
        conversation_id, seq = event.get("conversation_id"), event.get("seq")
        if not isinstance(conversation_id, int) or not isinstance(seq, int):
            return
        conversation = await self.store.conversation(conversation_id)
        if conversation is None or conversation.channel != CHANNEL:
            return
        chat_id = int(conversation.external_id)
        found = await self.store.messages(conversation_id, seq - 1, 1)
        if not found or found[0].seq != seq:
            return
        stored = found[0]
        tokens: dict[str, str] = {}
        drafts = self.message_drafts(chat_id, stored, conversation.lang, tokens)
        await self._enqueue(drafts, tokens)

    async def _sweep(self) -> None:
        """Enqueue stored messages of Telegram conversations that never reached the outbox."""
        now = self.store.now()
        targets = await self.store.read(tgdb.sweep_targets, now - SWEEP_WINDOW)
        for target in targets:
            try:
                chat_id = int(target.external_id)
            except ValueError:
                continue
            conversation = await self.store.conversation(target.conversation_id)
            lang = conversation.lang if conversation else self.default_lang
            swept = target.swept_seq
            tokens: dict[str, str] = {}
            drafts: list[tgdb.Draft] = []
            for message in await self.store.messages(target.conversation_id, target.swept_seq, 200):
                if message.created_at > now - SWEEP_GRACE:
                    break  # its turn may still be putting it in the outbox, with its keyboard
                drafts += self.message_drafts(chat_id, message, lang, tokens)
                swept = message.seq
            if swept > target.swept_seq:
                await self.store.write(
                    lambda conn, now, target=target, chat_id=chat_id, swept=swept, drafts=drafts, tokens=tokens: (
                        tgdb.advance_cursor(
                            conn,
                            now,
                            conversation_id=target.conversation_id,
                            chat_id=chat_id,
                            swept_seq=swept,
                            drafts=drafts,
                            tokens=tokens,
                        )
                    )
                )
                if drafts:
                    self.wake()

    async def _housekeeping_loop(self) -> None:
        """Start queued broadcasts, close finished ones, sweep."""
        footers = {lang: self.text("tg_broadcast_footer", lang) for lang in LANGS}
        while True:
            try:
                for broadcast_id in await self.store.read(tgdb.queued_broadcasts):
                    count = await self.store.write(
                        lambda conn, now, b=broadcast_id: tgdb.start_broadcast(
                            conn, now, broadcast_id=b, footers=footers
                        )
                    )
                    log.info("Telegram: broadcast %s to %d chats", broadcast_id, count)
                    self.wake()
                for broadcast_id in await self.store.write(tgdb.finish_broadcasts):
                    log.info("Telegram: broadcast %s done", broadcast_id)
                await self._sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Telegram housekeeping failed")
            await asyncio.sleep(SWEEP_SECONDS)

    # -- the outbox out -------------------------------------------------------------

    async def _send_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            pause = self._paused_until - loop.time()
            if pause > 0:
                await asyncio.sleep(pause)
                continue
            wait = IDLE_CHECK_SECONDS
            room = MAX_IN_FLIGHT - len(self._deliveries)
            if room > 0:
                try:
                    due = await self.store.read(
                        lambda conn: tgdb.due_sends(
                            conn, self.store.now(), broadcast_limit=room, skip_chats=tuple(self._deliveries)
                        )
                    )
                except Exception:
                    log.exception("Telegram: could not read the outbox")
                    await asyncio.sleep(IDLE_CHECK_SECONDS)
                    continue
                now = loop.time()
                for send in due.sends[:room]:
                    if send.kind == "broadcast":
                        since = now - self._last_sent.get(send.chat_id, -SAME_CHAT_SECONDS)
                        if since < SAME_CHAT_SECONDS:
                            wait = min(wait, SAME_CHAT_SECONDS - since)
                            continue
                    self._last_sent[send.chat_id] = now
                    task = asyncio.create_task(self._deliver(send))
                    self._deliveries[send.chat_id] = task
                    task.add_done_callback(lambda _t, chat_id=send.chat_id: self._delivered(chat_id))
                if due.next_at is not None:
                    wait = min(wait, max(0.0, (due.next_at - self.store.now()).total_seconds()))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    def _delivered(self, chat_id: int) -> None:
        self._deliveries.pop(chat_id, None)
        if len(self._last_sent) > 50_000:
            self._last_sent.clear()
        self.wake()

    async def _deliver(self, send: tgdb.Send) -> None:
        """One outbox row to Telegram; its fate recorded only after Telegram answered."""
        loop = asyncio.get_running_loop()
        try:
            message_id, keyboard = await self._send(send)
        except RetryAfter as exc:
            delay = _retry_after(exc)
            SENDS.labels("retry_after").inc()
            log.warning("Telegram: flood control, retrying in %.1f s (outbox row %s)", delay, send.id)
            self._paused_until = max(self._paused_until, loop.time() + delay)
            await self._record(
                tgdb.retry_later, outbox_id=send.id, at=self.store.now() + timedelta(seconds=delay), error=str(exc)
            )
        except Forbidden as exc:
            SENDS.labels("blocked").inc()
            log.info("Telegram: chat %s blocked the bot (%s)", send.chat_id, exc)
            await self._record(tgdb.give_up, outbox_id=send.id, chat_id=send.chat_id, status=tgdb.BLOCKED, error=str(exc))
        except BadRequest as exc:  # before NetworkError: BadRequest is one
            SENDS.labels("failed").inc()
            log.error("Telegram refused outbox row %s for chat %s: %s", send.id, send.chat_id, exc)
            await self._record(tgdb.give_up, outbox_id=send.id, chat_id=send.chat_id, status=tgdb.FAILED, error=str(exc))
        except (NetworkError, InvalidToken, TelegramError, OSError) as exc:
            SENDS.labels("network_error").inc()
            delay = _backoff(send.attempts + 1)
            log.warning("Telegram: send failed (%s); retrying row %s in %.0f s", exc, send.id, delay)
            await self._record(
                tgdb.retry_later, outbox_id=send.id, at=self.store.now() + timedelta(seconds=delay), error=repr(exc)
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("Telegram: outbox row %s could not be sent", send.id)
            await self._record(
                tgdb.retry_later,
                outbox_id=send.id,
                at=self.store.now() + timedelta(seconds=_backoff(send.attempts + 1)),
                error=repr(exc),
            )
        else:
            SENDS.labels("sent").inc()
            await self._record(
                tgdb.mark_sent, outbox_id=send.id, chat_id=send.chat_id, message_id=message_id, keyboard=keyboard
            )

    async def _record(self, job: Any, **values: Any) -> None:
        """Write a send's outcome, insisting: a send Telegram took must not be sent again."""
        for attempt in range(5):
            try:
                await self.store.write(lambda conn, now: job(conn, now, **values))
                return
            except Exception:
                log.exception("Telegram: could not record an outbox result (attempt %d)", attempt + 1)
                await asyncio.sleep(0.5 * (attempt + 1))

    async def _send(self, send: tgdb.Send) -> tuple[int | None, bool | None]:
        """Send one row; returns Telegram's message id and whether a reply keyboard is now open
        (None: unchanged)."""
        payload = send.payload
        if "photo" in payload:
            photo = self._photo(str(payload["photo"]))
            if photo is None:
                raise BadRequest(f"image {payload['photo']} not found")
            sent = await self.bot.send_photo(chat_id=send.chat_id, photo=photo, caption=payload.get("caption"))
            return sent.message_id, None
        markup = payload.get("markup") or None
        reply_markup: Any = None
        keyboard: bool | None = None
        if markup is None:
            if send.keyboard_shown and send.kind != "broadcast":
                reply_markup, keyboard = ReplyKeyboardRemove(), False
        elif "inline" in markup:
            reply_markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row] for row in markup["inline"]]
            )
        elif "contact" in markup:
            reply_markup = ReplyKeyboardMarkup(
                [[KeyboardButton(str(markup["contact"]), request_contact=True)]],
                one_time_keyboard=True,
                resize_keyboard=True,
            )
            keyboard = True
        sent = await self.bot.send_message(
            chat_id=send.chat_id,
            text=str(payload.get("text") or ""),
            reply_markup=reply_markup,
            # plain text: no parse_mode, so nothing anyone wrote is read as formatting
        )
        return sent.message_id, keyboard

    def _photo(self, url: str) -> Any:
        """A photo to send: a file of ours (``/widget/uploads/<id>``) or a public URL."""
        prefix = "/widget/uploads/"
        if url.startswith(prefix):
            upload = self.uploads.find(url[len(prefix) :])
            if upload is None:
                return None
            return InputFile(self.uploads.path(upload).read_bytes(), filename=upload.name)
        if url.startswith(("https://", "http://")):
            return url
        return None


# -- helpers ---------------------------------------------------------------------------


def _button(data: dict[str, Any]) -> Button:
    return Button(str(data.get("title") or data.get("payload")), str(data["payload"]))


def _pressed_title(query: CallbackQuery, data: str) -> str | None:
    message = query.message
    markup = getattr(message, "reply_markup", None)
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


def _promo_buttons(channel: TelegramChannel, lang: str) -> list[tuple[str, str]]:
    return [
        (channel.text("tg_promo_yes_button", lang), "tg:promo:yes"),
        (channel.text("tg_promo_no_button", lang), "tg:promo:no"),
    ]


def _lang_buttons() -> list[tuple[str, str]]:
    return [("🇮🇩 Bahasa Indonesia", "tg:lang:id"), ("🇬🇧 English", "tg:lang:en")]


def _status_text(order: str, lang: str) -> str:
    return f"order status {order}" if lang == "en" else f"cek status pesanan {order}"


def _deep_link(arg: str, lang: str) -> str:
    """What a ``t.me/<bot>?start=<payload>`` link asks for, as a message to the bot:
    ``faq-<id>`` an FAQ answer, ``agent`` a person, an order number its status."""
    arg = arg.strip()
    if not arg:
        return "/greet"
    low = arg.lower()
    if low.startswith(("faq-", "faq_")):
        return "/faq/" + arg[4:]
    if low in ("agent", "admin", "human"):
        return "/human_handoff"
    for prefix in ("order-", "order_", "status-", "status_"):
        if low.startswith(prefix):
            return _status_text(arg[len(prefix) :], lang)
    if any(ch.isdigit() for ch in arg):
        return _status_text(arg, lang)
    return "/greet"

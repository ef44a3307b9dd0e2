"""``sapa chat``: the same engine, in a terminal (channel ``terminal``)."""

from __future__ import annotations

import asyncio
import codecs
import os
import sys
import threading

from bot.bus import BusUnavailable
from bot.config import Settings
from bot.runtime import running
from bot.shopdata.model import ShopData
from bot.types import Button, IncomingMessage, Lang

CHANNEL = "terminal"
QUIT_WORDS = {"/quit", "/exit", "/keluar"}


class StdinLines:
    """Standard input, line by line, for the event loop; ``None`` at end of input.

    A daemon thread reads the file descriptor itself. ``sys.stdin.readline`` in the loop's
    executor kept ``asyncio.run`` waiting for that thread at exit, so Ctrl+C did nothing
    until the operator pressed Enter (and a second Ctrl+C printed a traceback); a daemon
    thread is left behind instead. Bytes that are not UTF-8 (a Latin-1 terminal, a pasted
    file) become U+FFFD rather than ending the chat with a UnicodeDecodeError, whatever the
    locale's error handler; and a closed standard input is simply the end of input.
    """

    def __init__(self, fd: int = 0) -> None:
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        threading.Thread(target=self._read, name="sapa-chat-stdin", daemon=True).start()

    async def readline(self) -> str | None:
        return await self._queue.get()

    def _put(self, line: str | None) -> bool:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, line)
        except RuntimeError:  # the loop is closed: the chat has ended
            return False
        return True

    def _read(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except OSError:  # closed (`sapa chat <&-`) or unreadable: the end, as at EOF
                chunk = b""
            pending += decoder.decode(chunk, final=not chunk)
            *lines, pending = pending.split("\n")
            for line in lines:
                if not self._put(line + "\n"):
                    return
            if not chunk:
                if pending:
                    self._put(pending)
                self._put(None)
                return


async def chat(settings: Settings, shop: ShopData, *, sender: str, lang: Lang | None = None) -> int:
    """Read lines from stdin, print the bot's replies; numbered buttons can be picked by number."""
    print(f"Memuat {shop.shop.get('name', 'Sapa')}… / Loading…", flush=True)
    async with running(settings, shop) as runtime:
        print("Ketik pesan (atau /quit untuk keluar). Type a message (or /quit).\n", flush=True)
        buttons: tuple[Button, ...] = ()
        stdin = StdinLines()
        while True:
            print("> ", end="", flush=True)
            line = await stdin.readline()
            if line is None:
                print()
                return 0
            text = line.strip()
            if not text:
                continue
            if text.lower() in QUIT_WORDS:
                return 0
            if text.isdigit() and 1 <= int(text) <= len(buttons):
                text = buttons[int(text) - 1].payload
            try:
                result = await runtime.engine.handle(
                    IncomingMessage(channel=CHANNEL, sender_id=sender, text=text, lang_hint=lang)
                )
            except BusUnavailable:
                # REDIS_URL set and Redis down: the turn was refused before anything was
                # stored, as the widget and REST refuse it (the log line says why). Was a
                # traceback that ended the chat.
                print("  (Redis tidak menjawab; coba kirim lagi nanti / Redis does not answer; send it again later)\n")
                continue
            buttons = ()
            for reply in result.replies:
                print(f"bot: {reply.text}")
                buttons += reply.buttons
            for i, button in enumerate(buttons, 1):
                print(f"  [{i}] {button.title}")
            if result.info.handoff:
                print("  (percakapan diteruskan ke admin / handed over to a person)")
            print(flush=True)

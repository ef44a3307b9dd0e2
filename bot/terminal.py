"""``sapa chat``: the same engine, in a terminal (channel ``terminal``)."""

from __future__ import annotations

import asyncio
import sys

from bot.config import Settings
from bot.runtime import running
from bot.shopdata.model import ShopData
from bot.types import Button, IncomingMessage, Lang

CHANNEL = "terminal"
QUIT_WORDS = {"/quit", "/exit", "/keluar"}


async def chat(settings: Settings, shop: ShopData, *, sender: str, lang: Lang | None = None) -> int:
    """Read lines from stdin, print the bot's replies; numbered buttons can be picked by number."""
    print(f"Memuat {shop.shop.get('name', 'Sapa')}… / Loading…", flush=True)
    async with running(settings, shop) as runtime:
        print("Ketik pesan (atau /quit untuk keluar). Type a message (or /quit).\n", flush=True)
        buttons: tuple[Button, ...] = ()
        loop = asyncio.get_running_loop()
        while True:
            print("> ", end="", flush=True)
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                print()
                return 0
            text = line.strip()
            if not text:
                continue
            if text.lower() in QUIT_WORDS:
                return 0
            if text.isdigit() and 1 <= int(text) <= len(buttons):
                text = buttons[int(text) - 1].payload
            result = await runtime.engine.handle(
                IncomingMessage(channel=CHANNEL, sender_id=sender, text=text, lang_hint=lang)
            )
            buttons = ()
            for reply in result.replies:
                print(f"bot: {reply.text}")
                buttons += reply.buttons
            for i, button in enumerate(buttons, 1):
                print(f"  [{i}] {button.title}")
            if result.info.handoff:
                print("  (percakapan diteruskan ke admin / handed over to a person)")
            print(flush=True)

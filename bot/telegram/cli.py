"""``sapa telegram broadcast | broadcasts | broadcast-report``.

They open the store on ``DATABASE_URL`` (migrating it, like ``sapa run``); the
running server with ``TELEGRAM_TOKEN`` does the sending.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from bot.config import Settings


def add_commands(commands: Any) -> None:
    """Add ``telegram`` to the ``sapa`` parser's sub-commands."""
    telegram = commands.add_parser("telegram", help="Telegram broadcasts (promotions to opted-in customers)")
    sub = telegram.add_subparsers(title="telegram commands", metavar="COMMAND")

    broadcast = sub.add_parser(
        "broadcast", help="send an announcement to the Telegram customers who opted in to promotions"
    )
    broadcast.add_argument("--text", required=True, help='the announcement; "-" reads it from standard input')
    broadcast.add_argument("--lang", choices=("id", "en"), help="only customers chatting in this language")
    broadcast.set_defaults(handler=_broadcast)

    listing = sub.add_parser("broadcasts", help="recent broadcasts with their delivery counts")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_broadcasts)

    report = sub.add_parser("broadcast-report", help="delivery report of one broadcast")
    report.add_argument("id", type=int)
    report.add_argument("--json", action="store_true", help="print JSON")
    report.set_defaults(handler=_report)

    telegram.set_defaults(handler=lambda args: (telegram.print_help(), 2)[1])


def _with_store(fn: Callable[[Any], Awaitable[int]]) -> int:
    from bot.store import Store

    settings = Settings.from_env()

    async def run() -> int:
        store = await Store.open(settings.database_url_async, default_lang=settings.default_lang)
        try:
            return await fn(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _broadcast(args: argparse.Namespace) -> int:
    from bot.telegram import broadcasts

    if args.text == "-":
        # The bytes, decoded strictly: sys.stdin raised a traceback on a Latin-1 file under a
        # strict locale and silently dropped its accented letters under C.UTF-8, so customers
        # got "Diskon caf" for "Diskon café".
        raw = sys.stdin.buffer.read() if sys.stdin is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            print(
                f"sapa: standard input is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                "save it as UTF-8. Nothing was queued.",
                file=sys.stderr,
            )
            return 1
    else:
        text = args.text
    try:
        broadcasts.clean(text, args.lang)
    except broadcasts.InvalidBroadcast as exc:
        print(f"sapa: {exc}", file=sys.stderr)
        return 1

    async def create(store: Any) -> int:
        broadcast_id, audience = await broadcasts.create(
            store, text, args.lang, created_by=f"cli:{os.environ.get('USER') or 'operator'}"
        )
        print(
            f"Broadcast #{broadcast_id} queued for {audience} opted-in Telegram customer(s). "
            f"The running server sends it; see `sapa telegram broadcast-report {broadcast_id}`."
        )
        return 0

    return _with_store(create)


def _broadcasts(args: argparse.Namespace) -> int:
    from bot.telegram import broadcasts

    async def show(store: Any) -> int:
        reports = await broadcasts.recent(store, max(1, args.limit))
        if args.json:
            print(json.dumps([r.as_json() for r in reports], ensure_ascii=False, indent=2))
            return 0
        if not reports:
            print("No broadcasts yet.")
            return 0
        print(f"{'id':>5}  {'status':8} {'created (UTC)':16}  {'to':>5} {'sent':>5} {'failed':>6} {'blocked':>7} {'pending':>7}  text")
        for r in reports:
            preview = r.text.replace("\n", " ")
            preview = preview if len(preview) <= 40 else preview[:39] + "…"
            to = "-" if r.recipients is None else str(r.recipients)
            print(
                f"{r.id:>5}  {r.status:8} {r.created_at:%Y-%m-%d %H:%M}  {to:>5} {r.sent:>5} "
                f"{r.failed:>6} {r.blocked:>7} {r.pending:>7}  {preview}"
            )
        return 0

    return _with_store(show)


def _report(args: argparse.Namespace) -> int:
    from bot.telegram import broadcasts

    async def show(store: Any) -> int:
        report = await broadcasts.report(store, args.id)
        if report is None:
            print(f"sapa: no broadcast #{args.id}", file=sys.stderr)
            return 1
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2) if args.json else broadcasts.format_report(report))
        return 0

    return _with_store(show)

"""``sapa agent add`` and ``sapa order ...``: staff accounts and orders from a shell.

They open the store on ``DATABASE_URL`` (migrating it, like ``sapa run``) and
read the data dir for the shop's texts and order rules. Changes are recorded
with the actor ``cli:<$USER>``; messages to customers go through the outbox,
so a running server's relay delivers them within about a second.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bot.config import Settings

PASSWORD_ENV = "SAPA_AGENT_PASSWORD"


def add_commands(commands: Any, data_dir_arg: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``agent`` and ``order`` to the ``sapa`` parser's sub-commands."""
    agent = commands.add_parser("agent", help="console and admin accounts")
    agent_commands = agent.add_subparsers(title="agent commands", metavar="COMMAND")
    add = agent_commands.add_parser(
        "add", help=f"create an account (password prompted, or from {PASSWORD_ENV})"
    )
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=("agent", "admin"))
    add.add_argument("--name", help="the name shown to colleagues (default: the username)")
    add.set_defaults(handler=_agent_add)
    agent.set_defaults(handler=lambda args: (agent.print_help(), 2)[1])

    order = commands.add_parser("order", help="list, show and update orders")
    order_commands = order.add_subparsers(title="order commands", metavar="COMMAND")

    def sub(name: str, help: str, handler: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        parser = order_commands.add_parser(name, help=help)
        data_dir_arg(parser)
        parser.set_defaults(handler=handler)
        return parser

    listing = sub("list", "orders, newest first", _order_list)
    listing.add_argument("--status", choices=_statuses())
    listing.add_argument("--limit", type=int, default=50)
    show = sub("show", "everything about one order", _order_show)
    show.add_argument("number")
    verify = sub("verify", "the payment arrived: payment submitted → paid", _order_verify)
    verify.add_argument("number")
    verify.add_argument("--note")
    reject = sub("reject", "the payment did not arrive: back to waiting for payment", _order_reject)
    reject.add_argument("number")
    reject.add_argument("--reason", required=True)
    ship = sub("ship", "paid → shipped, with the tracking number", _order_ship)
    ship.add_argument("number")
    ship.add_argument("--tracking", required=True)
    ship.add_argument("--courier")
    deliver = sub("deliver", "shipped → delivered", _order_deliver)
    deliver.add_argument("number")
    cancel = sub("cancel", "cancel an order that has not shipped; releases its stock", _order_cancel)
    cancel.add_argument("number")
    cancel.add_argument("--reason")
    sweep = sub("sweep", "remind and cancel unpaid orders once (as the server does every minute)", _order_sweep)
    sweep.add_argument("--now", type=_now_arg, help="pretend it is this time (ISO-8601; UTC when no offset is given)")
    order.set_defaults(handler=lambda args: (order.print_help(), 2)[1])


def _statuses() -> tuple[str, ...]:
    from bot.orders.records import OrderStatus

    return OrderStatus.ALL


def _actor() -> str:
    return f"cli:{os.environ.get('USER') or 'operator'}"


def _fail(message: str) -> int:
    print(f"sapa: {message}", file=sys.stderr)
    return 1


# -- agent add -----------------------------------------------------------------


def _read_password(username: str) -> str | None:
    password = os.environ.get(PASSWORD_ENV)
    if password is not None:
        return password
    if sys.stdin is None:  # `sapa agent add … <&-`: nothing to read
        return None
    if not sys.stdin.isatty():
        # Decoded here as argv and the environment are (other bytes become lone surrogates,
        # refused below): sys.stdin's own decoding raised a traceback under a strict locale.
        line = sys.stdin.buffer.readline().decode("utf-8", "surrogateescape")
        return line.rstrip("\r\n") if line else None
    first = getpass.getpass(f"Password for {username}: ")
    second = getpass.getpass("Once more: ")
    if first != second:
        print("sapa: the passwords differ", file=sys.stderr)
        return None
    return first


def _agent_add(args: argparse.Namespace) -> int:
    from bot import accounts

    try:
        username = accounts.check_username(args.username)
    except accounts.AccountError as exc:
        return _fail(str(exc))
    from bot.cli import is_utf8

    password = _read_password(username)
    if password is None:
        return _fail(f"no password: type it when asked, or set {PASSWORD_ENV}")
    if not is_utf8(password):
        # argon2 hashes the UTF-8 bytes; lone surrogates were a UnicodeEncodeError traceback.
        return _fail("the password is not UTF-8 text. Nothing was created.")
    try:
        accounts.check_password(password, username)
    except accounts.WeakPassword as exc:
        return _fail(f"{exc}. Nothing was created.")

    async def create(store: Any) -> int:
        try:
            agent = await accounts.create_agent(store, username, password, args.role, args.name)
        except accounts.AccountError as exc:
            return _fail(f"{exc}. Nothing was created.")
        print(f"Created {agent.role} '{agent.username}' ({agent.display_name}).")
        return 0

    return _with_store(create)


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


# -- order ... -------------------------------------------------------------------


def _with_book(args: argparse.Namespace, fn: Callable[[Any], Awaitable[int]]) -> int:
    from bot.cli import _load_shop_or_exit
    from bot.orders.book import InvalidInput, OrderBook
    from bot.orders.records import InvalidTransition, OrderNotFound
    from bot.texts import Texts

    shop = _load_shop_or_exit(args.data_dir)

    async def run(store: Any) -> int:
        # As bot.flows.context.shop_name, without importing the flows (and the NLU) here.
        name = shop.shop.get("name")
        shop_name = name if isinstance(name, str) and name else "toko kami"
        book = OrderBook(store, shop, Texts.load(shop.texts, shop_name=shop_name), None)
        try:
            return await fn(book)
        except OrderNotFound as exc:
            return _fail(f"there is no order {exc.args[0]}")
        except InvalidTransition as exc:
            return _fail(f"{exc.number} is {exc.status}; cannot {exc.action} it")
        except InvalidInput as exc:
            return _fail(str(exc))

    return _with_store(run)


def _order_list(args: argparse.Namespace) -> int:
    from bot.orders.views import order_line_text

    async def run(book: Any) -> int:
        found = await book.list(status=args.status, limit=max(1, args.limit))
        if not found:
            print("No orders" + (f" with status {args.status}." if args.status else "."))
        for order in found:
            print(order_line_text(order))
        return 0

    return _with_book(args, run)


def _order_show(args: argparse.Namespace) -> int:
    from bot.orders.records import OrderNotFound
    from bot.orders.views import order_text

    async def run(book: Any) -> int:
        order = await book.get(args.number)
        if order is None:
            raise OrderNotFound(args.number.strip().upper())
        print(order_text(order))
        return 0

    return _with_book(args, run)


def _changed(args: argparse.Namespace, change: Callable[[Any, str], Awaitable[Any]]) -> int:
    async def run(book: Any) -> int:
        order = await change(book, _actor())
        print(f"{order.number} is now {order.status}.")
        if order.channel == "rest":
            # REST answers only what is asked: the message waits in the conversation.
            print("The customer ordered over REST: they are told with the answer to their next message.")
        else:
            print(f"The customer is told on {order.channel}.")
        return 0

    return _with_book(args, run)


def _order_verify(args: argparse.Namespace) -> int:
    return _changed(args, lambda book, actor: book.verify_payment(args.number, actor, note=args.note))


def _order_reject(args: argparse.Namespace) -> int:
    return _changed(args, lambda book, actor: book.reject_payment(args.number, actor, args.reason))


def _order_ship(args: argparse.Namespace) -> int:
    return _changed(args, lambda book, actor: book.ship(args.number, actor, args.tracking, courier=args.courier))


def _order_deliver(args: argparse.Namespace) -> int:
    return _changed(args, lambda book, actor: book.deliver(args.number, actor))


def _order_cancel(args: argparse.Namespace) -> int:
    return _changed(args, lambda book, actor: book.cancel(args.number, actor, reason=args.reason))


def parse_now(raw: str) -> datetime:
    """ISO-8601; ``Z`` or an offset are honoured, a time without one is UTC."""
    at = datetime.fromisoformat(raw.strip())
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _now_arg(raw: str) -> datetime:
    # A usage error (exit 2, with the usage line) like any other malformed argument.
    try:
        return parse_now(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not an ISO-8601 time like 2026-03-05T14:00:00+07:00") from None


def _order_sweep(args: argparse.Namespace) -> int:
    now = args.now

    async def run(book: Any) -> int:
        swept = await book.sweep_unpaid(now)
        print(f"Reminded: {', '.join(swept.reminded) or 'none'}")
        print(f"Cancelled: {', '.join(swept.cancelled) or 'none'}")
        return 0

    return _with_book(args, run)

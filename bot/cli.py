"""The ``sapa`` command: run, check, nlu test, chat."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from bot.config import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    for arg in argv:
        if not is_utf8(arg):
            # Python decodes such bytes as lone surrogates: they failed deep in the database
            # (a traceback) or were silently dropped from a broadcast's text.
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            parser.error(f"the argument {shown!r} is not UTF-8 text; retype it in a UTF-8 terminal")
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    from bot.store.engines import DatabaseUnavailable

    try:
        return args.handler(args) or 0
    except DatabaseUnavailable as exc:
        # Every command that opens the store (run, chat, agent, order, telegram) meets the
        # same DATABASE_URL mistakes; a traceback would bury the one line that matters.
        print(f"sapa: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Ctrl+C while loading, training or waiting: the operator asked to stop, so no
        # traceback; 130 (128 + SIGINT) as shells report it. Stores were closed on the way
        # out and writes are transactions, so nothing is left half-written.
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `sapa order list | head -3`: the reader left. Later writes (and the interpreter's
        # final flush) would fail again, so stdout goes nowhere from here on.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def is_utf8(text: str) -> bool:
    """Whether ``text`` came from UTF-8 bytes: argv, the environment and a lenient stdin
    turn other bytes into lone surrogates, which no database or Bot API accepts."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sapa", description="Sapa — the shop assistant.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = commands.add_parser("run", help="start the web server (REST, widget, console, Telegram)")
    _data_dir_arg(run)
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=_port, default=8080, help="0-65535 (default: 8080)")
    run.add_argument("--workers", type=_positive, default=1, help="worker processes sharing the port")
    run.set_defaults(handler=_run)

    check = commands.add_parser("check", help="validate every data file")
    _data_dir_arg(check)
    check.set_defaults(handler=_check)

    nlu = commands.add_parser("nlu", help="NLU tools")
    nlu_commands = nlu.add_subparsers(title="nlu commands", metavar="COMMAND")
    nlu_test = nlu_commands.add_parser("test", help="evaluate intent classification on a Rasa NLU file")
    nlu_test.add_argument("--data", required=True, type=Path, help="Rasa-format NLU YAML to test on")
    _data_dir_arg(nlu_test)
    nlu_test.add_argument("--train", type=Path, help="train on this file alone instead of the data dir")
    nlu_test.add_argument("--json", type=Path, dest="json_out", help="write the figures as JSON here")
    nlu_test.set_defaults(handler=_nlu_test)
    nlu.set_defaults(handler=lambda args: (nlu.print_help(), 2)[1])

    chat = commands.add_parser("chat", help="talk to the bot in the terminal")
    _data_dir_arg(chat)
    chat.add_argument("--lang", choices=("id", "en"), help="answer in this language")
    chat.set_defaults(handler=_chat)

    # -- agent add, order ... (bot/cli_orders.py) --
    from bot.cli_orders import add_commands as add_order_commands

    add_order_commands(commands, _data_dir_arg)

    # -- telegram broadcast, broadcasts, broadcast-report (bot/telegram/cli.py) --
    from bot.telegram.cli import add_commands as add_telegram_commands

    add_telegram_commands(commands)
    return parser


def _port(value: str) -> int:
    # The OS takes a port modulo 65536 (99999 became 34463 while the log said 99999).
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 0 and 65535, got {port}")
    return port


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {number}")
    return number


def _data_dir_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="default: ./data")


def _load_shop_or_exit(data_dir: Path):
    """The data dir's contents; on any error, the same ``FILE:LINE`` lines as ``sapa check`` and exit 1."""
    from bot.shopdata.loader import load_shop_checked

    shop, problems = load_shop_checked(data_dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    if shop is None:
        errors = sum(p.is_error for p in problems)
        # Said by run, chat and nlu test alike: what to do, not which command gave up.
        print(f"{errors} problem(s) in {data_dir}; fix them first (`sapa check` lists them).", file=sys.stderr)
        raise SystemExit(1)
    return shop


def _check_redis_url(settings: Settings) -> None:
    """A ``REDIS_URL`` redis-py cannot parse: one line and exit 1, before anything starts.

    It was a ValueError traceback from deep inside the server's startup, after the
    migrations and the NLU training. (A Redis that is down is not refused: the server
    starts and waits for it, as it does when Redis goes away later.)
    """
    if not settings.redis_url:
        return
    from redis.asyncio.connection import parse_url

    try:
        parse_url(settings.redis_url)
    except ValueError as exc:
        # The password masked by hand: urllib raises on the very URLs that land here.
        shown = re.sub(r"(//[^/@]*?:)[^/@]*@", r"\1***@", settings.redis_url)
        print(
            f"sapa: REDIS_URL {shown!r} cannot be used: {exc}; write redis://host:6379/0 "
            "(rediss:// with TLS, unix:///path/to/redis.sock)",
            file=sys.stderr,
        )
        raise SystemExit(1) from None


# -- run -----------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    if args.workers > 1:
        from bot.workermetrics import share_between_workers

        share_between_workers()  # before bot.server imports prometheus_client
    from bot.server import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env(data_dir=args.data_dir, host=args.host, port=args.port, workers=args.workers)
    _check_redis_url(settings)
    shop = _load_shop_or_exit(settings.data_dir)
    _check_secret_key(settings)
    return serve(settings, shop)


def _check_secret_key(settings: Settings) -> None:
    """Make (or read) the key that signs widget tokens and console sessions now, in one place.

    Without SAPA_SECRET_KEY it is kept in the data dir; in a read-only data dir (a mounted
    volume, a checkout owned by another user) the widget died at startup with an OSError
    traceback, after the migrations and the NLU training.
    """
    from bot.config import secret_key

    try:
        secret_key(settings)
    except OSError as exc:
        where = settings.data_dir / ".secret_key"
        print(
            f"sapa: cannot keep the secret key in {where}: {exc.strerror or exc}; "
            "make the data dir writable, or set SAPA_SECRET_KEY",
            file=sys.stderr,
        )
        raise SystemExit(1) from None


# -- check ---------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    from bot.shopdata.loader import load_shop_checked

    shop, problems = load_shop_checked(args.data_dir)
    for problem in problems:
        print(problem)
    errors = sum(p.is_error for p in problems)
    if shop is None or errors:
        print(f"{errors} error(s) found.", file=sys.stderr)
        return 1
    print(
        f"{args.data_dir}: OK — {len(shop.faqs)} FAQ entries, {len(shop.nlu_examples)} NLU examples, "
        f"{len(shop.products)} products."
    )
    return 0


# -- nlu test ------------------------------------------------------------------


def _nlu_test(args: argparse.Namespace) -> int:
    from bot.nlu.model import train_for_shop, train_model
    from bot.nlu.evaluate import evaluate, format_report
    from bot.shopdata.loader import DataError, read_nlu_file

    try:
        test_examples = read_nlu_file(args.data)
        train_examples = read_nlu_file(args.train) if args.train else None
    except DataError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1

    if args.json_out is not None:
        # Found out before training and evaluating, which can take minutes, not after.
        problem = _cannot_write(args.json_out)
        if problem is not None:
            print(f"{args.json_out}: cannot write the JSON report: {problem}", file=sys.stderr)
            return 1

    if train_examples is not None:
        model = train_model(train_examples)
    else:
        model = train_for_shop(_load_shop_or_exit(args.data_dir))
    # As `sapa run` does: the model's objects leave the collector's generations.
    gc.collect()
    gc.freeze()
    report = evaluate(model, test_examples)  # includes the model's own training time
    print(format_report(report))
    _note_untrained_intents(test_examples, model.intents)
    if args.json_out:
        args.json_out.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    return 0


def _note_untrained_intents(test_examples: Sequence[Any], trained: Sequence[str]) -> None:
    """Name the test file's intents that training never saw (a typo such as ``order-status``,
    an FAQ id that is not in the data dir): their examples count as wrong, and the figures
    alone did not say why."""
    from bot.nlu.evaluate import OOS

    known = set(trained) | {OOS}  # out_of_scope is what no confident match is called
    counts = Counter(ex.intent for ex in test_examples if ex.intent not in known)
    if counts:
        listed = ", ".join(f"{name} ({n})" for name, n in sorted(counts.items()))
        print(
            f"note: {sum(counts.values())} test example(s) have an intent the training data does not have, "
            f"so they cannot be predicted right: {listed}",
            file=sys.stderr,
        )


def _cannot_write(path: Path) -> str | None:
    if path.is_dir():
        return "it is a folder"
    folder = path.parent
    if not folder.is_dir():
        return f"the folder {str(folder)!r} does not exist"
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "permission denied"
    return None


# -- chat ----------------------------------------------------------------------


def _chat(args: argparse.Namespace) -> int:
    from bot.terminal import chat

    logging.basicConfig(level=logging.WARNING)
    settings = Settings.from_env(data_dir=args.data_dir)
    _check_redis_url(settings)
    shop = _load_shop_or_exit(settings.data_dir)
    sender = os.environ.get("USER") or "terminal"
    return asyncio.run(chat(settings, shop, sender=sender, lang=args.lang))


if __name__ == "__main__":
    sys.exit(main())

"""The `sapa` command under the conditions an operator's shell, CI or cron gives it:
Ctrl+C, closed or non-UTF-8 standard input, a reader that leaves, broken configuration.
Every test runs the CLI as a subprocess, as an operator would."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import free_port, sapa_env
from tests.test_cli import GOOD_FAQ, sapa, write


def _popen(*args: str, cwd: Path, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=sapa_env(cwd, **(env or {})),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def _read_until(process: subprocess.Popen, marker: bytes, timeout: float = 240) -> bytes:
    """Read the process's stdout until ``marker`` appears (the prompt has no newline)."""
    fd = process.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        assert time.monotonic() < deadline, f"no {marker!r} in {seen!r}"
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            chunk = os.read(fd, 4096)
            assert chunk, f"stdout closed before {marker!r}: {seen!r}; stderr: {process.stderr.read()!r}"
            seen += chunk
    return seen


def _shop(tmp_path: Path) -> None:
    write(tmp_path / "shop" / "faq" / "a.yml", GOOD_FAQ)


# -- Ctrl+C ------------------------------------------------------------------------


def test_ctrl_c_at_the_chat_prompt_ends_the_chat_at_once(tmp_path: Path):
    # Before: Ctrl+C did nothing until Enter was pressed (asyncio.run waited for the thread
    # blocked in stdin.readline), and a second Ctrl+C printed a traceback.
    _shop(tmp_path)
    process = _popen("chat", "--data-dir", "shop", cwd=tmp_path)
    try:
        _read_until(process, b"\n> ")
        process.send_signal(signal.SIGINT)
        # Standard input stays open: nothing but the signal may end the chat.
        returncode = process.wait(timeout=60)
        stderr = process.stderr.read().decode("utf-8", "replace")
    finally:
        process.kill()
        process.wait()
    assert returncode == 130, stderr
    assert "Traceback" not in stderr, stderr


def test_ctrl_c_while_starting_is_no_traceback(tmp_path: Path):
    # The first start trains the NLU model (seconds): Ctrl+C then ended with a traceback.
    _shop(tmp_path)
    process = _popen("chat", "--data-dir", "shop", cwd=tmp_path)
    try:
        _read_until(process, "Memuat".encode())
        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=120)
        stderr = process.stderr.read().decode("utf-8", "replace")
    finally:
        process.kill()
        process.wait()
    assert returncode == 130, stderr
    assert "Traceback" not in stderr, stderr


# -- sapa chat's standard input ------------------------------------------------------


def test_chat_takes_bytes_that_are_not_utf8_under_a_strict_locale(tmp_path: Path):
    # With a locale whose stdin is strict UTF-8 (en_US.UTF-8, id_ID.UTF-8 on servers), a
    # Latin-1 byte ended the chat with a UnicodeDecodeError traceback.
    _shop(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--data-dir", "shop"],
        cwd=tmp_path,
        env=sapa_env(tmp_path, PYTHONIOENCODING="utf-8:strict"),
        input="caf\xe9 halo kak\nbisa bayar pakai apa aja?\n".encode("latin-1"),
        capture_output=True,
        timeout=300,
    )
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    assert "Bisa transfer bank BCA atau e-wallet, Kak." in result.stdout.decode("utf-8")


def test_chat_with_standard_input_closed_ends_like_at_eof(tmp_path: Path):
    # `sapa chat <&-` (a service or cron job without stdin): was an AttributeError traceback.
    _shop(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--data-dir", "shop"],
        cwd=tmp_path,
        env=sapa_env(tmp_path),
        stdin=subprocess.DEVNULL,
        preexec_fn=lambda: os.close(0),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_chat_answers_a_last_line_without_newline_and_skips_blank_lines(tmp_path: Path):
    _shop(tmp_path)
    result = sapa("chat", "--data-dir", "shop", cwd=tmp_path, stdin="\n   \n\nbisa bayar pakai apa aja?")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("bot: ") == 1, result.stdout
    assert "Bisa transfer bank BCA atau e-wallet, Kak." in result.stdout


def test_a_reader_that_leaves_early_is_no_traceback(tmp_path: Path):
    # `sapa chat < questions.txt | head -3`, `sapa order list | head`: the next write after
    # the reader left was a BrokenPipeError traceback.
    _shop(tmp_path)
    process = _popen("chat", "--data-dir", "shop", cwd=tmp_path)
    try:
        _read_until(process, b"\n> ")
        process.stdout.close()  # the reader leaves
        process.stdin.write(b"halo kak\nbisa bayar pakai apa aja?\n")
        process.stdin.close()
        returncode = process.wait(timeout=120)
        stderr = process.stderr.read().decode("utf-8", "replace")
    finally:
        process.kill()
        process.wait()
    assert returncode == 1, stderr
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


# -- configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [("localhost:6379", "'localhost:6379'"), ("redis://:s3cret@cache:63790x/0", "'redis://:***@cache:63790x/0'")],
)
def test_a_redis_url_that_cannot_be_parsed_is_one_line_before_anything_starts(tmp_path: Path, url: str, shown: str):
    # Was a ValueError traceback from inside the server's startup, after migrating and training.
    _shop(tmp_path)
    for args, stdin in ((("run", "--data-dir", "shop", "--port", str(free_port())), None), (("chat", "--data-dir", "shop"), "halo\n")):
        result = sapa(*args, cwd=tmp_path, env={"REDIS_URL": url}, stdin=stdin, timeout=120)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith(f"sapa: REDIS_URL {shown} cannot be used: "), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "s3cret" not in result.stderr
        assert not (tmp_path / "sapa.db").exists()


def _in_read_only(folder: Path, command: list[str]) -> list[str]:
    """``command`` run where ``folder`` cannot be written, even by root (who ignores modes):
    a read-only bind mount in a mount namespace of its own."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return command
    if shutil.which("unshare") is None or subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode:
        pytest.skip("needs unshare --mount to make a folder read-only for root")
    return ["unshare", "--mount", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(folder), *command]


def test_run_with_a_read_only_data_dir_and_no_secret_key_says_what_to_do(tmp_path: Path):
    # The widget made the secret key at startup and died with an OSError traceback
    # (Read-only file system: 'shop/.secret_key.1234.ab12cd34'), after migrating and training.
    _shop(tmp_path)
    shop = tmp_path / "shop"
    command = [sys.executable, "-m", "bot.cli", "run", "--data-dir", "shop", "--port", str(free_port())]
    try:
        result = subprocess.run(
            _in_read_only(shop, command), cwd=tmp_path, env=sapa_env(tmp_path), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=240,
        )
    finally:
        shop.chmod(0o755)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    reason = "Read-only file system" if os.geteuid() == 0 else "Permission denied"
    assert result.stderr.strip() == (
        f"sapa: cannot keep the secret key in shop/.secret_key: {reason}; "
        "make the data dir writable, or set SAPA_SECRET_KEY"
    ), result.stderr
    assert not list(shop.glob(".secret_key*"))


# -- databases Sapa did not migrate ------------------------------------------------------


def test_a_database_migrated_by_a_newer_sapa_is_one_line(tmp_path: Path):
    # A deploy rolled back to an older Sapa: was alembic's "Can't locate revision" traceback.
    _shop(tmp_path)
    first = sapa("order", "list", "--data-dir", "shop", cwd=tmp_path, timeout=120)
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(tmp_path / "sapa.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    for args in (("order", "list", "--data-dir", "shop"), ("run", "--data-dir", "shop", "--port", str(free_port()))):
        result = sapa(*args, cwd=tmp_path, timeout=120)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(
            "sapa: the database at DATABASE_URL 'sqlite:///./sapa.db' has schema revision '0099_from_the_future', "
            "which this Sapa does not know"
        ), last
        assert "newer Sapa" in last, last


def test_a_database_with_tables_named_like_sapas_but_not_sapas_is_one_line(tmp_path: Path):
    # Another application's database (or a copy without alembic_version): was
    # "table orders already exists" with a traceback, after which nothing was created.
    _shop(tmp_path)
    with sqlite3.connect(tmp_path / "other.db") as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)")
        db.execute("INSERT INTO orders (total) VALUES (10.5)")
    result = sapa("order", "list", "--data-dir", "shop", cwd=tmp_path, env={"DATABASE_URL": "sqlite:///other.db"})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip() == (
        "sapa: the database at DATABASE_URL 'sqlite:///other.db' already has tables named like Sapa's (orders) "
        "but no Sapa schema version: point DATABASE_URL at an empty database or at Sapa's own"
    ), result.stderr
    with sqlite3.connect(tmp_path / "other.db") as db:  # the other application's data is untouched
        assert db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == [("orders",)]
        assert db.execute("SELECT total FROM orders").fetchall() == [(10.5,)]


def test_an_empty_database_and_one_with_other_tables_are_migrated(tmp_path: Path):
    # The refusal above is for Sapa's own table names only: a shared database is fine.
    _shop(tmp_path)
    with sqlite3.connect(tmp_path / "shared.db") as db:
        db.execute("CREATE TABLE wp_posts (id INTEGER PRIMARY KEY)")
    result = sapa("order", "list", "--data-dir", "shop", cwd=tmp_path, env={"DATABASE_URL": "sqlite:///shared.db"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "No orders."


# -- text that is not UTF-8 ----------------------------------------------------------------

LATIN1_CAFE = "Diskon caf\udce9 50%"  # "café" typed in a Latin-1 terminal: the byte 0xe9, as Python's argv holds it


def test_a_broadcast_typed_in_a_latin1_terminal_is_refused_not_sent_without_its_letters(tmp_path: Path):
    # Was queued as "Diskon caf 50%" for every opted-in customer: the byte silently dropped.
    result = sapa("telegram", "broadcast", "--text", LATIN1_CAFE, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "sapa: error: the argument 'Diskon caf\ufffd 50%' is not UTF-8 text; retype it in a UTF-8 terminal"
    ), result.stderr
    assert not (tmp_path / "sapa.db").exists()


@pytest.mark.parametrize("encoding", ["utf-8:strict", "utf-8:surrogateescape"])
def test_a_broadcast_read_from_a_latin1_file_is_refused(tmp_path: Path, encoding: str):
    # `sapa telegram broadcast --text - < promo.txt` with promo.txt saved as Latin-1: a
    # UnicodeDecodeError traceback under a strict locale, "Diskon caf 50%" queued under C.UTF-8.
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "telegram", "broadcast", "--text", "-"],
        cwd=tmp_path,
        env=sapa_env(tmp_path, PYTHONIOENCODING=encoding),
        input="Diskon café 50%\n".encode("latin-1"),
        capture_output=True,
        timeout=120,
    )
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 1, stderr
    assert stderr.strip() == (
        "sapa: standard input is not UTF-8 text (byte 0xe9 at offset 10); save it as UTF-8. Nothing was queued."
    ), stderr
    listing = sapa("telegram", "broadcasts", cwd=tmp_path)
    assert listing.stdout.strip() == "No broadcasts yet.", listing.stdout


def test_a_broadcast_read_from_a_utf8_file_keeps_every_letter(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "telegram", "broadcast", "--text", "-"],
        cwd=tmp_path,
        env=sapa_env(tmp_path, PYTHONIOENCODING="utf-8:strict"),
        input="Diskon café 50% 🎉\n".encode("utf-8"),
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = sapa("telegram", "broadcasts", "--json", cwd=tmp_path)
    assert json.loads(report.stdout)[0]["text"] == "Diskon café 50% 🎉"


def test_agent_add_with_a_password_or_name_that_is_not_utf8_says_so(tmp_path: Path):
    # Each was a UnicodeDecodeError or UnicodeEncodeError traceback.
    attempts = [
        (("agent", "add", "rina", "--role", "admin", "--name", "Rina Sek\udce9r"), {"SAPA_AGENT_PASSWORD": "kuda-lumping-77"}, None, 2),
        (("agent", "add", "rina", "--role", "admin"), {"SAPA_AGENT_PASSWORD": "kuda-lumping-\udcff7"}, None, 1),
        (("agent", "add", "rina", "--role", "admin"), {"PYTHONIOENCODING": "utf-8:strict"}, "kuda-lumping-\xff7\n".encode("latin-1"), 1),
    ]
    for args, env, stdin, code in attempts:
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=tmp_path, env=sapa_env(tmp_path, **env), input=stdin, capture_output=True, timeout=120,
        )
        stderr = result.stderr.decode("utf-8", "replace")
        assert result.returncode == code, stderr
        assert "Traceback" not in stderr, stderr
        assert "not UTF-8 text" in stderr.splitlines()[-1], stderr
    listing = sapa("agent", "add", "rina", "--role", "admin", cwd=tmp_path, stdin="kuda-lumping-77\n")
    assert listing.returncode == 0 and "Created admin 'rina'" in listing.stdout, listing.stderr  # nothing was taken


# -- sapa nlu test ---------------------------------------------------------------------


def test_nlu_test_names_the_intents_that_training_never_saw(tmp_path: Path):
    # A typo in the test file ("order-status") or an FAQ id the data dir lacks silently
    # counted as wrong answers: 0% for that intent and no word about why.
    _shop(tmp_path)
    test = write(
        tmp_path / "test.yml",
        'version: "3.1"\nnlu:\n'
        "- intent: greet\n  examples: |\n    - halo kak\n"
        "- intent: order-status\n  examples: |\n    - cek pesanan saya\n    - paket saya sampai mana\n"
        "- intent: faq/payment-methods\n  examples: |\n    - bayar pake apa kak\n"
        "- intent: faq/refund-policy\n  examples: |\n    - bisa refund ga\n"
        "- intent: out_of_scope\n  examples: |\n    - siapa presiden amerika\n",
    )
    result = sapa("nlu", "test", "--data-dir", "shop", "--data", str(test), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("examples            6\n"), result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        "note: 3 test example(s) have an intent the training data does not have, so they cannot be "
        "predicted right: faq/refund-policy (1), order-status (2)"
    ), result.stderr

    known = write(tmp_path / "known.yml", 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - halo kak\n')
    quiet = sapa("nlu", "test", "--data-dir", "shop", "--data", str(known), cwd=tmp_path)
    assert quiet.returncode == 0 and "note:" not in quiet.stderr, quiet.stderr


def test_chat_while_redis_does_not_answer_says_so_and_goes_on(tmp_path: Path):
    # With REDIS_URL set and Redis down, the first message ended the chat with a
    # BusUnavailable traceback. Port 1 on loopback: nothing listens there.
    _shop(tmp_path)
    result = sapa(
        "chat", "--data-dir", "shop", cwd=tmp_path, env={"REDIS_URL": "redis://127.0.0.1:1/0"},
        stdin="halo kak\nbisa bayar pakai apa aja?\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    notice = "(Redis tidak menjawab; coba kirim lagi nanti / Redis does not answer; send it again later)"
    assert result.stdout.count(notice) == 2, result.stdout
    assert "Redis at redis://127.0.0.1:1/0 is unreachable" in result.stderr

"""The `sapa` command as an operator meets it: a subprocess with real files."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import DEMO_DATA, free_port, sapa_env

GOOD_FAQ = """\
version: 1
category: payment
faqs:
  - id: payment-methods
    questions:
      id: ["bisa bayar pakai apa aja", "metode pembayaran apa saja", "bayarnya lewat apa kak"]
      en: ["what payment methods do you accept"]
    answer:
      id: "Bisa transfer bank BCA atau e-wallet, Kak."
      en: "Bank transfer (BCA) or e-wallets."
  - id: shipping-time
    questions:
      id: ["berapa lama pengiriman", "paket sampai berapa hari", "lama kirim ke jakarta"]
      en: ["how long does delivery take"]
    answer:
      id: "Pengiriman 2-4 hari kerja, Kak."
      en: "Delivery takes 2-4 working days."
"""


def sapa(
    *args: str, cwd: Path, stdin: str | None = None, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=sapa_env(cwd, **(env or {})),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def test_check_accepts_the_demo_shop(tmp_path: Path):
    result = sapa("check", "--data-dir", str(DEMO_DATA), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def test_check_reports_file_and_line_and_exits_1(tmp_path: Path):
    data = tmp_path / "shop"
    write(data / "faq" / "a.yml", GOOD_FAQ)
    write(
        data / "faq" / "b.yml",
        "version: 1\ncategory: order\nfaqs:\n  - id: payment-methods\n    questions:\n"
        "      id: [\"x\"]\n    answer:\n      id: \"y\"\n",
    )
    result = sapa("check", "--data-dir", "shop", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("shop/faq/b.yml:4: ") and "payment-methods" in line for line in lines), lines
    assert any(line.startswith("shop/faq/b.yml:") and "en" in line for line in lines), lines


def test_check_reports_bad_yaml(tmp_path: Path):
    write(tmp_path / "shop" / "faq" / "a.yml", "version: 1\nfaqs:\n  - id: [unclosed\n")
    result = sapa("check", "--data-dir", "shop", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("shop/faq/a.yml:")


def test_check_missing_data_dir(tmp_path: Path):
    result = sapa("check", "--data-dir", "nowhere", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("nowhere: ")


def test_run_refuses_to_start_with_the_same_message(tmp_path: Path):
    write(tmp_path / "shop" / "faq" / "a.yml", GOOD_FAQ.replace("answer:\n      id:", "answr:\n      id:", 1))
    result = sapa("run", "--data-dir", "shop", "--port", str(free_port()), cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert "shop/faq/a.yml:" in result.stderr and "answr" in result.stderr
    assert not (tmp_path / "sapa.db").exists()


def test_nlu_test_with_train_file_writes_the_json_contract(tmp_path: Path):
    train = write(
        tmp_path / "train.yml",
        'version: "3.1"\nnlu:\n'
        '- intent: "yes"\n  examples: |\n    - yes please\n    - sure\n    - yeah ok\n    - of course\n'
        '- intent: "no"\n  examples: |\n    - no thanks\n    - nope\n    - not really\n    - no way\n'
        '- intent: weather\n  examples: |\n    - what is the weather\n    - will it rain today\n'
        "    - is it sunny tomorrow\n    - weather forecast please\n",
    )
    test = write(
        tmp_path / "test.yml",
        '# a test file\nversion: "3.1"\nnlu:\n'
        '- intent: "yes"\n  examples: |\n    - yes sure\n'
        '- intent: "no"\n  examples: |\n    - no thank you\n'
        "- intent: weather\n  examples: |\n    - will it rain tomorrow\n",
    )
    out = tmp_path / "report.json"
    result = sapa("nlu", "test", "--train", str(train), "--data", str(test), "--json", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stdout.lower()
    report = json.loads(out.read_text())
    for key in ("n", "accuracy", "macro_f1", "in_scope_accuracy", "oos_precision", "oos_recall",
                "train_seconds", "parse_ms_p50", "parse_ms_p99"):
        assert key in report
    assert report["n"] == 3
    assert report["oos_precision"] is None and report["oos_recall"] is None
    assert 0 <= report["accuracy"] <= 1


def test_nlu_test_on_a_data_dir_includes_the_builtin_intents(tmp_path: Path):
    write(tmp_path / "shop" / "faq" / "a.yml", GOOD_FAQ)
    test = write(
        tmp_path / "test.yml",
        'version: "3.1"\nnlu:\n'
        '- intent: greet\n  examples: |\n    - halo kak\n    - good morning\n'
        '- intent: "faq/payment-methods"\n  examples: |\n    - bayar bisa pake apa kak\n'
        "- intent: out_of_scope\n  examples: |\n    - siapa presiden amerika\n",
    )
    out = tmp_path / "r.json"
    result = sapa("nlu", "test", "--data-dir", "shop", "--data", str(test), "--json", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["n"] == 4
    assert report["oos_recall"] is not None
    assert report["accuracy"] >= 0.75


def test_nlu_test_reports_a_bad_test_file(tmp_path: Path):
    write(tmp_path / "bad.yml", "version: '3.1'\nnlu: [oops\n")
    result = sapa("nlu", "test", "--train", str(tmp_path / "bad.yml"), "--data", str(tmp_path / "bad.yml"), cwd=tmp_path)
    assert result.returncode == 1
    assert "bad.yml:" in result.stderr


def test_chat_in_the_terminal(tmp_path: Path):
    write(tmp_path / "shop" / "faq" / "a.yml", GOOD_FAQ)
    result = sapa("chat", "--data-dir", "shop", cwd=tmp_path, stdin="halo kak\nbisa bayar pakai apa aja?\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "Bisa transfer bank BCA atau e-wallet, Kak." in result.stdout
    assert (tmp_path / "sapa.db").exists()


def test_chat_in_english(tmp_path: Path):
    write(tmp_path / "shop" / "faq" / "a.yml", GOOD_FAQ)
    result = sapa("chat", "--data-dir", "shop", "--lang", "en", cwd=tmp_path, stdin="how long does delivery take?\n")
    assert result.returncode == 0, result.stderr
    assert "Delivery takes 2-4 working days." in result.stdout


def test_help_lists_the_commands(tmp_path: Path):
    result = sapa("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "check", "nlu", "chat"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://shop@db/sapa", "mysql://shop@db/sapa"),
        ("not a url", "not a url"),
        ("sqlite:///no/such/folder/sapa.db", "no/such/folder/sapa.db"),
        ("postgresql://sapa:s3cret@127.0.0.1:1/sapa", "postgresql://sapa:***@127.0.0.1:1/sapa"),
    ],
)
def test_a_database_url_that_cannot_be_used_is_one_clear_line(tmp_path: Path, url: str, expected: str):
    write(tmp_path / "shop" / "faq" / "a.yml", GOOD_FAQ)
    for args in (("order", "list", "--data-dir", "shop"), ("run", "--data-dir", "shop", "--port", str(free_port()))):
        result = sapa(*args, cwd=tmp_path, env={"DATABASE_URL": url}, timeout=120)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("sapa: ") and "DATABASE_URL" in last and expected in last, last
        assert "s3cret" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [("--port", "99999"), ("--port", "-1"), ("--port", "http"), ("--workers", "0"), ("--workers", "-2")],
)
def test_run_refuses_a_port_or_worker_count_that_cannot_be(tmp_path: Path, args: tuple[str, str]):
    result = sapa("run", "--data-dir", str(DEMO_DATA), *args, cwd=tmp_path, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("usage: sapa run"), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "sapa.db").exists()


def test_run_on_a_port_already_taken_says_so(tmp_path: Path):
    write(tmp_path / "shop" / "faq" / "a.yml", GOOD_FAQ)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = sapa("run", "--data-dir", "shop", "--port", str(port), cwd=tmp_path, timeout=240)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"sapa: cannot listen on 127.0.0.1:{port}: ") and "in use" in last, last


def test_run_on_port_0_says_which_port_the_system_picked(tmp_path: Path):
    write(tmp_path / "shop" / "faq" / "a.yml", GOOD_FAQ)
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--data-dir", "shop", "--port", "0"],
            cwd=tmp_path, env=sapa_env(tmp_path), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        deadline, found = time.monotonic() + 240, None
        while found is None and time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"serving on http://127\.0\.0\.1:(\d+)", log.read_text("utf-8", "replace"))
            time.sleep(0.2)
        assert found is not None, log.read_text("utf-8", "replace")
        port = int(found.group(1))
        assert port != 0  # before: "serving on http://127.0.0.1:0", no use to anyone
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_check_and_run_refuse_an_account_number_without_its_leading_zero(tmp_path: Path):
    write(tmp_path / "shop" / "faq" / "a.yml", GOOD_FAQ)
    write(
        tmp_path / "shop" / "shop.yml",
        "version: 1\nname: Toko Kain\nbank_accounts:\n  - {bank: BRI, number: 0123456789, holder: Toko Kain}\n",
    )
    expected = (
        'shop/shop.yml:4: write the \'number\' of an entry of bank_accounts in quotes, like "0123456789": '
        "without them YAML reads it as 123456789"
    )
    check = sapa("check", "--data-dir", "shop", cwd=tmp_path)
    assert check.returncode == 1 and check.stdout.splitlines() == [expected], check.stdout
    run = sapa("run", "--data-dir", "shop", "--port", str(free_port()), cwd=tmp_path, timeout=60)
    assert run.returncode == 1 and expected in run.stderr.splitlines(), run.stderr
    assert "Traceback" not in run.stderr


def test_a_button_with_the_shops_own_intent_starts_its_flow(tmp_path: Path):
    # README: a flow's trigger is built in or has examples in nlu/; a FAQ button may press it.
    write(
        tmp_path / "shop" / "faq" / "a.yml",
        GOOD_FAQ
        + "    buttons:\n"
        + '      - {title: {id: "Klaim garansi", en: "Warranty claim"}, payload: "/warranty_claim"}\n',
    )
    write(
        tmp_path / "shop" / "nlu" / "w.yml",
        'version: "3.1"\nnlu:\n- intent: warranty_claim\n  examples: |\n'
        "    - mau klaim garansi\n    - barang saya rusak mau klaim garansi\n    - warranty claim please\n",
    )
    write(
        tmp_path / "shop" / "flows" / "w.yml",
        "version: 1\nflows:\n  warranty_claim:\n    trigger: warranty_claim\n    finish: action_handoff_details\n"
        "    slots:\n      - name: problem\n        type: text\n        min_length: 10\n"
        '        prompt: {id: "Kerusakannya seperti apa, Kak?", en: "What\'s wrong with it?"}\n',
    )
    result = sapa("chat", "--data-dir", "shop", cwd=tmp_path, stdin="berapa lama pengiriman\n1\n")
    assert result.returncode == 0, result.stderr
    assert "[1] Klaim garansi" in result.stdout
    assert "Kerusakannya seperti apa, Kak?" in result.stdout, result.stdout


def test_nlu_test_refuses_a_json_path_it_cannot_write_before_training(tmp_path: Path):
    data = write(tmp_path / "t.yml", 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - halo kak\n')
    (tmp_path / "out").mkdir()
    for out, reason in (("nodir/r.json", "the folder 'nodir' does not exist"), ("out", "it is a folder")):
        result = sapa("nlu", "test", "--data", str(data), "--train", str(data), "--json", out, cwd=tmp_path)
        assert result.returncode == 1
        assert result.stderr.strip() == f"{out}: cannot write the JSON report: {reason}", result.stderr
        assert result.stdout == ""

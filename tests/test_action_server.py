"""The same actions served to an existing Rasa assistant by the rasa-sdk action server."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
import json

import pytest

from tests.conftest import DEMO_DATA, free_port, sapa_env


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("action-server")
    port = free_port()
    log = (workdir / "actions.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "bot.flows", "--port", str(port)],
        cwd=workdir,
        env=sapa_env(workdir, SAPA_DATA_DIR=str(DEMO_DATA)),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((workdir / "actions.log").read_text())
            try:
                with urllib.request.urlopen(base + "/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def call(base: str, action: str, intent: str, slots: dict) -> dict:
    body = {
        "next_action": action,
        "sender_id": "rasa-user",
        "tracker": {
            "sender_id": "rasa-user",
            "slots": slots,
            "latest_message": {"intent": {"name": intent, "confidence": 0.9}, "text": "…"},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        },
        "domain": {},
    }
    request = urllib.request.Request(
        base + "/webhook", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.loads(r.read())


def test_the_action_server_lists_sapas_actions(action_server: str):
    with urllib.request.urlopen(action_server + "/actions", timeout=5) as r:
        names = {a["name"] for a in json.loads(r.read())}
    assert {"action_answer_faq", "action_clarify", "action_fallback", "action_handoff", "action_small_talk",
            "action_not_yet_available"} <= names


def test_faq_answer_through_the_action_server(action_server: str):
    result = call(action_server, "action_answer_faq", "faq/payment-methods", {"lang": "en"})
    (response,) = result["responses"]
    assert "bank transfer" in response["text"].lower()
    assert {"event": "slot", "timestamp": None, "name": "misses", "value": 0} in result["events"]


def test_second_fallback_sets_the_handoff_slot(action_server: str):
    result = call(action_server, "action_fallback", "out_of_scope", {"lang": "id", "misses": 1})
    assert {"event": "slot", "timestamp": None, "name": "handoff", "value": True} in result["events"]
    assert "admin" in result["responses"][0]["text"]

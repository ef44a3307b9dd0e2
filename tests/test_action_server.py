"""The same actions served to an existing Rasa assistant by the rasa-sdk action server."""

from __future__ import annotations

import contextlib
import os
import signal
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
        start_new_session=True,  # its own process group: sanic's worker processes stop with it
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
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # sanic's graceful shutdown can stall on a loaded machine
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # a worker process left behind
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


def test_a_flow_validation_action_round_trip(action_server: str):
    """Rasa's form loop calls validate_place_order_form with the requested slot's candidate."""
    body = {
        "next_action": "validate_place_order_form",
        "sender_id": "rasa-user",
        "tracker": {
            "sender_id": "rasa-user",
            "slots": {"lang": "id", "flow": "place_order", "requested_slot": "phone", "phone": "+62 812-3456-7890"},
            "latest_message": {"intent": {"name": "out_of_scope", "confidence": 0.5}, "text": "+62 812-3456-7890", "entities": []},
            "events": [
                {"event": "user", "text": "+62 812-3456-7890"},
                {"event": "slot", "name": "phone", "value": "+62 812-3456-7890"},
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": "place_order_form"},
            "latest_action_name": "action_listen",
        },
        "domain": {"forms": {"place_order_form": {"required_slots": ["product", "phone"]}}, "slots": {}},
    }
    request = urllib.request.Request(
        action_server + "/webhook", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        result = json.loads(r.read())
    assert {"event": "slot", "timestamp": None, "name": "phone", "value": "081234567890"} in result["events"]

    body["tracker"]["events"][-1]["value"] = "12345"
    body["tracker"]["latest_message"]["text"] = "12345"
    request = urllib.request.Request(
        action_server + "/webhook", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        result = json.loads(r.read())
    assert {"event": "slot", "timestamp": None, "name": "phone", "value": None} in result["events"]
    assert "0812" in result["responses"][0]["text"]  # the reason, with an example


def test_the_action_server_serves_the_flow_actions(action_server: str):
    with urllib.request.urlopen(action_server + "/actions", timeout=5) as r:
        names = {a["name"] for a in json.loads(r.read())}
    assert {"validate_place_order_form", "validate_payment_confirmation_form", "validate_order_status_form",
            "action_ask_flow_slot", "action_place_order", "action_confirm_payment", "action_order_status"} <= names

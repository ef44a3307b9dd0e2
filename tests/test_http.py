"""The HTTP contracts against a real `sapa run` (demo shop, SQLite file)."""

from __future__ import annotations

import json
import sqlite3
import uuid

import aiohttp
import pytest

from tests.conftest import RunningServer, start_server

WEBHOOK = "/webhooks/rest/webhook"
CUSTOM_KEYS = {"intent", "confidence", "faq_id", "lang", "handoff", "ticket_id"}


async def post(server: RunningServer, path: str, body) -> tuple[int, object]:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    async with aiohttp.ClientSession() as session:
        async with session.post(server.base + path, data=data, headers={"Content-Type": "application/json"}) as r:
            return r.status, await r.json(content_type=None)


async def say(server: RunningServer, sender: str, text: str, **metadata) -> list[dict]:
    body = {"sender": sender, "message": text}
    if metadata:
        body["metadata"] = metadata
    status, replies = await post(server, WEBHOOK, body)
    assert status == 200, replies
    return replies


def sender() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


async def test_healthz(demo_server: RunningServer):
    async with aiohttp.ClientSession() as session:
        async with session.get(demo_server.base + "/healthz") as r:
            assert r.status == 200
            assert await r.json() == {"status": "ok"}


async def test_faq_in_indonesian_is_answered_in_indonesian(demo_server: RunningServer):
    who = sender()
    replies = await say(demo_server, who, "kak bisa bayar pakai apa aja?")
    assert len(replies) >= 1
    first = replies[0]
    assert first["recipient_id"] == who
    assert CUSTOM_KEYS <= set(first["custom"])
    custom = first["custom"]
    assert custom["lang"] == "id"
    assert custom["intent"] == f"faq/{custom['faq_id']}"
    assert custom["faq_id"] is not None and "pay" in custom["faq_id"]
    assert custom["handoff"] is False and custom["ticket_id"] is None
    assert isinstance(first["buttons"], list)


async def test_faq_in_english_is_answered_in_english(demo_server: RunningServer):
    replies = await say(demo_server, sender(), "What payment methods do you accept?")
    custom = replies[0]["custom"]
    assert custom["lang"] == "en"
    assert custom["faq_id"] is not None and "pay" in custom["faq_id"]


async def test_greeting_both_languages(demo_server: RunningServer):
    assert (await say(demo_server, sender(), "halo kak"))[0]["custom"]["intent"] == "greet"
    replies = await say(demo_server, sender(), "good morning")
    assert replies[0]["custom"]["intent"] == "greet"
    assert replies[0]["custom"]["lang"] == "en"
    assert "welcome" in replies[0]["text"].lower()


async def test_two_misses_in_a_row_hand_over(demo_server: RunningServer):
    who = sender()
    first = await say(demo_server, who, "siapa pemenang piala dunia tahun 1998?")
    assert first[0]["custom"]["intent"] == "out_of_scope"
    assert first[0]["custom"]["handoff"] is False
    second = await say(demo_server, who, "resep rendang padang yang enak gimana")
    assert second[0]["custom"]["handoff"] is True
    assert second[0]["custom"]["status"] == "waiting_for_agent"


async def test_button_payload_selects_the_faq(demo_server: RunningServer):
    status, parse = await post(demo_server, "/model/parse", {"text": "berapa ongkir ke surabaya"})
    faq_id = parse["faq"]["id"] if parse["faq"] else "payment-methods"
    replies = await say(demo_server, sender(), f"/faq/{faq_id}")
    assert replies[0]["custom"]["faq_id"] == faq_id
    assert replies[0]["custom"]["confidence"] == 1.0


async def test_metadata_lang_forces_the_reply_language(demo_server: RunningServer):
    replies = await say(demo_server, sender(), "halo", lang="en")
    assert replies[0]["custom"]["lang"] == "en"


async def test_resent_message_id_is_answered_once(demo_server: RunningServer):
    who = sender()
    first = await say(demo_server, who, "bisa cod gak kak", message_id="m-1")
    again = await say(demo_server, who, "bisa cod gak kak", message_id="m-1")
    assert [r["text"] for r in again] == [r["text"] for r in first]


async def test_model_parse_shape(demo_server: RunningServer):
    status, body = await post(demo_server, "/model/parse", {"text": "kak, ongkir ke sby brp ya?"})
    assert status == 200
    assert set(body) >= {"text", "lang", "intent", "intent_ranking", "entities", "faq"}
    assert body["text"] == "kak, ongkir ke sby brp ya?"
    assert body["lang"] == "id"
    assert set(body["intent"]) == {"name", "confidence"}
    assert 0.0 <= body["intent"]["confidence"] <= 1.0
    assert body["intent_ranking"] and all(set(r) == {"name", "confidence"} for r in body["intent_ranking"])
    if body["faq"] is not None:
        assert body["intent"]["name"] == f"faq/{body['faq']['id']}"
        assert set(body["faq"]) == {"id", "score"}


async def test_model_parse_entities_have_offsets(demo_server: RunningServer):
    text = "pesanan SP-2026-000123 atas nama budi@example.com, hp 0812-3456-7890"
    status, body = await post(demo_server, "/model/parse", {"text": text, "lang": "id"})
    assert status == 200
    found = {e["entity"]: e for e in body["entities"]}
    assert found["order_number"]["value"] == "SP-2026-000123"
    assert text[found["order_number"]["start"] : found["order_number"]["end"]] == "SP-2026-000123"
    assert found["email"]["value"] == "budi@example.com"
    assert "phone" in found


async def test_out_of_scope_parse(demo_server: RunningServer):
    status, body = await post(demo_server, "/model/parse", {"text": "what is the capital of mongolia"})
    assert status == 200
    assert body["intent"]["name"] == "out_of_scope"
    assert body["faq"] is None


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"", 400, "empty_body"),
        (b"{not json", 400, "invalid_json"),
        (b"\xff\xfe\x00garbage", 400, "invalid_encoding"),
        (b"[1, 2, 3]", 400, "invalid_type"),
        (b'"just a string"', 400, "invalid_type"),
        ({"message": "halo"}, 400, "invalid_sender"),
        ({"sender": "", "message": "halo"}, 400, "invalid_sender"),
        ({"sender": ["x"], "message": "halo"}, 400, "invalid_sender"),
        ({"sender": "x" * 500, "message": "halo"}, 400, "invalid_sender"),
        ({"sender": "a"}, 400, "missing_field"),
        ({"sender": "a", "message": 42}, 400, "invalid_type"),
        ({"sender": "a", "message": None}, 400, "missing_field"),
        ({"sender": "a", "message": "   "}, 400, "empty_field"),
        ({"sender": "a", "message": "\u200b\u200f \ufeff"}, 400, "empty_field"),  # invisible only
        ({"sender": "a", "message": "x" * 4097}, 413, "text_too_long"),
        ({"sender": "a", "message": "é" * 2100}, 413, "text_too_long"),
        ({"sender": "a", "message": "halo", "metadata": "nope"}, 400, "invalid_type"),
        ({"sender": "a", "message": "a\u0000b"}, 400, "invalid_text"),
        (b'{"sender": "a", "message": "\\ud800"}', 400, "invalid_text"),
        (b'{"sender": "a", "message": "' + b"x" * 70000 + b'"}', 413, "payload_too_large"),
        # Within 64 KB but thousands of levels deep: the parser's recursion limit, not a 500.
        pytest.param(b"[" * 30000 + b"]" * 30000, 400, "invalid_json", id="deep-array"),
        pytest.param(b'{"a":' * 1500 + b"1" + b"}" * 1500, 400, "invalid_json", id="deep-object"),
        # An integer past Python's 4,300-digit conversion limit.
        pytest.param(
            b'{"sender": "a", "message": "hi", "metadata": {"message_id": 1' + b"0" * 5000 + b"}}", 400, "invalid_json",
            id="5000-digit-int",
        ),
    ],
)
async def test_bad_webhook_input_gets_a_clear_4xx(demo_server: RunningServer, body, status, code):
    got_status, got = await post(demo_server, WEBHOOK, body)
    assert got_status == status, got
    assert got["error"] == code
    assert got["message"]


@pytest.mark.parametrize(
    "body, status",
    [
        (b"", 400),
        ({"text": 5}, 400),
        ({"text": "halo", "lang": "fr"}, 400),
        ({"text": "x" * 5000}, 413),
        pytest.param(b"[" * 2000 + b"]" * 2000, 400, id="deep-array"),
    ],
)
async def test_bad_parse_input_gets_a_clear_4xx(demo_server: RunningServer, body, status):
    got_status, got = await post(demo_server, "/model/parse", body)
    assert got_status == status and "error" in got


async def test_deeply_nested_widget_session_body_is_a_400(demo_server: RunningServer):
    got_status, got = await post(demo_server, "/widget/session", b"[" * 2000 + b"]" * 2000)
    assert got_status == 400 and got["error"] == "invalid_json"


async def test_exactly_4kb_is_accepted(demo_server: RunningServer):
    replies = await say(demo_server, sender(), "a" * 4096)
    assert replies and replies[0]["custom"]["intent"]


async def test_unknown_route_and_wrong_method_are_json_errors(demo_server: RunningServer):
    async with aiohttp.ClientSession() as session:
        async with session.get(demo_server.base + "/nope") as r:
            assert r.status == 404
            assert (await r.json())["error"]
        async with session.get(demo_server.base + WEBHOOK) as r:
            assert r.status == 405
            assert (await r.json())["error"]


async def test_hostile_text_is_stored_literally_and_the_server_keeps_serving(demo_server: RunningServer):
    who = sender()
    hostile = [
        "<img src=x onerror=alert(1)>",
        "'; DROP TABLE messages; --",
        "Robert'); DELETE FROM customers WHERE ('1'='1",
        "\u202eRTL override\u200b zero\u200dwidth 🧕🏽 ｆｕｌｌｗｉｄｔｈ",
        "{{ 7*7 }} ${jndi:ldap://x} %s%s%n",
    ]
    for text in hostile:
        replies = await say(demo_server, who, text)
        assert replies and replies[0]["recipient_id"] == who
    db = sqlite3.connect(demo_server.log.parent / "sapa.db")
    try:
        stored = [row[0] for row in db.execute(
            "SELECT m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE c.external_id = ? AND m.sender_type = 'customer' ORDER BY m.seq",
            (who,),
        )]
    finally:
        db.close()
    assert stored == hostile
    async with aiohttp.ClientSession() as session:
        async with session.get(demo_server.base + "/healthz") as r:
            assert r.status == 200


async def test_metrics_count_turns(demo_server: RunningServer):
    await say(demo_server, sender(), "halo kak")
    async with aiohttp.ClientSession() as session:
        async with session.get(demo_server.base + "/metrics") as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/plain")
            text = await r.text()
    assert 'sapa_turns_total{channel="rest",outcome="greet"}' in text
    assert "sapa_turn_seconds_bucket" in text
    assert "sapa_nlu_parse_seconds_count" in text


async def test_conversation_survives_a_restart(tmp_path):
    """State (the miss counter) and history live in the database, not in the process."""
    who = sender()
    server = start_server(tmp_path)
    try:
        first = await say(server, who, "siapa pemenang piala dunia tahun 1998?")
        assert first[0]["custom"]["handoff"] is False
    finally:
        server.stop()
    server = start_server(tmp_path)
    try:
        second = await say(server, who, "resep rendang padang yang enak gimana")
        assert second[0]["custom"]["handoff"] is True
        assert second[0]["custom"]["conversation_id"] == first[0]["custom"]["conversation_id"]
    finally:
        server.stop()


async def test_catalog_question_is_answered_from_the_catalog(demo_server: RunningServer):
    replies = await say(demo_server, sender(), "ada kemeja batik ukuran L warna biru?")
    reply = replies[0]
    assert reply["custom"]["intent"] == "product_search"
    assert "Kemeja Batik Parang Slim Fit — Rp189.000 (L · biru) · stok 6" in reply["text"]
    assert reply["buttons"] == [
        {"title": "Pesan Kemeja Batik Parang Slim Fit", "payload": '/place_order{"product":"BTK-KMJ-001"}'}
    ]


async def test_catalog_question_in_english(demo_server: RunningServer):
    replies = await say(demo_server, sender(), "how much is the rattan bag?")
    reply = replies[0]
    assert reply["custom"]["intent"] == "product_search"
    assert reply["custom"]["lang"] == "en"
    assert "Tas Rotan Bulat" in reply["text"] and "in stock" in reply["text"]

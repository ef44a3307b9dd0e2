"""The engine's turn pipeline: policy, actions, persistence and language, with a scripted NLU
and a real SQLite store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.bus import LocalBus
from bot.engine import Engine
from bot.flows.context import FlowContext
from bot.locks import LocalLocks
from bot.shopdata.model import FaqButton, FaqEntry, ShopData
from bot.store import Store
from bot.store.records import NewMessage
from bot.types import ConversationStatus, IncomingMessage, IntentScore, ParseResult

FAQS = (
    FaqEntry(
        id="payment-methods",
        category="payment",
        questions={"id": ("bisa bayar pakai apa",), "en": ("what payment methods",)},
        answer={"id": "Bisa transfer bank, Kak.", "en": "Bank transfer works."},
        buttons=(FaqButton(title={"id": "Rekening", "en": "Accounts"}, payload="/faq/bank-accounts"),),
    ),
    FaqEntry(
        id="bank-accounts",
        category="payment",
        questions={"id": ("nomor rekening",), "en": ("bank account number",)},
        answer={"id": "BCA 123.", "en": "BCA 123 (EN)."},
    ),
    FaqEntry(
        id="shipping-time",
        category="shipping",
        questions={"id": ("berapa lama pengiriman",), "en": ("how long is delivery",)},
        answer={"id": "2-3 hari, Kak.", "en": "2-3 days."},
    ),
)


class ScriptedNlu:
    """Returns a fixed parse per text; anything else is out of scope."""

    def __init__(self, script: dict[str, tuple[str, float, tuple[str, ...]]]) -> None:
        self.script = script

    def parse(self, text: str, lang=None) -> ParseResult:
        name, confidence, suggestions = self.script.get(text, ("out_of_scope", 0.9, ()))
        intent = IntentScore(name, confidence)
        return ParseResult(
            text=text,
            normalized=text.lower(),
            lang=lang or "id",
            intent=intent,
            ranking=(intent,),
            suggestions=tuple(IntentScore(s, 0.3) for s in suggestions),
        )


SCRIPT = {
    "bayar pakai apa kak": ("faq/payment-methods", 0.95, ()),
    "what payment methods do you accept": ("faq/payment-methods", 0.93, ()),
    "bayarnya gmn": ("out_of_scope", 0.4, ("faq/payment-methods", "faq/bank-accounts")),
    "rekeningnya mana": ("faq/bank-accounts", 0.45, ("faq/bank-accounts", "faq/payment-methods")),
    "halo kak": ("greet", 0.97, ()),
    "hello there": ("greet", 0.97, ()),
    "makasih kak": ("thanks", 0.97, ()),
    "mau ngobrol sama admin": ("human_handoff", 0.96, ()),
    "saya mau pesan 2 kemeja": ("place_order", 0.9, ()),
    "iya": ("affirm", 0.9, ()),
    "ada kemeja ukuran L?": ("product_search", 0.9, ()),
}


@pytest.fixture
async def engine(tmp_path: Path):
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}")
    shop = ShopData(data_dir=tmp_path, faqs=FAQS, shop={"name": "Toko Uji", "hours": {"id": "08.00–17.00 WIB", "en": "8am–5pm WIB"}})
    engine = Engine(
        store=store,
        nlu=ScriptedNlu(SCRIPT),
        flow_context=FlowContext.for_shop(shop),
        bus=LocalBus(),
        locks=LocalLocks(),
    )
    yield engine
    await store.close()


def msg(text: str, sender: str = "budi", **kw) -> IncomingMessage:
    return IncomingMessage(channel="rest", sender_id=sender, text=text, **kw)


async def test_faq_hit_answers_in_the_customers_language(engine: Engine):
    result = await engine.handle(msg("bayar pakai apa kak"))
    assert [r.text for r in result.replies] == ["Bisa transfer bank, Kak."]
    assert [b.payload for b in result.replies[0].buttons] == ["/faq/bank-accounts"]
    assert result.info.faq_id == "payment-methods" and result.info.lang == "id"

    result = await engine.handle(msg("what payment methods do you accept", sender="anne"))
    assert result.replies[0].text == "Bank transfer works."
    assert result.replies[0].buttons[0].title == "Accounts"
    assert result.info.lang == "en"


async def test_button_payload_bypasses_the_nlu_and_keeps_the_language(engine: Engine):
    await engine.handle(msg("what payment methods do you accept"))
    result = await engine.handle(msg("/faq/bank-accounts"))
    assert result.replies[0].text == "BCA 123 (EN)."
    assert result.info.intent == "faq/bank-accounts" and result.info.confidence == 1.0


async def test_a_pressed_button_is_stored_with_its_title(engine: Engine):
    first = await engine.handle(msg("bayar pakai apa kak"))
    await engine.handle(msg("/faq/bank-accounts"))
    stored = await engine.store.messages(first.info.conversation_id)
    assert stored[2].sender_type == "customer" and stored[2].text == "Rekening"
    assert stored[2].nlu["payload"] == "/faq/bank-accounts"


async def test_unknown_payload_goes_through_the_nlu(engine: Engine):
    result = await engine.handle(msg("/faq/does-not-exist"))
    assert result.info.intent == "out_of_scope"


async def test_middling_match_asks_did_you_mean_with_buttons(engine: Engine):
    result = await engine.handle(msg("bayarnya gmn"))
    reply = result.replies[0]
    assert reply.text == "Maaf Kak, maksudnya yang mana ya?"
    assert [b.payload for b in reply.buttons] == [
        "/faq/payment-methods",
        "/faq/bank-accounts",
        "/out_of_scope",
    ]
    assert [b.title for b in reply.buttons][:2] == ["bisa bayar pakai apa", "nomor rekening"]
    assert not result.info.handoff


async def test_middling_faq_match_asks_before_answering(engine: Engine):
    result = await engine.handle(msg("rekeningnya mana"))
    reply = result.replies[0]
    assert reply.text == "Maaf Kak, maksudnya yang mana ya?"
    assert [b.payload for b in reply.buttons][:2] == ["/faq/bank-accounts", "/faq/payment-methods"]
    picked = await engine.handle(msg("/faq/bank-accounts"))
    assert picked.replies[0].text == "BCA 123."


async def test_second_miss_in_a_row_hands_over_to_a_person(engine: Engine):
    first = await engine.handle(msg("cuaca besok gimana"))
    assert not first.info.handoff and first.info.status == ConversationStatus.BOT
    second = await engine.handle(msg("siapa presiden pertama"))
    assert second.info.handoff
    assert second.info.status == ConversationStatus.WAITING_FOR_AGENT
    assert "admin" in second.replies[0].text
    assert "08.00–17.00 WIB" in second.replies[0].text
    conversation = await engine.store.conversation(second.info.conversation_id)
    assert conversation.status == ConversationStatus.WAITING_FOR_AGENT
    assert conversation.handoff_at is not None


async def test_a_good_answer_between_misses_resets_the_count(engine: Engine):
    await engine.handle(msg("cuaca besok gimana"))
    await engine.handle(msg("bayar pakai apa kak"))
    result = await engine.handle(msg("siapa presiden pertama"))
    assert not result.info.handoff


async def test_clarify_then_none_of_these_hands_over(engine: Engine):
    await engine.handle(msg("bayarnya gmn"))
    result = await engine.handle(msg("/out_of_scope"))
    assert result.info.handoff


async def test_not_yet_built_flows_say_so_and_yes_connects_a_person(engine: Engine):
    result = await engine.handle(msg("saya mau pesan 2 kemeja"))
    assert "belum" in result.replies[0].text
    assert [b.payload for b in result.replies[0].buttons] == ["/human_handoff", "/deny"]
    assert not result.info.handoff
    result = await engine.handle(msg("iya"))
    assert result.info.handoff and result.info.intent == "affirm"


async def test_asking_for_a_person_twice_does_not_queue_twice(engine: Engine):
    first = await engine.handle(msg("mau ngobrol sama admin"))
    assert first.info.handoff
    again = await engine.handle(msg("mau ngobrol sama admin"))
    assert not again.info.handoff
    assert "antrean" in again.replies[0].text


async def test_bot_keeps_quiet_while_an_agent_holds_the_conversation(engine: Engine):
    first = await engine.handle(msg("halo kak"))
    from bot.store.records import ConversationChanges

    await engine.store.record_turn(
        first.info.conversation_id, None, [], ConversationChanges(status=ConversationStatus.WITH_AGENT)
    )
    result = await engine.handle(msg("bayar pakai apa kak"))
    assert result.replies == ()
    stored = await engine.store.messages(first.info.conversation_id)
    assert stored[-1].sender_type == "customer" and stored[-1].text == "bayar pakai apa kak"
    assert stored[-1].nlu["intent"]["name"] == "faq/payment-methods"


async def test_resend_with_same_client_id_replays_without_storing_twice(engine: Engine):
    first = await engine.handle(msg("bayar pakai apa kak", client_id="c-1"))
    again = await engine.handle(msg("bayar pakai apa kak", client_id="c-1"))
    assert again.duplicate
    assert [r.text for r in again.replies] == [r.text for r in first.replies]
    assert first.info.customer_seq == again.info.customer_seq == 1
    stored = await engine.store.messages(first.info.conversation_id)
    assert [m.sender_type for m in stored] == ["customer", "bot"]


async def test_every_turn_is_stored_with_its_nlu_result(engine: Engine):
    result = await engine.handle(msg("halo kak"))
    stored = await engine.store.messages(result.info.conversation_id)
    assert [(m.seq, m.sender_type) for m in stored] == [(1, "customer"), (2, "bot")]
    assert stored[0].nlu["intent"] == {"name": "greet", "confidence": 0.97}
    assert stored[0].nlu["action"] == "action_small_talk"
    assert stored[1].text.startswith("Halo Kak, selamat datang di Toko Uji")


async def test_explicit_language_choice_wins(engine: Engine):
    result = await engine.handle(msg("halo kak", lang_hint="en"))
    assert result.info.lang == "en"
    assert result.replies[0].text.startswith("Hi there, welcome to Toko Uji")


async def test_committed_messages_are_announced_on_the_bus(engine: Engine):
    first = await engine.handle(msg("halo kak"))
    topic = f"conversation:{first.info.conversation_id}"
    async with engine.bus.subscribe(topic, "handoff") as sub:
        await engine.handle(msg("mau ngobrol sama admin"))
        events = [await asyncio.wait_for(sub.get(), 1) for _ in range(3)]
    assert [e["sender_type"] for e in events[:2]] == ["customer", "bot"]
    assert [e["seq"] for e in events[:2]] == [3, 4]
    assert events[2] == {"type": "handoff", "conversation_id": first.info.conversation_id, "topic": "handoff"}


async def test_concurrent_messages_of_one_customer_are_serialized(engine: Engine):
    results = await asyncio.gather(*(engine.handle(msg("halo kak")) for _ in range(10)))
    conversation_id = results[0].info.conversation_id
    stored = await engine.store.messages(conversation_id)
    assert [m.seq for m in stored] == list(range(1, 21))
    assert [m.sender_type for m in stored] == ["customer", "bot"] * 10


async def test_product_search_without_a_catalog_says_so_and_offers_a_person(engine: Engine):
    result = await engine.handle(msg("ada kemeja ukuran L?"))
    assert result.info.intent == "product_search"
    assert "belum tersedia" in result.replies[0].text
    assert [b.payload for b in result.replies[0].buttons] == ["/human_handoff", "/deny"]


async def test_the_conversation_keeps_its_language_through_slang_and_gibberish(engine: Engine):
    assert (await engine.handle(msg("halo kak", sender="sinta"))).info.lang == "id"
    for text in ("asdfgh qwerty", "noted kak", "gaskeun"):
        result = await engine.handle(msg(text, sender="sinta"))
        assert result.info.lang == "id", text
        assert "Kak" in result.replies[0].text, result.replies[0].text
    result = await engine.handle(msg("what payment methods do you accept", sender="sinta"))
    assert result.info.lang == "en" and result.replies[0].text == "Bank transfer works."
    # A first message decides freely: nothing to keep yet.
    assert (await engine.handle(msg("hello there", sender="new-visitor"))).info.lang == "en"


async def test_a_greeting_from_the_queue_is_told_they_are_still_waiting(engine: Engine):
    await engine.handle(msg("mau ngobrol sama admin", sender="antre"))
    result = await engine.handle(msg("halo kak", sender="antre"))
    assert result.info.status == "waiting_for_agent"
    assert "antrean" in result.replies[0].text and "selamat datang" not in result.replies[0].text


async def test_an_update_pushed_while_a_turn_runs_is_shown_once(engine: Engine, monkeypatch):
    """Pushes take no conversation lock: one committed between reading the conversation and
    committing the turn would be marked answered without the customer ever seeing it."""
    await engine.handle(msg("halo kak"))
    respond = engine.dialogue.respond

    async def respond_while_an_update_is_pushed(*args, **kwargs):
        await engine.store.push_message("rest", "budi", NewMessage("bot", "Pesanan SP-2026-000001 sudah dikirim"))
        return await respond(*args, **kwargs)

    monkeypatch.setattr(engine.dialogue, "respond", respond_while_an_update_is_pushed)
    result = await engine.handle(msg("bayar pakai apa kak"))
    assert [m.text for m in result.unseen] == ["Pesanan SP-2026-000001 sudah dikirim"]
    assert [r.text for r in result.replies] == ["Bisa transfer bank, Kak."]

    monkeypatch.setattr(engine.dialogue, "respond", respond)
    result = await engine.handle(msg("makasih kak"))
    assert result.unseen == ()

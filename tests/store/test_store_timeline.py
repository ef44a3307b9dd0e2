"""The milestone rules of :func:`bot.store.timeline.turn_updates`, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.store.records import ConversationChanges, ConversationRecord
from bot.store.timeline import turn_updates

T0 = datetime(2025, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(minutes=5)


def conversation(**fields: object) -> ConversationRecord:
    values: dict[str, object] = {
        "id": 1,
        "customer_id": 1,
        "channel": "rest",
        "external_id": "x",
        "status": "bot",
        "lang": "id",
        "state": {},
        "last_seq": 0,
        "answered_seq": 0,
        "created_at": T0,
        "last_message_at": None,
        "first_customer_message_at": None,
        "first_response_at": None,
        "handoff_at": None,
        "first_agent_response_at": None,
        "resolved_at": None,
    }
    values.update(fields)
    return ConversationRecord(**values)  # type: ignore[arg-type]


def test_response_needs_a_customer_message_first() -> None:
    greeting = turn_updates(conversation(), ["bot"], ConversationChanges(), NOW)
    assert greeting["first_response_at"] is None
    same_turn = turn_updates(conversation(), ["customer", "bot"], ConversationChanges(), NOW)
    assert same_turn["first_response_at"] == NOW and same_turn["first_customer_message_at"] == NOW
    system_only = turn_updates(
        conversation(first_customer_message_at=T0), ["system"], ConversationChanges(), NOW
    )
    assert system_only["first_response_at"] is None


def test_first_timestamps_are_never_overwritten() -> None:
    c = conversation(first_customer_message_at=T0, first_response_at=T0, handoff_at=T0)
    handoff = ConversationChanges(status="waiting_for_agent")
    values = turn_updates(c, ["customer", "agent"], handoff, NOW)
    assert values["first_customer_message_at"] == T0 and values["first_response_at"] == T0
    assert values["handoff_at"] == T0 and values["first_agent_response_at"] == NOW


def test_agent_message_before_any_handoff_is_not_an_agent_response() -> None:
    values = turn_updates(conversation(), ["agent"], ConversationChanges(), NOW)
    assert values["first_agent_response_at"] is None and values["handoff_at"] is None


def test_resolution_and_reopening() -> None:
    resolved = turn_updates(conversation(), [], ConversationChanges(status="resolved"), NOW)
    assert resolved["resolved_at"] == NOW and resolved["last_message_at"] is None
    done = conversation(status="resolved", resolved_at=T0)
    again = turn_updates(done, [], ConversationChanges(status="resolved"), NOW)
    assert again["resolved_at"] == T0
    reopened = turn_updates(done, [], ConversationChanges(status="with_agent"), NOW)
    assert reopened["resolved_at"] is None


def test_counters_and_replacements() -> None:
    c = conversation(last_seq=4, state={"a": 1}, lang="id")
    values = turn_updates(c, ["customer", "bot", "bot"], ConversationChanges(lang="en"), NOW)
    assert values["last_seq"] == 7 and values["last_message_at"] == NOW
    assert values["lang"] == "en" and values["state"] == {"a": 1} and values["status"] == "bot"
    assert turn_updates(c, [], ConversationChanges(state={}), NOW)["state"] == {}


def test_answered_up_to_the_last_turn_of_the_customer() -> None:
    asked = turn_updates(conversation(last_seq=4, answered_seq=4), ["customer", "bot", "bot"], ConversationChanges(), NOW)
    assert asked["last_seq"] == 7 and asked["answered_seq"] == 7
    pushed = turn_updates(conversation(last_seq=7, answered_seq=7), ["bot"], ConversationChanges(), NOW)
    assert pushed["last_seq"] == 8 and pushed["answered_seq"] == 7  # an order update: not seen yet
    agent = turn_updates(conversation(last_seq=8, answered_seq=7), ["agent"], ConversationChanges(), NOW)
    assert agent["answered_seq"] == 7

"""How one turn moves a conversation's status and milestone timestamps.

Pure functions over records, so the rules can be read (and tested) without a
database. All milestones of a turn share one ``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.store.records import ConversationChanges, ConversationRecord
from bot.types import ConversationStatus

# Statuses in which a human holds (or is about to hold) the conversation.
_HANDED_OFF = (ConversationStatus.WAITING_FOR_AGENT, ConversationStatus.WITH_AGENT)
_RESPONDERS = ("bot", "agent")


def turn_updates(
    conversation: ConversationRecord,
    senders: Sequence[str],
    changes: ConversationChanges,
    now: datetime,
) -> dict[str, Any]:
    """The conversation's new column values after a turn.

    ``senders`` are the sender types of the turn's new messages, in order.
    The rules:

    - ``last_seq`` grows by one per message; ``last_message_at`` is ``now``
      when the turn has messages.
    - ``answered_seq`` becomes the new ``last_seq`` when the turn has a customer
      message: the customer has been answered up to there (see ``records``).
    - ``first_customer_message_at``: the first customer message.
    - ``first_response_at``: the first bot or agent message that follows a
      customer message (a greeting sent before the customer spoke is not a
      response).
    - ``handoff_at``: the first time the status becomes ``waiting_for_agent``,
      or ``with_agent`` when an agent takes over directly.
    - ``first_agent_response_at``: the first agent message once handed off
      (the status change of the same turn counts, since an agent's first
      message usually comes with ``with_agent``).
    - ``resolved_at``: when the status becomes ``resolved``; cleared if a
      resolved conversation is reopened.
    """
    status = changes.status or conversation.status
    handoff_at = conversation.handoff_at
    if handoff_at is None and status in _HANDED_OFF:
        handoff_at = now

    resolved_at = conversation.resolved_at
    if status == ConversationStatus.RESOLVED:
        if conversation.status != ConversationStatus.RESOLVED:
            resolved_at = now
    else:
        resolved_at = None

    first_customer = conversation.first_customer_message_at
    first_response = conversation.first_response_at
    first_agent = conversation.first_agent_response_at
    for sender in senders:
        if sender == "customer":
            if first_customer is None:
                first_customer = now
        elif sender in _RESPONDERS:
            if first_response is None and first_customer is not None:
                first_response = now
            if sender == "agent" and first_agent is None and handoff_at is not None:
                first_agent = now

    return {
        "status": status,
        "lang": changes.lang or conversation.lang,
        "state": conversation.state if changes.state is None else changes.state,
        "last_seq": conversation.last_seq + len(senders),
        "answered_seq": conversation.last_seq + len(senders) if "customer" in senders else conversation.answered_seq,
        "last_message_at": now if senders else conversation.last_message_at,
        "first_customer_message_at": first_customer,
        "first_response_at": first_response,
        "handoff_at": handoff_at,
        "first_agent_response_at": first_agent,
        "resolved_at": resolved_at,
    }

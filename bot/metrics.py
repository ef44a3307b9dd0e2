"""Prometheus metrics, served at ``GET /metrics``."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from bot import intents
from bot.types import TurnInfo

REGISTRY = CollectorRegistry()

TURNS = Counter(
    "sapa_turns_total",
    "Customer turns handled, by channel and outcome.",
    ["channel", "outcome"],
    registry=REGISTRY,
)
TURN_SECONDS = Histogram(
    "sapa_turn_seconds",
    "Time to handle one customer turn, committed, in seconds.",
    ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
NLU_SECONDS = Histogram(
    "sapa_nlu_parse_seconds",
    "Time to parse one message.",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1),
    registry=REGISTRY,
)
HANDOFFS = Counter(
    "sapa_handoffs_total", "Conversations handed to a person.", ["channel"], registry=REGISTRY
)
HELP_SEARCHES = Counter(
    "sapa_help_searches_total",
    "Searches on the help centre page (/bantuan), by result: answered, suggested, chat, not_found.",
    ["result"],
    registry=REGISTRY,
)
HTTP_ERRORS = Counter(
    "sapa_http_client_errors_total",
    "Requests refused with a 4xx status, by route and status.",
    ["route", "status"],
    registry=REGISTRY,
)


def outcome(info: TurnInfo) -> str:
    """A low-cardinality label for a turn: faq, or the built-in intent."""
    if info.faq_id:
        return "faq"
    return info.intent if info.intent in intents.BUILTIN else "other"


def observe_turn(channel: str, info: TurnInfo, seconds: float) -> None:
    TURNS.labels(channel, outcome(info)).inc()
    TURN_SECONDS.labels(channel).observe(seconds)
    if info.handoff:
        HANDOFFS.labels(channel).inc()


def render() -> bytes:
    """This process's metrics, or with several workers (:mod:`bot.workermetrics`) the sum of all of them."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)

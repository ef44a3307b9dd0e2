"""Measure store throughput: turns/s for open_conversation + record_turn.

Not a test (tests never assert on timings). Usage::

    python bench/store_turns.py                                 # SQLite file in a temp dir
    python bench/store_turns.py --url postgresql://postgres@127.0.0.1/test
    python bench/store_turns.py --customers 50 --turns 200

Each of ``--customers`` concurrent tasks plays one customer and does
``--turns`` turns: ``open_conversation`` then ``record_turn`` with the
customer's message (with NLU result and client id), two bot replies and a
state change, the shape of a real engine turn. Prints turns/s and the latency
of a whole turn (p50/p99). Tables are not cleaned up on PostgreSQL; point it at
a scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bot.store import ConversationChanges, NewMessage, Store

_NLU = {
    "intent": {"name": "faq/ongkir", "confidence": 0.91},
    "intent_ranking": [{"name": f"intent_{i}", "confidence": 0.1} for i in range(10)],
    "entities": [{"entity": "city", "value": "Surabaya", "start": 14, "end": 17}],
    "lang": "id",
}
_BUTTONS = [
    {"title": "Cek ongkir", "payload": "/shipping_cost"},
    {"title": "Bantuan", "payload": "/help"},
]


async def _customer(store: Store, run: str, n: int, turns: int, latencies: list[float]) -> None:
    sender = f"{run}-{n}"
    for t in range(turns):
        started = time.perf_counter()
        conversation = await store.open_conversation("rest", sender, "id")
        await store.record_turn(
            conversation.id,
            NewMessage(
                "customer",
                f"kak, ongkir ke sby brp ya? #{t}",
                nlu=_NLU,
                client_id=f"{sender}-{t}",
            ),
            [
                NewMessage("bot", "Ongkir ke Surabaya mulai Rp 12.000 ya kak.", buttons=_BUTTONS),
                NewMessage("bot", "Ada lagi yang bisa kami bantu?"),
            ],
            ConversationChanges(state={"flow": None, "slots": {"city": "Surabaya"}, "turn": t}),
        )
        latencies.append(time.perf_counter() - started)


async def run(url: str, customers: int, turns: int) -> None:
    """Run the benchmark against ``url`` and print the figures."""
    store = await Store.open(url)
    try:
        # Warm-up: create the customers and conversations, fill caches.
        warm: list[float] = []
        await asyncio.gather(*(_customer(store, "warm", n, 3, warm) for n in range(customers)))
        latencies: list[float] = []
        run_id = uuid.uuid4().hex[:8]
        started = time.perf_counter()
        await asyncio.gather(
            *(_customer(store, run_id, n, turns, latencies) for n in range(customers))
        )
        elapsed = time.perf_counter() - started
    finally:
        await store.close()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"{store.dialect}: {len(latencies)} turns, {customers} concurrent customers, "
        f"{len(latencies) / elapsed:,.0f} turns/s, "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
    )


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="database URL (default: SQLite file in a temp dir)")
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--turns", type=int, default=200, help="turns per customer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(run(url, args.customers, args.turns))


if __name__ == "__main__":
    main()

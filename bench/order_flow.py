"""Whole orders through the chat, many customers at once, against a real `sapa run`.

Each simulated customer (REST channel) asks for a product, walks the order flow
to the confirmed order (13 turns: product, variant, quantity, "go on", name,
phone, address, city, courier, payment, confirm...) and we measure every turn's
latency, the orders per second, and check afterwards that no stock was oversold:
for every SKU, units ordered ≤ units the catalog had.

    python bench/order_flow.py [--customers 200] [--concurrency 20] [--workers 1]

Prints the figures; BENCHMARKS.md keeps them with the machine and command.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.rest_load import start_sapa, wait_healthy  # noqa: E402
from bot.shopdata.loader import load_shop  # noqa: E402

PASSWORD = "pesanan-batik-sekar-2026"
CITIES = ["Bandung", "Jakarta", "Surabaya", "Semarang", "Yogyakarta", "Medan", "Makassar", "Denpasar"]


class Customer:
    def __init__(self, session: aiohttp.ClientSession, base: str, sender: str, latencies: list[float]) -> None:
        self.session, self.base, self.sender, self.latencies = session, base, sender, latencies
        self.replies: list[dict] = []

    async def say(self, text: str) -> None:
        started = time.perf_counter()
        async with self.session.post(
            self.base + "/webhooks/rest/webhook", json={"sender": self.sender, "message": text}
        ) as r:
            r.raise_for_status()
            self.replies = await r.json()
        self.latencies.append((time.perf_counter() - started) * 1000)

    def payload(self, title_part: str) -> str | None:
        for reply in reversed(self.replies):
            for button in reply.get("buttons") or []:
                if title_part in button["title"]:
                    return button["payload"]
        return None

    def button(self, index: int = 0) -> str | None:
        buttons = [b for r in self.replies for b in r.get("buttons") or []]
        return buttons[index]["payload"] if len(buttons) > index else None

    @property
    def text(self) -> str:
        return "\n".join(r["text"] for r in self.replies)


async def one_order(c: Customer, product_name: str, rng: random.Random) -> str:
    """``placed``, ``sold_out`` (the product ran out on the way) or ``stuck``."""
    await c.say(f"mau pesan {product_name}")
    for _ in range(3):
        if "pilihan berikut" in c.text or "Mau yang mana" in c.text or "Yang mana" in c.text:
            choice = c.button(rng.randrange(max(1, len([b for r in c.replies for b in r.get("buttons") or []]))))
            if choice is None:
                return "sold_out"
            await c.say(choice)
        else:
            break
    if "habis" in c.text and "Mau pesan berapa" not in c.text:
        return "sold_out"
    if "Mau pesan berapa" not in c.text:
        return "stuck"
    await c.say("1")
    if "keranjang" not in c.text:
        return "sold_out" if "habis" in c.text or "tinggal" in c.text else "stuck"
    await c.say(c.payload("Lanjut") or "/deny")
    await c.say("Budi Santoso")
    await c.say(f"0812{rng.randrange(10**7, 10**8)}")
    await c.say("Jl. Melati No. 12, RT 03/RW 04, Kelurahan Sukamaju")
    await c.say(rng.choice(CITIES))
    courier = c.button(0)
    if courier is None:
        return "stuck"
    await c.say(courier)
    await c.say(c.payload("Transfer bank") or "transfer bank")
    if "Mohon dicek" not in c.text:
        return "stuck"
    await c.say("/affirm")
    if "Nomor pesanan" in c.text:
        return "placed"
    return "sold_out" if "diambil pembeli lain" in c.text else "stuck"


async def run(base: str, customers: int, concurrency: int, products: list[str]) -> dict:
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(customers):
        queue.put_nowait(i)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:
        async def worker(n: int) -> None:
            rng = random.Random(n)
            while not queue.empty():
                i = queue.get_nowait()
                c = Customer(session, base, f"bench-{i}", latencies)
                outcome = await one_order(c, rng.choice(products), rng)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                if outcome == "stuck" and outcomes["stuck"] <= 3:
                    print(f"stuck customer {i}: {c.text[:300]!r}", file=sys.stderr)

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {
        "customers": customers,
        "concurrency": concurrency,
        "seconds": round(elapsed, 1),
        "turns": len(latencies),
        "turns_per_s": round(len(latencies) / elapsed, 1),
        "orders_placed": outcomes.get("placed", 0),
        "orders_per_s": round(outcomes.get("placed", 0) / elapsed, 2),
        "outcomes": outcomes,
        "turn_ms_p50": round(q[49], 1),
        "turn_ms_p95": round(q[94], 1),
        "turn_ms_p99": round(q[98], 1),
    }


async def oversold(base: str, catalog_stock: dict[str, int]) -> dict[str, int]:
    """SKUs with more units in live orders than the catalog had (must be empty)."""
    token = base64.b64encode(f"bench:{PASSWORD}".encode()).decode()
    ordered: dict[str, int] = {}
    async with aiohttp.ClientSession(headers={"Authorization": f"Basic {token}"}) as session:
        offset = 0
        while True:
            async with session.get(f"{base}/api/admin/orders?limit=200&offset={offset}") as r:
                page = (await r.json())["orders"]
            if not page:
                break
            for row in page:
                async with session.get(f"{base}/api/admin/orders/{row['number']}") as r:
                    order = (await r.json())["order"]
                if order["status"] != "cancelled":
                    for line in order["lines"]:
                        ordered[line["sku"]] = ordered.get(line["sku"], 0) + line["quantity"]
            offset += len(page)
    return {sku: n for sku, n in ordered.items() if n > catalog_stock.get(sku, 0)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    shop = load_shop(ROOT / "data")
    catalog_stock = {v.sku: v.stock for p in shop.products for v in p.variants}
    catalog_stock.update({p.sku: p.stock for p in shop.products if not p.variants})
    products = ["kemeja parang", "tas rotan", "kemeja kawung", "dress batik", "sarung tenun", "kain sidomukti"]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        log = (workdir / "sapa.log").open("wb")
        env_add = dict(os.environ, SAPA_AGENT_PASSWORD=PASSWORD, DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
                       PYTHONPATH=str(ROOT))
        subprocess.run([sys.executable, "-m", "bot.cli", "agent", "add", "bench", "--role", "admin"],
                       cwd=workdir, env=env_add, check=True, capture_output=True)
        proc, base, _ = start_sapa(workdir, ROOT / "data", None, args.workers, log)
        try:
            await wait_healthy(base, proc)
            result = await run(base, args.customers, args.concurrency, products)
            result["workers"] = args.workers
            result["oversold_skus"] = await oversold(base, catalog_stock)
            print(json.dumps(result, indent=2))
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())

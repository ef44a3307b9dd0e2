"""REST throughput: C concurrent customers, each waiting for its reply before the next message.

Starts ``sapa run`` on a fresh database (SQLite file by default, or --database-url), drives
``POST /webhooks/rest/webhook`` for a fixed time per concurrency level and prints turns/s and
p50/p99 latency. Every turn is committed before its reply (that is how the server works).

    python bench/rest_load.py                      # SQLite, C = 1 10 50 200
    python bench/rest_load.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    python bench/rest_load.py --driver wrk --workers 2   # wrk as the load generator
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# A realistic mix: customer paraphrases of the demo FAQ in both languages (slang, typos),
# questions no FAQ answers, and small talk.
PARAPHRASES = ROOT / "bench" / "data" / "demo_paraphrases.yml"
SMALL_TALK = [
    "kak, ongkir ke sby brp ya?",
    "bisa bayar pakai apa aja?",
    "what payment methods do you accept?",
    "berapa lama pengiriman ke jakarta",
    "how long does shipping take?",
    "nomor rekening bca nya berapa kak",
    "halo kak",
    "makasih min",
    "bisa cod gak?",
    "cara retur barang gimana",
    "do you ship internationally?",
    "ukuran L lingkar dadanya berapa",
    "lupa password akun gmn",
    "siapa juara piala dunia 2018",
]


def load_messages() -> list[str]:
    from bot.shopdata.rasa_nlu import read_nlu_file

    return [ex.text for ex in read_nlu_file(PARAPHRASES)] + SMALL_TALK


MESSAGES = load_messages()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}")
            try:
                async with session.get(base + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("server did not become healthy")


async def run_level(base: str, concurrency: int, seconds: float, run_id: str) -> dict:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)

    async with aiohttp.ClientSession(connector=connector) as session:

        async def customer(i: int) -> None:
            nonlocal errors
            rng = random.Random(i)
            sender = f"{run_id}-c{concurrency}-{i}"
            while time.perf_counter() < stop_at:
                body = {"sender": sender, "message": rng.choice(MESSAGES)}
                started = time.perf_counter()
                async with session.post(base + "/webhooks/rest/webhook", json=body) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
                        continue
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(customer(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - began

    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return {
        "concurrency": concurrency,
        "turns": len(latencies),
        "errors": errors,
        "turns_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(q[49] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
    }


def run_level_wrk(base: str, concurrency: int, seconds: float, run_id: str, workdir: Path) -> dict:
    """The same closed loop driven by wrk (C code), which leaves the CPU to the server."""
    messages_file = workdir / "messages.jsonl"
    messages_file.write_text("\n".join(json.dumps(m, ensure_ascii=False) for m in MESSAGES) + "\n", "utf-8")
    env = dict(os.environ, MESSAGES_FILE=str(messages_file), CUSTOMERS=str(concurrency), RUN_ID=f"{run_id}-c{concurrency}")
    out = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:.0f}s", "--latency", "--timeout", "10s",
         "-s", str(ROOT / "bench" / "rest_load.lua"), base],
        env=env, capture_output=True, text=True, check=True,
    ).stdout

    def ms(label: str) -> float:
        value = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        number, unit = float(value.group(1)), value.group(2)
        return round(number / 1000 if unit == "us" else number * 1000 if unit == "s" else number, 2)

    turns = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "concurrency": concurrency,
        "turns": turns,
        "errors": int(errors.group(1)) if errors else 0,
        "turns_per_s": round(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), 1),
        "p50_ms": ms("50%"),
        "p99_ms": ms("99%"),
    }


def start_sapa(
    workdir: Path, data_dir: Path, database_url: str | None, workers: int, output
) -> tuple[subprocess.Popen, str, dict[str, str]]:
    """``sapa run`` on 127.0.0.1 in ``workdir`` (a fresh SQLite file there unless
    ``database_url``); returns the process, its base URL and its environment."""
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    env["SAPA_CACHE_DIR"] = str(ROOT / ".sapa-cache")
    env["PYTHONPATH"] = str(ROOT)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--data-dir", str(data_dir), "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers)],
        cwd=workdir,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    return proc, f"http://127.0.0.1:{port}", env


def process_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 10, 50, 200])
    parser.add_argument("--seconds", type=float, default=10.0, help="per concurrency level")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--data-dir", default=str(ROOT / "data"))
    parser.add_argument("--workers", type=int, default=1, help="sapa run --workers")
    parser.add_argument(
        "--driver", choices=("python", "wrk"), default="python",
        help="load generator: aiohttp in this process, or wrk (apt-get install wrk)",
    )
    parser.add_argument("--json", dest="json_out", help="write the results here")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="sapa-bench-"))
    proc, base, env = start_sapa(workdir, Path(args.data_dir), args.database_url, args.workers, subprocess.DEVNULL)
    try:
        await wait_healthy(base, proc)
        run_id = f"{time.time_ns():x}"
        await run_level(base, 10, 2.0, run_id + "-warmup")
        print(f"database: {env['DATABASE_URL'].split('@')[-1]}, workers: {args.workers}, driver: {args.driver}")
        print(f"{'C':>5} {'turns':>8} {'turns/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        results = []
        for level in args.levels:
            if args.driver == "wrk":
                r = run_level_wrk(base, level, args.seconds, run_id, workdir)
            else:
                r = await run_level(base, level, args.seconds, run_id)
            results.append(r)
            print(
                f"{r['concurrency']:>5} {r['turns']:>8} {r['turns_per_s']:>9} {r['p50_ms']:>8} "
                f"{r['p99_ms']:>8} {r['errors']:>7}",
                flush=True,
            )
        rss = process_rss_mb(proc.pid)
        print(f"server RSS after the run: {rss:.0f} MB")
        if args.json_out:
            Path(args.json_out).write_text(json.dumps({"results": results, "server_rss_mb": rss}, indent=2))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())

"""WebSocket load: N concurrent widget sessions chatting over real sockets against ``sapa run``.

Starts ``sapa run`` in a temp dir on a fresh database (SQLite file by default, or
--database-url) with its own copy of the data dir whose widget rate limits are raised (every
session comes from 127.0.0.1, so the per-IP limit would otherwise refuse almost everything).
Then, from this one process (one aiohttp ClientSession, one event loop, no threads):

1. warm-up: a few sessions chat briefly and leave (first-use costs stay out of the figures);
2. idle phase: --sessions sessions connect gradually over --ramp seconds (POST /widget/session,
   GET /widget/ws?token=, ``hello`` → ``welcome``) and stay idle for --idle-wait seconds; the
   server's RSS (/proc/<pid>/status VmRSS, summed over the workers) before and after gives the
   memory per open connection;
3. load phase: the same sessions each send one message every --interval seconds, the first at
   a random phase so the rate is steady from the start, drawn from the realistic messages
   bench/rest_load.py uses (demo paraphrases + small talk), each with a fresh client_id.
   After one interval of warm-up, turns *sent* during --seconds are measured. Reply latency
   is the time from sending a message to the first bot ``message`` event whose seq follows
   the customer's own message (known from its ``ack`` or its own ``message`` event, whichever
   comes first; the server usually sends the ack after the reply). A turn is complete when
   both the reply and the ack arrived; otherwise it is an error (``error`` event, socket
   closed) or a timeout (--timeout).

Targets (issue 3): p99 ≤ 100 ms at 1,000 sessions sending one message every 5 s; under 50 KB
of server memory per idle connection.

    python bench/widget_load.py                      # SQLite, 1 worker, 1,000 sessions
    python bench/widget_load.py --workers 2
    python bench/widget_load.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from rest_load import MESSAGES, start_sapa, wait_healthy  # noqa: E402

TARGET_P99_MS = 100.0
TARGET_KB_PER_CONNECTION = 50.0
WARMUP_SESSIONS = 20
WARMUP_TURNS = 3
RAISED_LIMIT = 1_000_000


# -- the server ------------------------------------------------------------------


def prepare_data_dir(source: Path, target: Path) -> None:
    """A copy of the data dir whose widget rate limits do not get in the way."""
    shutil.copytree(source, target)
    widget = target / "widget.yml"
    config = yaml.safe_load(widget.read_text("utf-8")) if widget.exists() else {}
    config = config or {"version": 1}
    limits = dict(config.get("limits") or {})
    limits["messages_per_minute"] = RAISED_LIMIT
    limits["messages_per_minute_per_ip"] = RAISED_LIMIT
    config["limits"] = limits
    widget.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")


def worker_pids(pid: int, workers: int) -> list[int]:
    """The processes that serve: the server itself, or its forked workers."""
    if workers <= 1:
        return [pid]
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == pid and b"resource_tracker" not in cmdline:
            children.append(int(entry.name))
    return sorted(children)


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def client_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raise_fd_limit(needed: int) -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        new = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# -- one widget session ------------------------------------------------------------


class Turn:
    __slots__ = ("client_id", "sent_at", "base_seq", "customer_seq", "replied_at", "acked_at", "outcome", "done")

    def __init__(self, client_id: str, sent_at: float, base_seq: int) -> None:
        self.client_id = client_id
        self.sent_at = sent_at
        self.base_seq = base_seq  # the highest seq this session had seen before sending
        self.customer_seq: int | None = None
        self.replied_at: float | None = None
        self.acked_at: float | None = None
        self.outcome: str | None = None  # "ok", "timeout", "error:<code>", "closed"
        self.done = asyncio.Event()

    def check_done(self) -> None:
        if self.replied_at is not None and self.acked_at is not None and self.outcome is None:
            self.outcome = "ok"
            self.done.set()

    def fail(self, outcome: str) -> None:
        if self.outcome is None:
            self.outcome = outcome
            self.done.set()


class WidgetSession:
    """A visitor with one tab: a token, a socket, a reader task, at most one turn in flight."""

    def __init__(self, index: int, compress: int = 0) -> None:
        self.index = index
        self.compress = compress
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None
        self.welcome = asyncio.Event()
        self.max_seq = 0
        self.turn: Turn | None = None
        self.stray_errors: Counter[str] = Counter()

    async def connect(self, http: aiohttp.ClientSession, base: str, timeout: float) -> None:
        async with http.post(base + "/widget/session", json={"token": None, "lang": None}) as r:
            if r.status != 200:
                raise RuntimeError(f"POST /widget/session → {r.status}")
            token = (await r.json())["token"]
        self.ws = await http.ws_connect(
            base.replace("http://", "ws://") + "/widget/ws", params={"token": token}, autoping=True,
            compress=self.compress,
        )
        self.reader = asyncio.create_task(self._read())
        await self.ws.send_str(json.dumps({"type": "hello", "last_seq": 0}))
        await asyncio.wait_for(self.welcome.wait(), timeout)

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for frame in self.ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                now = time.perf_counter()
                event = json.loads(frame.data)
                kind = event.get("type")
                turn = self.turn
                if kind == "message":
                    seq = event.get("seq", 0)
                    if turn is not None and turn.outcome is None and seq > turn.base_seq:
                        sender = event.get("sender_type")
                        if sender == "customer" and turn.customer_seq is None:
                            turn.customer_seq = seq
                        elif (
                            sender == "bot"
                            and turn.customer_seq is not None
                            and seq > turn.customer_seq
                            and turn.replied_at is None
                        ):
                            turn.replied_at = now
                            turn.check_done()
                    self.max_seq = max(self.max_seq, seq)
                elif kind == "ack":
                    if turn is not None and event.get("client_id") == turn.client_id:
                        if turn.customer_seq is None:
                            turn.customer_seq = event.get("seq")
                        turn.acked_at = now
                        turn.check_done()
                elif kind == "welcome":
                    self.welcome.set()
                elif kind == "error":
                    if turn is not None and event.get("client_id") == turn.client_id:
                        turn.fail(f"error:{event.get('code')}")
                    else:
                        self.stray_errors[str(event.get("code"))] += 1
        except Exception:  # noqa: BLE001 - a broken socket ends the session like a close
            pass
        finally:
            if self.turn is not None:
                self.turn.fail("closed")

    async def chat(self, text: str, timeout: float) -> Turn:
        assert self.ws is not None
        turn = Turn(uuid.uuid4().hex, time.perf_counter(), self.max_seq)
        self.turn = turn
        if self.ws.closed:
            turn.fail("closed")
            return turn
        try:
            await self.ws.send_str(json.dumps({"type": "message", "client_id": turn.client_id, "text": text}))
            await asyncio.wait_for(turn.done.wait(), timeout)
        except asyncio.TimeoutError:
            turn.fail("timeout")
        except (aiohttp.ClientError, ConnectionError, RuntimeError):
            turn.fail("closed")
        return turn

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            try:
                await asyncio.wait_for(self.ws.close(), 10)
            except (asyncio.TimeoutError, aiohttp.ClientError, ConnectionError):
                pass
        if self.reader is not None:
            self.reader.cancel()
            try:
                await self.reader
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass


# -- the phases --------------------------------------------------------------------


async def connect_all(
    http: aiohttp.ClientSession, base: str, sessions: list[WidgetSession], ramp: float, timeout: float
) -> tuple[int, Counter[str], float]:
    """Connect every session, spread evenly over ``ramp`` seconds."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    errors: Counter[str] = Counter()

    async def one(s: WidgetSession) -> bool:
        await asyncio.sleep(max(0.0, started + ramp * s.index / len(sessions) - loop.time()))
        try:
            await s.connect(http, base, timeout)
            return True
        except asyncio.TimeoutError:
            errors["connect timeout"] += 1
        except Exception as e:  # noqa: BLE001
            errors[f"connect: {type(e).__name__}"] += 1
        return False

    connected = sum(await asyncio.gather(*(one(s) for s in sessions)))
    return connected, errors, loop.time() - started


async def warm_up(http: aiohttp.ClientSession, base: str, timeout: float) -> None:
    sessions = [WidgetSession(i) for i in range(WARMUP_SESSIONS)]
    await connect_all(http, base, sessions, 0.5, timeout)
    rng = random.Random(-1)

    async def chat(s: WidgetSession) -> None:
        for _ in range(WARMUP_TURNS):
            if s.ws is not None:
                await s.chat(rng.choice(MESSAGES), timeout)

    await asyncio.gather(*(chat(s) for s in sessions))
    await asyncio.gather(*(s.close() for s in sessions))


async def load(
    sessions: list[WidgetSession], interval: float, warmup: float, seconds: float, timeout: float, seed: int
) -> tuple[list[Turn], int, float, float]:
    """Every session chats; returns the turns sent in the measured window."""
    clock = time.perf_counter  # uvloop's loop.time() has millisecond resolution
    began = clock()
    measure_from = began + warmup
    measure_to = measure_from + seconds
    measured: list[Turn] = []
    late = 0

    async def run(s: WidgetSession) -> None:
        nonlocal late
        rng = random.Random(seed * 1_000_003 + s.index)
        next_at = began + rng.uniform(0, interval)
        while next_at < measure_to:
            await asyncio.sleep(max(0.0, next_at - clock()))
            turn = await s.chat(rng.choice(MESSAGES), timeout)
            if measure_from <= turn.sent_at < measure_to:
                measured.append(turn)
                if turn.sent_at > next_at + 0.05:
                    late += 1
            if turn.outcome == "closed":
                return
            next_at += interval
            next_at = max(next_at, clock())

    await asyncio.gather(*(run(s) for s in sessions if s.ws is not None and not s.ws.closed))
    return measured, late, measure_from, measure_to


def quantiles_ms(values: list[float]) -> tuple[float, float, float, float]:
    if not values:
        return (float("nan"),) * 4
    values = sorted(values)
    q = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else [values[0]] * 99
    return q[49] * 1000, q[94] * 1000, q[98] * 1000, values[-1] * 1000


async def bench(args: argparse.Namespace, base: str, proc: subprocess.Popen, env: dict[str, str]) -> dict:
    await wait_healthy(base, proc)
    pids = worker_pids(proc.pid, args.workers)
    deadline = time.monotonic() + 30
    while len(pids) < args.workers and time.monotonic() < deadline:  # workers fork after /healthz answers
        await asyncio.sleep(0.2)
        pids = worker_pids(proc.pid, args.workers)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=args.timeout, sock_read=None)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await warm_up(http, base, args.timeout)
        await asyncio.sleep(2)
        rss_before = rss_kb(pids)

        sessions = [WidgetSession(i, 15 if args.compress else 0) for i in range(args.sessions)]
        try:
            connected, connect_errors, connect_took = await connect_all(
                http, base, sessions, args.ramp, args.timeout
            )
            await asyncio.sleep(args.idle_wait)
            rss_idle = rss_kb(pids)
            still_open = sum(1 for s in sessions if s.ws is not None and not s.ws.closed)
            per_connection_kb = (rss_idle - rss_before) / max(1, still_open)

            cpu_server_0, cpu_client_0, wall_0 = cpu_seconds(pids), client_cpu_seconds(), time.monotonic()
            measured, late, _, _ = await load(
                sessions, args.interval, args.interval, args.seconds, args.timeout, args.seed
            )
            wall = time.monotonic() - wall_0
            cpu_server = (cpu_seconds(pids) - cpu_server_0) / wall
            cpu_client = (client_cpu_seconds() - cpu_client_0) / wall
            rss_after = rss_kb(pids)
            open_at_end = sum(1 for s in sessions if s.ws is not None and not s.ws.closed)
        finally:
            await asyncio.gather(*(s.close() for s in sessions))

    outcomes = Counter(t.outcome for t in measured)
    ok = [t for t in measured if t.outcome == "ok"]
    reply = quantiles_ms([t.replied_at - t.sent_at for t in ok])
    ack = quantiles_ms([t.acked_at - t.sent_at for t in ok])
    stray = Counter()
    for s in sessions:
        stray.update(s.stray_errors)
    return {
        "database": env["DATABASE_URL"].split("@")[-1],
        "workers": args.workers,
        "sessions": args.sessions,
        "interval_s": args.interval,
        "seconds": args.seconds,
        "connected": connected,
        "connect_errors": dict(connect_errors),
        "connect_seconds": round(connect_took, 1),
        "open_at_end": open_at_end,
        "turns": len(ok),
        "turns_per_s": round(len(ok) / args.seconds, 1),
        "reply_p50_ms": round(reply[0], 1),
        "reply_p95_ms": round(reply[1], 1),
        "reply_p99_ms": round(reply[2], 1),
        "reply_max_ms": round(reply[3], 1),
        "ack_p50_ms": round(ack[0], 1),
        "ack_p99_ms": round(ack[2], 1),
        "errors": {k: v for k, v in outcomes.items() if k not in ("ok", "timeout")},
        "timeouts": outcomes.get("timeout", 0),
        "stray_errors": dict(stray),
        "late_sends": late,
        "rss_before_mb": round(rss_before / 1024, 1),
        "rss_idle_mb": round(rss_idle / 1024, 1),
        "rss_after_load_mb": round(rss_after / 1024, 1),
        "kb_per_connection": round(per_connection_kb, 1),
        "server_cpu": round(cpu_server, 2),
        "client_cpu": round(cpu_client, 2),
    }


def report(r: dict, args: argparse.Namespace) -> None:
    def mark(ok: bool) -> str:
        return "✓" if ok else "✗"

    errors = sum(r["errors"].values())
    print(
        f"database: {r['database']}, workers: {r['workers']}, sessions: {r['sessions']}, "
        f"one message every {r['interval_s']:g} s, ramp {args.ramp:g} s, measured {r['seconds']:g} s, "
        f"permessage-deflate {'on' if args.compress else 'off'}"
    )
    print(f"{'':34} {'measured':>12}   target")
    print(f"{'sessions connected':34} {r['connected']:>12}   {r['sessions']}")
    print(f"{'turns (measured window)':34} {r['turns']:>12}")
    print(f"{'turns/s':34} {r['turns_per_s']:>12}   ({r['sessions'] / r['interval_s']:g} offered)")
    print(f"{'reply latency p50 ms':34} {r['reply_p50_ms']:>12}")
    print(f"{'reply latency p95 ms':34} {r['reply_p95_ms']:>12}")
    print(
        f"{'reply latency p99 ms':34} {r['reply_p99_ms']:>12}   ≤ {TARGET_P99_MS:g} "
        f"{mark(r['reply_p99_ms'] <= TARGET_P99_MS)}"
    )
    print(f"{'reply latency max ms':34} {r['reply_max_ms']:>12}")
    print(f"{'ack latency p50 / p99 ms':34} {str(r['ack_p50_ms']) + ' / ' + str(r['ack_p99_ms']):>12}")
    failures = f"{errors} / {r['timeouts']}"
    print(f"{'errors / timeouts':34} {failures:>12}   0 / 0")
    print(
        f"{'server memory per idle connection':34} {str(r['kb_per_connection']) + ' KB':>12}   "
        f"< {TARGET_KB_PER_CONNECTION:g} KB {mark(r['kb_per_connection'] < TARGET_KB_PER_CONNECTION)}"
    )
    print(
        f"server RSS: {r['rss_before_mb']} MB before connecting, {r['rss_idle_mb']} MB with "
        f"{r['connected']} idle sessions, {r['rss_after_load_mb']} MB after the load"
    )
    print(
        f"CPU during the load (1.0 = one core): server {r['server_cpu']}, this client {r['client_cpu']}; "
        f"connecting took {r['connect_seconds']} s; late sends {r['late_sends']}; "
        f"sockets open at the end {r['open_at_end']}"
    )
    if r["connect_errors"] or r["errors"] or r["stray_errors"]:
        print(f"connect errors: {r['connect_errors']}, turn errors: {r['errors']}, other errors: {r['stray_errors']}")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000, help="concurrent widget sessions")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between one session's messages")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time")
    parser.add_argument("--ramp", type=float, default=15.0, help="seconds over which the sessions connect")
    parser.add_argument("--idle-wait", type=float, default=5.0, help="idle seconds before reading the RSS")
    parser.add_argument("--timeout", type=float, default=10.0, help="per turn / per connection")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--data-dir", default=str(ROOT / "data"))
    parser.add_argument("--workers", type=int, default=1, help="sapa run --workers")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--compress", action="store_true",
        help="offer permessage-deflate as browsers do (default: uncompressed frames)",
    )
    parser.add_argument("--json", dest="json_out", help="write the results here")
    args = parser.parse_args()
    if not 1 <= args.sessions <= 20_000 or args.interval <= 0 or not 0 < args.seconds <= 3600:
        parser.error("--sessions 1..20000, --interval > 0, --seconds 0..3600")
    raise_fd_limit(2 * args.sessions + 1024)  # inherited by the server

    workdir = Path(tempfile.mkdtemp(prefix="sapa-widget-bench-"))
    data_dir = workdir / "data"
    prepare_data_dir(Path(args.data_dir), data_dir)
    log = open(workdir / "server.log", "wb")
    proc, base, env = start_sapa(workdir, data_dir, args.database_url, args.workers, log)
    budget = 240 + 30 + args.ramp + args.idle_wait + args.interval + args.seconds + 2 * args.timeout + 60
    try:
        result = await asyncio.wait_for(bench(args, base, proc, env), budget)
    except BaseException:
        log.flush()
        tail = (workdir / "server.log").read_text("utf-8", "replace")[-3000:]
        print(f"--- server log (tail) ---\n{tail}", file=sys.stderr)
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)
    report(result, args)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2))
    return 0


def _loop_factory():
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


if __name__ == "__main__":
    factory = _loop_factory()
    if factory is not None:
        with asyncio.Runner(loop_factory=factory) as runner:
            sys.exit(runner.run(main()))
    sys.exit(asyncio.run(main()))

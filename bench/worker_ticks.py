"""The worker's tick throughput: how many market ticks per second one ``python -m agents``
gets through (its tick agent and every engine on it: quote cache and NAV offers, price alerts,
paper broker), with price alerts and resting paper orders on the symbols, and optionally a
py-spy profile.

A backlog of TICKS ticks (bench/node/ticks.mjs, Faust's JSON, keyed by symbol) is produced
while the worker is running; the worker's consumer group lag on the tick topic is read every
half second until it is zero. Ticks per second = ticks ÷ seconds from the first tick produced
to lag zero (Faust commits every ~2.8 s: a short run overstates the time by up to that). The
alerts never fire and the orders never fill (thresholds and limits far from the bench prices),
so what is measured is the per-tick cost of looking at them. The worker's CPU time (user +
system, from /proc) over the same span is printed too, with ticks per CPU second: on a machine
shared with other work the wall-clock rate says how much CPU the worker got as much as what it
costs, the rate per CPU second much less so.

Local services come from scripts/services.py (test profile, an instance of its own) and are
stopped at the end. Run: ``.venv/bin/python bench/worker_ticks.py --ticks 10000``; with
``--profile SECONDS`` py-spy (``--py-spy PATH``; ``make bench`` installs it in
.local/bench-venv) samples the worker while it drains and the functions of app/, agents/ and
streams/ with the largest share of samples are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fanout  # the fan-out bench's service and process helpers

ROOT, NODE, PY = fanout.ROOT, fanout.NODE, fanout.PY


async def seed(symbols: list[str], alerts: int, orders: int) -> None:
    """The bench instruments, ``alerts`` price alerts and ``orders`` open paper limit orders
    per symbol (bench prices are 100.00–104.99: above 500.00 never fires, a buy at 1.00 never
    fills)."""
    from app.alerts.documents import PriceAlert
    from app.alerts.rules import AlertKind
    from app.config import get_settings
    from app.extensions import connect_mongo
    from app.market import repository
    from app.market.documents import Instrument
    from app.orders.documents import OrderKind, OrderSide, PaperOrder

    client = await connect_mongo(get_settings(), [Instrument, PriceAlert, PaperOrder])
    try:
        await repository.upsert_instruments([
            {"symbol": s, "name": f"Bench {s}", "currency": "USD", "is_index": False,
             "source": "bench", "first_date": "2012-06-01", "last_date": "2012-06-01"}
            for s in symbols
        ])  # fmt: skip
        for s in symbols:
            for i in range(alerts):
                await PriceAlert(club_id=f"bench-club-{i}", created_by="bench", symbol=s,
                                 kind=AlertKind.ABOVE, threshold=50_000 + i, rearm=True,
                                 side="below").insert()  # fmt: skip
            for i in range(orders):
                await PaperOrder(order_id=f"bench-{s}-{i}", club_id=f"bench-club-{i}",
                                 side=OrderSide.BUY, kind=OrderKind.LIMIT, symbol=s,
                                 quantity=10, limit_price=100 + i, reserved=10**9,
                                 after_seq=0).insert()  # fmt: skip
    finally:
        await client.close()


async def lag_of(topic: str, group: str, brokers: str) -> int:
    """The group's lag on the tick topic (records not yet committed)."""
    from streams.lag import consumer_lag

    return (await consumer_lag(brokers, group, {topic: 4}))[topic]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) the process ``pid`` has used so far, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile_summary(raw: Path, top: int) -> list[tuple[str, float]]:
    """Share of samples (inclusive) of each frame of the project's own code in a py-spy raw
    (collapsed) file, largest first."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        total += int(n)
        seen = set()
        for frame in stack.split(";"):
            if any(part in frame for part in ("/app/", "/agents/", "/streams/", "app/", "agents/")):
                name = frame.split(" (")[0] + " (" + frame.split(" (")[-1].split(":")[0] + ")"
                if name not in seen:
                    seen.add(name)
                    counts[name] += int(n)
    return [(name, 100 * c / max(total, 1)) for name, c in counts.most_common(top)]


def main() -> None:
    """Parse the options, seed, start the worker, produce the backlog, time its drain."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=10_000, help="backlog size")
    parser.add_argument("--rate", type=int, default=20_000, help="production rate, ticks/s")
    parser.add_argument("--symbols", type=int, default=50)
    parser.add_argument("--alerts", type=int, default=2, help="price alerts per symbol")
    parser.add_argument("--orders", type=int, default=1, help="open paper orders per symbol")
    parser.add_argument("--timeout", type=float, default=300, help="give up after (s)")
    parser.add_argument("--profile", type=float, default=0, help="py-spy seconds (0: off)")
    parser.add_argument("--py-spy", default="py-spy", help="the py-spy executable")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if not (fanout.BENCH / "node_modules" / "kafkajs").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=fanout.BENCH, check=True)  # fmt: skip
    env = fanout.services_up()
    env.update({
        "SAMOOH_ENVIRONMENT": "test", "SAMOOH_LOG_LEVEL": "WARNING",
        "SAMOOH_MONGODB_DATABASE": f"bench_{os.getpid()}", "SAMOOH_TOPIC_PREFIX": fanout.INSTANCE,
        "SAMOOH_WORKER_ID": fanout.INSTANCE, "SAMOOH_REDIS_PREFIX": fanout.INSTANCE,
        "SAMOOH_WORKER_DATA_DIR": str(fanout.LOGS / "worker-data"),
    })  # fmt: skip
    os.environ.update(env)
    full_env = {**os.environ}
    worker = None
    figures: dict[str, object] = {}
    try:
        import redis

        from agents.lifecycle import ready_key
        from streams.topics import MARKET_TICKS

        symbols = [f"BENCH{i:02d}" for i in range(args.symbols)]
        topic, brokers = MARKET_TICKS.name, env["KAFKA_BOOTSTRAP_SERVERS"]
        asyncio.run(seed(symbols, args.alerts, args.orders))
        ticks = ["node", str(NODE / "ticks.mjs"), "--brokers", brokers, "--topic", topic,
                 "--symbols", ",".join(symbols)]  # fmt: skip
        subprocess.run([*ticks, "--rate", "0", "--seconds", "0", "--create-only", "1"],
                       check=True)  # fmt: skip
        worker = fanout.start("worker", [PY, "-m", "agents"], full_env)
        r = redis.Redis.from_url(env["REDIS_URL"])
        deadline = time.monotonic() + 180
        while not r.get(ready_key(fanout.INSTANCE)):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit(f"the worker did not become ready: see {fanout.LOGS}")
            time.sleep(0.3)
        time.sleep(2)
        load_start = fanout.loadavg()
        cpu_start = cpu_seconds(worker.pid)
        started = time.monotonic()
        produced = json.loads(subprocess.run(
            [*ticks, "--rate", str(args.rate), "--seconds", f"{args.ticks / args.rate:.3f}"],
            check=True, stdout=subprocess.PIPE).stdout)  # fmt: skip
        spy = None
        raw = fanout.LOGS / "worker-profile.txt"
        if args.profile:
            spy = subprocess.Popen(
                [args.py_spy, "record", "--pid", str(worker.pid), "--format", "raw",
                 "--duration", str(int(args.profile)), "--rate", "50", "--output", str(raw),
                 "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        lag = -1
        while time.monotonic() - started < args.timeout:
            lag = asyncio.run(lag_of(topic, fanout.INSTANCE, brokers))
            if lag == 0:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(worker.pid) - cpu_start
        done = produced["sent"] - max(lag, 0)
        figures = {
            "ticks": produced["sent"], "consumed": done, "seconds": round(elapsed, 2),
            "ticks_per_s": round(done / elapsed, 1), "finished": lag == 0,
            "worker_cpu_s": round(cpu, 2), "ticks_per_cpu_s": round(done / max(cpu, 0.01), 1),
            "alerts": args.alerts * args.symbols, "open_orders": args.orders * args.symbols,
            "load_average": f"{load_start.split()[0]} → {fanout.loadavg().split()[0]}",
            "cores": os.cpu_count(),
        }  # fmt: skip
        if spy is not None:
            spy.wait(timeout=args.profile + 60)
            if raw.exists():
                figures["profile"] = profile_summary(raw, 25)
    finally:
        if worker is not None:
            fanout.stop([worker])
        fanout.services_down()
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

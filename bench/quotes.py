"""Benchmark: tick → socket latency and quotes delivered per client per second.

Starts its own local services (scripts/services.py, a test-profile instance), the web server
and a worker; connects CLIENTS python-socketio clients (one guest token), each subscribed to
SYMBOLS symbols; sends ticks for those symbols at RATE ticks/s through Kafka for SECONDS; and
prints latency percentiles (tick creation → arrival at a client, all clocks on this machine)
and the delivery rate per client. Run: ``make bench`` or ``.venv/bin/python bench/quotes.py``.
Options: ``--clients 50 --symbols 10 --rate 200 --seconds 20 --coalesce-ms 250``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
INSTANCE = f"bench{os.getpid()}"
SERVICES = [PY, str(ROOT / "scripts" / "services.py")]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def services_up() -> dict[str, str]:
    out = subprocess.run([*SERVICES, "up", "--profile", "test", "--instance", INSTANCE],
                         stdout=subprocess.PIPE, check=True).stdout.decode()  # fmt: skip
    env: dict[str, str] = {}
    for line in out.splitlines():
        if line.startswith("export ") and "=" in line:
            name, _, value = line[len("export ") :].partition("=")
            env[name] = shlex.split(value)[0]
    return env


def services_down() -> None:
    subprocess.run([*SERVICES, "down", "--profile", "test", "--instance", INSTANCE], check=False)
    subprocess.run(["rm", "-rf", str(ROOT / ".local" / f"test-{INSTANCE}")], check=False)


def guest_token(url: str) -> str:
    request = urllib.request.Request(f"{url}/api/v1/auth/guest", method="POST", data=b"{}",
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["access_token"])


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def run(args: argparse.Namespace, env: dict[str, str], url: str) -> dict[str, object]:
    import socketio

    from app.config import get_settings
    from app.market.dataset import load_catalogue
    from streams.producer import EventProducer
    from streams.records import MarketTickV1
    from streams.topics import MARKET_TICKS

    symbols = [s for s in load_catalogue() if s != "SP500"][: args.symbols]
    token = guest_token(url)

    latencies: list[float] = []
    received = [0] * args.clients
    clients = []
    measuring = False
    for index in range(args.clients):
        client = socketio.AsyncClient(reconnection=False)

        def on_tick(data: dict[str, object], index: int = index) -> None:
            if not measuring or not str(data["id"]).startswith("bench:"):
                return
            sent = int(str(data["id"]).split(":")[2])
            latencies.append(time.time_ns() / 1e6 - sent / 1e3)
            received[index] += 1

        client.on("quote:tick", on_tick)
        await client.connect(url, transports=["websocket"], auth={"token": token})
        ack = await client.call("quote:subscribe", {"symbols": symbols}, timeout=10)
        assert ack["ok"], ack
        clients.append(client)

    producer = EventProducer(get_settings().kafka_bootstrap_servers, client_id="bench")
    await producer.start()
    interval = 1 / args.rate
    sent = 0
    pending: list[asyncio.Future[None]] = []
    measuring = True
    started = time.monotonic()
    next_at = started
    while time.monotonic() - started < args.seconds:
        symbol = symbols[sent % len(symbols)]
        now_us = time.time_ns() // 1000
        tick = MarketTickV1(
            id=f"bench:{symbol}:{now_us}", seq=now_us, ts=dt.datetime.now(dt.UTC).isoformat(),
            symbol=symbol, price=10_000 + sent % 500, open=10_000, high=10_500, low=9_900,
            prev_close=10_000, volume=None, currency="USD", trade_date="2012-06-01",
            source="bench",
        )  # fmt: skip
        # Not waiting for each acknowledgement keeps the rate; order per key is kept.
        pending.append(asyncio.ensure_future(producer.send_many(MARKET_TICKS, [(symbol, tick)])))
        sent += 1
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    await asyncio.gather(*pending)
    elapsed = time.monotonic() - started
    await asyncio.sleep(2)  # let the last ones arrive
    measuring = False
    await producer.stop()
    for client in clients:
        await client.disconnect()
    per_client = [n / elapsed for n in received]
    return {
        "clients": args.clients, "symbols": len(symbols), "tick_rate_per_s": round(sent / elapsed),
        "coalesce_ms": args.coalesce_ms, "seconds": round(elapsed, 1), "ticks_sent": sent,
        "quotes_delivered": sum(received),
        "quotes_per_client_per_s_mean": round(statistics.mean(per_client), 1),
        "quotes_per_client_per_s_min": round(min(per_client), 1),
        "latency_ms_p50": round(percentile(latencies, 50), 1) if latencies else None,
        "latency_ms_p99": round(percentile(latencies, 99), 1) if latencies else None,
        "latency_ms_max": round(max(latencies), 1) if latencies else None,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--rate", type=int, default=200, help="ticks per second, all symbols")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--coalesce-ms", type=int, default=250)
    args = parser.parse_args()
    env = services_up()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env.update({
        "SAMOOH_ENVIRONMENT": "test", "SAMOOH_LOG_LEVEL": "WARNING",
        "SAMOOH_MONGODB_DATABASE": f"bench_{os.getpid()}", "SAMOOH_TOPIC_PREFIX": INSTANCE,
        "SAMOOH_WORKER_ID": INSTANCE, "SAMOOH_REDIS_PREFIX": INSTANCE,
        "SAMOOH_WORKER_DATA_DIR": f"/tmp/{INSTANCE}",
        "SAMOOH_PUBLIC_URL": url, "SAMOOH_QUOTE_COALESCE_MS": str(args.coalesce_ms),
        "SAMOOH_RATE_LIMIT_GUEST": "1000/minute",
    })  # fmt: skip
    os.environ.update(env)
    full_env = {**os.environ}
    procs = []
    try:
        subprocess.run([PY, "-m", "devtools.demo"], cwd=ROOT, env=full_env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        logs = Path(f"/tmp/{INSTANCE}")
        logs.mkdir(parents=True, exist_ok=True)
        for name, argv in (("web", [PY, "-m", "app", "--port", str(port)]),
                           ("worker", [PY, "-m", "agents"])):  # fmt: skip
            with (logs / f"{name}.log").open("wb") as log:
                out = {"stdout": log, "stderr": subprocess.STDOUT}
                procs.append(
                    subprocess.Popen(argv, cwd=ROOT, env=full_env, start_new_session=True, **out)
                )
        import redis

        from agents.lifecycle import ready_key

        deadline = time.monotonic() + 90
        r = redis.Redis.from_url(env["REDIS_URL"])
        while not r.get(ready_key(INSTANCE)):
            if time.monotonic() > deadline:
                raise SystemExit(f"the worker did not become ready: see {logs}/worker.log")
            time.sleep(0.3)
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/ready", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        figures = asyncio.run(run(args, env, url))
        print(json.dumps(figures, indent=2))
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=20)
        services_down()


if __name__ == "__main__":
    main()

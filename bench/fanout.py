"""The fair fan-out benchmark: Samooh's full quote path against a Node Socket.IO 4 server, one
after the other in one run, with the same load generator and the same ticks.

Both servers consume the same Kafka tick topic and fan each quote out to the sockets subscribed
to its symbol:

* ``node``: bench/node/refserver.mjs (socket.io 4 + kafkajs, no coalescing, no auth);
* ``samooh``: Kafka → worker (``python -m agents``: cache, coalescer) → Redis → web process(es)
  (``python -m app``: python-socketio on Hypercorn) → sockets, signed in with a guest token.

The ticks come from bench/node/ticks.mjs (RATE ticks/s over SYMBOLS symbols, Faust's JSON); the
clients from bench/node/loadgen.mjs (socket.io-client; CLIENTS sockets each subscribed to PER
symbols), which measures latency from the tick's creation (its id carries the creation time in
µs) to its arrival. Memory per connection is the servers' resident memory after the sockets
connected minus before, divided by the sockets. All processes run on this machine; its load
average is printed with the figures (other work on it makes them noisy).

Local services come from scripts/services.py (test profile, an instance of its own, free
ports) and are stopped at the end. Run: ``make bench`` or ``.venv/bin/python bench/fanout.py``
(``--help`` for the options; defaults are the issue's target load, about three minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
NODE = BENCH / "node"
sys.path.insert(0, str(ROOT))
PY = sys.executable
INSTANCE = f"fanout{os.getpid()}"
SERVICES = [PY, str(ROOT / "scripts" / "services.py")]
LOGS = Path(f"/tmp/{INSTANCE}")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def services_up() -> dict[str, str]:
    """Start this run's own local services; their ``NAME=value`` exports."""
    out = subprocess.run([*SERVICES, "up", "--profile", "test", "--instance", INSTANCE],
                         stdout=subprocess.PIPE, check=True).stdout.decode()  # fmt: skip
    env: dict[str, str] = {}
    for line in out.splitlines():
        if line.startswith("export ") and "=" in line:
            name, _, value = line[len("export ") :].partition("=")
            env[name] = shlex.split(value)[0]
    return env


def services_down() -> None:
    """Stop this run's services and remove their data."""
    subprocess.run([*SERVICES, "down", "--profile", "test", "--instance", INSTANCE], check=False,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    subprocess.run(["rm", "-rf", str(ROOT / ".local" / f"test-{INSTANCE}")], check=False)


def rss_kib(pids: list[int]) -> int:
    """Resident memory of ``pids`` together, KiB (from /proc)."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def start(name: str, argv: list[str], env: dict[str, str], **kw: Any) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a session of its own, output to LOGS/<name>.log unless piped."""
    LOGS.mkdir(parents=True, exist_ok=True)
    if "stdout" not in kw:
        kw["stdout"] = (LOGS / f"{name}.log").open("wb")
        kw["stderr"] = subprocess.STDOUT
    else:
        kw.setdefault("stderr", (LOGS / f"{name}.err.log").open("wb"))
    return subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True, **kw)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group, wait, SIGKILL what is left."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def read_json_line(stream: IO[bytes], what: str) -> dict[str, Any]:
    """The next line of ``stream`` that is a JSON object. Raises SystemExit at end of stream."""
    while True:
        line = stream.readline()
        if not line:
            raise SystemExit(f"{what} ended early: see {LOGS}")
        text = line.decode().strip()
        if text.startswith("{"):
            return dict(json.loads(text))


def wait_http(url: str, timeout: float = 90) -> None:
    """Wait until ``url`` answers 200."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer: see {LOGS}") from None
            time.sleep(0.3)


def guest_token(url: str) -> str:
    """A guest access token from the web server at ``url``."""
    request = urllib.request.Request(f"{url}/api/v1/auth/guest", method="POST", data=b"{}",
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["access_token"])


def measure(args: argparse.Namespace, env: dict[str, str], urls: list[str], symbols: list[str],
            topic: str, server_pids: list[int], token: str | None,
            web_only: bool = False) -> dict[str, Any]:  # fmt: skip
    """Connect the clients, produce the ticks, return the load generator's figures plus
    memory per connection and the load average."""
    before = rss_kib(server_pids)
    argv = ["node", str(NODE / "loadgen.mjs"), "--url", ",".join(urls), "--clients",
            str(args.clients), "--symbols", ",".join(symbols), "--per", str(args.per)]  # fmt: skip
    if token:
        argv += ["--token", token, "--batch", "1" if args.batch else "0"]
    gen = start("loadgen", argv, env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert gen.stdin is not None and gen.stdout is not None
    try:
        connected = read_json_line(gen.stdout, "the load generator")
        time.sleep(2)
        after = rss_kib(server_pids)
        if web_only:  # straight into Redis, as the worker's manager publishes (no Kafka)
            ticks_argv = [PY, str(BENCH / "publish_quotes.py"), "--redis", env["REDIS_URL"],
                          "--symbols", ",".join(symbols), "--rate", str(args.rate),
                          "--coalesce-ms", env.get("SAMOOH_QUOTE_COALESCE_MS", "250"),
                          "--seconds", str(args.warmup)]  # fmt: skip
        else:
            ticks_argv = ["node", str(NODE / "ticks.mjs"), "--brokers",
                          env["KAFKA_BOOTSTRAP_SERVERS"], "--topic", topic, "--symbols",
                          ",".join(symbols), "--rate", str(args.rate),
                          "--seconds", str(args.warmup)]  # fmt: skip
        # Warm-up: ticks until they arrive (a worker may still be joining its group), then more.
        deadline = time.monotonic() + 120
        while True:
            subprocess.run(ticks_argv, check=True, stdout=subprocess.DEVNULL)
            gen.stdin.write(b"seen\n")
            gen.stdin.flush()
            if read_json_line(gen.stdout, "the load generator")["seen"] > 0:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"no quote reached the clients in 120 s: see {LOGS}")
        subprocess.run(ticks_argv, check=True, stdout=subprocess.DEVNULL)
        gen.stdin.write(b"measure\n")
        gen.stdin.flush()
        ticks_argv[-1] = str(args.seconds)
        load_start = loadavg()
        produced = json.loads(subprocess.run(ticks_argv, check=True, stdout=subprocess.PIPE).stdout)
        time.sleep(args.drain)
        gen.stdin.write(b"stop\n")
        gen.stdin.flush()
        figures = read_json_line(gen.stdout, "the load generator")
    finally:
        stop([gen])
    figures.update({
        "connected": connected["connected"], "ticks_per_s": produced["sent"] / produced["seconds"],
        "kib_per_connection": (after - before) / max(1, connected["connected"]),
        "server_rss_mib": after / 1024,
        "load_average": f"{load_start.split()[0]} → {loadavg().split()[0]}",
    })  # fmt: skip
    return figures


def run_node(args: argparse.Namespace, env: dict[str, str], symbols: list[str],
             topic: str) -> dict[str, Any]:  # fmt: skip
    """The reference server's figures."""
    port = free_port()
    argv = ["node", str(NODE / "refserver.mjs"), "--port", str(port), "--brokers",
            env["KAFKA_BOOTSTRAP_SERVERS"], "--topic", topic]  # fmt: skip
    server = start("refserver", argv, env, stdout=subprocess.PIPE)
    assert server.stdout is not None
    try:
        while server.stdout.readline().decode().strip() != "ready":
            if server.poll() is not None:
                raise SystemExit(f"the Node server ended early: see {LOGS}")
        return measure(args, env, [f"http://127.0.0.1:{port}"], symbols, topic, [server.pid], None)
    finally:
        stop([server])


def run_samooh(args: argparse.Namespace, env: dict[str, str], symbols: list[str],
               topic: str) -> dict[str, Any]:  # fmt: skip
    """Samooh's figures: ``args.web`` web processes and one worker."""
    import redis

    from agents.lifecycle import ready_key

    ports = [free_port() for _ in range(args.web)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    env = {**env, "SAMOOH_PUBLIC_URL": urls[0]}
    procs = [start(f"web{i}", [PY, "-m", "app", "--port", str(port)], env)
             for i, port in enumerate(ports)]  # fmt: skip
    web_only = args.path == "web"
    if not web_only:
        procs.append(start("worker", [PY, "-m", "agents"], env))
    try:
        deadline = time.monotonic() + 120
        r = redis.Redis.from_url(env["REDIS_URL"])
        while not web_only and not r.get(ready_key(INSTANCE)):
            if time.monotonic() > deadline or procs[-1].poll() is not None:
                raise SystemExit(f"the worker did not become ready: see {LOGS}/worker.log")
            time.sleep(0.3)
        for url in urls:
            wait_http(f"{url}/api/ready")
        token = guest_token(urls[0])
        web_pids = [proc.pid for proc in procs[: args.web]]
        return measure(args, env, urls, symbols, topic, web_pids, token, web_only)
    finally:
        stop(procs)


def table(results: dict[str, dict[str, Any]]) -> str:
    """The figures side by side, and Samooh's ratio to the Node server."""
    rows = [
        ("ticks produced / s", "ticks_per_s", "{:.0f}"),
        ("sockets connected", "connected", "{}"),
        ("deliveries / s", "deliveries_per_s", "{:.0f}"),
        ("quotes / client / s", "quotes_per_client_per_s", "{:.1f}"),
        ("  slowest client", "quotes_per_client_per_s_min", "{:.1f}"),
        ("latency p50 ms", "p50_ms", "{:.1f}"),
        ("latency p99 ms", "p99_ms", "{:.1f}"),
        ("latency max ms", "max_ms", "{:.1f}"),
        ("memory / connection KiB", "kib_per_connection", "{:.1f}"),
        ("server RSS MiB", "server_rss_mib", "{:.0f}"),
        ("load average (1 min)", "load_average", "{}"),
    ]
    names = list(results)
    lines = ["".ljust(26) + "".join(n.rjust(20) for n in names)]
    for label, key, fmt in rows:
        cells = []
        for n in names:
            value = results[n].get(key)
            cells.append(("-" if value is None else fmt.format(value)).rjust(20))
        lines.append(label.ljust(26) + "".join(cells))
    for name in names:
        if "node" in results and name.startswith("samooh"):
            ratio = results[name]["quotes_per_client_per_s"] / max(
                1e-9, results["node"]["quotes_per_client_per_s"]
            )
            lines.append(f"ratio {name}/node, quotes per client per s: {ratio:.2f}")
    return "\n".join(lines)


async def load_instruments(symbols: list[str]) -> None:
    """Make ``symbols`` instruments of the platform (the catalogue has fewer than 50 stocks)."""
    from app.config import get_settings
    from app.extensions import connect_mongo
    from app.market import repository
    from app.market.documents import Instrument

    client = await connect_mongo(get_settings(), [Instrument])
    try:
        await repository.upsert_instruments([
            {"symbol": s, "name": f"Bench {s}", "currency": "USD", "is_index": False,
             "source": "bench", "first_date": "2012-06-01", "last_date": "2012-06-01"}
            for s in symbols
        ])  # fmt: skip
    finally:
        await client.close()


def variants(specs: list[str]) -> list[tuple[str, dict[str, str]]]:
    """``["fan50:SAMOOH_QUOTE_FANOUT_MS=50,batch=1"]`` → ``[("fan50", {...})]``."""
    parsed = []
    for spec in specs:
        label, _, assignments = spec.partition(":")
        pairs = [a.split("=", 1) for a in assignments.split(",") if a]
        parsed.append((label, {pair[0]: pair[1] for pair in pairs if len(pair) == 2}))
    return parsed


def main() -> None:
    """Parse the options, run each server's phase, print the table and the JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--symbols", type=int, default=50)
    parser.add_argument("--per", type=int, default=10, help="symbols per client")
    parser.add_argument("--rate", type=int, default=2000, help="ticks per second, all symbols")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per server")
    parser.add_argument("--warmup", type=float, default=3, help="ticks before measuring")
    parser.add_argument("--drain", type=float, default=2, help="seconds for the last arrivals")
    parser.add_argument("--servers", default="samooh,node",
                        help="in this order (the Node server reads from the topic's end, the "
                        "worker from its start)")  # fmt: skip
    parser.add_argument("--path", choices=["full", "web"], default="full",
                        help="Samooh: full (Kafka → worker → Redis → web) or web (ticks "
                        "published into Redis, no worker: the web fan-out alone)")  # fmt: skip
    parser.add_argument("--web", type=int, default=1, help="Samooh web processes")
    parser.add_argument("--coalesce-ms", type=int, default=None,
                        help="SAMOOH_QUOTE_COALESCE_MS (default: the settings')")  # fmt: skip
    parser.add_argument("--batch", action="store_true",
                        help="Samooh's clients ask for quote:batch packets")  # fmt: skip
    parser.add_argument("--fanout-ms", type=int, default=None,
                        help="SAMOOH_QUOTE_FANOUT_MS: the per-socket window")  # fmt: skip
    parser.add_argument("--socket-json", default=None, help="SAMOOH_SOCKET_JSON: json or orjson")
    parser.add_argument("--variant", action="append", default=[],
                        help="a Samooh phase of its own: LABEL:NAME=VALUE,… (environment "
                        "overrides; batch=1: batching clients); repeatable")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if not (BENCH / "node_modules" / "socket.io").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=BENCH,
                       check=True)  # fmt: skip
    env = services_up()
    env.update({
        "SAMOOH_ENVIRONMENT": "test", "SAMOOH_LOG_LEVEL": "WARNING",
        "SAMOOH_MONGODB_DATABASE": f"bench_{os.getpid()}", "SAMOOH_TOPIC_PREFIX": INSTANCE,
        "SAMOOH_WORKER_ID": INSTANCE, "SAMOOH_REDIS_PREFIX": INSTANCE,
        "SAMOOH_WORKER_DATA_DIR": str(LOGS / "worker-data"),
        "SAMOOH_RATE_LIMIT_GUEST": "100000/minute",
    })  # fmt: skip
    if args.coalesce_ms is not None:
        env["SAMOOH_QUOTE_COALESCE_MS"] = str(args.coalesce_ms)
    if args.fanout_ms is not None:
        env["SAMOOH_QUOTE_FANOUT_MS"] = str(args.fanout_ms)
    if args.socket_json is not None:
        env["SAMOOH_SOCKET_JSON"] = args.socket_json
    os.environ.update(env)
    full_env = {**os.environ}
    results: dict[str, dict[str, Any]] = {}
    try:
        from streams.topics import MARKET_TICKS

        symbols = [f"BENCH{i:02d}" for i in range(args.symbols)]
        topic = MARKET_TICKS.name
        asyncio.run(load_instruments(symbols))
        subprocess.run(["node", str(NODE / "ticks.mjs"), "--brokers",
                        env["KAFKA_BOOTSTRAP_SERVERS"], "--topic", topic, "--symbols", "X",
                        "--rate", "0", "--seconds", "0", "--create-only", "1"],
                       check=True)  # fmt: skip
        for name in args.servers.split(","):
            runs = [(name, {})] if name == "node" or not args.variant else [
                (f"samooh:{label}", overrides) for label, overrides in variants(args.variant)
            ]  # fmt: skip
            for label, overrides in runs:
                print(f"[bench] {label}: {args.clients} sockets × {args.per} symbols, "
                      f"{args.rate} ticks/s over {len(symbols)} symbols, {args.seconds:g} s; "
                      f"{overrides or ''} load {loadavg()}", flush=True)  # fmt: skip
                runner = run_node if name == "node" else run_samooh
                batch = args.batch or overrides.pop("batch", "") == "1"
                variant_args = argparse.Namespace(**{**vars(args), "batch": batch})
                results[label] = runner(variant_args, {**full_env, **overrides}, symbols, topic)
                print(json.dumps({label: results[label]}), flush=True)
    finally:
        services_down()
    settings = {k: v for k, v in vars(args).items() if k != "json"}
    print(f"\nfan-out, {os.cpu_count()} cores, {json.dumps(settings)}")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps({"settings": settings, "results": results}, indent=2))


if __name__ == "__main__":
    main()

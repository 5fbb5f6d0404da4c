"""The HTTP load run: locust (bench/locustfile.py) against one web process with seeded clubs,
printing p50 / p95 / p99 latency, requests per second and the error rate of the main read and
write endpoints (log-in, club page, portfolio, proposals, vote, contribution).

Local services come from scripts/services.py (test profile, an instance of its own) and are
stopped at the end; the web process and a worker run with the bench's rate limits raised (all
the users come from one address). Run: ``.venv/bin/python bench/http_load.py --users 200
--seconds 60 --locust PATH`` (``make bench`` installs locust in a virtual environment of its own,
.local/bench-venv: it patches the standard library with gevent). The figures carry the load
average: this machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fanout  # the fan-out bench's service and process helpers

ROOT, PY = fanout.ROOT, fanout.PY
PASSWORD = f"Bench-{uuid.uuid4().hex[:8]}-2026"  # this run's accounts only


async def seed(people: int, per_club: int) -> list[dict[str, str]]:
    """``people`` accounts in clubs of ``per_club`` members, each club with one open proposal
    (a day to vote); returns their log-in details, club and proposal ids."""
    from app.clubs.service import club_service
    from app.config import get_settings
    from app.documents import document_models
    from app.extensions import close_services, connect_services
    from app.identity.signup import do_provision_user
    from app.proposals.schemas import ProposalCreate
    from app.proposals.service import proposal_service

    await connect_services(get_settings(), document_models())
    out: list[dict[str, str]] = []
    try:
        for start in range(0, people, per_club):
            members = []
            for i in range(start, min(start + per_club, people)):
                email = f"bench-{i}-{uuid.uuid4().hex[:6]}@example.com"
                user = await do_provision_user(email=email, password=PASSWORD,
                                               full_name=f"Bench {i}")  # fmt: skip
                members.append((str(user.id), email))
            owner = members[0][0]
            club, _ = await club_service.do_create_club(owner, name=f"Bench {start}")
            if len(members) > 1:
                _, token = await club_service.do_create_invite(
                    str(club.id), owner, expires_in=dt.timedelta(hours=1),
                    max_uses=len(members) - 1)  # fmt: skip
                for user_id, _ in members[1:]:
                    await club_service.do_accept_invite(token, user_id)
            deadline = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
            proposal = await proposal_service.do_create(str(club.id), owner, ProposalCreate(
                kind="general", title="Bench decision", deadline=deadline))  # type: ignore[arg-type]  # fmt: skip
            out += [{"email": email, "password": PASSWORD, "club_id": str(club.id),
                     "proposal_id": str(proposal.id)} for _, email in members]  # fmt: skip
    finally:
        await close_services()
    return out


def figures(stats_csv: Path) -> list[dict[str, object]]:
    """locust's ``*_stats.csv``: per endpoint (and ``Aggregated``) requests, failures, req/s,
    p50 / p95 / p99 / max in ms."""
    rows = []
    with stats_csv.open() as f:
        for row in csv.DictReader(f):
            count = int(row["Request Count"])
            failures = int(row["Failure Count"])
            rows.append({
                "name": row["Name"], "requests": count, "failures": failures,
                "error_pct": round(100 * failures / max(count, 1), 3),
                "rps": round(float(row["Requests/s"]), 1), "p50": row["50%"],
                "p95": row["95%"], "p99": row["99%"], "max": round(float(row["Max Response Time"])),
            })  # fmt: skip
    return rows


def main() -> None:
    """Parse the options, seed, start the web process and a worker, run locust, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000, help="concurrent locust users")
    parser.add_argument("--spawn-rate", type=float, default=50, help="users started per s")
    parser.add_argument("--seconds", type=int, default=60, help="run time, spawning included")
    parser.add_argument("--people", type=int, default=200, help="seeded accounts (users share)")
    parser.add_argument("--per-club", type=int, default=20, help="members per seeded club")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--locust", default=str(ROOT / ".local" / "bench-venv" / "bin" / "locust"),
                        help="the locust executable")  # fmt: skip
    args = parser.parse_args()
    env = fanout.services_up()
    env.update({
        "SAMOOH_ENVIRONMENT": "test", "SAMOOH_LOG_LEVEL": "WARNING",
        "SAMOOH_MONGODB_DATABASE": f"bench_{os.getpid()}", "SAMOOH_TOPIC_PREFIX": fanout.INSTANCE,
        "SAMOOH_WORKER_ID": fanout.INSTANCE, "SAMOOH_REDIS_PREFIX": fanout.INSTANCE,
        "SAMOOH_WORKER_DATA_DIR": str(fanout.LOGS / "worker-data"),
        "SAMOOH_RATE_LIMIT_LOGIN": "1000000/minute", "SAMOOH_RATE_LIMIT_REFRESH": "1000000/minute",
    })  # fmt: skip
    os.environ.update(env)
    procs = []
    result: dict[str, object] = {}
    try:
        people = asyncio.run(seed(args.people, args.per_club))
        people_file = fanout.LOGS / "people.json"
        fanout.LOGS.mkdir(parents=True, exist_ok=True)
        people_file.write_text(json.dumps(people))
        port = fanout.free_port()
        url = f"http://127.0.0.1:{port}"
        full_env = {**os.environ, "SAMOOH_PUBLIC_URL": url,
                    "SAMOOH_BENCH_PEOPLE": str(people_file)}  # fmt: skip
        procs.append(fanout.start("web", [PY, "-m", "app", "--port", str(port)], full_env))
        procs.append(fanout.start("worker", [PY, "-m", "agents"], full_env))
        fanout.wait_http(f"{url}/api/ready", timeout=180)
        load_start = fanout.loadavg()
        prefix = fanout.LOGS / "locust"
        locust = [args.locust, "-f", str(ROOT / "bench" / "locustfile.py"),
                  "--headless", "--host", url, "-u", str(args.users), "-r",
                  str(args.spawn_rate), "-t", f"{args.seconds}s", "--csv", str(prefix),
                  "--only-summary", "--stop-timeout", "10"]  # fmt: skip
        started = time.monotonic()
        subprocess.run(locust, env=full_env, check=False, stdout=subprocess.DEVNULL,
                       stderr=(fanout.LOGS / "locust.log").open("wb"))  # fmt: skip
        rows = figures(Path(f"{prefix}_stats.csv"))
        result = {"users": args.users, "seconds": round(time.monotonic() - started),
                  "people": len(people), "cores": os.cpu_count(),
                  "load_average": f"{load_start.split()[0]} → {fanout.loadavg().split()[0]}",
                  "endpoints": rows}  # fmt: skip
    finally:
        fanout.stop(procs)
        fanout.services_down()
    print(f"HTTP load: {result.get('users')} users, {result.get('seconds')} s, load average "
          f"{result.get('load_average')}, {os.cpu_count()} cores")  # fmt: skip
    print(f"{'endpoint':34}{'requests':>9}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}{'max':>7}"
          f"{'errors %':>10}")  # fmt: skip
    for row in result.get("endpoints", []):  # type: ignore[attr-defined]
        print(f"{row['name']:34}{row['requests']:>9}{row['rps']:>8}{row['p50']:>7}"
              f"{row['p95']:>7}{row['p99']:>7}{row['max']:>7}{row['error_pct']:>10}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

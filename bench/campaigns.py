"""Benchmark: simultaneous pledges on one campaign near its goal, then their payments.

Starts its own local services (a test-profile instance), makes a live campaign and INVESTORS
KYC-verified people, fires PLEDGES reservations at once (``campaign_service.do_reserve``: one
guarded ``$inc`` with ``$expr`` each, re-quoted on a lost race), then applies one captured
payment per accepted pledge one at a time, as the payments agent does per pool. Prints the
reservation latency percentiles and rates, and checks the invariants: raised + reserved never
above the goal, raised == the sum of completed investments, the trial balance zero.
Run: ``.venv/bin/python bench/campaigns.py [--pledges 300 --investors 30 --goal 15000.00]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
INSTANCE = f"bench{os.getpid()}"
SERVICES = [PY, str(ROOT / "scripts" / "services.py")]


async def run(pledges: int, investors: int, goal: str) -> None:
    from app.campaigns import repository
    from app.campaigns.documents import InvestmentStatus
    from app.campaigns.errors import InvestmentRefused
    from app.campaigns.flows import campaign_flows
    from app.campaigns.service import campaign_service
    from app.config import get_settings
    from app.documents import document_models
    from app.extensions import close_services, connect_services
    from app.identity.documents import PlatformRole
    from app.identity.signup import do_provision_user
    from app.ledger.service import ledger_service
    from devtools.demo_campaigns import _fields
    from tests.campaigns.factories import captured, verify_kyc

    await connect_services(get_settings(), document_models())

    async def person(tag: str, roles: list[PlatformRole] | None = None) -> str:
        user = await do_provision_user(email=f"{tag}-{uuid.uuid4().hex[:8]}@bench.example",
                                       password=None, full_name=tag, roles=roles)  # fmt: skip
        await verify_kyc(str(user.id))
        return str(user.id)

    owner, admin = await person("owner"), await person("admin", [PlatformRole.ADMIN])
    people = [await person("investor") for _ in range(investors)]
    campaign = await campaign_service.do_create(
        owner, _fields("Bench campaign", "A campaign for the benchmark, nothing more.", "food",
                       "Pune", goal, 10, max=goal))  # fmt: skip
    cid = str(campaign.id)
    await campaign_service.do_submit(owner, cid)
    await campaign_service.do_review(admin, cid, "verify", "bench")
    rng = random.Random(7)
    asks = [(rng.choice(people), rng.choice([100, 250, 500, 1000]) * 100) for _ in range(pledges)]
    latencies: list[float] = []

    async def pledge(user: str, amount: int) -> object:
        started = time.perf_counter()
        try:
            return await campaign_service.do_reserve(user, cid, amount)
        except InvestmentRefused as exc:
            return exc
        finally:
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(pledge(u, a) for u, a in asks))
    reserve_seconds = time.perf_counter() - started
    accepted = [o for o in outcomes if not isinstance(o, Exception)]
    held = await campaign_service.get(cid)
    started = time.perf_counter()
    for investment in accepted:
        await campaign_flows.do_apply_payment_event(captured(investment))  # type: ignore[arg-type]
    apply_seconds = time.perf_counter() - started
    done = await campaign_service.get(cid)
    completed = await repository.investments_of_campaign(cid, (InvestmentStatus.COMPLETED,))
    balances = await ledger_service.balances(cid)
    q = statistics.quantiles(latencies, n=100)
    print(f"pledges {pledges} at once from {investors} people on a {goal} goal: "
          f"{len(accepted)} accepted, {pledges - len(accepted)} refused")  # fmt: skip
    print(f"reservation: {reserve_seconds:.2f} s for all ({pledges / reserve_seconds:.0f}/s); "
          f"latency p50 {q[49] * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms, "
          f"max {max(latencies) * 1000:.0f} ms")  # fmt: skip
    print(f"payments applied one at a time: {len(accepted)} in {apply_seconds:.2f} s "
          f"({len(accepted) / apply_seconds:.1f}/s)")  # fmt: skip
    print(f"held after the storm: raised {held.raised} + reserved {held.reserved} <= goal "
          f"{held.goal}: {held.raised + held.reserved <= held.goal}")  # fmt: skip
    print(f"after payments: raised {done.raised} == sum completed "
          f"{sum(i.amount for i in completed)}; status {done.status}; "
          f"trial balance sum {sum(balances.values())}")  # fmt: skip
    await close_services()


def main() -> None:
    """Start the services, run the benchmark, stop the services."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pledges", type=int, default=300)
    parser.add_argument("--investors", type=int, default=30)
    parser.add_argument("--goal", default="15000.00")
    args = parser.parse_args()
    up = subprocess.run([*SERVICES, "up", "--profile", "test", "--instance", INSTANCE],
                        check=True, capture_output=True, text=True)  # fmt: skip
    try:
        for line in up.stdout.splitlines():
            if line.startswith("export "):
                name, _, value = line[len("export ") :].partition("=")
                os.environ[name] = shlex.split(value)[0] if value else ""
        os.environ.setdefault("SAMOOH_ENVIRONMENT", "test")
        asyncio.run(run(args.pledges, args.investors, args.goal))
    finally:
        subprocess.run([*SERVICES, "down", "--profile", "test", "--instance", INSTANCE],
                       check=False, capture_output=True)  # fmt: skip


if __name__ == "__main__":
    main()

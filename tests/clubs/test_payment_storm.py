"""A storm of duplicated, shuffled webhooks with a worker killed (kill -9) in the middle: every
payment is posted to the books exactly once (Kafka at least once + idempotent application)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from app.books import repository
from app.books.documents import ContributionStatus
from app.config import Settings
from app.ledger import accounts
from app.ledger.documents import JournalEntry
from app.ledger.service import ledger_service
from tests.clubs.http import login
from tests.conftest import ROOT, LiveStack, tail
from tests.identity.conftest import Api
from tests.payments.sandbox_client import SandboxClient


async def _worker_joined(settings: Settings, since: str) -> bool:
    import redis.asyncio as aioredis

    from agents.lifecycle import ready_key

    client = aioredis.Redis.from_url(settings.redis_url)
    try:
        value = await client.get(ready_key(settings.worker_id))
    finally:
        await client.aclose()
    return value is not None and value.decode() > since


async def test_storm_with_a_worker_killed_midway_posts_each_payment_once(
    api: Api, payment_stack: SandboxClient, live_stack: LiveStack, settings: Settings,
    tmp_path: Path,
) -> None:  # fmt: skip
    owner = await login(api)
    clubs = [
        (await owner.ok("POST", "/api/v1/clubs", {"name": f"Storm {i}"}, status=201))["id"]
        for i in range(4)
    ]
    planned: dict[str, tuple[str, int]] = {}  # contribution id → (club id, paise)
    orders = []
    for n in range(12):
        club_id, amount = clubs[n % 4], 100_000 + 1_237 * n
        body = await owner.ok("POST", f"/api/v1/clubs/{club_id}/contributions",
                              {"amount": f"{amount // 100}.{amount % 100:02d}"}, status=201,
                              key=str(uuid.uuid4()))  # fmt: skip
        planned[body["id"]] = (club_id, amount)
        orders.append(body["order_id"])

    # A second worker joins the group and takes half the partitions.
    import datetime as dt

    before = dt.datetime.now(dt.UTC).isoformat()
    log = tmp_path / "extra-worker.log"
    extra = subprocess.Popen(
        [sys.executable, "-m", "agents"], cwd=ROOT, env=dict(os.environ),
        stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not await _worker_joined(settings, before):
            assert extra.poll() is None, tail(log)
            assert time.monotonic() < deadline, f"extra worker never joined:\n{tail(log)}"
            await asyncio.sleep(0.2)

        # Every event three times, all held, then released in random order.
        await payment_stack.control(duplicates=2, hold=True, shuffle=True)
        for order_id in orders:
            await payment_stack.pay(order_id)
        await payment_stack.flush(shuffle=True)

        async def received_count() -> int:
            statuses = [
                (await repository.get_contribution(cid)) for cid in planned
            ]  # fmt: skip
            return sum(1 for c in statuses if c and c.status == ContributionStatus.RECEIVED)

        deadline = time.monotonic() + 60
        while await received_count() < 3:
            assert time.monotonic() < deadline, "no payment applied"
            await asyncio.sleep(0.05)
        os.killpg(extra.pid, signal.SIGKILL)  # mid-stream, no goodbye to the group
        assert extra.wait(timeout=10) == -signal.SIGKILL

        deadline = time.monotonic() + 90  # the survivor takes over after the session timeout
        while await received_count() < len(planned):
            assert time.monotonic() < deadline, f"only {await received_count()} applied"
            await asyncio.sleep(0.25)
        await payment_stack.wait_settled(orders, timeout=30)
    finally:
        if extra.poll() is None:
            os.killpg(extra.pid, signal.SIGKILL)
            extra.wait()
        await payment_stack.reset()

    await asyncio.sleep(1.0)  # any late duplicate would land now
    for contribution_id, (club_id, amount) in planned.items():
        entries = await JournalEntry.find(
            {"pool_id": club_id, "kind": "contribution_received",
             "memo": {"$regex": f"^contribution {contribution_id} "}}
        ).to_list()  # fmt: skip
        assert len(entries) == 1, (contribution_id, len(entries))
        assert entries[0].lines[0].amount == amount
    for club_id in clubs:
        expected = sum(a for c, a in planned.values() if c == club_id)
        balances = await ledger_service.balances(club_id)
        assert balances[accounts.CASH] == expected
        assert balances[accounts.UNALLOCATED_CONTRIBUTIONS] == -expected
        assert sum(balances.values()) == 0

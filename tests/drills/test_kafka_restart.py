"""Drill: the Kafka broker restarted while payments stream in.

Two web processes and a worker run on a Kafka broker (and Redis) of their own. Members pay
contributions to four clubs through the sandbox provider, whose webhooks reach web A, in three
waves: before the broker stops, while it is down, and right after it is back. The provider
gives up quickly here (three attempts within a second or so): a payment whose webhooks all
fell in the outage is stored in the payments outbox (``PaymentOutcome``, pending) and nothing
but the outbox sweep can bring it to Kafka.

Asserted: nobody is restarted by hand — the web processes' producers and the worker recover by
themselves (still the same processes, all alive); outcomes were pending during the outage and
the provider gave up on some payments, yet every payment is received, exactly one journal
entry each, every club's trial balance holds exactly what was paid, and the outbox ends empty.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import aiohttp
import pytest

from app.ledger import accounts
from app.ledger.documents import JournalEntry
from app.money import format_minor
from app.payments.documents import PaymentOutcome
from tests.clubs.http import Member, login
from tests.drills.conftest import DrillPlatform, OwnKafka, OwnRedis, drill_platform
from tests.identity.conftest import Api
from tests.payments.sandbox_client import SandboxClient

RECEIVED = "received"
CAPTURE_EVENTS = ("payment.captured", "order.paid")
CLUBS = 4
PER_WAVE = 8

pytestmark = pytest.mark.timeout(600)


async def _statuses(owner: Member, clubs: list[str]) -> dict[str, str]:
    """Contribution id → status, through the API."""
    out: dict[str, str] = {}
    for club_id in clubs:
        body = await owner.ok("GET", f"/api/v1/clubs/{club_id}/contributions")
        out.update({c["id"]: c["status"] for c in body["contributions"]})
    return out


async def _until(check: object, what: str, timeout: float, platform: DrillPlatform) -> None:
    deadline = time.monotonic() + timeout
    while not await check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{platform.log_tails()}")
        await asyncio.sleep(0.25)


async def test_kafka_restarted_under_payments_loses_nothing(
    services: object, own_kafka: OwnKafka, own_redis: OwnRedis,
    payment_sandbox: SandboxClient, tmp_path: Path,
) -> None:  # fmt: skip
    started = time.monotonic()
    extra = {
        "KAFKA_BOOTSTRAP_SERVERS": own_kafka.bootstrap,
        "SAMOOH_PAYMENT_OUTBOX_SWEEP_SECONDS": "1",
        "SAMOOH_PAYMENT_OUTBOX_REPUBLISH_AFTER_SECONDS": "3",
    }
    before = await payment_sandbox.control()
    async with (
        drill_platform(tmp_path, own_redis.url, extra) as platform,
        aiohttp.ClientSession() as session,
    ):
        pids = {name: proc.pid for name, proc in platform.procs.items()}
        await payment_sandbox.control(
            reset=True, webhook_url=f"{platform.url_a}/api/v1/webhooks/sandbox",
            retry_base_ms=200, retry_max_ms=800, max_attempts=3, stagger_ms=50,
        )  # fmt: skip
        try:
            owner = await login(Api(platform.url_a, session))
            clubs = [
                (await owner.ok("POST", "/api/v1/clubs", {"name": f"Kafka drill {i}"},
                                status=201))["id"]
                for i in range(CLUBS)
            ]  # fmt: skip
            planned: dict[str, tuple[str, int]] = {}  # contribution id → (club, paise)
            orders: list[str] = []
            for n in range(3 * PER_WAVE):
                club_id, amount = clubs[n % CLUBS], 50_000 + 1_111 * n
                body = await owner.ok("POST", f"/api/v1/clubs/{club_id}/contributions",
                                      {"amount": format_minor(amount)}, status=201,
                                      key=str(uuid.uuid4()))  # fmt: skip
                planned[body["id"]] = (club_id, amount)
                orders.append(body["order_id"])
            ids = list(planned)
            waves = [orders[i * PER_WAVE : (i + 1) * PER_WAVE] for i in range(3)]
            wave_ids = [ids[i * PER_WAVE : (i + 1) * PER_WAVE] for i in range(3)]

            async def received(which: list[str]) -> bool:
                statuses = await _statuses(owner, clubs)
                return all(statuses.get(c) == RECEIVED for c in which)

            # 1. Before: the ordinary path.
            for order_id in waves[0]:
                await payment_sandbox.pay(order_id)
            await _until(lambda: received(wave_ids[0]), "the first wave", 60, platform)

            # 2. The broker stops; payments keep coming.
            stop_s = await own_kafka.stop()
            down_at = time.monotonic()
            for order_id in waves[1]:
                await payment_sandbox.pay(order_id)

            async def pending_in_outbox() -> bool:
                return await PaymentOutcome.find(
                    {"contribution_id": {"$in": wave_ids[1]}, "status": "pending"}
                ).count() == len(wave_ids[1])  # fmt: skip

            await _until(pending_in_outbox, "the outage's payments stored as pending", 60,
                         platform)  # fmt: skip

            async def provider_gave_up() -> bool:
                items = [d for d in await payment_sandbox.deliveries() if d["order_id"] in waves[1]]
                return any(d["state"] == "failed" for d in items)

            await _until(provider_gave_up, "the provider giving up a delivery", 90, platform)
            assert not await received(wave_ids[1][:1])
            start_s = await own_kafka.start()
            down_s = time.monotonic() - down_at

            # 3. Right after it is back: new payments, and the outbox drains.
            for order_id in waves[2]:
                await payment_sandbox.pay(order_id)
            back_at = time.monotonic()
            await _until(lambda: received(ids), "every payment received", 180, platform)
            recovered_s = time.monotonic() - back_at
            deliveries = await payment_sandbox.wait_settled(orders, timeout=60)
        finally:
            await payment_sandbox.control(
                reset=True, webhook_url=before["webhook_url"], **SandboxClient.TEST_DEFAULTS
            )

        # Nobody was restarted by hand: the same processes, all alive.
        assert {name: proc.pid for name, proc in platform.procs.items()} == pids
        assert all(code is None for code in platform.alive().values()), platform.log_tails()
        # Some payments of the outage reached the books only through the outbox: the provider
        # gave up every delivery of their capture (``payment.captured`` and ``order.paid``
        # report the same outcome; ``payment.authorized`` publishes nothing).
        captures = [d for d in deliveries if d["event"] in CAPTURE_EVENTS]
        delivered = {d["order_id"] for d in captures if d["state"] == "delivered"}
        only_outbox = [o for o in waves[1] if o not in delivered]
        assert only_outbox, [(d["order_id"], d["event"], d["state"]) for d in captures]
        pending = await PaymentOutcome.find(
            {"contribution_id": {"$in": ids}, "status": {"$ne": "published"}}
        ).count()  # fmt: skip
        assert pending == 0
        await asyncio.sleep(1.0)  # a late duplicate would land now
        for contribution_id, (club_id, amount) in planned.items():
            entries = await JournalEntry.find(
                {"pool_id": club_id, "kind": "contribution_received",
                 "memo": {"$regex": f"^contribution {contribution_id} "}}
            ).to_list()  # fmt: skip
            assert len(entries) == 1, (contribution_id, len(entries))
            assert entries[0].lines[0].amount == amount
        for club_id in clubs:
            expected = sum(a for c, a in planned.values() if c == club_id)
            trial = await owner.ok("GET", f"/api/v1/clubs/{club_id}/trial-balance")
            rows = {row["account"]: row for row in trial["rows"]}
            assert trial["balanced"] is True, trial
            assert trial["total_debit"] == trial["total_credit"] == format_minor(expected)
            assert rows[accounts.CASH]["debit"] == format_minor(expected), trial
    print(
        f"\n[drill] kafka restart: stop {stop_s:.1f} s, down {down_s:.1f} s (start "
        f"{start_s:.1f} s); all {len(planned)} payments received {recovered_s:.1f} s after "
        f"the broker was back ({len(only_outbox)} only through the outbox); drill "
        f"{time.monotonic() - started:.0f} s"
    )

"""Drill: a second worker joins in the middle of a payment stream (the 4-partition payments
topic), and the books come out as if one worker had done it all.

(tests/clubs/test_payment_storm.py lets its second worker join *before* the stream and kills it
in the middle; here the group rebalances while records flow.)

Twice the same payments: four clubs of three members, each member paying two contributions of
fixed amounts. The first set goes through the drill platform's single worker; for the second,
a second worker is started after the first half of its payments has been sent and while the
rest is being sent, so the group rebalances mid-stream. Asserted: the group ends with two
members each holding payments partitions; every payment is received with exactly one journal
entry; after valuing every club on the same day, each member's units, paid-in and value equal
those of the same member of the single-worker twin club.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from app.config import Settings
from app.ledger.documents import JournalEntry
from app.money import format_minor
from tests.clubs.http import Member, login
from tests.conftest import _spawn, _stop
from tests.drills.conftest import DrillPlatform, OwnRedis, drill_platform
from tests.identity.conftest import Api
from tests.payments.sandbox_client import SandboxClient

CLUBS = 4
RECEIVED = "received"
AMOUNTS = ((40_000, 12_500), (25_000, 31_000), (18_750, 22_222))  # per member: two payments
TODAY = dt.datetime.now(dt.UTC).date()
PAID_AT = f"{(TODAY - dt.timedelta(days=2)).isoformat()}T09:30:00Z"

pytestmark = pytest.mark.timeout(600)


async def _clubs(api: Api, name: str) -> list[tuple[str, list[Member]]]:
    """``CLUBS`` clubs of three members each (the first is the owner)."""
    out = []
    for i in range(CLUBS):
        members = [await login(api) for _ in AMOUNTS]
        club = await members[0].ok("POST", "/api/v1/clubs", {"name": f"{name} {i}"}, status=201)
        invite = await members[0].ok("POST", f"/api/v1/clubs/{club['id']}/invites",
                                     {"max_uses": 10}, status=201)  # fmt: skip
        for member in members[1:]:
            await member.ok("POST", f"/api/v1/invites/{invite['token']}/accept")
        out.append((club["id"], members))
    return out


async def _checkouts(clubs: list[tuple[str, list[Member]]]) -> list[tuple[str, str, str, int]]:
    """Every contribution as (club, contribution id, provider order id, paise)."""
    made = []
    for round_ in range(2):
        for club_id, members in clubs:
            for member, amounts in zip(members, AMOUNTS, strict=True):
                body = await member.ok("POST", f"/api/v1/clubs/{club_id}/contributions",
                                       {"amount": format_minor(amounts[round_])}, status=201,
                                       key=str(uuid.uuid4()))  # fmt: skip
                made.append((club_id, body["id"], body["order_id"], amounts[round_]))
    return made


async def _all_received(owner_of: dict[str, Member], ids_by_club: dict[str, list[str]]) -> bool:
    for club_id, ids in ids_by_club.items():
        body = await owner_of[club_id].ok("GET", f"/api/v1/clubs/{club_id}/contributions")
        status = {c["id"]: c["status"] for c in body["contributions"]}
        if not all(status.get(i) == RECEIVED for i in ids):
            return False
    return True


async def _until(check: object, what: str, timeout: float, platform: DrillPlatform) -> None:
    deadline = time.monotonic() + timeout
    while not await check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{platform.log_tails()}")
        await asyncio.sleep(0.25)


async def _group_partitions(admin: AIOKafkaAdminClient, group: str, topic: str) -> list[set[int]]:
    """Each member's partitions of ``topic``, as the broker describes the stable group (empty
    while it is rebalancing)."""
    (response,) = await admin.describe_consumer_groups([group])
    (described,) = response.groups
    if described[2] != "Stable":
        return []
    out = []
    for member in described[5]:
        assignment = ConsumerProtocolMemberAssignment.decode(member[-1]) if member[-1] else None
        out.append(set() if assignment is None else {
            tp.partition for tp in assignment.partitions() if tp.topic == topic})  # fmt: skip
    return out


async def test_a_worker_joining_mid_stream_gives_the_units_of_a_single_worker(
    services: object, own_redis: OwnRedis, payment_sandbox: SandboxClient, settings: Settings,
    tmp_path: Path,
) -> None:  # fmt: skip
    started = time.monotonic()
    before = await payment_sandbox.control()
    async with drill_platform(tmp_path, own_redis.url) as platform, aiohttp.ClientSession() as s:
        api = Api(platform.url_a, s)
        payments_topic = f"{platform.topic_prefix}.payments.events.v1"
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
        await admin.start()
        second = None
        await payment_sandbox.control(
            reset=True, webhook_url=f"{platform.url_a}/api/v1/webhooks/sandbox",
            **{**SandboxClient.TEST_DEFAULTS, "stagger_ms": 150},
        )  # fmt: skip
        try:
            single, joined = await _clubs(api, "Single"), await _clubs(api, "Joined")
            owner_of = {club_id: members[0] for club_id, members in single + joined}
            runs = {}
            for name, clubs in (("single", single), ("joined", joined)):
                runs[name] = await _checkouts(clubs)

            def by_club(made: list[tuple[str, str, str, int]]) -> dict[str, list[str]]:
                out: dict[str, list[str]] = {}
                for club_id, contribution_id, _, _ in made:
                    out.setdefault(club_id, []).append(contribution_id)
                return out

            # The single-worker run.
            for _, _, order_id, _ in runs["single"]:
                await payment_sandbox.pay(order_id, paid_at=PAID_AT)
            await _until(lambda: _all_received(owner_of, by_club(runs["single"])),
                         "the single-worker run", 120, platform)  # fmt: skip
            assert len(await _group_partitions(admin, platform.worker_id, payments_topic)) == 1

            # The joined run: half sent, a second worker starts, the rest sent while it joins.
            half = len(runs["joined"]) // 2
            for _, _, order_id, _ in runs["joined"][:half]:
                await payment_sandbox.pay(order_id, paid_at=PAID_AT)
            second_log = tmp_path / "worker-2.log"
            second_env = {**platform.env, "SAMOOH_WORKER_DATA_DIR": str(tmp_path / "w2")}
            second = _spawn([sys.executable, "-m", "agents"], second_log, second_env)
            platform.logs["worker-2"] = second_log
            for _, _, order_id, _ in runs["joined"][half:]:
                await payment_sandbox.pay(order_id, paid_at=PAID_AT)
                await asyncio.sleep(0.2)  # spread over the rebalance

            async def two_stable() -> bool:
                parts = await _group_partitions(admin, platform.worker_id, payments_topic)
                return len(parts) == 2 and all(parts)

            await _until(two_stable, "a stable group of two workers", 120, platform)
            await _until(lambda: _all_received(owner_of, by_club(runs["joined"])),
                         "the joined run", 120, platform)  # fmt: skip
            assert second.poll() is None, platform.log_tails()
            await payment_sandbox.wait_settled([o for _, _, o, _ in runs["joined"]], timeout=60)
            await asyncio.sleep(1.0)  # a late duplicate would land now

            for _, made in runs.items():
                for club_id, contribution_id, _, amount in made:
                    entries = await JournalEntry.find(
                        {"pool_id": club_id, "kind": "contribution_received",
                         "memo": {"$regex": f"^contribution {contribution_id} "}}
                    ).to_list()  # fmt: skip
                    assert len(entries) == 1, (contribution_id, len(entries))
                    assert entries[0].lines[0].amount == amount

            # Value every club the same day; each member's units match the twin's.
            valuation = {"valuation_date": (TODAY - dt.timedelta(days=1)).isoformat(),
                         "prices": {}}  # fmt: skip
            statuses = {}
            for club_id, members in single + joined:
                await members[0].ok("POST", f"/api/v1/clubs/{club_id}/valuations", valuation,
                                    status=201, key=str(uuid.uuid4()))  # fmt: skip
                status = await members[0].ok("GET", f"/api/v1/clubs/{club_id}/member-status")
                rows = {row["user_id"]: row for row in status["members"]}
                statuses[club_id] = [
                    (rows[m.id]["units"], rows[m.id]["paid_in"], rows[m.id]["value"])
                    for m in members
                ]
            for (single_id, _), (joined_id, _) in zip(single, joined, strict=True):
                assert statuses[joined_id] == statuses[single_id], (single_id, joined_id)
                paid = [format_minor(sum(a)) for a in AMOUNTS]
                assert [paid_in for _, paid_in, _ in statuses[single_id]] == paid
        finally:
            await payment_sandbox.control(
                reset=True, webhook_url=before["webhook_url"], **SandboxClient.TEST_DEFAULTS
            )
            await admin.close()
            if second is not None:
                await asyncio.to_thread(_stop, second)
    print(
        f"\n[drill] worker joins mid-stream: {2 * len(runs['joined'])} payments, units equal "
        f"the single-worker run; drill {time.monotonic() - started:.0f} s"
    )

"""Follow-up reminders are delivered exactly once: racing sweeps, a sweep that dies before its
commit, and a real worker killed with SIGKILL and restarted while the session's own worker keeps
sweeping — one ``crm:reminder`` in the assignee's board room, one notification, one e-mail."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis
from pymongo.asynchronous.client_session import AsyncClientSession

from agents.lifecycle import ready_key
from app.config import get_settings
from app.crm import repository
from app.crm.documents import Reminder, ReminderStatus
from app.crm.schemas import LeadCreate, ReminderCreate
from app.crm.service import crm_service
from app.db import run_in_transaction
from app.identity.documents import PlatformRole
from app.notifications.documents import Notification
from tests.conftest import ROOT, LiveStack, tail
from tests.crm.conftest import email, staff
from tests.identity.conftest import Account, Api
from tests.rooms.conftest import Person as RoomPerson
from tests.rooms.conftest import RoomClient


async def reminder_for(agent_actor, due_in: float, text: str = "call back") -> Reminder:  # type: ignore[no-untyped-def]
    lead, _ = await crm_service.do_create_lead(
        agent_actor, LeadCreate(full_name="Follow Up", email=email("fu"))
    )
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=due_in)
    return await crm_service.do_create_reminder(
        agent_actor, ReminderCreate(lead_id=str(lead.id), due_at=due, text=text)
    )


async def notifications_of(reminder: Reminder) -> int:
    return await Notification.find({"dedupe_key": f"crm-reminder:{reminder.id}"}).count()


@pytest.mark.usefixtures("services")
async def test_racing_sweeps_and_a_crashed_sweep_deliver_once() -> None:
    # Due in an hour, swept as if it were later: the session's worker (sweeping real time)
    # leaves them alone, so only these sweeps race.
    agent = await staff(PlatformRole.CRM_AGENT)
    raced = await reminder_for(agent.actor, 3600)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    counts = await asyncio.gather(*(crm_service.do_fire_due_reminders(later) for _ in range(4)))
    mine = await repository.reminder(str(raced.id))
    assert mine is not None and mine.status == ReminderStatus.SENT and mine.sent_at
    assert await notifications_of(raced) == 1
    assert sum(counts) >= 1  # this one, and perhaps other tests' reminders due by then

    crashed = await reminder_for(agent.actor, 3600, "after a crash")
    assert crashed.id is not None
    key = crashed.id

    async def dies(session: AsyncClientSession) -> None:
        assert await repository.claim_reminder(key, later, session)
        raise ConnectionResetError("the worker died before the commit")

    with pytest.raises(ConnectionResetError):
        await run_in_transaction(dies)
    still = await repository.reminder(str(crashed.id))
    assert still is not None and still.status == ReminderStatus.PENDING
    assert await notifications_of(crashed) == 0
    await crm_service.do_fire_due_reminders(later)
    await crm_service.do_fire_due_reminders(later)
    assert await notifications_of(crashed) == 1


@pytest.fixture
async def api(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(live_stack.url, http)


def _worker(worker_id: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SAMOOH_WORKER_ID": worker_id,
           "SAMOOH_WORKER_DATA_DIR": f"/tmp/{worker_id}"}  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "agents"], cwd=ROOT, env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip


async def _ready(worker_id: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    client = aioredis.from_url(get_settings().redis_url)
    try:
        await client.delete(ready_key(worker_id))
        deadline = time.monotonic() + 90
        while not await client.get(ready_key(worker_id)):
            if proc.poll() is not None:
                pytest.fail(f"worker exited with {proc.returncode}:\n{tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"worker not ready:\n{tail(log)}")
            await asyncio.sleep(0.3)
    finally:
        await client.aclose()


async def test_live_delivery_once_across_a_worker_restart(
    api: Api, live_stack: LiveStack, tmp_path: Path
) -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    pair = await api.tokens(Account(agent.email, agent.password, agent.user_id))
    socket = await RoomClient(
        live_stack.url, RoomPerson(agent.user_id, agent.email, pair["access_token"])
    ).connect()
    joined = await socket.call("crm:join", {})  # crm:reminder is logged in the board room
    assert joined["ok"] is True, joined
    worker_id = f"samooh-crm-restart-{uuid.uuid4().hex[:6]}"
    log = tmp_path / "extra-worker.log"
    extra = _worker(worker_id, log)
    try:
        await _ready(worker_id, extra, log)
        first = await reminder_for(agent.actor, 1.5, "first follow-up")
        await socket.wait_for(lambda c: len(c.of("crm:reminder")) >= 1, timeout=30)
        os.killpg(extra.pid, signal.SIGKILL)  # the extra worker dies without a goodbye
        extra.wait()
        second = await reminder_for(agent.actor, 0.5, "second follow-up")
        extra = _worker(worker_id, log)  # and comes back
        await _ready(worker_id, extra, log)
        await socket.wait_for(lambda c: len(c.of("crm:reminder")) >= 2, timeout=30)
        await asyncio.sleep(3)  # several more sweeps by both workers
    finally:
        if extra.poll() is None:
            os.killpg(extra.pid, signal.SIGTERM)
            try:
                extra.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(extra.pid, signal.SIGKILL)
        await socket.close()
    got = [e["reminder"]["id"] for e in socket.of("crm:reminder")]
    assert sorted(got) == sorted([str(first.id), str(second.id)])  # each exactly once
    assert socket.invalid == []
    for reminder in (first, second):
        assert await notifications_of(reminder) == 1

    async def mailed() -> list[str]:
        subjects = [m["subject"] for m in await api.outbox(agent.email)]
        return [s for s in subjects if "Follow up" in s]

    deadline = time.monotonic() + 20
    while len(await mailed()) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)
    # Never twice. A mail the killed worker had already claimed is sent by the survivor only
    # once that claim is stale (EMAIL_STALE_SECONDS, 300 s) — longer than this test waits —
    # so on a slow run one of the two may still be pending here.
    assert 1 <= len(await mailed()) <= 2
    today = await crm_service.reminders(agent.actor, "today")
    assert {str(r.id) for r in today} >= {str(first.id), str(second.id)}
    # The killed worker may have died inside a sweep's transaction that had moved a board log's
    # counter (every sweep records in crm:board:all). The server keeps that transaction open
    # until it reaps it (60 s idle), and every CRM change of this session waits behind it:
    # leave only once one goes through.
    await crm_service.do_create_lead(
        agent.actor, LeadCreate(full_name="After The Restart", email=email("ar"))
    )

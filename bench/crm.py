"""Benchmark: CRM lead capture, dedupe, reminders and reports against the real local services.

Imports ROWS leads from CSV as one agent (rows/s), times the near-duplicate check of one lead
against all of them (rapidfuzz over the agent's scope), fires DUE reminders in one sweep
(reminders/s, each its own transaction with its notification), and times the manager's report
over the team. Uses the services of ``MONGODB_URL``/``REDIS_URL``/``KAFKA_BOOTSTRAP_SERVERS``
(e.g. ``source .local/test-me/services.env``) in a database of its own, dropped at the end.
Then the worker's score sweep: an idle sweep once every score is fresh (ms, and how many leads
its query examined: MongoDB's explain), and the rescoring of every open lead after a change of
the rules (leads/s).
Run: ``.venv/bin/python bench/crm.py --rows 1000 --due 200``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SAMOOH_MONGODB_DATABASE", f"samooh_bench_crm_{uuid.uuid4().hex[:6]}")
os.environ.setdefault("SAMOOH_ENVIRONMENT", "test")
os.environ.setdefault("SAMOOH_LOG_LEVEL", "warning")

from app.config import get_settings  # noqa: E402
from app.crm import repository  # noqa: E402
from app.crm.documents import Lead, LeadSource  # noqa: E402
from app.crm.schemas import ReminderCreate, RuleRow, ScoreRulesPut  # noqa: E402
from app.crm.service import Actor, crm_service  # noqa: E402
from app.documents import document_models  # noqa: E402
from app.extensions import close_services, connect_services  # noqa: E402
from app.identity.documents import PlatformRole  # noqa: E402
from app.identity.signup import do_provision_user  # noqa: E402
from app.realtime.eventlog import utcnow  # noqa: E402

print = functools.partial(print, flush=True)

FIRST = ["Asha", "Ravi", "Meera", "Arjun", "Kavya", "Rohit", "Sana", "Vikram", "Nisha", "Farhan"]
LAST = ["Rao", "Iyer", "Nair", "Shah", "Verma", "Menon", "Gupta", "Qureshi", "Reddy", "Das"]


async def main(rows: int, due: int) -> None:
    settings = get_settings()
    connected = await connect_services(settings, document_models())
    try:
        tag = uuid.uuid4().hex[:6]
        manager = await do_provision_user(email=f"bench-mgr-{tag}@example.com", password=None,
                                          full_name="Bench Manager",
                                          roles=[PlatformRole.CRM_MANAGER])  # fmt: skip
        agent = await do_provision_user(email=f"bench-agent-{tag}@example.com", password=None,
                                        full_name="Bench Agent",
                                        roles=[PlatformRole.CRM_AGENT])  # fmt: skip
        admin = Actor("bench", "admin", None, True)
        await crm_service.do_put_staff(admin, str(agent.id), str(manager.id), False)
        agent_actor = await crm_service.actor(str(agent.id), ["crm_agent"])
        boss = await crm_service.actor(str(manager.id), ["crm_manager"])

        lines = ["full_name,email,phone,city,investment_capacity"]
        for i in range(rows):
            name = f"{FIRST[i % 10]} {LAST[(i // 10) % 10]} {i}"
            lines.append(f"{name},{name.lower().replace(' ', '.')}.{tag}@example.com,"
                         f"+9198{i:08d},Pune,{100000 + i}.00")  # fmt: skip
        started = time.perf_counter()
        report = await crm_service.do_import(agent_actor, "\n".join(lines), LeadSource.IMPORT)
        took = time.perf_counter() - started
        print(f"import: {report.created} created, {report.refused} refused in {took:.2f} s "
              f"({report.created / took:.0f} rows/s)")  # fmt: skip

        page, _ = await crm_service.leads(
            agent_actor,
            status=None,
            source=None,
            owner_id=None,
            text=None,
            skip=0,
            limit=1,
            sort="created",
        )
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            await crm_service.near_duplicates(agent_actor, page[0])
            samples.append(time.perf_counter() - started)
        print(f"near-duplicate check over {rows} leads: median {sorted(samples)[2] * 1000:.0f} ms")

        started = time.perf_counter()
        _, total = await crm_service.leads(agent_actor, status=None, source=None,
                                               owner_id=None, text="meera", skip=0, limit=50,
                                               sort="created")  # fmt: skip
        print(
            f"text search ('meera', {total} hits): {(time.perf_counter() - started) * 1000:.0f} ms"
        )

        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        leads, _ = await crm_service.leads(
            agent_actor,
            status=None,
            source=None,
            owner_id=None,
            text=None,
            skip=0,
            limit=due,
            sort="created",
        )
        for lead in leads:
            await crm_service.do_create_reminder(agent_actor, ReminderCreate(
                lead_id=str(lead.id), due_at=past, text="bench follow-up"))  # fmt: skip
        started = time.perf_counter()
        fired = 0
        while True:
            batch = await crm_service.do_fire_due_reminders(limit=100)
            fired += batch
            if batch == 0:
                break
        took = time.perf_counter() - started
        print(f"reminders: {fired} fired in {took:.2f} s ({fired / took:.0f}/s)")

        await score_sweep(admin, rows)

        started = time.perf_counter()
        figures = await crm_service.report(boss, None, None)
        print(f"manager report over {figures.leads} leads: "
              f"{(time.perf_counter() - started) * 1000:.0f} ms")  # fmt: skip
    finally:
        assert connected.mongo is not None
        await connected.mongo.drop_database(settings.mongodb_database)
        await close_services()


async def score_sweep(admin: Actor, rows: int) -> None:
    """The worker's score sweep: idle, then after a change of the rules."""
    while await crm_service.do_recompute_scores(limit=500):
        pass
    samples, touched = [], 0
    for _ in range(10):
        started = time.perf_counter()
        touched += await crm_service.do_recompute_scores()
        samples.append(time.perf_counter() - started)
    plan = await Lead.get_pymongo_collection().find(
        repository.due_scores_filter(utcnow())).explain()  # fmt: skip
    examined = plan["executionStats"]["totalDocsExamined"]
    print(f"idle score sweep over {rows} leads: median {sorted(samples)[5] * 1000:.1f} ms, "
          f"{touched} leads touched in 10 sweeps, {examined} examined by its query")  # fmt: skip
    rules = await crm_service.score_rules()
    await crm_service.do_set_score_rules(admin, ScoreRulesPut(
        version=rules.version,
        source_points=[RuleRow(key=k, points=v + 1) for k, v in rules.source_points.items()],
        completeness_points=[RuleRow(key=k, points=v)
                             for k, v in rules.completeness_points.items()],
        engagement_points=rules.engagement_points, engagement_cap=rules.engagement_cap,
        engagement_days=rules.engagement_days, half_life_days=rules.half_life_days,
    ))  # fmt: skip
    started, rescored = time.perf_counter(), 0
    while batch := await crm_service.do_recompute_scores():
        rescored += batch
    took = time.perf_counter() - started
    print(f"after a rules change: {rescored} open leads rescored once in {took:.2f} s "
          f"({rescored / took:.0f}/s)")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--due", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.due))

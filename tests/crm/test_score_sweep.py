"""The worker's score sweep reads only what is due: a score records when it next changes by
time alone, so a sweep with nothing due examines no lead (MongoDB's own count of the documents
the sweep's query examined) and writes none; a change of the rules makes every open lead due
once, and each is rescored once by the new version."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.crm import repository
from app.crm.documents import ActivityKind, CrmScoreRules, Lead, LeadSource, LeadStatus
from app.crm.schemas import LeadCreate, RuleRow, ScoreRulesPut
from app.crm.service import OPEN_STATUSES, crm_service
from app.crm.settings import crm_settings
from app.identity.documents import PlatformRole
from app.realtime.eventlog import utcnow
from tests.crm.conftest import email, staff

pytestmark = pytest.mark.usefixtures("services")


async def examined(now: dt.datetime) -> int:
    """How many leads the sweep's query examines at ``now`` (explain, executionStats)."""
    plan: dict[str, Any] = await Lead.get_pymongo_collection().find(
        repository.due_scores_filter(now)).explain()  # fmt: skip
    return int(plan["executionStats"]["totalDocsExamined"])


async def settle(now: dt.datetime) -> int:
    """Sweep until nothing is due; returns how many leads were touched in all."""
    touched = 0
    for _ in range(100):
        swept = await crm_service.do_recompute_scores(now)
        if swept == 0:
            return touched
        touched += swept
    pytest.fail("the sweep never settled")


async def test_a_sweep_reads_only_what_is_due_and_a_rules_change_rescores_each_lead_once(
) -> None:  # fmt: skip
    await CrmScoreRules.get_pymongo_collection().delete_many({})
    agent = await staff(PlatformRole.CRM_AGENT)
    admin = await staff(PlatformRole.ADMIN)
    mine = []
    for i in range(5):
        lead, _ = await crm_service.do_create_lead(agent.actor, LeadCreate(
            full_name=f"Sweep Lead {i}", email=email("sweep"), city="Surat",
            source=LeadSource.REFERRAL))  # fmt: skip
        mine.append(lead)
    await crm_service.do_change_status(agent.actor, str(mine[0].id), LeadStatus.LOST, "no")
    await crm_service.do_log_activity(agent.actor, str(mine[1].id), ActivityKind.CALL, "rang")
    now = utcnow()
    await settle(now)

    # Nothing changed: the sweep touches no lead, and its query examines none of them.
    assert await Lead.find({}).count() >= 5
    assert await crm_service.do_recompute_scores(now) == 0
    assert await examined(now) == 0
    # Each open score says when time alone moves it: a day of inactivity more, or sooner
    # the refresh period; the lost lead is never swept again.
    refresh = dt.timedelta(seconds=crm_settings().score_refresh_seconds)
    for lead in mine[1:]:
        stored = await crm_service.lead(agent.actor, str(lead.id))
        assert stored.score_parts.rescore_at is not None
        day = stored.last_activity_at.replace(tzinfo=dt.UTC) + dt.timedelta(days=1)
        assert stored.score_parts.rescore_at.replace(tzinfo=dt.UTC) == min(
            day, stored.score_parts.computed_at.replace(tzinfo=dt.UTC) + refresh
        )  # type: ignore[union-attr]
    lost = await crm_service.lead(agent.actor, str(mine[0].id))
    assert lost.score_parts.rescore_at is None
    # Its moment come, a lead is due — and only then.
    later = (await crm_service.lead(agent.actor, str(mine[2].id))).score_parts.rescore_at
    assert later is not None
    before = later - dt.timedelta(seconds=1)
    # The query examines exactly the leads due by then (other tests' leads may be), not more.
    assert await examined(before) == await Lead.find(repository.due_scores_filter(before)).count()
    assert mine[2].id not in {lead.id for lead in await repository.due_scores(before, 10_000)}
    assert mine[2].id in {lead.id for lead in await repository.due_scores(later, 10_000)}

    # The rules change: every open lead is rescored once, by the new version.
    rules = await crm_service.score_rules()
    open_leads = await Lead.find({"status": {"$in": list(OPEN_STATUSES)}}).count()
    await crm_service.do_set_score_rules(admin.actor, ScoreRulesPut(
        version=rules.version,
        source_points=[RuleRow(key=k, points=40 if k == "referral" else v)
                       for k, v in rules.source_points.items()],
        completeness_points=[RuleRow(key=k, points=v)
                             for k, v in rules.completeness_points.items()],
        engagement_points=rules.engagement_points, engagement_cap=rules.engagement_cap,
        engagement_days=rules.engagement_days, half_life_days=rules.half_life_days,
    ))  # fmt: skip
    assert await settle(now) == open_leads
    for lead in mine[1:]:
        stored = await crm_service.lead(agent.actor, str(lead.id))
        assert (stored.score_parts.rules_version, stored.score_parts.source) == (
            rules.version + 1, 40)  # fmt: skip
    assert await crm_service.do_recompute_scores(now) == 0
    assert await examined(now) == 0
    await CrmScoreRules.get_pymongo_collection().delete_many({})

"""What the new-user trial of #18 left open, against the running web server and worker: an
activity or a reminder on a lead is told in the boards' rooms (which open lead pages listen
to), with the score it leads to; an admin edits the score rules (problems said as sentences,
nothing stored; a stale version refused; audited) and the scores follow; erasing a person
erases the platform account the CRM made for them when nothing holds it, and otherwise says
what keeps it and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from beanie import PydanticObjectId

from app.audit.service import audit_service
from app.clubs.service import club_service
from app.crm import board
from app.crm.documents import ActivityKind, CrmScoreRules, LeadSource
from app.crm.schemas import LeadCreate, ReminderCreate
from app.crm.service import AUDIT_CHAIN, crm_service
from app.identity import directory
from app.identity.documents import PlatformRole, UserStatus
from app.identity.errors import InvalidCredentials
from app.identity.login import do_login
from app.identity.sessions import open_session
from app.identity.signup import do_provision_user
from app.kyc.documents import DocumentKind, DocumentStatus, KycDocument
from app.realtime import eventlog
from tests.conftest import LiveStack
from tests.crm.conftest import email, staff, team
from tests.crm.test_http import person
from tests.identity.conftest import Api

pytestmark = pytest.mark.usefixtures("services")


@pytest.fixture
async def api(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(live_stack.url, http)


@pytest.fixture
async def fresh_rules() -> AsyncIterator[None]:
    """The configured defaults before and after (the rules are one document for everyone)."""
    await CrmScoreRules.get_pymongo_collection().delete_many({})
    yield
    await CrmScoreRules.get_pymongo_collection().delete_many({})


async def test_an_activity_and_a_reminder_reach_the_boards_with_the_new_score(
    fresh_rules: None,
) -> None:
    manager, (agent,) = await team(1)
    lead, _ = await crm_service.do_create_lead(
        agent.actor, LeadCreate(full_name="Told Live", email=email(), source=LeadSource.REFERRAL)
    )
    lead_id = str(lead.id)
    room = board.viewer_room(manager.user_id)
    head = await eventlog.head(room)
    await crm_service.do_log_activity(manager.actor, lead_id, ActivityKind.CALL, "rang her")
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    await crm_service.do_create_reminder(
        manager.actor,
        ReminderCreate(lead_id=lead_id, text="call back", due_at=due, assignee_id=manager.user_id),
    )
    told = [e.data for e in await eventlog.since(room, head, 50) if e.event == board.BOARD_EVENT]
    assert [(e["change"], e["lead"]["id"], e["visible"]) for e in told] == [
        ("activity", lead_id, True), ("reminder", lead_id, True)]  # fmt: skip
    # The event carries the score the call earned (referral 30 + e-mail 10 + one call 5).
    assert told[0]["lead"]["score"]["engagement"] == 5
    assert told[0]["lead"]["score"]["total"] == 45
    stored = await crm_service.lead(agent.actor, lead_id)
    assert stored.score == 45 and stored.score_parts.engagement == 5
    # The agent's own room heard it too; another team's did not.
    mine = await eventlog.since(board.viewer_room(agent.user_id), 0, 50)
    assert [e.data["change"] for e in mine][-2:] == ["activity", "reminder"]


def _rules_body(current: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": current["version"],
        "source_points": [{"key": k, "points": v} for k, v in current["source_points"].items()],
        "completeness_points": [{"key": k, "points": v}
                                for k, v in current["completeness_points"].items()],
        "engagement_points": current["engagement_points"],
        "engagement_cap": current["engagement_cap"],
        "engagement_days": current["engagement_days"],
        "half_life_days": current["half_life_days"],
    }  # fmt: skip
    body.update(changes)
    return body


async def test_admins_edit_the_score_rules_and_the_scores_follow(
    api: Api, fresh_rules: None
) -> None:
    agent_s = await staff(PlatformRole.CRM_AGENT)
    agent = await person(api, agent_s)
    chief = await person(api, await staff(PlatformRole.ADMIN))
    made = LeadCreate(full_name="Rule Follower", email=email(), city="Pune",
                      source=LeadSource.EVENT)  # fmt: skip
    lead = await crm_service.do_create_lead(agent_s.actor, made)
    lead_id = str(lead[0].id)
    before = await agent.ok("GET", f"/api/v1/crm/leads/{lead_id}")
    assert (before["score"]["source"], before["score"]["completeness"]) == (20, 15)
    rules = await agent.ok("GET", "/api/v1/crm/score-rules")
    assert rules["version"] == 0 and "event" in rules["sources"] and "city" in rules["fields"]

    # An agent may read them, not change them.
    refused = await agent.call("PUT", "/api/v1/crm/score-rules", _rules_body(rules))
    assert refused.status == 403
    # Every problem is told as a sentence; nothing is stored.
    bad = _rules_body(rules, engagement_days=0, half_life_days=0, source_points=[
        {"key": "event", "points": 150}, {"key": "event", "points": 5},
        {"key": "billboard", "points": 5}])  # fmt: skip
    answer = await chief.call("PUT", "/api/v1/crm/score-rules", bad)
    assert (answer.status, answer.code) == (422, "score_rules_invalid")
    problems = answer.body["error"]["details"]["problems"]
    assert [p["field"] for p in problems] == [
        "source_points.0", "source_points.1", "source_points.2", "engagement_days",
        "half_life_days"]  # fmt: skip
    assert problems[0]["message"] == (
        "The source event must get a whole number of points from 0 to 100, not 150."
    )
    assert problems[1]["message"] == "The source event is listed twice: give each one weight."
    assert problems[2]["message"].startswith("Pick a source for row 3: one of ")
    assert (await agent.ok("GET", "/api/v1/crm/score-rules"))["version"] == 0

    # Change weights (event 20 → 45, company 5 → 7) and remove one (city).
    fields = [{"key": k, "points": 7 if k == "company" else v}
              for k, v in rules["completeness_points"].items() if k != "city"]  # fmt: skip
    sources = [{"key": k, "points": 45 if k == "event" else v}
               for k, v in rules["source_points"].items()]  # fmt: skip
    body = _rules_body(rules, source_points=sources, completeness_points=fields)
    saved = await chief.ok("PUT", "/api/v1/crm/score-rules", body)
    assert saved["version"] == 1 and saved["source_points"]["event"] == 45
    assert "city" not in saved["completeness_points"]
    assert saved["completeness_points"]["company"] == 7
    assert saved["updated_by_name"] == "Admin"
    # Someone who saw version 0 changes nothing.
    stale = await chief.call("PUT", "/api/v1/crm/score-rules", _rules_body(rules))
    assert (stale.status, stale.code) == (409, "score_rules_changed")
    assert (await agent.ok("GET", "/api/v1/crm/score-rules"))["source_points"]["event"] == 45
    # Audited with what changed.
    record = (await audit_service.latest(AUDIT_CHAIN, "score", 1))[0]
    assert record.action == "crm.score_rules.update"
    assert record.details["changed"]["source_points"] == {"event": [20, 45]}
    assert record.details["changed"]["completeness_points"] == {"city": [5, None],
                                                                "company": [5, 7]}  # fmt: skip

    # The worker's sweep rescores the open leads by the new version.
    for _ in range(200):
        after = await agent.ok("GET", f"/api/v1/crm/leads/{lead_id}")
        if after["score"]["source"] == 45:
            break
        await crm_service.do_recompute_scores()
    assert (after["score"]["source"], after["score"]["completeness"]) == (45, 10)
    assert after["score"]["total"] == 55
    # A new lead is scored by them at once.
    newcomer = LeadCreate(full_name="Rule Newcomer", email=email(), company="Acme",
                          source=LeadSource.EVENT)  # fmt: skip
    fresh, _ = await crm_service.do_create_lead(agent_s.actor, newcomer)
    assert (fresh.score_parts.source, fresh.score_parts.completeness) == (45, 17)
    assert fresh.score_parts.rules_version == 1


async def _client(agent: Any, name: str) -> dict[str, Any]:
    body = {"full_name": name, "email": email("erase"), "invite": True}
    return dict((await agent.ok("POST", "/api/v1/crm/clients", body, status=201))["client"])


async def test_erasure_erases_the_account_the_crm_made_when_nothing_holds_it(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    chief = await person(api, await staff(PlatformRole.ADMIN))
    client = await _client(agent, "Forget Me")
    user_id, address = client["user_id"], client["email"]
    user = await directory.user(user_id)
    assert user is not None and user.status is UserStatus.ACTIVE
    pair = await open_session(user, ["pwd"])  # they signed in once
    assert (await api.call("GET", "/api/v1/me", token=pair.access_token)).status == 200

    erased = await chief.ok("DELETE", f"/api/v1/crm/leads/{client['lead_id']}")
    assert (erased["account"], erased["retained"]) == ("erased", [])
    shown = await agent.ok("GET", f"/api/v1/crm/clients/{client['id']}")
    assert (shown["account_erased"], shown["full_name"]) == (True, "(erased)")
    gone = await directory.user(user_id)
    assert gone is not None  # anonymised, never deleted: references still resolve
    assert gone.status is UserStatus.ERASED
    assert (gone.email, gone.full_name) == (directory.erased_email(user_id), "(erased)")
    assert gone.phone is None and gone.password_hash is None
    assert await directory.user_by_email(address) is None
    # Its sessions are revoked and it cannot sign in by any means.
    assert (await api.call("GET", "/api/v1/me", token=pair.access_token)).status == 401
    refreshed = await api.call("POST", "/api/v1/auth/refresh",
                               json={"refresh_token": pair.refresh_token})  # fmt: skip
    assert refreshed.status == 401
    with pytest.raises(InvalidCredentials):
        await do_login(gone.email, "anything-at-all-2026", None, "2001:db8::e1")
    # The address is free again: a new signup is a new person.
    again = await do_provision_user(email=address, password=None, full_name="Someone New")
    assert str(again.id) != user_id
    # The audit chain records the outcome and still verifies.
    trail = await chief.ok("GET", "/api/v1/crm/audit", params={"action": "crm.person.erase"})
    assert trail["chain_ok"] is True
    assert trail["items"][0]["details"]["account"] == "erased"
    assert "Forget Me" not in str(trail)


async def test_erasure_keeps_an_account_that_holds_money_or_kyc_and_says_why(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    chief = await person(api, await staff(PlatformRole.ADMIN))
    # A member of a club (the CRM made the account).
    member = await _client(agent, "Club Member")
    await club_service.do_create_club(member["user_id"], name=f"Kept {email('k')[:10]}")
    kept = await chief.ok("DELETE", f"/api/v1/crm/leads/{member['lead_id']}")
    assert kept["account"] == "kept"
    assert [r["kind"] for r in kept["retained"]] == ["club_membership"]
    assert kept["retained"][0]["reason"].startswith("a member of 1 club")
    shown = await agent.ok("GET", f"/api/v1/crm/clients/{member['id']}")
    assert shown["account_erased"] is False
    assert shown["account_retained"] == [kept["retained"][0]["reason"]]
    account = await directory.user(member["user_id"])
    assert account is not None and account.status is UserStatus.ACTIVE
    assert account.email == member["email"]
    # KYC documents: kept five years under the PMLA.
    holder = await _client(agent, "Kyc Holder")
    await KycDocument(user_id=holder["user_id"], kind=DocumentKind.PAN,
                      status=DocumentStatus.VERIFIED, file_id=str(PydanticObjectId()),
                      number_last4="1234").insert()  # fmt: skip
    kyc = await chief.ok("DELETE", f"/api/v1/crm/leads/{holder['lead_id']}")
    assert (kyc["account"], [r["kind"] for r in kyc["retained"]]) == ("kept", ["kyc_documents"])
    assert "Prevention of Money-laundering Act, 2002" in kyc["retained"][0]["reason"]
    # An account the person had before the CRM (linked with their consent) is theirs.
    own = await do_provision_user(email=email("own"), password=None, full_name="Own Account")
    linked = await agent.ok("POST", "/api/v1/crm/clients", {
        "full_name": "Own Account", "email": own.email, "invite": True}, status=201)  # fmt: skip
    await crm_service.do_answer_link(str(own.id), linked["client"]["id"], True)
    theirs = await chief.ok("DELETE", f"/api/v1/crm/leads/{linked['client']['lead_id']}")
    assert (theirs["account"], [r["kind"] for r in theirs["retained"]]) == (
        "kept", ["own_account"])  # fmt: skip
    still = await directory.user(str(own.id))
    assert still is not None and still.status is UserStatus.ACTIVE
    # A lead that never became a client has no account to speak of.
    lead = await agent.ok("POST", "/api/v1/crm/leads", {"full_name": "Just A Lead",
                                                        "email": email()}, status=201)  # fmt: skip
    plain = await chief.ok("DELETE", f"/api/v1/crm/leads/{lead['lead']['id']}")
    assert (plain["account"], plain["retained"]) == ("none", [])

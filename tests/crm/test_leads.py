"""Leads against the real database: normalised contacts, exact duplicates refused by the unique
indexes (also under a race), near duplicates, the lifecycle, merge and undo keeping every
activity, CSV import with a per-row report, conversion keeping history, round robin, scores."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from app.audit.documents import AuditRecord
from app.audit.service import audit_service
from app.crm import repository
from app.crm.documents import ActivityKind, CrmStaff, Lead, LeadSource, LeadStatus
from app.crm.errors import (
    ConvertRequired,
    DuplicateLead,
    IllegalTransition,
    InvalidContact,
    LeadChanged,
    LeadNotFound,
    LostReasonRequired,
    MergeRefused,
    UndoRefused,
)
from app.crm.schemas import ConvertRequest, LeadCreate, WebFormRequest
from app.crm.service import AUDIT_CHAIN, crm_service
from app.identity.documents import PlatformRole
from tests.crm.conftest import email, phone, staff, team

pytestmark = pytest.mark.usefixtures("services")


async def new_lead(actor, name: str = "Asha Rao", **fields):  # type: ignore[no-untyped-def]
    fields.setdefault("email", email())
    lead, _ = await crm_service.do_create_lead(actor, LeadCreate(full_name=name, **fields))
    return lead


async def test_contacts_are_normalised_and_bad_ones_change_nothing() -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    address = email("Mixed.Case")
    lead = await new_lead(agent.actor, "  Asha   Rao ", email=f"  {address.upper()} ",
                          phone="098450 12345")  # fmt: skip
    assert lead.full_name == "Asha Rao"
    assert lead.email == address.lower()
    assert crm_service.phone_of(lead) == "+919845012345"
    assert lead.phone_last4 == "2345"
    stored = await Lead.get_pymongo_collection().find_one({"_id": lead.id})
    assert stored is not None and "9845012345" not in str(stored)  # sealed at rest
    assert lead.owner_id == agent.user_id  # an agent's own entry stays theirs
    before = await Lead.find({}).count()
    for bad in ({"email": "not-an-email"}, {"phone": "12"}, {"phone": "+91 00000 00000"}):
        with pytest.raises(InvalidContact) as caught:
            await new_lead(agent.actor, **bad)
        assert caught.value.details["field"] in ("email", "phone")
    assert await Lead.find({}).count() == before


async def test_exact_duplicates_are_refused_even_when_racing() -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    address, number = email(), phone()
    first = await new_lead(agent.actor, email=address, phone=number)
    with pytest.raises(DuplicateLead) as caught:
        await new_lead(agent.actor, "Someone Else", email=address.upper())
    assert caught.value.details == {"field": "email", "lead_id": str(first.id)}
    with pytest.raises(DuplicateLead) as caught:  # same number, typed differently
        await new_lead(agent.actor, "Someone Else", phone="+91" + number.replace(" ", "")[1:])
    assert caught.value.details["field"] == "phone"

    racer = email("race")
    results = await asyncio.gather(
        *(new_lead(agent.actor, f"Racer {i}", email=racer) for i in range(5)),
        return_exceptions=True,
    )
    created = [r for r in results if isinstance(r, Lead)]
    assert len(created) == 1, results
    assert all(isinstance(r, DuplicateLead) for r in results if not isinstance(r, Lead))
    assert await Lead.find({"email": racer}).count() == 1


async def test_near_duplicates_by_similar_name_and_email() -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    tag = email("x").split("@")[0][-6:]
    original = await new_lead(agent.actor, "Ravi Kumar Iyer", email=f"ravi.iyer.{tag}@mail.com")
    twin, dupes = await crm_service.do_create_lead(agent.actor, LeadCreate(
        full_name="Ravi Kumar Iyer", email=f"raviiyer.{tag}@mail.com"))  # fmt: skip
    assert [str(d[0].id) for d in dupes] == [str(original.id)]
    assert dupes[0][1] == 100 and dupes[0][2] >= 80
    _, none = await crm_service.do_create_lead(agent.actor, LeadCreate(
        full_name="Meera Nair", email=f"meera.{tag}@elsewhere.org"))  # fmt: skip
    assert none == []
    # Another agent's similar lead is not shown (scope applies to dedupe hints too).
    other = await staff(PlatformRole.CRM_AGENT)
    assert await crm_service.near_duplicates(other.actor, twin) == []


async def test_lifecycle_refuses_illegal_moves_and_changes_nothing() -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    lead = await new_lead(agent.actor)
    lead_id = str(lead.id)
    with pytest.raises(IllegalTransition) as caught:
        await crm_service.do_change_status(agent.actor, lead_id, LeadStatus.QUALIFIED, None)
    assert caught.value.details["from"] == "new" and caught.value.details["to"] == "qualified"
    with pytest.raises(LostReasonRequired):
        await crm_service.do_change_status(agent.actor, lead_id, LeadStatus.LOST, " ")
    unchanged = await crm_service.lead(agent.actor, lead_id)
    assert (unchanged.status, unchanged.version) == (LeadStatus.NEW, lead.version)

    await crm_service.do_change_status(agent.actor, lead_id, LeadStatus.CONTACTED, None)
    await crm_service.do_change_status(agent.actor, lead_id, LeadStatus.QUALIFIED, None)
    with pytest.raises(ConvertRequired):
        await crm_service.do_change_status(agent.actor, lead_id, LeadStatus.CONVERTED, None)
    await crm_service.do_convert(agent.actor, lead_id, ConvertRequest())
    with pytest.raises(IllegalTransition):  # converted → new
        await crm_service.do_change_status(agent.actor, lead_id, LeadStatus.NEW, None)

    lost = await new_lead(agent.actor)
    gone = await crm_service.do_change_status(agent.actor, str(lost.id), LeadStatus.LOST,
                                              "chose another broker")  # fmt: skip
    assert (gone.status, gone.lost_reason, gone.stage) == (
        LeadStatus.LOST,
        "chose another broker",
        LeadStatus.NEW,
    )
    kinds = [a.kind for a in await crm_service.timeline(agent.actor, str(lost.id))]
    assert kinds == [ActivityKind.STATUS, ActivityKind.CREATED]


async def test_merge_keeps_every_activity_is_audited_and_undone() -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    winner = await new_lead(agent.actor, "Kavya Shah", email=email("kavya"))
    number = phone()
    loser = await new_lead(agent.actor, "Kavya  Shah", email=email("kshah"), phone=number,
                           city="Pune")  # fmt: skip
    w, lo = str(winner.id), str(loser.id)
    await crm_service.do_log_activity(agent.actor, w, ActivityKind.NOTE, "prefers mornings")
    await crm_service.do_log_activity(agent.actor, lo, ActivityKind.CALL, "asked about SIPs")
    await crm_service.do_log_activity(agent.actor, lo, ActivityKind.NOTE, "has a demat account")
    before_w = {a.id for a in await crm_service.timeline(agent.actor, w)}
    before_l = {a.id for a in await crm_service.timeline(agent.actor, lo)}

    with pytest.raises(MergeRefused) as caught:
        await crm_service.do_merge(agent.actor, w, w)
    assert caught.value.details["reason"] == "self"

    merge = await crm_service.do_merge(agent.actor, w, lo)
    assert sorted(merge.filled) == ["city", "phone"]
    merged_winner = await crm_service.lead(agent.actor, w)
    assert crm_service.phone_of(merged_winner) == "+91" + number.replace(" ", "")[1:]
    assert merged_winner.city == "Pune"
    folded = await crm_service.lead(agent.actor, lo)
    assert (folded.status, folded.merged_into) == (LeadStatus.MERGED, w)
    timeline = await crm_service.timeline(agent.actor, w)
    assert before_w | before_l <= {a.id for a in timeline}  # every note and call kept
    assert timeline[0].kind == ActivityKind.MERGED
    found, _ = await crm_service.leads(
        agent.actor,
        status=None,
        source=None,
        owner_id=None,
        text="demat",
        skip=0,
        limit=10,
        sort="created",
    )
    assert [str(x.id) for x in found] == [w]  # the loser's notes are searchable on the winner
    with pytest.raises(MergeRefused):  # a merged lead cannot be merged again
        await crm_service.do_merge(agent.actor, w, lo)

    undone = await crm_service.do_undo_merge(agent.actor, str(merge.id))
    assert undone.undone_at is not None
    back_w, back_l = await crm_service.lead(agent.actor, w), await crm_service.lead(agent.actor, lo)
    assert back_l.status == LeadStatus.NEW and back_l.merged_into is None
    assert back_w.phone_sealed is None and back_w.city is None
    assert back_l.dedupe_phone is not None  # the loser holds its phone again
    assert {a.id for a in await crm_service.timeline(agent.actor, lo)} == before_l
    assert before_w <= {a.id for a in await crm_service.timeline(agent.actor, w)}
    with pytest.raises(UndoRefused):
        await crm_service.do_undo_merge(agent.actor, str(merge.id))
    actions = [r.action async for r in _audit_records()]
    assert "crm.lead.merge" in actions and "crm.lead.merge_undo" in actions
    assert (await audit_service.verify(AUDIT_CHAIN)).ok


async def _audit_records():  # type: ignore[no-untyped-def]
    async for record in AuditRecord.find({"chain": AUDIT_CHAIN}).sort("+seq"):
        yield record


async def test_conversion_keeps_the_history_in_one_client() -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    lead = await new_lead(agent.actor, "Nikhil Rao", phone=phone(), company="Rao & Sons")
    lead_id = str(lead.id)
    await crm_service.do_log_activity(agent.actor, lead_id, ActivityKind.CALL, "intro call")
    with pytest.raises(IllegalTransition):  # only qualified leads convert
        await crm_service.do_convert(agent.actor, lead_id, ConvertRequest())
    for status in (LeadStatus.CONTACTED, LeadStatus.QUALIFIED):
        await crm_service.do_change_status(agent.actor, lead_id, status, None)
    converted, client = await crm_service.do_convert(
        agent.actor, lead_id, ConvertRequest(investment_capacity="2500000.00", invite=True)
    )  # fmt: skip
    assert converted.status == LeadStatus.CONVERTED and converted.client_id == str(client.id)
    assert client.lead_id == lead_id and client.owner_id == agent.user_id
    assert client.segment.value == "affluent" and client.user_id  # invited: an account
    assert crm_service.phone_of(client) == crm_service.phone_of(lead)
    history = await crm_service.client_timeline(agent.actor, str(client.id))
    kinds = [a.kind for a in history]
    assert ActivityKind.CALL in kinds and ActivityKind.CREATED in kinds
    assert ActivityKind.CONVERTED in kinds and ActivityKind.INVITED in kinds


async def test_csv_import_reports_every_row() -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    taken = email("taken")
    await new_lead(agent.actor, email=taken)
    fresh = email("fresh")
    text = (
        "full_name,email,phone,city,investment_capacity\n"
        f"Anil Gupta,{fresh},,Delhi,150000.00\n"
        "Bad Mail,not-an-email,,,\n"
        f"Dup Person,{taken},,,\n"
        ",nobody@example.com,,,\n"
        f"Capacity Wrong,{email('cap')},,,12.345\n"
        f"Same In File,{fresh.upper()},,,\n"
    )
    report = await crm_service.do_import(agent.actor, text, LeadSource.IMPORT)
    assert (report.created, report.refused) == (1, 5)
    by_row = {r.row: r for r in report.rows}
    assert by_row[2].status == "created" and by_row[2].lead_id
    assert by_row[3].code == "invalid_contact"
    assert by_row[4].code == "lead_duplicate"
    assert by_row[5].code in ("validation_error", "invalid_contact")
    assert by_row[6].code == "validation_error"
    assert by_row[7].code == "lead_duplicate"
    made = await crm_service.lead(agent.actor, by_row[2].lead_id or "")
    assert (made.source, made.city, made.investment_capacity) == (
        LeadSource.IMPORT,
        "Delhi",
        15_000_000,
    )


async def test_web_form_round_robin_honeypot_and_resubmission() -> None:
    await CrmStaff.get_pymongo_collection().update_many({}, {"$set": {"active": False}})
    _, agents = await team(3, active=True)
    ids = {a.user_id for a in agents}
    made = []
    for i in range(6):
        address = email(f"web{i}")
        await crm_service.do_web_form(
            WebFormRequest(full_name=f"Web Person {i}", email=address, message="call me"),
            f"198.51.100.{i}",
        )
        found = await repository.lead_by_contact(address, None)
        assert found is not None and found.source == LeadSource.WEB_FORM
        made.append(found)
    owners = [lead.owner_id for lead in made]
    assert set(owners) == ids and all(owners.count(a) == 2 for a in ids)

    spam = email("spam")
    await crm_service.do_web_form(
        WebFormRequest(full_name="Bot", email=spam, website="http://spam"), "198.51.100.77"
    )
    assert await repository.lead_by_contact(spam, None) is None

    again = made[0]
    await crm_service.do_web_form(
        WebFormRequest(full_name="Web Person 0", email=again.email or "", message="still keen"),
        "198.51.100.78",
    )
    timeline = await repository.timeline([str(again.id)], None, 10)
    assert [a.kind for a in timeline][:1] == [ActivityKind.WEB_FORM]
    assert await Lead.find({"email": again.email}).count() == 1


async def test_scope_hides_other_agents_leads() -> None:
    manager, (mine, teammate) = await team(2)
    outsider = await staff(PlatformRole.CRM_AGENT)
    lead = await new_lead(mine.actor, "Scoped Person")
    lead_id = str(lead.id)
    for who in (teammate, outsider):
        with pytest.raises(LeadNotFound):
            await crm_service.lead(who.actor, lead_id)
        with pytest.raises(LeadNotFound):
            await crm_service.do_change_status(who.actor, lead_id, LeadStatus.CONTACTED, None)
        found, _ = await crm_service.leads(who.actor, status=None, source=None,
                                               owner_id=None, text="Scoped", skip=0, limit=500,
                                               sort="created")  # fmt: skip
        assert lead_id not in {str(x.id) for x in found}
    assert (await crm_service.lead(manager.actor, lead_id)).id == lead.id


async def test_score_shows_its_parts_and_decays() -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    lead = await new_lead(agent.actor, email=email(), phone=phone(), city="Chennai",
                          source=LeadSource.REFERRAL)  # fmt: skip
    lead_id = str(lead.id)
    for text in ("call one", "call two"):
        await crm_service.do_log_activity(agent.actor, lead_id, ActivityKind.CALL, text)
    fresh = await crm_service.lead(agent.actor, lead_id)
    parts = fresh.score_parts
    # referral 30 + two calls × 5 + e-mail 10, phone 10, city 5 = 65, no decay yet.
    assert (parts.source, parts.engagement, parts.completeness) == (30, 10, 25)
    assert (parts.decay_bp, fresh.score) == (10_000, 65)
    later = await crm_service.compute_score(fresh, fresh.last_activity_at + dt.timedelta(days=14))
    # 14 days inactive = one half-life (the calls are still inside the 30-day window):
    # 65 × 0.5 = 32.5, rounded half-even to 32.
    assert (later.decay_bp, later.days_inactive, later.total) == (5_000, 14, 32)


async def test_concurrent_moves_of_one_lead_apply_once() -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    lead = await new_lead(agent.actor)
    results = await asyncio.gather(
        *(crm_service.do_change_status(agent.actor, str(lead.id), LeadStatus.CONTACTED, None)
          for _ in range(4)),
        return_exceptions=True,
    )  # fmt: skip
    moved = [r for r in results if isinstance(r, Lead)]
    refused = [r for r in results if not isinstance(r, Lead)]
    assert len(moved) == 1, results
    assert all(isinstance(r, (IllegalTransition, LeadChanged)) for r in refused), refused
    kinds = [a.kind for a in await crm_service.timeline(agent.actor, str(lead.id))]
    assert kinds.count(ActivityKind.STATUS) == 1


async def test_a_large_import_is_stored_in_chunks_and_audited() -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    taken = await new_lead(agent.actor, email=email("taken"))
    tag = email("bulk").split("@")[0]
    lines = ["full_name,email,phone"]
    lines += [f"Bulk Person {i},{tag}.{i}@example.com,+9199{i:08d}" for i in range(130)]
    lines.insert(60, f"Already Known,{taken.email},")
    report = await crm_service.do_import(agent.actor, "\n".join(lines), LeadSource.IMPORT)
    assert (report.created, report.refused) == (130, 1)
    assert [r.row for r in report.rows] == list(range(2, 133))
    assert [r.code for r in report.rows if r.status == "refused"] == ["lead_duplicate"]
    assert report.rows[59].status == "refused"  # the row that was inserted at line 61
    made = await Lead.find({"email": {"$regex": f"^{tag}\\."}}).to_list()
    assert len(made) == 130 and {lead.owner_id for lead in made} == {agent.user_id}
    assert (await audit_service.verify(AUDIT_CHAIN)).ok

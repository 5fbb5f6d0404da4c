"""What the new-user trial of the CRM found (issue #18), each over HTTP against the running
server: an agent cannot reach an existing platform account by typing its e-mail (the holder
must accept, signed in), and the fixes that follow it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from app.advisory.schemas import AccountCreate
from app.advisory.service import advisory_service
from app.audit.documents import AuditRecord
from app.books.service import books_service
from app.clubs.service import club_service
from app.crm.service import AUDIT_CHAIN
from app.fx import rate_on
from app.identity.documents import PlatformRole
from app.identity.signup import do_provision_user
from app.money import format_minor
from tests.advisory.factories import MODERATE
from tests.clubs.factories import paid_contribution
from tests.conftest import LiveStack
from tests.crm.conftest import email, staff, team
from tests.crm.test_clients_direct import upload_kyc
from tests.crm.test_http import _kyc, lead_of, move, person
from tests.files.http import Person
from tests.files.samples import png
from tests.identity.conftest import Account, Api
from tests.kyc.test_workflow_http import new_pan

PAID_ON, VALUED_ON = dt.date(2026, 6, 1), dt.date(2026, 6, 2)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def api(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(live_stack.url, http)


async def member(api: Api, name: str = "Existing Member") -> Person:
    """A platform member of their own (not staff), signed in."""
    address, password = email("member"), "Member-pass-2026!"
    user = await do_provision_user(email=address, password=password, full_name=name)
    own = Api(api.base, api.http)
    account = Account(address, password, str(user.id))
    return Person(own, account, (await own.tokens(account))["access_token"])


async def test_an_existing_account_is_linked_only_when_its_holder_accepts(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    holder = await member(api)
    stranger = await member(api, "Someone Else")
    taken = await advisory_service.do_take_questionnaire(holder.id, MODERATE)

    made = await agent.ok("POST", "/api/v1/crm/clients", {
        "full_name": "Typed By Agent", "email": holder.account.email, "invite": True,
    }, status=201)  # fmt: skip
    client = made["client"]
    cid = client["id"]
    assert (client["user_id"], client["link_pending"]) == (None, True)
    # Nothing of the account reaches the CRM before the holder agrees.
    portfolio = await agent.ok("GET", f"/api/v1/crm/clients/{cid}/portfolio")
    assert (portfolio["member"], portfolio["investments"]) == (False, [])
    kyc = await agent.ok("GET", f"/api/v1/crm/clients/{cid}/kyc")
    assert (kyc["member"], kyc["status"]) == (False, "not_started")
    advisory = await agent.ok("GET", f"/api/v1/crm/clients/{cid}/advisory")
    assert (advisory["user_id"], advisory["risk_profile"]) == (None, None)
    form = aiohttp.FormData()
    form.add_field("client_id", cid)
    form.add_field("kind", "pan")
    form.add_field("number", "ABCDE1234F")
    form.add_field("file", PNG, filename="pan.png", content_type="image/png")
    async with api.http.post(
        f"{api.base}/api/v1/crm/kyc/documents",
        data=form,
        headers={"Authorization": f"Bearer {agent.token}"},
    ) as reply:
        assert reply.status == 409 and (await reply.json())["error"]["code"] == \
            "client_not_member"  # fmt: skip
    assert (await holder.ok("GET", "/api/v1/kyc"))["documents"] == []
    # Inviting again changes nothing; the holder was asked, not told they have an account.
    again = await agent.ok("POST", f"/api/v1/crm/clients/{cid}/invite")
    assert (again["user_id"], again["link_pending"]) == (None, True)
    subjects = [m["subject"] for m in await api.outbox(holder.account.email)]
    assert subjects == ["Link your Samooh account?"]

    # Only the holder may answer, signed in.
    assert (await stranger.ok("GET", "/api/v1/crm/link-requests"))["items"] == []
    refused = await stranger.call("POST", f"/api/v1/crm/link-requests/{cid}", {"accept": True})
    assert (refused.status, refused.code) == (404, "client_not_found")
    waiting = await holder.ok("GET", "/api/v1/crm/link-requests")
    assert [i["client_id"] for i in waiting["items"]] == [cid]
    answered = await holder.ok("POST", f"/api/v1/crm/link-requests/{cid}", {"accept": True})
    assert answered == {"client_id": cid, "linked": True}
    twice = await holder.call("POST", f"/api/v1/crm/link-requests/{cid}", {"accept": True})
    assert (twice.status, twice.code) == (404, "client_not_found")
    linked = await agent.ok("GET", f"/api/v1/crm/clients/{cid}")
    assert (linked["user_id"], linked["link_pending"]) == (holder.id, False)
    advisory = await agent.ok("GET", f"/api/v1/crm/clients/{cid}/advisory")
    assert advisory["risk_profile"]["profile"] == taken.profile
    timeline = await agent.ok("GET", f"/api/v1/crm/clients/{cid}/timeline")
    assert "They agreed to link their platform account" in [i["text"] for i in timeline["items"]]


async def test_a_declined_or_converted_link_request_reveals_nothing(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    holder = await member(api)
    lead = await lead_of(agent, "Converted Member", email=holder.account.email)
    await move(agent, str(lead["id"]), "contacted", "qualified")
    made = await agent.ok("POST", f"/api/v1/crm/leads/{lead['id']}/convert", {"invite": True},
                          status=201)  # fmt: skip
    cid = made["client"]["id"]
    assert (made["client"]["user_id"], made["client"]["link_pending"]) == (None, True)
    declined = await holder.ok("POST", f"/api/v1/crm/link-requests/{cid}", {"accept": False})
    assert declined == {"client_id": cid, "linked": False}
    after = await agent.ok("GET", f"/api/v1/crm/clients/{cid}")
    assert (after["user_id"], after["link_pending"]) == (None, False)
    assert (await agent.ok("GET", f"/api/v1/crm/clients/{cid}/portfolio"))["member"] is False
    # A new address still gets its own account at once.
    fresh = await agent.ok("POST", "/api/v1/crm/clients", {
        "full_name": "Brand New", "email": email("new"), "invite": True}, status=201)  # fmt: skip
    assert fresh["client"]["user_id"] and not fresh["client"]["link_pending"]


async def _valued_club(user_id: str, currency: str, amount: int) -> None:
    """A club of ``user_id`` in ``currency`` holding ``amount`` minor units of theirs, valued."""
    club, _ = await club_service.do_create_club(user_id, name=f"{currency} {email('c')[:12]}",
                                                currency=currency)  # fmt: skip
    await paid_contribution(club, user_id, amount, PAID_ON)
    await books_service.do_record_valuation(str(club.id), user_id,
                                            valuation_date=VALUED_ON, prices={})  # fmt: skip


async def test_the_total_counts_every_currency_and_the_personal_account(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    body = {"full_name": "Dollar Holder", "email": email("usd"), "invite": True}
    made = await agent.ok("POST", "/api/v1/crm/clients", body, status=201)
    cid, user_id = made["client"]["id"], made["client"]["user_id"]
    for currency, amount in (("USD", 2_000_000), ("USD", 2_000_000), ("USD", 2_000_000),
                             ("INR", 2_000_000)):  # fmt: skip
        await _valued_club(user_id, currency, amount)
    account = await advisory_service.do_open_account(user_id, AccountCreate(name="My own"))

    folio = await agent.ok("GET", f"/api/v1/crm/clients/{cid}/portfolio")
    assert sorted(i["value"] for i in folio["investments"]) == ["20000.00"] * 4
    assert [(t["currency"], t["value"], t["paid_in"]) for t in folio["totals"]] == [
        ("INR", "20000.00", "20000.00"), ("USD", "60000.00", "60000.00")]  # fmt: skip
    usd = rate_on("USD", "INR", dt.datetime.now(dt.UTC).date())
    by_hand = usd.convert(6_000_000) + 2_000_000  # paise
    assert folio["total_currency"] == "INR"
    assert folio["total_value"] == format_minor(by_hand) == folio["total_paid_in"]
    assert folio["fx"] == [{"base": "USD", "quote": "INR", "rate": usd.text(),
                            "rate_date": usd.rate_date.isoformat()}]  # fmt: skip
    assert "ECB" in folio["total_note"] and usd.text() in folio["total_note"]
    assert [a["account_id"] for a in folio["accounts"]] == [account.account_id]


async def test_the_reviewer_sees_the_scan_and_its_number_in_the_queue(api: Api) -> None:
    manager, (agent_s,) = await team(1)
    agent, boss = await person(api, agent_s), await person(api, manager)
    outsider = await person(api, await staff(PlatformRole.CRM_AGENT))
    body = {"full_name": "Scan Holder", "email": email("scan"), "invite": True}
    client = (await agent.ok("POST", "/api/v1/crm/clients", body, status=201))["client"]
    pan, scan = new_pan(), png(seed=uuid.uuid4().int % 255)
    doc = await upload_kyc(agent, client["id"], scan, "pan.png", kind="pan", number=pan)
    assert doc.status == 201, doc.body
    queue = await boss.ok("GET", "/api/v1/crm/kyc/queue")
    item = next(i for i in queue["items"] if i["document_id"] == doc.body["id"])
    assert (item["number"], item["content_type"]) == (pan, "image/png")
    assert item["file_link"] == f"/api/v1/crm/kyc/{doc.body['id']}/file"
    link = await boss.ok("GET", item["file_link"], params={"disposition": "inline"})
    async with api.http.get(link["url"]) as reply:
        assert reply.status == 200 and await reply.read() == scan
    # Outside the book: nothing, not even the document's existence.
    refused = await outsider.call("GET", item["file_link"])
    assert (refused.status, refused.code) == (404, "client_not_found")
    trail = await AuditRecord.find({"chain": AUDIT_CHAIN, "action": "crm.kyc.view",
                                    "actor_id": manager.user_id}).to_list()  # fmt: skip
    assert [r.details["document_id"] for r in trail] == [doc.body["id"]]


async def test_a_rejection_needs_a_reason_and_the_upload_names_the_staff(api: Api) -> None:
    manager, (agent_s,) = await team(1)
    agent, boss = await person(api, agent_s), await person(api, manager)
    body = {"full_name": "Reason Wanted", "email": email("why"), "invite": True}
    client = (await agent.ok("POST", "/api/v1/crm/clients", body, status=201))["client"]
    doc = await upload_kyc(agent, client["id"], png(seed=7), "pan.png", kind="pan",
                           number=new_pan())  # fmt: skip
    assert doc.status == 201, doc.body
    submitted = await AuditRecord.find_one({"action": "kyc.submitted",
                                            "target_id": doc.body["id"]})  # fmt: skip
    assert submitted is not None and submitted.actor_id == agent_s.user_id
    assert submitted.details["on_behalf_of"] == client["user_id"]
    path = f"/api/v1/crm/kyc/{doc.body['id']}/decision"
    for reason in (None, "", "   "):
        refused = await boss.call("POST", path, {"verify": False, "reason": reason})
        assert (refused.status, refused.code) == (422, "kyc_reason_required")
    kyc = await agent.ok("GET", f"/api/v1/crm/clients/{client['id']}/kyc")
    assert [d["status"] for d in kyc["documents"]] == ["pending"]
    rejected = await boss.ok("POST", path, {"verify": False, "reason": "The photo is blurred"})
    assert rejected["status"] == "rejected"
    mails = await api.outbox(client["email"])
    assert any("The photo is blurred" in m.get("body", "") for m in mails), mails


async def test_a_stale_status_change_does_not_undo_another_persons_move(api: Api) -> None:
    manager, (agent_s,) = await team(1)
    agent, boss = await person(api, agent_s), await person(api, manager)
    lead = await lead_of(agent, "Raced Lead")
    seen = lead["version"]
    path = f"/api/v1/crm/leads/{lead['id']}/status"
    moved = await boss.ok("POST", path, {"status": "contacted", "version": seen})
    assert moved["status"] == "contacted" and moved["version"] > seen
    stale = await agent.call("POST", path, {"status": "lost", "reason": "no", "version": seen})
    assert (stale.status, stale.code) == (409, "lead_changed")
    assert stale.body["error"]["details"] == {"version": moved["version"], "status": "contacted"}
    now = await agent.ok("GET", f"/api/v1/crm/leads/{lead['id']}")
    assert (now["status"], now["version"]) == ("contacted", moved["version"])
    # With the version they now see, the move goes through.
    lost = await agent.ok(
        "POST", path, {"status": "lost", "reason": "no", "version": now["version"]}
    )
    assert lost["status"] == "lost"


async def test_a_merged_away_address_stays_taken_until_the_undo(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    kept_mail, gone_mail = email("kept"), email("gone")
    winner = await lead_of(agent, "Meera Nair", email=kept_mail)
    loser = await lead_of(agent, "Meera  Nair", email=gone_mail)
    merged = await agent.ok("POST", f"/api/v1/crm/leads/{winner['id']}/merge",
                            {"other_id": loser["id"]}, status=201)  # fmt: skip
    again = await agent.call("POST", "/api/v1/crm/leads",
                             {"full_name": "Meera N", "email": gone_mail.upper()})  # fmt: skip
    assert (again.status, again.code) == (409, "lead_duplicate")
    assert again.body["error"]["details"] == {"field": "email", "merged": True,
                                              "lead_id": winner["id"]}  # fmt: skip
    imported = await agent.ok("POST", "/api/v1/crm/leads/import",
                              {"csv": f"full_name,email\nMeera Copy,{gone_mail}\n"})  # fmt: skip
    assert (imported["created"], imported["rows"][0]["code"]) == (0, "lead_duplicate")
    undone = await agent.ok("POST", f"/api/v1/crm/merges/{merged['id']}/undo")
    assert undone["undone_at"]
    back = await agent.ok("GET", f"/api/v1/crm/leads/{loser['id']}")
    assert (back["status"], back["email"]) == ("new", gone_mail)
    # Live again: its address is its own unique key again, refused as any live lead's is.
    twice = await agent.call("POST", "/api/v1/crm/leads", {"full_name": "M", "email": gone_mail})
    assert (twice.status, twice.body["error"]["details"].get("lead_id")) == (409, loser["id"])


async def test_a_clients_new_address_is_checked_for_duplicates(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    first_mail, second_mail, fresh = email("one"), email("two"), email("fresh")
    one = {"full_name": "First Client", "email": first_mail}
    first = await agent.ok("POST", "/api/v1/crm/clients", one, status=201)
    two = {"full_name": "Second Client", "email": second_mail}
    second = await agent.ok("POST", "/api/v1/crm/clients", two, status=201)
    path = f"/api/v1/crm/clients/{second['client']['id']}"
    taken = await agent.call("PATCH", path, {"email": first_mail})
    assert (taken.status, taken.code) == (409, "lead_duplicate")
    assert taken.body["error"]["details"]["lead_id"] == first["client"]["lead_id"]
    assert (await agent.ok("GET", path))["email"] == second_mail
    moved = await agent.ok("PATCH", path, {"email": fresh})
    assert moved["email"] == fresh
    # The unique key moved with it: the new address is taken, the old one is free.
    clash = await agent.call("POST", "/api/v1/crm/leads", {"full_name": "X", "email": fresh})
    assert (clash.status, clash.code) == (409, "lead_duplicate")
    await agent.ok("POST", "/api/v1/crm/leads", {"full_name": "Y", "email": second_mail},
                   status=201)  # fmt: skip


async def test_a_merge_is_named_undoable_from_the_timeline_and_the_loser_takes_no_work(
    api: Api,
) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    winner = await lead_of(agent, "Ravi Kumar")
    loser = await lead_of(agent, "Ravi Kumaar")
    merged = await agent.ok("POST", f"/api/v1/crm/leads/{winner['id']}/merge",
                            {"other_id": loser["id"]}, status=201)  # fmt: skip
    timeline = (await agent.ok("GET", f"/api/v1/crm/leads/{winner['id']}/timeline"))["items"]
    entry = next(i for i in timeline if i["kind"] == "merged")
    assert (entry["other_name"], entry["undoable"], entry["data"]["merge_id"]) == (
        "Ravi Kumaar", True, merged["id"])  # fmt: skip
    for path, body in ((f"/api/v1/crm/leads/{loser['id']}/activities",
                        {"kind": "note", "text": "on the old one"}),
                       ("/api/v1/crm/reminders", {"lead_id": loser["id"], "text": "call",
                                                  "due_at": "2030-01-01T10:00:00Z"})):  # fmt: skip
        refused = await agent.call("POST", path, body)
        assert (refused.status, refused.code) == (409, "lead_merged"), path
        assert refused.body["error"]["details"] == {"merged_into": winner["id"]}
    await agent.ok("POST", f"/api/v1/crm/merges/{merged['id']}/undo")
    timeline = (await agent.ok("GET", f"/api/v1/crm/leads/{winner['id']}/timeline"))["items"]
    assert next(i for i in timeline if i["kind"] == "merged")["undoable"] is False
    assert next(i for i in timeline if i["kind"] == "merge_undone")["other_name"] == "Ravi Kumaar"


async def test_the_questionnaire_result_is_the_risk_profile(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    body = {"full_name": "Risk Taker", "email": email("risk"), "invite": True}
    client = (await agent.ok("POST", "/api/v1/crm/clients", body, status=201))["client"]
    path = f"/api/v1/crm/clients/{client['id']}"
    # Before the questionnaire the agent's note of it may be kept.
    noted = await agent.ok("PATCH", path, {"investment_profile": {"risk_tolerance": "moderate"}})
    assert noted["investment_profile"]["risk_tolerance"] == "moderate"
    taken = await advisory_service.do_take_questionnaire(client["user_id"], MODERATE)
    other = "conservative" if taken.profile != "conservative" else "aggressive"
    refused = await agent.call("PATCH", path, {"investment_profile": {"risk_tolerance": other}})
    assert (refused.status, refused.code) == (409, "risk_from_questionnaire")
    assert refused.body["error"]["details"]["profile"] == taken.profile
    kept = await agent.ok("GET", path)
    assert kept["investment_profile"]["risk_tolerance"] == "moderate"


async def test_a_conversion_of_a_lead_changed_meanwhile_is_refused(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    lead = await lead_of(agent, "Late Convert")
    await move(agent, str(lead["id"]), "contacted", "qualified")
    seen = (await agent.ok("GET", f"/api/v1/crm/leads/{lead['id']}"))["version"]
    await agent.ok("POST", f"/api/v1/crm/leads/{lead['id']}/activities",
                   {"kind": "note", "text": "x"}, status=201)  # fmt: skip
    await agent.ok("PATCH", f"/api/v1/crm/leads/{lead['id']}", {"city": "Pune"})
    stale = await agent.call("POST", f"/api/v1/crm/leads/{lead['id']}/convert",
                             {"version": seen})  # fmt: skip
    assert (stale.status, stale.code) == (409, "lead_changed")
    assert (await agent.ok("GET", f"/api/v1/crm/leads/{lead['id']}"))["status"] == "qualified"


async def test_the_csv_export_does_not_carry_formulas(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    sly = '=HYPERLINK("http://evil.example","Click")'
    await lead_of(agent, sly)
    await lead_of(agent, "+91 Plain Name")
    reply = await agent.call("GET", "/api/v1/crm/leads/export.csv")
    assert reply.status == 200
    rows = list(csv.DictReader(io.StringIO(reply.body.decode())))
    names = {r["full_name"] for r in rows}
    assert "'" + sly in names and "'+91 Plain Name" in names
    assert not any(n[:1] in ("=", "+", "-", "@") for n in names)


async def test_today_is_the_persons_day_and_the_past_is_refused(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    lead = await lead_of(agent, "Timed Lead")
    past = await agent.call("POST", "/api/v1/crm/reminders", {
        "lead_id": lead["id"], "text": "too late", "due_at": "2020-01-01T10:00:00Z"})  # fmt: skip
    assert (past.status, past.code) == (422, "reminder_in_past")
    # Due at 23:30 India time today-or-tomorrow: the India day, not the UTC one, decides.
    india = ZoneInfo("Asia/Kolkata")
    now = dt.datetime.now(india)
    late = dt.datetime.combine(now.date(), dt.time(23, 30), india)
    if late <= now + dt.timedelta(minutes=1):
        late += dt.timedelta(days=1)
    body = {"lead_id": lead["id"], "text": "late call", "due_at": late.isoformat()}
    made = await agent.ok("POST", "/api/v1/crm/reminders", body, status=201)
    mine = await agent.ok("GET", "/api/v1/crm/reminders",
                          params={"scope": "today", "tz": "Asia/Kolkata"})  # fmt: skip
    assert (made["id"] in [r["id"] for r in mine["items"]]) == (late.date() == now.date())
    # The same instant is tomorrow in Kiritimati (UTC+14): there it is not due today.
    samoa = await agent.ok("GET", "/api/v1/crm/reminders",
                           params={"scope": "today", "tz": "Pacific/Kiritimati"})  # fmt: skip
    local = late.astimezone(ZoneInfo("Pacific/Kiritimati"))
    today_there = dt.datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    assert (made["id"] in [r["id"] for r in samoa["items"]]) == (local.date() <= today_there)
    for zone in ("Mars/Olympus", "Asia", "../etc"):  # "Asia" is a directory of zones
        bad = await agent.call("GET", "/api/v1/crm/reminders", params={"tz": zone})
        assert (bad.status, bad.code) == (422, "validation_error"), zone


async def test_the_export_carries_the_account_and_kyc_and_the_trail_shows_the_erasure(
    api: Api,
) -> None:
    agent_s = await staff(PlatformRole.CRM_AGENT)
    agent, chief = await person(api, agent_s), await person(api, await staff(PlatformRole.ADMIN))
    body = {"full_name": "Export Me", "email": email("exp"), "invite": True}
    client = (await agent.ok("POST", "/api/v1/crm/clients", body, status=201))["client"]
    pan = new_pan()
    doc = await upload_kyc(agent, client["id"], png(seed=3), "pan.png", kind="pan", number=pan)
    assert doc.status == 201, doc.body
    export = await agent.ok("GET", f"/api/v1/crm/leads/{client['lead_id']}/export")
    assert (export["account"]["id"], export["account"]["email"]) == (client["user_id"],
                                                                     client["email"])  # fmt: skip
    assert [(d["kind"], d["number"]) for d in export["kyc"]] == [("pan", pan)]
    assert "password_hash" not in export["account"]
    await chief.ok("DELETE", f"/api/v1/crm/leads/{client['lead_id']}")
    trail = await chief.ok("GET", "/api/v1/crm/audit", params={"action": "crm.person"})
    assert trail["chain_ok"] is True
    assert [r["action"] for r in trail["items"][:2]] == ["crm.person.erase", "crm.person.export"]
    assert trail["items"][1]["actor_name"] == "Crm Agent"
    assert "Export Me" not in str(trail)
    refused = await agent.call("GET", "/api/v1/crm/audit")
    assert refused.status == 403


async def test_refusals_say_which_field_and_reports_need_an_ordered_period(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    text = (
        "full_name,email,phone,investment_capacity\nA One,not-mail,,\nB Two,,12,\nC Three,,,lots\n"
    )
    report = await agent.ok("POST", "/api/v1/crm/leads/import", {"csv": text})
    assert [(r["row"], r["code"], r["field"]) for r in report["rows"]] == [
        (2, "invalid_contact", "email"), (3, "invalid_contact", "phone"),
        (4, "validation_error", "investment_capacity")]  # fmt: skip
    assert report["rows"][2]["message"] == (
        "the investment_capacity column needs an amount such as 250000.00"
    )
    neither = await agent.call("POST", "/api/v1/crm/reminders",
                               {"text": "x", "due_at": "2031-01-01T10:00:00Z"})  # fmt: skip
    assert (neither.status, neither.code) == (422, "validation_error")
    lead = await lead_of(agent, "Assigned Elsewhere")
    stranger = await agent.call("POST", "/api/v1/crm/reminders", {
        "lead_id": lead["id"], "text": "x", "due_at": "2031-01-01T10:00:00Z",
        "assignee_id": "nobody"})  # fmt: skip
    assert (stranger.status, stranger.code) == (422, "assignee_invalid")
    assert stranger.body["error"]["details"]["field"] == "assignee_id"
    backwards = await agent.call("GET", "/api/v1/crm/reports",
                                 params={"since": "2026-02-01", "until": "2026-01-01"})  # fmt: skip
    assert (backwards.status, backwards.code) == (422, "validation_error")


async def test_staff_see_their_clients_kyc_that_lapses_soon(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    outsider = await person(api, await staff(PlatformRole.CRM_AGENT))
    body = {"full_name": "Lapsing Soon", "email": email("lapse"), "invite": True}
    client = (await agent.ok("POST", "/api/v1/crm/clients", body, status=201))["client"]
    await _kyc(client["user_id"], verified=True, expires_in_days=10)
    soon = await agent.ok("GET", "/api/v1/crm/kyc/expiring")
    assert soon["days"] == 30
    assert [(i["client_id"], i["days_left"]) for i in soon["items"]] == [(client["id"], 10)]
    assert (await outsider.ok("GET", "/api/v1/crm/kyc/expiring"))["items"] == []

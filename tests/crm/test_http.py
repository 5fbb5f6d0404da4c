"""The CRM over HTTP against the running web server and worker: the public web form (honeypot,
per-address limits, bad input), role scoping on every endpoint (another agent's lead is a
404 everywhere — lists, search, reports, exports), stable error codes that change nothing,
report figures against hand counts, the KYC queue, and data protection (export, erasure that
keeps the audit chain verifiable)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from beanie import PydanticObjectId

from app.audit.documents import AuditRecord
from app.audit.service import audit_service
from app.crm.service import AUDIT_CHAIN
from app.identity.documents import PlatformRole
from app.kyc.documents import DocumentKind, DocumentStatus, KycDocument
from tests.conftest import LiveStack
from tests.crm.conftest import Staff, email, phone, staff, team
from tests.files.http import Person
from tests.identity.conftest import Account, Api


@pytest.fixture
async def api(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(live_stack.url, http)


async def person(api: Api, member: Staff) -> Person:
    """A logged-in HTTP client of ``member`` (from an address of its own)."""
    own = Api(api.base, api.http)
    account = Account(member.email, member.password, member.user_id)
    return Person(own, account, (await own.tokens(account))["access_token"])


async def lead_of(agent: Person, name: str = "Asha Rao", **fields: object) -> dict[str, object]:
    body = {"full_name": name, "email": email(), **fields}
    created = await agent.ok("POST", "/api/v1/crm/leads", body, status=201)
    return dict(created["lead"])


async def move(agent: Person, lead_id: str, *statuses: str) -> None:
    for status in statuses:
        body = {"status": status, "reason": "price" if status == "lost" else None}
        await agent.ok("POST", f"/api/v1/crm/leads/{lead_id}/status", body)


async def test_web_form_is_public_spam_resistant_and_limited(api: Api) -> None:
    address = email("visitor")
    reply = await api.call(
        "POST",
        "/api/v1/crm/web-form",
        json={"full_name": "Visitor One", "email": address, "phone": phone(), "message": "SIPs?"},
    )
    assert (reply.status, reply.body) == (202, {"received": True})
    bad = await api.call("POST", "/api/v1/crm/web-form",
                         json={"full_name": "X", "email": "nope"})  # fmt: skip
    assert (bad.status, bad.code, bad.body["error"]["details"]["field"]) == (
        422, "invalid_contact", "email")  # fmt: skip
    missing = await api.call("POST", "/api/v1/crm/web-form", json={"email": email()})
    assert (missing.status, missing.code) == (422, "validation_error")
    # The same e-mail from many addresses: 3 an hour, then 429 with Retry-After.
    statuses = []
    for _ in range(3):
        other = Api(api.base, api.http)
        answer = await other.call(
            "POST", "/api/v1/crm/web-form", json={"full_name": "Visitor One", "email": address}
        )
        statuses.append(answer.status)
    assert statuses == [202, 202, 429]
    assert "Retry-After" in answer.headers
    # The honeypot: answered like anything else.
    spam = await api.call(
        "POST",
        "/api/v1/crm/web-form",
        json={"full_name": "Bot", "email": email("bot"), "website": "http://cheap.example"},
    )
    assert (spam.status, spam.body) == (202, {"received": True})
    # Without an account nothing else is open.
    closed = await api.call("GET", "/api/v1/crm/leads")
    assert closed.status == 401


async def test_role_scoping_on_every_endpoint(api: Api) -> None:
    manager_s, (mine_s, teammate_s) = await team(2)
    other_manager_s, (outsider_s,) = await team(1)
    admin_s = await staff(PlatformRole.ADMIN)
    plain_s = await staff(PlatformRole.USER)
    mine, teammate, outsider = [await person(api, s) for s in (mine_s, teammate_s, outsider_s)]
    manager, other_manager = await person(api, manager_s), await person(api, other_manager_s)
    admin, plain = await person(api, admin_s), await person(api, plain_s)
    tag = uuid.uuid4().hex[:8]
    lead = await lead_of(mine, f"Zed {tag}", phone=phone())
    lead_id = str(lead["id"])
    await mine.ok("POST", f"/api/v1/crm/leads/{lead_id}/activities",
                  {"kind": "note", "text": f"secret-{tag}"}, status=201)  # fmt: skip
    theirs = await lead_of(outsider, f"Other {tag}")

    denied = [
        ("GET", f"/api/v1/crm/leads/{lead_id}", None),
        ("PATCH", f"/api/v1/crm/leads/{lead_id}", {"city": "Goa"}),
        ("POST", f"/api/v1/crm/leads/{lead_id}/status", {"status": "contacted"}),
        ("POST", f"/api/v1/crm/leads/{lead_id}/assign", {"round_robin": True}),
        ("GET", f"/api/v1/crm/leads/{lead_id}/timeline", None),
        ("POST", f"/api/v1/crm/leads/{lead_id}/activities", {"kind": "note", "text": "x"}),
        ("GET", f"/api/v1/crm/leads/{lead_id}/duplicates", None),
        ("POST", f"/api/v1/crm/leads/{lead_id}/merge", {"other_id": str(theirs["id"])}),
        ("POST", f"/api/v1/crm/leads/{lead_id}/convert", {}),
        ("GET", f"/api/v1/crm/leads/{lead_id}/export", None),
    ]
    for who in (teammate, outsider, other_manager):
        for method, path, body in denied:
            reply = await who.call(method, path, body)
            assert (reply.status, reply.code) == (404, "lead_not_found"), (method, path)
        page = await who.ok("GET", "/api/v1/crm/leads", params={"limit": "500"})
        assert lead_id not in {i["id"] for i in page["items"]}
        for q in (tag, f"secret-{tag}", str(lead["email"])):
            found = await who.ok("GET", "/api/v1/crm/leads", params={"q": q})
            assert lead_id not in {i["id"] for i in found["items"]}
        exported = await who.call("GET", "/api/v1/crm/leads/export.csv")
        assert exported.status == 200 and lead_id.encode() not in exported.body
        report = await who.ok("GET", "/api/v1/crm/reports")
        assert mine_s.user_id not in {r["key"] for r in report["by_agent"]}
    # Search finds notes for those who may see the lead; a phone is masked in lists only.
    for who in (mine, manager, admin):
        found = await who.ok("GET", "/api/v1/crm/leads", params={"q": f"secret-{tag}"})
        assert [i["id"] for i in found["items"]] == [lead_id]
        assert found["items"][0]["phone"].startswith("••••••")
        detail = await who.ok("GET", f"/api/v1/crm/leads/{lead_id}")
        assert detail["phone"].startswith("+91")
        exported = await who.call("GET", "/api/v1/crm/leads/export.csv")
        assert lead_id.encode() in exported.body
    # A platform user without a CRM role gets 403; an erasure needs an admin.
    assert (await plain.call("GET", "/api/v1/crm/leads")).status == 403
    assert (await manager.call("DELETE", f"/api/v1/crm/leads/{lead_id}")).status == 403
    # Nothing the others tried changed the lead.
    after = await mine.ok("GET", f"/api/v1/crm/leads/{lead_id}")
    assert (after["status"], after["city"], after["owner_id"]) == ("new", None, mine_s.user_id)


async def test_bad_input_answers_a_stable_code_and_changes_nothing(api: Api) -> None:
    agent_s = await staff(PlatformRole.CRM_AGENT)
    agent = await person(api, agent_s)
    lead = await lead_of(agent)
    lead_id = str(lead["id"])
    path = f"/api/v1/crm/leads/{lead_id}"
    cases = [
        ("POST", f"{path}/status", {"status": "archived"}, 422, "validation_error"),
        ("POST", f"{path}/status", {"status": "qualified"}, 409, "lead_illegal_transition"),
        ("POST", f"{path}/status", {"status": "lost"}, 422, "lost_reason_required"),
        ("POST", f"{path}/status", {"status": "converted"}, 409, "lead_illegal_transition"),
        ("POST", f"{path}/merge", {"other_id": lead_id}, 409, "lead_merge_refused"),
        ("POST", f"{path}/convert", {}, 409, "lead_illegal_transition"),
        ("PATCH", path, {"email": "broken@"}, 422, "invalid_contact"),
        ("PATCH", path, {"phone": "99"}, 422, "invalid_contact"),
        ("PATCH", path, {"investment_capacity": 5000}, 422, "validation_error"),
        ("POST", f"{path}/assign", {"owner_id": "nobody"}, 422, "assignee_invalid"),
        (
            "POST",
            "/api/v1/crm/leads",
            {"full_name": "Dup", "email": lead["email"]},
            409,
            "lead_duplicate",
        ),
        ("POST", "/api/v1/crm/leads/import", {"csv": "name,mail\nx,y\n"}, 422, "import_invalid"),
        # a field longer than the csv module reads (it used to answer 500)
        (
            "POST",
            "/api/v1/crm/leads/import",
            {"csv": "full_name\n" + "x" * 140_000},
            422,
            "import_invalid",
        ),
        # paging and versions past what the database stores as an integer (they answered 500)
        ("GET", "/api/v1/crm/leads?skip=99999999999999999999", None, 422, "validation_error"),
        ("GET", "/api/v1/crm/clients?skip=99999999999999999999", None, 422, "validation_error"),
        (
            "POST",
            f"{path}/status",
            {"status": "contacted", "version": 2**70},
            422,
            "validation_error",
        ),
        ("GET", "/api/v1/crm/leads/not-an-id", None, 404, "lead_not_found"),
        ("POST", "/api/v1/crm/merges/000000000000000000000000/undo", None, 404, "merge_not_found"),
    ]
    for method, where, body, status, code in cases:
        reply = await agent.call(method, where, body)
        assert (reply.status, reply.code) == (status, code), (method, where, reply.body)
    after = await agent.ok("GET", path)
    assert {k: after[k] for k in ("status", "email", "phone", "investment_capacity")} == {
        k: lead[k] for k in ("status", "email", "phone", "investment_capacity")
    }
    timeline = await agent.ok("GET", f"{path}/timeline")
    assert [a["kind"] for a in timeline["items"]] == ["created"]


async def _kyc(user_id: str, *, verified: bool, expires_in_days: int | None = None) -> None:
    """Documents of a client's account as the KYC service would have stored them."""
    status = DocumentStatus.VERIFIED if verified else DocumentStatus.PENDING
    expiry = (dt.date.today() + dt.timedelta(days=expires_in_days)).isoformat() \
        if expires_in_days is not None else None  # fmt: skip
    for kind, expires_on in ((DocumentKind.PAN, None), (DocumentKind.DRIVING_LICENCE, expiry)):
        await KycDocument(
            user_id=user_id,
            kind=kind,
            status=status,
            file_id=str(PydanticObjectId()),
            number_last4="1234",
            expires_on=expires_on,
        ).insert()


async def test_report_figures_match_hand_counts(api: Api) -> None:
    manager_s, (one_s, two_s) = await team(2)
    outsider_s = await staff(PlatformRole.CRM_AGENT)
    manager, one, two = [await person(api, s) for s in (manager_s, one_s, two_s)]
    outsider = await person(api, outsider_s)

    l1 = await lead_of(one, "L One", source="referral")
    l2 = await lead_of(one, "L Two", source="referral")
    l3 = await lead_of(one, "L Three", source="manual")
    l4 = await lead_of(one, "L Four", source="manual")
    l5 = await lead_of(two, "L Five", source="event")
    await lead_of(two, "L Six", source="manual")
    await lead_of(outsider, "Not Counted", source="referral")
    await move(one, str(l1["id"]), "contacted", "qualified")
    c1 = await one.ok(
        "POST",
        f"/api/v1/crm/leads/{l1['id']}/convert",
        {"investment_capacity": "2000000.00", "invite": True},
        status=201,
    )
    await move(one, str(l2["id"]), "contacted", "lost")
    await move(one, str(l4["id"]), "contacted", "qualified")
    await move(two, str(l5["id"]), "contacted", "qualified")
    c5 = await two.ok(
        "POST",
        f"/api/v1/crm/leads/{l5['id']}/convert",
        {"investment_capacity": "50000.00", "invite": True},
        status=201,
    )
    assert l3["status"] == "new"
    # KYC: client 1 verified with a licence expiring in 10 days, client 5 pending.
    await _kyc(c1["client"]["user_id"], verified=True, expires_in_days=10)
    await _kyc(c5["client"]["user_id"], verified=False)

    report = await manager.ok("GET", "/api/v1/crm/reports")
    assert (report["leads"], report["converted"], report["rate_bp"]) == (6, 2, 3333)
    assert {r["key"]: (r["leads"], r["converted"], r["rate_bp"]) for r in report["by_source"]} == {
        "event": (1, 1, 10_000),
        "manual": (3, 0, 0),
        "referral": (2, 1, 5_000),
    }
    assert {r["key"]: (r["leads"], r["converted"], r["rate_bp"]) for r in report["by_agent"]} == {
        one_s.user_id: (4, 1, 2_500),
        two_s.user_id: (2, 1, 5_000),
    }
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    assert [(r["key"], r["leads"], r["converted"]) for r in report["by_month"]] == [(month, 6, 2)]
    assert [(f["stage"], f["leads"]) for f in report["funnel"]] == [
        ("new", 6),
        ("contacted", 4),
        ("qualified", 3),
        ("converted", 2),
    ]
    assert {r["key"]: r["count"] for r in report["by_status"]} == {
        "converted": 2,
        "lost": 1,
        "new": 2,
        "qualified": 1,
    }
    assert {r["key"]: r["count"] for r in report["clients_by_segment"]} == {
        "mass": 1,
        "affluent": 1,
        "hni": 0,
        "unknown": 0,
    }
    assert report["kyc"] == {
        "clients": 2,
        "verified": 1,
        "pending": 1,
        "other": 0,
        "expiring": 1,
        "expiring_days": 30,
    }
    # Agent one sees only their own figures; the period filter applies.
    own = await one.ok("GET", "/api/v1/crm/reports")
    assert (own["leads"], own["converted"], [r["key"] for r in own["by_agent"]]) == (
        4,
        1,
        [one_s.user_id],
    )
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    empty = await manager.ok("GET", "/api/v1/crm/reports", params={"since": tomorrow})
    assert (empty["leads"], empty["rate_bp"]) == (0, 0)
    # The KYC queue: client 5's pending documents, for their agent and manager only.
    queue = await two.ok("GET", "/api/v1/crm/kyc/queue")
    assert {i["client_id"] for i in queue["items"]} == {c5["client"]["id"]}
    assert (await one.ok("GET", "/api/v1/crm/kyc/queue"))["items"] == []
    # Deciding: managers of the client's team (and admins) through the KYC service.
    pan = next(i for i in queue["items"] if i["kind"] == "pan")
    decision = f"/api/v1/crm/kyc/{pan['document_id']}/decision"
    assert (await two.call("POST", decision, {"verify": True})).status == 403
    other_boss = await person(api, await staff(PlatformRole.CRM_MANAGER))
    hidden = await other_boss.call("POST", decision, {"verify": True})
    assert (hidden.status, hidden.code) == (404, "client_not_found")
    decided = await manager.ok("POST", decision, {"verify": True})
    assert decided == {"document_id": pan["document_id"], "status": "verified"}
    left = await two.ok("GET", "/api/v1/crm/kyc/queue")
    assert [i["kind"] for i in left["items"]] == ["driving_licence"]
    # Clients: scoped the same way; the portfolio of a non-member is empty.
    clients = await one.ok("GET", "/api/v1/crm/clients")
    assert [c["id"] for c in clients["items"]] == [c1["client"]["id"]]
    assert (await one.call("GET", f"/api/v1/crm/clients/{c5['client']['id']}")).status == 404
    folio = await one.ok("GET", f"/api/v1/crm/clients/{c1['client']['id']}/investments")
    assert (folio["member"], folio["investments"], folio["total_value"]) == (True, [], "0.00")
    # The export CSV of the manager has exactly the team's six leads.
    exported = await manager.call("GET", "/api/v1/crm/leads/export.csv")
    rows = list(csv.DictReader(io.StringIO(exported.body.decode())))
    assert sorted(r["full_name"] for r in rows) == sorted(
        ["L One", "L Two", "L Three", "L Four", "L Five", "L Six"]
    )


async def test_export_and_erasure_keep_the_audit_chain_verifiable(api: Api) -> None:
    agent_s = await staff(PlatformRole.CRM_AGENT)
    admin_s = await staff(PlatformRole.ADMIN)
    agent, admin = await person(api, agent_s), await person(api, admin_s)
    address, number = email("erase"), phone()
    lead = await lead_of(agent, "Priya Menon", email=address, phone=number, city="Kochi")
    lead_id = str(lead["id"])
    await agent.ok("POST", f"/api/v1/crm/leads/{lead_id}/activities",
                   {"kind": "note", "text": "wants a call on Sunday"}, status=201)  # fmt: skip
    await agent.ok("POST", "/api/v1/crm/reminders", {
        "lead_id": lead_id, "text": "call Priya", "due_at": (dt.datetime.now(dt.UTC) +
                                                              dt.timedelta(days=3)).isoformat()},
        status=201)  # fmt: skip
    data = await agent.ok("GET", f"/api/v1/crm/leads/{lead_id}/export")
    assert data["lead"]["email"] == address and data["lead"]["phone"].endswith(number[-4:])
    assert any(a["text"] == "wants a call on Sunday" for a in data["activities"])
    assert [r["text"] for r in data["reminders"]] == ["call Priya"]

    erased = await admin.ok("DELETE", f"/api/v1/crm/leads/{lead_id}")
    assert erased["lead_id"] == lead_id and len(erased["subject_hash"]) == 32
    after = await agent.ok("GET", f"/api/v1/crm/leads/{lead_id}/export")
    assert after["lead"]["full_name"] == "(erased)" and after["lead"]["email"] is None
    assert after["lead"]["phone"] is None and after["lead"]["erased_at"] is not None
    assert all(a["text"] == "" for a in after["activities"])
    assert [r["status"] for r in after["reminders"]] == ["cancelled"]
    again = await admin.call("DELETE", f"/api/v1/crm/leads/{lead_id}")
    assert (again.status, again.code) == (409, "subject_erased")
    # The address is free again, and nothing of the person is in the audit chain.
    fresh = await agent.call("POST", "/api/v1/crm/leads", {"full_name": "Priya M",
                                                           "email": address})  # fmt: skip
    assert fresh.status == 201
    report = await audit_service.verify(AUDIT_CHAIN)
    assert report.ok, report
    chain = await AuditRecord.find({"chain": AUDIT_CHAIN}).to_list()
    text = str([r.model_dump() for r in chain])
    assert address not in text and "Priya" not in text and lead_id not in text

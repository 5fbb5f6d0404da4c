"""Clients entered directly (``POST /api/v1/crm/clients``: exact duplicates refused against
leads and clients alike, near duplicates answered, the lead record made with them) and client
KYC documents uploaded by staff (checked on their content by app/files, pending in the KYC
service's workflow, decided there) — over HTTP against the running server, with role scoping
and bad input that changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from app.crm.documents import Client, Lead
from app.files.documents import StoredFile
from app.identity.documents import PlatformRole
from app.kyc.documents import KycDocument
from tests.conftest import LiveStack
from tests.crm.conftest import email, phone, staff, team
from tests.crm.test_http import person
from tests.files.http import Person
from tests.files.samples import eicar_in_pdf, pdf, png, windows_executable
from tests.identity.conftest import Api, Reply
from tests.kyc.test_workflow_http import new_pan


@pytest.fixture
async def api(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(live_stack.url, http)


async def upload_kyc(who: Person, client_id: str, data: bytes, filename: str,
                     **fields: str) -> Reply:  # fmt: skip
    form = aiohttp.FormData()
    form.add_field("client_id", client_id)
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("file", data, filename=filename, content_type="application/pdf")
    headers = {"X-Forwarded-For": who.api.ip, "Authorization": f"Bearer {who.token}"}
    async with who.api.http.post(f"{who.api.base}/api/v1/crm/kyc/documents", data=form,
                                 headers=headers) as response:  # fmt: skip
        return Reply(response.status, await response.json(), dict(response.headers))


async def counts() -> tuple[int, int, int, int]:
    return (await Lead.find({}).count(), await Client.find({}).count(),
            await StoredFile.find({}).count(), await KycDocument.find({}).count())  # fmt: skip


async def test_a_client_entered_directly_is_deduplicated_like_a_lead(api: Api) -> None:
    _, (agent, other) = await team(2)
    one, two = await person(api, agent), await person(api, other)
    address, number = email("direct"), phone()
    made = await one.ok("POST", "/api/v1/crm/clients", {
        "full_name": "Rohan  Mehta", "email": address.upper(), "phone": number,
        "address": "12 MG Road, Pune", "investment_capacity": "2500000.00",
        "investment_profile": {"risk_tolerance": "moderate", "goals": ["retirement"]},
    }, status=201)  # fmt: skip
    client = made["client"]
    assert (client["full_name"], client["email"], client["owner_id"], client["segment"]) == (
        "Rohan Mehta", address.lower(), agent.user_id, "affluent")  # fmt: skip
    assert client["address"] == "12 MG Road, Pune" and client["investment_capacity"] == "2500000.00"
    # Its lead: converted, pointing at it, with the history of how it came.
    lead = await one.ok("GET", f"/api/v1/crm/leads/{client['lead_id']}")
    assert (lead["status"], lead["stage"], lead["client_id"]) == (
        "converted", "converted", client["id"])  # fmt: skip
    history = await one.ok("GET", f"/api/v1/crm/clients/{client['id']}/timeline")
    assert sorted(a["kind"] for a in history["items"]) == ["converted", "created"]

    before = await counts()
    # The same e-mail or phone, as a client or as a lead, from anyone: 409, nothing stored.
    for path, body in (
        ("/api/v1/crm/clients", {"full_name": "R Mehta", "email": address}),
        ("/api/v1/crm/clients", {"full_name": "R Mehta", "phone": number}),
        ("/api/v1/crm/leads", {"full_name": "R Mehta", "email": f" {address} "}),
    ):
        for who in (one, two):
            refused = await who.call("POST", path, body)
            assert (refused.status, refused.code) == (409, "lead_duplicate"), refused.body
            # Only someone who may see the existing record is told which it is.
            assert ("lead_id" in refused.body["error"]["details"]) is (who is one)
    bad: list[tuple[dict[str, Any], int, str]] = [
        ({"full_name": "X", "email": "nope"}, 422, "invalid_contact"),
        ({"full_name": "X", "phone": "12"}, 422, "invalid_contact"),
        ({"full_name": "X", "investment_capacity": "-5.00"}, 422, "validation_error"),
        ({"full_name": "X", "investment_capacity": 5000}, 422, "validation_error"),
        ({"full_name": ""}, 422, "validation_error"),
        ({"full_name": "X", "owner_id": other.user_id}, 422, "assignee_invalid"),
    ]
    for body, status, code in bad:
        reply = await one.call("POST", "/api/v1/crm/clients", body)
        assert (reply.status, reply.code) == (status, code), (body, reply.body)
    assert await counts() == before
    # A near duplicate is answered with the new client; the other agent never sees this one.
    near = await one.ok("POST", "/api/v1/crm/clients", {
        "full_name": "Rohan Mehta", "email": address.replace("@", "1@")}, status=201)  # fmt: skip
    assert [d["lead"]["id"] for d in near["possible_duplicates"]] == [client["lead_id"]]
    missing = await two.call("GET", f"/api/v1/crm/clients/{client['id']}")
    assert (missing.status, missing.code) == (404, "client_not_found")


async def test_staff_upload_a_clients_kyc_document_checked_on_its_content(api: Api) -> None:
    manager, (agent,) = await team(1)
    admin = await staff(PlatformRole.ADMIN)
    one, boss, chief = (await person(api, agent), await person(api, manager),
                        await person(api, admin))  # fmt: skip
    body = {"full_name": "Kiran Rao", "email": email("kiran")}
    made = await one.ok("POST", "/api/v1/crm/clients", body, status=201)
    client_id = made["client"]["id"]
    pan = new_pan()
    before = await counts()
    # Not on the platform yet: invite first.
    early = await upload_kyc(one, client_id, pdf("PAN"), "pan.pdf", kind="pan", number=pan)
    assert (early.status, early.code) == (409, "client_not_member")
    kyc = await one.ok("GET", f"/api/v1/crm/clients/{client_id}/kyc")
    assert (kyc["member"], kyc["status"]) == (False, "not_started")
    invited = await one.ok("POST", f"/api/v1/crm/clients/{client_id}/invite")
    assert invited["user_id"]
    before = await counts()

    outsider = await person(api, await staff(PlatformRole.CRM_AGENT))
    refusals = [
        (outsider, client_id, pdf("x"), "pan.pdf", {"kind": "pan", "number": pan}, 404,
         "client_not_found"),
        (one, client_id, windows_executable(), "pan.pdf", {"kind": "pan", "number": pan}, 415,
         "unsupported_file_type"),
        (one, client_id, eicar_in_pdf(), "pan.pdf", {"kind": "pan", "number": pan}, 422,
         "malware_detected"),
        (one, client_id, b"", "pan.pdf", {"kind": "pan", "number": pan}, 422, "file_missing"),
        (one, client_id, pdf("x"), "pan.pdf", {"kind": "pan", "number": "ABCDE12345"}, 422,
         "invalid_document"),
        (one, client_id, pdf("x"), "pan.pdf", {"kind": "passport"}, 422, "validation_error"),
        (one, client_id, pdf("x"), "dl.pdf", {"kind": "driving_licence", "number": "x"}, 422,
         "invalid_document"),
    ]  # fmt: skip
    for who, cid, data, name, fields, status, code in refusals:
        reply = await upload_kyc(who, cid, data, name, **fields)
        assert (reply.status, reply.code) == (status, code), (fields, reply.body)
    assert await counts() == before

    # A PNG named .pdf is taken for what it is; the document waits for review.
    stored = await upload_kyc(one, client_id, png(seed=uuid.uuid4().int % 255), "scan.pdf",
                              kind="pan", number=pan.lower())  # fmt: skip
    assert stored.status == 201, stored.body
    doc = stored.body
    assert (doc["kind"], doc["status"], doc["number"]) == ("pan", "pending", pan)
    record = await StoredFile.find_one({"attached_id": doc["id"]})
    assert record is not None and record.content_type == "image/png"
    assert record.filename.endswith(".png") and record.owner_id == invited["user_id"]
    again = await upload_kyc(one, client_id, pdf("again"), "pan.pdf", kind="pan", number=pan)
    assert (again.status, again.code) == (409, "kyc_document_pending")
    kyc = await one.ok("GET", f"/api/v1/crm/clients/{client_id}/kyc")
    assert (kyc["status"], [d["id"] for d in kyc["documents"]]) == ("pending", [doc["id"]])
    queue = await boss.ok("GET", "/api/v1/crm/kyc/queue")
    assert doc["id"] in [i["document_id"] for i in queue["items"]]
    # The agent may not decide; the KYC service's workflow decides (here: the manager).
    denied = await one.call("POST", f"/api/v1/crm/kyc/{doc['id']}/decision", {"verify": True})
    assert denied.status == 403
    decided = await boss.ok("POST", f"/api/v1/crm/kyc/{doc['id']}/decision", {"verify": True})
    assert decided["status"] == "verified"
    kyc = await chief.ok("GET", f"/api/v1/crm/clients/{client_id}/kyc")
    assert kyc["documents"][0]["status"] == "verified" and kyc["missing"] == ["proof_of_address"]
    history = await one.ok("GET", f"/api/v1/crm/clients/{client_id}/timeline")
    assert any(a["kind"] == "kyc" and a["data"]["document_id"] == doc["id"]
               for a in history["items"])  # fmt: skip

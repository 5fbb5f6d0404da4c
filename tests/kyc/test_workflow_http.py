"""The KYC workflow end to end over HTTP against the running web server: documents submitted,
validated and refused, the admin's queue, preview through signed links, rejection with a
reason, re-submission, verification, the derived status on the account, the contribution
limit, the audited decision history — and the Aadhaar number never shown, stored or logged
in the clear."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from beanie import PydanticObjectId

from app.clubs.service import club_service
from app.identity.documents import PlatformRole
from app.kyc.documents import KycDocument
from app.kyc.validation import verhoeff_digit
from tests.conftest import LiveStack
from tests.files.http import Person, login
from tests.files.samples import pdf, png
from tests.identity.conftest import Api, eventually


@pytest.fixture
async def api(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(live_stack.url, http)


def new_aadhaar() -> str:
    body = "9" + str(uuid.uuid4().int)[:10]
    return body + verhoeff_digit(body)


def new_pan() -> str:
    letters = "".join(chr(65 + int(c, 16) % 26) for c in uuid.uuid4().hex[:4])
    return f"{letters[:3]}P{letters[3]}{uuid.uuid4().int % 10_000:04d}K"


async def scan(person: Person, label: str) -> str:
    reply = await person.upload(pdf(f"{label} {uuid.uuid4()}"), f"{label}.pdf", "kyc_document")
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


async def contribute(person: Person, club_id: str, amount: str) -> tuple[int, str | None]:
    reply = await person.call(
        "POST", f"/api/v1/clubs/{club_id}/contributions",
        {"amount": amount, "method": "manual"}, headers={"Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    return reply.status, reply.code


async def test_kyc_end_to_end(api: Api, live_stack: LiveStack) -> None:
    asha = await login(api, tag="asha")
    admin = await login(api, [PlatformRole.ADMIN], tag="admin")
    other = await login(api, tag="other")
    aadhaar, pan = new_aadhaar(), new_pan()
    club, _ = await club_service.do_create_club(asha.id, name="Banyan Savers")
    club_id = str(club.id)

    start = await asha.ok("GET", "/api/v1/kyc")
    assert start["status"] == "not_started" and start["missing"] == ["pan", "proof_of_address"]
    assert start["contribution_limit"] == "50000.00"

    # Bad numbers are refused with the field named and without echoing the number.
    file_id = await scan(asha, "pan")
    bad = await asha.call("POST", "/api/v1/kyc/documents",
                          {"kind": "pan", "number": "ABCDE12345", "file_id": file_id})  # fmt: skip
    assert (bad.status, bad.code, bad.body["error"]["details"]["field"]) == (
        422, "invalid_document", "number")  # fmt: skip
    typo = aadhaar[:-1] + str((int(aadhaar[-1]) + 1) % 10)
    bad = await asha.call("POST", "/api/v1/kyc/documents",
                          {"kind": "aadhaar", "number": typo, "file_id": file_id})  # fmt: skip
    assert (bad.status, bad.code) == (422, "invalid_document")
    assert typo not in json.dumps(bad.body) and typo[-4:] not in json.dumps(bad.body)
    expired = await asha.call("POST", "/api/v1/kyc/documents", {
        "kind": "driving_licence", "number": "MH-02-2011-0012345", "file_id": file_id,
        "expires_on": "2020-01-01"})  # fmt: skip
    assert (expired.status, expired.code) == (422, "kyc_document_expired")
    someone_elses = await scan(other, "theirs")
    stolen = await asha.call("POST", "/api/v1/kyc/documents",
                             {"kind": "pan", "number": pan, "file_id": someone_elses})  # fmt: skip
    assert (stolen.status, stolen.code) == (404, "file_not_found")
    receipt = (await asha.upload(pdf("a receipt"), "receipt.pdf", "receipt")).body["id"]
    wrong = await asha.call("POST", "/api/v1/kyc/documents",
                            {"kind": "pan", "number": pan, "file_id": receipt})  # fmt: skip
    assert (wrong.status, wrong.code) == (422, "wrong_file_purpose")

    # PAN and Aadhaar submitted: pending.
    pan_doc = await asha.ok("POST", "/api/v1/kyc/documents",
                            {"kind": "pan", "number": pan.lower(), "file_id": file_id},
                            status=201)  # fmt: skip
    assert pan_doc["status"] == "pending" and pan_doc["number"] == pan
    again = await asha.call(
        "POST",
        "/api/v1/kyc/documents",
        {"kind": "pan", "number": pan, "file_id": await scan(asha, "p2")},
    )
    assert (again.status, again.code) == (409, "kyc_document_pending")
    reused = await asha.call(
        "POST", "/api/v1/kyc/documents", {"kind": "aadhaar", "number": aadhaar, "file_id": file_id}
    )
    assert (reused.status, reused.code) == (409, "file_in_use")
    spaced = f"{aadhaar[:4]} {aadhaar[4:8]} {aadhaar[8:]}"
    aadhaar_scan = (await asha.upload(png(seed=3), "aadhaar.png", "kyc_document")).body["id"]
    aadhaar_doc = await asha.ok("POST", "/api/v1/kyc/documents",
                                {"kind": "aadhaar", "number": spaced, "file_id": aadhaar_scan},
                                status=201)  # fmt: skip
    assert aadhaar_doc["number"] == f"XXXX XXXX {aadhaar[-4:]}"
    assert (await asha.ok("GET", "/api/v1/me"))["kyc_status"] == "pending"

    # Not verified: at most ₹50,000 a financial year.
    assert await contribute(asha, club_id, "10000.00") == (201, None)
    assert await contribute(asha, club_id, "40000.01") == (403, "kyc_required")
    assert await contribute(asha, club_id, "40000.00") == (201, None)
    assert await contribute(asha, club_id, "100.00") == (403, "kyc_required")

    # The admin's queue, oldest first; people without the role are refused.
    assert (await asha.call("GET", "/api/v1/admin/kyc/queue")).status == 403
    queue = await admin.ok("GET", "/api/v1/admin/kyc/queue", params={"limit": "200"})
    mine = [item for item in queue["items"] if item["user"]["id"] == asha.id]
    assert [item["document"]["id"] for item in mine] == [pan_doc["id"], aadhaar_doc["id"]]
    assert all(aadhaar not in json.dumps(item) for item in queue["items"])

    # Preview through a short-lived inline link; another user cannot get one.
    review = await admin.ok("GET", f"/api/v1/admin/kyc/documents/{aadhaar_doc['id']}")
    assert review["user"]["email"] == asha.account.email
    status, body, headers = await admin.download(review["preview"]["url"])
    assert (status, body) == (200, png(seed=3)) and headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"].startswith("inline;")
    assert (await other.call("GET", f"/api/v1/files/{aadhaar_scan}/link")).status == 404

    # Reject the PAN (a reason is required), verify the Aadhaar.
    no_reason = await admin.call("POST", f"/api/v1/admin/kyc/documents/{pan_doc['id']}/decision",
                                 {"decision": "reject"})  # fmt: skip
    assert no_reason.status == 422
    rejected = await admin.ok("POST", f"/api/v1/admin/kyc/documents/{pan_doc['id']}/decision",
                              {"decision": "reject", "reason": "The photo is blurred"})  # fmt: skip
    assert rejected["document"]["status"] == "rejected"
    assert (await asha.ok("GET", "/api/v1/kyc"))["status"] == "pending"  # Aadhaar still waits
    await admin.ok("POST", f"/api/v1/admin/kyc/documents/{aadhaar_doc['id']}/decision",
                   {"decision": "verify"})  # fmt: skip
    twice = await admin.call("POST", f"/api/v1/admin/kyc/documents/{pan_doc['id']}/decision",
                             {"decision": "verify"})  # fmt: skip
    assert (twice.status, twice.code) == (409, "kyc_document_state")
    overview = await asha.ok("GET", "/api/v1/kyc")
    assert (overview["status"], overview["missing"]) == ("rejected", ["pan"])
    assert overview["documents"][1]["reason"] == "The photo is blurred"

    # Re-submission, verified: KYC complete, the limit no longer applies.
    resubmitted = await asha.ok("POST", "/api/v1/kyc/documents",
                                {"kind": "pan", "number": pan, "file_id": await scan(asha, "p3")},
                                status=201)  # fmt: skip
    assert (await asha.ok("GET", "/api/v1/me"))["kyc_status"] == "pending"
    await admin.ok("POST", f"/api/v1/admin/kyc/documents/{resubmitted['id']}/decision",
                   {"decision": "verify"})  # fmt: skip
    assert (await asha.ok("GET", "/api/v1/me"))["kyc_status"] == "verified"
    assert await contribute(asha, club_id, "60000.00") == (201, None)

    # The same Aadhaar cannot be used by another account; nor can an admin decide their own.
    clash = await other.call("POST", "/api/v1/kyc/documents", {
        "kind": "aadhaar", "number": aadhaar, "file_id": await scan(other, "a")})  # fmt: skip
    assert (clash.status, clash.code) == (409, "kyc_number_in_use")
    own = await admin.ok(
        "POST",
        "/api/v1/kyc/documents",
        {"kind": "pan", "number": new_pan(), "file_id": await scan(admin, "own")},
        status=201,
    )
    selfish = await admin.call("POST", f"/api/v1/admin/kyc/documents/{own['id']}/decision",
                               {"decision": "verify"})  # fmt: skip
    assert (selfish.status, selfish.code) == (409, "cannot_decide_own")

    # The decision history, from the audited (hash-chained) log.
    history = await admin.ok("GET", f"/api/v1/admin/kyc/users/{asha.id}")
    assert history["status"] == "verified"
    steps = [(h["action"], h["document_id"]) for h in history["history"]]
    assert steps == [
        ("kyc.submitted", pan_doc["id"]), ("kyc.submitted", aadhaar_doc["id"]),
        ("kyc.rejected", pan_doc["id"]), ("kyc.verified", aadhaar_doc["id"]),
        ("kyc.submitted", resubmitted["id"]), ("kyc.verified", resubmitted["id"]),
    ]  # fmt: skip
    decisions = [h for h in history["history"] if h["action"] != "kyc.submitted"]
    assert {h["actor_id"] for h in decisions} == {admin.id}
    assert decisions[0]["details"]["reason"] == "The photo is blurred"
    chains = (await admin.ok("GET", "/api/v1/admin/audit/verify"))["chains"]
    assert next(c for c in chains if c["chain"] == "platform")["ok"]  # others tamper their own
    assert aadhaar not in json.dumps(history)

    # The holder was told by mail.
    async def verified_mail() -> bool:
        subjects = [m["subject"] for m in await api.outbox(asha.account.email)]
        return "Your PAN card is verified" in subjects and any(
            "needs another" in s for s in subjects
        )

    await eventually(verified_mail, timeout=10)

    # Aadhaar at rest: ciphertext and last 4 only; never in the server's log.
    raw = await KycDocument.get_pymongo_collection().find_one(
        {"_id": PydanticObjectId(aadhaar_doc["id"])}
    )
    assert raw is not None and raw["number"] is None and raw["number_last4"] == aadhaar[-4:]
    assert aadhaar not in json.dumps(raw, default=str)
    assert raw["number_encrypted"].startswith("v1:")
    assert aadhaar not in live_stack.web_log.read_text(errors="replace")


async def test_a_pending_claim_cannot_lock_the_holder_out(api: Api, live_stack: LiveStack) -> None:
    holder = await login(api, tag="holder")
    squatter = await login(api, tag="squatter")
    admin = await login(api, [PlatformRole.ADMIN], tag="admin")
    number = new_aadhaar()
    first = await holder.ok("POST", "/api/v1/kyc/documents",
                            {"kind": "aadhaar", "number": number,
                             "file_id": await scan(holder, "a1")}, status=201)  # fmt: skip
    await admin.ok("POST", f"/api/v1/admin/kyc/documents/{first['id']}/decision",
                   {"decision": "reject", "reason": "blurry scan"})  # fmt: skip
    # Someone else claims the number while it is not verified: allowed, but it blocks nobody.
    squat = await squatter.ok("POST", "/api/v1/kyc/documents",
                              {"kind": "aadhaar", "number": number,
                               "file_id": await scan(squatter, "s")}, status=201)  # fmt: skip
    again = await holder.ok("POST", "/api/v1/kyc/documents",
                            {"kind": "aadhaar", "number": number,
                             "file_id": await scan(holder, "a2")}, status=201)  # fmt: skip
    await admin.ok("POST", f"/api/v1/admin/kyc/documents/{again['id']}/decision",
                   {"decision": "verify"})  # fmt: skip
    # The first verified document wins: the squatter's can no longer be verified.
    clash = await admin.call("POST", f"/api/v1/admin/kyc/documents/{squat['id']}/decision",
                             {"decision": "verify"})  # fmt: skip
    assert (clash.status, clash.code) == (409, "kyc_number_in_use")

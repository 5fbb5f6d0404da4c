"""Who reads which campaign file, over HTTP: nobody but the owner and admins before
publication; everyone signed in reads pictures and documents of a published campaign; profit
statements only the investors; the generic files API serves a campaign file to its uploader
only. Every refusal is tested, and the signed link really serves the bytes."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from typing import Any

import pytest

from app.campaigns.flows import campaign_flows
from app.campaigns.schemas import ProfitReportCreate
from app.campaigns.service import campaign_service
from app.files.documents import FilePurpose
from app.files.service import files_service
from tests.campaigns.factories import admin_account, captured, fields, verify_kyc
from tests.identity.conftest import Api
from tests.rooms.conftest import Person, person

pytestmark = pytest.mark.usefixtures("services")

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    """A real (tiny) PNG image of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))  # fmt: skip


async def upload(owner: Person, data: bytes, name: str, purpose: FilePurpose) -> str:
    record = await files_service.do_upload(owner.user_id, data=data, filename=name,
                                           purpose=purpose)  # fmt: skip
    return str(record.id)


async def status_of(api: Api, who: Person, path: str) -> tuple[int, Any]:
    reply = await api.call("GET", path, token=who.token)
    return reply.status, reply.body


async def test_campaign_files_are_read_by_the_right_people_before_and_after_publication(
    api: Api,
) -> None:
    owner, stranger = await person("owner"), await person("stranger")
    admin = await person("admin", ["admin"])  # type: ignore[list-item]
    await verify_kyc(owner.user_id)
    picture = await upload(owner, png(), "shop.png", FilePurpose.CAMPAIGN)
    lease = await upload(owner, PDF, "lease.pdf", FilePurpose.CAMPAIGN)
    kyc_scan = await upload(owner, png(rgb=(1, 2, 3)), "pan.png", FilePurpose.KYC_DOCUMENT)
    other_pdf = await upload(owner, PDF + b"%other", "notes.pdf", FilePurpose.CAMPAIGN)
    theirs = await upload(stranger, png(rgb=(9, 9, 9)), "mine.png", FilePurpose.CAMPAIGN)

    # Refused at creation, nothing stored: a KYC scan, a PDF as a picture, another's upload.
    base = "/api/v1/campaigns"
    for bad, field in (({"picture_file_ids": [kyc_scan]}, "picture_file_ids"),
                       ({"document_file_ids": [kyc_scan]}, "document_file_ids"),
                       ({"picture_file_ids": [lease]}, "picture_file_ids"),
                       ({"picture_file_ids": [theirs]}, "picture_file_ids")):  # fmt: skip
        body = fields(**bad).model_dump(mode="json")
        body.update({k: f"{int(v) // 100}.{int(v) % 100:02d}" for k, v in body.items()
                     if k in ("goal", "min_investment", "max_investment")})  # fmt: skip
        reply = await api.call("POST", base, json=body, token=owner.token)
        assert reply.status == 422, reply.body
        assert reply.body["error"]["code"] == "invalid_campaign"
        assert reply.body["error"]["details"]["field"] == field
    assert await campaign_service.owned(owner.user_id) == []

    draft = await campaign_service.do_create(
        owner.user_id, fields(picture_file_ids=[picture], document_file_ids=[lease])
    )
    cid = str(draft.id)
    link = f"{base}/{cid}/files/{{}}/link"

    # Before publication: the owner and admins only; the generic API: the uploader only.
    for who, file_id, expected in ((owner, picture, 200), (owner, lease, 200),
                                   (admin, picture, 200), (admin, lease, 200),
                                   (stranger, picture, 404), (stranger, lease, 404)):  # fmt: skip
        status, body = await status_of(api, who, link.format(file_id))
        assert status == expected, (who.email, file_id, body)
        if expected == 404:
            assert body["error"]["code"] == "campaign_not_found"
    for file_id in (picture, lease):
        status, body = await status_of(api, stranger, f"/api/v1/files/{file_id}/link")
        assert (status, body["error"]["code"]) == (404, "file_not_found")
        status, _ = await status_of(api, admin, f"/api/v1/files/{file_id}/link")
        assert status == 404  # admins too go through the campaign's rules
        assert (await status_of(api, owner, f"/api/v1/files/{file_id}/link"))[0] == 200

    await campaign_service.do_submit(owner.user_id, cid)
    status, body = await status_of(api, stranger, link.format(picture))
    assert (status, body["error"]["code"]) == (404, "campaign_not_found")  # in review: private
    admin_account_ = await admin_account()
    await campaign_service.do_review(admin_account_.user_id, cid, "verify", "lease checked")

    # Published: everyone signed in reads its pictures and documents, and the link serves them.
    for file_id, data, kind in ((picture, png(), "image/png"), (lease, PDF, "application/pdf")):
        status, body = await status_of(api, stranger, link.format(file_id) + "?disposition=inline")
        assert status == 200, body
        assert body["file"]["content_type"] == kind
        served = await api.call("GET", body["url"])
        assert served.status == 200 and served.body == data
        assert served.headers["Content-Disposition"].startswith("inline")
    # … but not the owner's other uploads through this campaign, nor through the files API.
    status, body = await status_of(api, stranger, link.format(other_pdf))
    assert (status, body["error"]["code"]) == (404, "campaign_file_not_found")
    status, body = await status_of(api, stranger, link.format(theirs))
    assert (status, body["error"]["code"]) == (404, "campaign_file_not_found")
    status, body = await status_of(api, stranger, link.format("0" * 24))
    assert (status, body["error"]["code"]) == (404, "campaign_file_not_found")
    assert (await status_of(api, stranger, f"/api/v1/files/{picture}/link"))[0] == 404
    status, body = await status_of(api, stranger, f"{base}/{'f' * 24}/files/{picture}/link")
    assert (status, body["error"]["code"]) == (404, "campaign_not_found")
    assert (await api.call("GET", link.format(picture))).status == 401  # signed in only

    # Funded, then a profit statement: investors, the owner and admins read it; others not.
    investor = await person("investor")
    await verify_kyc(investor.user_id)
    investment = await campaign_service.do_reserve(investor.user_id, cid, 1_500_000)
    assert await campaign_flows.do_apply_payment_event(captured(investment))
    statement = await upload(owner, PDF + b"%q1", "q1.pdf", FilePurpose.CAMPAIGN)
    today = dt.datetime.now(dt.UTC).date()
    report_data = ProfitReportCreate(
        period_start=today, period_end=today, profit="20000.00",
        document_file_id=statement, note="Q1",
    )  # fmt: skip
    report = await campaign_flows.do_report_profit(owner.user_id, cid, report_data)
    for who, expected in ((investor, 200), (owner, 200), (admin, 200), (stranger, 403)):
        status, body = await status_of(api, who, link.format(statement))
        assert status == expected, (who.email, body)
    assert body["error"]["code"] == "not_an_investor"
    # A rejected report's statement: back to the owner and admins only.
    await campaign_flows.do_decide_report(admin_account_.user_id, str(report.id), False,
                                          "the statement does not add up")  # fmt: skip
    status, body = await status_of(api, investor, link.format(statement))
    assert (status, body["error"]["code"]) == (404, "campaign_file_not_found")
    assert (await status_of(api, owner, link.format(statement)))[0] == 200
    # A statement must be a campaign upload too (a KYC scan is refused, nothing stored).
    wrong = report_data.model_copy(update={"document_file_id": kyc_scan})
    reply = await api.call("POST", f"{base}/{cid}/profit-reports", token=owner.token,
                           json=wrong.model_dump(mode="json") | {"profit": "20000.00"})  # fmt: skip
    assert reply.status == 422 and reply.body["error"]["details"]["field"] == "document_file_id"
    assert len(await campaign_service.reports(cid)) == 1


async def test_a_cancelled_campaigns_files_stay_private(api: Api) -> None:
    owner, stranger = await person("owner"), await person("stranger")
    await verify_kyc(owner.user_id)
    picture = await upload(owner, png(rgb=(5, 5, 250)), "front.png", FilePurpose.CAMPAIGN)
    live = await campaign_service.do_create(owner.user_id, fields(picture_file_ids=[picture]))
    cid = str(live.id)
    await campaign_service.do_submit(owner.user_id, cid)
    await campaign_service.do_review((await admin_account()).user_id, cid, "verify", "ok")
    path = f"/api/v1/campaigns/{cid}/files/{picture}/link"
    assert (await status_of(api, stranger, path))[0] == 200
    await campaign_service.do_cancel(owner.user_id, False, cid, "lease fell through")
    status, body = await status_of(api, stranger, path)
    assert (status, body["error"]["code"]) == (404, "campaign_not_found")
    assert (await status_of(api, owner, path))[0] == 200

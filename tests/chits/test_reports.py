"""Chit PDFs through the report jobs path (the live worker's reports agent builds them): a
closed month's auction minutes — bids in order, attendance, the winner, the arithmetic that
balances — and the monthly report with its dues, collections and trial balance; only the
foreman (or an admin) asks, minutes only once the auction has closed."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from typing import Any

import aiohttp
import pytest
from pypdf import PdfReader

from app.chits.service import Actor, chit_service
from app.identity.documents import PlatformRole
from tests.chits.factories import admin, kyc_verified, pay, person, settings
from tests.identity.conftest import Api
from tests.rooms.conftest import http
from tests.rooms.conftest import person as http_person

__all__ = ["http"]

pytestmark = [pytest.mark.usefixtures("sandbox"), pytest.mark.timeout(300)]

R = 100


def at(month: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2031, month, 10, 10, minute, tzinfo=dt.UTC)


async def finished(http: Api, token: str, sid: str, job_id: str) -> dict[str, Any]:
    for _ in range(300):
        reply = await http.call("GET", f"/api/v1/schemes/{sid}/reports/{job_id}", token=token)
        assert reply.status == 200, reply.body
        if reply.body["status"] in ("done", "failed"):
            return dict(reply.body)
        await asyncio.sleep(0.2)
    raise AssertionError("the report was not built")


async def pdf_text(url: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        data = await response.read()
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


async def test_auction_minutes_and_monthly_report_as_pdf(http: Api) -> None:
    boss_p = await http_person("foreman", [PlatformRole.USER, PlatformRole.FOREMAN])
    await kyc_verified(boss_p.user_id)
    boss = Actor(boss_p.user_id, (PlatformRole.USER, PlatformRole.FOREMAN))
    others = [await person() for _ in range(2)]
    scheme = await chit_service.do_create_scheme(boss, settings(
        name="Banyan Chit", subscribers=3, chit_amount="30000.00", min_bid="1500.00",
        max_discount="9000.00"))  # fmt: skip
    sid = str(scheme.id)
    await chit_service.do_submit(sid, boss)
    await chit_service.do_decide(sid, await admin(), True, "")
    for who in others:
        await chit_service.do_subscribe(sid, who)
    people = [boss, *others]
    subs = await chit_service.subscribers(sid, boss)
    for month in (1, 2):
        for sub, who in zip(subs, people, strict=True):
            await pay(sub, who, at(month) - dt.timedelta(days=1))
        current = await chit_service.current_auction(await chit_service.get_scheme(sid))
        assert current is not None
        if month == 1:
            body = {"kind": "chit_auction_minutes", "month": 1}
            early = await http.call("POST", f"/api/v1/schemes/{sid}/reports", json=body,
                                    token=boss_p.token)  # fmt: skip
            assert early.status == 409 and early.body["error"]["code"] == "auction_not_open"
        else:
            await chit_service.do_bid(sid, others[0].user_id, 2_000 * R, at(2, 1))
            await chit_service.do_bid(sid, others[1].user_id, 3_500 * R, at(2, 2))
        await chit_service.do_close_auction(str(current.id), at(month, 16))

    stranger = await http_person("stranger")
    hidden = await http.call("POST", f"/api/v1/schemes/{sid}/reports", token=stranger.token,
                             json={"kind": "chit_auction_minutes", "month": 2})  # fmt: skip
    assert hidden.status == 403 and hidden.body["error"]["code"] == "chit_forbidden"
    for bad in ({"kind": "valuation_statement", "month": 2}, {"kind": "chit_monthly_report",
                                                               "month": 9}):  # fmt: skip
        refused = await http.call("POST", f"/api/v1/schemes/{sid}/reports", json=bad,
                                  token=boss_p.token)  # fmt: skip
        assert refused.status == 404, refused.body
    club_kind = await http.call("POST", "/api/v1/clubs/nope/reports", token=boss_p.token,
                                json={"kind": "chit_monthly_report", "format": "pdf"})  # fmt: skip
    assert club_kind.status == 422

    asked = await http.call("POST", f"/api/v1/schemes/{sid}/reports", token=boss_p.token,
                            json={"kind": "chit_auction_minutes", "month": 2})  # fmt: skip
    assert asked.status == 202, asked.body
    assert (asked.body["kind"], asked.body["format"]) == ("chit_auction_minutes", "pdf")
    minutes = await finished(http, boss_p.token, sid, asked.body["id"])
    assert minutes["status"] == "done", minutes
    text = await pdf_text(minutes["download"]["url"])
    flat = " ".join(text.split())
    assert "Minutes of the auction — month 2" in flat and "Banyan Chit" in flat
    # ₹3,500 discount: commission ₹1,500, ₹2,000 shared by 3; prize ₹26,500
    assert "Ticket 3" in flat and "26,500.00" in flat and "1,500.00" in flat
    assert "2,000.00" in flat and "3,500.00" in flat  # both bids, in order
    bids = flat[flat.index("Bids, in the order accepted") :]
    assert bids.index("2,000.00") < bids.index("3,500.00")
    assert "balances exactly" in flat and "666.67" in flat and "666.66" in flat
    assert "s.17" in flat  # to be signed and filed with the registrar
    # Helvetica (the PDF's font) has no rupee sign: none is printed, so none shows as a box
    assert "₹" not in flat and "Rs. 26,500.00" in flat

    monthly = await http.call("POST", f"/api/v1/schemes/{sid}/reports", token=boss_p.token,
                              json={"kind": "chit_monthly_report", "month": 2})  # fmt: skip
    assert monthly.status == 202
    report = await finished(http, boss_p.token, sid, monthly.body["id"])
    assert report["status"] == "done", report
    flat = " ".join((await pdf_text(report["download"]["url"])).split())
    assert "Monthly report — month 2" in flat and "Trial balance" in flat
    assert "30,000.00" in flat  # collected this month: 3 × ₹10,000
    assert "₹" not in flat
    assert "Commission to date" in flat.title() or "COMMISSION TO DATE" in flat
    other = await http.call("GET", f"/api/v1/schemes/{sid}/reports/{monthly.body['id']}",
                            token=stranger.token)  # fmt: skip
    assert other.status == 404

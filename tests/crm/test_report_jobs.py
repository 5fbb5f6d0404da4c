"""The CRM pipeline report through the reports agent, against the running web server and
worker: requested as PDF and CSV, built by the agent from the same figures as the dashboard
(``GET /api/v1/crm/reports``) for the requester's scope only, stored through app/files and
downloaded through a signed link; figures checked against hand counts."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from app.identity.documents import PlatformRole
from tests.conftest import LiveStack
from tests.crm.conftest import staff, team
from tests.crm.test_http import lead_of, move, person
from tests.files.http import Person
from tests.identity.conftest import Api


@pytest.fixture
async def api(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(live_stack.url, http)


async def built(who: Person, fmt: str) -> dict[str, Any]:
    """Request the report and wait until the agent has built it."""
    job = await who.ok("POST", "/api/v1/crm/report-jobs", {"format": fmt}, status=202)
    assert (job["status"], job["kind"], job["download"]) == ("queued", "crm_pipeline", None)
    deadline = time.monotonic() + 90
    while True:
        seen = await who.ok("GET", f"/api/v1/crm/report-jobs/{job['id']}")
        if seen["status"] in ("done", "failed") or time.monotonic() > deadline:
            assert seen["status"] == "done", seen
            return dict(seen)
        await asyncio.sleep(0.3)


def sections(text: str) -> list[list[list[str]]]:
    """The CSV's blocks (separated by blank lines), each a list of rows."""
    blocks: list[list[list[str]]] = [[]]
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))):
        if row:
            blocks[-1].append(row)
        else:
            blocks.append([])
    return blocks


async def test_the_pipeline_report_is_built_by_the_agent_for_the_callers_scope(api: Api) -> None:
    _, (agent, other) = await team(2)
    one, two = await person(api, agent), await person(api, other)
    # Hand counts: three leads of agent one — one converted, one lost, one new; one of agent two.
    won = await lead_of(one, "Won Lead", source="referral")
    await move(one, str(won["id"]), "contacted", "qualified")
    await one.ok("POST", f"/api/v1/crm/leads/{won['id']}/convert",
                 {"investment_capacity": "2500000.00"}, status=201)  # fmt: skip
    lost = await lead_of(one, "Lost Lead")
    await move(one, str(lost["id"]), "contacted", "lost")
    await lead_of(one, "New Lead")
    await lead_of(two, "Not Mine")

    job = await built(one, "csv")
    assert job["download"]["content_type"].startswith("text/csv")
    status, body, _ = await one.download(job["download"]["url"])  # a signed link, no token
    assert status == 200
    blocks = sections(body.decode("utf-8"))
    meta = {row[0]: row[1] for row in blocks[0]}
    assert (meta["report"], meta["scope"], meta["leads"], meta["converted"]) == (
        "crm_pipeline", "own", "3", "1")  # fmt: skip
    assert meta["conversion_pct"] == "33.33"
    by_source = {r[0]: r[1:] for r in blocks[1][1:]}
    assert by_source == {"manual": ["manual", "2", "0", "0.00"],
                         "referral": ["referral", "1", "1", "100.00"]}  # fmt: skip
    funnel = {r[0]: r[1] for b in blocks for r in b[1:] if b[0][0] == "funnel_stage"}
    assert funnel == {"new": "3", "contacted": "2", "qualified": "1", "converted": "1"}
    segments = {r[0]: r[1] for b in blocks for r in b[1:] if b[0][0] == "segment"}
    assert segments["affluent"] == "1" and sum(int(v) for v in segments.values()) == 1
    assert "Not Mine" not in body.decode("utf-8")
    # The same figures as the dashboard's JSON.
    dashboard = await one.ok("GET", "/api/v1/crm/reports")
    assert (dashboard["leads"], dashboard["converted"], dashboard["rate_bp"]) == (3, 1, 3333)

    pdf = await built(one, "pdf")
    assert pdf["download"]["content_type"] == "application/pdf"
    status, data, _ = await one.download(pdf["download"]["url"])
    assert status == 200 and data.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()  # fmt: skip
    assert "CRM pipeline report" in text and "33.33 %" in text and "100.00 %" in text

    # Another's job does not exist for them; the other agent's report is their own scope.
    hidden = await two.call("GET", f"/api/v1/crm/report-jobs/{job['id']}")
    assert (hidden.status, hidden.code) == (404, "report_not_found")
    theirs = await built(two, "csv")
    _, other_body, _ = await two.download(theirs["download"]["url"])
    other_meta = {row[0]: row[1] for row in sections(other_body.decode("utf-8"))[0]}
    assert (other_meta["leads"], other_meta["converted"]) == ("1", "0")

    # Bad input and strangers: refused, nothing queued.
    for body_in in ({"format": "xlsx"}, {"format": "pdf", "kind": "member_status"}, {}):
        bad = await one.call("POST", "/api/v1/crm/report-jobs", body_in)
        assert (bad.status, bad.code) == (422, "validation_error"), body_in
    stranger = await person(api, await staff(PlatformRole.USER))
    refused = await stranger.call("POST", "/api/v1/crm/report-jobs", {"format": "pdf"})
    assert refused.status == 403

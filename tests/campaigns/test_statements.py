"""Crowdfunding statements through the real reports agent, asked for over HTTP: an investor's
statement and a campaign's statement as CSV and PDF, downloaded through the signed link; the
figures equal the API's to the paisa; only the owner (or an admin) gets a campaign's; a job is
its requester's alone. Page 1 of each PDF goes to test-artifacts/."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from app.campaigns import repository
from app.campaigns.flows import campaign_flows
from app.campaigns.service import campaign_service
from tests.campaigns.factories import captured, live_campaign, verify_kyc, with_destination
from tests.identity.conftest import Api, eventually
from tests.payments.sandbox_client import SandboxClient
from tests.rooms.conftest import Person, person

pytestmark = pytest.mark.usefixtures("services")

PATH = "/api/v1/me/campaigns/statements"


async def invest(sandbox: SandboxClient, who: Person, campaign_id: str, rupees: int) -> None:
    investment = await campaign_service.do_invest(who.user_id, campaign_id, rupees * 100)
    assert investment.order_id
    paid = await sandbox.pay(investment.order_id)
    event = captured(investment, payment_id=paid["razorpay_payment_id"])
    assert await campaign_flows.do_apply_payment_event(event)


async def statement(api: Api, who: Person, body: dict[str, Any]) -> bytes:
    """Ask for a statement, wait for the agent, download the file."""
    reply = await api.call("POST", PATH, json=body, token=who.token)
    assert reply.status == 202, reply.body
    job_id = reply.body["id"]

    async def done() -> dict[str, Any] | None:
        job = (await api.call("GET", f"{PATH}/{job_id}", token=who.token)).body
        assert job["status"] != "failed", job
        return job if job["status"] == "done" else None

    job = await eventually(done, timeout=60)
    download = await api.call("GET", job["download"]["url"])
    assert download.status == 200
    return bytes(download.body)


def sections(data: bytes) -> tuple[dict[str, str], dict[str, list[list[str]]]]:
    """The ``field,value`` facts and each titled table of a statement CSV."""
    text = data.decode("utf-8-sig")
    blocks = [b for b in text.split("\r\n\r\n") if b.strip()]
    facts = dict(tuple(r) for r in csv.reader(io.StringIO(blocks[0])))  # type: ignore[misc]
    tables: dict[str, list[list[str]]] = {}
    for block in blocks[1:]:
        rows = list(csv.reader(io.StringIO(block)))
        tables[rows[0][0]] = rows[1:]
    return facts, tables


def pdf_text(data: bytes, name: str, folder: Path) -> str:
    assert data.startswith(b"%PDF-")
    pdf = folder / f"{name}.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(folder / name)], check=True, timeout=60)  # fmt: skip
    assert (folder / f"{name}.png").stat().st_size > 10_000
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


async def test_investor_and_campaign_statements_as_csv_and_pdf(
    api: Api, payment_sandbox: SandboxClient, artifacts: Path
) -> None:
    owner, asha, ravi = await person("owner"), await person("asha"), await person("ravi")
    for who in (owner, asha, ravi):
        await verify_kyc(who.user_id)
    await with_destination(owner.user_id)
    bakery = await live_campaign(owner.user_id, goal="5000.00", max_investment="5000.00",
                                 title="Meena's bakery: a second oven")  # fmt: skip
    kiln = await live_campaign(owner.user_id, goal="90000.00", max_investment="9000.00",
                               title="A kiln for the village potters")  # fmt: skip
    bid, kid = str(bakery.id), str(kiln.id)
    await invest(payment_sandbox, asha, bid, 3_000)
    await invest(payment_sandbox, ravi, bid, 2_000)  # funded
    await invest(payment_sandbox, asha, kid, 1_000)  # will fail: refunded
    await repository.update_campaign(kid, {"ends_at": (await campaign_service.get(kid)).created_at})
    await campaign_flows.do_close_due()

    async def settled() -> bool:
        await campaign_flows.do_process_transfers()
        done = await repository.transfers(campaign_id=bid) + await repository.transfers(
            campaign_id=kid
        )
        return len(done) == 2 and all(t.status == "paid" for t in done)

    await eventually(settled, timeout=30)

    # Asha's statement: two investments, one refunded, the refund paid back.
    facts, tables = sections(await statement(api, asha, {"kind": "investor", "format": "csv"}))
    assert facts["report"] == "campaign_investor_statement"
    assert (facts["invested"], facts["refunded"], facts["still_invested"]) == (
        "4000.00", "1000.00", "3000.00")  # fmt: skip
    rows = tables["Investments"]
    assert rows[0] == ["date", "campaign", "status", "requested", "amount", "completed",
                       "refunded"]  # fmt: skip
    assert sorted((r[1], r[2], r[4]) for r in rows[1:-1]) == [
        ("A kiln for the village potters", "refunded", "1000.00"),
        ("Meena's bakery: a second oven", "completed", "3000.00"),
    ]
    assert rows[-1][0] == "TOTAL PAID IN" and rows[-1][4] == "4000.00"
    back = tables["Money back and profit shares"][1:]
    assert [(r[1], r[3], r[4]) for r in back] == [("refund", "paid", "1000.00")]
    board = (await api.call("GET", "/api/v1/me/campaigns/dashboard", token=asha.token)).body
    assert board["invested"] == facts["still_invested"]  # the API's figure, to the paisa

    text = pdf_text(await statement(api, asha, {"kind": "investor", "format": "pdf"}),
                    "campaigns-investor-statement", artifacts)  # fmt: skip
    assert "Investor statement" in text and "4,000.00" in text and "1,000.00" in text

    # The bakery's statement, for its owner: investments, the release, a balanced ledger.
    body = {"kind": "campaign", "format": "csv", "campaign_id": bid}
    facts, tables = sections(await statement(api, owner, body))
    assert (facts["raised"], facts["investors"], facts["status"]) == ("5000.00", "2", "funded")
    assert sorted(r[3] for r in tables["Investments"][1:-1]) == ["2000.00", "3000.00"]
    assert [(r[1], r[2], r[3], r[4]) for r in tables["Payments out"][1:]] == [
        ("release", "owner", "paid", "5000.00")]  # fmt: skip
    ledger = {r[0]: r[1] for r in tables["Ledger balances"][1:]}
    assert ledger["SUM"] == "0.00" and ledger["assets:escrow"] == "0.00"
    text = pdf_text(await statement(api, owner, {**body, "format": "pdf"}),
                    "campaigns-campaign-statement", artifacts)  # fmt: skip
    assert "Campaign statement" in text and "5,000.00" in text

    # Refusals: another person's campaign, a campaign not named, someone else's job.
    reply = await api.call("POST", PATH, json=body, token=ravi.token)
    assert (reply.status, reply.body["error"]["code"]) == (403, "not_campaign_owner")
    reply = await api.call("POST", PATH, json={"kind": "campaign", "format": "pdf"},
                           token=owner.token)  # fmt: skip
    assert (reply.status, reply.body["error"]["code"]) == (422, "validation_error")
    reply = await api.call("POST", PATH, json={"kind": "investor", "format": "xls"},
                           token=asha.token)  # fmt: skip
    assert reply.status == 422
    mine = await api.call("POST", PATH, json={"kind": "investor", "format": "csv"},
                          token=asha.token)  # fmt: skip
    other = await api.call("GET", f"{PATH}/{mine.body['id']}", token=ravi.token)
    assert (other.status, other.body["error"]["code"]) == (404, "report_not_found")
    await asyncio.sleep(0)

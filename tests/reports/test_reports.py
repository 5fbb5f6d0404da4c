"""Every report built through the real worker, from a request over HTTP: CSV and PDF of the
valuation statement, member status, transaction ledger and a member statement. Progress arrives
live as ``report:progress``; the files come through expiring signed links; every figure equals
the API's for the same date, to the paisa (PDFs checked through their extracted text); page 1
of each PDF is rendered to ``test-artifacts/`` for a person to look at."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from pypdf import PdfReader

from app.books.service import books_service
from app.clubs.service import club_service
from app.reports.pdf_render import group_indian
from tests.clubs.factories import paid_contribution
from tests.conftest import LiveStack
from tests.files.http import Person, login
from tests.identity.conftest import Api

TODAY = dt.datetime.now(dt.UTC).date()
D1, D2, D3, D4 = (TODAY - dt.timedelta(days=d) for d in (120, 90, 60, 20))
KINDS = ("valuation_statement", "member_status", "transaction_ledger", "member_statement")


@pytest.fixture
async def api(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(live_stack.url, http)


async def build_club(alice: Person, bob: Person, carol: Person) -> str:
    """Three members, a purchase, four valuations, a withdrawal with a fee, paid out."""
    club, _ = await club_service.do_create_club(alice.id, name="Tamarind Investors",
                                                withdrawal_fee_bps=100, currency="USD")  # fmt: skip
    club_id = str(club.id)
    _, token = await club_service.do_create_invite(
        club_id, alice.id, expires_in=dt.timedelta(hours=1), max_uses=2
    )
    await club_service.do_accept_invite(token, bob.id)
    await club_service.do_accept_invite(token, carol.id)
    await paid_contribution(club, alice.id, 1_000_000, D1 - dt.timedelta(days=3))
    await paid_contribution(club, bob.id, 500_000, D1 - dt.timedelta(days=2))
    await books_service.do_record_valuation(club_id, alice.id, valuation_date=D1, prices={})
    await books_service.do_record_trade(
        club_id, alice.id, side="buy", symbol="HD", quantity=10, price=100_000, fees=2_000,
        trade_date=D1 + dt.timedelta(days=1), key=f"t-{club_id}",
    )  # fmt: skip
    await books_service.do_record_valuation(club_id, alice.id, valuation_date=D2,
                                                 prices={"HD": 120_000})  # fmt: skip
    await paid_contribution(club, carol.id, 300_000, D2 + dt.timedelta(days=5))
    await books_service.do_record_valuation(club_id, alice.id, valuation_date=D3,
                                                 prices={"HD": 117_350})  # fmt: skip
    withdrawal = await books_service.do_request_withdrawal(club_id, bob.id, amount=200_000,
                                                                full=False)  # fmt: skip
    await books_service.do_record_valuation(club_id, alice.id, valuation_date=D4,
                                                 prices={"HD": 130_125})  # fmt: skip
    await books_service.do_pay_withdrawal(club_id, str(withdrawal.id), alice.id)
    await paid_contribution(club, alice.id, 250_000, D4 + dt.timedelta(days=2))  # unsettled
    return club_id


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def meta(rows: list[list[str]]) -> dict[str, str]:
    out = {}
    for row in rows:
        if not row:
            break
        out[row[0]] = row[1]
    return out


def table(rows: list[list[str]], first_column: str) -> list[dict[str, str]]:
    start = next(i for i, row in enumerate(rows) if row and row[0] == first_column)
    head, out = rows[start], []
    for row in rows[start + 1 :]:
        if not row:
            break
        out.append(dict(zip(head, row, strict=True)))
    return out


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def render_page(data: bytes, name: str, folder: Path) -> Path:
    pdf_path = folder / f"{name}.pdf"
    pdf_path.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "90", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf_path), str(folder / name)], check=True, timeout=60)  # fmt: skip
    image = folder / f"{name}.png"
    assert image.stat().st_size > 10_000  # a real page, not a blank
    return image


class Progress:
    """A socket of the requester collecting ``report:progress``."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[dict[str, Any]] = []
        self.sio.on("report:progress", self._got)

    async def _got(self, data: dict[str, Any]) -> None:
        self.events.append(data)


async def test_every_report_through_the_worker_equals_the_api(
    api: Api, live_stack: LiveStack, artifacts: Path
) -> None:
    alice, bob, carol = (await login(api, tag="alice"), await login(api, tag="bob"),
                         await login(api, tag="carol"))  # fmt: skip
    club_id = await build_club(alice, bob, carol)
    base = f"/api/v1/clubs/{club_id}"
    progress = Progress()
    await progress.sio.connect(live_stack.url, transports=["websocket"],
                               auth={"token": alice.token}, wait_timeout=10)  # fmt: skip
    try:
        requests = [(kind, fmt, None) for kind in KINDS for fmt in ("csv", "pdf")]
        requests.append(("valuation_statement", "csv", D2.isoformat()))  # a past date
        jobs = {}
        for kind, fmt, day in requests:
            payload = {"kind": kind, "format": fmt, **({"date": day} if day else {})}
            job = await alice.ok("POST", f"{base}/reports", payload, status=202)
            assert job["status"] == "queued" and job["download"] is None
            jobs[(kind, fmt, day)] = job["id"]

        async def finished() -> dict[tuple[str, str, str | None], dict[str, Any]]:
            out = {}
            for key, job_id in jobs.items():
                body = await alice.ok("GET", f"{base}/reports/{job_id}")
                assert body["status"] != "failed", body
                out[key] = body
            return out

        deadline = asyncio.get_running_loop().time() + 60
        while True:
            done = await finished()
            if all(j["status"] == "done" for j in done.values()):
                break
            assert asyncio.get_running_loop().time() < deadline, done
            await asyncio.sleep(0.2)
        for _ in range(50):  # the last emits may trail the stored status
            if sum(e["percent"] == 100 for e in progress.events) >= len(jobs):
                break
            await asyncio.sleep(0.1)
    finally:
        await progress.sio.disconnect()

    # Live progress: per job, increasing percentages ending at 100 with a download link.
    for job_id in jobs.values():
        seen = [e for e in progress.events if e["job_id"] == job_id]
        percents = [e["percent"] for e in seen]
        assert percents == sorted(percents) and percents[-1] == 100 and len(percents) >= 3
        assert all(e["id"] and e["ts"] for e in seen)
        assert seen[-1]["download"]["url"].startswith(live_stack.url)

    # Someone else may neither see the job nor the file.
    other = await alice.ok("GET", f"{base}/reports/{jobs[('member_status', 'csv', None)]}")
    assert (await bob.call("GET", f"{base}/reports/{other['id']}")).code == "report_not_found"
    file_id = other["download"]["url"].split("/api/v1/files/")[1].split("/")[0]
    assert (await bob.call("GET", f"/api/v1/files/{file_id}/link")).status == 404

    files: dict[tuple[str, str, str | None], bytes] = {}
    for key, body in done.items():
        status, data, headers = await alice.download(body["download"]["url"])
        assert status == 200, key
        assert headers["Content-Type"].startswith(
            "application/pdf" if key[1] == "pdf" else "text/csv"
        )
        files[key] = data

    statement = await alice.ok("GET", f"{base}/valuation-statement")
    status_api = await alice.ok("GET", f"{base}/member-status")
    trial = await alice.ok("GET", f"{base}/trial-balance")
    past = (await alice.call("GET", f"{base}/valuation-statement",
                             params={"date": D2.isoformat()})).body  # fmt: skip

    # Valuation statement.
    for api_statement, key in ((statement, ("valuation_statement", "csv", None)),
                               (past, ("valuation_statement", "csv", D2.isoformat()))):  # fmt: skip
        rows = read_csv(files[key])
        fields = meta(rows)
        for name in ("valuation_date", "nav", "unit_value", "units_outstanding", "cash",
                     "market_value", "liabilities"):  # fmt: skip
            assert fields[name] == api_statement[name], (key, name)
        assert table(rows, "symbol") == [
            {"symbol": h["symbol"], "quantity": str(h["quantity"]), "price": h["price"],
             "market_value": h["market_value"], "currency": "USD", "foreign_price": "",
             "foreign_value": "", "rate": "", "rate_date": "", "value": h["market_value"]}
            for h in api_statement["holdings"]]  # fmt: skip
    assert past["valuation_date"] == D2.isoformat() and past["nav"] != statement["nav"]
    # The D2 statement against figures worked out by hand, not by the code under test: ₹15,000
    # paid in became 1,500 units at ₹10.00; 10 INFY bought at ₹1,000 with ₹20 of costs leave
    # ₹4,980 of cash; marked at ₹1,200 they are worth ₹12,000; NAV ₹16,980 over 1,500 units is
    # ₹11.32 a unit.
    by_hand = meta(read_csv(files[("valuation_statement", "csv", D2.isoformat())]))
    assert {name: by_hand[name] for name in ("cash", "market_value", "liabilities", "nav",
                                             "units_outstanding", "unit_value")} == {
        "cash": "4980.00", "market_value": "12000.00", "liabilities": "0.00",
        "nav": "16980.00", "units_outstanding": "1500.000000", "unit_value": "11.3200",
    }  # fmt: skip
    text = pdf_text(files[("valuation_statement", "pdf", None)])
    for value in (statement["nav"], statement["cash"], statement["market_value"]):
        assert group_indian(value) in text, value
    assert statement["unit_value"] in text and statement["units_outstanding"] in text
    for h in statement["holdings"]:
        assert h["symbol"] in text and group_indian(h["price"]) in text
    assert "NAV and unit value" in text

    # Member status.
    rows = table(read_csv(files[("member_status", "csv", None)]), "user_id")
    by_user = {r["user_id"]: r for r in rows if r["user_id"] != "TOTAL"}
    assert set(by_user) == {m["user_id"] for m in status_api["members"]}
    text = pdf_text(files[("member_status", "pdf", None)])
    for member in status_api["members"]:
        row = by_user[member["user_id"]]
        for name in ("paid_in", "withdrawn", "units", "value", "ownership_pct", "return_pct"):
            assert row[name] == member[name], (member["user_id"], name)
        for name in ("paid_in", "value"):
            assert group_indian(member[name]) in text
        assert member["units"] in text and member["ownership_pct"] in text
        assert member["return_pct"] in text
    total = next(r for r in rows if r["user_id"] == "TOTAL")
    assert (
        total["paid_in"]
        == f"{sum(int(m['paid_in'].replace('.', '')) for m in status_api['members']) / 100:.2f}"
    )
    assert bob.account.member_id and bob.account.member_id in text

    # Transaction ledger: its closing balances are the trial balance.
    rows = read_csv(files[("transaction_ledger", "csv", None)])
    closing = [r for r in table(rows, "account") if r["account"] != "TOTAL"]
    assert [(r["account"], r["debit"], r["credit"]) for r in closing] == [
        (r["account"], r["debit"], r["credit"]) for r in trial["rows"]]  # fmt: skip
    lines = [r for r in table(rows, "date") if r["date"] != "TOTAL"]
    debits = sum(int(r["debit"].replace(".", "")) for r in lines if r["debit"])
    credits = sum(int(r["credit"].replace(".", "")) for r in lines if r["credit"])
    assert debits == credits > 0
    text = pdf_text(files[("transaction_ledger", "pdf", None)])
    assert group_indian(trial["total_debit"]) in text
    for r in trial["rows"]:
        amount = r["debit"] if r["debit"] != "0.00" else r["credit"]
        assert group_indian(amount) in text

    # Member statement (the requester's own).
    fields = meta(read_csv(files[("member_statement", "csv", None)]))
    mine = next(m for m in status_api["members"] if m["user_id"] == alice.id)
    for name in ("paid_in", "withdrawn", "units", "value", "ownership_pct", "return_pct"):
        assert fields[name] == mine[name], name
    text = pdf_text(files[("member_statement", "pdf", None)])
    for name in ("paid_in", "value"):
        assert group_indian(mine[name]) in text
    assert mine["units"] in text and "Not yet settled" in text and group_indian("2500.00") in text

    for kind in KINDS:
        render_page(files[(kind, "pdf", None)], f"report-{kind}", artifacts)

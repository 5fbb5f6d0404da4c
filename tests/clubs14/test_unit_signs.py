"""One sign convention for units that move (issue #14, docs/domain.md "One sign for units that
move"): a withdrawal and a charge show the units they redeemed as a negative change to the
member's units in their own answer, in the valuation's settlements (and its preview) and in the
member statement (the figures behind its CSV and PDF) — the same string everywhere; a
contribution's units are positive in all of them."""

from __future__ import annotations

import uuid

from app.reports import figures
from tests.clubs14.test_charges_and_payouts import club_of, day, value
from tests.identity.conftest import Api
from tests.payments.sandbox_client import SandboxClient


async def test_withdrawals_and_charges_are_negative_everywhere(
    api: Api, payment_stack: SandboxClient
) -> None:
    club_id, (a, b) = await club_of(api, payment_stack, ["600.00", "400.00"])
    withdrawal = await b.ok("POST", f"/api/v1/clubs/{club_id}/withdrawals", {"amount": "100.00"},
                            status=201, key=str(uuid.uuid4()))  # fmt: skip
    assert withdrawal["units"] is None  # nothing redeemed before a valuation settles it
    await a.ok("POST", f"/api/v1/clubs/{club_id}/charges",
               {"user_id": b.id, "amount": "10.00", "reason": "Late fee"},
               status=201, key=str(uuid.uuid4()))  # fmt: skip

    preview = await a.ok("POST", f"/api/v1/clubs/{club_id}/valuations/preview",
                         {"valuation_date": day(-3).isoformat(), "prices": {}})  # fmt: skip
    valued = await value(a, club_id, day(-3))
    for answer in (preview, valued):
        moved = sorted((s["kind"], s["units"]) for s in answer["settlements"])  # type: ignore[index, union-attr]
        assert moved == [("charge", "-1.000000"), ("withdrawal", "-10.000000")], answer

    [settled] = (await b.ok("GET", f"/api/v1/clubs/{club_id}/withdrawals"))["withdrawals"]
    assert (settled["status"], settled["units"], settled["gross"]) == (
        "settled", "-10.000000", "100.00")  # fmt: skip
    [charge] = (await b.ok("GET", f"/api/v1/clubs/{club_id}/charges"))["charges"]
    assert (charge["status"], charge["units"]) == ("settled", "-1.000000")

    statement = await figures.member_statement(club_id, b.id, b.id, None)
    lines = [(x.kind, x.units, x.units_balance) for x in statement.lines]
    assert lines == [
        ("contribution", "40.000000", "40.000000"),
        ("withdrawal", "-10.000000", "30.000000"),
        ("charge", "-1.000000", "29.000000"),
    ]
    assert statement.row.units == "29.000000"  # holdings are never negative

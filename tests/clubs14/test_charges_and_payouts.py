"""Member charges and payout dates over HTTP against the running stack (issue #14, docs/domain.md
"a charge to a member … that the club keeps is paid by redeeming that member's units"):

* A club of ₹1,000 in 100 units (A 50, B 30, C 20) charges C ₹10: C ends with 19 units, 99 in
  all, unit value 10.1010 and member values 505.05 / 303.03 / 191.92 — exact.
* A payout takes the date the money left: never in the future, never before its settlement, and
  a past date no longer blocks valuing the club in between."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.clubs.http import Member, login, pay_online, received
from tests.identity.conftest import Api
from tests.payments.sandbox_client import SandboxClient

TODAY = dt.datetime.now(dt.UTC).date()


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


def at(when: dt.date) -> str:
    return f"{when.isoformat()}T09:30:00Z"


async def club_of(api: Api, sandbox: SandboxClient, amounts: list[str]) -> tuple[str, list[Member]]:
    """A club whose members paid ``amounts`` five days ago and were valued four days ago at the
    starting ₹10 a unit (the first member is the owner)."""
    members = [await login(api) for _ in amounts]
    owner = members[0]
    club = await owner.ok("POST", "/api/v1/clubs", {"name": "Charges Club"}, status=201)
    club_id = club["id"]
    invite = await owner.ok("POST", f"/api/v1/clubs/{club_id}/invites", {"max_uses": 10},
                            status=201)  # fmt: skip
    for member in members[1:]:
        await member.ok("POST", f"/api/v1/invites/{invite['token']}/accept")
    paid = [await pay_online(m, club_id, amount, sandbox, at(day(-5)))
            for m, amount in zip(members, amounts, strict=True)]  # fmt: skip
    await received(owner, club_id, paid)
    await value(owner, club_id, day(-4))
    return club_id, members


async def value(owner: Member, club_id: str, when: dt.date) -> dict[str, object]:
    body = {"valuation_date": when.isoformat(), "prices": {}}
    return dict(await owner.ok("POST", f"/api/v1/clubs/{club_id}/valuations", body, status=201,
                               key=str(uuid.uuid4())))  # fmt: skip


async def test_a_charge_redeems_the_members_units_and_the_money_stays(
    api: Api, payment_stack: SandboxClient
) -> None:
    club_id, (a, b, c) = await club_of(api, payment_stack, ["500.00", "300.00", "200.00"])
    status = await a.ok("GET", f"/api/v1/clubs/{club_id}/member-status")
    assert [m["units"] for m in status["members"]] == ["50.000000", "30.000000", "20.000000"]

    refused = await c.call("POST", f"/api/v1/clubs/{club_id}/charges",
                           {"user_id": a.id, "amount": "10.00", "reason": "Late fee"},
                           key=str(uuid.uuid4()))  # fmt: skip
    assert (refused.status, refused.code) == (403, "role_required")
    charge = await a.ok("POST", f"/api/v1/clubs/{club_id}/charges",
                        {"user_id": c.id, "amount": "10.00", "reason": "Late fee for March"},
                        status=201, key=str(uuid.uuid4()))  # fmt: skip
    assert (charge["status"], charge["amount"], charge["units"]) == ("pending", "10.00", None)

    valued = await value(a, club_id, day(-3))
    assert (valued["unit_value"], valued["nav_after"], valued["units_after"]) == (
        "10.0000", "1000.00", "99.000000")  # fmt: skip
    assert valued["unit_value_after"] == "10.1010"
    [settled] = valued["settlements"]  # type: ignore[misc]
    assert (settled["kind"], settled["user_id"], settled["amount"]) == ("charge", c.id, "10.00")

    status = await a.ok("GET", f"/api/v1/clubs/{club_id}/member-status")
    rows = {m["user_id"]: m for m in status["members"]}
    assert status["unit_value"] == "10.1010"
    assert [rows[m.id]["units"] for m in (a, b, c)] == ["50.000000", "30.000000", "19.000000"]
    assert [rows[m.id]["value"] for m in (a, b, c)] == ["505.05", "303.03", "191.92"]
    # C received nothing: the charge is not a withdrawal. She paid ₹200 and holds ₹191.92:
    # −4.04 %; A gains 1.01 % (₹505.05 for ₹500).
    assert (rows[c.id]["withdrawn"], rows[c.id]["charged"]) == ("0.00", "10.00")
    assert [rows[m.id]["return_pct"] for m in (a, c)] == ["1.0100", "-4.0400"]
    statement = await a.ok("GET", f"/api/v1/clubs/{club_id}/valuation-statement")
    assert (statement["nav"], statement["units_outstanding"]) == ("1000.00", "99.000000")

    # C sees the charge settled; the books still balance.
    mine = await c.ok("GET", f"/api/v1/clubs/{club_id}/charges")
    assert [(x["status"], x["units"], x["charged"]) for x in mine["charges"]] == [
        ("settled", "-1.000000", "10.00")]  # fmt: skip
    balance = await a.ok("GET", f"/api/v1/clubs/{club_id}/trial-balance")
    assert balance["balanced"]
    assert ("income:member_charges", "10.00") in [(r["account"], r["credit"])
                                                  for r in balance["rows"]]  # fmt: skip
    told = await c.ok("GET", "/api/v1/notifications")
    assert any(n["kind"] == "member_charge" and "₹10.00" in n["title"]
               and "Late fee for March" in n["body"]
               for n in told["notifications"]), told  # fmt: skip


async def test_a_charge_must_be_payable_and_can_be_cancelled(
    api: Api, payment_stack: SandboxClient
) -> None:
    club_id, (a, _, c) = await club_of(api, payment_stack, ["500.00", "300.00", "200.00"])
    path = f"/api/v1/clubs/{club_id}/charges"

    async def charge(who: str, amount: str) -> tuple[int, str | None, dict[str, object]]:
        body = {"user_id": who, "amount": amount, "reason": "expense share"}
        reply = await a.call("POST", path, body, key=str(uuid.uuid4()))
        return reply.status, reply.code, reply.body

    # C's 20 units were worth ₹200.00 at the last valuation: no more can be charged.
    status, code, body = await charge(c.id, "99999999999.99")
    assert (status, code) == (422, "charge_refused"), body
    assert body["error"]["details"]["available"] == "200.00"  # type: ignore[index]
    pending = await a.ok("POST", path, {"user_id": c.id, "amount": "150.00",
                                        "reason": "expense share"}, status=201,
                         key=str(uuid.uuid4()))  # fmt: skip
    status, code, body = await charge(c.id, "50.01")  # ₹150 of the ₹200 is pending already
    assert (status, code) == (422, "charge_refused") and "150.00" in str(body), body
    # Someone who holds no units cannot be charged.
    newcomer = await login(api)
    invite = await a.ok("POST", f"/api/v1/clubs/{club_id}/invites", {"max_uses": 1}, status=201)
    await newcomer.ok("POST", f"/api/v1/invites/{invite['token']}/accept")
    status, code, body = await charge(newcomer.id, "1.00")
    assert (status, code) == (422, "charge_refused"), body
    assert body["error"]["details"]["reason"] == "no_units"  # type: ignore[index]

    # A pending charge is cancelled by the treasury (not by the member), and never settles.
    cancel = f"{path}/{pending['id']}/cancel"
    refused = await c.call("POST", cancel)
    assert (refused.status, refused.code) == (403, "role_required")
    cancelled = await a.ok("POST", cancel)
    assert cancelled["status"] == "cancelled"
    again = await a.call("POST", cancel)
    assert (again.status, again.code) == (409, "charge_not_pending")
    valued = await value(a, club_id, day(-3))
    assert valued["settlements"] == [] and valued["units_after"] == "100.000000"
    told = await c.ok("GET", "/api/v1/notifications")
    assert any(n["kind"] == "member_charge" and "cancelled" in n["title"]
               for n in told["notifications"]), told  # fmt: skip


async def test_books_refuse_negative_fees_and_money_dated_before_the_last_valuation(
    api: Api, payment_stack: SandboxClient
) -> None:
    club_id, (a, b) = await club_of(api, payment_stack, ["600.00", "400.00"])
    trades = f"/api/v1/clubs/{club_id}/trades"
    base = {"side": "buy", "symbol": "INFY", "quantity": 1, "trade_date": day(-1).isoformat()}
    before = await a.ok("GET", f"/api/v1/clubs/{club_id}/trial-balance")
    for bad in ({"price": "1.00", "fees": "-5.00"}, {"price": "0.00"}, {"price": "-1.00"}):
        reply = await a.call("POST", trades, {**base, **bad}, key=str(uuid.uuid4()))
        assert (reply.status, reply.code) == (422, "validation_error"), (bad, reply.body)
    assert await a.ok("GET", f"/api/v1/clubs/{club_id}/trial-balance") == before

    # Money paid outside, approved as arrived before the last valuation (day −4): refused.
    recorded = await b.ok("POST", f"/api/v1/clubs/{club_id}/contributions",
                          {"amount": "50.00", "method": "manual"}, status=201,
                          key=str(uuid.uuid4()))  # fmt: skip
    decision = f"/api/v1/clubs/{club_id}/contributions/{recorded['id']}/decision"
    early = await a.call("POST", decision, {"approve": True, "paid_on": day(-5).isoformat()},
                         key=str(uuid.uuid4()))  # fmt: skip
    assert (early.status, early.code) == (422, "backdated_entry"), early.body
    on_time = await a.call("POST", decision, {"approve": True, "paid_on": day(-4).isoformat()},
                           key=str(uuid.uuid4()))  # fmt: skip
    assert on_time.status == 200, on_time.body


async def test_a_payout_takes_the_day_the_money_left(
    api: Api, payment_stack: SandboxClient
) -> None:
    club_id, (a, b) = await club_of(api, payment_stack, ["600.00", "400.00"])
    request = await b.ok("POST", f"/api/v1/clubs/{club_id}/withdrawals", {"amount": "100.00"},
                         status=201, key=str(uuid.uuid4()))  # fmt: skip
    await value(a, club_id, day(-3))  # settles it: ₹100.00 owed to B
    path = f"/api/v1/clubs/{club_id}/withdrawals/{request['id']}/payout"

    future = await a.api.call("POST", f"{path}?paid_on={day(1).isoformat()}", token=a.token,
                              headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
    assert (future.status, future.code) == (422, "future_date")
    early = await a.api.call("POST", f"{path}?paid_on={day(-4).isoformat()}", token=a.token,
                             headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
    assert (early.status, early.code) == (422, "backdated_entry")
    paid = await a.api.call("POST", f"{path}?paid_on={day(-2).isoformat()}", token=a.token,
                            headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
    assert paid.status == 200, paid.body
    assert (paid.body["status"], paid.body["paid_at"][:10]) == ("paid", day(-2).isoformat())

    # The payout is in the books on its own day, so the club can still be valued yesterday.
    valued = await value(a, club_id, day(-1))
    assert valued["nav_after"] == "900.00"

    trade = await a.call("POST", f"/api/v1/clubs/{club_id}/trades",
                         {"side": "buy", "symbol": "AAPL", "quantity": 1, "price": "1.00",
                          "trade_date": day(1).isoformat()}, key=str(uuid.uuid4()))  # fmt: skip
    assert (trade.status, trade.code) == (422, "future_date")

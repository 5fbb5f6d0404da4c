"""The club story over HTTP against the running web server, worker and sandbox payment
provider: two members join and pay through the sandbox, a valuation moves the unit value, a
third joins at the new unit value, one withdraws part with a fee — units, values, ownership and
the trial balance exact to the paisa (issue: clubs, money and the ledger)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from tests.campaigns.factories import verify_kyc
from tests.clubs.http import login, pay_online, received
from tests.conftest import LiveStack
from tests.identity.conftest import Api
from tests.payments.sandbox_client import SandboxClient

TODAY = dt.datetime.now(dt.UTC).date()
D1, D2, D3, D4 = (TODAY - dt.timedelta(days=d) for d in (90, 60, 30, 1))


def at(day: dt.date) -> str:
    return f"{day.isoformat()}T09:30:00Z"


def half_even(value: Fraction) -> int:
    return round(value)


def paise(text: str) -> int:
    whole, _, part = text.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int(part))


def micro(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    whole, _, part = text.lstrip("-").partition(".")
    return sign * (int(whole) * 1_000_000 + int(part))


async def test_the_club_story_over_http(api: Api, payment_stack: SandboxClient) -> None:
    alice, bob, carol = await login(api), await login(api), await login(api)
    # $15,000 is far above the KYC yearly limit (counted in rupees at the ECB rate): verified.
    for member in (alice, bob, carol):
        await verify_kyc(member.id)
    club = await alice.ok(
        "POST",
        "/api/v1/clubs",
        {"name": "Tamarind Investors", "withdrawal_fee_bps": 100, "currency": "USD"},
        status=201,
    )
    club_id = club["id"]
    assert (club["my_role"], club["starting_unit_value"], club["approval_threshold_bps"]) == (
        "owner", "10.00", 6000)  # fmt: skip
    invite = await alice.ok("POST", f"/api/v1/clubs/{club_id}/invites", {"max_uses": 2},
                            status=201)  # fmt: skip
    joined = await bob.ok("POST", f"/api/v1/invites/{invite['token']}/accept")
    assert joined["club"]["my_role"] == "member"

    # Two members pay through the sandbox checkout; webhooks → Kafka → worker → books.
    paid = [
        await pay_online(alice, club_id, "10000.00", payment_stack, at(D1 - dt.timedelta(3))),
        await pay_online(bob, club_id, "5000.00", payment_stack, at(D1 - dt.timedelta(2))),
    ]
    await received(alice, club_id, paid)
    first = await alice.ok("POST", f"/api/v1/clubs/{club_id}/valuations",
                           {"valuation_date": D1.isoformat(), "prices": {}}, status=201,
                           key="v1")  # fmt: skip
    assert (first["unit_value"], first["nav_after"], first["units_after"]) == (
        "10.0000", "15000.00", "1500.000000")  # fmt: skip

    # The treasurer buys; the next valuation moves the unit value.
    await alice.ok("POST", f"/api/v1/clubs/{club_id}/trades",
                   {"side": "buy", "symbol": "HD", "quantity": 10, "price": "1000.00",
                    "fees": "20.00", "trade_date": (D1 + dt.timedelta(1)).isoformat()},
                   status=201, key="t1")  # fmt: skip
    second = await alice.ok("POST", f"/api/v1/clubs/{club_id}/valuations",
                            {"valuation_date": D2.isoformat(), "prices": {"HD": "1200.00"}},
                            status=201, key="v2")  # fmt: skip
    assert (second["nav"], second["unit_value"], second["cash"]) == (
        "16980.00", "11.3200", "4980.00")  # fmt: skip

    # A third member joins and buys in at 11.32.
    await carol.ok("POST", f"/api/v1/invites/{invite['token']}/accept")
    carols = await pay_online(carol, club_id, "3000.00", payment_stack, at(D2 + dt.timedelta(8)))
    await received(alice, club_id, [carols])
    third = await alice.ok("POST", f"/api/v1/clubs/{club_id}/valuations",
                           {"valuation_date": D3.isoformat(), "prices": {"HD": "1200.00"}},
                           status=201, key="v3")  # fmt: skip
    carol_units = half_even(Fraction(300_000 * 10**6, 1132))
    assert third["unit_value"] == "11.3200"
    assert micro(third["settlements"][0]["units"]) == carol_units

    # Bob withdraws 2,000.00 gross; 1 % fee stays in the club.
    request = await bob.ok("POST", f"/api/v1/clubs/{club_id}/withdrawals",
                           {"amount": "2000.00"}, status=201, key="w1")  # fmt: skip
    fourth = await alice.ok("POST", f"/api/v1/clubs/{club_id}/valuations",
                            {"valuation_date": D4.isoformat(), "prices": {"HD": "1300.00"}},
                            status=201, key="v4")  # fmt: skip
    units_out = 1_500_000_000 + carol_units
    nav = 798_000 + 1_300_000
    assert (paise(fourth["nav"]), micro(fourth["units_outstanding"])) == (nav, units_out)
    redeemed = half_even(Fraction(200_000 * units_out, nav))
    gross = half_even(Fraction(redeemed * nav, units_out))
    fee = half_even(Fraction(gross, 100))
    withdrawals = (await alice.ok("GET", f"/api/v1/clubs/{club_id}/withdrawals"))["withdrawals"]
    bobs = next(w for w in withdrawals if w["id"] == request["id"])
    # units: the signed change to Bob's units (docs/domain.md, one sign for units that move)
    assert (bobs["status"], micro(bobs["units"]), paise(bobs["gross"]), paise(bobs["fee"]),
            paise(bobs["net"])) == ("settled", -redeemed, gross, fee, gross - fee)  # fmt: skip
    paid_out = await alice.ok("POST", f"/api/v1/clubs/{club_id}/withdrawals/{request['id']}/payout",
                              key="p1")  # fmt: skip
    assert paid_out["status"] == "paid"

    # Member status: units, values, ownership and paid in, exact.
    status = await bob.ok("GET", f"/api/v1/clubs/{club_id}/member-status")
    rows = {row["user_id"]: row for row in status["members"]}
    nav_after, units_after = paise(fourth["nav_after"]), micro(fourth["units_after"])
    assert units_after == units_out - redeemed and nav_after == nav - (gross - fee)
    expected_units = {alice.id: 1_000_000_000, bob.id: 500_000_000 - redeemed,
                      carol.id: carol_units}  # fmt: skip
    for member_id, units in expected_units.items():
        row = rows[member_id]
        assert micro(row["units"]) == units
        assert paise(row["value"]) == half_even(Fraction(units * nav_after, units_after))
        pct = half_even(Fraction(units * 100 * 10**4, units_after))
        assert row["ownership_pct"] == f"{pct // 10**4}.{pct % 10**4:04d}"
    assert (rows[alice.id]["paid_in"], rows[bob.id]["paid_in"], rows[carol.id]["paid_in"]) == (
        "10000.00", "5000.00", "3000.00")  # fmt: skip
    assert paise(rows[bob.id]["withdrawn"]) == gross - fee

    # The books balance, and cash is exactly what moved.
    trial = await carol.ok("GET", f"/api/v1/clubs/{club_id}/trial-balance")
    assert trial["balanced"] is True and trial["total_debit"] == trial["total_credit"]
    accounts = {row["account"]: row for row in trial["rows"]}
    assert paise(accounts["assets:cash"]["debit"]) == 1_800_000 - 1_002_000 - (gross - fee)
    assert accounts["income:withdrawal_fees"]["credit"] == f"{fee // 100}.{fee % 100:02d}"
    statement = await bob.ok("GET", f"/api/v1/clubs/{club_id}/valuation-statement")
    assert statement["holdings"] == [{"symbol": "HD", "quantity": 10, "price": "1300.00",
                                      "market_value": "13000.00", "currency": None,
                                      "foreign_value": None, "rate": None,
                                      "rate_date": None}]  # the club's own currency  # fmt: skip
    assert paise(statement["nav"]) == nav_after
    earlier = await bob.call("GET", f"/api/v1/clubs/{club_id}/valuation-statement",
                             params={"date": D2.isoformat()})  # fmt: skip
    assert earlier.status == 200 and earlier.body["unit_value"] == "11.3200"

    # Performance: the unit value's change from the first valuation to the last.
    perf = await carol.ok("GET", f"/api/v1/clubs/{club_id}/performance")
    assert (perf["start_date"], perf["end_date"]) == (D1.isoformat(), D4.isoformat())
    assert perf["unit_value_start"] == "10.0000"
    twr = Fraction(nav_after * 10**6, units_after) / 1000 - 1  # paise per unit ÷ ₹10.00
    assert perf["twr_pct"] == str((Decimal(twr.numerator) / Decimal(twr.denominator) * 100)
                                  .quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))  # fmt: skip
    assert {m["user_id"] for m in perf["members"]} == {alice.id, bob.id, carol.id}
    assert all(m["xirr_pct"] is not None for m in perf["members"])


async def test_idempotency_keys_replay_or_refuse(api: Api, live_stack: LiveStack) -> None:
    owner = await login(api)
    club = await owner.ok("POST", "/api/v1/clubs", {"name": "Keys Club"}, status=201)
    path = f"/api/v1/clubs/{club['id']}/contributions"
    body = {"amount": "100.00", "method": "manual", "note": "NEFT ref 1"}
    missing = await owner.call("POST", path, body)
    assert (missing.status, missing.body["error"]["code"]) == (400, "idempotency_key_required")
    first = await owner.call("POST", path, body, key="k-1")
    again = await owner.call("POST", path, {"method": "manual", "note": "NEFT ref 1",
                                            "amount": "100.00"}, key="k-1")  # fmt: skip
    assert first.status == again.status == 201
    replayed = {name.lower(): value for name, value in again.headers.items()}
    assert again.body == first.body and replayed.get("idempotent-replayed") == "true"
    misuse = await owner.call("POST", path, {**body, "amount": "999.00"}, key="k-1")
    assert (misuse.status, misuse.body["error"]["code"]) == (422, "idempotency_key_reused")
    listed = await owner.ok("GET", path)
    assert len(listed["contributions"]) == 1  # only the first request did anything
    bad = await owner.call("POST", path, {"amount": 100.5, "method": "manual"}, key="k-2")
    assert (bad.status, bad.body["error"]["code"]) == (422, "validation_error")
    assert len((await owner.ok("GET", path))["contributions"]) == 1
    # a receipt must be one the member uploaded: an unknown id is refused, nothing stored
    fake = await owner.call("POST", path, {**body, "receipt_file_id": "file-1"}, key="k-3")
    assert (fake.status, fake.body["error"]["code"]) == (404, "file_not_found")
    assert len((await owner.ok("GET", path))["contributions"]) == 1


async def test_non_members_and_wrong_roles_are_refused(api: Api, live_stack: LiveStack) -> None:
    owner, member, stranger = await login(api), await login(api), await login(api)
    club = await owner.ok("POST", "/api/v1/clubs", {"name": "Closed Club"}, status=201)
    club_id = club["id"]
    invite = await owner.ok("POST", f"/api/v1/clubs/{club_id}/invites", {}, status=201)
    await member.ok("POST", f"/api/v1/invites/{invite['token']}/accept")
    for method, path, json in [
        ("GET", f"/api/v1/clubs/{club_id}", None),
        ("GET", f"/api/v1/clubs/{club_id}/members", None),
        ("GET", f"/api/v1/clubs/{club_id}/trial-balance", None),
        ("GET", f"/api/v1/clubs/{club_id}/member-status", None),
        ("POST", f"/api/v1/clubs/{club_id}/contributions", {"amount": "10.00"}),
        ("POST", f"/api/v1/clubs/{club_id}/invites", {}),
    ]:
        reply = await stranger.call(method, path, json, key=str(uuid.uuid4()))
        assert (reply.status, reply.body["error"]["code"]) == (404, "club_not_found"), path
    for method, path, json in [
        ("POST", f"/api/v1/clubs/{club_id}/valuations", {"valuation_date": D1.isoformat()}),
        ("POST", f"/api/v1/clubs/{club_id}/invites", {}),
        ("POST", f"/api/v1/clubs/{club_id}/trades", {"side": "buy", "symbol": "X",
                                                      "quantity": 1, "price": "1.00",
                                                      "trade_date": D1.isoformat()}),
        ("PUT", f"/api/v1/clubs/{club_id}/members/{owner.id}/role", {"role": "member"}),
    ]:  # fmt: skip
        reply = await member.call(method, path, json, key=str(uuid.uuid4()))
        assert (reply.status, reply.body["error"]["code"]) == (403, "role_required"), path
    anonymous = await api.call("GET", f"/api/v1/clubs/{club_id}")
    assert anonymous.status == 401
    trial = await owner.ok("GET", f"/api/v1/clubs/{club_id}/trial-balance")
    assert trial["rows"] == []  # nothing above changed the books
    roles = {m["user_id"]: m["role"] for m in
             (await owner.ok("GET", f"/api/v1/clubs/{club_id}/members"))["members"]}  # fmt: skip
    assert roles == {owner.id: "owner", member.id: "member"}

"""Monthly dues (issue #14, "a club may set monthly dues (amount, due day, grace days, late
fee). A grid of members × months shows paid, pending, late and waived; reminders go before the
due date"): set as a club rule; a contribution marked with the month pays it once its money
arrived (a manual one only once approved); unpaid dues turn late after the grace days, the
member is told and the late fee is charged once (a member charge the club keeps); a treasurer
waives a month, audited; members see their own row only; refusals change nothing."""

from __future__ import annotations

import datetime as dt
import uuid

from app.audit.documents import AuditRecord
from app.books.documents import MemberCharge
from app.dues.service import dues_service, month_of, months_up_to
from app.notifications.documents import Notification
from tests.clubs.http import Member, login
from tests.identity.conftest import Api, eventually

TODAY = dt.datetime.now(dt.UTC).date()
MONTH = month_of(TODAY)


async def club_with_dues(api: Api) -> tuple[str, Member, Member, Member]:
    owner, asha, ravi = await login(api), await login(api), await login(api)
    club = await owner.ok("POST", "/api/v1/clubs", {"name": "Dues Club"}, status=201)
    club_id = club["id"]
    invite = await owner.ok("POST", f"/api/v1/clubs/{club_id}/invites", {}, status=201)
    for member in (asha, ravi):
        await member.ok("POST", f"/api/v1/invites/{invite['token']}/accept")
    rules = await owner.ok("PATCH", f"/api/v1/clubs/{club_id}/rules", {
        "dues_amount": "500.00", "dues_day": 10, "dues_grace_days": 5,
        "dues_late_fee": "25.00"})  # fmt: skip
    assert (rules["dues_amount"], rules["dues_day"], rules["dues_grace_days"],
            rules["dues_late_fee"], rules["dues_since"]) == (
        "500.00", 10, 5, "25.00", MONTH)  # fmt: skip
    return club_id, owner, asha, ravi


def cells(grid: dict[str, object], user_id: str) -> dict[str, str]:
    [row] = [r for r in grid["rows"] if r["user_id"] == user_id]  # type: ignore[attr-defined]
    return {c["month"]: c["status"] for c in row["cells"]}


async def pay(member: Member, club_id: str, amount: str, month: str) -> str:
    made = await member.ok("POST", f"/api/v1/clubs/{club_id}/contributions",
                           {"amount": amount, "method": "manual", "note": "dues",
                            "dues_month": month}, status=201, key=str(uuid.uuid4()))  # fmt: skip
    assert made["dues_month"] == month
    return str(made["id"])


async def test_dues_paid_pending_late_and_waived(api: Api) -> None:
    club_id, owner, asha, ravi = await club_with_dues(api)
    grid = await owner.ok("GET", f"/api/v1/clubs/{club_id}/dues?months=3")
    assert grid["months"] == months_up_to(MONTH, 3)
    assert (grid["amount"], grid["late_fee"], grid["since"]) == ("500.00", "25.00", MONTH)
    earlier = months_up_to(MONTH, 3)[0]
    assert cells(grid, asha.id)[earlier] == "none"  # before the club's dues began
    assert {r["user_id"] for r in grid["rows"]} == {owner.id, asha.id, ravi.id}

    # Asha pays this month's dues by hand: it counts once the treasurer approved it.
    contribution = await pay(asha, club_id, "500.00", MONTH)
    mine = await asha.ok("GET", f"/api/v1/clubs/{club_id}/dues?months=1")
    assert [r["user_id"] for r in mine["rows"]] == [asha.id]  # a member sees their own row
    assert mine["rows"][0]["cells"][0]["status"] in ("pending", "late")
    await owner.ok("POST", f"/api/v1/clubs/{club_id}/contributions/{contribution}/decision",
                   {"approve": True, "paid_on": TODAY.isoformat()},
                   key=str(uuid.uuid4()))  # fmt: skip

    async def asha_paid() -> bool:  # the approval is applied by the payments worker
        grid = await owner.ok("GET", f"/api/v1/clubs/{club_id}/dues?months=1")
        return cells(grid, asha.id)[MONTH] == "paid"

    await eventually(asha_paid, timeout=30)

    # The owner is excused this month; a paid month cannot be waived; members cannot waive.
    waived = await owner.ok("POST", f"/api/v1/clubs/{club_id}/dues/waivers",
                            {"user_id": owner.id, "month": MONTH, "reason": "Hosts meetings"},
                            status=201)  # fmt: skip
    assert waived["waived_by"] == owner.id
    again = await owner.call(
        "POST",
        f"/api/v1/clubs/{club_id}/dues/waivers",
        {"user_id": asha.id, "month": MONTH, "reason": "Kindness"},
    )
    assert (again.status, again.code) == (409, "dues_settled")
    refused = await ravi.call(
        "POST",
        f"/api/v1/clubs/{club_id}/dues/waivers",
        {"user_id": ravi.id, "month": MONTH, "reason": "Please"},
    )
    assert (refused.status, refused.code) == (403, "role_required")
    before = await owner.call(
        "POST",
        f"/api/v1/clubs/{club_id}/dues/waivers",
        {"user_id": ravi.id, "month": earlier, "reason": "Old month"},
    )
    assert (before.status, before.code) == (409, "no_dues")
    [audited] = await AuditRecord.find(
        {"chain": f"club:{club_id}", "action": "dues.waived"}).to_list()  # fmt: skip
    assert (audited.target_id, audited.details["month"]) == (owner.id, MONTH)

    # The sweep: a reminder in the days before the due date, to Ravi only (unpaid, unwaived).
    due = dt.date(TODAY.year, TODAY.month, 10)
    await dues_service.do_sweep(today=due - dt.timedelta(days=2))
    reminders = await Notification.find({"club_id": club_id, "ref_type": "dues"}).to_list()
    assert {n.user_id for n in reminders} == {ravi.id}
    assert "₹500.00" in reminders[0].body and "due on 10" in reminders[0].body

    # After the grace days Ravi's month is late: he is told and the late fee charged once.
    late_day = due + dt.timedelta(days=6)
    grid = await dues_service.grid(club_id, owner.id, 1, today=late_day)
    assert cells(grid.model_dump(), ravi.id)[MONTH] == "late"
    assert cells(grid.model_dump(), asha.id)[MONTH] == "paid"
    assert cells(grid.model_dump(), owner.id)[MONTH] == "waived"
    await dues_service.do_sweep(today=late_day)
    await dues_service.do_sweep(today=late_day)  # a second worker's tick changes nothing
    charges = await MemberCharge.find({"club_id": club_id}).to_list()
    assert [(c.user_id, c.amount, c.created_by) for c in charges] == [(ravi.id, 2500, "platform")]
    assert charges[0].reason.startswith("Late fee: dues for ")
    told = await Notification.find({"club_id": club_id, "user_id": ravi.id,
                                    "dedupe_key": {"$regex": "^dues-late:"}}).to_list()  # fmt: skip
    assert len(told) == 1 and "late fee of ₹25.00" in told[0].body
    grid = await dues_service.grid(club_id, owner.id, 1, today=late_day)
    assert grid.rows[[r.user_id for r in grid.rows].index(ravi.id)].cells[0].late_fee_charged

    # Paying late still marks it paid.
    contribution = await pay(ravi, club_id, "500.00", MONTH)
    await owner.ok("POST", f"/api/v1/clubs/{club_id}/contributions/{contribution}/decision",
                   {"approve": True, "paid_on": TODAY.isoformat()},
                   key=str(uuid.uuid4()))  # fmt: skip

    async def ravi_paid() -> bool:
        grid = await dues_service.grid(club_id, owner.id, 1, today=late_day)
        return cells(grid.model_dump(), ravi.id)[MONTH] == "paid"

    await eventually(ravi_paid, timeout=30)


async def test_bad_dues_rules_and_months_are_refused(api: Api) -> None:
    owner = await login(api)
    club = await owner.ok("POST", "/api/v1/clubs", {"name": "Strict Dues"}, status=201)
    for body in ({"dues_day": 29}, {"dues_amount": "-5.00"}, {"dues_grace_days": 40},
                 {"dues_amount": 500}):  # fmt: skip
        bad = await owner.call("PATCH", f"/api/v1/clubs/{club['id']}/rules", body)
        assert bad.status == 422, (body, bad.body)
    month = await owner.call("POST", f"/api/v1/clubs/{club['id']}/contributions",
                             {"amount": "5.00", "method": "manual", "dues_month": "2026-13"},
                             key=str(uuid.uuid4()))  # fmt: skip
    assert month.status == 422
    fetched = await owner.ok("GET", f"/api/v1/clubs/{club['id']}")
    assert (fetched["dues_amount"], fetched["dues_since"]) == ("0.00", None)

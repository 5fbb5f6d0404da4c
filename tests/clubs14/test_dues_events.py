"""Issue #14: dues have a live event of their own. Money marked for a month arriving, a
treasurer's waiver and dues turning late each append ``dues:changed`` to the club room's log in
the changing transaction (app/realtime/events.py), so every open screen hears it and a screen
that was away catches up on it; a refusal appends nothing, and a second sweep tells nothing
twice."""

from __future__ import annotations

import datetime as dt

import pytest

from app.books.service import books_service
from app.clubs.service import club_service
from app.dues.errors import DuesAlreadySettled
from app.dues.service import dues_service, late_after, month_of
from app.realtime import eventlog
from app.realtime.rooms import club_room
from tests.clubs.factories import captured, club_with_members

pytestmark = pytest.mark.usefixtures("services")

TODAY = dt.datetime.now(dt.UTC).date()
MONTH = month_of(TODAY)


async def dues_events(club_id: str, after: int = 0) -> list[tuple[str, str, str]]:
    found = await eventlog.since(club_room(club_id), after, 500)
    return [(e.data["user_id"], e.data["month"], e.data["change"]) for e in found
            if e.event == "dues:changed"]  # fmt: skip


async def test_payment_waiver_and_lateness_are_room_events() -> None:
    club, (owner, asha, ravi) = await club_with_members(3)
    club_id = str(club.id)
    rules = {"dues_amount": 50_000, "dues_day": 10, "dues_grace_days": 5, "dues_late_fee": 0}
    await club_service.do_change_rules(club_id, owner, rules)
    await eventlog.ensure_room(club_room(club_id))

    # Asha's dues arrive online: contribution:received and dues:changed, in one change.
    contribution = await books_service.do_open_contribution(
        club_id, asha, amount=50_000, method="online", dues_month=MONTH
    )
    head = await eventlog.head(club_room(club_id))
    assert (await books_service.do_apply_payment_event(captured(contribution, TODAY))).applied
    new = await eventlog.since(club_room(club_id), head, 10)
    assert [e.event for e in new] == ["contribution:received", "dues:changed"]
    assert new[1].data["club_id"] == club_id and new[1].seq == new[0].seq + 1
    assert await dues_events(club_id) == [(asha, MONTH, "payment")]

    # The owner is excused; waiving again is refused and tells nobody anything.
    await dues_service.do_waive(club_id, owner, user_id=owner, month=MONTH, reason="hosts")
    with pytest.raises(DuesAlreadySettled):
        await dues_service.do_waive(club_id, owner, user_id=owner, month=MONTH, reason="again")
    assert await dues_events(club_id) == [(asha, MONTH, "payment"), (owner, MONTH, "waived")]

    # After the grace days Ravi's month turns late: told once, however often the sweep runs.
    club_now = await club_service.get(club_id)
    assert club_now is not None
    late_day = late_after(club_now, MONTH) + dt.timedelta(days=1)
    head = await eventlog.head(club_room(club_id))
    await dues_service.do_sweep(today=late_day)
    await dues_service.do_sweep(today=late_day)
    assert await dues_events(club_id, head) == [(ravi, MONTH, "late")]

"""What the treasurer's desk relies on, over HTTP against the running stack (issue #14): a
valuation preview is exactly what confirming records and stores nothing; a recorded valuation
is in the club room's log (members' screens load their units); a manual contribution carries
the member's note to the treasury and notifies them."""

from __future__ import annotations

import datetime as dt
import uuid

from app.realtime import eventlog
from app.realtime.rooms import club_room
from tests.clubs.http import login, pay_online, received
from tests.identity.conftest import Api
from tests.payments.sandbox_client import SandboxClient

TODAY = dt.datetime.now(dt.UTC).date()


def at(day: dt.date) -> str:
    return f"{day.isoformat()}T09:30:00Z"


async def test_a_preview_is_what_confirming_records_and_stores_nothing(
    api: Api, payment_stack: SandboxClient
) -> None:
    alice, bob = await login(api), await login(api)
    club = await alice.ok("POST", "/api/v1/clubs", {"name": "Preview Club"}, status=201)
    club_id = club["id"]
    invite = await alice.ok("POST", f"/api/v1/clubs/{club_id}/invites", {}, status=201)
    await bob.ok("POST", f"/api/v1/invites/{invite['token']}/accept")
    paid = [
        await pay_online(alice, club_id, "5000.00", payment_stack, at(TODAY - dt.timedelta(2))),
        await pay_online(bob, club_id, "3000.00", payment_stack, at(TODAY - dt.timedelta(2))),
    ]
    await received(alice, club_id, paid)
    body = {"valuation_date": TODAY.isoformat(), "prices": {}}

    refused = await bob.call("POST", f"/api/v1/clubs/{club_id}/valuations/preview", body)
    assert (refused.status, refused.code) == (403, "role_required")
    preview = await alice.ok("POST", f"/api/v1/clubs/{club_id}/valuations/preview", body)
    assert preview["id"] == ""
    assert (preview["nav"], preview["unit_value"]) == ("0.00", "10.0000")  # before settlement
    assert (preview["nav_after"], preview["units_after"], preview["unit_value_after"]) == (
        "8000.00", "800.000000", "10.0000")  # fmt: skip
    settles = {s["user_id"]: (s["kind"], s["amount"], s["units"]) for s in preview["settlements"]}
    assert settles == {alice.id: ("contribution", "5000.00", "500.000000"),
                       bob.id: ("contribution", "3000.00", "300.000000")}  # fmt: skip

    # Nothing stayed: no valuation, the money still waits, the room's log did not move.
    head = await eventlog.head(club_room(club_id))
    assert (await alice.ok("GET", f"/api/v1/clubs/{club_id}/valuations"))["valuations"] == []
    listed = await alice.ok("GET", f"/api/v1/clubs/{club_id}/contributions")
    assert {c["status"] for c in listed["contributions"]} == {"received"}
    again = await alice.ok("POST", f"/api/v1/clubs/{club_id}/valuations/preview", body)
    assert again == preview
    assert await eventlog.head(club_room(club_id)) == head

    confirmed = await alice.ok("POST", f"/api/v1/clubs/{club_id}/valuations", body, status=201,
                               key=str(uuid.uuid4()))  # fmt: skip
    assert {**confirmed, "id": ""} == preview

    # The room hears of it (members' screens load their new units from it).
    logged = await eventlog.since(club_room(club_id), head, 10)
    recorded = [e.data for e in logged if e.event == "portfolio:valued"]
    assert len(recorded) == 1
    assert recorded[0]["valuation_id"] == confirmed["id"]
    assert (recorded[0]["unit_value"], recorded[0]["nav_after"], recorded[0]["units_after"]) == (
        "10.0000", "8000.00", "800.000000")  # fmt: skip
    assert sorted(recorded[0]["settled_user_ids"]) == sorted([alice.id, bob.id])


async def test_a_manual_contribution_reaches_the_treasury_with_its_note(api: Api) -> None:
    alice, bob = await login(api), await login(api)
    club = await alice.ok("POST", "/api/v1/clubs", {"name": "Note Club"}, status=201)
    club_id = club["id"]
    invite = await alice.ok("POST", f"/api/v1/clubs/{club_id}/invites", {}, status=201)
    await bob.ok("POST", f"/api/v1/invites/{invite['token']}/accept")
    made = await bob.ok(
        "POST", f"/api/v1/clubs/{club_id}/contributions",
        {"amount": "1200.50", "method": "manual", "note": "NEFT UTR 4411"},
        status=201, key=str(uuid.uuid4()),
    )  # fmt: skip
    assert (made["status"], made["note"]) == ("pending_approval", "NEFT UTR 4411")
    seen = await alice.ok("GET", f"/api/v1/clubs/{club_id}/contributions")
    assert [(c["id"], c["note"]) for c in seen["contributions"]] == [(made["id"], "NEFT UTR 4411")]
    inbox = await alice.ok("GET", "/api/v1/notifications")
    pending = [n for n in inbox["notifications"] if n["kind"] == "contribution_pending"]
    assert len(pending) == 1 and pending[0]["ref_id"] == made["id"]
    assert "₹1,200.50" in pending[0]["body"] and "NEFT UTR 4411" in pending[0]["body"]
    # The member who paid is not told to approve their own money.
    mine = await bob.ok("GET", "/api/v1/notifications")
    assert not [n for n in mine["notifications"] if n["kind"] == "contribution_pending"]

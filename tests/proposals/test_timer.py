"""The worker's Faust timer closes due proposals and reminds members who have not voted,
against the running web server and worker."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.notifications.documents import Notification, NotificationKind
from tests.identity.conftest import Api, eventually
from tests.rooms.conftest import RoomClient, club_of, in_a_minute, person


async def test_the_timer_reminds_non_voters_then_closes_the_due_proposal(
    clients: Any, http: Api
) -> None:
    asha, ravi = await person("asha"), await person("ravi")
    club = await club_of(asha, ravi, currency="USD")  # it votes on a US stock
    a: RoomClient = await clients(asha)
    r: RoomClient = await clients(ravi)
    await a.join(club)
    reply = await http.call("POST", f"/api/v1/clubs/{club.id}/proposals", token=ravi.token, json={
        "kind": "investment", "title": "Buy Microsoft", "side": "buy", "symbol": "MSFT",
        "amount": "25000.00", "deadline": in_a_minute(3)})  # fmt: skip
    assert reply.status == 201, reply.body
    pid = reply.body["id"]
    voted = await http.call("POST", f"/api/v1/proposals/{pid}/votes", token=ravi.token,
                            json={"choice": "yes"})  # fmt: skip
    assert voted.status == 200

    # Half-way through a short vote, the one who has not voted is reminded; the voter is not.
    await a.wait_for(lambda c: any(n["notification"]["kind"] == "proposal_closing_soon"
                                   for n in c.of("notification:new")), timeout=10)  # fmt: skip
    reminders = await Notification.find(
        {"ref_id": pid, "kind": NotificationKind.PROPOSAL_CLOSING_SOON.value}
    ).to_list()
    assert [n.user_id for n in reminders] == [asha.user_id]

    await a.wait_for(lambda c: len(c.of("proposal:closed")) == 1, timeout=10)
    closed = a.of("proposal:closed")[0]["proposal"]
    assert closed["status"] == "approved" and closed["close_reason"] == "deadline"
    assert closed["closed_by"] is None and closed["tally"]["yes_count"] == 1
    deadline = dt.datetime.fromisoformat(closed["deadline"])
    assert dt.datetime.fromisoformat(closed["closed_at"]) >= deadline
    orders = await http.call("GET", f"/api/v1/clubs/{club.id}/orders", token=asha.token)
    assert orders.status == 200
    assert [(o["id"], o["amount"], o["status"]) for o in orders.body["orders"]] == [
        (closed["order_id"], "25000.00", "awaiting_execution")
    ]
    late = await r.call("vote:cast", {"proposal_id": pid, "choice": "no"})
    assert late["error"]["code"] == "voting_closed"
    # Everyone is told the result, and people who opted in get it by e-mail.
    await eventually(lambda: _mailed(http, asha.email, "Proposal approved"))


async def _mailed(http: Api, email: str, subject: str) -> bool:
    return any(subject in m["subject"] for m in await http.outbox(email))

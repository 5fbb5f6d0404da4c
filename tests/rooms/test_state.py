"""The Zulip-style state test: the room's initial state plus the events a client received equals
a fresh fetch of the state, after a scripted burst of chat, edits, deletions, proposals, votes,
vote changes, a cancel and a close from several members at once."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.identity.conftest import Api
from tests.rooms.conftest import RoomClient, club_of, in_a_minute, person

ROOM_EVENTS = ("chat:message", "chat:edited", "chat:deleted", "proposal:created", "vote:tally",
               "proposal:closed", "proposal:cancelled")  # fmt: skip


def apply(state: dict[str, Any], events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """A client's reducer: events in seq order, each applied once, none at or below the
    snapshot's seq."""
    messages = {m["id"]: m for m in state["messages"]}
    proposals = {p["id"]: p for p in state["proposals"]}
    seq = state["seq"]
    for name, data in sorted(events, key=lambda e: e[1]["seq"]):
        if data["seq"] <= seq:
            continue
        assert data["seq"] == seq + 1, f"gap before {name} {data['seq']}"
        seq = data["seq"]
        if name.startswith("chat:"):
            messages[data["message"]["id"]] = data["message"]
        elif name == "vote:tally":
            proposals[data["proposal_id"]]["tally"] = data["tally"]
        else:
            proposals[data["proposal"]["id"]] = data["proposal"]
    return {
        "seq": seq,
        "messages": sorted(messages.values(), key=lambda m: m["seq"])[-50:],
        "proposals": sorted(proposals.values(), key=lambda p: p["created_at"] + p["id"]),
    }


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": state["seq"],
        "messages": state["messages"],
        "proposals": sorted(state["proposals"], key=lambda p: p["created_at"] + p["id"]),
    }


async def test_initial_state_plus_events_equals_a_fresh_fetch(clients: Any, http: Api) -> None:
    asha, ravi, meera = await person("asha"), await person("ravi"), await person("meera")
    club = await club_of(asha, ravi, meera)
    cid = str(club.id)
    # Some history before the watcher arrives.
    early: RoomClient = await clients(ravi)
    await early.call("chat:send", {"club_id": cid, "body": "before anyone watched"})

    watcher: RoomClient = await clients(meera)
    assert (await watcher.join(club))["ok"]  # join first, then fetch: nothing falls between
    initial = await http.call("GET", f"/api/v1/clubs/{cid}/room", token=meera.token)
    assert initial.status == 200

    a: RoomClient = await clients(asha)
    r: RoomClient = early

    async def propose(token: str, title: str) -> str:
        reply = await http.call("POST", f"/api/v1/clubs/{cid}/proposals", token=token, json={
            "kind": "general", "title": title, "deadline": in_a_minute()})  # fmt: skip
        assert reply.status == 201, reply.body
        return str(reply.body["id"])

    async def asha_burst() -> None:
        ids = []
        for n in range(6):
            sent = await a.call("chat:send", {"club_id": cid, "body": f"asha {n}"})
            ids.append(sent["message"]["id"])
        await a.call("chat:edit", {"message_id": ids[1], "body": "asha 1 (edited)"})
        await a.call("chat:delete", {"message_id": ids[2]})

    async def ravi_burst() -> None:
        for n in range(6):
            await r.call("chat:send", {"club_id": cid, "body": f"ravi {n}",
                                       "mentions": [asha.user_id]})  # fmt: skip

    first = await propose(asha.token, "Buy more index funds")
    second = await propose(ravi.token, "Change the meeting day")

    async def votes() -> None:
        await asyncio.gather(
            a.call("vote:cast", {"proposal_id": first, "choice": "yes"}),
            r.call("vote:cast", {"proposal_id": first, "choice": "no"}),
            watcher.call("vote:cast", {"proposal_id": first, "choice": "abstain"}),
            a.call("vote:cast", {"proposal_id": second, "choice": "no"}),
        )
        await r.call("vote:cast", {"proposal_id": first, "choice": "yes"})  # a change of mind

    await asyncio.gather(asha_burst(), ravi_burst(), votes())
    closed = await http.call("POST", f"/api/v1/proposals/{first}/close", token=asha.token)
    assert closed.status == 200 and closed.body["status"] == "approved"
    cancelled = await http.call("POST", f"/api/v1/proposals/{second}/cancel", token=ravi.token,
                                json={"reason": "no longer needed"})  # fmt: skip
    assert cancelled.status == 200 and cancelled.body["status"] == "cancelled"

    fresh = await http.call("GET", f"/api/v1/clubs/{cid}/room", token=meera.token)
    assert fresh.status == 200
    await watcher.wait_for(lambda c: max([e["seq"] for e in c.of(*ROOM_EVENTS)] or [0])
                           >= fresh.body["seq"])  # fmt: skip
    received = [(n, d) for n, d in watcher.events if n in ROOM_EVENTS]
    assert apply(initial.body, received) == comparable(fresh.body)
    assert fresh.body["seq"] > initial.body["seq"] + 20

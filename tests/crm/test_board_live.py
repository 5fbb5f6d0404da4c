"""The live pipeline board over Socket.IO against the running web server: each member of staff
joins the board room the server picks for them (never one they name), sees their own and their
team's leads added, moved, assigned, converted, merged — and nobody else's; a socket that was
away catches up from the last ``seq`` it saw, and what it ends with equals a fresh fetch."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from app.crm.documents import LeadStatus
from app.crm.schemas import ConvertRequest, LeadCreate
from app.crm.service import crm_service
from app.identity.documents import PlatformRole
from app.identity.login import do_login
from tests.conftest import LiveStack
from tests.crm.conftest import Staff, email, staff, team
from tests.rooms.conftest import Person, RoomClient

Connect = Callable[[Staff], Any]


@pytest.fixture
async def board(live_stack: LiveStack) -> AsyncIterator[Connect]:
    """``await board(staff)`` → a connected socket of that member of staff."""
    made: list[RoomClient] = []

    async def connect(who: Staff) -> RoomClient:
        address = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
        pair = await do_login(who.email, who.password, None, address)
        client = await RoomClient(live_stack.url, Person(who.user_id, who.email,
                                                         pair.access_token)).connect()  # fmt: skip
        made.append(client)
        return client

    yield connect
    for client in made:
        await client.close()
    assert [bad for client in made for bad in client.invalid] == []


def cards(client: RoomClient, lead_id: str) -> list[dict[str, Any]]:
    """The ``crm:lead`` events about one lead that reached this socket, in order."""
    return [e for e in client.of("crm:lead") if e["lead"]["id"] == lead_id]


def applied(events: list[dict[str, Any]], start: dict[str, dict[str, Any]] | None = None
            ) -> dict[str, dict[str, Any]]:  # fmt: skip
    """What a board shows after applying ``events`` to ``start``: the newest version of each
    lead, taken off when it is no longer visible (the web client's rule)."""
    shown = dict(start or {})
    seen = {k: v["version"] for k, v in shown.items()}
    for event in events:
        lead = event["lead"]
        if seen.get(lead["id"], -1) > lead["version"]:
            continue
        seen[lead["id"]] = lead["version"]
        if event["visible"]:
            shown[lead["id"]] = lead
        else:
            shown.pop(lead["id"], None)
    return shown


async def test_changes_reach_the_owner_their_manager_and_admins_only(board: Connect) -> None:
    manager, (ana, ben) = await team(2)
    _, (outsider,) = await team(1)
    admin = await staff(PlatformRole.ADMIN)
    sockets = {who.user_id: await board(who) for who in (ana, ben, manager, outsider, admin)}
    rooms = {}
    for who, client in sockets.items():
        joined = await client.call("crm:join", {})
        assert joined["ok"] is True, joined
        rooms[who] = joined["room"]
    assert rooms[ana.user_id] == f"crm:board:{ana.user_id}"
    assert rooms[admin.user_id] == "crm:board:all"
    # Not staff: refused, in no room.
    stranger = await staff(PlatformRole.USER)
    refused = await (await board(stranger)).call("crm:join", {})
    assert (refused["ok"], refused["error"]["code"]) == (False, "forbidden")

    lead, _ = await crm_service.do_create_lead(
        ana.actor, LeadCreate(full_name="Live Lead", email=email())
    )
    lead_id = str(lead.id)
    for who in (ana, manager, admin):
        await sockets[who.user_id].wait_for(lambda c: len(cards(c, lead_id)) == 1)
    created = cards(sockets[ana.user_id], lead_id)[0]
    assert (created["change"], created["visible"], created["lead"]["status"]) == (
        "created", True, "new")  # fmt: skip
    assert created["id"] == f"{rooms[ana.user_id]}:{created['seq']}"

    await crm_service.do_change_status(ana.actor, lead_id, LeadStatus.CONTACTED, None)
    await crm_service.do_put_staff(admin.actor, ben.user_id, manager.user_id, True)
    try:  # active only for this hand-over (active staff take web-form leads in turn)
        await crm_service.do_assign(manager.actor, lead_id, ben.user_id, False)
    finally:
        await crm_service.do_put_staff(admin.actor, ben.user_id, manager.user_id, False)
    for who in (ana, ben, manager, admin):
        await sockets[who.user_id].wait_for(
            lambda c: any(e["change"] == "assigned" for e in cards(c, lead_id))
        )
    # Ana watched it arrive and move, then leave her board; Ben saw it arrive.
    assert [(e["change"], e["visible"]) for e in cards(sockets[ana.user_id], lead_id)] == [
        ("created", True), ("status", True), ("assigned", False)]  # fmt: skip
    assert [(e["change"], e["visible"]) for e in cards(sockets[ben.user_id], lead_id)] == [
        ("assigned", True)]  # fmt: skip
    assert [e["visible"] for e in cards(sockets[manager.user_id], lead_id)] == [True] * 3
    await crm_service.do_change_status(ben.actor, lead_id, LeadStatus.QUALIFIED, None)
    _, client = await crm_service.do_convert(ben.actor, lead_id, ConvertRequest())
    await sockets[ben.user_id].wait_for(
        lambda c: any(e["change"] == "converted" for e in cards(c, lead_id))
    )
    last = cards(sockets[ben.user_id], lead_id)[-1]
    assert (last["lead"]["status"], last["lead"]["client_id"]) == ("converted", str(client.id))
    seqs = [e["seq"] for e in sockets[ben.user_id].of("crm:lead")]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # gap-free in Ben's room
    # The other team never heard of it.
    assert cards(sockets[outsider.user_id], lead_id) == []
    assert sockets[outsider.user_id].of("crm:lead") == []


async def test_a_returning_board_catches_up_and_matches_a_fresh_fetch(board: Connect) -> None:
    manager, (agent,) = await team(1)
    desk = await board(manager)
    joined = await desk.call("crm:join", {})
    assert joined["missed"] == [] and joined["complete"] is True
    first, _ = await crm_service.do_create_lead(agent.actor, LeadCreate(full_name="One Lead",
                                                                        email=email()))  # fmt: skip
    await desk.wait_for(lambda c: len(c.of("crm:lead")) == 1)
    seen = desk.of("crm:lead")[-1]["seq"]
    await desk.close()  # away: three changes happen meanwhile
    two = LeadCreate(full_name="Two Lead", email=email())
    second, _ = await crm_service.do_create_lead(agent.actor, two)
    await crm_service.do_change_status(agent.actor, str(first.id), LeadStatus.LOST, "no money")
    await crm_service.do_merge(agent.actor, str(first.id), str(second.id))

    back = await board(manager)
    again = await back.call("crm:join", {"after_seq": seen})
    assert again["complete"] is True and again["seq"] == seen + 4
    missed = [m["data"] for m in again["missed"]]
    assert [(m["change"], m["lead"]["full_name"]) for m in missed] == [
        ("created", "Two Lead"), ("status", "One Lead"), ("merged", "Two Lead"),
        ("merged", "One Lead")]  # fmt: skip
    board_now = applied(desk.of("crm:lead") + missed)
    items, _ = await crm_service.leads(manager.actor, status=None, source=None, owner_id=None,
                                       text=None, skip=0, limit=500, sort="created")  # fmt: skip
    fresh = {str(lead.id): lead for lead in items}
    assert set(board_now) == set(fresh) == {str(first.id)}
    assert board_now[str(first.id)]["version"] == fresh[str(first.id)].version
    assert board_now[str(first.id)]["status"] == "lost"
    # Asking from further back than the log keeps is answered, flagged incomplete, never a gap.
    stale = await back.call("crm:join", {"after_seq": 0})
    assert stale["complete"] is (len(stale["missed"]) == stale["seq"])
    bad = await back.call("crm:join", {"after_seq": -1})
    assert (bad["ok"], bad["error"]["code"]) == (False, "validation_error")

"""Open client pages and the reminders screen follow other people's changes through the board
rooms' logs: every change to a client (profile, status, manager, activity, follow-up, KYC
document, erasure) is a ``crm:client`` room event with its gap-free ``seq`` in the rooms of
everyone whose book holds the client (no personal data in it), and a follow-up falling due is
a logged ``crm:reminder`` in its assignee's rooms — replayed by ``crm:join`` after the last
``seq`` a screen applied."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.crm import board
from app.crm.documents import ActivityKind, ClientStatus
from app.crm.schemas import ClientCreate, ClientPatch, LeadCreate, ReminderCreate
from app.crm.service import REMINDER_EVENT, crm_service
from app.identity.documents import PlatformRole
from app.realtime import eventlog
from tests.crm.conftest import email, staff, team

pytestmark = pytest.mark.usefixtures("services")


async def told(room: str, after: int, event: str = board.CLIENT_EVENT) -> list[dict[str, Any]]:
    """The ``event`` payloads logged in ``room`` after ``after``, oldest first."""
    return [e.data for e in await eventlog.since(room, after, 500) if e.event == event]


async def test_every_change_to_a_client_is_logged_in_the_rooms_of_its_book() -> None:
    manager, (agent, other) = await team(2)
    _, (outsider,) = await team(1)
    made, _ = await crm_service.do_create_client(
        agent.actor, ClientCreate(full_name="Meera Live", email=email("meera"))
    )
    client_id = str(made.id)
    rooms = {who.user_id: board.viewer_room(who.user_id)
             for who in (agent, other, manager, outsider)}  # fmt: skip
    heads = {who: await eventlog.head(room) for who, room in rooms.items()}
    admin_head = await eventlog.head(board.ALL_ROOM)

    await crm_service.do_update_client(manager.actor, client_id, ClientPatch(
        city="Pune", status=ClientStatus.INACTIVE))  # fmt: skip
    await crm_service.do_log_client_activity(agent.actor, client_id, ActivityKind.CALL, "rang")
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    await crm_service.do_create_reminder(agent.actor, ReminderCreate(
        client_id=client_id, text="send the form", due_at=due))  # fmt: skip
    await crm_service.do_put_staff(manager.actor, other.user_id, manager.user_id, True)
    try:  # the client's manager changes: it leaves the agent's book for the other agent's
        await crm_service.do_update_client(manager.actor, client_id, ClientPatch(
            owner_id=other.user_id))  # fmt: skip
    finally:
        await crm_service.do_put_staff(manager.actor, other.user_id, manager.user_id, False)

    mine = await told(rooms[agent.user_id], heads[agent.user_id])
    assert [(e["change"], e["visible"]) for e in mine] == [
        ("updated", True),
        ("activity", True),
        ("reminder", True),
        ("updated", False),
    ]
    assert {e["client_id"] for e in mine} == {client_id}
    for event in mine:  # a logged event like any other: its id is the room and its seq
        assert event["id"] == f"{rooms[agent.user_id]}:{event['seq']}"
        assert "Meera" not in str(event) and "@" not in str(event)  # ids only, never PII
    seqs = [e.seq for e in await eventlog.since(rooms[agent.user_id], heads[agent.user_id], 500)]
    assert seqs == list(
        range(heads[agent.user_id] + 1, heads[agent.user_id] + 1 + len(seqs))
    )  # gap-free
    theirs = await told(rooms[other.user_id], heads[other.user_id])
    assert [(e["change"], e["visible"], e["owner_id"]) for e in theirs] == [
        ("updated", True, other.user_id)
    ]  # it arrived in the other agent's book
    assert [e["change"] for e in await told(rooms[manager.user_id], heads[manager.user_id])] == [
        "updated",
        "activity",
        "reminder",
        "updated",
    ]
    assert [
        e["change"] for e in await told(board.ALL_ROOM, admin_head) if e["client_id"] == client_id
    ] == ["updated", "activity", "reminder", "updated"]
    assert await told(rooms[outsider.user_id], heads[outsider.user_id]) == []
    # A page that was away comes back with the last seq it applied and gets them in order.
    back = await crm_service.board_join(agent.actor, heads[agent.user_id])
    assert back["complete"] is True
    assert [m["data"] for m in back["missed"] if m["event"] == board.CLIENT_EVENT] == mine

    # The erasure is told too, once the account's fate is settled.
    admin = await staff(PlatformRole.ADMIN)
    head = await eventlog.head(rooms[other.user_id])
    await crm_service.do_erase(admin.actor, made.lead_id)
    assert [e["change"] for e in await told(rooms[other.user_id], head)] == ["erased"]


async def test_a_reminder_falling_due_is_logged_with_its_seq_and_replayed() -> None:
    manager, (agent,) = await team(1)
    lead, _ = await crm_service.do_create_lead(agent.actor, LeadCreate(
        full_name="Due Soon", email=email("due")))  # fmt: skip
    due = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)  # the session's worker leaves it
    reminder = await crm_service.do_create_reminder(agent.actor, ReminderCreate(
        lead_id=str(lead.id), text="ring about the SIP", due_at=due))  # fmt: skip
    room = board.viewer_room(agent.user_id)
    seen = await eventlog.head(room)  # what the agent's screen had applied before it went away

    assert await crm_service.do_fire_due_reminders(due + dt.timedelta(minutes=1)) >= 1
    fired = [e for e in await eventlog.since(room, seen, 500) if e.event == REMINDER_EVENT]
    assert len(fired) == 1
    data = fired[0].data
    assert (data["reminder"]["id"], data["reminder"]["status"]) == (str(reminder.id), "sent")
    assert data["reminder"]["assignee_id"] == agent.user_id
    assert data["seq"] == fired[0].seq and data["id"] == f"{room}:{fired[0].seq}"
    # The manager's and the admins' boards log it too (their reminders screens filter by
    # assignee); another sweep logs nothing more.
    assert any(
        e.event == REMINDER_EVENT and e.data["reminder"]["id"] == str(reminder.id)
        for e in await eventlog.since(board.viewer_room(manager.user_id), 0, 500)
    )
    await crm_service.do_fire_due_reminders(due + dt.timedelta(minutes=2))
    again = [e for e in await eventlog.since(room, seen, 500) if e.event == REMINDER_EVENT]
    assert len(again) == 1
    # A screen coming back with the last seq it applied gets it in its catch-up.
    joined = await crm_service.board_join(agent.actor, seen)
    replayed = [m["data"] for m in joined["missed"] if m["event"] == REMINDER_EVENT]
    assert [m["reminder"]["id"] for m in replayed] == [str(reminder.id)]
    assert joined["complete"] is True

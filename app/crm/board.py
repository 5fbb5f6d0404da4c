"""The live pipeline board: who sees a lead's change, and the room events that carry it.

Every person on the board has one room of their own, named for them and never chosen by the
client (``crm:board:<user_id>``): the lead's owner and the owner's manager; admins share
``crm:board:all``. A change to a lead is recorded, in the changing transaction, in the room of
everyone who saw it before or sees it after (an assignment from A to B tells A and A's manager
it left, B and B's manager it arrived), with ``visible`` saying whether it belongs on that
room's board now. Each room's log is gap-free, so a reconnecting board asks for what it
missed after the last ``seq`` it applied (``CrmService.board_join``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pymongo.asynchronous.client_session import AsyncClientSession

from app.crm import people, repository
from app.crm.documents import Client, Lead, LeadStatus
from app.crm.schemas import BoardChange, ClientChange, CrmClientEvent, CrmLeadEvent, LeadOut
from app.realtime import events

BOARD_EVENT = "crm:lead"
CLIENT_EVENT = "crm:client"
ALL_ROOM = "crm:board:all"


def viewer_room(user_id: str) -> str:
    """The board room of one member of staff: ``crm:board:<user_id>``."""
    return f"crm:board:{user_id}"


@dataclass(frozen=True, slots=True)
class Audience:
    """The rooms a change is recorded in, and each owner's manager (to tell visibility)."""

    rooms: tuple[str, ...]
    managers: dict[str, str | None] = field(default_factory=dict)

    def sees(self, room: str, lead: Lead) -> bool:
        """Whether ``lead`` (as it is after the change) belongs on ``room``'s board: live (not
        merged away) and owned by the room's viewer or a member of their team; admins see
        every live lead."""
        if lead.status is LeadStatus.MERGED:
            return False
        if room == ALL_ROOM:
            return True
        return self.sees_owner(room, lead.owner_id)

    def sees_owner(self, room: str, owner: str | None) -> bool:
        """Whether a record owned by ``owner`` is in ``room``'s viewer's book: theirs or their
        team's; admins (``crm:board:all``) see everything."""
        if room == ALL_ROOM:
            return True
        if owner is None:
            return False
        return room in (viewer_room(owner), viewer_room(self.managers.get(owner) or ""))


async def audience(owners: Iterable[str | None]) -> Audience:
    """The rooms of everyone who sees leads of ``owners`` (before or after a change): each
    owner, their manager, the admins. Creates the rooms' log counters (call it before the
    transaction that records the events)."""
    managers: dict[str, str | None] = {}
    rooms = {ALL_ROOM}
    for owner in sorted({o for o in owners if o}):
        member = await repository.staff(owner)
        managers[owner] = member.manager_id if member else None
        rooms.add(viewer_room(owner))
        if managers[owner]:
            rooms.add(viewer_room(str(managers[owner])))
    for room in sorted(rooms):
        await events.ensure_room(room)
    return Audience(tuple(sorted(rooms)), managers)


async def record(
    session: AsyncClientSession, who: Audience, leads: list[Lead], change: BoardChange
) -> None:
    """Record ``change`` of each lead (as stored after it) in every room of ``who``, inside
    the caller's transaction; sent after the commit (app/realtime/events.py)."""
    names = await people.names(sorted({lead.owner_id for lead in leads if lead.owner_id}))
    for lead in leads:
        shown = LeadOut.of(lead, owner_name=names.get(lead.owner_id or ""))
        for room in who.rooms:
            await events.room_event(
                session, room, BOARD_EVENT, CrmLeadEvent, change=change, lead=shown,
                visible=who.sees(room, lead),
            )  # fmt: skip


async def record_client(
    session: AsyncClientSession, who: Audience, client: Client, change: ClientChange
) -> None:
    """Record ``change`` of ``client`` (as stored after it) in every room of ``who`` (the
    audience of its manager before and after), inside the caller's transaction; open client
    pages reload it. Ids only: the log never holds the person's data."""
    for room in who.rooms:
        await events.room_event(
            session, room, CLIENT_EVENT, CrmClientEvent, change=change,
            client_id=str(client.id), lead_id=client.lead_id, owner_id=client.owner_id,
            visible=who.sees_owner(room, client.owner_id),
        )  # fmt: skip

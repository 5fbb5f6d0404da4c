"""Broadcasts: stored (and audited) first, then delivered live; listed for admins and for the
people they were sent to."""

from __future__ import annotations

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from app.audit.service import PLATFORM_CHAIN, audit_service
from app.broadcasts import repository
from app.broadcasts.documents import Audience, Broadcast, Severity
from app.broadcasts.schemas import BroadcastEvent, BroadcastOut
from app.clubs.errors import ClubNotFound
from app.clubs.service import club_service
from app.db import run_in_transaction
from app.realtime import events
from app.realtime.rooms import BROADCASTS_ROOM, person_room

BROADCAST_MESSAGE = "broadcast:message"


class BroadcastService:
    async def do_send(
        self, actor_id: str, *, audience: Audience, club_id: str | None, title: str, body: str,
        severity: Severity,
    ) -> Broadcast:  # fmt: skip
        """Store, audit and log a broadcast in one transaction: ``broadcast:message`` in the log
        of broadcasts to everyone (``broadcasts:all``), or in each active member's own log
        (``person:<id>``) for one club, so a screen that was away replays it on its next
        ``feed:join``. Raises ``ClubNotFound`` for an unknown club."""
        members: list[str] = []
        if audience is Audience.CLUB:
            assert club_id is not None
            if await club_service.get(club_id) is None:
                raise ClubNotFound("no such club")
            members = [m.user_id for m in await club_service.active_members(club_id)]
        rooms = [BROADCASTS_ROOM] if audience is Audience.EVERYONE else [
            person_room(user_id) for user_id in sorted(set(members))
        ]  # fmt: skip
        for room in rooms:  # the logs' counters, before the transaction
            await events.ensure_room(room)

        async def do(session: AsyncClientSession) -> Broadcast:
            broadcast = Broadcast(
                id=PydanticObjectId(), audience=audience, club_id=club_id, title=title.strip(),
                body=body.strip(), severity=severity, sent_by=actor_id, recipients=len(members),
            )  # fmt: skip
            await repository.insert(broadcast, session)
            await audit_service.do_append(
                chain=PLATFORM_CHAIN, actor_id=actor_id, action="broadcast.sent",
                target_type="broadcast", target_id=str(broadcast.id),
                details={"audience": audience.value, "club_id": club_id, "title": title,
                         "severity": severity.value, "recipients": len(members)},
                session=session,
            )  # fmt: skip
            shown = BroadcastOut.of(broadcast)
            for room in rooms:  # logged with the broadcast; sent once it commits
                await events.room_event(session, room, BROADCAST_MESSAGE, BroadcastEvent,
                                        broadcast=shown)  # fmt: skip
            return broadcast

        return await run_in_transaction(do)

    async def list_all(self, limit: int) -> list[Broadcast]:
        """Every broadcast, newest first (the admin console)."""
        return await repository.latest(None, limit)

    async def list_for(self, user_id: str, limit: int) -> list[Broadcast]:
        """Broadcasts to everyone and to the clubs the person belongs to, newest first."""
        clubs = [str(c.id) for c, _ in await club_service.clubs_of(user_id)]
        return await repository.latest(clubs, limit)


broadcast_service = BroadcastService()

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
from app.realtime.eventlog import iso
from app.realtime.rooms import ACCOUNTS_ROOM, user_room

BROADCAST_MESSAGE = "broadcast:message"


class BroadcastService:
    async def do_send(
        self, actor_id: str, *, audience: Audience, club_id: str | None, title: str, body: str,
        severity: Severity,
    ) -> Broadcast:  # fmt: skip
        """Store, audit and deliver a broadcast. Raises ``ClubNotFound`` for an unknown club."""
        members: list[str] = []
        if audience is Audience.CLUB:
            assert club_id is not None
            if await club_service.get(club_id) is None:
                raise ClubNotFound("no such club")
            members = [m.user_id for m in await club_service.active_members(club_id)]

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
            event = BroadcastEvent(
                id=f"broadcast:{broadcast.id}", ts=iso(broadcast.created_at),
                broadcast=BroadcastOut.of(broadcast),
            )  # fmt: skip
            rooms = [ACCOUNTS_ROOM] if audience is Audience.EVERYONE else [
                user_room(user_id) for user_id in members
            ]  # fmt: skip
            for room in rooms:  # sent once the broadcast is stored
                await events.send(room, BROADCAST_MESSAGE, event)
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

"""Broadcasts: stored (and audited) first, then delivered live; listed for admins and for the
people they were sent to."""

from __future__ import annotations

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from app.audit.service import PLATFORM_CHAIN, audit_service
from app.broadcasts.documents import Audience, Broadcast, Severity
from app.broadcasts.schemas import BroadcastEvent, BroadcastOut
from app.clubs import repository as clubs_repository
from app.clubs.errors import ClubNotFound
from app.db import run_in_transaction
from app.realtime import publish
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
            if await clubs_repository.get_club(club_id) is None:
                raise ClubNotFound("no such club")
            members = [m.user_id for m in await clubs_repository.active_memberships(club_id)]

        async def do(session: AsyncClientSession) -> Broadcast:
            broadcast = Broadcast(
                id=PydanticObjectId(), audience=audience, club_id=club_id, title=title.strip(),
                body=body.strip(), severity=severity, sent_by=actor_id, recipients=len(members),
            )  # fmt: skip
            await broadcast.insert(session=session)
            await audit_service.do_append(
                chain=PLATFORM_CHAIN, actor_id=actor_id, action="broadcast.sent",
                target_type="broadcast", target_id=str(broadcast.id),
                details={"audience": audience.value, "club_id": club_id, "title": title,
                         "severity": severity.value, "recipients": len(members)},
                session=session,
            )  # fmt: skip
            return broadcast

        broadcast = await run_in_transaction(do)
        event = BroadcastEvent(
            id=f"broadcast:{broadcast.id}",
            ts=iso(broadcast.created_at),
            broadcast=BroadcastOut.of(broadcast),
        ).model_dump(mode="json")
        if audience is Audience.EVERYONE:
            await publish.emit(BROADCAST_MESSAGE, event, ACCOUNTS_ROOM)
        else:
            for user_id in members:
                await publish.emit(BROADCAST_MESSAGE, event, user_room(user_id))
        return broadcast

    async def list_all(self, limit: int) -> list[Broadcast]:
        """Every broadcast, newest first (the admin console)."""
        return await Broadcast.find({}).sort("-created_at").limit(limit).to_list()

    async def list_for(self, user_id: str, limit: int) -> list[Broadcast]:
        """Broadcasts to everyone and to the clubs the person belongs to, newest first."""
        clubs = [str(c.id) for c, _ in await clubs_repository.clubs_of_user(user_id)]
        query = {"$or": [{"audience": Audience.EVERYONE.value}, {"club_id": {"$in": clubs}}]}
        return await Broadcast.find(query).sort("-created_at").limit(limit).to_list()


broadcast_service = BroadcastService()

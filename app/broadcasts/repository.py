"""Every MongoDB query of the broadcasts domain."""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession

from app.broadcasts.documents import Audience, Broadcast


async def insert(broadcast: Broadcast, session: AsyncClientSession | None) -> Broadcast:
    await broadcast.insert(session=session)
    return broadcast


async def latest(club_ids: list[str] | None, limit: int) -> list[Broadcast]:
    """Newest first: every broadcast (``club_ids`` None), or those to everyone and to the
    given clubs."""
    query: dict[str, object] = {}
    if club_ids is not None:
        query = {"$or": [{"audience": Audience.EVERYONE.value}, {"club_id": {"$in": club_ids}}]}
    return await Broadcast.find(query).sort("-created_at").limit(limit).to_list()

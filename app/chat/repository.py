"""Every MongoDB query of the chat domain."""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession

from app.chat.documents import ChatMessage
from app.db import object_id


async def get(message_id: str, session: AsyncClientSession | None = None) -> ChatMessage | None:
    oid = object_id(message_id)
    return None if oid is None else await ChatMessage.get(oid, session=session)


async def by_client_id(club_id: str, author_id: str, client_id: str) -> ChatMessage | None:
    return await ChatMessage.find_one(
        {"club_id": club_id, "author_id": author_id, "client_id": client_id}
    )


async def insert(message: ChatMessage, session: AsyncClientSession) -> None:
    await message.insert(session=session)


async def set_fields(
    message: ChatMessage, fields: dict[str, object], session: AsyncClientSession
) -> None:
    await ChatMessage.get_pymongo_collection().update_one(
        {"_id": message.id}, {"$set": fields}, session=session
    )


async def history(
    club_id: str, before: int | None, limit: int, session: AsyncClientSession | None = None
) -> list[ChatMessage]:
    """Newest first, ``seq`` below ``before``."""
    query: dict[str, object] = {"club_id": club_id}
    if before is not None:
        query["seq"] = {"$lt": before}
    return await ChatMessage.find(query, session=session).sort("-seq").limit(limit).to_list()

"""Every MongoDB query of the files domain (the records of stored files)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from app.db import object_id
from app.files.documents import StoredFile


async def insert(record: StoredFile) -> StoredFile:
    await record.insert()
    return record


async def get(file_id: str) -> StoredFile | None:
    """The record, or None (also for an id that is not an ObjectId)."""
    oid = object_id(file_id)
    return None if oid is None else await StoredFile.get(oid)


async def attach(file_id: str, fields: dict[str, Any], session: AsyncClientSession | None) -> bool:
    """Set ``fields`` on a file not attached to anything yet; False if it already is."""
    result = await StoredFile.get_pymongo_collection().update_one(
        {"_id": object_id(file_id), "attached_id": None}, {"$set": fields}, session=session
    )
    return result.modified_count == 1

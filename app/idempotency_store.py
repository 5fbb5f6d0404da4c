"""Stored outcomes of requests sent with an ``Idempotency-Key`` (the HTTP decorator lives in
app/idempotency.py; this module is what entry points register and what it queries)."""

from __future__ import annotations

import datetime as dt

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

TTL_SECONDS = 24 * 3600


class IdempotencyRecord(Document):
    """The stored outcome of one keyed request."""

    scope: str
    key: str
    request_hash: str
    done: bool = False
    status: int | None = None
    body: str | None = None
    content_type: str | None = None
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))

    class Settings:
        name = "idempotency_records"
        indexes = [  # noqa: RUF012  (Beanie reads it as a class attribute)
            IndexModel([("scope", ASCENDING), ("key", ASCENDING)], unique=True, name="scope_key"),
            IndexModel([("created_at", ASCENDING)], expireAfterSeconds=TTL_SECONDS, name="ttl"),
        ]


async def claim(record: IdempotencyRecord) -> bool:
    """Store a new, unfinished record; False when its (scope, key) exists already."""
    try:
        await record.insert()
    except DuplicateKeyError:
        return False
    return True


async def finish(
    record: IdempotencyRecord, status: int, body: str, content_type: str | None
) -> None:
    """Keep the answer the first request got, to replay it."""
    await IdempotencyRecord.get_pymongo_collection().update_one(
        {"_id": record.id},
        {"$set": {"done": True, "status": status, "body": body, "content_type": content_type}},
    )


async def find(scope: str, key: str) -> IdempotencyRecord | None:
    return await IdempotencyRecord.find_one({"scope": scope, "key": key})


async def forget(record: IdempotencyRecord) -> None:
    """Drop the record (the request failed on the server's side: the client may retry)."""
    await record.delete()

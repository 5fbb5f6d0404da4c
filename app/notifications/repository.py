"""Every MongoDB query of the notifications domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from app.notifications.documents import EmailStatus, Notification, NotificationSettings


def _oids(ids: list[str]) -> list[PydanticObjectId]:
    out = []
    for value in ids:
        try:
            out.append(PydanticObjectId(value))
        except Exception:  # noqa: S112 - an id that is not an ObjectId matches nothing
            continue
    return out


async def settings_of(user_ids: list[str]) -> dict[str, NotificationSettings]:
    found = await NotificationSettings.find({"_id": {"$in": user_ids}}).to_list()
    return {s.id: s for s in found}


async def save_settings(settings: NotificationSettings) -> None:
    await NotificationSettings.get_pymongo_collection().replace_one(
        {"_id": settings.id}, settings.model_dump(by_alias=True), upsert=True
    )


async def dedupe_keys_taken(keys: list[str], session: AsyncClientSession) -> set[str]:
    found = (
        await Notification.get_pymongo_collection()
        .find({"dedupe_key": {"$in": keys}}, {"dedupe_key": 1}, session=session)
        .to_list()
    )
    return {str(d["dedupe_key"]) for d in found}


async def insert(notification: Notification, session: AsyncClientSession) -> None:
    await notification.insert(session=session)


async def page(
    user_id: str, *, unread: bool, before: int | None, after_seq: int | None, limit: int
) -> list[Notification]:
    query: dict[str, object] = {"user_id": user_id}
    if unread:
        query["read_at"] = None
    if after_seq is not None:
        query["seq"] = {"$gt": after_seq}
        return await Notification.find(query).sort("+seq").limit(limit).to_list()
    if before is not None:
        query["seq"] = {"$lt": before}
    return await Notification.find(query).sort("-seq").limit(limit).to_list()


async def unread_count(user_id: str) -> int:
    return await Notification.find({"user_id": user_id, "read_at": None}).count()


async def mark_read(
    user_id: str, *, ids: list[str] | None, up_to_seq: int | None, now: dt.datetime
) -> list[str]:
    """Mark unread ones read; return the ids that changed."""
    query: dict[str, object] = {"user_id": user_id, "read_at": None}
    if ids is not None:
        query["_id"] = {"$in": _oids(ids)}
    if up_to_seq is not None:
        query["seq"] = {"$lte": up_to_seq}
    collection = Notification.get_pymongo_collection()
    changed = [d["_id"] for d in await collection.find(query, {"_id": 1}).to_list()]
    if changed:
        await collection.update_many(
            {"_id": {"$in": changed}, "read_at": None}, {"$set": {"read_at": now}}
        )
    return [str(c) for c in changed]


async def claim_email(now: dt.datetime, stale_before: dt.datetime) -> Notification | None:
    """Take one notification whose e-mail is due (pending, or stuck ``sending`` since before
    ``stale_before`` — its worker died) and mark it ``sending``; None when there is none."""
    document = await Notification.get_pymongo_collection().find_one_and_update(
        {"$or": [
            {"email_status": EmailStatus.PENDING.value},
            {"email_status": EmailStatus.SENDING.value, "email_claimed_at": {"$lt": stale_before}},
        ]},
        {"$set": {"email_status": EmailStatus.SENDING.value, "email_claimed_at": now},
         "$inc": {"email_attempts": 1}},
        sort=[("created_at", 1)],
        return_document=ReturnDocument.AFTER,
    )  # fmt: skip
    return None if document is None else Notification.model_validate(document)


async def finish_email(notification_id: PydanticObjectId | None, status: EmailStatus) -> None:
    await Notification.get_pymongo_collection().update_one(
        {"_id": notification_id, "email_status": EmailStatus.SENDING.value},
        {"$set": {"email_status": status.value}},
    )


async def redact(query: dict[str, Any], title: str) -> int:
    """Give the notifications matching ``query`` the title ``title`` and an empty body (their
    ids, kinds, times and read marks stay); returns how many changed."""
    result = await Notification.get_pymongo_collection().update_many(
        query, {"$set": {"title": title, "body": ""}}
    )
    return result.modified_count

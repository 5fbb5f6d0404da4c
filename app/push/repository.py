"""Every query of the push domain (MongoDB)."""

from __future__ import annotations

import datetime as dt

from app.push.documents import PushSubscription


async def upsert(subscription: PushSubscription) -> PushSubscription:
    """Store ``subscription``, replacing the one of the same endpoint (a browser
    re-subscribing, possibly signed in as someone else now)."""
    collection = PushSubscription.get_pymongo_collection()
    fields = subscription.model_dump(exclude={"id", "revision_id"})
    await collection.update_one({"endpoint": subscription.endpoint}, {"$set": fields}, upsert=True)
    stored = await PushSubscription.find_one(PushSubscription.endpoint == subscription.endpoint)
    assert stored is not None
    return stored


async def of_user(user_id: str) -> list[PushSubscription]:
    """The person's subscriptions, oldest first."""
    return (
        await PushSubscription.find(PushSubscription.user_id == user_id)
        .sort("created_at")
        .to_list()
    )


async def for_kind(user_id: str, kind: str) -> list[PushSubscription]:
    """The person's subscriptions that want ``kind``."""
    return await PushSubscription.find({"user_id": user_id, "kinds": kind}).to_list()


async def delete(user_id: str | None, endpoint: str) -> bool:
    """Remove the subscription of ``endpoint`` (only if it is ``user_id``'s, when given)."""
    query: dict[str, str] = {"endpoint": endpoint}
    if user_id is not None:
        query["user_id"] = user_id
    result = await PushSubscription.get_pymongo_collection().delete_one(query)
    return result.deleted_count == 1


async def mark_pushed(endpoint: str, at: dt.datetime) -> None:
    """Record the time of the last accepted push."""
    await PushSubscription.get_pymongo_collection().update_one(
        {"endpoint": endpoint}, {"$set": {"last_pushed_at": at}}
    )

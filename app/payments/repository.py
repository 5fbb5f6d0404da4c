"""Every query of the payments domain (MongoDB): orders, provider events, the outcome outbox,
and the security events of refused webhooks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.payments.documents import PaymentOrder, PaymentOutcome, ProviderEvent

SECURITY_EVENTS = "payment_security_events"
WEBHOOK_SIGNATURE_INVALID = "payment_webhook_invalid_signature"


async def find_order(provider: str, order_id: str) -> PaymentOrder | None:
    """The order ``order_id`` we created at ``provider``, if any."""
    return await PaymentOrder.find_one({"provider": provider, "order_id": order_id})


async def find_order_for_contribution(provider: str, contribution_id: str) -> PaymentOrder | None:
    """The checkout order of ``contribution_id`` at ``provider``, if one was created."""
    return await PaymentOrder.find_one({"provider": provider, "contribution_id": contribution_id})


async def insert_order(order: PaymentOrder) -> PaymentOrder:
    """Store ``order``; if the contribution already has one at this provider (a concurrent
    checkout won the unique index), return that one instead."""
    try:
        await order.insert()
    except DuplicateKeyError:
        existing = await find_order_for_contribution(order.provider, order.contribution_id)
        if existing is None:  # the (provider, order_id) index fired: the provider reused an id
            raise
        return existing
    return order


async def insert_provider_event(event: ProviderEvent) -> bool:
    """Store a verified event once per (provider, event id). Returns ``True`` the first time;
    on a re-delivery counts it (``deliveries``, ``last_received_at``) and returns ``False``."""
    try:
        await event.insert()
    except DuplicateKeyError:
        await ProviderEvent.get_pymongo_collection().update_one(
            {"provider": event.provider, "event_id": event.event_id},
            {"$inc": {"deliveries": 1}, "$set": {"last_received_at": event.received_at}},
        )
        return False
    return True


async def find_provider_event(provider: str, event_id: str) -> ProviderEvent | None:
    """The stored event ``event_id`` of ``provider``, if received."""
    return await ProviderEvent.find_one({"provider": provider, "event_id": event_id})


async def set_event_result(
    provider: str, event_id: str, outcome_id: str | None, ignored_reason: str | None
) -> None:
    """Record what a stored event led to: an outcome's ``record_id``, or why it was ignored."""
    await ProviderEvent.get_pymongo_collection().update_one(
        {"provider": provider, "event_id": event_id},
        {"$set": {"outcome_id": outcome_id, "ignored_reason": ignored_reason}},
    )


async def insert_outcome_if_absent(outcome: PaymentOutcome) -> PaymentOutcome:
    """Store ``outcome`` unless this (provider, payment, kind) already has one; return the
    stored outcome either way (the earlier one wins, with its ``record_id``)."""
    try:
        await outcome.insert()
    except DuplicateKeyError:
        existing = await PaymentOutcome.find_one(
            {"provider": outcome.provider, "payment_id": outcome.payment_id, "kind": outcome.kind}
        )
        if existing is None:  # record_id collided with another payment's: a provider bug
            raise
        return existing
    return outcome


async def insert_outcome(outcome: PaymentOutcome, session: AsyncClientSession) -> None:
    """Store ``outcome`` inside the caller's transaction (a duplicate aborts it)."""
    await outcome.insert(session=session)


async def get_outcome(record_id: str) -> PaymentOutcome | None:
    """The outcome published (or to be published) as ``record_id``."""
    return await PaymentOutcome.find_one({"record_id": record_id})


async def claim_outcome(
    record_id: str, token: str, now: dt.datetime, lease: dt.timedelta
) -> PaymentOutcome | None:
    """Take the right to publish a pending outcome until ``now + lease``.

    Succeeds only when the outcome is pending and unclaimed or its claim expired (a publisher
    that died). Returns the claimed outcome, or ``None`` when it is published or another
    publisher's claim is live. One atomic ``find_one_and_update`` (AFTER, docs/local-services.md).
    """
    raw = await PaymentOutcome.get_pymongo_collection().find_one_and_update(
        {
            "record_id": record_id,
            "status": "pending",
            "$or": [{"claimed_until": None}, {"claimed_until": {"$lte": now}}],
        },
        {
            "$set": {"claim_token": token, "claimed_until": now + lease},
            "$inc": {"publish_attempts": 1},
        },
        return_document=ReturnDocument.AFTER,
    )
    return PaymentOutcome.model_validate(raw) if raw is not None else None


async def mark_published(record_id: str, token: str, now: dt.datetime) -> bool:
    """Mark the outcome published if ``token`` still holds its claim; ``False`` if the claim
    was lost (expired and taken over — the record then went out twice, which consumers absorb
    by ``PaymentEventV1.id``)."""
    result = await PaymentOutcome.get_pymongo_collection().update_one(
        {"record_id": record_id, "claim_token": token, "status": "pending"},
        {"$set": {"status": "published", "published_at": now, "claimed_until": None}},
    )
    return result.modified_count == 1


async def release_claim(record_id: str, token: str) -> None:
    """Give up a claim after a failed send, so the next delivery may publish at once."""
    await PaymentOutcome.get_pymongo_collection().update_one(
        {"record_id": record_id, "claim_token": token, "status": "pending"},
        {"$set": {"claimed_until": None}},
    )


async def pending_outcome_ids(created_before: dt.datetime, limit: int) -> list[str]:
    """Record ids of outcomes still pending that were stored before ``created_before``."""
    cursor = (
        PaymentOutcome.get_pymongo_collection()
        .find(
            {"status": "pending", "created_at": {"$lt": created_before}},
            {"record_id": 1},
        )
        .sort("created_at", 1)
        .limit(limit)
    )
    return [row["record_id"] async for row in cursor]


async def pending_outcome_backlog() -> tuple[int, dt.datetime | None]:
    """How many outcomes are pending, and when the oldest of them was stored (``None``: none)."""
    collection = PaymentOutcome.get_pymongo_collection()
    count = await collection.count_documents({"status": "pending"})
    oldest = await collection.find_one(
        {"status": "pending"}, {"created_at": 1}, sort=[("created_at", 1)]
    )
    return count, (oldest["created_at"] if oldest else None)


async def record_security_event(
    kind: str, *, at: dt.datetime, ip: str | None, details: dict[str, Any]
) -> None:
    """Append a security event in the shape of ``app.identity.documents.SecurityEvent``
    (``kind``, ``user_id``, ``email``, ``at``, ``ip``, ``details``) to
    ``payment_security_events``; nothing of the body beyond its digest and size is kept.

    Not identity's ``security_events`` yet: its ``SecurityEventKind`` enum has no payments
    kind, so a record there would break the admin listing that reads them back. Once that
    kind exists this becomes ``identity.repository.add_security_event``.
    """
    database = ProviderEvent.get_pymongo_collection().database
    await database[SECURITY_EVENTS].insert_one(
        {"kind": kind, "user_id": None, "email": None, "at": at, "ip": ip, "details": details}
    )

"""Every query of the SMS domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.sms.documents import MobileNumber, SmsMessage, SmsStatus

Session = AsyncClientSession | None


async def number_of(user_id: str) -> MobileNumber | None:
    """``user_id``'s mobile number, verified or not."""
    return await MobileNumber.find_one({"user_id": user_id})


async def verified_numbers(user_ids: list[str], session: Session = None) -> dict[str, str]:
    """user id → verified E.164 number, for those of ``user_ids`` that have one."""
    found = await MobileNumber.find(
        {"user_id": {"$in": user_ids}, "verified_at": {"$ne": None}}, session=session
    ).to_list()
    return {n.user_id: n.e164 for n in found}


async def set_code(
    user_id: str, e164: str, code_hash: str, expires_at: dt.datetime, now: dt.datetime
) -> None:
    """Start (or restart) verifying ``e164`` for ``user_id``: a changed number is unverified."""
    current = await number_of(user_id)
    changes: dict[str, Any] = {"e164": e164, "code_hash": code_hash, "attempts": 0,
                               "code_expires_at": expires_at, "updated_at": now}  # fmt: skip
    if current is None or current.e164 != e164:
        changes["verified_at"] = None
    await MobileNumber.get_pymongo_collection().update_one(
        {"user_id": user_id}, {"$set": changes}, upsert=True
    )


async def count_attempt(user_id: str) -> MobileNumber | None:
    """Count one code attempt; the number after it."""
    raw = await MobileNumber.get_pymongo_collection().find_one_and_update(
        {"user_id": user_id}, {"$inc": {"attempts": 1}}, return_document=ReturnDocument.AFTER
    )
    return None if raw is None else MobileNumber.model_validate(raw)


async def mark_verified(user_id: str, code_hash: str, now: dt.datetime) -> bool:
    """Verify the number if its code is still ``code_hash`` (once); whether it did."""
    result = await MobileNumber.get_pymongo_collection().update_one(
        {"user_id": user_id, "code_hash": code_hash},
        {"$set": {"verified_at": now, "code_hash": None, "code_expires_at": None,
                  "updated_at": now}},
    )  # fmt: skip
    return result.modified_count == 1


async def queue(messages: list[SmsMessage], session: Session = None) -> list[SmsMessage]:
    """Store messages to send; those whose ``dedupe_key`` was stored before are skipped."""
    stored = []
    for message in messages:
        try:
            await message.insert(session=session)
        except DuplicateKeyError:
            continue
        stored.append(message)
    return stored


async def claim_due(now: dt.datetime, lease: dt.timedelta) -> SmsMessage | None:
    """Claim one PENDING message whose time has come, moving it ``lease`` ahead."""
    raw = await SmsMessage.get_pymongo_collection().find_one_and_update(
        {"status": SmsStatus.PENDING.value, "next_attempt_at": {"$lte": now}},
        {"$set": {"next_attempt_at": now + lease}},
        sort=[("next_attempt_at", 1)], return_document=ReturnDocument.AFTER,
    )  # fmt: skip
    return None if raw is None else SmsMessage.model_validate(raw)


async def finish(message_id: Any, changes: dict[str, Any]) -> bool:
    """``$set`` ``changes`` on a PENDING message; whether it was still PENDING."""
    result = await SmsMessage.get_pymongo_collection().update_one(
        {"_id": message_id, "status": SmsStatus.PENDING.value}, {"$set": changes}
    )
    return result.modified_count == 1


async def messages_of(user_id: str, limit: int = 50) -> list[SmsMessage]:
    """``user_id``'s latest messages, newest first."""
    return await SmsMessage.find({"user_id": user_id}).sort("-created_at").limit(limit).to_list()


async def forget(user_id: str) -> int:
    """Remove ``user_id``'s mobile number and blank the number and text of their messages
    (each keeps its template, status and times); returns how many messages changed."""
    await MobileNumber.get_pymongo_collection().delete_many({"user_id": user_id})
    await SmsMessage.get_pymongo_collection().update_many(  # never sent to nobody
        {"user_id": user_id, "status": SmsStatus.PENDING.value},
        {"$set": {"status": SmsStatus.FAILED.value, "last_error": "erased"}},
    )
    result = await SmsMessage.get_pymongo_collection().update_many(
        {"user_id": user_id}, {"$set": {"e164": "", "text": "", "variables": {}}}
    )
    return result.modified_count

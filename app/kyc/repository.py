"""Every query of the KYC domain."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.audit.documents import AuditRecord
from app.audit.service import PLATFORM_CHAIN
from app.kyc.documents import (
    DocumentKind,
    DocumentStatus,
    KycAllowance,
    KycDocument,
    KycExpiryAlert,
)

Session = AsyncClientSession | None


def _oid(value: str) -> PydanticObjectId | None:
    try:
        return PydanticObjectId(value)
    except Exception:
        return None


async def get_document(doc_id: str, session: Session = None) -> KycDocument | None:
    oid = _oid(doc_id)
    return None if oid is None else await KycDocument.get(oid, session=session)


async def documents_of(user_id: str, session: Session = None) -> list[KycDocument]:
    """Every document of the user, newest first."""
    return (
        await KycDocument.find({"user_id": user_id}, session=session)
        .sort("-submitted_at")
        .to_list()
    )


async def pending_of_kind(user_id: str, kind: DocumentKind, session: Session) -> KycDocument | None:
    return await KycDocument.find_one(
        {"user_id": user_id, "kind": kind.value, "status": DocumentStatus.PENDING.value},
        session=session,
    )


async def number_elsewhere(fingerprint: str, user_id: str, session: Session = None) -> bool:
    """Whether another user has a VERIFIED document with this fingerprint. A pending claim
    blocks nobody: otherwise anyone could squat a number and lock its holder out; the first
    verified document wins, and an admin verifying a second one is refused."""
    found = await KycDocument.find_one(
        {"fingerprint": fingerprint, "user_id": {"$ne": user_id},
         "status": DocumentStatus.VERIFIED.value},
        session=session,
    )  # fmt: skip
    return found is not None


async def set_status(
    doc_id: PydanticObjectId,
    expected: DocumentStatus,
    changes: dict[str, Any],
    session: Session,
) -> bool:
    """Move a document out of ``expected`` (guarded); whether it moved."""
    result = await KycDocument.get_pymongo_collection().update_one(
        {"_id": doc_id, "status": expected.value}, {"$set": changes}, session=session
    )
    return result.modified_count == 1


async def supersede_verified(
    user_id: str, kind: DocumentKind, keep: PydanticObjectId, session: Session
) -> None:
    """Older verified documents of a kind step aside for a newly verified one."""
    await KycDocument.get_pymongo_collection().update_many(
        {"user_id": user_id, "kind": kind.value, "status": DocumentStatus.VERIFIED.value,
         "_id": {"$ne": keep}},
        {"$set": {"status": DocumentStatus.SUPERSEDED.value}},
        session=session,
    )  # fmt: skip


async def pending_queue(kind: DocumentKind | None, limit: int) -> tuple[list[KycDocument], int]:
    flt: dict[str, Any] = {"status": DocumentStatus.PENDING.value}
    if kind is not None:
        flt["kind"] = kind.value
    items = await KycDocument.find(flt).sort("+submitted_at").limit(limit).to_list()
    return items, await KycDocument.find(flt).count()


async def verified_expiring(before_or_on: str, on_or_after: str | None) -> list[KycDocument]:
    """Verified documents expiring in ``[on_or_after, before_or_on]`` (ISO dates)."""
    window: dict[str, str] = {"$lte": before_or_on}
    if on_or_after is not None:
        window["$gte"] = on_or_after
    return await KycDocument.find(
        {"status": DocumentStatus.VERIFIED.value, "expires_on": window}
    ).to_list()


async def verified_expired(today: str) -> list[KycDocument]:
    """Verified documents whose expiry date is before ``today``."""
    return await KycDocument.find(
        {"status": DocumentStatus.VERIFIED.value, "expires_on": {"$lt": today}}
    ).to_list()


async def insert_alert(alert: KycExpiryAlert) -> bool:
    """Store an alert once per document and threshold; whether it is new."""
    try:
        await alert.insert()
    except DuplicateKeyError:
        return False
    return True


async def unmailed_alerts(limit: int = 500) -> list[KycExpiryAlert]:
    return await KycExpiryAlert.find({"mailed_at": None}).sort("+created_at").limit(limit).to_list()


async def mark_mailed(alert: KycExpiryAlert) -> None:
    await KycExpiryAlert.get_pymongo_collection().update_one(
        {"_id": alert.id}, {"$set": {"mailed_at": dt.datetime.now(dt.UTC)}}
    )


async def history(
    *, document_id: str | None = None, user_id: str | None = None
) -> list[AuditRecord]:
    """Audited KYC steps of a document or of a person, oldest first."""
    flt: dict[str, Any] = {"chain": PLATFORM_CHAIN, "target_type": "kyc_document"}
    if document_id is not None:
        flt["target_id"] = document_id
    if user_id is not None:
        flt["details.user_id"] = user_id
    return await AuditRecord.find(flt).sort("+seq").to_list()


async def insert_document(doc: KycDocument, session: Session) -> KycDocument:
    await doc.insert(session=session)
    return doc


async def alerts_of(user_id: str) -> list[KycExpiryAlert]:
    """The person's expiry alerts, newest first."""
    return await KycExpiryAlert.find({"user_id": user_id}).sort("-created_at").to_list()


async def ensure_allowance(user_id: str, year_start: str) -> None:
    """Create the person's allowance of that year if missing (outside any transaction, so no
    two transactions race to insert it)."""
    with contextlib.suppress(DuplicateKeyError):  # created meanwhile by a concurrent call
        await KycAllowance.get_pymongo_collection().update_one(
            {"user_id": user_id, "year_start": year_start},
            {"$setOnInsert": {"reserved": 0, "seq": 0}},
            upsert=True,
        )


async def take_allowance(
    user_id: str, year_start: str, amount: int, session: AsyncClientSession, *, count: bool = True
) -> KycAllowance | None:
    """Write the allowance inside ``session``'s transaction (``seq`` + 1 unless not
    ``count``, ``reserved`` + ``amount`` INR paise): a concurrent transaction doing the same
    conflicts and is retried."""
    found = await KycAllowance.get_pymongo_collection().find_one_and_update(
        {"user_id": user_id, "year_start": year_start},
        {"$inc": {"seq": int(count), "reserved": amount}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    return None if found is None else KycAllowance.model_validate(found)

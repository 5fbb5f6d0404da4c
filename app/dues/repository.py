"""Every MongoDB query of the dues domain."""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.dues.documents import DuesLateFee, DuesWaiver


async def waivers(club_id: str, months: list[str]) -> dict[tuple[str, str], DuesWaiver]:
    """The club's waivers of ``months``, by (user id, month)."""
    found = await DuesWaiver.find({"club_id": club_id, "month": {"$in": months}}).to_list()
    return {(w.user_id, w.month): w for w in found}


async def insert_waiver(waiver: DuesWaiver, session: AsyncClientSession) -> None:
    await waiver.insert(session=session)


async def claim_late_fee(club_id: str, user_id: str, month: str) -> DuesLateFee | None:
    """Claim charging the late fee of ``month`` to ``user_id``; None when already claimed."""
    claim = DuesLateFee(club_id=club_id, user_id=user_id, month=month)
    try:
        await claim.insert()
    except DuplicateKeyError:
        return None
    return claim


async def set_late_fee_charge(claim: DuesLateFee, charge_id: str) -> None:
    await DuesLateFee.get_pymongo_collection().update_one(
        {"_id": claim.id}, {"$set": {"charge_id": charge_id}}
    )


async def release_late_fee(claim: DuesLateFee) -> None:
    """Give a claim back (charging failed): the next sweep tries again."""
    await DuesLateFee.get_pymongo_collection().delete_one({"_id": claim.id})


async def late_fees(club_id: str, months: list[str]) -> set[tuple[str, str]]:
    """(user id, month) pairs of ``months`` whose late fee was charged."""
    found = await DuesLateFee.find({"club_id": club_id, "month": {"$in": months}}).to_list()
    return {(f.user_id, f.month) for f in found}

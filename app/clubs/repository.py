"""Every MongoDB query of the clubs domain."""

from __future__ import annotations

from beanie import PydanticObjectId
from bson.errors import InvalidId
from pymongo.asynchronous.client_session import AsyncClientSession

from app.clubs.documents import (
    Club,
    Contribution,
    ContributionStatus,
    Holding,
    Invite,
    Membership,
    MembershipStatus,
    Valuation,
    Withdrawal,
    WithdrawalStatus,
)

Session = AsyncClientSession | None


def object_id(value: str) -> PydanticObjectId | None:
    """``value`` as an ObjectId, or ``None`` when it is not one (callers answer 404)."""
    try:
        return PydanticObjectId(value)
    except (InvalidId, TypeError, ValueError):
        return None


async def search_clubs(q: str | None, skip: int, limit: int) -> tuple[list[Club], int]:
    """Clubs whose name contains ``q`` (case-insensitive), newest first, and how many match."""
    import re

    flt: dict[str, object] = {}
    if q:
        flt["name"] = {"$regex": re.escape(q), "$options": "i"}
    items = await Club.find(flt).sort("-created_at").skip(skip).limit(limit).to_list()
    return items, await Club.find(flt).count()


async def active_member_counts(club_ids: list[str]) -> dict[str, int]:
    """Active members per club id."""
    counts: dict[str, int] = dict.fromkeys(club_ids, 0)
    cursor = await Membership.get_pymongo_collection().aggregate([
        {"$match": {"club_id": {"$in": club_ids}, "status": MembershipStatus.ACTIVE.value}},
        {"$group": {"_id": "$club_id", "n": {"$sum": 1}}},
    ])  # fmt: skip
    async for row in cursor:
        counts[row["_id"]] = int(row["n"])
    return counts


async def get_club(club_id: str, session: Session = None) -> Club | None:
    oid = object_id(club_id)
    return None if oid is None else await Club.get(oid, session=session)


async def bump_money_seq(club_id: str, session: AsyncClientSession) -> bool:
    """Touch the club inside a money transaction so concurrent ones conflict and retry."""
    oid = object_id(club_id)
    result = await Club.get_pymongo_collection().update_one(
        {"_id": oid}, {"$inc": {"money_seq": 1}}, session=session
    )
    return result.matched_count == 1


async def get_membership(club_id: str, user_id: str, session: Session = None) -> Membership | None:
    return await Membership.find_one({"club_id": club_id, "user_id": user_id}, session=session)


async def active_memberships(club_id: str, session: Session = None) -> list[Membership]:
    return (
        await Membership.find(
            {"club_id": club_id, "status": MembershipStatus.ACTIVE.value}, session=session
        )
        .sort("+joined_at")
        .to_list()
    )


async def all_memberships(club_id: str, session: Session = None) -> list[Membership]:
    return await Membership.find({"club_id": club_id}, session=session).sort("+joined_at").to_list()


async def clubs_of_user(user_id: str) -> list[tuple[Club, Membership]]:
    memberships = await Membership.find(
        {"user_id": user_id, "status": MembershipStatus.ACTIVE.value}
    ).to_list()
    out = []
    for membership in memberships:
        club = await get_club(membership.club_id)
        if club is not None:
            out.append((club, membership))
    return out


async def count_owners(club_id: str, session: Session = None) -> int:
    return await Membership.find(
        {"club_id": club_id, "status": MembershipStatus.ACTIVE.value, "role": "owner"},
        session=session,
    ).count()


async def find_invite(token_hash: str, session: Session = None) -> Invite | None:
    return await Invite.find_one({"token_hash": token_hash}, session=session)


async def get_invite(invite_id: str) -> Invite | None:
    oid = object_id(invite_id)
    return None if oid is None else await Invite.get(oid)


async def get_contribution(contribution_id: str, session: Session = None) -> Contribution | None:
    oid = object_id(contribution_id)
    return None if oid is None else await Contribution.get(oid, session=session)


async def contributions_to_settle(
    club_id: str, on_or_before: str, session: Session
) -> list[Contribution]:
    """Received contributions paid on or before the date and assigned to it (or unassigned)."""
    return (
        await Contribution.find(
            {
                "club_id": club_id,
                "status": ContributionStatus.RECEIVED.value,
                "payment_date": {"$lte": on_or_before},
                "$or": [{"valuation_date": None}, {"valuation_date": {"$lte": on_or_before}}],
            },
            session=session,
        )
        .sort("+created_at")
        .to_list()
    )


async def withdrawals_to_settle(
    club_id: str, on_or_before: str, session: Session
) -> list[Withdrawal]:
    return (
        await Withdrawal.find(
            {
                "club_id": club_id,
                "status": WithdrawalStatus.PENDING.value,
                "$or": [{"valuation_date": None}, {"valuation_date": {"$lte": on_or_before}}],
            },
            session=session,
        )
        .sort("+requested_at")
        .to_list()
    )


async def pending_withdrawal(club_id: str, user_id: str, session: Session) -> Withdrawal | None:
    return await Withdrawal.find_one(
        {"club_id": club_id, "user_id": user_id, "status": WithdrawalStatus.PENDING.value},
        session=session,
    )


async def get_withdrawal(withdrawal_id: str, session: Session = None) -> Withdrawal | None:
    oid = object_id(withdrawal_id)
    return None if oid is None else await Withdrawal.get(oid, session=session)


async def holdings(club_id: str, session: Session = None) -> list[Holding]:
    return (
        await Holding.find({"club_id": club_id, "quantity": {"$gt": 0}}, session=session)
        .sort("+symbol")
        .to_list()
    )


async def get_holding(club_id: str, symbol: str, session: Session) -> Holding | None:
    return await Holding.find_one({"club_id": club_id, "symbol": symbol}, session=session)


async def latest_valuation(club_id: str, on_or_before: str | None = None) -> Valuation | None:
    query: dict[str, object] = {"club_id": club_id}
    if on_or_before is not None:
        query["valuation_date"] = {"$lte": on_or_before}
    return await Valuation.find(query).sort("-valuation_date").first_or_none()


async def valuations(club_id: str) -> list[Valuation]:
    return await Valuation.find({"club_id": club_id}).sort("+valuation_date").to_list()


async def contributions_of(club_id: str, user_id: str | None = None) -> list[Contribution]:
    query: dict[str, object] = {"club_id": club_id}
    if user_id is not None:
        query["user_id"] = user_id
    return await Contribution.find(query).sort("-created_at").to_list()


async def withdrawals_of(club_id: str, user_id: str | None = None) -> list[Withdrawal]:
    query: dict[str, object] = {"club_id": club_id}
    if user_id is not None:
        query["user_id"] = user_id
    return await Withdrawal.find(query).sort("-requested_at").to_list()

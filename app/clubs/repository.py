"""Every MongoDB query of the clubs domain."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from app.clubs.documents import Club, Invite, Membership, MembershipStatus
from app.db import object_id

Session = AsyncClientSession | None


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


async def insert_club(club: Club, session: Session) -> Club:
    await club.insert(session=session)
    return club


async def update_club(club_id: str, fields: dict[str, Any], session: Session) -> bool:
    """``$set`` ``fields`` on the club; True if it changed."""
    result = await Club.get_pymongo_collection().update_one(
        {"_id": object_id(club_id)}, {"$set": fields}, session=session
    )
    return result.modified_count == 1


async def insert_membership(membership: Membership, session: Session) -> Membership:
    await membership.insert(session=session)
    return membership


async def update_membership(membership_id: Any, fields: dict[str, Any], session: Session) -> None:
    await Membership.get_pymongo_collection().update_one(
        {"_id": membership_id}, {"$set": fields}, session=session
    )


async def inc_membership(
    club_id: str, user_id: str, amounts: dict[str, int], session: Session
) -> None:
    """``$inc`` a member's units / paid_in / withdrawn (zeros are left out)."""
    inc = {k: v for k, v in amounts.items() if v}
    if inc:
        await Membership.get_pymongo_collection().update_one(
            {"club_id": club_id, "user_id": user_id}, {"$inc": inc}, session=session
        )


async def insert_invite(invite: Invite) -> Invite:
    await invite.insert()
    return invite


async def revoke_invite(invite_id: Any) -> None:
    await Invite.get_pymongo_collection().update_one(
        {"_id": invite_id}, {"$set": {"revoked": True}}
    )


async def use_invite(invite: Invite, session: Session) -> bool:
    """Count one use of the invite unless it is used up or revoked; True if counted."""
    used = await Invite.get_pymongo_collection().update_one(
        {"_id": invite.id, "uses": {"$lt": invite.max_uses}, "revoked": False},
        {"$inc": {"uses": 1}},
        session=session,
    )
    return used.modified_count == 1


async def clubs_with_dues() -> list[Club]:
    """Clubs with monthly dues set (``dues_amount`` > 0)."""
    return await Club.find({"dues_amount": {"$gt": 0}}).to_list()

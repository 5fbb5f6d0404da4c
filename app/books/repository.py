"""Every query of the books domain (contributions, withdrawals, valuations, holdings, cash
holds)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.books.documents import (
    CashHold,
    ChargeStatus,
    Contribution,
    ContributionStatus,
    Holding,
    MemberCharge,
    Valuation,
    Withdrawal,
    WithdrawalStatus,
)
from app.db import object_id

Session = AsyncClientSession | None


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


async def pending_money(club_id: str, user_id: str, session: Session) -> dict[str, int]:
    """How many of a member's contributions (awaiting payment, pending approval, approved,
    received), withdrawals and charges (pending) the club has not settled yet, by kind."""
    who = {"club_id": club_id, "user_id": user_id}
    open_contributions = [ContributionStatus.AWAITING_PAYMENT.value,
                          ContributionStatus.PENDING_APPROVAL.value,
                          ContributionStatus.APPROVED.value,
                          ContributionStatus.RECEIVED.value]  # fmt: skip
    return {
        "contributions": await Contribution.find(
            {**who, "status": {"$in": open_contributions}}, session=session
        ).count(),
        "withdrawals": await Withdrawal.find(
            {**who, "status": WithdrawalStatus.PENDING.value}, session=session
        ).count(),
        "charges": await MemberCharge.find(
            {**who, "status": ChargeStatus.PENDING.value}, session=session
        ).count(),
    }


async def checkouts_opened_before(cutoff: dt.datetime, limit: int = 500) -> list[Contribution]:
    """Online contributions still awaiting payment that were opened before ``cutoff``."""
    return await Contribution.find({
        "status": ContributionStatus.AWAITING_PAYMENT.value, "method": "online",
        "created_at": {"$lt": cutoff},
    }).sort("+created_at").limit(limit).to_list()  # fmt: skip


async def get_withdrawal(withdrawal_id: str, session: Session = None) -> Withdrawal | None:
    oid = object_id(withdrawal_id)
    return None if oid is None else await Withdrawal.get(oid, session=session)


async def holdings(club_id: str, session: Session = None) -> list[Holding]:
    return (
        await Holding.find({"club_id": club_id, "quantity": {"$gt": 0}}, session=session)
        .sort("+symbol")
        .to_list()
    )


async def realised_total(club_id: str, session: Session = None) -> int:
    """The gains realised on every holding of the club, those sold in full included (minor
    units)."""
    found = Holding.find({"club_id": club_id}, session=session)
    return sum([h.realised async for h in found])


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


# Money counted toward the KYC limit: paid, settled, or on its way (pending approval, checkout).
KYC_COUNTED = [
    ContributionStatus.AWAITING_PAYMENT.value,
    ContributionStatus.PENDING_APPROVAL.value,
    ContributionStatus.APPROVED.value,
    ContributionStatus.RECEIVED.value,
    ContributionStatus.SETTLED.value,
]


async def contributed_since(user_id: str, since: dt.datetime, session: Session = None) -> int:
    """INR paise the user contributed (or is contributing) to any club since ``since``: each
    contribution's ``kyc_inr`` (its amount in INR), else its ``amount``."""
    cursor = await Contribution.get_pymongo_collection().aggregate([
        {"$match": {"user_id": user_id, "status": {"$in": KYC_COUNTED},
                    "created_at": {"$gte": since}}},
        {"$group": {"_id": None, "total": {"$sum": {"$ifNull": ["$kyc_inr", "$amount"]}}}},
    ], session=session)  # fmt: skip
    async for row in cursor:
        return int(row["total"])
    return 0


async def insert_contribution(contribution: Contribution, session: Session = None) -> Contribution:
    await contribution.insert(session=session)
    return contribution


async def update_contribution(
    contribution_id: Any, fields: dict[str, Any], *, session: Session = None,
    guard: dict[str, Any] | None = None,
) -> bool:  # fmt: skip
    """``$set`` ``fields`` on the contribution if it still matches ``guard``; True if it did."""
    result = await Contribution.get_pymongo_collection().update_one(
        {"_id": contribution_id, **(guard or {})}, {"$set": fields}, session=session
    )
    return result.modified_count == 1


async def insert_withdrawal(withdrawal: Withdrawal, session: Session) -> Withdrawal:
    await withdrawal.insert(session=session)
    return withdrawal


async def update_withdrawal(withdrawal_id: Any, fields: dict[str, Any], session: Session) -> bool:
    """``$set`` ``fields`` on the withdrawal; True if it changed."""
    result = await Withdrawal.get_pymongo_collection().update_one(
        {"_id": withdrawal_id}, {"$set": fields}, session=session
    )
    return result.modified_count == 1


async def insert_charge(charge: MemberCharge, session: Session = None) -> MemberCharge:
    await charge.insert(session=session)
    return charge


async def charges_to_settle(club_id: str, session: Session) -> list[MemberCharge]:
    """Pending charges of the club, oldest first."""
    return (
        await MemberCharge.find(
            {"club_id": club_id, "status": ChargeStatus.PENDING.value}, session=session
        )
        .sort("+created_at")
        .to_list()
    )


async def charges_of(club_id: str, user_id: str | None,
                     session: Session = None) -> list[MemberCharge]:  # fmt: skip
    """The club's charges (or one member's), newest first."""
    query: dict[str, Any] = {"club_id": club_id}
    if user_id is not None:
        query["user_id"] = user_id
    return await MemberCharge.find(query, session=session).sort("-created_at").to_list()


async def get_charge(charge_id: str, session: Session = None) -> MemberCharge | None:
    """One charge by id (None for an unknown or malformed id)."""
    oid = object_id(charge_id)
    return None if oid is None else await MemberCharge.get(oid, session=session)


async def update_charge(charge_id: Any, fields: dict[str, Any], session: Session) -> bool:
    """``$set`` ``fields`` on the charge; True if it changed."""
    result = await MemberCharge.get_pymongo_collection().update_one(
        {"_id": charge_id}, {"$set": fields}, session=session
    )
    return result.modified_count == 1


async def link_settlement(
    kind: str, settlement_id: str, valuation_id: str, session: Session
) -> None:
    """Point a settled contribution, withdrawal or charge at the valuation that settled it."""
    model: type[Contribution] | type[Withdrawal] | type[MemberCharge] = (
        Contribution if kind == "contribution" else MemberCharge if kind == "charge"
        else Withdrawal
    )  # fmt: skip
    await model.get_pymongo_collection().update_one(
        {"_id": object_id(settlement_id)},
        {"$set": {"valuation_id": valuation_id}},
        session=session,
    )


async def insert_holding(holding: Holding, session: Session) -> Holding:
    await holding.insert(session=session)
    return holding


async def save_holding(holding: Holding, session: Session) -> None:
    """Store the holding's quantity, book cost (and foreign cost, currency) and realised
    gain."""
    await Holding.get_pymongo_collection().update_one(
        {"_id": holding.id},
        {"$set": {"quantity": holding.quantity, "cost": holding.cost,
                  "realised": holding.realised, "currency": holding.currency,
                  "cost_foreign": holding.cost_foreign}},
        session=session,
    )  # fmt: skip


async def insert_valuation(valuation: Valuation, session: Session) -> Valuation:
    await valuation.insert(session=session)
    return valuation


async def insert_hold(hold: CashHold, session: Session) -> bool:
    """Store a new cash hold; False when one with its key exists already."""
    try:
        await hold.insert(session=session)
    except DuplicateKeyError:
        return False
    return True


async def get_hold(key: str, session: Session) -> CashHold | None:
    return await CashHold.find_one({"key": key}, session=session)


async def update_hold(key: str, session: Session, *, spent: int = 0, close: bool = False) -> bool:
    """Add ``spent`` to an open hold and/or close it; True if an open hold changed."""
    update: dict[str, Any] = {"$inc": {"spent": spent}}
    if close:
        update["$set"] = {"open": False}
    result = await CashHold.get_pymongo_collection().update_one(
        {"key": key, "open": True}, update, session=session
    )
    return result.modified_count == 1


async def set_hold_amount(key: str, amount: int, session: Session) -> bool:
    """Give an open hold a new ``amount`` (minor units); True if an open hold changed."""
    result = await CashHold.get_pymongo_collection().update_one(
        {"key": key, "open": True}, {"$set": {"amount": amount}}, session=session
    )
    return result.modified_count == 1


async def held_cash(club_id: str, session: Session) -> int:
    """Cash the club's open holds still set aside: Σ max(amount − spent, 0), minor units."""
    found = await CashHold.find({"club_id": club_id, "open": True}, session=session).to_list()
    return sum(max(h.amount - h.spent, 0) for h in found)


async def receipt_clubs(file_id: str, owner_id: str) -> list[str]:
    """Clubs of the contributions by ``owner_id`` whose receipt is the file ``file_id``."""
    found = await Contribution.find({"receipt_file_id": file_id, "user_id": owner_id}).to_list()
    return sorted({c.club_id for c in found})


async def dues_paid(club_id: str, months: list[str]) -> dict[tuple[str, str], int]:
    """Paise of received or settled contributions marked with a dues month in ``months``, by
    (user id, month)."""
    paid: dict[tuple[str, str], int] = {}
    async for c in Contribution.find({
        "club_id": club_id, "dues_month": {"$in": months},
        "status": {"$in": [ContributionStatus.RECEIVED.value, ContributionStatus.SETTLED.value]},
    }):  # fmt: skip
        key = (c.user_id, str(c.dues_month))
        paid[key] = paid.get(key, 0) + c.amount
    return paid

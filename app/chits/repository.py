"""Every query of the chit funds domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.chits.documents import (
    Auction,
    AuctionStatus,
    Bid,
    ChitPayment,
    ChitScoreSnapshot,
    Due,
    PaymentStatus,
    Scheme,
    SchemeStatus,
    Subscription,
)
from app.identity import directory as identity_directory

Session = AsyncClientSession | None

users_by_id = identity_directory.users_by_id
person_by_contact = identity_directory.person_by_contact


def oid(value: str) -> ObjectId | None:
    """``value`` as an ObjectId, or ``None`` when it is not one."""
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


# ---- schemes -----------------------------------------------------------------------------


async def get_scheme(scheme_id: str, session: Session = None) -> Scheme | None:
    """The scheme, or ``None`` (also for a malformed id)."""
    key = oid(scheme_id)
    return None if key is None else await Scheme.find_one({"_id": key}, session=session)


async def update_scheme(
    scheme_id: str, guard: dict[str, Any], changes: dict[str, Any], session: Session = None
) -> Scheme | None:
    """Apply ``changes`` (``$set`` fields, or a full update document when it starts with ``$``)
    when the scheme matches ``guard``; the updated scheme or ``None``."""
    update = changes if next(iter(changes), "").startswith("$") else {"$set": changes}
    raw = await Scheme.get_pymongo_collection().find_one_and_update(
        {"_id": oid(scheme_id), **guard}, update, return_document=ReturnDocument.AFTER,
        session=session,
    )  # fmt: skip
    return None if raw is None else Scheme.model_validate(raw)


async def bump_money_seq(scheme_id: str, session: AsyncClientSession) -> None:
    """Move the scheme's ``money_seq`` so two money transactions of one scheme never
    interleave (the second conflicts and is retried)."""
    await Scheme.get_pymongo_collection().update_one(
        {"_id": oid(scheme_id)}, {"$inc": {"money_seq": 1}}, session=session
    )


async def take_ticket(scheme_id: str, session: AsyncClientSession) -> Scheme | None:
    """Take the next ticket of an APPROVED scheme with a free one: ``filled`` + 1 under the
    guard ``filled < subscribers``; the updated scheme or ``None``."""
    raw = await Scheme.get_pymongo_collection().find_one_and_update(
        {"_id": oid(scheme_id), "status": SchemeStatus.APPROVED.value,
         "$expr": {"$lt": ["$filled", "$subscribers"]}},
        {"$inc": {"filled": 1}}, return_document=ReturnDocument.AFTER, session=session,
    )  # fmt: skip
    return None if raw is None else Scheme.model_validate(raw)


async def schemes(query: dict[str, Any], limit: int = 200) -> list[Scheme]:
    """Schemes matching ``query``, newest first."""
    return await Scheme.find(query).sort("-created_at").limit(limit).to_list()


async def schemes_by_ids(ids: list[str]) -> list[Scheme]:
    """The schemes of ``ids`` that exist, newest first."""
    keys = [k for k in (oid(i) for i in ids) if k is not None]
    return await Scheme.find({"_id": {"$in": keys}}).sort("-created_at").to_list()


# ---- subscriptions -----------------------------------------------------------------------


async def get_subscription(sub_id: str, session: Session = None) -> Subscription | None:
    """The subscription, or ``None``."""
    key = oid(sub_id)
    return None if key is None else await Subscription.find_one({"_id": key}, session=session)


async def holders(scheme_id: str, session: Session = None) -> list[Subscription]:
    """The subscriptions holding the scheme's tickets, by ticket."""
    return (
        await Subscription.find({"scheme_id": scheme_id, "holds_ticket": True}, session=session)
        .sort("+ticket")
        .to_list()
    )


async def subscriptions_of_scheme(scheme_id: str) -> list[Subscription]:
    """Every subscription of the scheme (substituted ones too), by ticket then join time."""
    return await Subscription.find({"scheme_id": scheme_id}).sort("+ticket", "+joined_at").to_list()


async def holding_of(scheme_id: str, user_id: str, session: Session = None) -> Subscription | None:
    """The person's ticket-holding subscription of the scheme, if any."""
    return await Subscription.find_one(
        {"scheme_id": scheme_id, "user_id": user_id, "holds_ticket": True}, session=session
    )


async def subscriptions_of_user(user_id: str) -> list[Subscription]:
    """Every subscription of the person, newest first."""
    return await Subscription.find({"user_id": user_id}).sort("-joined_at").to_list()


async def update_subscription(
    sub_id: str, guard: dict[str, Any], changes: dict[str, Any], session: Session = None
) -> bool:
    """``$set`` ``changes`` when the subscription matches ``guard``; whether it did."""
    result = await Subscription.get_pymongo_collection().update_one(
        {"_id": oid(sub_id), **guard}, {"$set": changes}, session=session
    )
    return result.modified_count == 1


# ---- auctions and bids -------------------------------------------------------------------


async def get_auction(auction_id: str, session: Session = None) -> Auction | None:
    """The auction, or ``None``."""
    key = oid(auction_id)
    return None if key is None else await Auction.find_one({"_id": key}, session=session)


async def auction_of_month(scheme_id: str, month: int, session: Session = None) -> Auction | None:
    """Month ``month``'s auction of the scheme."""
    return await Auction.find_one({"scheme_id": scheme_id, "month": month}, session=session)


async def auctions_of(scheme_id: str) -> list[Auction]:
    """Every auction of the scheme, by month."""
    return await Auction.find({"scheme_id": scheme_id}).sort("+month").to_list()


async def due_auctions(now: dt.datetime, limit: int = 50) -> list[Auction]:
    """Auctions still SCHEDULED whose end time has passed."""
    return (
        await Auction.find({"status": AuctionStatus.SCHEDULED.value, "ends_at": {"$lte": now}})
        .sort("+ends_at")
        .limit(limit)
        .to_list()
    )


async def auctions_to_remind(until: dt.datetime, limit: int = 50) -> list[Auction]:
    """Scheduled, not reminded, opening before ``until``."""
    return (
        await Auction.find({"status": AuctionStatus.SCHEDULED.value, "reminded": False,
                            "foreman_month": False, "opens_at": {"$lte": until}})
        .limit(limit)
        .to_list()
    )  # fmt: skip


async def mark_reminded(auction_id: str) -> bool:
    """Claim an auction's reminder (once)."""
    result = await Auction.get_pymongo_collection().update_one(
        {"_id": oid(auction_id), "reminded": False}, {"$set": {"reminded": True}}
    )
    return result.modified_count == 1


async def place_on_auction(
    auction_id: str, guard: dict[str, Any], update: dict[str, Any], session: AsyncClientSession
) -> Auction | None:
    """The guarded update of a bid (best discount, top tickets, count, end time); the auction
    after it, or ``None`` when the guard failed."""
    raw = await Auction.get_pymongo_collection().find_one_and_update(
        {"_id": oid(auction_id), **guard}, update, return_document=ReturnDocument.AFTER,
        session=session,
    )  # fmt: skip
    return None if raw is None else Auction.model_validate(raw)


async def update_auction(
    auction_id: str, guard: dict[str, Any], changes: dict[str, Any], session: Session = None
) -> bool:
    """``$set`` ``changes`` when the auction matches ``guard``; whether it did."""
    result = await Auction.get_pymongo_collection().update_one(
        {"_id": oid(auction_id), **guard}, {"$set": changes}, session=session
    )
    return result.modified_count == 1


async def insert(doc: Any, session: Session = None) -> Any:
    """Insert one document of this domain in the caller's transaction."""
    await doc.insert(session=session)
    return doc


async def bids_of(auction_id: str, session: Session = None) -> list[Bid]:
    """The auction's bids in the order they were accepted."""
    return await Bid.find({"auction_id": auction_id}, session=session).sort("+seq").to_list()


# ---- payments and dues -------------------------------------------------------------------


async def get_payment(payment_id: str, session: Session = None) -> ChitPayment | None:
    """The payment, or ``None``."""
    key = oid(payment_id)
    return None if key is None else await ChitPayment.find_one({"_id": key}, session=session)


async def pending_instalment(sub_id: str, session: Session = None) -> ChitPayment | None:
    """The subscription's open (PENDING) instalment payment, if any."""
    return await ChitPayment.find_one(
        {"subscription_id": sub_id, "kind": "INSTALLMENT", "status": PaymentStatus.PENDING.value},
        session=session,
    )


async def payments(query: dict[str, Any], limit: int = 500) -> list[ChitPayment]:
    """Payments matching ``query``, oldest first."""
    return await ChitPayment.find(query).sort("+created_at").limit(limit).to_list()


async def prize_payouts_in_flight(scheme_id: str, session: Session = None) -> list[ChitPayment]:
    """The scheme's PRIZE payments sent (or being sent) through the payout provider and not
    finished: PENDING (their money is spoken for)."""
    return await ChitPayment.find(
        {"scheme_id": scheme_id, "kind": "PRIZE", "status": PaymentStatus.PENDING.value},
        session=session,
    ).to_list()


async def claim_due_payout(now: dt.datetime, lease: dt.timedelta) -> ChitPayment | None:
    """Claim one PENDING PRIZE payment whose ``next_attempt_at`` has passed, moving it
    ``lease`` ahead (so two workers never send it at once); ``None`` when none is due."""
    raw = await ChitPayment.get_pymongo_collection().find_one_and_update(
        {"kind": "PRIZE", "status": PaymentStatus.PENDING.value,
         "next_attempt_at": {"$lte": now}},
        {"$set": {"next_attempt_at": now + lease}},
        return_document=ReturnDocument.AFTER,
    )  # fmt: skip
    return None if raw is None else ChitPayment.model_validate(raw)


async def update_payment(
    payment_id: str, guard: dict[str, Any], changes: dict[str, Any], session: Session = None
) -> bool:
    """``$set`` ``changes`` when the payment matches ``guard``; whether it did."""
    result = await ChitPayment.get_pymongo_collection().update_one(
        {"_id": oid(payment_id), **guard}, {"$set": changes}, session=session
    )
    return result.modified_count == 1


async def dues_of(sub_id: str, session: Session = None) -> list[Due]:
    """The subscription's dues by month."""
    return await Due.find({"subscription_id": sub_id}, session=session).sort("+month").to_list()


async def due_of(sub_id: str, month: int, session: Session = None) -> Due | None:
    """The subscription's due of ``month``."""
    return await Due.find_one({"subscription_id": sub_id, "month": month}, session=session)


async def overdue(before: str, after_id: Any = None, limit: int = 200) -> list[Due]:
    """Dues whose date is before ``before`` (ISO) not yet looked at for a penalty, in ``_id``
    order after ``after_id`` (a page of at most ``limit``; page on with the last one's id)."""
    query: dict[str, Any] = {"due_date": {"$lt": before}, "penalty_checked": False}
    if after_id is not None:
        query["_id"] = {"$gt": after_id}
    return await Due.find(query).sort("_id").limit(limit).to_list()


async def mark_penalty(due_id: Any, penalty: int, session: AsyncClientSession) -> bool:
    """Claim a due's penalty check (once), recording the ``penalty`` charged (paise)."""
    result = await Due.get_pymongo_collection().update_one(
        {"_id": due_id, "penalty_checked": False},
        {"$set": {"penalty_checked": True, "penalty": penalty}}, session=session,
    )  # fmt: skip
    return result.modified_count == 1


# ---- chit scores -------------------------------------------------------------------------


async def subscriber_ids() -> list[str]:
    """Every person who holds or held a ticket of any scheme, sorted."""
    found = await Subscription.get_pymongo_collection().distinct("user_id")
    return sorted(str(u) for u in found)


async def scored_on(day: str, user_ids: list[str]) -> set[str]:
    """Which of ``user_ids`` already have a score snapshot for ``day``."""
    found = await ChitScoreSnapshot.find({"day": day, "user_id": {"$in": user_ids}}).to_list()
    return {s.user_id for s in found}


async def insert_snapshot(snapshot: ChitScoreSnapshot) -> bool:
    """Store a day's snapshot unless that person's day is stored already; whether it was."""
    try:
        await snapshot.insert()
    except DuplicateKeyError:
        return False
    return True


async def latest_snapshot(user_id: str) -> ChitScoreSnapshot | None:
    """The person's newest nightly snapshot."""
    return await ChitScoreSnapshot.find({"user_id": user_id}).sort("-day").first_or_none()

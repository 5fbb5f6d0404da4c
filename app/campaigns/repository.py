"""Every MongoDB query of the campaigns domain.

The reservation is one guarded update of the campaign document: ``$inc reserved`` and a
``$push`` of the hold, only while ``raised + reserved + amount <= goal`` (``$expr``), checked
through ``modified_count`` — so the goal is never exceeded, not even for an instant, however
many requests race. A hold is removed exactly once (``$pull`` guarded by its presence) by
whichever comes first: the payment (raised += amount) or the expiry timer (released).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from beanie import PydanticObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.campaigns.documents import (
    Campaign,
    CampaignStatus,
    CampaignUpdate,
    Dispute,
    DisputeStatus,
    Investment,
    InvestmentStatus,
    PayoutDestination,
    ProfitReport,
    Transfer,
    TransferEvent,
    TransferKind,
    TransferStatus,
)

Session = AsyncClientSession | None


def oid(value: str) -> PydanticObjectId | None:
    """The ObjectId of ``value``, or None when it is not one."""
    try:
        return PydanticObjectId(value)
    except (InvalidId, TypeError, ValueError):
        return None


# ---- campaigns ---------------------------------------------------------------------------


async def insert_campaign(campaign: Campaign) -> Campaign:
    """Store a new campaign."""
    await campaign.insert()
    return campaign


async def get_campaign(campaign_id: str, session: Session = None) -> Campaign | None:
    """The campaign, or None (also for a malformed id)."""
    key = oid(campaign_id)
    if key is None:
        return None
    return await Campaign.find_one({"_id": key}, session=session)


async def update_campaign(
    campaign_id: str,
    changes: dict[str, Any],
    *,
    statuses: tuple[CampaignStatus, ...] | None = None,
    push: dict[str, Any] | None = None,
    session: Session = None,
) -> Campaign | None:
    """``$set`` ``changes`` (and ``$push`` ``push``) when the campaign is in one of
    ``statuses`` (any when None); the updated campaign, or None when the guard failed."""
    query: dict[str, Any] = {"_id": oid(campaign_id)}
    if statuses is not None:
        query["status"] = {"$in": [s.value for s in statuses]}
    update: dict[str, Any] = {"$set": changes}
    if push:
        update["$push"] = push
    doc = await Campaign.get_pymongo_collection().find_one_and_update(
        query, update, return_document=ReturnDocument.AFTER, session=session
    )
    return None if doc is None else Campaign.model_validate(doc)


async def bump_money_seq(campaign_id: str, session: AsyncClientSession) -> None:
    """Serialise money changes of one campaign (two transactions never interleave)."""
    await Campaign.get_pymongo_collection().update_one(
        {"_id": oid(campaign_id)}, {"$inc": {"money_seq": 1}}, session=session
    )


def _room_for(amount: int, user_id: str) -> dict[str, Any]:
    """The ``$expr`` guard of taking ``amount`` paise for ``user_id``: the goal is not
    exceeded (raised + reserved + amount <= goal) and neither is the per-investor maximum
    (investor_totals[user] + amount <= max_investment)."""
    mine = {"$ifNull": [f"$investor_totals.{user_id}", 0]}
    return {
        "$and": [
            {"$lte": [{"$add": ["$raised", "$reserved", amount]}, "$goal"]},
            {"$lte": [{"$add": [mine, amount]}, "$max_investment"]},
        ]
    }


def _safe_user(user_id: str) -> str:
    if not re.fullmatch(r"[0-9A-Za-z_-]{1,64}", user_id):
        raise ValueError("a user id is letters, digits, - and _")
    return user_id


async def reserve(
    campaign_id: str, hold: dict[str, Any], amount: int, now: dt.datetime, session: Session = None
) -> bool:
    """Reserve ``amount`` paise with ``hold`` (``id``, ``user_id``, ``amount``,
    ``expires_at``) on a live, open campaign while ``raised + reserved + amount <= goal`` and
    the investor's total there stays within ``max_investment``. One atomic update (so
    concurrent pledges, by many people or by one, never pass either bound), inside
    ``session``'s transaction when given; False when the guard refused it."""
    user = _safe_user(str(hold["user_id"]))
    result = await Campaign.get_pymongo_collection().update_one(
        {
            "_id": oid(campaign_id),
            "status": CampaignStatus.LIVE.value,
            "ends_at": {"$gt": now},
            "$expr": _room_for(amount, user),
        },
        {"$inc": {"reserved": amount, f"investor_totals.{user}": amount}, "$push": {"holds": hold}},
        session=session,
    )
    return result.modified_count == 1


async def take_hold(
    campaign_id: str, hold_id: str, amount: int, session: AsyncClientSession
) -> bool:
    """Turn the hold ``hold_id`` into raised money (reserved −, raised +). False when the hold
    is gone (expired and released, or taken already)."""
    result = await Campaign.get_pymongo_collection().update_one(
        {"_id": oid(campaign_id), "holds.id": hold_id},
        {"$pull": {"holds": {"id": hold_id}}, "$inc": {"reserved": -amount, "raised": amount}},
        session=session,
    )
    return result.modified_count == 1


async def raise_without_hold(
    campaign_id: str, user_id: str, amount: int, now: dt.datetime, session: AsyncClientSession
) -> bool:
    """A late payment whose hold expired: count it only if the live campaign still has room
    and the investor stays within the maximum (the same ``$expr`` guard). False otherwise
    (the money is refunded)."""
    user = _safe_user(user_id)
    result = await Campaign.get_pymongo_collection().update_one(
        {
            "_id": oid(campaign_id),
            "status": CampaignStatus.LIVE.value,
            "ends_at": {"$gt": now},
            "$expr": _room_for(amount, user),
        },
        {"$inc": {"raised": amount, f"investor_totals.{user}": amount}},
        session=session,
    )
    return result.modified_count == 1


async def release_hold(
    campaign_id: str, hold_id: str, user_id: str, amount: int, session: AsyncClientSession
) -> bool:
    """Give back the hold ``hold_id`` of ``user_id`` (reserved − and the investor's total −).
    False when it was taken or released."""
    user = _safe_user(user_id)
    result = await Campaign.get_pymongo_collection().update_one(
        {"_id": oid(campaign_id), "holds.id": hold_id},
        {"$pull": {"holds": {"id": hold_id}},
         "$inc": {"reserved": -amount, f"investor_totals.{user}": -amount}},
        session=session,
    )  # fmt: skip
    return result.modified_count == 1


async def holds_of(campaign_id: str, session: Session = None) -> list[dict[str, Any]]:
    """The campaign's current holds."""
    doc = await Campaign.get_pymongo_collection().find_one(
        {"_id": oid(campaign_id)}, {"holds": 1}, session=session
    )
    return list((doc or {}).get("holds", []))


async def campaigns_with_expired_holds(now: dt.datetime, limit: int) -> list[str]:
    """Ids of campaigns holding a reservation that expired before ``now``."""
    cursor = (
        Campaign.get_pymongo_collection()
        .find({"holds.expires_at": {"$lte": now}}, {"_id": 1})
        .limit(limit)
    )
    return [str(doc["_id"]) async for doc in cursor]


async def due_campaigns(now: dt.datetime, limit: int) -> list[Campaign]:
    """Live campaigns whose deadline passed."""
    return (
        await Campaign.find({"status": CampaignStatus.LIVE.value, "ends_at": {"$lte": now}})
        .limit(limit)
        .to_list()
    )


async def set_progress(
    campaign_id: str, changes: dict[str, Any], session: AsyncClientSession
) -> None:
    """``$set`` derived figures (``funded_bps``, ``investor_count``, status on funding)."""
    await Campaign.get_pymongo_collection().update_one(
        {"_id": oid(campaign_id)}, {"$set": changes}, session=session
    )


async def feed(
    *,
    statuses: list[str],
    owner_id: str | None = None,
    category: str | None,
    city: str | None,
    closing_before: dt.datetime | None,
    min_funded_bps: int | None,
    max_funded_bps: int | None,
    text: str | None,
    sort: list[tuple[str, int]],
    offset: int,
    limit: int,
) -> tuple[list[Campaign], int]:
    """One page of campaigns matching the filters (``owner_id``: only that owner's), and how
    many match in all. Each word of ``text`` must appear, case-insensitively and literally, in
    the title, story, category or city (any order, any of those fields)."""
    query: dict[str, Any] = {"status": {"$in": statuses}}
    if owner_id is not None:
        query["owner_id"] = owner_id
    if category:
        query["category"] = category
    if city:
        query["city"] = re.compile(f"^{re.escape(city)}$", re.IGNORECASE)
    if closing_before is not None:
        query["ends_at"] = {"$lte": closing_before}
    if min_funded_bps is not None or max_funded_bps is not None:
        bounds: dict[str, int] = {}
        if min_funded_bps is not None:
            bounds["$gte"] = min_funded_bps
        if max_funded_bps is not None:
            bounds["$lte"] = max_funded_bps
        query["funded_bps"] = bounds
    words = (text or "").split()[:8]
    if words:
        query["$and"] = [
            {"$or": [{field: re.compile(re.escape(word), re.IGNORECASE)}
                     for field in ("title", "story", "category", "city")]}
            for word in words
        ]  # fmt: skip
    collection = Campaign.get_pymongo_collection()
    total = await collection.count_documents(query)
    cursor = collection.find(query).sort([*sort, ("_id", -1)]).skip(offset).limit(limit)
    return [Campaign.model_validate(doc) async for doc in cursor], total


async def campaigns_of_owner(owner_id: str) -> list[Campaign]:
    """The owner's campaigns, newest first."""
    return await Campaign.find({"owner_id": owner_id}).sort("-created_at").to_list()


async def campaigns_by_status(status: CampaignStatus, limit: int = 200) -> list[Campaign]:
    """Campaigns in ``status``, oldest submission first."""
    return (
        await Campaign.find({"status": status.value}).sort("+submitted_at").limit(limit).to_list()
    )


async def live_campaigns(limit: int) -> list[Campaign]:
    """Live campaigns, closing soonest first, at most ``limit``."""
    found = Campaign.find({"status": CampaignStatus.LIVE.value}).sort("+ends_at").limit(limit)
    return await found.to_list()


async def funded_campaigns(limit: int = 1000) -> list[Campaign]:
    """Funded campaigns (those that owe profit reports), longest funded first."""
    found = Campaign.find({"status": CampaignStatus.FUNDED.value}).sort("+closed_at")
    return await found.limit(limit).to_list()


async def claim_overdue_told(campaign_id: str, key: str, session: AsyncClientSession) -> bool:
    """Mark the overdue report ``key`` (its period's first day) of a funded campaign as told;
    False when it was told before (or the campaign is not funded): the caller tells nobody."""
    result = await Campaign.get_pymongo_collection().update_one(
        {"_id": oid(campaign_id), "status": CampaignStatus.FUNDED.value,
         "overdue_told": {"$ne": key}},
        {"$push": {"overdue_told": key}}, session=session,
    )  # fmt: skip
    return result.modified_count == 1


async def campaigns_by_ids(ids: list[str]) -> dict[str, Campaign]:
    """Campaigns by id."""
    keys = [k for k in (oid(i) for i in ids) if k is not None]
    found = await Campaign.find({"_id": {"$in": keys}}).to_list()
    return {str(c.id): c for c in found}


# ---- investments -------------------------------------------------------------------------


async def insert_investment(investment: Investment, session: Session = None) -> Investment:
    """Store a new investment (inside ``session``'s transaction when given)."""
    await investment.insert(session=session)
    return investment


async def get_investment(investment_id: str, session: Session = None) -> Investment | None:
    """The investment, or None."""
    key = oid(investment_id)
    if key is None:
        return None
    return await Investment.find_one({"_id": key}, session=session)


async def set_investment(
    investment_id: str,
    changes: dict[str, Any],
    *,
    statuses: tuple[InvestmentStatus, ...] | None = None,
    session: Session = None,
) -> bool:
    """``$set`` ``changes`` when the investment is in one of ``statuses``; True if it was."""
    query: dict[str, Any] = {"_id": oid(investment_id)}
    if statuses is not None:
        query["status"] = {"$in": [s.value for s in statuses]}
    result = await Investment.get_pymongo_collection().update_one(
        query, {"$set": changes}, session=session
    )
    return result.modified_count == 1


async def investments_of_campaign(
    campaign_id: str, statuses: tuple[InvestmentStatus, ...] | None = None, session: Session = None
) -> list[Investment]:
    """The campaign's investments (in ``statuses``), oldest first."""
    query: dict[str, Any] = {"campaign_id": campaign_id}
    if statuses is not None:
        query["status"] = {"$in": [s.value for s in statuses]}
    return await Investment.find(query, session=session).sort("+created_at").to_list()


async def investments_of_user(user_id: str) -> list[Investment]:
    """A person's investments, newest first."""
    return await Investment.find({"user_id": user_id}).sort("-created_at").to_list()


async def committed_by_user(
    user_id: str,
    *,
    campaign_id: str | None = None,
    since: dt.datetime | None = None,
    session: Session = None,
) -> int:
    """Paise a person has pending or invested (not expired, failed or refunded), in one
    campaign or all, created since ``since`` (read in ``session``'s snapshot when given)."""
    match: dict[str, Any] = {
        "user_id": user_id,
        "status": {"$in": [InvestmentStatus.PENDING.value, InvestmentStatus.COMPLETED.value]},
    }
    if campaign_id is not None:
        match["campaign_id"] = campaign_id
    if since is not None:
        match["created_at"] = {"$gte": since}
    rows = Investment.get_pymongo_collection().aggregate(
        [{"$match": match}, {"$group": {"_id": None, "total": {"$sum": "$amount"}}}],
        session=session,
    )
    async for row in await rows:
        return int(row["total"])
    return 0


async def has_paid_in(campaign_id: str, user_id: str) -> bool:
    """Whether ``user_id`` holds a completed investment in the campaign."""
    found = await Investment.get_pymongo_collection().find_one(
        {"campaign_id": campaign_id, "user_id": user_id,
         "status": InvestmentStatus.COMPLETED.value},
        {"_id": 1},
    )  # fmt: skip
    return found is not None


async def has_completed(
    campaign_id: str, user_id: str, exclude: str, session: AsyncClientSession
) -> bool:
    """Whether ``user_id`` has a completed investment in the campaign other than ``exclude``."""
    found = await Investment.get_pymongo_collection().find_one(
        {"campaign_id": campaign_id, "user_id": user_id, "_id": {"$ne": oid(exclude)},
         "status": {"$in": [InvestmentStatus.COMPLETED.value,
                            InvestmentStatus.REFUND_PENDING.value]}},
        session=session,
    )  # fmt: skip
    return found is not None


# ---- transfers ---------------------------------------------------------------------------


async def insert_transfer(transfer: Transfer, session: AsyncClientSession) -> bool:
    """Store a payout task unless one with its key exists; True when it is new."""
    existing = await Transfer.find_one({"key": transfer.key}, session=session)
    if existing is not None:
        return False
    try:
        await transfer.insert(session=session)
    except DuplicateKeyError:
        raise  # aborts the transaction; its retry sees the stored one
    return True


async def claim_due_transfer(now: dt.datetime, lease: dt.timedelta, token: str) -> Transfer | None:
    """Take the oldest pending transfer that is due and not claimed by a live worker."""
    doc = await Transfer.get_pymongo_collection().find_one_and_update(
        {"status": TransferStatus.PENDING.value, "next_attempt_at": {"$lte": now},
         "$or": [{"claimed_until": None}, {"claimed_until": {"$lte": now}}]},
        {"$set": {"claimed_until": now + lease, "claim_token": token}, "$inc": {"attempts": 1}},
        sort=[("next_attempt_at", 1)], return_document=ReturnDocument.AFTER,
    )  # fmt: skip
    return None if doc is None else Transfer.model_validate(doc)


async def finish_transfer(
    transfer_id: PydanticObjectId | None,
    token: str,
    changes: dict[str, Any],
    session: Session = None,
) -> bool:
    """``$set`` ``changes`` and drop the claim, if this worker still holds it."""
    result = await Transfer.get_pymongo_collection().update_one(
        {"_id": transfer_id, "claim_token": token, "status": TransferStatus.PENDING.value},
        {"$set": {**changes, "claimed_until": None, "claim_token": None}},
        session=session,
    )
    return result.modified_count == 1


async def get_transfer(transfer_id: str, session: Session = None) -> Transfer | None:
    """The transfer, or None."""
    key = oid(transfer_id)
    return None if key is None else await Transfer.find_one({"_id": key}, session=session)


async def claim_stale_sent(before: dt.datetime, now: dt.datetime, limit: int) -> list[Transfer]:
    """Up to ``limit`` payouts and refunds ``sent`` before ``before`` and not looked at since,
    each marked looked at (``checked_at``) as it is taken, so two workers never take the
    same."""
    found: list[Transfer] = []
    for _ in range(limit):
        doc = await Transfer.get_pymongo_collection().find_one_and_update(
            {"status": TransferStatus.SENT.value, "sent_at": {"$lte": before},
             "$or": [{"checked_at": None}, {"checked_at": {"$lte": before}}]},
            {"$set": {"checked_at": now}}, sort=[("sent_at", 1)],
            return_document=ReturnDocument.AFTER,
        )  # fmt: skip
        if doc is None:
            break
        found.append(Transfer.model_validate(doc))
    return found


async def transfer_by_key(key: str) -> Transfer | None:
    """The transfer with this key (``refund:…``, ``release:…``, ``share:…``), or None."""
    return await Transfer.find_one({"key": key})


async def move_transfer(
    transfer_id: str, status: str, changes: dict[str, Any], session: AsyncClientSession
) -> bool:
    """``$set`` ``changes`` when the transfer is still in ``status`` and not claimed by a
    worker; True when it was."""
    result = await Transfer.get_pymongo_collection().update_one(
        {"_id": oid(transfer_id), "status": status}, {"$set": changes}, session=session
    )
    return result.modified_count == 1


async def record_transfer_event(event: TransferEvent, session: AsyncClientSession) -> bool:
    """Store a provider webhook's id once; False when it was stored before."""
    if await TransferEvent.find_one({"_id": event.id}, session=session) is not None:
        return False
    await event.insert(session=session)  # a concurrent twin: DuplicateKeyError / conflict
    return True


async def retry_transfer(transfer_id: str, now: dt.datetime) -> bool:
    """Put a failed transfer back in the queue (an admin's retry)."""
    result = await Transfer.get_pymongo_collection().update_one(
        {"_id": oid(transfer_id), "status": TransferStatus.FAILED.value},
        {"$set": {"status": TransferStatus.PENDING.value, "attempts": 0, "next_attempt_at": now,
                  "last_error": None, "provider_ref": None, "failed_at": None},
         "$inc": {"round": 1}},
    )  # fmt: skip
    return result.modified_count == 1


async def transfers(
    *,
    campaign_id: str | None = None,
    user_id: str | None = None,
    status: TransferStatus | None = None,
    kind: str | None = None,
    limit: int = 500,
) -> list[Transfer]:
    """Transfers matching the filters, newest first."""
    query: dict[str, Any] = {}
    if campaign_id is not None:
        query["campaign_id"] = campaign_id
    if user_id is not None:
        query["user_id"] = user_id
    if status is not None:
        query["status"] = status.value
    if kind is not None:
        query["kind"] = kind
    return await Transfer.find(query).sort("-created_at").limit(limit).to_list()


# ---- profit reports, updates, disputes ---------------------------------------------------


async def insert_report(report: ProfitReport, session: Session = None) -> ProfitReport:
    """Store a profit report (unique per campaign and period start)."""
    await report.insert(session=session)
    return report


async def overlapping_report(
    campaign_id: str, start: str, end: str, session: Session = None
) -> ProfitReport | None:
    """A report of the campaign, not rejected, whose period shares a day with ``start`` to
    ``end`` (ISO dates, both included), or None."""
    return await ProfitReport.find_one(
        {"campaign_id": campaign_id, "status": {"$ne": "rejected"},
         "period_start": {"$lte": end}, "period_end": {"$gte": start}},
        session=session,
    )  # fmt: skip


async def get_report(report_id: str, session: Session = None) -> ProfitReport | None:
    """The report, or None."""
    key = oid(report_id)
    if key is None:
        return None
    return await ProfitReport.find_one({"_id": key}, session=session)


async def report_with_document(campaign_id: str, file_id: str) -> ProfitReport | None:
    """The campaign's profit report whose supporting document is ``file_id``, or None."""
    return await ProfitReport.find_one({"campaign_id": campaign_id, "document_file_id": file_id})


async def set_report(
    report_id: str, changes: dict[str, Any], *, status: str, session: Session = None
) -> bool:
    """``$set`` ``changes`` when the report is in ``status``."""
    result = await ProfitReport.get_pymongo_collection().update_one(
        {"_id": oid(report_id), "status": status}, {"$set": changes}, session=session
    )
    return result.modified_count == 1


async def reports_of(campaign_id: str) -> list[ProfitReport]:
    """A campaign's profit reports, newest first."""
    return await ProfitReport.find({"campaign_id": campaign_id}).sort("-created_at").to_list()


async def reports_by_status(status: str, limit: int = 200) -> list[ProfitReport]:
    """Profit reports in ``status``, oldest first."""
    return await ProfitReport.find({"status": status}).sort("+created_at").limit(limit).to_list()


async def insert_update(update: CampaignUpdate, session: AsyncClientSession) -> CampaignUpdate:
    """Store an owner's update inside the caller's transaction."""
    await update.insert(session=session)
    return update


async def updates_of(campaign_id: str, limit: int = 50) -> list[CampaignUpdate]:
    """A campaign's updates, newest first."""
    return (
        await CampaignUpdate.find({"campaign_id": campaign_id})
        .sort("-created_at")
        .limit(limit)
        .to_list()
    )


async def updates_of_campaigns(campaign_ids: list[str], limit: int = 50) -> list[CampaignUpdate]:
    """The updates of any of ``campaign_ids``, newest first, at most ``limit``."""
    if not campaign_ids:
        return []
    return (
        await CampaignUpdate.find({"campaign_id": {"$in": campaign_ids}})
        .sort("-created_at", "-_id")
        .limit(limit)
        .to_list()
    )


async def insert_dispute(dispute: Dispute, session: Session = None) -> Dispute:
    """Store a dispute."""
    await dispute.insert(session=session)
    return dispute


async def get_dispute(dispute_id: str) -> Dispute | None:
    """The dispute, or None."""
    key = oid(dispute_id)
    return None if key is None else await Dispute.get(key)


async def resolve_dispute(
    dispute_id: str, changes: dict[str, Any], session: AsyncClientSession
) -> bool:
    """Mark an open dispute resolved."""
    result = await Dispute.get_pymongo_collection().update_one(
        {"_id": oid(dispute_id), "status": DisputeStatus.OPEN.value},
        {"$set": changes},
        session=session,
    )
    return result.modified_count == 1


async def disputes(
    *, status: DisputeStatus | None = None, user_id: str | None = None
) -> list[Dispute]:
    """Disputes, oldest first."""
    query: dict[str, Any] = {}
    if status is not None:
        query["status"] = status.value
    if user_id is not None:
        query["user_id"] = user_id
    return await Dispute.find(query).sort("+created_at").to_list()


# ---- payout destinations -------------------------------------------------------------------


async def active_destination(user_id: str) -> PayoutDestination | None:
    """The person's active payout destination, or None."""
    return await PayoutDestination.find_one({"user_id": user_id, "active": True})


async def replace_destination(destination: PayoutDestination, session: AsyncClientSession) -> None:
    """Make ``destination`` the person's active one (the previous one stays, inactive)."""
    await PayoutDestination.get_pymongo_collection().update_many(
        {"user_id": destination.user_id, "active": True}, {"$set": {"active": False}},
        session=session,
    )  # fmt: skip
    await destination.insert(session=session)


async def requeue_waiting(user_id: str, now: dt.datetime, session: AsyncClientSession) -> int:
    """Payouts of ``user_id`` parked for want of a destination become due now; how many."""
    result = await Transfer.get_pymongo_collection().update_many(
        {"user_id": user_id, "status": TransferStatus.PENDING.value,
         "waiting_for_destination": True},
        {"$set": {"waiting_for_destination": False, "next_attempt_at": now}},
        session=session,
    )  # fmt: skip
    return int(result.modified_count)


async def count_waiting(user_id: str) -> int:
    """How many of ``user_id``'s payouts wait for a destination."""
    return await Transfer.get_pymongo_collection().count_documents(
        {"user_id": user_id, "status": TransferStatus.PENDING.value,
         "waiting_for_destination": True,
         "kind": {"$in": [TransferKind.RELEASE.value, TransferKind.PROFIT_SHARE.value]}}
    )  # fmt: skip

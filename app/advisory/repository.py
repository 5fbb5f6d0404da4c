"""Every query of robo-advice (MongoDB)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from app.advisory.documents import (
    AdvisorDesk,
    AdvisorSlot,
    AdvisoryAccount,
    Booking,
    ModelStrategy,
    RebalanceRun,
    Recommendation,
    RiskAssessment,
    RunStatus,
)


async def latest_assessment(user_id: str) -> RiskAssessment | None:
    """The user's newest questionnaire result."""
    return await RiskAssessment.find({"user_id": user_id}).sort("-taken_at").first_or_none()


async def assessments(user_id: str, limit: int = 20) -> list[RiskAssessment]:
    """The user's questionnaire results, newest first."""
    return (await RiskAssessment.find({"user_id": user_id}).sort("-taken_at")
            .limit(limit).to_list())  # fmt: skip


async def get_account(
    account_id: str, session: AsyncClientSession | None = None
) -> AdvisoryAccount | None:
    """The advisory account of ``account_id`` (a club id), if any."""
    return await AdvisoryAccount.find_one({"account_id": account_id}, session=session)


async def accounts_of_owner(user_id: str) -> list[AdvisoryAccount]:
    """The user's personal accounts, oldest first."""
    return await AdvisoryAccount.find({"owner_id": user_id}).sort("+created_at").to_list()


async def accounts_with_targets() -> list[AdvisoryAccount]:
    """Every account that has target weights (the drift agent checks these)."""
    return await AdvisoryAccount.find({"targets": {"$ne": {}}}).to_list()


async def update_account(
    account_id: str, fields: dict[str, Any], session: AsyncClientSession | None = None
) -> AdvisoryAccount | None:
    """Set ``fields`` on the account; the account after, or ``None`` if there is none."""
    raw = await AdvisoryAccount.get_pymongo_collection().find_one_and_update(
        {"account_id": account_id}, {"$set": fields}, return_document=ReturnDocument.AFTER,
        session=session,
    )  # fmt: skip
    return None if raw is None else AdvisoryAccount.model_validate(raw)


async def mark_drift_alerted(account_id: str, key: str | None) -> bool:
    """Record ``key`` as the drift last told; False when it was already recorded."""
    result = await AdvisoryAccount.get_pymongo_collection().update_one(
        {"account_id": account_id, "drift_alerted": {"$ne": key}}, {"$set": {"drift_alerted": key}}
    )
    return result.modified_count == 1


async def recommendations(account_id: str | None, user_id: str | None,
                          limit: int = 20) -> list[Recommendation]:  # fmt: skip
    """Recommendations of an account (or, without one, of a user), newest first."""
    query: dict[str, Any] = ({"account_id": account_id} if account_id is not None
                             else {"user_id": user_id})  # fmt: skip
    return await Recommendation.find(query).sort("-created_at").limit(limit).to_list()


async def get_recommendation(recommendation_id: str) -> Recommendation | None:
    """One recommendation by id (``None`` for a malformed id)."""
    if not PydanticObjectId.is_valid(recommendation_id):
        return None
    return await Recommendation.get(PydanticObjectId(recommendation_id))


async def get_rebalance(
    run_id: str, session: AsyncClientSession | None = None
) -> RebalanceRun | None:
    """One rebalance run by id (``None`` for a malformed id)."""
    if not PydanticObjectId.is_valid(run_id):
        return None
    return await RebalanceRun.get(PydanticObjectId(run_id), session=session)


async def mark_executed(run_id: str, by: str, proposal_ids: list[str], order_ids: list[str],
                        session: AsyncClientSession | None = None) -> bool:  # fmt: skip
    """Record what a run became, once: False when it was executed before."""
    result = await RebalanceRun.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(run_id), "executed_at": None},
        {"$set": {"executed_at": dt.datetime.now(dt.UTC), "executed_by": by,
                  "proposal_ids": proposal_ids, "order_ids": order_ids}},
        session=session,
    )  # fmt: skip
    return result.modified_count == 1


async def claim_run(run_id: Any, from_status: tuple[RunStatus, ...], to_status: RunStatus,
                    fields: dict[str, Any] | None = None,
                    require: dict[str, Any] | None = None) -> RebalanceRun | None:  # fmt: skip
    """Move a run from one of ``from_status`` to ``to_status`` (with ``fields`` set), once:
    the run after, or ``None`` when it was not in one of those states (someone else moved it).
    ``require``: further conditions on the stored run."""
    change = {"status": to_status.value, **(fields or {})}
    query: dict[str, Any] = {
        "_id": PydanticObjectId(str(run_id)),
        "status": {"$in": [s.value for s in from_status]},
        **(require or {}),
    }
    raw = await RebalanceRun.get_pymongo_collection().find_one_and_update(
        query, {"$set": change}, return_document=ReturnDocument.AFTER)  # fmt: skip
    return None if raw is None else RebalanceRun.model_validate(raw)


async def set_run(run_id: Any, fields: dict[str, Any]) -> None:
    """Record ``fields`` on a run (ids of what it became, its note)."""
    await RebalanceRun.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(str(run_id))}, {"$set": fields})  # fmt: skip


async def runs_in(statuses: tuple[RunStatus, ...], account_id: str | None = None,
                  limit: int = 200) -> list[RebalanceRun]:  # fmt: skip
    """Runs in one of ``statuses`` (of one account, or all), oldest first."""
    query: dict[str, Any] = {"status": {"$in": [s.value for s in statuses]}}
    if account_id is not None:
        query["account_id"] = account_id
    return await RebalanceRun.find(query).sort("+created_at").limit(limit).to_list()


async def account_runs(account_id: str, limit: int = 10) -> list[RebalanceRun]:
    """The account's rebalance runs, newest first."""
    return await RebalanceRun.find({"account_id": account_id}).sort("-created_at").limit(
        limit).to_list()  # fmt: skip


async def executed_since(account_id: str, since: dt.datetime, other_than: Any) -> bool:
    """Whether another run of the account was executed after ``since``."""
    found = await RebalanceRun.find_one({"account_id": account_id, "_id": {"$ne": other_than},
                                         "executed_at": {"$gt": since}})  # fmt: skip
    return found is not None


async def bump_desk(advisor_id: str, session: AsyncClientSession) -> None:
    """Bump the advisor's desk version inside ``session`` (serialises changes of slots)."""
    await AdvisorDesk.get_pymongo_collection().update_one(
        {"advisor_id": advisor_id}, {"$inc": {"version": 1}}, upsert=True, session=session
    )


async def slots_between(
    advisor_id: str, start: dt.datetime, end: dt.datetime,
    session: AsyncClientSession | None = None,
) -> list[AdvisorSlot]:  # fmt: skip
    """The advisor's slots starting in [``start`` − 2 h, ``end``) (a slot lasts at most
    2 hours), to check overlaps against."""
    return await AdvisorSlot.find(
        {"advisor_id": advisor_id,
         "start": {"$gte": start - dt.timedelta(hours=2), "$lt": end}},
        session=session).to_list()  # fmt: skip


async def insert_slot(slot: AdvisorSlot, session: AsyncClientSession) -> None:
    """Store a new slot inside ``session``."""
    await slot.insert(session=session)


async def free_slots(advisor_id: str, after: dt.datetime) -> list[AdvisorSlot]:
    """The advisor's offered slots starting after ``after`` that nobody has booked."""
    booked = {
        b.start
        for b in await Booking.find(
            {"advisor_id": advisor_id, "status": "booked", "start": {"$gt": after}}
        ).to_list()
    }
    slots = await AdvisorSlot.find({"advisor_id": advisor_id, "start": {"$gt": after}}).sort(
        "+start").to_list()  # fmt: skip
    return [s for s in slots if _utc(s.start) not in {_utc(b) for b in booked}]


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


async def future_slots(advisor_id: str, after: dt.datetime) -> list[AdvisorSlot]:
    """The advisor's slots starting after ``after`` (booked or not), by start."""
    return await AdvisorSlot.find({"advisor_id": advisor_id, "start": {"$gt": after}}).sort(
        "+start").to_list()  # fmt: skip


async def get_slot(slot_id: str) -> AdvisorSlot | None:
    """One slot by id (``None`` for a malformed id)."""
    if not PydanticObjectId.is_valid(slot_id):
        return None
    return await AdvisorSlot.get(PydanticObjectId(slot_id))


async def booked_at(advisor_id: str, start: dt.datetime) -> Booking | None:
    """The booked consultation of the advisor at ``start``, if any."""
    return await Booking.find_one({"advisor_id": advisor_id, "start": start, "status": "booked"})


async def booked_after(advisor_id: str, after: dt.datetime) -> list[Booking]:
    """The advisor's booked consultations starting after ``after``."""
    return await Booking.find(
        {"advisor_id": advisor_id, "status": "booked", "start": {"$gt": after}}
    ).to_list()


async def delete_slot(slot: AdvisorSlot) -> bool:
    """Remove a slot; False when it was already gone."""
    result = await AdvisorSlot.get_pymongo_collection().delete_one({"_id": slot.id})
    return result.deleted_count == 1


async def restore_slot(slot: AdvisorSlot) -> None:
    """Put back a slot removed while someone booked it."""
    await AdvisorSlot.get_pymongo_collection().insert_one(slot.model_dump(by_alias=True))


async def find_slot(advisor_id: str, start: dt.datetime) -> AdvisorSlot | None:
    """The advisor's slot at ``start``."""
    return await AdvisorSlot.find_one({"advisor_id": advisor_id, "start": start})


async def get_booking(booking_id: str,
                      session: AsyncClientSession | None = None) -> Booking | None:  # fmt: skip
    """One booking by id (``None`` for a malformed id)."""
    if not PydanticObjectId.is_valid(booking_id):
        return None
    return await Booking.get(PydanticObjectId(booking_id), session=session)


async def cancel_booking(booking_id: PydanticObjectId, replaced_by: str | None,
                         session: AsyncClientSession | None = None) -> bool:  # fmt: skip
    """Mark a booked booking cancelled; False when it was not booked any more."""
    result = await Booking.get_pymongo_collection().update_one(
        {"_id": booking_id, "status": "booked"},
        {"$set": {"status": "cancelled", "replaced_by": replaced_by}}, session=session)  # fmt: skip
    return result.modified_count == 1


async def engaged(advisor_id: str, client_id: str) -> bool:
    """Whether the advisor has a booked consultation with the client."""
    found = await Booking.find_one(
        {"advisor_id": advisor_id, "client_id": client_id, "status": "booked"}
    )
    return found is not None


async def bookings_of(user_id: str) -> list[Booking]:
    """Bookings where the person is the client or the advisor, by start."""
    return await Booking.find({"$or": [{"client_id": user_id}, {"advisor_id": user_id}]}).sort(
        "+start").to_list()  # fmt: skip


async def due_reminders(until: dt.datetime) -> list[Booking]:
    """Booked consultations starting before ``until`` with no reminder sent yet."""
    return await Booking.find(
        {
            "status": "booked",
            "reminded_at": None,
            "start": {"$lte": until, "$gt": dt.datetime.now(dt.UTC)},
        }
    ).to_list()


async def claim_reminder(booking_id: PydanticObjectId) -> bool:
    """Mark the reminder sent, once."""
    result = await Booking.get_pymongo_collection().update_one(
        {"_id": booking_id, "reminded_at": None}, {"$set": {"reminded_at": dt.datetime.now(dt.UTC)}}
    )
    return result.modified_count == 1


async def get_strategy(strategy_id: str) -> ModelStrategy | None:
    """One model strategy by id (``None`` for a malformed id)."""
    if not PydanticObjectId.is_valid(strategy_id):
        return None
    return await ModelStrategy.get(PydanticObjectId(strategy_id))


async def strategies() -> list[ModelStrategy]:
    """Every published strategy, newest first (drafts left out)."""
    return await ModelStrategy.find({"published": {"$ne": False}}).sort("-created_at").to_list()


async def strategies_of(advisor_id: str) -> list[ModelStrategy]:
    """An advisor's strategies, drafts included, newest first."""
    return await ModelStrategy.find({"advisor_id": advisor_id}).sort("-created_at").to_list()


async def edit_strategy(strategy_id: PydanticObjectId, fields: dict[str, Any],
                        new_version: bool) -> ModelStrategy | None:  # fmt: skip
    """Set ``fields`` (and the next version when the targets change); the strategy after."""
    change: dict[str, Any] = {"$set": {**fields, "updated_at": dt.datetime.now(dt.UTC)}}
    if new_version:
        change["$inc"] = {"version": 1}
    raw = await ModelStrategy.get_pymongo_collection().find_one_and_update(
        {"_id": strategy_id}, change, return_document=ReturnDocument.AFTER)  # fmt: skip
    return None if raw is None else ModelStrategy.model_validate(raw)


async def publish_strategy(strategy_id: PydanticObjectId) -> ModelStrategy | None:
    """Publish a draft (once; a published one is left as it is); the strategy after."""
    now = dt.datetime.now(dt.UTC)
    await ModelStrategy.get_pymongo_collection().update_one(
        {"_id": strategy_id, "published": False},
        {"$set": {"published": True, "published_at": now, "updated_at": now}})  # fmt: skip
    return await ModelStrategy.get(strategy_id)


async def add_follower(strategy_id: PydanticObjectId, account_id: str) -> None:
    """Record an account as following the strategy (once)."""
    await ModelStrategy.get_pymongo_collection().update_one(
        {"_id": strategy_id}, {"$addToSet": {"followers": account_id}}
    )

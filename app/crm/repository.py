"""Every MongoDB query of the CRM. Each read of leads or clients takes the caller's scope filter
(``Scope.lead_filter``), so role scoping cannot be forgotten in one query."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import BulkWriteError, DuplicateKeyError

from app.crm.documents import (
    Activity,
    Client,
    CrmCounter,
    CrmKycAlert,
    CrmScoreRules,
    CrmStaff,
    Lead,
    LeadMerge,
    LeadStatus,
    Reminder,
    ReminderStatus,
)

Filter = dict[str, Any]
Session = AsyncClientSession | None


def oid(value: str) -> PydanticObjectId | None:
    """``value`` as an ObjectId, or None when it is not one (it then matches nothing)."""
    try:
        return PydanticObjectId(value)
    except Exception:
        return None


def _by_id(record_id: str, scope: Mapping[str, Any]) -> Filter | None:
    key = oid(record_id)
    return None if key is None else {"_id": key, **scope}


# ---- staff ----------------------------------------------------------------------------------


async def staff(user_id: str) -> CrmStaff | None:
    return await CrmStaff.find_one({"_id": user_id})


async def team_of(manager_id: str) -> list[str]:
    found = await CrmStaff.find({"manager_id": manager_id}).to_list()
    return sorted(s.id for s in found)


async def all_staff() -> list[CrmStaff]:
    return await CrmStaff.find({}).sort("+_id").to_list()


async def save_staff(member: CrmStaff) -> None:
    await CrmStaff.get_pymongo_collection().replace_one(
        {"_id": member.id}, member.model_dump(by_alias=True), upsert=True
    )


async def next_counter(name: str) -> int:
    """``$inc`` the counter and return the value after it (upserted from 0)."""
    found = await CrmCounter.get_pymongo_collection().find_one_and_update(
        {"_id": name}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    assert found is not None  # upserted
    return int(found["value"])


SCORE_RULES_ID = "score"


async def score_rules() -> CrmScoreRules | None:
    """The score rules an admin set, or None (the settings' defaults apply)."""
    return await CrmScoreRules.get(SCORE_RULES_ID)


async def save_score_rules(rules: CrmScoreRules, expected_version: int) -> bool:
    """Store ``rules`` (whose ``version`` is ``expected_version + 1``) when the stored rules are
    still at ``expected_version`` (0: none stored yet); False when someone changed them first."""
    body = rules.model_dump(by_alias=True)
    body["_id"] = SCORE_RULES_ID
    collection = CrmScoreRules.get_pymongo_collection()
    if expected_version == 0:
        try:
            await collection.insert_one(body)
        except DuplicateKeyError:
            return False
        return True
    result = await collection.replace_one(
        {"_id": SCORE_RULES_ID, "version": expected_version}, body
    )
    return result.modified_count == 1


async def count_stale_scores(rules_version: int) -> int:
    """Open leads still scored by another version of the rules."""
    return await Lead.find({
        "status": {"$in": [LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED]},
        "score_parts.rules_version": {"$ne": rules_version}}).count()  # fmt: skip


# ---- leads ----------------------------------------------------------------------------------


async def insert_lead(lead: Lead, session: Session = None) -> Lead:
    await lead.insert(session=session)
    return lead


async def insert_leads(leads: list[Lead], session: AsyncClientSession) -> None:
    """Insert new leads in the caller's transaction (raises ``DuplicateKeyError``)."""
    if len(leads) == 1:
        await leads[0].insert(session=session)
        return
    try:
        if leads:
            await Lead.insert_many(leads, session=session)
    except BulkWriteError as exc:  # the same failure as a single insert's, for the callers
        if any(e.get("code") == 11000 for e in exc.details.get("writeErrors", [])):
            raise DuplicateKeyError(str(exc), 11000) from exc
        raise


async def lead(lead_id: str, scope: Mapping[str, Any], session: Session = None) -> Lead | None:
    query = _by_id(lead_id, scope)
    return None if query is None else await Lead.find_one(query, session=session)


async def lead_by_contact(email: str | None, phone_fp: str | None) -> Lead | None:
    """The live lead holding this e-mail or phone fingerprint, else a merged-away lead that
    keeps it reserved (any scope)."""
    ors: list[Filter] = []
    if email:
        ors += [{"dedupe_email": email}, {"held_email": email}]
    if phone_fp:
        ors += [{"dedupe_phone": phone_fp}, {"held_phone": phone_fp}]
    if not ors:
        return None
    found = await Lead.find({"$or": ors}).to_list()
    live = [lead for lead in found if lead.status != "merged"]
    ranked = live or found
    return ranked[0] if ranked else None


async def taken_contacts(emails: list[str], phone_fps: list[str]) -> tuple[set[str], set[str]]:
    """Which of these e-mails and phone fingerprints live leads hold already (or merged-away
    leads keep reserved)."""
    found = await Lead.get_pymongo_collection().find(
        {"$or": [{"dedupe_email": {"$in": emails}}, {"dedupe_phone": {"$in": phone_fps}},
                 {"held_email": {"$in": emails}}, {"held_phone": {"$in": phone_fps}}]},
        {"dedupe_email": 1, "dedupe_phone": 1, "held_email": 1, "held_phone": 1},
    ).to_list()  # fmt: skip
    mails, phones = set(emails), set(phone_fps)
    return (
        {d[k] for d in found for k in ("dedupe_email", "held_email") if d.get(k) in mails},
        {d[k] for d in found for k in ("dedupe_phone", "held_phone") if d.get(k) in phones},
    )


async def update_lead(
    lead_id: PydanticObjectId, version: int, changes: Filter, session: Session,
    unset: list[str] | None = None,
) -> bool:  # fmt: skip
    """Apply ``changes`` when the lead is still at ``version`` (bumping it); False otherwise."""
    update: Filter = {"$set": changes, "$inc": {"version": 1}}
    if unset:
        update["$unset"] = dict.fromkeys(unset, "")
    result = await Lead.get_pymongo_collection().update_one(
        {"_id": lead_id, "version": version}, update, session=session
    )
    return result.modified_count == 1


async def leads(
    query: Filter, *, sort: str = "-created_at", skip: int = 0, limit: int = 50
) -> tuple[list[Lead], int]:
    items = await Lead.find(query).sort(sort).skip(skip).limit(limit).to_list()
    return items, await Lead.find(query).count()


async def all_leads(query: Filter) -> list[Lead]:
    return await Lead.find(query).to_list()


def text_filter(text: str) -> Filter:
    """Leads whose name, e-mail or notes contain ``text`` (case-insensitive, literal)."""
    return {"search_text": {"$regex": re.escape(text.strip().lower())}}


SCORE_SWEPT_ID = "score_rules_swept"
"""The counter holding the rules' version every open lead was last marked for."""


def due_scores_filter(now: dt.datetime) -> Filter:
    """The leads whose score is due by ``now``: one indexed range (``rescore_due``), so a
    sweep with nothing due examines no lead at all."""
    return {"score_parts.rescore_at": {"$lte": now}}


async def due_scores(now: dt.datetime, limit: int) -> list[Lead]:
    """Leads whose score is due by ``now``, longest waiting first."""
    return await Lead.find(due_scores_filter(now)).sort("+score_parts.rescore_at").limit(
        limit).to_list()  # fmt: skip


async def clear_rescore(lead_id: PydanticObjectId) -> None:
    """A closed lead's score is not recomputed any more."""
    await Lead.get_pymongo_collection().update_one(
        {"_id": lead_id}, {"$set": {"score_parts.rescore_at": None}}
    )


async def swept_rules_version() -> int | None:
    """The rules' version every open lead was last marked for (None: never)."""
    found = await CrmCounter.get_pymongo_collection().find_one({"_id": SCORE_SWEPT_ID})
    return None if found is None else int(found["value"])


async def mark_open_scores_due(now: dt.datetime, version: int) -> int:
    """Make every open lead's score due now (the rules changed), then record ``version`` as
    marked for; returns how many leads were marked."""
    result = await Lead.get_pymongo_collection().update_many(
        {"status": {"$in": [LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED]}},
        {"$set": {"score_parts.rescore_at": now}},
    )
    await CrmCounter.get_pymongo_collection().update_one(
        {"_id": SCORE_SWEPT_ID}, {"$set": {"value": version}}, upsert=True
    )
    return result.modified_count


async def oldest_activity_at(
    lead_id: str, kinds: list[str], since: dt.datetime, session: Session = None
) -> dt.datetime | None:
    """When the oldest activity of ``kinds`` at or after ``since`` happened (None: none)."""
    found = await Activity.get_pymongo_collection().find_one(
        {"lead_id": lead_id, "kind": {"$in": kinds}, "at": {"$gte": since}},
        {"at": 1}, sort=[("at", 1)], session=session,
    )  # fmt: skip
    return None if found is None else found["at"]


async def set_score(
    lead_id: PydanticObjectId, score: int, parts: Filter, session: Session = None
) -> None:
    await Lead.get_pymongo_collection().update_one(
        {"_id": lead_id}, {"$set": {"score": score, "score_parts": parts}}, session=session
    )


async def append_search_text(lead_id: str, text: str, session: Session) -> None:
    """Add ``text`` to the lead's searchable text (read and written in the caller's session)."""
    key = oid(lead_id)
    if key is None or not text:
        return
    found = await Lead.get_pymongo_collection().find_one(
        {"_id": key}, {"search_text": 1}, session=session
    )
    if found is not None:
        joined = f"{found.get('search_text', '')} {text}".strip()
        await Lead.get_pymongo_collection().update_one(
            {"_id": key}, {"$set": {"search_text": joined}}, session=session
        )


async def touch_lead(lead_id: str, now: dt.datetime, session: Session) -> None:
    """The lead had an activity at ``now`` (the score's inactivity clock restarts)."""
    key = oid(lead_id)
    if key is not None:
        await Lead.get_pymongo_collection().update_one(
            {"_id": key}, {"$set": {"last_activity_at": now, "updated_at": now}},
            session=session,
        )  # fmt: skip


async def retention_due(before: dt.datetime, limit: int) -> list[Lead]:
    query = {"status": LeadStatus.LOST, "erased_at": None, "last_activity_at": {"$lt": before}}
    return await Lead.find(query).limit(limit).to_list()


# ---- activities -----------------------------------------------------------------------------


async def insert_activity(activity: Activity, session: Session) -> Activity:
    await activity.insert(session=session)
    return activity


async def insert_activities(activities: list[Activity], session: AsyncClientSession) -> None:
    if activities:
        await Activity.insert_many(activities, session=session)


async def timeline(lead_ids: list[str], client_id: str | None, limit: int) -> list[Activity]:
    ors: list[Filter] = [{"lead_id": {"$in": lead_ids}}]
    if client_id:
        ors.append({"client_id": client_id})
    return await Activity.find({"$or": ors}).sort("-at").limit(limit).to_list()


async def count_activities(
    lead_id: str, kinds: list[str], since: dt.datetime, session: Session = None
) -> int:
    return await Activity.find(
        {"lead_id": lead_id, "kind": {"$in": kinds}, "at": {"$gte": since}}, session=session
    ).count()


async def move_activities(
    from_lead: str, to_lead: str, merge_id: str, session: AsyncClientSession
) -> int:
    result = await Activity.get_pymongo_collection().update_many(
        {"lead_id": from_lead},
        {"$set": {"lead_id": to_lead, "merge_id": merge_id, "moved_from": from_lead}},
        session=session,
    )
    return int(result.modified_count)


async def move_back_activities(merge_id: str, to_lead: str, session: AsyncClientSession) -> int:
    result = await Activity.get_pymongo_collection().update_many(
        {"merge_id": merge_id, "moved_from": to_lead},
        {"$set": {"lead_id": to_lead}, "$unset": {"merge_id": "", "moved_from": ""}},
        session=session,
    )  # fmt: skip
    return int(result.modified_count)


async def activities_of(lead_id: str) -> list[Activity]:
    return await Activity.find({"lead_id": lead_id}).sort("+at").to_list()


async def invited_new_account(lead_id: str, user_id: str) -> bool:
    """Whether the CRM's invitation made the account ``user_id`` for this person (its
    ``invited`` activity names the new account; a link request does not)."""
    found = await Activity.find_one(
        {"lead_id": lead_id, "kind": "invited", "data.user_id": user_id}
    )
    return found is not None


async def erase_activities(lead_id: str, client_id: str | None, session: Session) -> None:
    ors: list[Filter] = [{"lead_id": lead_id}]
    if client_id:
        ors.append({"client_id": client_id})
    await Activity.get_pymongo_collection().update_many(
        {"$or": ors}, {"$set": {"text": "", "data": {}}}, session=session
    )


# ---- reminders ------------------------------------------------------------------------------


async def insert_reminder(reminder: Reminder, session: Session = None) -> Reminder:
    await reminder.insert(session=session)
    return reminder


async def reminder(reminder_id: str) -> Reminder | None:
    key = oid(reminder_id)
    return None if key is None else await Reminder.find_one({"_id": key})


async def due_reminders(now: dt.datetime, limit: int) -> list[Reminder]:
    return (
        await Reminder.find({"status": ReminderStatus.PENDING, "due_at": {"$lte": now}})
        .sort("+due_at")
        .limit(limit)
        .to_list()
    )


async def claim_reminder(
    reminder_id: PydanticObjectId, now: dt.datetime, session: AsyncClientSession
) -> bool:
    """pending → sent, guarded: True for exactly one caller."""
    result = await Reminder.get_pymongo_collection().update_one(
        {"_id": reminder_id, "status": ReminderStatus.PENDING},
        {"$set": {"status": ReminderStatus.SENT, "sent_at": now}}, session=session,
    )  # fmt: skip
    return result.modified_count == 1


async def finish_reminder(
    reminder_id: PydanticObjectId, status: ReminderStatus, now: dt.datetime
) -> bool:
    result = await Reminder.get_pymongo_collection().update_one(
        {"_id": reminder_id, "status": {"$in": [ReminderStatus.PENDING, ReminderStatus.SENT]}},
        {"$set": {"status": status, "done_at": now}},
    )  # fmt: skip
    return result.modified_count == 1


async def reminders_of(query: Filter, limit: int = 200) -> list[Reminder]:
    return await Reminder.find(query).sort("+due_at").limit(limit).to_list()


async def move_reminders(
    from_lead: str, to_lead: str, merge_id: str, session: AsyncClientSession
) -> None:
    await Reminder.get_pymongo_collection().update_many(
        {"lead_id": from_lead},
        {"$set": {"lead_id": to_lead, "merge_id": merge_id, "moved_from": from_lead}},
        session=session,
    )


async def move_back_reminders(merge_id: str, to_lead: str, session: AsyncClientSession) -> None:
    await Reminder.get_pymongo_collection().update_many(
        {"merge_id": merge_id, "moved_from": to_lead},
        {"$set": {"lead_id": to_lead}, "$unset": {"merge_id": "", "moved_from": ""}},
        session=session,
    )  # fmt: skip


async def erase_reminder_texts(lead_id: str, client_id: str | None, session: Session) -> None:
    """Blank the text of every reminder about the lead or its client, whatever its status."""
    ors: list[Filter] = [{"lead_id": lead_id}]
    if client_id:
        ors.append({"client_id": client_id})
    await Reminder.get_pymongo_collection().update_many(
        {"$or": ors}, {"$set": {"text": ""}}, session=session
    )


ERASED_PERSON: Filter = {
    "full_name": "(erased)", "email": None, "phone_sealed": None, "phone_last4": None,
    "city": None, "company": None, "message": None, "search_text": "", "name_tokens": [],
}  # fmt: skip
UNIQUE_KEYS = ("dedupe_email", "dedupe_phone", "held_email", "held_phone")


async def erase_merges(lead_id: str, now: dt.datetime, session: Session) -> None:
    """Erase the person from both snapshots of every merge ``lead_id`` took part in (a merge
    said the two leads were one person), so an undo never brings their data back."""
    for side in ("winner", "loser"):
        await LeadMerge.get_pymongo_collection().update_many(
            {"$or": [{"winner_id": lead_id}, {"loser_id": lead_id}]},
            {"$set": {f"{side}_before.{k}": v for k, v in
                      {**ERASED_PERSON, "erased_at": now}.items()},
             "$unset": {f"{side}_before.{k}": "" for k in UNIQUE_KEYS}},
            session=session,
        )  # fmt: skip


async def erase_merged_away(lead_id: str, now: dt.datetime, session: Session) -> list[str]:
    """Erase the leads merged into ``lead_id`` (the same person), releasing the keys they
    held; returns their ids."""
    query = {"merged_into": lead_id, "status": LeadStatus.MERGED}
    found = await Lead.get_pymongo_collection().find(query, {"_id": 1}, session=session).to_list()
    await Lead.get_pymongo_collection().update_many(
        query, {"$set": {**ERASED_PERSON, "erased_at": now, "updated_at": now},
                "$unset": dict.fromkeys(UNIQUE_KEYS, ""), "$inc": {"version": 1}},
        session=session,
    )  # fmt: skip
    return [str(doc["_id"]) for doc in found]


async def cancel_reminders(lead_id: str, session: Session) -> None:
    await Reminder.get_pymongo_collection().update_many(
        {"lead_id": lead_id, "status": ReminderStatus.PENDING},
        {"$set": {"status": ReminderStatus.CANCELLED, "text": ""}}, session=session,
    )  # fmt: skip


# ---- merges ---------------------------------------------------------------------------------


async def insert_merge(merge: LeadMerge, session: AsyncClientSession) -> LeadMerge:
    await merge.insert(session=session)
    return merge


async def merges(merge_ids: list[str]) -> list[LeadMerge]:
    keys = [k for k in (oid(i) for i in merge_ids) if k is not None]
    return await LeadMerge.find({"_id": {"$in": keys}}).to_list() if keys else []


async def leads_by_ids(lead_ids: list[str]) -> list[Lead]:
    keys = [k for k in (oid(i) for i in lead_ids) if k is not None]
    return await Lead.find({"_id": {"$in": keys}}).to_list() if keys else []


async def merge(merge_id: str, session: Session = None) -> LeadMerge | None:
    key = oid(merge_id)
    return None if key is None else await LeadMerge.find_one({"_id": key}, session=session)


async def mark_merge_undone(
    merge_id: PydanticObjectId, actor_id: str, now: dt.datetime, session: AsyncClientSession
) -> bool:
    result = await LeadMerge.get_pymongo_collection().update_one(
        {"_id": merge_id, "undone_at": None},
        {"$set": {"undone_at": now, "undone_by": actor_id}}, session=session,
    )  # fmt: skip
    return result.modified_count == 1


async def replace_lead_fields(
    lead_id: PydanticObjectId, fields: Filter, session: AsyncClientSession
) -> None:
    """Restore a lead's stored fields as they were (an undone merge), bumping its version;
    the reserved keys of a merged-away lead are dropped unless ``fields`` has them."""
    body = {k: v for k, v in fields.items() if k not in ("_id", "version")}
    update: Filter = {"$set": body, "$inc": {"version": 1}}
    dropped = {k: "" for k in ("held_email", "held_phone") if k not in body}
    if dropped:
        update["$unset"] = dropped
    await Lead.get_pymongo_collection().update_one({"_id": lead_id}, update, session=session)


async def raw_lead(lead_id: PydanticObjectId, session: Session) -> Filter | None:
    found = await Lead.get_pymongo_collection().find_one({"_id": lead_id}, session=session)
    return None if found is None else dict(found)


# ---- clients --------------------------------------------------------------------------------


async def insert_client(client: Client, session: AsyncClientSession) -> Client:
    await client.insert(session=session)
    return client


async def client(
    client_id: str, scope: Mapping[str, Any], session: Session = None
) -> Client | None:
    query = _by_id(client_id, scope)
    return None if query is None else await Client.find_one(query, session=session)


async def clients(query: Filter, *, skip: int = 0, limit: int = 50) -> tuple[list[Client], int]:
    items = await Client.find(query).sort("-created_at").skip(skip).limit(limit).to_list()
    return items, await Client.find(query).count()


async def all_clients(query: Filter) -> list[Client]:
    return await Client.find(query).to_list()


async def update_client(
    client_id: PydanticObjectId, changes: Filter, session: Session = None
) -> None:
    await Client.get_pymongo_collection().update_one(
        {"_id": client_id}, {"$set": changes}, session=session
    )


async def answer_link(
    client_id: PydanticObjectId, user_id: str, accept: bool, session: Session = None
) -> bool:
    """Settle the pending request to link ``user_id`` to the client: accepted, the account
    becomes the client's ``user_id``. False when no such request waits (answered already)."""
    changes: Filter = {"$unset": {"link_user_id": "", "link_requested_at": ""}}
    if accept:
        changes["$set"] = {"user_id": user_id}
    done = await Client.get_pymongo_collection().update_one(
        {"_id": client_id, "link_user_id": user_id, "erased_at": None}, changes, session=session
    )
    return done.modified_count == 1


async def record_kyc_alert(alert: CrmKycAlert) -> bool:
    """Store the alert; False when it was sent before (the unique index)."""
    try:
        await alert.insert()
    except DuplicateKeyError:
        return False
    return True

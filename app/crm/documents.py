"""Stored shapes of the CRM: staff and teams, leads, activities, reminders, merges, clients.

Exact duplicates are refused by unique partial indexes on ``dedupe_email`` and
``dedupe_phone`` (set only while a lead is live: a merged-away or erased lead releases them).
A merged-away lead keeps its keys reserved in ``held_email`` / ``held_phone`` (checked by the
service, so a new lead cannot take them and the merge stays undoable; the undo frees them).
Phone numbers are stored sealed (AES-GCM, privacy.py) with their last four digits and a keyed
fingerprint; e-mail addresses stay readable because they are searched.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.realtime.eventlog import utcnow


class LeadStatus(StrEnum):
    """new → contacted → qualified → converted | lost (with a reason). ``merged`` marks a lead
    folded into another (undoable)."""

    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    CONVERTED = "converted"
    LOST = "lost"
    MERGED = "merged"


# The lifecycle: from → the statuses a person may move a lead to. ``converted`` is reached only
# through the conversion (it creates the client); ``converted`` and ``merged`` are final here.
TRANSITIONS: dict[LeadStatus, frozenset[LeadStatus]] = {
    LeadStatus.NEW: frozenset({LeadStatus.CONTACTED, LeadStatus.LOST}),
    LeadStatus.CONTACTED: frozenset({LeadStatus.QUALIFIED, LeadStatus.LOST}),
    LeadStatus.QUALIFIED: frozenset({LeadStatus.CONVERTED, LeadStatus.LOST}),
    LeadStatus.LOST: frozenset({LeadStatus.CONTACTED}),  # re-opened when they come back
    LeadStatus.CONVERTED: frozenset(),
    LeadStatus.MERGED: frozenset(),
}

# Funnel stages in order: a lead's ``stage`` is the furthest it reached (a lost lead keeps it).
STAGES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.CONVERTED)


class LeadSource(StrEnum):
    """Where a lead came from (the score's ``source`` part is set per source)."""

    WEB_FORM = "web_form"
    MANUAL = "manual"
    IMPORT = "import"
    REFERRAL = "referral"
    EVENT = "event"


class ActivityKind(StrEnum):
    """What an activity on a lead's or client's timeline records."""

    CREATED = "created"
    WEB_FORM = "web_form"
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    NOTE = "note"
    STATUS = "status"
    ASSIGNED = "assigned"
    MERGED = "merged"
    MERGE_UNDONE = "merge_undone"
    CONVERTED = "converted"
    REMINDER = "reminder"
    PROFILE = "profile"
    INVITED = "invited"
    KYC = "kyc"  # a KYC document uploaded by staff for the client
    LINKED = "linked"  # the person answered the request to link their existing account


# Activities a person logs by hand (the rest are written by the service).
LOGGED_KINDS = (ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING, ActivityKind.NOTE)
# Activities that count as engagement in the score.
ENGAGEMENT_KINDS = (*LOGGED_KINDS, ActivityKind.WEB_FORM)


class ScoreParts(BaseModel):
    """A score and how it was reached: points by rule, the decay factor (basis points) and the
    total (0–100)."""

    source: int = 0
    engagement: int = 0
    completeness: int = 0
    decay_bp: int = 10_000
    days_inactive: int = 0
    total: int = 0
    computed_at: dt.datetime | None = None
    rules_version: int = 0  # the version of the score rules it was computed by
    # When this score changes by time alone (the next whole day of inactivity, the oldest
    # engaging activity leaving the window, or the refresh period): the worker's sweep reads
    # only leads whose moment came (index ``rescore_due``). None: a closed lead, never again.
    rescore_at: dt.datetime | None = None


# The profile fields the score's completeness part may give points for.
SCORE_FIELDS = ("email", "phone", "city", "company", "investment_capacity")


class CrmScoreRules(Document):
    """The lead score's rules and weights as an admin set them on screen (one document,
    ``_id`` ``"score"``). Without it the settings' defaults apply as version 0. Each change
    bumps ``version``; a score records the version it was computed by, so the worker's sweep
    recomputes every open lead scored by another version (the scores follow the rules)."""

    id: str  # type: ignore[assignment]
    source_points: dict[str, int]
    engagement_points: int
    engagement_cap: int
    engagement_days: int
    completeness_points: dict[str, int]
    half_life_days: float
    version: int = 0
    updated_at: dt.datetime | None = None
    updated_by: str | None = None

    class Settings:
        name = "crm_score_rules"


class CrmStaff(Document):
    """A CRM staff member's place in a team (``_id`` is the user id): agents point at their
    manager. ``active`` agents take part in round-robin assignment."""

    id: str  # type: ignore[assignment]
    manager_id: str | None = None
    active: bool = True
    updated_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "crm_staff"
        indexes = [IndexModel([("manager_id", ASCENDING)], name="team")]


class CrmCounter(Document):
    """A named counter (``round_robin``), moved with ``$inc``."""

    id: str  # type: ignore[assignment]
    value: int = 0

    class Settings:
        name = "crm_counters"


class Lead(Document):
    """A prospect. ``owner_id`` is the assigned agent (scope follows it). ``stage`` is the
    furthest funnel stage reached. ``search_text`` holds the lower-cased name, e-mail and note
    texts (text search). ``erased_at``: the person's data was erased on request."""

    full_name: str
    email: str | None = None
    dedupe_email: str | None = None
    phone_sealed: str | None = None
    phone_last4: str | None = None
    dedupe_phone: str | None = None
    held_email: str | None = None  # a merged-away lead's reserved keys (see the module)
    held_phone: str | None = None
    city: str | None = None
    company: str | None = None
    investment_capacity: int | None = None  # paise
    message: str | None = None
    source: LeadSource = LeadSource.MANUAL
    status: LeadStatus = LeadStatus.NEW
    stage: LeadStatus = LeadStatus.NEW
    lost_reason: str | None = None
    owner_id: str | None = None
    created_by: str | None = None
    client_id: str | None = None
    merged_into: str | None = None
    score: int = 0
    score_parts: ScoreParts = Field(default_factory=ScoreParts)
    search_text: str = ""
    name_tokens: list[str] = Field(default_factory=list)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    last_activity_at: dt.datetime = Field(default_factory=utcnow)
    converted_at: dt.datetime | None = None
    lost_at: dt.datetime | None = None
    erased_at: dt.datetime | None = None
    version: int = 0

    class Settings:
        name = "crm_leads"
        indexes = [
            IndexModel([("dedupe_email", ASCENDING)], unique=True, name="exact_email",
                       partialFilterExpression={"dedupe_email": {"$type": "string"}}),
            IndexModel([("dedupe_phone", ASCENDING)], unique=True, name="exact_phone",
                       partialFilterExpression={"dedupe_phone": {"$type": "string"}}),
            IndexModel([("held_email", ASCENDING)], name="held_email",
                       partialFilterExpression={"held_email": {"$type": "string"}}),
            IndexModel([("held_phone", ASCENDING)], name="held_phone",
                       partialFilterExpression={"held_phone": {"$type": "string"}}),
            IndexModel([("owner_id", ASCENDING), ("status", ASCENDING)], name="owner_status"),
            IndexModel([("created_at", DESCENDING)], name="created"),
            IndexModel([("score_parts.rescore_at", ASCENDING)], name="rescore_due"),
            IndexModel([("name_tokens", ASCENDING)], name="name_tokens"),
        ]  # fmt: skip


class Activity(Document):
    """One entry of a timeline. Belongs to a lead (``lead_id``) and, after conversion, is
    shown on the client's timeline too (``client_id`` of the lead). ``merge_id`` marks an
    activity moved by a merge (so an undo moves it back to ``moved_from``)."""

    lead_id: str | None = None
    client_id: str | None = None
    kind: ActivityKind
    text: str = ""
    actor_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    at: dt.datetime = Field(default_factory=utcnow)
    merge_id: str | None = None
    moved_from: str | None = None

    class Settings:
        name = "crm_activities"
        indexes = [
            IndexModel([("lead_id", ASCENDING), ("at", DESCENDING)], name="lead_timeline"),
            IndexModel([("client_id", ASCENDING), ("at", DESCENDING)], name="client_timeline"),
            IndexModel([("merge_id", ASCENDING)], name="by_merge"),
        ]


class ReminderStatus(StrEnum):
    """pending → sent (once, by the worker) → done; or cancelled."""

    PENDING = "pending"
    SENT = "sent"
    DONE = "done"
    CANCELLED = "cancelled"


class Reminder(Document):
    """A follow-up due at ``due_at`` for ``assignee_id`` about a lead or client. The worker
    moves it pending → sent with a guarded update in the transaction that stores the
    notification, so it is delivered exactly once however many workers sweep."""

    lead_id: str | None = None
    client_id: str | None = None
    assignee_id: str
    due_at: dt.datetime
    text: str
    status: ReminderStatus = ReminderStatus.PENDING
    created_by: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None
    done_at: dt.datetime | None = None
    merge_id: str | None = None
    moved_from: str | None = None

    class Settings:
        name = "crm_reminders"
        indexes = [
            IndexModel([("status", ASCENDING), ("due_at", ASCENDING)], name="due"),
            IndexModel([("assignee_id", ASCENDING), ("due_at", ASCENDING)], name="assignee"),
        ]


class LeadMerge(Document):
    """A merge of ``loser_id`` into ``winner_id``: what the winner looked like before (to undo)
    and which fields it took from the loser."""

    winner_id: str
    loser_id: str
    actor_id: str
    at: dt.datetime = Field(default_factory=utcnow)
    winner_before: dict[str, Any] = Field(default_factory=dict)
    loser_before: dict[str, Any] = Field(default_factory=dict)
    filled: list[str] = Field(default_factory=list)
    undone_at: dt.datetime | None = None
    undone_by: str | None = None

    class Settings:
        name = "crm_lead_merges"
        indexes = [IndexModel([("winner_id", ASCENDING)], name="winner")]


class ClientStatus(StrEnum):
    """A client's standing with the operator."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"


class Segment(StrEnum):
    """By declared investment capacity (settings' bounds); ``unknown`` when not declared."""

    MASS = "mass"
    AFFLUENT = "affluent"
    HNI = "hni"
    UNKNOWN = "unknown"


class InvestmentProfile(BaseModel):
    """Risk tolerance, goals and preferred products (from the advisory questionnaire when
    the client has taken it)."""

    risk_tolerance: str | None = None  # conservative | moderate | aggressive
    horizon_years: int | None = None
    goals: list[str] = Field(default_factory=list)
    preferred_products: list[str] = Field(default_factory=list)


class ContactPreferences(BaseModel):
    """How and when the client likes to be reached."""

    channel: str = "email"  # email | phone | whatsapp
    best_time: str | None = None
    language: str | None = None
    do_not_contact: bool = False


class Client(Document):
    """A converted lead. ``lead_id`` keeps the history (its activities are the client's);
    ``owner_id`` is the assigned relationship manager (scope follows it); ``user_id`` the
    platform account when they were invited (a new account) or its holder agreed to link it.
    ``link_user_id`` is an existing account the CRM asked to link: until its holder accepts,
    signed in, the CRM sees nothing of it (``user_id`` stays None)."""

    lead_id: str
    full_name: str
    email: str | None = None
    phone_sealed: str | None = None
    phone_last4: str | None = None
    address_sealed: str | None = None
    city: str | None = None
    company: str | None = None
    owner_id: str | None = None
    user_id: str | None = None
    # True when the CRM's invitation made that account (not an existing one linked by its
    # holder's consent): an erasure may then erase the account too (service.do_erase).
    account_created: bool = False
    link_user_id: str | None = None
    link_requested_at: dt.datetime | None = None
    status: ClientStatus = ClientStatus.ACTIVE
    investment_capacity: int | None = None  # paise
    segment: Segment = Segment.UNKNOWN
    investment_profile: InvestmentProfile = Field(default_factory=InvestmentProfile)
    preferences: ContactPreferences = Field(default_factory=ContactPreferences)
    source: LeadSource = LeadSource.MANUAL
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    erased_at: dt.datetime | None = None
    # Why their platform account outlived the erasure (sentences; no personal data).
    account_retained: list[str] = Field(default_factory=list)

    class Settings:
        name = "crm_clients"
        indexes = [
            IndexModel([("lead_id", ASCENDING)], unique=True, name="one_client_per_lead"),
            IndexModel([("owner_id", ASCENDING)], name="owner"),
            IndexModel([("user_id", ASCENDING)], name="user"),
            IndexModel([("link_user_id", ASCENDING)], name="link_user"),
        ]


class CrmKycAlert(Document):
    """A KYC expiry alert sent to a client's manager: one per document and threshold (unique),
    so re-running the sweep tells nobody twice."""

    client_id: str
    document_id: str
    days_before: int
    created_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "crm_kyc_alerts"
        indexes = [
            IndexModel([("document_id", ASCENDING), ("days_before", ASCENDING)], unique=True,
                       name="once"),
        ]  # fmt: skip


def crm_documents() -> list[type[Document]]:
    """Every CRM document, for ``app.extensions.document_models``."""
    return [CrmStaff, CrmCounter, Lead, Activity, Reminder, LeadMerge, Client, CrmKycAlert,
            CrmScoreRules]  # fmt: skip

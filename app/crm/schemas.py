"""Request and response shapes of the CRM API (``/api/v1/crm/…``) and its socket payloads.
Amounts are two-place decimal strings (``"500000.00"``), percentages basis points, times ISO."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, WithJsonSchema, field_validator, model_validator

from app.crm.contact import masked_last4
from app.crm.documents import (
    Activity,
    ActivityKind,
    Client,
    ClientStatus,
    ContactPreferences,
    InvestmentProfile,
    Lead,
    LeadMerge,
    LeadSource,
    LeadStatus,
    Reminder,
    ReminderStatus,
    ScoreParts,
    Segment,
)
from app.kyc.documents import AddressProofType, DocumentKind
from app.kyc.schemas import KycDocumentOut
from app.money import AMOUNT_SCHEMA, format_minor
from app.money import Paise as MoneyPaise
from app.realtime.contract import ServerEvent

# A declared amount (investment capacity): app.money's decimal-string amount, never negative.
Paise = Annotated[
    MoneyPaise, Field(ge=0),
    WithJsonSchema({**AMOUNT_SCHEMA, "pattern": r"^\d{1,15}(\.\d{1,2})?$",
                    "examples": ["500000.00"]}),
]  # fmt: skip

Name = Annotated[str, Field(min_length=1, max_length=120)]
Text = Annotated[str, Field(max_length=4000)]


def _amount(value: int | None) -> str | None:
    return None if value is None else format_minor(value)


# ---- leads ----------------------------------------------------------------------------------


class WebFormRequest(BaseModel):
    """``POST /api/v1/crm/web-form`` (public). ``website`` is a honeypot: people leave it
    empty (it is hidden); a filled one is answered like any other and stored nowhere."""

    full_name: Name
    email: str = Field(max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=80)
    message: Text | None = None
    website: str | None = Field(default=None, max_length=200)


class WebFormReply(BaseModel):
    """Always the same answer, whether the lead is new, known or spam."""

    received: bool = True


class LeadCreate(BaseModel):
    """``POST /api/v1/crm/leads``: manual entry. ``owner_id`` empty: round robin among active
    agents (an agent's own entries stay theirs)."""

    full_name: Name
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=80)
    company: str | None = Field(default=None, max_length=120)
    investment_capacity: Paise | None = None
    source: LeadSource = LeadSource.MANUAL
    message: Text | None = None
    owner_id: str | None = None


class LeadPatch(BaseModel):
    """``PATCH /api/v1/crm/leads/<id>``: contact and profile fields (absent: unchanged)."""

    full_name: Name | None = None
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=80)
    company: str | None = Field(default=None, max_length=120)
    investment_capacity: Paise | None = None


class StatusChange(BaseModel):
    """``POST /api/v1/crm/leads/<id>/status``. ``reason`` is required for ``lost``;
    ``version`` is the lead's version the person saw (the board and lead page send it): when
    the lead changed since, nothing is written (409 ``lead_changed``)."""

    status: LeadStatus
    reason: str | None = Field(default=None, max_length=500)
    version: int | None = Field(default=None, ge=0, le=1_000_000_000)


class AssignRequest(BaseModel):
    """``POST /api/v1/crm/leads/<id>/assign``: to a person, or ``round_robin``."""

    owner_id: str | None = None
    round_robin: bool = False


class ActivityCreate(BaseModel):
    """``POST /api/v1/crm/leads/<id>/activities`` (and on a client): a call, e-mail, meeting
    or note."""

    kind: Literal["call", "email", "meeting", "note"]
    text: Text = Field(min_length=1)


class MergeRequest(BaseModel):
    """``POST /api/v1/crm/leads/<id>/merge``: fold ``other_id`` into this lead."""

    other_id: str


class ConvertRequest(BaseModel):
    """``POST /api/v1/crm/leads/<id>/convert``: the client's starting profile; ``invite``
    creates their platform account and mails them how to sign in."""

    invite: bool = False
    investment_capacity: Paise | None = None
    investment_profile: InvestmentProfile | None = None
    version: int | None = Field(default=None, ge=0, le=1_000_000_000)  # as the person saw it


class ImportRequest(BaseModel):
    """``POST /api/v1/crm/leads/import``: CSV text with a header row. Columns: ``full_name``
    (required), ``email``, ``phone``, ``city``, ``company``, ``investment_capacity``,
    ``source``, ``message``."""

    csv: str = Field(min_length=1, max_length=2_000_000)
    source: LeadSource = LeadSource.IMPORT


class ImportRow(BaseModel):
    """One data row's outcome (``row`` counts from 2: the header is row 1); a refusal names
    its ``code``, the ``field`` (column) at fault when there is one, and a sentence."""

    row: int
    status: Literal["created", "refused"]
    lead_id: str | None = None
    code: str | None = None
    field: str | None = None
    message: str | None = None


class ImportReport(BaseModel):
    """What an import did, row by row."""

    created: int
    refused: int
    rows: list[ImportRow]


class LeadQuery(BaseModel):
    """``GET /api/v1/crm/leads``: filters, text search over names, e-mails and notes, pages."""

    status: LeadStatus | None = None
    source: LeadSource | None = None
    owner_id: str | None = None
    q: str | None = Field(default=None, max_length=100)
    skip: int = Field(default=0, ge=0, le=100_000)
    limit: int = Field(default=50, ge=1, le=500)
    sort: Literal["created", "score", "activity"] = "created"


class ScoreOut(BaseModel):
    """A score (0–100) and its parts: points by rule and the inactivity decay."""

    total: int
    source: int
    engagement: int
    completeness: int
    decay_bp: int
    days_inactive: int
    computed_at: dt.datetime | None
    rules_version: int = 0  # of the score rules it was computed by

    @classmethod
    def of(cls, parts: ScoreParts) -> ScoreOut:
        return cls(**parts.model_dump())


class LeadOut(BaseModel):
    """A lead as its owner, their manager and admins see it (phone masked in lists)."""

    id: str
    full_name: str
    email: str | None
    phone: str | None
    city: str | None
    company: str | None
    investment_capacity: str | None
    message: str | None
    source: LeadSource
    status: LeadStatus
    stage: LeadStatus
    lost_reason: str | None
    owner_id: str | None
    owner_name: str | None = None
    client_id: str | None
    merged_into: str | None
    score: ScoreOut
    created_at: dt.datetime
    updated_at: dt.datetime
    last_activity_at: dt.datetime
    erased: bool
    version: int = Field(
        default=0, description="bumped by every change (a live board keeps the newest it saw)"
    )

    @classmethod
    def of(cls, lead: Lead, phone: str | None = None, owner_name: str | None = None) -> LeadOut:
        """``phone``: the unsealed number for a detail view; lists show it masked."""
        shown = phone or (masked_last4(lead.phone_last4) if lead.phone_last4 else None)
        return cls(
            id=str(lead.id), full_name=lead.full_name, email=lead.email, phone=shown,
            city=lead.city, company=lead.company,
            investment_capacity=_amount(lead.investment_capacity), message=lead.message,
            source=lead.source, status=lead.status, stage=lead.stage,
            lost_reason=lead.lost_reason, owner_id=lead.owner_id, owner_name=owner_name,
            client_id=lead.client_id, merged_into=lead.merged_into,
            score=ScoreOut.of(lead.score_parts), created_at=lead.created_at,
            updated_at=lead.updated_at, last_activity_at=lead.last_activity_at,
            erased=lead.erased_at is not None, version=lead.version,
        )  # fmt: skip


class DuplicateOut(BaseModel):
    """A near duplicate: similarity of names and e-mails (0–100)."""

    lead: LeadOut
    name_ratio: int
    email_ratio: int


class DuplicateList(BaseModel):
    """Near duplicates, most similar first."""

    items: list[DuplicateOut]


class LeadCreated(BaseModel):
    """A new lead and the near duplicates found (similar name and e-mail)."""

    lead: LeadOut
    possible_duplicates: list[DuplicateOut]


class LeadPage(BaseModel):
    """A page of leads and the total matching."""

    items: list[LeadOut]
    total: int


class ActivityOut(BaseModel):
    """One timeline entry. A merge's entries name the other lead (``other_name``, as it is
    now: "(erased)" after an erasure); a ``merged`` entry says whether it can still be undone
    (``undoable``: ``POST /api/v1/crm/merges/{data.merge_id}/undo``)."""

    id: str
    lead_id: str | None
    client_id: str | None
    kind: ActivityKind
    text: str
    actor_id: str | None
    actor_name: str | None = None
    other_name: str | None = None
    undoable: bool | None = None
    data: dict[str, Any]
    at: dt.datetime

    @classmethod
    def of(cls, a: Activity, actor_name: str | None = None, other_name: str | None = None,
           undoable: bool | None = None) -> ActivityOut:  # fmt: skip
        return cls(id=str(a.id), lead_id=a.lead_id, client_id=a.client_id, kind=a.kind,
                   text=a.text, actor_id=a.actor_id, actor_name=actor_name,
                   other_name=other_name, undoable=undoable, data=a.data, at=a.at)  # fmt: skip


class Timeline(BaseModel):
    """Newest first."""

    items: list[ActivityOut]


class MergeOut(BaseModel):
    """A merge: which lead took which, which fields it took, and whether it was undone."""

    id: str
    winner_id: str
    loser_id: str
    filled: list[str]
    at: dt.datetime
    undone_at: dt.datetime | None

    @classmethod
    def of(cls, m: LeadMerge) -> MergeOut:
        return cls(id=str(m.id), winner_id=m.winner_id, loser_id=m.loser_id, filled=m.filled,
                   at=m.at, undone_at=m.undone_at)  # fmt: skip


# ---- the live board ------------------------------------------------------------------------

BoardChange = Literal["created", "updated", "status", "assigned", "converted", "merged",
                      "merge_undone", "erased", "activity", "reminder"]  # fmt: skip


class CrmLeadEvent(ServerEvent):
    """``crm:lead`` in a board room (``crm:board:<user_id>``, ``crm:board:all``): a lead was
    added, moved, assigned, converted, merged or erased, or had an activity or a reminder
    added (open lead pages listen to it too and reload that lead). ``lead`` is the lead after
    the change (phone masked); ``visible`` whether it belongs on this room's board now
    (false: take the card off — it went to someone outside this viewer's team, or was merged
    away). ``seq`` is the room's gap-free sequence number."""

    seq: int = Field(ge=1)
    change: BoardChange
    lead: LeadOut
    visible: bool


ClientChange = Literal["updated", "activity", "reminder", "kyc", "invited", "linked", "erased"]


class CrmClientEvent(ServerEvent):
    """``crm:client`` in a board room: a client's profile, status or manager changed, or an
    activity, a follow-up or a KYC document was added, or the person was erased (open client
    pages listen to it and reload that client). No personal data travels in it (the log keeps
    it): the page reads the client again. ``visible`` whether the client is in this room's
    viewer's book now (false: it went to a manager outside their team). ``seq`` is the room's
    gap-free sequence number."""

    seq: int = Field(ge=1)
    change: ClientChange
    client_id: str
    lead_id: str
    owner_id: str | None
    visible: bool


class BoardJoin(BaseModel):
    """``crm:join``: enter one's own board room (the server picks it from the account's CRM
    role and team); ``after_seq`` to receive what was missed since."""

    after_seq: int | None = Field(default=None, ge=0, le=2**63 - 1)


class BoardLeave(BaseModel):
    """``crm:leave``: stop receiving board changes."""


class BoardMissed(BaseModel):
    """One event of the room's log, as it was sent."""

    event: str
    data: dict[str, Any]


class BoardJoined(BaseModel):
    """The ack of ``crm:join``: the room, its last ``seq``, the events after ``after_seq``
    (oldest first) and ``complete`` false when more were missed than are replayed (reload
    the board)."""

    ok: Literal[True] = True
    room: str
    seq: int
    missed: list[BoardMissed]
    complete: bool


class BoardLeft(BaseModel):
    """The ack of ``crm:leave``."""

    ok: Literal[True] = True
    room: str


# ---- reminders ------------------------------------------------------------------------------


class ReminderCreate(BaseModel):
    """``POST /api/v1/crm/reminders``: about a lead or a client; the assignee defaults to its
    owner."""

    lead_id: str | None = None
    client_id: str | None = None
    due_at: dt.datetime
    text: str = Field(min_length=1, max_length=500)
    assignee_id: str | None = None


class ReminderOut(BaseModel):
    """A follow-up."""

    id: str
    lead_id: str | None
    client_id: str | None
    assignee_id: str
    due_at: dt.datetime
    text: str
    status: ReminderStatus
    sent_at: dt.datetime | None

    @classmethod
    def of(cls, r: Reminder) -> ReminderOut:
        return cls(id=str(r.id), lead_id=r.lead_id, client_id=r.client_id,
                   assignee_id=r.assignee_id, due_at=r.due_at, text=r.text, status=r.status,
                   sent_at=r.sent_at)  # fmt: skip


class ReminderList(BaseModel):
    """Soonest first."""

    items: list[ReminderOut]


class ReminderQuery(BaseModel):
    """``GET /api/v1/crm/reminders``: ``today`` (due by the end of today in ``tz``, the
    person's IANA time zone — UTC when not given —, overdue included, not done), ``open`` or
    ``all``."""

    scope: Literal["today", "open", "all"] = "today"
    tz: str | None = Field(default=None, max_length=64)

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "Asia" is a directory
            raise ValueError("an IANA time zone such as Asia/Kolkata") from exc
        return value.strip()


class ReminderDueEvent(ServerEvent):
    """``crm:reminder`` once, when a follow-up falls due, in the board rooms of its assignee
    (their own, their manager's, the admins'): logged with the room's gap-free ``seq``, so a
    screen that was away when it fell due gets it on its next ``crm:join``. The reminders
    screen shows those whose ``reminder.assignee_id`` is the viewer."""

    seq: int = Field(ge=1)
    reminder: ReminderOut
    subject: str


# ---- clients --------------------------------------------------------------------------------


class ClientPatch(BaseModel):
    """``PATCH /api/v1/crm/clients/<id>`` (absent: unchanged)."""

    full_name: Name | None = None
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=500)
    city: str | None = Field(default=None, max_length=80)
    company: str | None = Field(default=None, max_length=120)
    status: ClientStatus | None = None
    owner_id: str | None = None
    investment_capacity: Paise | None = None
    investment_profile: InvestmentProfile | None = None
    preferences: ContactPreferences | None = None


class ClientCreate(BaseModel):
    """``POST /api/v1/crm/clients``: a client entered directly (someone who came to the firm
    without being a lead first). The same exact-duplicate rule as leads (the same e-mail or
    phone is refused); ``owner_id`` empty: the entering agent, else the next agent in turn;
    ``invite`` creates their platform account and mails them how to sign in."""

    full_name: Name
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=500)
    city: str | None = Field(default=None, max_length=80)
    company: str | None = Field(default=None, max_length=120)
    investment_capacity: Paise | None = None
    investment_profile: InvestmentProfile | None = None
    preferences: ContactPreferences | None = None
    source: LeadSource = LeadSource.MANUAL
    message: Text | None = None
    owner_id: str | None = None
    invite: bool = False


class ClientKycUpload(BaseModel):
    """``POST /api/v1/crm/kyc/documents`` (multipart/form-data): a client's KYC document
    scanned and uploaded by staff — the ``file`` (PDF, PNG or JPEG, checked on its content)
    with the same details as the client would give (``app.kyc.schemas.DocumentSubmit``)."""

    client_id: str = Field(min_length=1, max_length=64)
    kind: DocumentKind
    number: str | None = Field(default=None, max_length=40)
    proof_type: AddressProofType | None = None
    issued_on: dt.date | None = None
    expires_on: dt.date | None = None


class ClientKyc(BaseModel):
    """A client's KYC as the KYC service derives it: the status, what is missing, and every
    document (numbers masked as the KYC service shows them)."""

    client_id: str
    member: bool
    status: str
    missing: list[str]
    documents: list[KycDocumentOut]


class ClientQuery(BaseModel):
    """``GET /api/v1/crm/clients``."""

    segment: Segment | None = None
    status: ClientStatus | None = None
    q: str | None = Field(default=None, max_length=100)
    skip: int = Field(default=0, ge=0, le=100_000)
    limit: int = Field(default=50, ge=1, le=500)


class ClientOut(BaseModel):
    """A client (phone and address only in the detail view)."""

    id: str
    lead_id: str
    full_name: str
    email: str | None
    phone: str | None
    address: str | None
    city: str | None
    company: str | None
    owner_id: str | None
    owner_name: str | None = None
    user_id: str | None
    link_pending: bool = False
    status: ClientStatus
    segment: Segment
    investment_capacity: str | None
    investment_profile: InvestmentProfile
    preferences: ContactPreferences
    source: LeadSource
    kyc_status: str | None = None
    # Detail view: the platform account was erased with the person (see ``ErasureOut``).
    account_erased: bool | None = None
    account_retained: list[str] = Field(default_factory=list)  # why it outlived an erasure
    created_at: dt.datetime
    erased: bool

    @classmethod
    def of(cls, c: Client, *, phone: str | None = None, address: str | None = None,
           owner_name: str | None = None, kyc_status: str | None = None,
           account_erased: bool | None = None) -> ClientOut:  # fmt: skip
        shown = phone or (masked_last4(c.phone_last4) if c.phone_last4 else None)
        return cls(
            id=str(c.id), lead_id=c.lead_id, full_name=c.full_name, email=c.email, phone=shown,
            address=address, city=c.city, company=c.company, owner_id=c.owner_id,
            owner_name=owner_name, user_id=c.user_id, link_pending=c.link_user_id is not None,
            status=c.status, segment=c.segment,
            investment_capacity=_amount(c.investment_capacity),
            investment_profile=c.investment_profile, preferences=c.preferences, source=c.source,
            kyc_status=kyc_status, created_at=c.created_at, erased=c.erased_at is not None,
            account_erased=account_erased, account_retained=c.account_retained,
        )  # fmt: skip


class LinkRequestOut(BaseModel):
    """A request to link the signed-in person's account with the operator's client record
    (what the operator would see once they accept)."""

    client_id: str
    client_name: str
    manager_name: str | None
    requested_at: dt.datetime | None


class LinkRequests(BaseModel):
    """The signed-in person's waiting link requests."""

    items: list[LinkRequestOut]


class LinkAnswer(BaseModel):
    """The person's answer to a link request."""

    accept: bool


class LinkAnswered(BaseModel):
    """The answer recorded: ``linked`` true when the account is now the client's."""

    client_id: str
    linked: bool


class ClientPage(BaseModel):
    """A page of clients and the total matching."""

    items: list[ClientOut]
    total: int


class ClientCreated(BaseModel):
    """A client entered directly and the near duplicates found (similar name and e-mail)."""

    client: ClientOut
    possible_duplicates: list[DuplicateOut]


class Converted(BaseModel):
    """The lead after conversion and its new client."""

    lead: LeadOut
    client: ClientOut


class InvestmentOut(BaseModel):
    """The client's stake in one club at its latest valuation."""

    club_id: str
    club_name: str
    currency: str
    valuation_date: str | None
    units: str
    paid_in: str
    withdrawn: str
    value: str


class TransactionOut(BaseModel):
    """One contribution of the client to a club."""

    club_id: str
    club_name: str
    kind: str
    amount: str
    currency: str
    status: str
    on: str


class PersonalAccountOut(BaseModel):
    """A personal advisory account of the client, valued at the latest quotes (``value`` None
    when it cannot be priced now)."""

    account_id: str
    name: str
    currency: str
    value: str | None


class CurrencyTotal(BaseModel):
    """What the client holds in one currency: ``value`` (clubs and personal accounts) and
    ``paid_in`` (clubs)."""

    currency: str
    value: str
    paid_in: str


class FxUsed(BaseModel):
    """An ECB reference rate the converted total used: ``rate`` units of ``quote`` per unit of
    ``base`` (eight places), published on ``rate_date``."""

    base: str
    quote: str
    rate: str
    rate_date: str


class PortfolioOut(BaseModel):
    """The client's investments across clubs, their personal advisory accounts and their
    transaction history (empty when they are not a platform member). ``totals`` are exact,
    per currency; ``total_value``/``total_paid_in`` are all of them in ``total_currency`` at
    the ECB reference rates in ``fx`` (None when a rate is missing), ``total_note`` says so
    in words."""

    client_id: str
    member: bool
    investments: list[InvestmentOut]
    accounts: list[PersonalAccountOut] = []
    transactions: list[TransactionOut]
    totals: list[CurrencyTotal] = []
    total_currency: str = "INR"
    total_value: str | None
    total_paid_in: str | None
    fx: list[FxUsed] = []
    total_note: str = ""


class KycQueueItem(BaseModel):
    """A client's KYC document waiting for review, with what the reviewer compares against
    the scan: its number (masked for Aadhaar), dates, address-proof type, the scan's file id
    and content type (open it through ``file_link``: ``GET /api/v1/crm/kyc/{id}/file``)."""

    client_id: str
    client_name: str
    document_id: str
    kind: str
    submitted_at: dt.datetime
    expires_on: str | None
    number: str | None = None
    issued_on: str | None = None
    proof_type: str | None = None
    file_id: str | None = None
    content_type: str | None = None
    file_link: str | None = None


class KycExpiringItem(BaseModel):
    """A client's verified KYC document that lapses within the window."""

    client_id: str
    client_name: str
    document_id: str
    kind: str
    expires_on: str
    days_left: int


class KycExpiring(BaseModel):
    """Soonest first; ``days`` is the window (the KYC compliance report's)."""

    days: int
    items: list[KycExpiringItem]


class KycQueue(BaseModel):
    """Oldest first."""

    items: list[KycQueueItem]


class KycDecision(BaseModel):
    """``POST /api/v1/crm/kyc/<doc>/decision``."""

    verify: bool
    reason: str | None = Field(default=None, max_length=500)


# ---- staff ----------------------------------------------------------------------------------


class StaffPut(BaseModel):
    """``PUT /api/v1/crm/staff/<user_id>`` (admin): team and round-robin participation."""

    manager_id: str | None = None
    active: bool = True


class StaffOut(BaseModel):
    """A CRM staff member."""

    user_id: str
    full_name: str
    email: str
    roles: list[str]
    manager_id: str | None
    active: bool


class ScoreRules(BaseModel):
    """The lead score's rules and weights in force: points per source, per engaging activity
    in the window (capped), per filled profile field, and the inactivity half-life. Set by an
    admin on screen (``PUT``); ``version`` 0 means the configured defaults
    (``SAMOOH_CRM_SCORE_*``). ``stale``: open leads not yet rescored by this version (the
    worker recomputes them). ``sources`` and ``fields``: what rules may name."""

    source_points: dict[str, int]
    engagement_points: int
    engagement_cap: int
    engagement_days: int
    completeness_points: dict[str, int]
    half_life_days: float
    refresh_seconds: int
    version: int = 0
    updated_at: dt.datetime | None = None
    updated_by_name: str | None = None
    stale: int = 0
    sources: list[str] = Field(default_factory=list)
    fields: list[str] = Field(default_factory=list)


class RuleRow(BaseModel):
    """One weight: a lead source or a profile field (``key``) and its points."""

    key: str = Field(max_length=40)
    points: int = Field(ge=-1_000_000, le=1_000_000)


class ScoreRulesPut(BaseModel):
    """``PUT /api/v1/crm/score-rules``: the whole rule set as of ``version`` (the one the
    person saw). Rows are lists so a source or field named twice is told, not folded; the
    ranges are checked by the service, which says each problem as a sentence."""

    version: int = Field(ge=0, le=2**31)
    source_points: list[RuleRow] = Field(max_length=20)
    engagement_points: int = Field(ge=-1_000_000, le=1_000_000)
    engagement_cap: int = Field(ge=-1_000_000, le=1_000_000)
    engagement_days: int = Field(ge=-1_000_000, le=1_000_000)
    completeness_points: list[RuleRow] = Field(max_length=20)
    half_life_days: float = Field(ge=-1_000_000, le=1_000_000, allow_inf_nan=False)


class RuleProblem(BaseModel):
    """One problem of proposed score rules: the field (``source_points.2``) and a sentence."""

    field: str
    message: str


class StaffList(BaseModel):
    """CRM staff the caller may assign to."""

    items: list[StaffOut]


# ---- reports --------------------------------------------------------------------------------


class ReportQuery(BaseModel):
    """``GET /api/v1/crm/reports``: leads created in [``since``, ``until``) (UTC dates);
    ``until`` before ``since`` is refused (422 ``validation_error``)."""

    since: dt.date | None = None
    until: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ReportQuery:
        if self.since and self.until and self.until < self.since:
            raise ValueError("until must not be before since")
        return self


class RateRow(BaseModel):
    """Leads, converted, and the rate in basis points (converted ÷ leads, half-even)."""

    key: str
    label: str
    leads: int
    converted: int
    rate_bp: int


class FunnelRow(BaseModel):
    """Leads that reached ``stage`` (a lost lead counts for every stage it passed)."""

    stage: str
    leads: int


class CountRow(BaseModel):
    """A count by key."""

    key: str
    count: int


class KycCompliance(BaseModel):
    """Clients by KYC state: verified, pending, other (not started, incomplete, rejected,
    expired), and verified clients with a document expiring within the window."""

    clients: int
    verified: int
    pending: int
    other: int
    expiring: int
    expiring_days: int


class CrmReport(BaseModel):
    """The dashboard's figures, all within the caller's scope."""

    leads: int
    converted: int
    rate_bp: int
    by_source: list[RateRow]
    by_agent: list[RateRow]
    by_month: list[RateRow]
    funnel: list[FunnelRow]
    by_status: list[CountRow]
    clients_by_segment: list[CountRow]
    kyc: KycCompliance


class PersonExport(BaseModel):
    """Everything held on one person (data-protection export)."""

    lead: dict[str, Any]
    client: dict[str, Any] | None
    activities: list[dict[str, Any]]
    reminders: list[dict[str, Any]]
    account: dict[str, Any] | None = None  # the linked platform account (no secrets)
    kyc: list[dict[str, Any]] = []  # their KYC documents' details (the scans stay in files)
    exported_at: dt.datetime


class CrmAuditOut(BaseModel):
    """One record of the CRM's audit chain (people named by keyed hash, never their data)."""

    seq: int
    at: dt.datetime
    actor_id: str | None
    actor_name: str | None
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]


class CrmAuditQuery(BaseModel):
    """``GET /api/v1/crm/audit``: the newest ``limit`` records, of actions starting with
    ``action`` when given (e.g. ``crm.lead.merge``, ``crm.person.erase``)."""

    action: str | None = Field(default=None, max_length=60)
    limit: int = Field(default=100, ge=1, le=500)


class CrmAuditList(BaseModel):
    """Newest first; ``chain_ok``: the whole CRM chain verifies (``chain_checked`` records)."""

    items: list[CrmAuditOut]
    chain_ok: bool
    chain_checked: int


class RetainedOut(BaseModel):
    """One kind of thing that keeps a person's platform account after an erasure: a stable
    ``kind`` (``club_membership``, ``club_money``, ``chit_subscription``,
    ``campaign_investment``, ``campaign_owner``, ``advisory_account``, ``kyc_documents``,
    ``own_account``), how many, and why it stays (a sentence)."""

    kind: str
    count: int
    reason: str


class ErasureOut(BaseModel):
    """What an erasure did: the CRM's records of the person are erased; their platform
    ``account`` is ``erased`` (anonymised: the CRM made it and nothing else holds it),
    ``kept`` (``retained`` says what keeps it and why) or ``none``."""

    lead_id: str
    client_id: str | None
    erased_at: dt.datetime
    subject_hash: str
    account: Literal["erased", "kept", "none"] = "none"
    retained: list[RetainedOut] = Field(default_factory=list)


class RetentionOut(BaseModel):
    """How many leads the retention job erased."""

    erased: int


class KycDecisionOut(BaseModel):
    """``POST /api/v1/crm/kyc/{doc_id}/decision``: the document and its status after it."""

    document_id: str
    status: str


class StaffPlaced(BaseModel):
    """``PUT /api/v1/crm/staff/{user_id}``: the member of staff's team and whether active."""

    user_id: str
    manager_id: str | None
    active: bool


class CrmReportRequest(BaseModel):
    """``POST /api/v1/crm/report-jobs``: the CRM pipeline report (the dashboard's figures of
    the caller's scope) as a PDF or CSV, built by the reports agent."""

    kind: Literal["crm_pipeline"] = "crm_pipeline"
    format: Literal["pdf", "csv"]


class AdvisoryRiskOut(BaseModel):
    """The client's newest risk questionnaire result (app/advisory)."""

    profile: str
    score: int
    horizon_years: int
    taken_at: dt.datetime


class AdvisoryAccountOut(BaseModel):
    """An advisory portfolio of the client (``account_id`` is its club's id)."""

    account_id: str
    kind: str
    name: str
    currency: str


class ClientAdvisory(BaseModel):
    """``GET /api/v1/crm/clients/{id}/advisory``: the client's advisory profile as the
    advisory service holds it, and the way back (``client_path``, the CRM page; ``GET
    /api/v1/crm/clients/by-user/{user_id}`` finds the client from the account)."""

    client_id: str
    user_id: str | None
    risk_profile: AdvisoryRiskOut | None
    accounts: list[AdvisoryAccountOut]
    client_path: str

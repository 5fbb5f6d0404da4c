"""Request, response and event shapes of the campaigns API. Amounts are two-place decimal
strings (``"15000.00"``), shares basis points, dates ISO-8601."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from app.campaigns.documents import (
    CampaignStatus,
    FundingModel,
    InvestmentStatus,
    PledgePolicy,
)
from app.inputs import NonNegativeInt64
from app.money import AmountFormatError, parse_minor
from app.realtime.contract import ServerEvent

AMOUNT_PATTERN = r"^\d{1,15}(\.\d{1,2})?$"


def _paise(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError('amounts are decimal strings with two places, e.g. "15000.00"')
    if not re.fullmatch(
        AMOUNT_PATTERN, value
    ):  # the documented pattern exactly (no sign, no blanks)
        raise ValueError('write amounts like "15000.00": digits, at most two places')
    try:
        return parse_minor(value)
    except AmountFormatError as exc:
        raise ValueError(str(exc)) from exc


Paise = Annotated[
    int,
    BeforeValidator(_paise),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN,
                    "description": "an amount as a decimal string with at most two places",
                    "examples": ["15000.00"]}),
]  # fmt: skip
"""A request amount: a decimal string in, integer paise out."""

CATEGORIES = ("food", "retail", "services", "manufacturing", "agriculture", "education",
              "health", "crafts", "technology", "other")  # fmt: skip
Category = Literal[
    "food", "retail", "services", "manufacturing", "agriculture", "education", "health",
    "crafts", "technology", "other",
]  # fmt: skip
FileId = Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")]


def _clean(value: str) -> str:
    return " ".join(value.split())


def _written(value: str) -> str:
    value = value.strip()
    if len(value) < 3:
        raise ValueError("write your notes: at least 3 characters")
    return value


Notes = Annotated[str, Field(min_length=3, max_length=2000), AfterValidator(_written)]
"""An admin's own words on a decision: required, at least 3 characters besides blanks."""


class CampaignFields(BaseModel):
    """Everything an owner sets on a campaign (create, or edit while a draft)."""

    title: str = Field(min_length=5, max_length=120)
    story: str = Field(min_length=20, max_length=10_000)
    category: Category
    city: str = Field(min_length=2, max_length=60)
    goal: Paise = Field(description="₹1,000.00 to ₹5,00,00,000.00")
    min_investment: Paise = Field(description="per pledge, at least ₹100.00")
    max_investment: Paise = Field(description="per investor in total, at most the goal")
    profit_share_bps: int = Field(ge=1, le=10_000, description="share of profit, basis points")
    profit_period_months: int = Field(ge=1, le=12, description="how often profit is reported")
    starts_on: dt.date
    ends_at: dt.datetime = Field(description="the deadline, ISO-8601 with a zone")
    funding_model: FundingModel = FundingModel.ALL_OR_NOTHING
    pledge_policy: PledgePolicy = PledgePolicy.PART_FILL
    document_file_ids: list[FileId] = Field(default_factory=list, max_length=10)
    picture_file_ids: list[FileId] = Field(default_factory=list, max_length=10)

    @field_validator("title", "city")
    @classmethod
    def _one_line(cls, value: str) -> str:
        value = _clean(value)
        if len(value) < 2:
            raise ValueError("too short")
        return value

    @field_validator("ends_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("give the deadline with a time zone, e.g. 2026-12-31T18:00:00Z")
        return value.astimezone(dt.UTC)


class ReviewNoteOut(BaseModel):
    """An admin's decision with notes."""

    admin_id: str
    decision: str
    notes: str
    at: dt.datetime


class CampaignOut(BaseModel):
    """A campaign as everyone who may see it sees it. ``remaining`` = goal − raised −
    reserved (what a pledge can take now); ``progress_bps`` = raised ÷ goal."""

    id: str
    owner_id: str
    owner_name: str | None = None
    title: str
    story: str
    category: str
    city: str
    currency: str
    goal: str
    min_investment: str
    max_investment: str
    profit_share_bps: int
    profit_period_months: int
    starts_on: str
    ends_at: dt.datetime
    funding_model: FundingModel
    pledge_policy: PledgePolicy
    document_file_ids: list[str]
    picture_file_ids: list[str]
    status: CampaignStatus
    raised: str
    reserved: str
    remaining: str
    progress_bps: int
    investor_count: int
    open: bool = Field(default=False, description="live and past its start day: taking pledges")
    reviews: list[ReviewNoteOut]
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    live_at: dt.datetime | None
    closed_at: dt.datetime | None
    pictures: list[PictureOut] = Field(
        default_factory=list,
        description="signed inline links to its pictures for the viewer (the feed: the first)",
    )
    documents: list[DocumentOut] = Field(
        default_factory=list,
        description="signed download links to its documents for the viewer (a campaign's own "
        "page; empty in the feed)",
    )


class PictureOut(BaseModel):
    """A campaign picture: its file id and a short-lived signed link to show it inline."""

    id: str
    url: str
    content_type: str


class DocumentOut(BaseModel):
    """A campaign document (a quote, a lease, a licence): its file id, name and a short-lived
    signed link to download it."""

    id: str
    filename: str
    url: str
    content_type: str


class CampaignPage(BaseModel):
    """One page of the feed: ``next_offset`` is None on the last page."""

    campaigns: list[CampaignOut]
    total: int
    offset: int
    limit: int
    next_offset: int | None


class FeedQuery(BaseModel):
    """``GET /api/v1/campaigns``: filters, sort and page. ``status`` defaults to live,
    funded and failed; ``closing_within_days`` keeps those closing within that many days;
    ``min_funded_pct`` / ``max_funded_pct`` filter on raised ÷ goal; ``q`` searches title,
    story, category and city; ``mine`` lists the caller's own (any status)."""

    status: CampaignStatus | None = None
    category: Category | None = None
    city: str | None = Field(default=None, max_length=60)
    closing_within_days: int | None = Field(default=None, ge=1, le=365)
    min_funded_pct: int | None = Field(default=None, ge=0, le=100)
    max_funded_pct: int | None = Field(default=None, ge=0, le=100)
    q: str | None = Field(default=None, max_length=100)
    sort: Literal["newest", "closing_soon", "most_funded", "least_funded", "goal"] = "newest"
    mine: bool = False
    offset: int = Field(default=0, ge=0, le=100_000)
    limit: int = Field(default=20, ge=1, le=100)


class ReviewRequest(BaseModel):
    """``POST /api/v1/admin/campaigns/{id}/review``: verify (goes live) or send back."""

    decision: Literal["verify", "send_back"]
    notes: Notes


class CancelRequest(BaseModel):
    """``POST /api/v1/campaigns/{id}/cancel``."""

    reason: str = Field(min_length=3, max_length=500)


class InvestRequest(BaseModel):
    """``POST /api/v1/campaigns/{id}/invest``: the pledge."""

    amount: Paise


class InvestQuote(BaseModel):
    """``GET /api/v1/campaigns/{id}/quote?amount=…``: what a pledge would become, shown
    before paying. ``outcome``: ``accept`` | ``part_fill`` (``amount`` is the remainder) |
    ``refuse`` (``reason`` and ``remaining`` say why)."""

    requested: str
    amount: str
    remaining: str
    outcome: Literal["accept", "part_fill", "refuse"]
    reason: str | None = None
    message: str
    opens_on: str | None = Field(default=None, description="reason not_open_yet: the day it opens")


class QuoteQuery(BaseModel):
    """``?amount=15000.00``."""

    amount: Paise


class InvestmentOut(BaseModel):
    """One investment. ``part_filled``: less than requested was accepted (the policy)."""

    id: str
    campaign_id: str
    campaign_title: str | None = None
    user_id: str
    requested: str
    amount: str
    currency: str
    part_filled: bool
    status: InvestmentStatus
    provider: str | None
    order_id: str | None
    checkout_url: str | None
    expires_at: dt.datetime
    created_at: dt.datetime
    completed_at: dt.datetime | None
    refunded_at: dt.datetime | None


class InvestmentList(BaseModel):
    """Investments."""

    investments: list[InvestmentOut]


class UpdateCreate(BaseModel):
    """``POST /api/v1/campaigns/{id}/updates``."""

    title: str = Field(min_length=3, max_length=120)
    body: str = Field(min_length=3, max_length=5000)


class UpdateOut(BaseModel):
    """An owner's update."""

    id: str
    campaign_id: str
    title: str
    body: str
    created_at: dt.datetime


class DashboardUpdateOut(UpdateOut):
    """An owner's update as a dashboard lists it: with its campaign's title."""

    campaign_title: str | None = None


class ReportDueOut(BaseModel):
    """The next profit report a funded campaign owes, by its reporting schedule
    (docs/domain.md, crowdfunding, "Reporting schedule"): the period it must cover (both days
    included), the last day to send it, and its state — ``upcoming`` (the period is still
    running), ``due`` (it can be sent now), ``overdue`` (``due_on`` has passed; ``overdue``
    is then true and ``days_overdue`` says by how much). ``number`` counts the scheduled
    periods from 1."""

    campaign_id: str
    campaign_title: str
    number: int
    period_start: dt.date
    period_end: dt.date
    due_on: dt.date
    state: Literal["upcoming", "due", "overdue"]
    overdue: bool
    days_overdue: int
    overdue_since: dt.date | None = Field(
        default=None, description="the first day it was late (the day after due_on), if overdue"
    )


class UpdateList(BaseModel):
    """Updates, newest first."""

    updates: list[UpdateOut]


class ProfitReportCreate(BaseModel):
    """``POST /api/v1/campaigns/{id}/profit-reports``: profit for a period with the
    supporting document (a file uploaded for ``campaign``)."""

    period_start: dt.date
    period_end: dt.date
    profit: Paise
    document_file_id: FileId
    note: str = Field(default="", max_length=2000)


class ProfitShareOut(BaseModel):
    """One investor's share of a distribution."""

    user_id: str
    invested: str
    amount: str


class ProfitReportOut(BaseModel):
    """A profit report; ``pool`` is the investors' part; ``checkout_url`` where the owner
    pays the pool in once approved; ``shares`` fixed when it is paid in."""

    id: str
    campaign_id: str
    period_start: str
    period_end: str
    profit: str
    pool: str
    document_file_id: str | None
    note: str
    status: str
    decision_notes: str | None
    checkout_url: str | None
    shares: list[ProfitShareOut]
    created_at: dt.datetime
    decided_at: dt.datetime | None
    distributed_at: dt.datetime | None
    campaign_title: str | None = None
    document_url: str | None = Field(
        default=None, description="a signed link to the supporting document, for its readers"
    )


class ProfitReportList(BaseModel):
    """Profit reports, newest first, and the next report the campaign owes by its reporting
    schedule (``next_due``; null unless it is funded)."""

    reports: list[ProfitReportOut]
    next_due: ReportDueOut | None = None


class ProfitDecision(BaseModel):
    """``POST /api/v1/admin/campaigns/profit-reports/{id}/decision``."""

    approve: bool
    notes: Notes


class TransferOut(BaseModel):
    """A payout task: refund, release to the owner, or a profit share."""

    id: str
    kind: str
    campaign_id: str
    user_id: str
    amount: str
    status: str
    attempts: int
    last_error: str | None
    provider_ref: str | None
    created_at: dt.datetime
    paid_at: dt.datetime | None


class DisputeCreate(BaseModel):
    """``POST /api/v1/campaigns/{id}/disputes``."""

    reason: str = Field(min_length=10, max_length=2000)


class DisputeResolve(BaseModel):
    """``POST /api/v1/admin/campaigns/disputes/{id}/resolve``."""

    resolution: Notes


class DisputeOut(BaseModel):
    """A dispute, naming its campaign (``campaign_title``)."""

    id: str
    campaign_id: str
    campaign_title: str | None = None
    user_id: str
    reason: str
    status: str
    resolution: str | None
    created_at: dt.datetime
    resolved_at: dt.datetime | None


class InvestorDashboard(BaseModel):
    """``GET /api/v1/me/campaigns/dashboard``, the investor's side: investments and their
    state, payouts received, return so far (received ÷ invested, bps), upcoming deadlines,
    the updates of the campaigns invested in, the disputes opened; and the owner's side: own
    campaigns, the next profit report each funded one owes (``owner_reports_due``), profit
    reports, payouts and the owner's own updates. The screen reloads it when a followed
    campaign's room (``campaign:<id>``) or the person's notifications say something changed."""

    invested: str
    received: str
    return_bps: int
    investments: list[InvestmentOut]
    payouts: list[TransferOut]
    upcoming: list[CampaignOut]
    investor_updates: list[DashboardUpdateOut] = Field(
        default_factory=list,
        description="updates of the campaigns the person invested in, newest first (≤ 20)",
    )
    owned: list[CampaignOut]
    owner_reports_due: list[ReportDueOut] = Field(
        default_factory=list, description="per funded campaign owned, the next report due"
    )
    owner_reports: list[ProfitReportOut]
    owner_transfers: list[TransferOut]
    owner_updates: list[DashboardUpdateOut] = Field(
        default_factory=list, description="the owner's updates, newest first (≤ 50)"
    )
    disputes: list[DisputeOut]
    investor_reports_due: list[ReportDueOut] = Field(
        default_factory=list,
        description="per funded campaign invested in, the next profit report its owner owes",
    )
    investor_reports: list[ProfitReportOut] = Field(
        default_factory=list,
        description="profit reports filed (not rejected) by the campaigns invested in, newest "
        "first; ``shares`` holds only the caller's own",
    )


class AdminDashboard(BaseModel):
    """``GET /api/v1/admin/campaigns/dashboard``: what waits for an admin."""

    to_verify: list[CampaignOut]
    reports_to_decide: list[ProfitReportOut]
    failed_transfers: list[TransferOut]
    open_disputes: list[DisputeOut]
    live: list[CampaignOut] = Field(
        default_factory=list, description="live campaigns, closing soonest first (≤ 20)"
    )
    reports_overdue: list[ReportDueOut] = Field(
        default_factory=list, description="funded campaigns whose next profit report is overdue"
    )


class AuditEntryOut(BaseModel):
    """One record of a campaign's hash-chained audit log."""

    seq: int
    at: dt.datetime
    actor_id: str | None
    action: str
    target_type: str
    target_id: str
    details: dict[str, object]
    hash: str


class CampaignAudit(BaseModel):
    """``GET /api/v1/admin/campaigns/{id}/audit``: the campaign's audit chain (``campaign:<id>``),
    newest first, and whether the whole chain verifies."""

    chain: str
    records: list[AuditEntryOut]
    chain_ok: bool
    chain_checked: int


class CampaignStats(BaseModel):
    """``GET /api/v1/campaigns/{id}/ledger``: escrow balance and trial balance (owner/admin)."""

    escrow: str
    trial_balance_sum: int
    accounts: dict[str, str]


# ---- live room ---------------------------------------------------------------------------


class CampaignRoomEvent(ServerEvent):
    """A sequenced event of ``campaign:<campaign_id>`` (``seq`` without gaps)."""

    seq: int = Field(ge=1)
    campaign_id: str


class CampaignProgressEvent(CampaignRoomEvent):
    """``campaign:progress``: raised, reserved, investor count and progress changed (a
    payment landed, a reservation was taken or released, the campaign closed)."""

    raised: str
    reserved: str
    remaining: str
    goal: str
    progress_bps: int
    investor_count: int
    status: CampaignStatus


class CampaignUpdateEvent(CampaignRoomEvent):
    """``campaign:update``: the owner posted an update."""

    update: UpdateOut


class CampaignReportEvent(CampaignRoomEvent):
    """``campaign:report``: the owner filed a profit report, or it was approved, rejected or
    shared out (``status``); screens showing the campaign's reporting fetch it afresh."""

    report_id: str
    status: str
    period_start: str
    period_end: str


class CampaignReportDueEvent(CampaignRoomEvent):
    """``campaign:report_due``: the next profit report the campaign owes went overdue (told
    once per report by the worker's sweep)."""

    due: ReportDueOut


AdminChange = Literal[
    "submitted", "reviewed", "cancelled", "closed", "report_submitted", "report_decided",
    "report_overdue", "dispute_opened", "dispute_resolved", "payout_failed", "payout_retried",
]  # fmt: skip


class CampaignAdminEvent(ServerEvent):
    """``campaign:admin`` in ``campaigns:admin`` (a sequenced room of platform admins): what
    the admin's crowdfunding dashboard lists changed for a campaign (``change``); the
    dashboard fetches itself afresh."""

    seq: int = Field(ge=1)
    campaign_id: str
    change: AdminChange


class AdminRoomJoin(BaseModel):
    """``campaign:admin_join``: follow ``campaigns:admin`` (platform admins only)."""

    after_seq: NonNegativeInt64 = 0


class AdminRoomJoined(BaseModel):
    """The acknowledgement of ``campaign:admin_join``: the room's last ``seq`` (the
    dashboard fetches its state after joining)."""

    ok: Literal[True] = True
    room: str
    seq: int


class AdminRoomLeft(BaseModel):
    """The acknowledgement of ``campaign:admin_leave``."""

    ok: Literal[True] = True
    room: str


class CampaignJoin(BaseModel):
    """``campaign:join`` / ``campaign:sync``: the room to follow and the last ``seq`` seen.
    ``with_events`` false joins without the missed events (a dashboard that fetches its own
    state after joining: the answer's ``events`` is then empty)."""

    campaign_id: str = Field(pattern=r"^[0-9a-f]{24}$")
    after_seq: NonNegativeInt64 = 0
    with_events: bool = True


class CampaignLeave(BaseModel):
    """``campaign:leave``."""

    campaign_id: str = Field(pattern=r"^[0-9a-f]{24}$")


class CampaignJoined(BaseModel):
    """The acknowledgement of ``campaign:join`` / ``campaign:sync``: the state now, the
    room's ``seq`` and the events after ``after_seq`` (``truncated``: refetch the state)."""

    ok: Literal[True] = True
    campaign: CampaignOut
    seq: int
    events: list[dict[str, object]]
    truncated: bool


IFSC_PATTERN = r"^[A-Z]{4}0[A-Z0-9]{6}$"
VPA_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.\-_]{1,255}@[A-Za-z][A-Za-z0-9]{1,63}$"


class DestinationCreate(BaseModel):
    """``PUT /api/v1/me/payout-destination``: a UPI id (``kind`` ``vpa``, ``vpa``) or a bank
    account (``kind`` ``bank_account``: ``account_holder``, ``ifsc`` — four letters, a zero,
    six letters or digits, RBI's format — and ``account_number``, 9 to 18 digits). Verified
    with the payout provider before it is used."""

    kind: Literal["vpa", "bank_account"]
    vpa: str | None = Field(default=None, pattern=VPA_PATTERN, max_length=320)
    account_holder: str | None = Field(default=None, min_length=3, max_length=120)
    ifsc: str | None = Field(default=None, max_length=11)
    account_number: str | None = Field(default=None, pattern=r"^\d{9,18}$")

    @field_validator("ifsc")
    @classmethod
    def _ifsc(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().upper()
        if not re.fullmatch(IFSC_PATTERN, value):
            raise ValueError("an IFSC is 4 letters, a zero, then 6 letters or digits")
        return value

    @field_validator("account_holder")
    @classmethod
    def _holder(cls, value: str | None) -> str | None:
        return None if value is None else _clean(value)

    @model_validator(mode="after")
    def _complete(self) -> DestinationCreate:
        if self.kind == "vpa":
            if not self.vpa or self.ifsc or self.account_number:
                raise ValueError("a UPI destination has a vpa and no bank account fields")
        elif not (self.account_holder and self.ifsc and self.account_number) or self.vpa:
            raise ValueError("a bank account needs account_holder, ifsc and account_number")
        return self


class DestinationOut(BaseModel):
    """The caller's payout destination (``destination`` null when none is registered)."""

    kind: str
    vpa: str | None
    ifsc: str | None
    account_last4: str | None
    account_holder: str | None
    registered_name: str | None
    provider: str
    created_at: dt.datetime


class DestinationState(BaseModel):
    """``GET /api/v1/me/payout-destination``."""

    destination: DestinationOut | None
    waiting_payouts: int = Field(description="payouts waiting for a destination")


class TransferWebhookAck(BaseModel):
    """The answer to a payout or refund webhook."""

    result: Literal["applied", "duplicate", "ignored"]
    event_id: str


class StatementRequest(BaseModel):
    """``POST /api/v1/me/campaigns/statements``: ``investor`` (the caller's own) or
    ``campaign`` (one the caller owns; admins any: ``campaign_id``), as ``csv`` or ``pdf``."""

    kind: Literal["investor", "campaign"]
    format: Literal["csv", "pdf"]
    campaign_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{24}$")

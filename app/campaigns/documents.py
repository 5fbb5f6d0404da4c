"""Stored shapes of community crowdfunding (DOMAIN.md, "Community crowdfunding with profit
sharing"): campaigns, investments, money transfers out (refunds, releases, profit shares),
profit reports, owner updates and disputes. Every amount is integer paise."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel


def utcnow() -> dt.datetime:
    """Now, UTC, to the millisecond MongoDB keeps."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class CampaignStatus(StrEnum):
    """draft → in_review → live → funded | failed; cancelled from draft, in review or live
    (a live one only while nothing is raised or reserved)."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    LIVE = "live"
    FUNDED = "funded"
    FAILED = "failed"
    CANCELLED = "cancelled"


PUBLIC_STATUSES = (CampaignStatus.LIVE, CampaignStatus.FUNDED, CampaignStatus.FAILED)


class FundingModel(StrEnum):
    """``all_or_nothing``: refund everyone when the goal is not met by the deadline;
    ``keep_what_you_raise``: the owner gets whatever was raised."""

    ALL_OR_NOTHING = "all_or_nothing"
    KEEP_WHAT_YOU_RAISE = "keep_what_you_raise"


class PledgePolicy(StrEnum):
    """What happens to a pledge larger than what remains: ``part_fill`` accepts the
    remainder (and says so), ``refuse`` refuses and names the amount that remains."""

    PART_FILL = "part_fill"
    REFUSE = "refuse"


class ReviewNote(BaseModel):
    """An admin's decision on a campaign in review: ``verified`` or ``sent_back``."""

    admin_id: str
    decision: str
    notes: str
    at: dt.datetime


class Hold(BaseModel):
    """A reservation on the campaign document: ``id`` is the investment's id; ``amount``
    paise; released by the expiry timer after ``expires_at`` unless paid first."""

    id: str
    user_id: str
    amount: int
    expires_at: dt.datetime


class Campaign(Document):
    """One campaign. ``goal``, ``min_investment``, ``max_investment`` (per investor, in total),
    ``raised`` (completed investments) and ``reserved`` (pending ones) are paise; the guarded
    ``$inc`` in the repository keeps ``raised + reserved <= goal`` and every
    ``investor_totals[user] <= max_investment`` at every instant.
    ``profit_share_bps`` is the share of reported profit that goes to investors (basis points),
    ``profit_period_months`` how often profit is reported. ``money_seq`` serialises money
    changes of one campaign (every money transaction bumps it first)."""

    owner_id: str
    title: str
    story: str
    category: str
    city: str
    currency: str = "INR"
    goal: int
    min_investment: int
    max_investment: int
    profit_share_bps: int
    profit_period_months: int
    starts_on: str  # ISO date
    ends_at: dt.datetime
    funding_model: FundingModel
    pledge_policy: PledgePolicy
    document_file_ids: list[str] = Field(default_factory=list)
    picture_file_ids: list[str] = Field(default_factory=list)
    status: CampaignStatus = CampaignStatus.DRAFT
    raised: int = 0
    reserved: int = 0
    holds: list[Hold] = Field(default_factory=list)
    # paise each investor has pending or completed here (user id → paise); kept by the same
    # guarded updates as ``reserved``/``raised`` so ``max_investment`` holds atomically
    investor_totals: dict[str, int] = Field(default_factory=dict)
    funded_bps: int = 0  # raised ÷ goal in basis points, rounded down (feed filter and sort)
    investor_count: int = 0
    money_seq: int = 0
    reviews: list[ReviewNote] = Field(default_factory=list)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    submitted_at: dt.datetime | None = None
    live_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    cancel_reason: str | None = None
    # the overdue profit reports already told to the owner and investors (each by its
    # period's first day, ISO): the overdue sweep's claim, so two workers never tell twice
    overdue_told: list[str] = Field(default_factory=list)

    class Settings:
        name = "campaigns"
        indexes = [
            IndexModel([("status", ASCENDING), ("ends_at", ASCENDING)], name="status_ends"),
            IndexModel([("owner_id", ASCENDING), ("created_at", DESCENDING)], name="owner"),
            IndexModel([("category", ASCENDING), ("city", ASCENDING)], name="category_city"),
        ]


class InvestmentStatus(StrEnum):
    """pending (reserved, awaiting payment) → completed | expired | failed;
    completed → refund_pending → refunded (a failed all-or-nothing campaign)."""

    PENDING = "pending"
    COMPLETED = "completed"
    EXPIRED = "expired"
    FAILED = "failed"
    REFUND_PENDING = "refund_pending"
    REFUNDED = "refunded"


class Investment(Document):
    """One pledge: ``requested`` is what the investor asked for, ``amount`` what was reserved
    (less under the part-fill policy). ``expires_at``: an unpaid reservation is released then."""

    campaign_id: str
    user_id: str
    requested: int
    amount: int
    currency: str = "INR"
    part_filled: bool = False
    status: InvestmentStatus = InvestmentStatus.PENDING
    provider: str | None = None
    order_id: str | None = None
    checkout_url: str | None = None
    payment_id: str | None = None
    expires_at: dt.datetime
    created_at: dt.datetime = Field(default_factory=utcnow)
    completed_at: dt.datetime | None = None
    refunded_at: dt.datetime | None = None

    class Settings:
        name = "campaign_investments"
        indexes = [
            IndexModel([("campaign_id", ASCENDING), ("status", ASCENDING)], name="campaign"),
            IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING)], name="investor"),
            IndexModel([("status", ASCENDING), ("expires_at", ASCENDING)], name="expiry"),
        ]


class TransferKind(StrEnum):
    """Money leaving the escrow: ``refund`` of an investor's payment (payment provider's
    refund API), ``release`` of a funded campaign to its owner and ``profit_share`` to an
    investor (payout adapter)."""

    REFUND = "refund"
    RELEASE = "release"
    PROFIT_SHARE = "profit_share"


class TransferStatus(StrEnum):
    """pending → sent (the provider took it; its webhook tells the end) → paid; → failed after
    ``max_attempts``, or when the provider's webhook says it failed or was reversed (even after
    paid). Only forward: pending < sent < paid < failed. A failed one is surfaced to admins,
    who may retry it (pending again, in a new ``round`` with a new idempotency key)."""

    PENDING = "pending"
    SENT = "sent"
    PAID = "paid"
    FAILED = "failed"


TRANSFER_RANK = {TransferStatus.PENDING: 0, TransferStatus.SENT: 1, TransferStatus.PAID: 2,
                 TransferStatus.FAILED: 3}  # fmt: skip


class Transfer(Document):
    """One payout task: exactly one per ``key`` (``refund:<investment>``,
    ``release:<campaign>``, ``share:<report>:<user>``), which is also the provider's
    idempotency key, so a retry or a restarted worker never pays twice. ``claimed_until`` is
    the lease of the worker sending it now."""

    key: str
    kind: TransferKind
    campaign_id: str
    user_id: str
    amount: int
    currency: str = "INR"
    investment_id: str | None = None
    report_id: str | None = None
    payment_id: str | None = None  # the payment a refund returns
    provider: str | None = None  # the payment provider that captured it
    status: TransferStatus = TransferStatus.PENDING
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(default_factory=utcnow)
    claimed_until: dt.datetime | None = None
    claim_token: str | None = None
    provider_ref: str | None = None
    last_error: str | None = None
    # a release or profit share whose payee has no verified payout destination yet: parked
    # (not counted as an attempt) until they register one
    waiting_for_destination: bool = False
    # an admin's retry of a failed transfer starts a new round: the provider's idempotency
    # key is ``key`` in round 0 and ``key#r<round>`` after (the old payout stays failed)
    round: int = 0
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None
    checked_at: dt.datetime | None = None  # a sent payout's status last asked of the provider
    paid_at: dt.datetime | None = None
    failed_at: dt.datetime | None = None

    def provider_key(self) -> str:
        """The idempotency key of this round at the provider."""
        return self.key if self.round == 0 else f"{self.key}#r{self.round}"

    class Settings:
        name = "campaign_transfers"
        indexes = [
            IndexModel([("key", ASCENDING)], unique=True, name="key_unique"),
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
            IndexModel([("campaign_id", ASCENDING), ("kind", ASCENDING)], name="campaign"),
            IndexModel([("user_id", ASCENDING)], name="user"),
        ]


class ProfitReportStatus(StrEnum):
    """submitted → approved (the owner pays the investors' pool) → distributed; or rejected."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    DISTRIBUTED = "distributed"
    REJECTED = "rejected"


class ProfitShare(BaseModel):
    """One investor's part of a distribution (paise) and the investment it is weighted by."""

    user_id: str
    invested: int
    amount: int


class ProfitReport(Document):
    """The owner's profit for a period, with a supporting document. ``pool`` = profit ×
    ``profit_share_bps`` / 10 000, rounded down to the paisa (the investors never get more
    than the stated share); ``shares`` are fixed when the pool is paid in."""

    campaign_id: str
    owner_id: str
    period_start: str
    period_end: str
    profit: int
    pool: int
    document_file_id: str | None = None
    note: str = ""
    status: ProfitReportStatus = ProfitReportStatus.SUBMITTED
    decided_by: str | None = None
    decision_notes: str | None = None
    order_id: str | None = None
    checkout_url: str | None = None
    shares: list[ProfitShare] = Field(default_factory=list)
    created_at: dt.datetime = Field(default_factory=utcnow)
    decided_at: dt.datetime | None = None
    distributed_at: dt.datetime | None = None

    class Settings:
        name = "campaign_profit_reports"
        indexes = [
            IndexModel([("campaign_id", ASCENDING), ("created_at", DESCENDING)], name="campaign"),
            IndexModel(
                [("campaign_id", ASCENDING), ("period_start", ASCENDING)],
                unique=True,
                name="one_per_period",
            ),
        ]


class CampaignUpdate(Document):
    """A post by the owner on the campaign page (investors are notified)."""

    campaign_id: str
    author_id: str
    title: str
    body: str
    created_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "campaign_updates"
        indexes = [
            IndexModel([("campaign_id", ASCENDING), ("created_at", DESCENDING)], name="campaign"),
        ]


class DisputeStatus(StrEnum):
    """open → resolved (by an admin, with notes)."""

    OPEN = "open"
    RESOLVED = "resolved"


class Dispute(Document):
    """An investor's complaint against a campaign."""

    campaign_id: str
    user_id: str
    reason: str
    status: DisputeStatus = DisputeStatus.OPEN
    resolution: str | None = None
    resolved_by: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    resolved_at: dt.datetime | None = None

    class Settings:
        name = "campaign_disputes"
        indexes = [
            IndexModel([("status", ASCENDING), ("created_at", ASCENDING)], name="status"),
            IndexModel([("campaign_id", ASCENDING)], name="campaign"),
        ]


class DestinationKind(StrEnum):
    """Where payouts go: a UPI id (``vpa``) or a bank account (``bank_account``)."""

    VPA = "vpa"
    BANK_ACCOUNT = "bank_account"


class PayoutDestination(Document):
    """A person's verified payout destination (releases to owners, profit shares to
    investors). The provider keeps the full account; Samooh keeps its fund account id, the
    IFSC, the last four digits and the name the bank registered. ``active``: the one payouts
    go to now (at most one per person; an older one is kept, inactive, for the record)."""

    user_id: str
    kind: DestinationKind
    vpa: str | None = None
    ifsc: str | None = None
    account_last4: str | None = None
    account_holder: str | None = None
    provider: str
    contact_id: str
    fund_account_id: str
    validation_id: str
    registered_name: str | None = None
    active: bool = True
    created_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "campaign_payout_destinations"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING)], name="user"),
            IndexModel(
                [("user_id", ASCENDING)],
                unique=True,
                partialFilterExpression={"active": True},
                name="one_active",
            ),
        ]


class TransferEvent(Document):
    """A provider's webhook about a payout or refund, stored once by its event id
    (``<provider>:<event id>``) in the transaction that applied it: a re-delivery changes
    nothing."""

    id: str  # type: ignore[assignment]
    provider: str
    event: str
    transfer_id: str | None = None
    outcome: str
    received_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "campaign_transfer_events"


CAMPAIGN_DOCUMENTS = (Campaign, Investment, Transfer, ProfitReport, CampaignUpdate, Dispute,
                      PayoutDestination, TransferEvent)  # fmt: skip
"""Every stored model of the domain (registered with Beanie by app/documents.py)."""

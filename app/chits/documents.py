"""Stored shapes of chit funds: schemes, subscriptions (tickets), monthly auctions and their
bids, and payments (INSTALLMENT in, PRIZE / DIVIDEND / REFUND out). Money is paise."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from app.chits.rules import CommissionSource, SchemeTerms
from app.realtime.eventlog import utcnow


class SchemeStatus(StrEnum):
    """DRAFT → PENDING_APPROVAL → APPROVED (open for subscribers) → ACTIVE (full, months
    running) → COMPLETED; an admin may send a pending scheme back to DRAFT (rejected)."""

    DRAFT = "DRAFT"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"


class SubscriptionStatus(StrEnum):
    """ACTIVE (holds its ticket) / DEFAULTED (removed, maybe substituted) / COMPLETED."""

    ACTIVE = "ACTIVE"
    DEFAULTED = "DEFAULTED"
    COMPLETED = "COMPLETED"


class AuctionStatus(StrEnum):
    """SCHEDULED (bids accepted between ``opens_at`` and ``ends_at``) → CLOSED (once)."""

    SCHEDULED = "SCHEDULED"
    CLOSED = "CLOSED"


class PaymentKind(StrEnum):
    """INSTALLMENT (a subscriber pays in, through the payments provider), DIVIDEND (credit paid
    out), PRIZE (the prized subscriber is paid), REFUND (a removed defaulter is paid back)."""

    INSTALLMENT = "INSTALLMENT"
    DIVIDEND = "DIVIDEND"
    PRIZE = "PRIZE"
    REFUND = "REFUND"


class PaymentStatus(StrEnum):
    """PENDING → COMPLETED | FAILED (a failed checkout may still be paid on a retry)."""

    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class Scheme(Document):
    """A chit group run by a foreman. ``subscribers`` is also the number of months; ``filled``
    is how many tickets are taken (moved with ``$inc`` under ``filled < subscribers`` in the
    joining transaction); ``money_seq`` is bumped by every money transaction of the scheme so
    two never interleave; ``current_month`` is the month whose dues are called (0 before)."""

    name: str
    foreman_id: str
    currency: str = "INR"
    chit_amount: int
    subscribers: int
    instalment: int
    commission_bps: int
    min_bid: int
    bid_step: int
    max_discount: int
    commission_source: CommissionSource
    auction_day: int
    auction_time: str  # HH:MM, UTC
    auction_minutes: int = 15
    extension_seconds: int = 30
    start_date: str  # ISO date
    grace_days: int = 3
    late_penalty: int = 0
    status: SchemeStatus = SchemeStatus.DRAFT
    filled: int = 0
    current_month: int = 0
    money_seq: int = 0
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "chit_schemes"
        indexes = [
            IndexModel([("foreman_id", ASCENDING)], name="foreman"),
            IndexModel([("status", ASCENDING)], name="status"),
        ]

    @property
    def terms(self) -> SchemeTerms:
        """The money terms (app/chits/rules.py)."""
        return SchemeTerms(
            chit_amount=self.chit_amount, subscribers=self.subscribers,
            instalment=self.instalment, commission_bps=self.commission_bps,
            min_bid=self.min_bid, bid_step=self.bid_step, max_discount=self.max_discount,
            commission_source=self.commission_source,
        )  # fmt: skip


class Surety(BaseModel):
    """The security a prized subscriber gives before the prize is paid in full."""

    kind: str  # guarantor | fixed_deposit | property | other
    details: str
    recorded_by: str
    recorded_at: dt.datetime


class Subscription(Document):
    """One ticket of a scheme held by one person. A substitute gets a new subscription on the
    same ticket (``replaces``); the defaulter's is DEFAULTED and ``holds_ticket`` false.
    ``member_id`` is the person's UCFSIN member id (app/identity) when they have one."""

    scheme_id: str
    user_id: str
    ticket: int
    member_id: str | None = None
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    holds_ticket: bool = True
    prized_month: int | None = None
    surety: Surety | None = None
    replaces: str | None = None
    replaced_by: str | None = None
    catch_up: int = 0
    joined_at: dt.datetime = Field(default_factory=utcnow)
    defaulted_at: dt.datetime | None = None
    # left early of their own accord (a non-prized subscriber), with the settlement shown
    left_at: dt.datetime | None = None
    leave_settlement: int | None = None

    class Settings:
        name = "chit_subscriptions"
        indexes = [
            IndexModel([("scheme_id", ASCENDING), ("ticket", ASCENDING)], name="scheme_ticket"),
            IndexModel([("user_id", ASCENDING)], name="user"),
        ]


class DrawRecord(BaseModel):
    """A draw by lot, recorded so anyone can re-check it (``rules.draw_seed`` / ``draw``)."""

    reason: str  # tie | no_bid
    seed: str
    method: str
    candidates: list[int]
    chosen: int


class Auction(Document):
    """Month ``month``'s auction. ``best_discount`` / ``top_tickets`` move only by a guarded
    update in the bid's transaction, so two concurrent bids can never both be best; the result
    fields are written once, by the transaction that moves SCHEDULED → CLOSED."""

    scheme_id: str
    month: int
    opens_at: dt.datetime
    ends_at: dt.datetime
    status: AuctionStatus = AuctionStatus.SCHEDULED
    foreman_month: bool = False
    best_discount: int = 0
    top_tickets: list[int] = Field(default_factory=list)
    bid_count: int = 0
    reminded: bool = False
    opened_announced: bool = False
    # result
    closed_at: dt.datetime | None = None
    method: str | None = None  # foreman | highest_bid | tie_lot | no_bid_lot
    winner_ticket: int | None = None
    winner_subscription_id: str | None = None
    discount: int | None = None
    prize: int | None = None
    commission: int | None = None
    shares: list[int] = Field(default_factory=list)
    net_instalments: list[int] = Field(default_factory=list)
    draw: DrawRecord | None = None
    eligible_tickets: list[int] = Field(default_factory=list)
    attendance: list[str] = Field(default_factory=list)
    prize_paid_at: dt.datetime | None = None
    prize_withheld: int = 0
    # the PRIZE payment sent through the payout provider (app/chits/flows.py), once set
    prize_payment_id: str | None = None

    class Settings:
        name = "chit_auctions"
        indexes = [
            IndexModel([("scheme_id", ASCENDING), ("month", ASCENDING)], unique=True,
                       name="scheme_month"),
            IndexModel([("status", ASCENDING), ("ends_at", ASCENDING)], name="due"),
        ]  # fmt: skip


class Bid(Document):
    """A valid bid, in the order it was accepted (``seq`` within the auction); ``room_seq``:
    the ``seq`` of its ``chit:bid`` in the scheme room's log."""

    auction_id: str
    scheme_id: str
    month: int
    seq: int
    subscription_id: str
    user_id: str
    ticket: int
    discount: int
    at: dt.datetime = Field(default_factory=utcnow)
    room_seq: int | None = None

    class Settings:
        name = "chit_bids"
        indexes = [
            IndexModel([("auction_id", ASCENDING), ("seq", ASCENDING)], unique=True,
                       name="auction_seq"),
        ]  # fmt: skip


class ChitPayment(Document):
    """Money in or out of one subscription. INSTALLMENT payments go through the payments
    provider (``order_id``/``checkout_url``) and are completed by the payments agent;
    ``late`` / ``penalty`` flag an instalment paid after its due date and grace days."""

    scheme_id: str
    subscription_id: str
    user_id: str
    kind: PaymentKind
    status: PaymentStatus = PaymentStatus.PENDING
    amount: int
    month: int
    currency: str = "INR"
    provider: str | None = None
    order_id: str | None = None
    checkout_url: str | None = None
    payment_id: str | None = None
    late: bool = False
    penalty: int = 0
    reference: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    created_at: dt.datetime = Field(default_factory=utcnow)
    completed_at: dt.datetime | None = None
    # payouts (PRIZE through the payout provider): tries so far, the last failure, and when
    # the retry sweep may send it again (also the lease of the sender that holds it)
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: dt.datetime | None = None

    class Settings:
        name = "chit_payments"
        indexes = [
            IndexModel([("subscription_id", ASCENDING), ("created_at", ASCENDING)],
                       name="subscription_time"),
            IndexModel([("user_id", ASCENDING), ("created_at", ASCENDING)], name="user_time"),
            IndexModel([("scheme_id", ASCENDING), ("created_at", ASCENDING)], name="scheme_time"),
        ]  # fmt: skip


class Due(Document):
    """What a subscription owes for one month (net instalment) and its due date. After the due
    date and grace days the sweep looks at it once (``penalty_checked``): still unpaid, the
    late ``penalty`` is charged (once: that guard and the journal key)."""

    scheme_id: str
    subscription_id: str
    ticket: int
    month: int
    amount: int
    due_date: str
    penalty_checked: bool = False
    penalty: int = 0
    reminded_on: str | None = None

    class Settings:
        name = "chit_dues"
        indexes = [
            IndexModel([("subscription_id", ASCENDING), ("month", ASCENDING)], unique=True,
                       name="subscription_month"),
            IndexModel([("scheme_id", ASCENDING), ("month", ASCENDING)], name="scheme_month"),
        ]  # fmt: skip


class ChitScoreSnapshot(Document):
    """A person's chit score as the nightly agent computed it on ``day`` (ISO date): one per
    person per day (unique), so a second run the same day changes nothing."""

    user_id: str
    day: str
    score: int
    factors: list[dict[str, Any]]
    computed_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "chit_score_snapshots"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("day", ASCENDING)], unique=True,
                       name="user_day"),
        ]  # fmt: skip


CHIT_DOCUMENTS: list[type[Document]] = [
    Scheme, Subscription, Auction, Bid, ChitPayment, Due, ChitScoreSnapshot,
]  # fmt: skip
"""Every document of this domain, registered in app/extensions.py ``document_models``."""

"""Stored shapes of robo-advice. Money in minor units of the account's currency, weights in
basis points (plus the optimiser's raw ratios, kept to reproduce a recommendation)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.realtime.eventlog import utcnow


class AccountKind(StrEnum):
    """``club``: a club's portfolio; ``personal``: one member's own account."""

    CLUB = "club"
    PERSONAL = "personal"


class TaxTreatment(StrEnum):
    """A personal account's tax type (tax-loss harvesting applies to ``taxable`` only)."""

    TAXABLE = "taxable"
    RETIREMENT = "retirement"


class RiskAssessment(Document):
    """One completed questionnaire: the answers as given, the score (0–100), the profile and
    the horizon in years. The newest one of a user is their current profile."""

    user_id: str
    answers: dict[str, str]
    score: int
    profile: str
    horizon_years: int
    taken_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "advisory_assessments"
        indexes = [IndexModel([("user_id", ASCENDING), ("taken_at", DESCENDING)],
                              name="user_time")]  # fmt: skip


class AdvisoryAccount(Document):
    """A portfolio robo-advice manages; ``account_id`` is the id of the club whose books hold
    it (a personal account is a one-member club kept in ``currency``, so it trades through the
    same orders, paper broker and ledger). The investment policy: ``targets`` (symbol → bps,
    summing to 10,000), ``band_bps`` (±), ``min_trade`` (minor units), ``excluded`` symbols,
    ``max_weight_bps`` per holding, and the wash-sale window in days."""

    account_id: str
    kind: AccountKind
    owner_id: str | None = None
    name: str = ""
    tax_treatment: TaxTreatment | None = None
    currency: str = "USD"
    targets: dict[str, int] = Field(default_factory=dict)
    # the allocation as recommended or followed, before the policy applied (so clearing an
    # exclusion brings its symbol back); ``targets`` = ``within_policy(base_targets, …)``
    base_targets: dict[str, int] = Field(default_factory=dict)
    risk_profile: str | None = None  # a club's own risk profile (its policy), by name
    recommendation_id: str | None = None
    strategy_id: str | None = None  # the model strategy it follows, if any
    band_bps: int = 500
    min_trade: int = 0
    excluded: list[str] = Field(default_factory=list)
    max_weight_bps: int = 2500
    wash_sale_days: int = 30
    drift_alerted: str | None = None  # the drift already told, so the agent tells it once
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "advisory_accounts"
        indexes = [
            IndexModel([("account_id", ASCENDING)], unique=True, name="account_unique"),
            IndexModel([("owner_id", ASCENDING)], name="owner"),
        ]


class Recommendation(Document):
    """A target allocation and everything needed to reproduce it: ``inputs`` (symbols, window,
    estimator, objective, bounds), library ``versions``; ``weights`` the optimiser's ratios,
    ``weights_bps`` the same summing to 10,000; ``figures`` annualised ratios on the history;
    ``frontier`` [volatility, return] points."""

    user_id: str
    account_id: str | None = None
    profile: str
    strategy: str
    objective: str
    symbols: list[str]
    weights: list[float]
    weights_bps: list[int]
    figures: dict[str, float]
    frontier: list[list[float]]
    inputs: dict[str, Any]
    versions: dict[str, str]
    created_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "advisory_recommendations"
        indexes = [
            IndexModel([("account_id", ASCENDING), ("created_at", DESCENDING)],
                       name="account_time"),
            IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING)], name="user_time"),
        ]  # fmt: skip


class RunStatus(StrEnum):
    """A rebalance run's life (a state machine; each step is a conditional update, so it
    happens once): ``proposed`` (a preview) → a club's ``voting`` (one proposal for the whole
    rebalance) → ``approved`` (its orders wait for the treasurer) | ``rejected``; then, and at
    once for a personal account: ``selling`` (the sales are at the broker) → ``buying`` (the
    buys, re-sized to the cash the sales really left) → ``executed`` (every trade filled in
    full) | ``partial`` (some filled, or a buy was cut for cash) | ``failed`` (nothing filled)."""

    PROPOSED = "proposed"
    VOTING = "voting"
    APPROVED = "approved"
    REJECTED = "rejected"
    SELLING = "selling"
    BUYING = "buying"
    EXECUTED = "executed"
    PARTIAL = "partial"
    FAILED = "failed"


RUN_PENDING = (RunStatus.VOTING, RunStatus.APPROVED, RunStatus.SELLING, RunStatus.BUYING)
"""Runs whose trades are under way: a new preview counts them as pending."""

RUN_DONE = (RunStatus.EXECUTED, RunStatus.PARTIAL, RunStatus.FAILED, RunStatus.REJECTED)


class RebalanceRun(Document):
    """Trades proposed for an account at one moment (each ``{symbol, quantity (+buy/−sell),
    price, value, fee, limit}`` in minor units), and what they became: one proposal (a club)
    and orders (``sell_order_ids`` first, then ``buy_order_ids``), with the run's ``status``
    (``RunStatus``) and ``note`` (why a run is partial or failed)."""

    account_id: str
    requested_by: str
    force: bool
    trades: list[dict[str, Any]]
    cash_before: int
    cash_after: int
    weights_before: dict[str, int]
    weights_after: dict[str, int]
    inside_bands: bool
    drifted: bool
    proposal_ids: list[str] = Field(default_factory=list)
    order_ids: list[str] = Field(default_factory=list)
    sell_order_ids: list[str] = Field(default_factory=list)
    buy_order_ids: list[str] = Field(default_factory=list)
    status: RunStatus = RunStatus.PROPOSED
    note: str = ""
    trader: str | None = None  # who sent its orders (the owner, or a club's treasurer)
    sales_placed: bool = False  # its sales are all at the broker (the buys may follow)
    buys_placed: bool = False  # its buys are all at the broker (it may finish)
    # When its sales or buys were last taken to be placed: a placement that never finished (its
    # worker died) is resumed by anyone once it is older than ``PLACING_LEASE``.
    placing_at: dt.datetime | None = None
    executed_by: str | None = None
    executed_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "advisory_rebalances"
        indexes = [
            IndexModel([("account_id", ASCENDING), ("created_at", DESCENDING)],
                       name="account_time"),
            IndexModel([("status", ASCENDING)], name="status"),
        ]  # fmt: skip


class BookingStatus(StrEnum):
    """``booked`` → ``cancelled`` (by either side, or replaced by a reschedule)."""

    BOOKED = "booked"
    CANCELLED = "cancelled"


class AdvisorSlot(Document):
    """A consultation time an advisor offers: ``start`` (UTC), ``minutes`` long."""

    advisor_id: str
    start: dt.datetime
    minutes: int = 30
    created_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "advisory_slots"
        indexes = [IndexModel([("advisor_id", ASCENDING), ("start", ASCENDING)], unique=True,
                              name="advisor_start_unique")]  # fmt: skip


class AdvisorDesk(Document):
    """One per advisor: ``version`` is bumped by every change of the advisor's slots inside
    its transaction, so two offers never interleave (the second conflicts and is retried, then
    sees the first's slots) — no two of an advisor's slots overlap."""

    advisor_id: str
    version: int = 0

    class Settings:
        name = "advisory_desks"
        indexes = [IndexModel([("advisor_id", ASCENDING)], unique=True, name="advisor_unique")]


class Booking(Document):
    """A client's consultation with an advisor. At most one ``booked`` booking per advisor
    and start: a unique index on (advisor, start) over booked ones, so two people racing for
    the same slot cannot both have it. While booked, the advisor may see the client's risk
    profile and portfolios."""

    advisor_id: str
    client_id: str
    start: dt.datetime
    minutes: int = 30
    status: BookingStatus = BookingStatus.BOOKED
    reminded_at: dt.datetime | None = None
    replaced_by: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "advisory_bookings"
        indexes = [
            IndexModel([("advisor_id", ASCENDING), ("start", ASCENDING)], unique=True,
                       name="advisor_slot_booked_unique",
                       partialFilterExpression={"status": "booked"}),
            IndexModel([("client_id", ASCENDING), ("start", ASCENDING)], name="client_start"),
        ]  # fmt: skip


class ModelStrategy(Document):
    """A model allocation an advisor publishes (``targets`` symbol → bps, summing to 10,000);
    ``version`` rises with each change; members' accounts follow it (``followers``). A draft
    (``published`` false) is seen only by its advisor until published; publishing is one way."""

    advisor_id: str
    name: str
    description: str = ""
    targets: dict[str, int]
    version: int = 1
    published: bool = True  # stored before drafts existed: published
    published_at: dt.datetime | None = None
    followers: list[str] = Field(default_factory=list)  # account ids
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "advisory_strategies"
        indexes = [IndexModel([("advisor_id", ASCENDING)], name="advisor")]

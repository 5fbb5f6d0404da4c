"""Stored shapes of clubs, memberships, invites, contributions, withdrawals, valuations and
holdings. Money in paise, units in micro-units, rates in basis points."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ClubRole(StrEnum):
    """Roles inside one club (docs/domain.md, roles): owner > admin > treasurer > member."""

    OWNER = "owner"
    ADMIN = "admin"
    TREASURER = "treasurer"
    MEMBER = "member"


class VotingMode(StrEnum):
    """``simple``: one member, one vote; ``weighted``: weight = units held."""

    SIMPLE = "simple"
    WEIGHTED = "weighted"


class TieRule(StrEnum):
    """What a vote exactly at the threshold decides (docs/domain.md, voting: default reject)."""

    REJECT = "reject"
    APPROVE = "approve"


class Club(Document):
    """A club and its rules. ``money_seq`` is bumped by every money transaction of the club,
    so two such transactions never interleave (the second conflicts and is retried)."""

    name: str
    description: str = ""
    currency: str = "INR"
    starting_unit_value: int = 1000  # paise per unit: ₹10.00
    voting_mode: VotingMode = VotingMode.SIMPLE
    approval_threshold_bps: int = 6000
    quorum_bps: int | None = None
    tie_rule: TieRule = TieRule.REJECT
    hide_running_results: bool = False  # proposals show only participation until they close
    withdrawal_fee_bps: int = 0
    created_by: str
    created_at: dt.datetime = Field(default_factory=_now)
    money_seq: int = 0
    last_valuation_date: str | None = None
    watchlist: list[str] = Field(default_factory=list)  # symbols members follow live

    class Settings:
        name = "clubs"


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"
    REMOVED = "removed"


class Membership(Document):
    """One person in one club: role, units (micro-units) and capital account totals (paise)."""

    club_id: str
    user_id: str
    role: ClubRole = ClubRole.MEMBER
    status: MembershipStatus = MembershipStatus.ACTIVE
    units: int = 0
    paid_in: int = 0
    withdrawn: int = 0
    joined_at: dt.datetime = Field(default_factory=_now)

    class Settings:
        name = "memberships"
        indexes = [
            IndexModel([("club_id", ASCENDING), ("user_id", ASCENDING)], unique=True,
                       name="club_user_unique"),
            IndexModel([("user_id", ASCENDING)], name="by_user"),
        ]  # fmt: skip


class Invite(Document):
    """A join link. Only the SHA-256 of its token is stored."""

    club_id: str
    token_hash: str
    created_by: str
    expires_at: dt.datetime
    max_uses: int
    uses: int = 0
    revoked: bool = False
    created_at: dt.datetime = Field(default_factory=_now)

    class Settings:
        name = "invites"
        indexes = [IndexModel([("token_hash", ASCENDING)], unique=True, name="token_unique")]


class ContributionStatus(StrEnum):
    """``awaiting_payment`` (online, checkout open) | ``pending_approval`` (manual) →
    ``received`` (money in, units not yet issued) → ``settled`` (units issued at a valuation);
    or ``failed`` / ``rejected``."""

    AWAITING_PAYMENT = "awaiting_payment"
    PENDING_APPROVAL = "pending_approval"
    RECEIVED = "received"
    SETTLED = "settled"
    FAILED = "failed"
    REJECTED = "rejected"


class Contribution(Document):
    """Money a member pays in. Units are issued at the unit value of its valuation date."""

    club_id: str
    user_id: str
    amount: int
    currency: str
    method: str  # online | manual
    status: ContributionStatus
    provider: str | None = None
    order_id: str | None = None
    checkout_url: str | None = None
    payment_id: str | None = None
    payment_date: str | None = None  # ISO date the money arrived
    valuation_date: str | None = None  # ISO date it is assigned to; None: the next valuation
    units: int | None = None
    valuation_id: str | None = None
    receipt_file_id: str | None = None
    note: str = ""
    decided_by: str | None = None
    decision_reason: str | None = None
    created_at: dt.datetime = Field(default_factory=_now)
    updated_at: dt.datetime = Field(default_factory=_now)

    class Settings:
        name = "contributions"
        indexes = [
            IndexModel([("club_id", ASCENDING), ("status", ASCENDING)], name="club_status"),
            IndexModel([("club_id", ASCENDING), ("user_id", ASCENDING), ("created_at",
                        DESCENDING)], name="club_user_time"),
        ]  # fmt: skip


class WithdrawalStatus(StrEnum):
    """``pending`` → ``settled`` (units redeemed at a valuation; payout owed) → ``paid``;
    or ``cancelled`` before settlement."""

    PENDING = "pending"
    SETTLED = "settled"
    PAID = "paid"
    CANCELLED = "cancelled"


class Withdrawal(Document):
    """A member taking money out: ``full``, or a gross ``amount`` in paise. At settlement,
    ``units`` are redeemed for ``gross``; ``fee`` stays in the club; ``net`` is owed."""

    club_id: str
    user_id: str
    full: bool
    amount: int | None = None
    status: WithdrawalStatus = WithdrawalStatus.PENDING
    requested_at: dt.datetime = Field(default_factory=_now)
    valuation_date: str | None = None
    units: int | None = None
    gross: int | None = None
    fee: int | None = None
    net: int | None = None
    valuation_id: str | None = None
    paid_at: dt.datetime | None = None
    paid_by: str | None = None

    class Settings:
        name = "withdrawals"
        indexes = [
            IndexModel([("club_id", ASCENDING), ("status", ASCENDING)], name="club_status"),
        ]


class PricedPosition(BaseModel):
    """A holding priced at a valuation: ``quantity`` shares × ``price`` paise."""

    symbol: str
    quantity: int
    price: int
    market_value: int


class Settlement(BaseModel):
    """A contribution or withdrawal settled at a valuation."""

    kind: str  # contribution | withdrawal
    id: str
    user_id: str
    amount: int  # contribution amount, or withdrawal gross
    units: int  # micro-units issued (+) or redeemed (−)
    fee: int = 0


class Valuation(Document):
    """A club's books at one valuation date: NAV and unit value before the pending
    contributions and withdrawals settled at it, and what they changed."""

    club_id: str
    valuation_date: str
    cash: int
    positions: list[PricedPosition]
    market_value: int
    liabilities: int
    nav: int
    units: int
    unit_value: str  # display only, 4 places; the exact value is nav ÷ units
    settlements: list[Settlement] = Field(default_factory=list)
    nav_after: int
    units_after: int
    created_by: str
    created_at: dt.datetime = Field(default_factory=_now)

    class Settings:
        name = "valuations"
        indexes = [
            IndexModel([("club_id", ASCENDING), ("valuation_date", ASCENDING)], unique=True,
                       name="club_date_unique"),
        ]  # fmt: skip


class Holding(Document):
    """Shares of one symbol a club holds, at book ``cost`` (paise, average-cost method), and
    the gain ``realised`` by its sales so far (paise; sale proceeds before fees − average
    cost of the shares sold)."""

    club_id: str
    symbol: str
    quantity: int = 0
    cost: int = 0
    realised: int = 0

    class Settings:
        name = "holdings"
        indexes = [
            IndexModel([("club_id", ASCENDING), ("symbol", ASCENDING)], unique=True,
                       name="club_symbol_unique"),
        ]  # fmt: skip

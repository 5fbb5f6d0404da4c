"""Stored shapes of a club's books: contributions, withdrawals, valuations with their
settlements, holdings and the cash held by open orders. Money in paise (minor units), units in
micro-units, rates in basis points."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ContributionStatus(StrEnum):
    """``awaiting_payment`` (online, checkout open) | ``pending_approval`` (manual) →
    [``approved``: a treasurer's approval is on its way through the payments outbox] →
    ``received`` (money in, units not yet issued) → ``settled`` (units issued at a valuation);
    or ``failed`` (the provider said so, or the checkout was cancelled or expired unpaid:
    ``decision_reason``) / ``rejected``. A manual contribution leaves ``pending_approval`` for
    ``approved`` or ``rejected`` once, by a guarded update (issue #20)."""

    AWAITING_PAYMENT = "awaiting_payment"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
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
    dues_month: str | None = None  # "YYYY-MM": this pays that month's dues (app/dues)
    decided_by: str | None = None
    decision_reason: str | None = None
    # INR paise counted toward the KYC yearly limit: ``amount`` converted at the ECB rate of
    # the day it was opened (app/fx.py); None on records older than issue #20 (``amount``).
    kyc_inr: int | None = None
    created_at: dt.datetime = Field(default_factory=_now)
    updated_at: dt.datetime = Field(default_factory=_now)

    class Settings:
        name = "contributions"
        indexes = [
            IndexModel([("club_id", ASCENDING), ("status", ASCENDING)], name="club_status"),
            IndexModel([("status", ASCENDING), ("created_at", ASCENDING)], name="status_time"),
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


class ChargeStatus(StrEnum):
    """``pending`` → ``settled`` (units redeemed at a valuation) or ``cancelled``."""

    PENDING = "pending"
    SETTLED = "settled"
    CANCELLED = "cancelled"


class MemberCharge(Document):
    """A charge to one member that the club keeps (a late fee, a share of an expense): paid by
    redeeming the member's units at the unit value of the valuation that settles it; the money
    stays in the club, so everyone else's unit value rises (bivio's "fee as partial
    withdrawal"; docs/domain.md). ``amount`` in paise; ``units`` redeemed, ``charged`` = their
    value (at most ``amount`` when the member holds fewer units)."""

    club_id: str
    user_id: str
    amount: int
    reason: str
    status: ChargeStatus = ChargeStatus.PENDING
    created_by: str
    created_at: dt.datetime = Field(default_factory=_now)
    valuation_date: str | None = None
    units: int | None = None
    charged: int | None = None
    valuation_id: str | None = None

    class Settings:
        name = "member_charges"
        indexes = [
            IndexModel([("club_id", ASCENDING), ("status", ASCENDING)], name="club_status"),
        ]


class PricedPosition(BaseModel):
    """A holding priced at a valuation: ``quantity`` shares × ``price`` (minor units of the
    instrument's currency) = ``market_value`` in the club's minor units. An instrument quoted
    in another currency (``currency`` set) has its foreign value ``quantity × price``
    converted once, half-even, at the ECB rate ``rate_e8`` of ``rate_date`` (app/fx.py)."""

    symbol: str
    quantity: int
    price: int
    market_value: int
    currency: str | None = None  # None: the club's own currency
    foreign_value: int | None = None
    rate_e8: int | None = None
    rate_date: str | None = None


class Settlement(BaseModel):
    """A contribution or withdrawal settled at a valuation."""

    kind: str  # contribution | withdrawal | charge
    id: str
    user_id: str
    amount: int  # contribution amount, withdrawal gross, or the charge's value
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
    cost of the shares sold). An instrument quoted in another ``currency`` keeps its cost in
    the club's currency (each buy at its date's rate) and, apart, ``cost_foreign`` in the
    instrument's minor units, so the FX gain can be told from the price gain."""

    club_id: str
    symbol: str
    quantity: int = 0
    cost: int = 0
    realised: int = 0
    currency: str | None = None  # None: the club's own currency
    cost_foreign: int = 0

    class Settings:
        name = "holdings"
        indexes = [
            IndexModel([("club_id", ASCENDING), ("symbol", ASCENDING)], unique=True,
                       name="club_symbol_unique"),
        ]  # fmt: skip


class CashHold(Document):
    """Cash set aside from a club's free cash for one purpose, today an open buy order
    (``key`` = ``order:<id>``): ``amount`` held, ``spent`` used by its fills so far (minor
    units). While ``open``, ``amount − spent`` is neither investable nor payable; closing the
    hold gives back what was not spent."""

    club_id: str
    key: str
    amount: int
    spent: int = 0
    open: bool = True
    created_at: dt.datetime = Field(default_factory=_now)

    class Settings:
        name = "cash_holds"
        indexes = [
            IndexModel([("key", ASCENDING)], unique=True, name="key_unique"),
            IndexModel([("club_id", ASCENDING), ("open", ASCENDING)], name="club_open"),
        ]

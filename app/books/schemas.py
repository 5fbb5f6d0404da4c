"""Request and response shapes of the books API. Amounts are two-place decimal strings
(``"5456.25"``), units six-place strings (micro-units), rates basis points, dates ISO."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from app.money import Paise
from app.realtime.contract import ServerEvent


def _positive(value: int) -> int:
    if value <= 0:
        raise ValueError("must be more than zero")
    return value


class ContributionCreate(BaseModel):
    """``POST /api/v1/clubs/{id}/contributions``.

    ``online``: opens a checkout with the payment provider. ``manual``: money paid outside,
    with a receipt file id, waiting for a treasurer's approval.
    """

    amount: Paise
    method: Literal["online", "manual"] = "online"
    valuation_date: dt.date | None = None
    receipt_file_id: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=500)
    dues_month: str | None = Field(
        default=None,
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
        description="YYYY-MM: this contribution pays that month's dues",
    )

    @field_validator("amount")
    @classmethod
    def _amount_positive(cls, value: int) -> int:
        if value < 100:
            raise ValueError("the smallest contribution is 1.00")
        if value > 100_000_000_00:
            raise ValueError("the largest contribution is 10000000.00")
        return value


class ContributionOut(BaseModel):
    id: str
    club_id: str
    user_id: str
    amount: str
    currency: str
    method: str
    status: str
    provider: str | None
    order_id: str | None
    checkout_url: str | None
    payment_date: str | None
    valuation_date: str | None
    units: str | None
    receipt_file_id: str | None
    decision_reason: str | None
    note: str = Field(default="", description="the member's note for the treasurer")
    dues_month: str | None = Field(default=None, description="YYYY-MM of the dues it pays")
    created_at: dt.datetime


class ContributionList(BaseModel):
    contributions: list[ContributionOut]


class ManualDecision(BaseModel):
    """Approve (with the date the money arrived) or reject (with a reason)."""

    approve: bool
    paid_on: dt.date | None = None
    reason: str = Field(default="", max_length=500)


class WithdrawalCreate(BaseModel):
    """``POST /api/v1/clubs/{id}/withdrawals``: a gross ``amount`` or ``full``."""

    amount: Paise | None = None
    full: bool = False
    valuation_date: dt.date | None = None

    @field_validator("amount")
    @classmethod
    def _amount_positive(cls, value: int | None) -> int | None:
        return None if value is None else _positive(value)

    @model_validator(mode="after")
    def _amount_or_full(self) -> WithdrawalCreate:
        if (self.amount is None) == (not self.full):
            raise ValueError("give either an amount or full: true")
        return self


class WithdrawalOut(BaseModel):
    """A withdrawal; once settled ``units`` is the change to the member's units (negative:
    ``"-20.000000"`` redeemed twenty), the same signed convention as a valuation's settlements
    and the member statement; ``gross`` − ``fee`` = ``net`` is owed until paid."""

    id: str
    club_id: str
    user_id: str
    full: bool
    amount: str | None
    status: str
    valuation_date: str | None
    units: str | None
    gross: str | None
    fee: str | None
    net: str | None
    requested_at: dt.datetime
    paid_at: dt.datetime | None


class TradeCreate(BaseModel):
    """Manual entry of a trade made outside: whole shares, price and fees per the club's
    currency."""

    side: Literal["buy", "sell"]
    symbol: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9.&-]+$")
    quantity: int = Field(gt=0, le=10_000_000)
    price: Paise = Field(gt=0, description="a share, more than zero")
    fees: Paise = Field(default="0.00", ge=0, validate_default=True,
                        description="zero or more")  # fmt: skip
    trade_date: dt.date


class HoldingOut(BaseModel):
    symbol: str
    quantity: int
    cost: str


class ValuationCreate(BaseModel):
    """``POST /api/v1/clubs/{id}/valuations``: the date and a price per held symbol."""

    valuation_date: dt.date
    prices: dict[str, Paise] = Field(default_factory=dict)


class PositionOut(BaseModel):
    """A holding priced at a valuation: ``price`` in the instrument's currency,
    ``market_value`` in the club's. For an instrument in another ``currency``:
    ``foreign_value`` = quantity × price in that currency, converted at the ECB ``rate``
    (club currency per unit, eight places) published for ``rate_date``."""

    symbol: str
    quantity: int
    price: str
    market_value: str
    currency: str | None = None
    foreign_value: str | None = None
    rate: str | None = None
    rate_date: str | None = None


class SettlementOut(BaseModel):
    """One settlement of a valuation; ``units`` is the signed change to the member's units
    (+ a contribution issued them, − a withdrawal or charge redeemed them)."""

    kind: str
    id: str
    user_id: str
    amount: str
    units: str
    fee: str


class ValuationOut(BaseModel):
    """A valuation: NAV and unit value before its settlements (``unit_value``, what they
    settled at), and the club after them (``nav_after``, ``units_after``,
    ``unit_value_after``). A preview has the same shape and an empty ``id``."""

    id: str
    valuation_date: str
    cash: str
    market_value: str
    liabilities: str
    nav: str
    units_outstanding: str
    unit_value: str
    positions: list[PositionOut]
    settlements: list[SettlementOut]
    nav_after: str
    units_after: str
    unit_value_after: str | None = Field(
        default=None, description="after settlement (none while no units are outstanding)"
    )


class ValuationStatement(BaseModel):
    """``GET /valuation-statement``: the club at a valuation date (after its settlements)."""

    valuation_date: str
    nav: str
    unit_value: str
    units_outstanding: str
    cash: str
    market_value: str
    liabilities: str
    holdings: list[PositionOut]


class MemberStatusRow(BaseModel):
    """One member at a valuation: money in paise shown as strings, ownership and return in
    percent (4 places). Return = (value + withdrawn − paid in) ÷ paid in: ``withdrawn`` is what
    the member received; ``charged``, the member charges the club kept (paid with units), is
    not — it lowers the value instead."""

    user_id: str
    role: str
    active: bool
    paid_in: str
    withdrawn: str
    charged: str = "0.00"
    units: str
    value: str
    ownership_pct: str
    return_pct: str


class MemberStatus(BaseModel):
    valuation_date: str
    unit_value: str
    members: list[MemberStatusRow]


class TrialBalanceRowOut(BaseModel):
    account: str
    type: str
    debit: str
    credit: str


class TrialBalance(BaseModel):
    """Every account with a balance; total debits equal total credits."""

    rows: list[TrialBalanceRowOut]
    total_debit: str
    total_credit: str
    balanced: bool


class PerformanceQuery(BaseModel):
    """``?start=&end=&benchmark=SP500`` (ISO dates; both optional)."""

    start: dt.date | None = None
    end: dt.date | None = None
    benchmark: str | None = Field(default="SP500", max_length=16, pattern=r"^[A-Za-z0-9.]+$")


class MemberReturnOut(BaseModel):
    user_id: str
    xirr_pct: str | None
    cash_flows: int


class PerformanceOut(BaseModel):
    """Time-weighted return of the club (its unit value's change), the benchmark's return over
    the same valuation dates, the difference, and each member's money-weighted return (XIRR,
    annualised). Percentages with 2 places."""

    start_date: str
    end_date: str
    unit_value_start: str
    unit_value_end: str
    twr_pct: str
    benchmark: str | None
    benchmark_start: str | None
    benchmark_end: str | None
    benchmark_return_pct: str | None
    excess_pct: str | None
    members: list[MemberReturnOut]


class StatementQuery(BaseModel):
    """``?date=YYYY-MM-DD``: the latest valuation on or before it (default: the latest)."""

    date: dt.date | None = None


class WithdrawalList(BaseModel):
    """``GET /api/v1/clubs/{id}/withdrawals``, newest first."""

    withdrawals: list[WithdrawalOut]


class HoldingList(BaseModel):
    """``GET /api/v1/clubs/{id}/holdings``: what the club holds, at book cost."""

    holdings: list[HoldingOut]


class ValuationList(BaseModel):
    """``GET /api/v1/clubs/{id}/valuations``, oldest first."""

    valuations: list[ValuationOut]


class LivePositionOut(BaseModel):
    """One holding: ``quantity`` shares, ``average_price`` (book cost ÷ quantity, half-even,
    display), ``cost`` at book; ``last_price`` the latest cached quote (None: no quote yet,
    valued at book cost); ``market_value`` = quantity × last price; ``unrealised`` = market
    value − cost; ``realised`` from sales; ``allocation_pct`` = market value ÷ (cash + market
    value of every position), a percentage with 4 places."""

    symbol: str
    quantity: int
    average_price: str | None
    cost: str
    last_price: str | None
    market_value: str
    unrealised: str
    realised: str
    allocation_pct: str
    currency: str | None = Field(default=None, description="the instrument's, when not the club's")
    last_price_foreign: str | None = None
    average_price_foreign: str | None = None
    rate: str | None = Field(default=None, description="ECB rate used, club per instrument unit")
    rate_date: str | None = None
    price_gain: str | None = Field(
        default=None, description="the part of unrealised from the price, at today's rate"
    )
    fx_gain: str | None = Field(
        default=None, description="the part of unrealised from the exchange rate"
    )


class PortfolioOut(BaseModel):
    """The club's portfolio now: cash, positions at the latest quotes, liabilities (money not
    yet turned into units, payouts owed), NAV = cash + market value − liabilities, units
    outstanding (micro-units as a 6-place string), unit value (NAV ÷ units, 4 places)."""

    club_id: str
    currency: str
    cash: str
    cash_allocation_pct: str
    market_value: str
    liabilities: str
    nav: str
    units: str
    unit_value: str
    realised: str
    unrealised: str
    positions: list[LivePositionOut]
    as_of: str


class PortfolioNavEvent(ServerEvent):
    """``portfolio:nav`` to ``club:<id>``: the club's NAV and unit value, recomputed after each
    fill and on price ticks of what it holds (at most once a second per club; the latest
    wins). State, not history: not stored in the room log — refetch ``/portfolio`` on join."""

    club_id: str
    currency: str
    cash: str
    market_value: str
    liabilities: str
    nav: str
    units: str
    unit_value: str
    reason: str = Field(description="``fill`` or ``tick``")


class LivePositionList(BaseModel):
    """``GET /api/v1/clubs/{id}/positions``: what the club holds, at the latest quotes."""

    positions: list[LivePositionOut]


class PayoutQuery(BaseModel):
    """``?paid_on=YYYY-MM-DD``: the day the payout's money left the club (default today)."""

    paid_on: dt.date | None = None


class ChargeCreate(BaseModel):
    """``POST /clubs/{id}/charges``: charge ``user_id`` an ``amount`` the club keeps (a late
    fee, a share of an expense), with the ``reason`` the member reads."""

    user_id: str = Field(min_length=1, max_length=64)
    amount: Paise
    reason: str = Field(min_length=3, max_length=200)

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("a charge must be more than zero")
        return value


class ChargeOut(BaseModel):
    """A charge: ``pending`` until a valuation redeems the member's units for ``charged``
    (decimal strings; ``units`` with 6 places is the change to the member's units, so negative:
    ``"-1.000000"`` redeemed one unit — the sign convention of every unit movement)."""

    id: str
    club_id: str
    user_id: str
    amount: str
    reason: str
    status: str
    valuation_date: str | None
    units: str | None
    charged: str | None
    created_by: str
    created_at: dt.datetime


class ChargeList(BaseModel):
    charges: list[ChargeOut]

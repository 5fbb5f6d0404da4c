"""Request and response shapes of the clubs API. Amounts are two-place decimal strings
(``"5456.25"``), units six-place strings (micro-units), rates basis points, dates ISO."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema, field_validator

from app.clubs.documents import ClubRole, TieRule, VotingMode
from app.market.schemas import normalise_symbols
from app.money import AmountFormatError, parse_minor


def _paise(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError('amounts are decimal strings with two places, e.g. "5456.25"')
    try:
        return parse_minor(value)
    except AmountFormatError as exc:
        raise ValueError(str(exc)) from exc


AMOUNT_SCHEMA = {
    "type": "string",
    "pattern": r"^-?\d{1,15}(\.\d{1,2})?$",
    "description": "an amount as a decimal string with at most two places",
    "examples": ["5456.25"],
}

Paise = Annotated[int, BeforeValidator(_paise), WithJsonSchema(AMOUNT_SCHEMA)]
"""A request amount: a decimal string in (so documented), integer paise out."""


def _positive(value: int) -> int:
    if value <= 0:
        raise ValueError("must be more than zero")
    return value


class ClubCreate(BaseModel):
    """``POST /api/v1/clubs``."""

    name: str = Field(min_length=2, max_length=80)
    description: str = Field(default="", max_length=2000)
    currency: Literal["INR", "USD", "EUR", "GBP"] = "INR"
    starting_unit_value: Paise = Field(default="10.00", validate_default=True)
    voting_mode: VotingMode = VotingMode.SIMPLE
    approval_threshold_bps: int = Field(default=6000, ge=1, le=10_000)
    quorum_bps: int | None = Field(default=None, ge=1, le=10_000)
    tie_rule: TieRule = TieRule.REJECT
    hide_running_results: bool = Field(
        default=False, description="proposals show only participation until they close"
    )
    withdrawal_fee_bps: int = Field(default=0, ge=0, le=2_000, description="0 = no fee")

    @field_validator("starting_unit_value")
    @classmethod
    def _start_positive(cls, value: int) -> int:
        return _positive(value)

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if len(value) < 2:
            raise ValueError("a name needs at least 2 characters")
        return value


class ClubOut(BaseModel):
    """A club's rules and the caller's role in it."""

    id: str
    name: str
    description: str
    currency: str
    starting_unit_value: str
    voting_mode: VotingMode
    approval_threshold_bps: int
    quorum_bps: int | None
    tie_rule: TieRule
    withdrawal_fee_bps: int
    created_at: dt.datetime
    last_valuation_date: str | None
    my_role: ClubRole


class ClubList(BaseModel):
    clubs: list[ClubOut]


class AdminClubOut(BaseModel):
    """A club as the platform's admin console lists it."""

    id: str
    name: str
    currency: str
    voting_mode: VotingMode
    members: int
    last_valuation_date: str | None
    created_at: dt.datetime
    created_by: str


class AdminClubList(BaseModel):
    clubs: list[AdminClubOut]
    total: int
    page: int
    page_size: int


class AdminClubQuery(BaseModel):
    """``?q=<part of the name>&page=1&page_size=50``."""

    q: str | None = Field(default=None, max_length=80)
    page: int = Field(default=1, ge=1, le=10_000)
    page_size: int = Field(default=50, ge=1, le=200)


class MemberOut(BaseModel):
    user_id: str
    role: ClubRole
    joined_at: dt.datetime
    full_name: str | None = None
    member_id: str | None = None


class MemberList(BaseModel):
    members: list[MemberOut]


class InviteCreate(BaseModel):
    """``POST /api/v1/clubs/{id}/invites``: lifetime in hours and how many may join by it."""

    expires_in_hours: int = Field(default=72, ge=1, le=24 * 30)
    max_uses: int = Field(default=10, ge=1, le=1000)


class InviteOut(BaseModel):
    """An invite; ``token`` and ``url`` only in the creation response (stored hashed)."""

    id: str
    club_id: str
    expires_at: dt.datetime
    max_uses: int
    uses: int
    revoked: bool
    token: str | None = None
    url: str | None = None


class JoinOut(BaseModel):
    club: ClubOut


class RoleChange(BaseModel):
    role: ClubRole


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


class WithdrawalOut(BaseModel):
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


class Watchlist(BaseModel):
    """The symbols a club follows live (its holdings are followed anyway)."""

    symbols: list[str] = Field(max_length=50)

    @field_validator("symbols")
    @classmethod
    def _normalise(cls, symbols: list[str]) -> list[str]:
        return normalise_symbols(symbols)


class TradeCreate(BaseModel):
    """Manual entry of a trade made outside: whole shares, price and fees per the club's
    currency."""

    side: Literal["buy", "sell"]
    symbol: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9.&-]+$")
    quantity: int = Field(gt=0, le=10_000_000)
    price: Paise
    fees: Paise = Field(default="0.00", validate_default=True)
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
    symbol: str
    quantity: int
    price: str
    market_value: str


class SettlementOut(BaseModel):
    kind: str
    id: str
    user_id: str
    amount: str
    units: str
    fee: str


class ValuationOut(BaseModel):
    """A valuation: NAV and unit value before its settlements, and the club after them."""

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
    percent (4 places). Return = (value + withdrawn − paid in) ÷ paid in."""

    user_id: str
    role: str
    active: bool
    paid_in: str
    withdrawn: str
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

"""Request, response and socket payload shapes of chit funds. Money is a decimal string with two
places at the API (``"10000.00"``), integer paise everywhere else."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.chits.rules import CommissionSource
from app.money import AmountFormatError, parse_minor
from app.realtime.contract import ServerEvent

Amount = Annotated[str, Field(description="two-place decimal string, e.g. \"10000.00\"",
                              examples=["10000.00"])]  # fmt: skip


def _amount(value: str) -> str:
    try:
        if parse_minor(value) < 0:
            raise ValueError("must not be negative")
    except AmountFormatError as exc:
        raise ValueError(str(exc)) from exc
    return value


def paise(value: str) -> int:
    """A validated amount string → paise."""
    return parse_minor(value)


class SchemeFields(BaseModel):
    """The settings of a scheme (every field optional: a PATCH)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=3, max_length=120)
    chit_amount: Amount | None = None
    subscribers: int | None = Field(default=None, ge=2, le=120)
    instalment: Amount | None = None
    commission_bps: int | None = Field(default=None, ge=0, le=10_000)
    min_bid: Amount | None = None
    bid_step: Amount | None = None
    max_discount: Amount | None = None
    commission_source: CommissionSource | None = None
    auction_day: int | None = Field(default=None, ge=1, le=28)
    auction_time: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    auction_minutes: int | None = Field(default=None, ge=1, le=240)
    extension_seconds: int | None = Field(default=None, ge=0, le=600)
    start_date: dt.date | None = None
    grace_days: int | None = Field(default=None, ge=0, le=31)
    late_penalty: Amount | None = None

    @field_validator("chit_amount", "instalment", "min_bid", "bid_step", "max_discount",
                     "late_penalty")  # fmt: skip
    @classmethod
    def _money(cls, value: str | None) -> str | None:
        return None if value is None else _amount(value)


class SchemeCreate(SchemeFields):
    """A new scheme (DRAFT). Every setting is required except the ones with defaults."""

    name: str = Field(min_length=3, max_length=120)
    chit_amount: Amount
    subscribers: int = Field(ge=2, le=120)
    instalment: Amount
    commission_bps: int = Field(ge=0, le=10_000, description="at most 700 (7 %)")
    min_bid: Amount
    bid_step: Amount
    max_discount: Amount
    commission_source: CommissionSource = CommissionSource.DISCOUNT
    auction_day: int = Field(ge=1, le=28)
    auction_time: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM UTC")
    start_date: dt.date


class SchemeOut(BaseModel):
    """A scheme as the portal shows it."""

    id: str
    name: str
    foreman_id: str
    currency: str
    chit_amount: str
    subscribers: int
    instalment: str
    commission_bps: int
    commission: str
    min_bid: str
    bid_step: str
    max_discount: str
    commission_source: CommissionSource
    auction_day: int
    auction_time: str
    auction_minutes: int
    extension_seconds: int
    start_date: str
    grace_days: int
    late_penalty: str
    status: str
    filled: int
    current_month: int
    approved_by: str | None
    approved_at: dt.datetime | None
    created_at: dt.datetime


class SchemeList(BaseModel):
    schemes: list[SchemeOut]


class SchemeDeleted(BaseModel):
    """A draft scheme was deleted."""

    id: str
    deleted: Literal[True] = True


class SchemeDecision(BaseModel):
    """An admin's decision on a pending scheme."""

    model_config = ConfigDict(extra="forbid")

    approve: bool = True
    reason: str = Field(default="", max_length=500)


class SubscriptionCreate(BaseModel):
    """Join a scheme (take the next free ticket)."""

    model_config = ConfigDict(extra="forbid")

    scheme_id: str = Field(min_length=1, max_length=64)


class SuretyIn(BaseModel):
    """Security given by a prized subscriber."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["guarantor", "fixed_deposit", "property", "other"]
    details: str = Field(min_length=3, max_length=1000)


class SubstituteIn(BaseModel):
    """Admit ``user_id`` in place of a defaulted subscription."""

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=64)


class SubscriptionPatch(BaseModel):
    """The foreman's change of a subscription: ``DEFAULTED`` removes a defaulter."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["DEFAULTED"]
    reason: str = Field(default="", max_length=500)


class SuretyOut(BaseModel):
    kind: str
    details: str
    recorded_at: dt.datetime


class SubscriptionOut(BaseModel):
    """One ticket holder (or former holder) of a scheme; ``balance`` is what they owe now
    (negative: a credit the scheme holds for them)."""

    id: str
    scheme_id: str
    user_id: str
    name: str | None = None
    member_id: str | None
    ticket: int
    status: str
    holds_ticket: bool
    prized_month: int | None
    surety: SuretyOut | None
    replaces: str | None
    replaced_by: str | None
    catch_up: str
    balance: str
    # ``balance`` split by today's date: what has fallen due (due date today or before) and
    # what is called but falls due later, with the earliest of those later due dates
    due_now: str = "0.00"
    upcoming: str = "0.00"
    next_due_date: str | None = None
    joined_at: dt.datetime


class SubstituteQuote(BaseModel):
    """What admitting a substitute on a DEFAULTED ticket settles, shown before the foreman
    confirms: ``catch_up`` (the substitute pays: the net instalments of the months already
    called), the defaulter's ``arrears`` cleared from it and ``defaulter_refund`` (the rest,
    owed back to the defaulter at the end)."""

    subscription_id: str
    ticket: int
    months_called: int
    catch_up: str
    arrears: str
    defaulter_refund: str


class CandidateQuery(BaseModel):
    """``?who=``: the substitute's e-mail address or Samooh member ID."""

    model_config = ConfigDict(extra="forbid")

    who: str = Field(min_length=3, max_length=254)


class SubstituteCandidate(BaseModel):
    """The person a foreman named as a substitute, to confirm before admitting them:
    ``kyc_verified`` (a substitute must be), ``holds_ticket`` (already in this scheme: cannot
    take a second ticket)."""

    user_id: str
    full_name: str
    member_id: str | None
    kyc_verified: bool
    holds_ticket: bool


class SubscriptionList(BaseModel):
    subscriptions: list[SubscriptionOut]


class PaymentOut(BaseModel):
    """An INSTALLMENT (in), or PRIZE / DIVIDEND / REFUND (out) of one subscription."""

    id: str
    scheme_id: str
    subscription_id: str
    user_id: str
    kind: str
    status: str
    amount: str
    currency: str
    month: int
    provider: str | None
    order_id: str | None
    checkout_url: str | None
    late: bool
    penalty: str
    reference: str | None
    created_at: dt.datetime
    completed_at: dt.datetime | None
    attempts: int = 0
    last_error: str | None = None
    withheld: str | None = None


class PaymentList(BaseModel):
    payments: list[PaymentOut]


class DrawOut(BaseModel):
    """A draw by lot; recompute ``seed`` from the auction id and its bids (``method``)."""

    reason: str
    seed: str
    method: str
    candidates: list[int]
    chosen: int


class BidOut(BaseModel):
    """A valid bid in order; ``id`` enters the seed of a draw by lot (re-checkable)."""

    id: str | None = None
    seq: int
    ticket: int
    discount: str
    at: dt.datetime


class AuctionOut(BaseModel):
    """A month's auction and, once closed, its result and arithmetic: chit amount = prize +
    commission + the sum of ``shares`` (ticket order). ``status``: SCHEDULED (before
    ``opens_at``) → OPEN (taking bids until ``ends_at``) → CLOSED."""

    id: str
    scheme_id: str
    month: int
    status: str
    opens_at: dt.datetime
    ends_at: dt.datetime
    foreman_month: bool
    best_discount: str | None
    bid_count: int
    method: str | None
    winner_ticket: int | None
    discount: str | None
    prize: str | None
    commission: str | None
    shares: list[str]
    net_instalments: list[str]
    draw: DrawOut | None
    prize_paid_at: dt.datetime | None
    prize_withheld: str
    prize_payment_id: str | None = None
    bids: list[BidOut] = Field(default_factory=list)


class AuctionList(BaseModel):
    auctions: list[AuctionOut]


class PayPrize(BaseModel):
    """The foreman records the prize transfer (bank reference)."""

    model_config = ConfigDict(extra="forbid")

    reference: str = Field(min_length=1, max_length=120)


class PrizePayout(BaseModel):
    """A month's prize payout through the payout provider, or ``null`` before it is asked."""

    payment: PaymentOut | None


class LeaveQuote(BaseModel):
    """What leaving early would settle (shown before confirming): ``settlement`` = net
    instalments paid in less penalties and anything still owed, owed back once a substitute
    takes the ticket (at the latest at the final settlement). ``may_leave`` false with
    ``reason`` ``prized`` (only a substitute may take over a prized ticket), ``not_active`` or
    ``scheme_not_active``."""

    subscription_id: str
    ticket: int
    may_leave: bool
    reason: str
    paid_in: str
    penalties: str
    owed: str
    settlement: str
    months_called: int


class LeaveIn(BaseModel):
    """``POST /api/v1/subscriptions/{id}/leave``: the settlement the person was shown."""

    model_config = ConfigDict(extra="forbid")

    settlement: Amount

    @field_validator("settlement")
    @classmethod
    def _settlement(cls, value: str) -> str:
        return _amount(value)


class PassbookRow(BaseModel):
    """One month of a subscriber's passbook; ``balance`` is what is outstanding after it."""

    month: int
    due_date: str | None
    due: str
    paid: str
    dividend: str
    penalty: str
    prize: str
    balance: str


class Passbook(BaseModel):
    subscription_id: str
    scheme_id: str
    ticket: int
    rows: list[PassbookRow]
    balance: str
    total_paid: str
    total_dividend: str


class ScoreFactor(BaseModel):
    """One factor of the chit score: its value in [0, 1] (4 places), weight and points."""

    name: str
    weight_percent: int
    value: str
    points: int
    explanation: str


class ChitScore(BaseModel):
    """Chit score 0–900 = 900 × (0.4 payment history + 0.3 participation + 0.2 KYC + 0.1
    profile), rounded half-even (DOMAIN.md)."""

    user_id: str
    score: int
    max_score: int = 900
    # false for someone with no ticket and no instalment yet: the score then rests on KYC
    # and profile alone (and payment history counted as clean), so screens say "no history"
    has_history: bool = True
    factors: list[ScoreFactor]
    # the latest nightly recomputation (the chits agent), when there is one
    nightly_score: int | None = None
    nightly_day: str | None = None


class MonthPreview(BaseModel):
    """The arithmetic of a month at ``discount``: prize, commission, shares, net instalments."""

    discount: str
    prize: str
    commission: str
    shares: list[str]
    net_instalments: list[str]
    chit_amount: str


class TrialBalanceRow(BaseModel):
    account: str
    balance: str


class TrialBalanceOut(BaseModel):
    rows: list[TrialBalanceRow]
    total: str


# ---- sockets -----------------------------------------------------------------------------


class SchemeJoin(BaseModel):
    """``chit:join``: enter ``scheme:<id>``; ``after_seq`` to receive what was missed."""

    scheme_id: str = Field(min_length=1, max_length=64)
    after_seq: int | None = Field(default=None, ge=0, le=2**63 - 1)


class BidRequest(BaseModel):
    """``chit:bid``: a discount (decimal string) in the scheme's open auction."""

    scheme_id: str = Field(min_length=1, max_length=64)
    discount: Amount

    @field_validator("discount")
    @classmethod
    def _money(cls, value: str) -> str:
        return _amount(value)


class MissedChitEvent(BaseModel):
    event: str
    data: dict[str, object]


class SchemeJoined(BaseModel):
    """The ack of ``chit:join``: the room's ``seq``, what was missed, and the live state."""

    ok: Literal[True] = True
    scheme_id: str
    seq: int
    missed: list[MissedChitEvent]
    auction: AuctionOut | None
    # the latest closed month with its arithmetic (shown after the close until the next one)
    result: AuctionOut | None = None
    my_ticket: int | None
    eligible: bool
    eligibility: str
    status: str | None = None


class SchemeLeft(BaseModel):
    ok: Literal[True] = True
    scheme_id: str


class BidAck(BaseModel):
    """``chit:bid``'s answer: the bid's ``seq`` in the auction and ``room_seq``, the ``seq`` of
    its ``chit:bid`` event in the room's log (a client that has not applied it shortly asks
    the room for what it missed)."""

    ok: Literal[True] = True
    seq: int
    room_seq: int | None = None
    discount: str
    ends_at: dt.datetime


class ChitRoomEvent(ServerEvent):
    """A sequenced event of ``scheme:<scheme_id>`` (``seq`` gap-free per room)."""

    seq: int = Field(ge=1)
    scheme_id: str


class ChitBidEvent(ChitRoomEvent):
    """``chit:bid``: a valid bid, in the order accepted; ``ends_at`` after any extension."""

    auction_id: str
    month: int
    bid_seq: int
    ticket: int
    discount: str
    ends_at: str


class ChitAuctionOpenedEvent(ChitRoomEvent):
    """``chit:auction_opened``: month ``month``'s auction takes bids until ``ends_at``."""

    auction_id: str
    month: int
    opens_at: str
    ends_at: str


class ChitAuctionClosedEvent(ChitRoomEvent):
    """``chit:auction_closed``: the result and its arithmetic (once per auction)."""

    auction: AuctionOut


class ChitPaymentEvent(ChitRoomEvent):
    """``chit:payment``: an instalment of a ticket was received (or failed)."""

    payment_id: str
    ticket: int
    month: int
    kind: str
    status: str
    amount: str
    # why a payment FAILED, in words (``None`` otherwise)
    reason: str | None = None


class ChitSchemeEvent(ChitRoomEvent):
    """``chit:scheme``: the scheme's status or month changed."""

    status: str
    current_month: int
    filled: int

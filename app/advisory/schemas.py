"""Request and response shapes of robo-advice. Amounts are two-place decimal strings, weights
and rates percentage strings with two places (from basis points), dates ISO; frontier points
are numbers (percent) for charts."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from app.advisory.documents import (
    AdvisoryAccount,
    RebalanceRun,
    Recommendation,
    RiskAssessment,
    TaxTreatment,
)
from app.advisory.questionnaire import QUESTIONS
from app.market.schemas import normalise_symbols
from app.money import Paise, format_basis_points, format_minor
from app.realtime.contract import LoggedEvent, RoomEvent


def pct(ratio: float | None) -> str | None:
    """A ratio as a percentage string with 2 places, half-even (0.12345 → ``"12.35"``)."""
    if ratio is None:
        return None
    value = (Decimal(str(ratio)) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return str(value)


class OptionOut(BaseModel):
    value: str
    label: str


class QuestionOut(BaseModel):
    id: str
    text: str
    options: list[OptionOut]


class Questionnaire(BaseModel):
    """``GET /api/v1/advisory/questionnaire``."""

    questions: list[QuestionOut]

    @classmethod
    def build(cls) -> Questionnaire:
        return cls(questions=[
            QuestionOut(id=q.id, text=q.text,
                        options=[OptionOut(value=o.value, label=o.label) for o in q.options])
            for q in QUESTIONS
        ])  # fmt: skip


class AnswersIn(BaseModel):
    """``POST /api/v1/advisory/risk-profile``: question id → chosen option value."""

    answers: dict[str, str] = Field(max_length=20)


class AssessmentOut(BaseModel):
    """A questionnaire result: score 0–100, profile, horizon in years, the answers kept."""

    id: str
    score: int
    profile: str
    horizon_years: int
    strategy: str
    answers: dict[str, str]
    taken_at: str

    @classmethod
    def of(cls, a: RiskAssessment, strategy: str) -> AssessmentOut:
        return cls(id=str(a.id), score=a.score, profile=a.profile,
                   horizon_years=a.horizon_years, strategy=strategy, answers=a.answers,
                   taken_at=a.taken_at.isoformat())  # fmt: skip


class AccountCreate(BaseModel):
    """``POST /api/v1/portfolios``: open a personal account."""

    name: str = Field(default="My portfolio", min_length=2, max_length=80)
    tax_treatment: TaxTreatment = TaxTreatment.TAXABLE
    currency: Literal["USD"] = "USD"


class PolicyIn(BaseModel):
    """``PUT /api/v1/portfolios/{account_id}/policy`` (every field) or ``PATCH`` (only those
    given), by a club's owner/admin or the owner of a personal account. Bands and maximum
    weight in basis points; ``min_trade`` an amount; ``risk_profile`` a club's own profile
    (the optimiser's objective for its targets). Unknown fields are refused (422), never
    silently dropped."""

    model_config = ConfigDict(extra="forbid")

    band_bps: StrictInt = Field(default=500, ge=50, le=2500)
    min_trade: Paise = Field(default="0.00", validate_default=True)
    excluded: list[str] = Field(default_factory=list, max_length=50)
    max_weight_bps: StrictInt = Field(default=2500, ge=500, le=10_000)
    wash_sale_days: StrictInt = Field(default=30, ge=0, le=90)
    risk_profile: Literal["conservative", "moderate", "aggressive"] | None = None

    @field_validator("excluded")
    @classmethod
    def _symbols(cls, value: list[str]) -> list[str]:
        return normalise_symbols(value) if value else []

    @field_validator("min_trade")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must not be negative")
        return value


class PolicyPut(PolicyIn):
    """``PUT``: the whole policy — every field is required, so a missing one is an error
    rather than a silent reset to its default."""

    band_bps: StrictInt = Field(ge=50, le=2500)
    min_trade: Paise
    excluded: list[str] = Field(max_length=50)
    max_weight_bps: StrictInt = Field(ge=500, le=10_000)
    wash_sale_days: StrictInt = Field(ge=0, le=90)


class AccountOut(BaseModel):
    """An advisory account and its policy (targets in percent)."""

    account_id: str
    kind: str
    name: str
    currency: str
    tax_treatment: str | None
    targets: dict[str, str]
    recommendation_id: str | None
    band_pct: str
    min_trade: str
    excluded: list[str]
    max_weight_pct: str
    wash_sale_days: int
    risk_profile: str | None = None
    strategy_id: str | None = None
    base_targets: dict[str, str] = {}

    @classmethod
    def of(cls, a: AdvisoryAccount) -> AccountOut:
        return cls(
            account_id=a.account_id, kind=a.kind.value, name=a.name, currency=a.currency,
            tax_treatment=a.tax_treatment.value if a.tax_treatment else None,
            targets={s: format_basis_points(b) for s, b in sorted(a.targets.items())},
            recommendation_id=a.recommendation_id, band_pct=format_basis_points(a.band_bps),
            min_trade=format_minor(a.min_trade), excluded=a.excluded,
            max_weight_pct=format_basis_points(a.max_weight_bps),
            wash_sale_days=a.wash_sale_days, risk_profile=a.risk_profile,
            strategy_id=a.strategy_id,
            base_targets={s: format_basis_points(b) for s, b in sorted(a.base_targets.items())},
        )  # fmt: skip


class AccountList(BaseModel):
    accounts: list[AccountOut]


class RecommendationIn(BaseModel):
    """``POST /api/v1/advisory/recommendations``. ``account_id``: adopt it as that account's
    targets (a club: owner/admin). ``symbols``: default every stock with the whole window;
    ``end``: default the day before the market replay starts; ``years``: window length."""

    account_id: str | None = Field(default=None, max_length=64)
    symbols: list[str] | None = Field(default=None, min_length=2, max_length=60)
    end: dt.date | None = None
    years: int = Field(default=3, ge=1, le=15)

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str] | None) -> list[str] | None:
        return normalise_symbols(value) if value else value


class WeightOut(BaseModel):
    symbol: str
    weight_pct: str


class FrontierPoint(BaseModel):
    """One efficient portfolio: annualised volatility and return in percent."""

    volatility: float
    annual_return: float


class FiguresOut(BaseModel):
    """Annualised figures on the history, percent strings (Sharpe and Sortino as ratios)."""

    annual_return_pct: str | None
    volatility_pct: str | None
    sharpe: str | None
    sortino: str | None
    max_drawdown_pct: str | None

    @classmethod
    def of(cls, f: dict[str, float]) -> FiguresOut:
        def ratio(x: float | None) -> str | None:
            if x is None:
                return None
            return str(Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))

        return cls(annual_return_pct=pct(f.get("annual_return")),
                   volatility_pct=pct(f.get("volatility")), sharpe=ratio(f.get("sharpe")),
                   sortino=ratio(f.get("sortino")),
                   max_drawdown_pct=pct(f.get("max_drawdown")))  # fmt: skip


class RecommendationOut(BaseModel):
    """A recommendation: profile, objective, strategy label, weights, figures, frontier, and
    the inputs and library versions that reproduce it."""

    id: str
    account_id: str | None
    profile: str
    strategy: str
    objective: str
    weights: list[WeightOut]
    figures: FiguresOut
    frontier: list[FrontierPoint]
    inputs: dict[str, object]
    versions: dict[str, str]
    created_at: str

    @classmethod
    def of(cls, r: Recommendation) -> RecommendationOut:
        weights = [WeightOut(symbol=s, weight_pct=format_basis_points(b))
                   for s, b in zip(r.symbols, r.weights_bps, strict=True) if b > 0]  # fmt: skip
        weights.sort(key=lambda w: -Decimal(w.weight_pct))
        return cls(
            id=str(r.id), account_id=r.account_id, profile=r.profile, strategy=r.strategy,
            objective=r.objective, weights=weights, figures=FiguresOut.of(r.figures),
            frontier=[FrontierPoint(volatility=round(v * 100, 2), annual_return=round(m * 100, 2))
                      for v, m in r.frontier],
            inputs=r.inputs, versions=r.versions, created_at=r.created_at.isoformat(),
        )  # fmt: skip


class RecommendationList(BaseModel):
    recommendations: list[RecommendationOut]


class HoldingOut(BaseModel):
    """One line of an account: shares, price now, value, weight now and target (percent);
    ``price`` and ``value`` in the account's currency. An instrument in another
    ``currency`` also has its ``native_price`` and the ECB rate that converted it (``fx_rate``:
    account-currency units per unit, eight places; ``fx_date``: the rate's day)."""

    symbol: str
    quantity: int
    price: str
    value: str
    weight_pct: str
    target_pct: str
    drift_pct: str
    outside_band: bool
    currency: str | None = None
    native_price: str | None = None
    fx_rate: str | None = None
    fx_date: str | None = None


class HoldingsOut(BaseModel):
    """``GET /api/v1/portfolios/{account_id}/holdings``: valued at the latest quotes (else the
    last close); ``drifted`` when any asset is outside its band."""

    account_id: str
    currency: str
    cash: str
    total: str
    band_pct: str
    drifted: bool
    holdings: list[HoldingOut]


class RebalanceIn(BaseModel):
    """``POST /api/v1/portfolios/{account_id}/rebalance``: ``force`` trades towards the
    targets even when nothing is outside its band."""

    model_config = ConfigDict(extra="forbid")

    force: StrictBool = False


class TradeOut(BaseModel):
    """A trade of a run; ``limit_price`` once it was executed (the order's limit)."""

    symbol: str
    side: Literal["buy", "sell"]
    quantity: int
    price: str
    value: str
    fee: str
    limit_price: str | None = None


class RebalanceOut(BaseModel):
    """The proposed trades (whole shares), cash and weights before and after, and what they
    became once executed."""

    id: str
    account_id: str
    force: bool
    drifted: bool
    inside_bands: bool
    trades: list[TradeOut]
    cash_before: str
    cash_after: str
    turnover: str
    fees: str
    weights_before: dict[str, str]
    weights_after: dict[str, str]
    proposal_ids: list[str]
    order_ids: list[str]
    sell_order_ids: list[str] = []
    buy_order_ids: list[str] = []
    status: str = "proposed"
    note: str = ""
    executed_at: str | None
    finished_at: str | None = None
    created_at: str | None = None

    @classmethod
    def of(cls, r: RebalanceRun) -> RebalanceOut:
        trades = [TradeOut(symbol=t["symbol"], side="buy" if t["quantity"] > 0 else "sell",
                           quantity=abs(t["quantity"]), price=format_minor(t["price"]),
                           value=format_minor(t["value"]), fee=format_minor(t["fee"]),
                           limit_price=format_minor(t["limit"]) if "limit" in t else None)
                  for t in r.trades]  # fmt: skip
        return cls(
            id=str(r.id), account_id=r.account_id, force=r.force, drifted=r.drifted,
            inside_bands=r.inside_bands, trades=trades, cash_before=format_minor(r.cash_before),
            cash_after=format_minor(r.cash_after),
            turnover=format_minor(sum(t["value"] for t in r.trades)),
            fees=format_minor(sum(t["fee"] for t in r.trades)),
            weights_before={s: format_basis_points(b) for s, b in r.weights_before.items()},
            weights_after={s: format_basis_points(b) for s, b in r.weights_after.items()},
            proposal_ids=r.proposal_ids, order_ids=r.order_ids,
            sell_order_ids=r.sell_order_ids, buy_order_ids=r.buy_order_ids,
            status=r.status.value, note=r.note,
            executed_at=r.executed_at.isoformat() if r.executed_at else None,
            finished_at=r.finished_at.isoformat() if r.finished_at else None,
            created_at=r.created_at.isoformat(),
        )  # fmt: skip


class RebalanceUpdatedEvent(RoomEvent):
    """``portfolio:rebalance`` in the account's room log (``club:<account_id>``, with its
    ``seq``; ``club_id`` is the account's id, a club's or a personal account's): a rebalance
    run moved (its vote closed, its sales or buys went out, it ended); fetch it. Replayed by the
    room's catch-up to a screen that was away."""

    run_id: str
    status: str


class RebalanceList(BaseModel):
    """``GET …/rebalances``: the account's latest runs, newest first, with their status."""

    runs: list[RebalanceOut]


class ExecuteIn(BaseModel):
    """``POST …/rebalance/{id}/execute``: a club's proposal stays open ``voting_hours``."""

    voting_hours: float = Field(default=48, gt=0, le=24 * 14)


class PerformanceQuery(BaseModel):
    """``?period=&start=&end=&benchmark=`` of ``GET …/performance``: ``period`` one of 1M, 3M,
    6M, 1Y, start (checked by the service: 422 ``unknown_period``), or ``start``."""

    period: str | None = Field(default=None, max_length=16)
    start: dt.date | None = None
    end: dt.date | None = None
    benchmark: str = Field(default="SP500", max_length=16)


class SeriesPoint(BaseModel):
    date: str
    value: float


class PerformanceOut(BaseModel):
    """A backtest of the account's target mix on history against a benchmark: time-weighted
    return, volatility, Sharpe, Sortino, maximum drawdown (percent strings), beta, and both
    growth-of-100 series for a chart."""

    account_id: str
    period: str | None = None
    start: str
    end: str
    benchmark: str
    portfolio: FiguresOut
    benchmark_figures: FiguresOut
    twr_pct: str | None
    benchmark_twr_pct: str | None
    beta: str | None
    series: list[SeriesPoint]
    benchmark_series: list[SeriesPoint]


class LotOut(BaseModel):
    """One FIFO lot with an unrealised loss."""

    symbol: str
    bought_on: str
    quantity: int
    cost_price: str
    price: str
    loss: str


class OpportunityOut(BaseModel):
    """A position with an unrealised loss: harvestable loss, its lots, a replacement from the
    same sector (with its correlation), and whether a sale now is blocked by a buy inside the
    wash-sale window (``blocked_until``)."""

    account_id: str
    symbol: str
    sector: str
    quantity: int
    harvestable_loss: str
    lots: list[LotOut]
    replacement: str | None
    correlation: str | None
    blocked_until: str | None


class OpportunityList(BaseModel):
    """``GET /api/v1/users/{id}/tax-loss-opportunities``."""

    wash_sale_days: int
    opportunities: list[OpportunityOut]


class DriftAlertEvent(RoomEvent):
    """``portfolio:drift`` in the account's room (``club:<account_id>``, logged with ``seq``):
    the listed assets are outside their bands. The owner (or the club's owners/admins) also
    get a notification."""

    account_id: str
    name: str
    symbols: list[str]


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("give times with a time zone, e.g. 2026-05-01T10:00:00+05:30")
    return value.astimezone(dt.UTC)


class SlotsIn(BaseModel):
    """``POST /api/v1/advisors/me/slots``: start times (with a time zone) and a length."""

    starts: list[dt.datetime] = Field(min_length=1, max_length=50)
    minutes: int = Field(default=30, ge=15, le=120)

    @field_validator("starts")
    @classmethod
    def _zoned(cls, value: list[dt.datetime]) -> list[dt.datetime]:
        return [_aware(v) for v in value]


class SlotOut(BaseModel):
    """An offered consultation time; ``id`` to withdraw it (its advisor)."""

    id: str | None = None
    advisor_id: str
    start: str
    minutes: int


class SlotList(BaseModel):
    slots: list[SlotOut]


class BookingIn(BaseModel):
    """``POST /api/v1/advisors/{id}/bookings`` and ``…/reschedule``: the slot's start."""

    start: dt.datetime

    @field_validator("start")
    @classmethod
    def _zoned(cls, value: dt.datetime) -> dt.datetime:
        return _aware(value)


class BookingOut(BaseModel):
    """A consultation; the names are the people's display names (full name)."""

    id: str
    advisor_id: str
    client_id: str
    start: str
    minutes: int
    status: str
    advisor_name: str | None = None
    client_name: str | None = None


class BookingList(BaseModel):
    bookings: list[BookingOut]


class BookingChangedEvent(LoggedEvent):
    """``advisory:booking`` in both people's own logs (``person:<id>``, with its ``seq``;
    replayed by ``feed:join``): a consultation was booked, cancelled or moved, so an
    advisor's desk and a client's list stay live and catch up after a reconnect."""

    booking: BookingOut


class MySlotOut(SlotOut):
    """An advisor's own slot and, when booked, its consultation."""

    booking: BookingOut | None = None


class MySlotList(BaseModel):
    slots: list[MySlotOut]


class ClientView(BaseModel):
    """What an engaged advisor sees of a client: the current profile and portfolios."""

    client_id: str
    name: str | None = None
    profile: AssessmentOut | None
    accounts: list[AccountOut]


class StrategyTargetsIn(BaseModel):
    """New targets of a strategy: symbol → basis points (sum 10,000)."""

    targets: dict[str, int] = Field(min_length=1, max_length=60)

    @field_validator("targets")
    @classmethod
    def _symbols(cls, value: dict[str, int]) -> dict[str, int]:
        return dict(zip(normalise_symbols(list(value)), value.values(), strict=True))


class StrategyIn(StrategyTargetsIn):
    """``POST /api/v1/strategies``: ``publish`` false keeps it a draft only its advisor sees."""

    name: str = Field(min_length=3, max_length=80)
    description: str = Field(default="", max_length=2000)
    publish: StrictBool = True


class StrategyEditIn(StrategyTargetsIn):
    """``PUT /api/v1/strategies/{id}``: new targets, and a new name or description if given."""

    name: str | None = Field(default=None, min_length=3, max_length=80)
    description: str | None = Field(default=None, max_length=2000)


class FollowIn(BaseModel):
    """``POST /api/v1/strategies/{id}/followers``: the portfolio that follows it."""

    account_id: str = Field(max_length=64)


class StrategyOut(BaseModel):
    """A model strategy: targets in percent, version, how many portfolios follow it, and (on
    its page) a backtest against the benchmark."""

    id: str
    advisor_id: str
    name: str
    description: str
    targets: dict[str, str]
    version: int
    followers: int
    performance: PerformanceOut | None = None
    published: bool = True
    advisor_name: str | None = None
    path: str = ""  # the public page: /strategies/<name-as-words>-<id>


class StrategyList(BaseModel):
    strategies: list[StrategyOut]


def strategy_path(strategy_id: str, name: str) -> str:
    """The public page's readable address: ``/strategies/<name in lowercase words>-<id>``
    (the id at the end is what counts; the words are for people and search engines)."""
    words = "".join(c if c.isascii() and c.isalnum() else " " for c in name.lower()).split()
    slug = "-".join(words)[:60].strip("-")
    return f"/strategies/{slug}-{strategy_id}" if slug else f"/strategies/{strategy_id}"

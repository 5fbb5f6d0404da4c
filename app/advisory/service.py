"""Robo-advice rules (DOMAIN.md, "Robo-advice"; issue #17): the risk questionnaire, target
allocations from the optimiser (engine.py) on the market's real history, an account's holdings
against its targets, rebalancing trades and what they become (a club's ONE proposal for the
vote, then orders its treasurer sends; a personal account's orders at once), a backtest of the
target mix against a benchmark, tax-loss harvesting on FIFO lots, and the drift check the
worker runs.

A rebalance run is a state machine (``RunStatus``; every step a conditional update, so it
happens once whoever moves it — the request, a later read, or the worker's timer): sales go to
the broker first; the buys only once every sale is final, each re-sized to the cash really
there; the run ends ``executed``, ``partial`` or ``failed`` by what filled. A preview counts
the trades already under way (open orders, runs at the vote), so nothing is bought twice.

Accounts: ``account_id`` is a club id. A club's account (its investment policy) is opened on
first use by its owner/admin; a personal account is a one-member club the person owns, kept in
USD (the replayed instruments' currency), so it is funded, traded, valued and booked by the same
clubs, orders, paper broker and ledger services as any club. Access is the club's membership:
any member reads, an owner/admin changes the policy and executes trades.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import datetime as dt
import math
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pymongo.asynchronous.client_session import AsyncClientSession
from redis.asyncio import Redis
from scipy import stats

from app.advisory import engine, repository
from app.advisory.documents import (
    AccountKind,
    AdvisoryAccount,
    RebalanceRun,
    Recommendation,
    RiskAssessment,
    RunStatus,
    TaxTreatment,
)
from app.advisory.errors import (
    AccountNotFound,
    AlreadyExecuted,
    InsufficientHistory,
    InvalidAnswers,
    InvalidPeriod,
    InvalidPolicy,
    NoCashToInvest,
    NoPrice,
    NoRiskProfile,
    NoTargets,
    NothingToTrade,
    RebalanceNotApproved,
    RebalanceNotFound,
    StaleRebalance,
    UnknownPeriod,
)
from app.advisory.questionnaire import POLICIES, RiskProfile, assess
from app.advisory.questionnaire import InvalidAnswers as AnswersProblem
from app.advisory.schemas import (
    AccountCreate,
    DriftAlertEvent,
    PolicyIn,
    RebalanceUpdatedEvent,
    RecommendationIn,
)
from app.advisory.sectors import SECTORS
from app.books import portfolio
from app.clubs.errors import ClubNotFound
from app.clubs.service import MANAGERS, TREASURY, club_service
from app.config import get_settings
from app.db import run_in_transaction
from app.errors import AppError, NotFound
from app.fx import FxRate
from app.fx import rate as fx_rate
from app.logging import get_logger
from app.market.providers import provider_for
from app.market.service import market_service
from app.money import format_minor, parse_minor
from app.notifications.documents import Notification, NotificationKind
from app.notifications.service import Draft, notification_service
from app.orders.broker import Broker, BrokerCosts
from app.orders.documents import STATUS_RANK, Order, OrderKind, OrderSide, OrderStatus
from app.orders.schemas import OrderCreate
from app.orders.service import order_service
from app.proposals.documents import ProposalKind, ProposalStatus
from app.proposals.schemas import ProposalCreate
from app.proposals.service import proposal_service
from app.realtime import events
from app.realtime.eventlog import utcnow
from app.realtime.rooms import club_room

PORTFOLIO_DRIFT = "portfolio:drift"
REBALANCE_UPDATED = "portfolio:rebalance"
FINAL = 4  # STATUS_RANK of a final order (filled, cancelled, rejected)
PLACING_LEASE = dt.timedelta(seconds=20)
"""How long placing a run's sales or buys may take before another process resumes it (the one
that took the run died between taking it and recording its orders); a normal placement takes
well under a second per order."""

PERIODS: dict[str, int] = {"1M": 1, "3M": 3, "6M": 6, "1Y": 12, "start": 0}
"""Performance periods: calendar months back from the period's end (0: since the start of the
history every symbol of the mix and the benchmark share)."""
BACKTEST_MIN_DAYS = 15
"""The fewest daily returns a backtest takes (a one-month period has about 21)."""

log = get_logger(__name__)

BrokerFor = Callable[[str], Awaitable[Broker]]
"""The broker an account's orders go through, by account (club) id."""


@dataclass(frozen=True, slots=True)
class Pending:
    """Trades under way in an account: shares still to come by symbol (+ bought, − sold)
    and the cash they will take (minor units; negative when sales bring more in)."""

    shares: dict[str, int]
    cash: int


def limit_price(quantity: int, price: int, slippage_bps: int) -> int:
    """A rebalance trade's limit (minor units): a buy at ``price`` plus the broker's slippage
    rounded up, a sale at ``price`` less it rounded down — never a bare market order."""
    if quantity > 0:
        return -(-price * (engine.BPS + slippage_bps) // engine.BPS)
    return price * (engine.BPS - slippage_bps) // engine.BPS


def affordable(cash: int, limit: int, wanted: int, costs: BrokerCosts) -> int:
    """The most whole shares (at most ``wanted``) whose cost at ``limit`` plus the broker's
    fee fits in ``cash`` (all minor units)."""
    quantity = min(wanted, max(cash, 0) // limit)
    while quantity > 0 and quantity * limit + costs.fee(quantity * limit) > cash:
        quantity -= 1
    return quantity


def _origin(run: RebalanceRun, side: OrderSide, symbol: str) -> str:
    """The key a run's order is entered under (one per trade): ``rebalance:<run>:<side>:<sym>``."""
    return f"rebalance:{run.id}:{side.value}:{symbol}"


def _proposal_title(trades: list[dict[str, object]]) -> str:
    sells = sum(1 for t in trades if int(str(t["quantity"])) < 0)
    buys = len(trades) - sells
    parts = [f"{n} {w}{'s' if n != 1 else ''}" for n, w in ((sells, "sale"), (buys, "buy")) if n]
    return f"Rebalance the portfolio: {' and '.join(parts)}"


def _proposal_text(run_id: str, trades: list[dict[str, object]], band_bps: int,
                   currency: str) -> str:  # fmt: skip
    lines = []
    for t in trades:
        quantity = int(str(t["quantity"]))
        verb = "Buy" if quantity > 0 else "Sell"
        limit = int(str(t["limit"]))
        lines.append(f"- {verb} {abs(quantity)} {t['symbol']} at a limit of "
                     f"{format_minor(limit)} {currency}")  # fmt: skip
    return (
        f"One vote for the whole rebalance {run_id} (bands ±{band_bps / 100:g} points). "
        "Once approved, the treasurer sends it: the sales first, then the buys with the "
        "cash the sales brought.\n" + "\n".join(lines)
    )


class ForbiddenUser(NotFound):
    """Another person's data (404, so ids are not probed)."""

    code = "not_found"


@dataclass(frozen=True, slots=True)
class Line:
    """One symbol of an account now: whole shares, price (minor units of the account's
    currency), target (bps); for an instrument in another currency, its own ``currency``,
    ``native_price`` (its minor units) and the ECB ``fx`` rate that converted it."""

    symbol: str
    quantity: int
    price: int
    target_bps: int
    currency: str = ""
    native_price: int = 0
    fx: FxRate | None = None


@dataclass(frozen=True, slots=True)
class Holdings:
    """An account priced now: its lines (held or targeted), free cash, and the account."""

    account: AdvisoryAccount
    currency: str
    cash: int
    lines: list[Line]
    created_by: str

    @property
    def total(self) -> int:
        return self.cash + sum(x.quantity * x.price for x in self.lines)

    def outside(self) -> list[str]:
        """Symbols whose weight is more than the band away from the target (exact)."""
        total = self.total
        if total <= 0:
            return []
        band = self.account.band_bps
        return [
            x.symbol
            for x in self.lines
            if abs(x.quantity * x.price * engine.BPS - x.target_bps * total) > band * total
        ]


def _months_before(day: dt.date, months: int) -> dt.date:
    """``day`` less whole calendar months, clipped to the month's last day (31 March less one
    month: 29 February in a leap year). Raises ``InvalidPeriod`` before year 1."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    if year < 1:
        raise InvalidPeriod("the period starts before year 1", details={"end": day.isoformat()})
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _as_of() -> dt.date:
    """The last day of history a recommendation may use by default: the day before the market
    replay starts (what the platform shows as "now" is replayed from then on)."""
    return get_settings().replay_start - dt.timedelta(days=1)


class AdvisoryService:
    """Robo-advice. Stateless; takes the acting user's id (and clients) explicitly."""

    # ------------------------------------------------------------ questionnaire

    async def do_take_questionnaire(self, user_id: str, answers: dict[str, str]) -> RiskAssessment:
        """Score ``answers`` and keep them as the person's current profile (a new result each
        time; earlier ones stay). Raises ``InvalidAnswers`` (422, ``details.problems``)."""
        try:
            outcome = assess(answers)
        except AnswersProblem as exc:
            raise InvalidAnswers(str(exc), details={"problems": exc.problems}) from exc
        assessment = RiskAssessment(user_id=user_id, answers=dict(answers), score=outcome.score,
                                    profile=outcome.profile.value,
                                    horizon_years=outcome.horizon_years)  # fmt: skip
        await assessment.insert()
        return assessment

    async def current_profile(self, user_id: str) -> RiskAssessment:
        """The person's newest questionnaire result. Raises ``NoRiskProfile``."""
        found = await repository.latest_assessment(user_id)
        if found is None:
            raise NoRiskProfile("take the risk questionnaire first")
        return found

    # ------------------------------------------------------------ accounts

    async def do_open_account(self, user_id: str, data: AccountCreate) -> AdvisoryAccount:
        """Open a personal account: a one-member club the person owns (so it is funded and
        traded like any club) and its advisory record."""
        club, _ = await club_service.do_create_club(user_id, name=data.name,
                                                    currency=data.currency,
                                                    personal=True)  # fmt: skip
        account = AdvisoryAccount(
            account_id=str(club.id),
            kind=AccountKind.PERSONAL,
            owner_id=user_id,
            name=data.name,
            tax_treatment=data.tax_treatment,
            currency=data.currency,
        )
        await account.insert()
        return account

    async def accounts(self, user_id: str) -> list[AdvisoryAccount]:
        """The person's personal accounts and the advisory accounts of their clubs."""
        own = await repository.accounts_of_owner(user_id)
        seen = {a.account_id for a in own}
        out = list(own)
        for club, _ in await club_service.list_clubs(user_id):
            account = await repository.get_account(str(club.id))
            if account is not None and account.account_id not in seen:
                out.append(account)
        return out

    async def check_account(self, account_id: str, user_id: str, manage: bool = False,
                            create: bool = False) -> AdvisoryAccount:  # fmt: skip
        """The account if ``user_id`` is a member of its club (an owner/admin with
        ``manage``); a club's account is opened on first use with ``create``.

        Raises:
            AccountNotFound: no such account, or not a member. RoleRequired: not a manager.
        """
        try:
            club, _ = await club_service.check_member(
                account_id, user_id, MANAGERS if manage else None
            )
        except ClubNotFound as exc:
            raise AccountNotFound("no such portfolio") from exc
        account = await repository.get_account(account_id)
        if account is None:
            if not create:
                raise AccountNotFound("this club has no investment policy yet")
            account = AdvisoryAccount(account_id=account_id, kind=AccountKind.CLUB,
                                      name=club.name, currency=club.currency)  # fmt: skip
            try:
                await account.insert()
            except Exception:  # a concurrent first use created it
                found = await repository.get_account(account_id)
                if found is None:
                    raise
                account = found
        return account

    async def do_set_policy(self, account_id: str, user_id: str, data: PolicyIn,
                            partial: bool = False) -> AdvisoryAccount:  # fmt: skip
        """Set the investment policy (owner/admin): every field (``partial``: only those the
        request gave, PATCH). The targets are the recommended or followed allocation with the
        policy applied (``engine.within_policy``: exclusions dropped, the rest re-scaled to
        10,000 bps within the maximum weight), so clearing an exclusion brings it back.

        Raises: AccountNotFound, RoleRequired, UnknownSymbols (an unknown excluded symbol),
        InvalidPolicy (422: the policy would leave no allocation, or cannot hold the cap).
        """
        account = await self.check_account(account_id, user_id, manage=True, create=True)
        given = data.model_dump(exclude_unset=partial)
        fields: dict[str, object] = {k: v for k, v in given.items() if v is not None
                                     or k == "risk_profile"}  # fmt: skip
        if "risk_profile" in fields and account.kind is AccountKind.PERSONAL:
            fields.pop("risk_profile")  # a person's account follows their own questionnaire
        excluded = list(fields.get("excluded", account.excluded))  # type: ignore[call-overload]
        if excluded:
            await market_service.check_symbols(excluded)
        max_weight = int(str(fields.get("max_weight_bps", account.max_weight_bps)))
        base = account.base_targets or account.targets
        if base:
            try:
                fields["targets"] = engine.within_policy(base, excluded, max_weight)
            except ValueError as exc:
                raise InvalidPolicy(
                    str(exc), details={"excluded": excluded, "max_weight_bps": max_weight}
                ) from exc
            fields["base_targets"] = base
        updated = await repository.update_account(account_id, {**fields, "updated_at": utcnow()})
        assert updated is not None
        return updated

    async def policy_targets(self, account: AdvisoryAccount, base: dict[str, int],
                             least_cap: int = 0) -> dict[str, int]:  # fmt: skip
        """``base`` (a recommendation's or a strategy's allocation) under the account's
        policy; ``least_cap``: a floor under the maximum weight (a recommendation on a few
        symbols, whose optimiser bounds were widened the same way). Raises InvalidPolicy when
        it leaves nothing or cannot hold the cap."""
        cap = max(account.max_weight_bps, least_cap)
        try:
            return engine.within_policy(base, account.excluded, cap)
        except ValueError as exc:
            raise InvalidPolicy(str(exc), details={"excluded": account.excluded}) from exc

    # ------------------------------------------------------------ history

    async def closes(self, redis: Redis, symbols: list[str], start: dt.date,
                     end: dt.date) -> dict[str, list[tuple[dt.date, int]]]:  # fmt: skip
        """Daily closes (minor units) of ``symbols`` from the market's history provider."""
        provider = provider_for(get_settings(), redis)
        out: dict[str, list[tuple[dt.date, int]]] = {}
        for symbol in symbols:
            candles = await provider.history(symbol, start, end)
            out[symbol] = [(dt.date.fromisoformat(c.date), parse_minor(c.close)) for c in candles]
        return out

    async def universe(self, start: dt.date, end: dt.date, excluded: list[str]) -> list[str]:
        """Stocks (not indices) with history over the whole window, minus ``excluded``."""
        return [i.symbol for i in await market_service.list_instruments()
                if not i.is_index and i.first_date <= start.isoformat()
                and i.last_date >= end.isoformat() and i.symbol not in excluded]  # fmt: skip

    # ------------------------------------------------------------ recommendations

    async def do_recommend(self, user_id: str, data: RecommendationIn,
                           redis: Redis) -> Recommendation:  # fmt: skip
        """A target allocation for the person's current profile on real history, stored with
        its inputs and library versions; with ``account_id`` it becomes that account's targets
        (owner/admin; the policy's exclusions and maximum weight apply).

        Raises:
            NoRiskProfile, AccountNotFound, RoleRequired, UnknownSymbols,
            InsufficientHistory, InvalidPolicy.
        """
        account = None
        if data.account_id is not None:
            account = await self.check_account(data.account_id, user_id, manage=True, create=True)
        if account is not None and account.kind is AccountKind.CLUB:
            # a club invests by its own policy, never by whoever pressed the button's profile
            profile = RiskProfile(account.risk_profile or RiskProfile.MODERATE.value)
            assessment = RiskAssessment(user_id=user_id, answers={}, score=-1,
                                        profile=profile.value, horizon_years=0)  # fmt: skip
        else:
            assessment = await self.current_profile(user_id)
            profile = RiskProfile(assessment.profile)
        policy = POLICIES[profile]
        excluded: list[str] = []
        max_weight = policy.max_weight
        if account is not None:
            excluded = account.excluded
            max_weight = min(max_weight, account.max_weight_bps / engine.BPS)
        end = data.end or _as_of()
        start = end - dt.timedelta(days=365 * data.years)
        if data.symbols:
            await market_service.check_symbols(data.symbols)
            symbols = [s for s in data.symbols if s not in excluded]
        else:
            symbols = await self.universe(start, end, excluded)
        if len(symbols) < 2:
            raise InsufficientHistory("need at least two symbols with history in the window")
        max_weight = max(max_weight, 1 / len(symbols))  # a few symbols: bounds must allow 100 %
        closes = await self.closes(redis, symbols, start, end)
        try:
            returns = engine.returns_of(closes)
        except ValueError as exc:
            raise InsufficientHistory(str(exc), details={"symbols": symbols}) from exc
        constraints = engine.Constraints(0.0, math.ceil(max_weight * 1e6) / 1e6)
        try:
            allocation = await asyncio.to_thread(engine.recommend, returns, policy.objective,
                                                 constraints)  # fmt: skip
        except ValueError as exc:
            raise InvalidPolicy(str(exc)) from exc
        bps = engine.to_bps(allocation.weights)
        f = allocation.figures
        recommendation = Recommendation(
            user_id=user_id, account_id=data.account_id, profile=profile.value,
            strategy=policy.strategy.value, objective=policy.objective.value,
            symbols=allocation.symbols, weights=allocation.weights, weights_bps=bps,
            figures={"annual_return": f.annual_return, "volatility": f.volatility,
                     "sharpe": f.sharpe, "sortino": f.sortino, "max_drawdown": f.max_drawdown},
            frontier=[[v, m] for v, m in allocation.frontier],
            inputs={**allocation.inputs, "profile": profile.value, "score": assessment.score,
                    "window_years": data.years},
            versions=engine.library_versions(),
        )  # fmt: skip
        await recommendation.insert()
        if account is not None:
            targets = {s: b for s, b in zip(allocation.symbols, bps, strict=True) if b > 0}
            await repository.update_account(account.account_id, {
                "targets": await self.policy_targets(account, targets,
                                                     -(-engine.BPS // len(symbols))),
                "base_targets": targets,
                "strategy_id": None, "recommendation_id": str(recommendation.id),
                "drift_alerted": None, "updated_at": utcnow()})  # fmt: skip
        return recommendation

    async def recommendations(self, account_id: str, user_id: str) -> list[Recommendation]:
        """The account's recommendations, newest first (any member)."""
        await self.check_account(account_id, user_id)
        return await repository.recommendations(account_id, None)

    async def my_recommendations(self, user_id: str) -> list[Recommendation]:
        """The person's own recommendations, newest first."""
        return await repository.recommendations(None, user_id)

    # ------------------------------------------------------------ holdings

    async def prices(self, redis: Redis, symbols: list[str]) -> dict[str, int]:
        """Minor units per share now (the instrument's currency): the latest quote, else the
        last close of the history. Raises ``NoPrice`` for a symbol with neither."""
        return {s: price for s, (price, _) in (await self.dated_prices(redis, symbols)).items()}

    async def dated_prices(self, redis: Redis,
                           symbols: list[str]) -> dict[str, tuple[int, dt.date]]:  # fmt: skip
        """``prices`` with the trading day each price is from. Raises ``NoPrice``."""
        quotes = {q.symbol: (parse_minor(q.price), dt.date.fromisoformat(q.trade_date))
                  for q in await market_service.latest_quotes(redis, symbols)}  # fmt: skip
        missing = [s for s in symbols if s not in quotes]
        if missing:
            end = get_settings().replay_start
            history = await self.closes(redis, missing, end - dt.timedelta(days=10), end)
            for symbol, rows in history.items():
                if rows:
                    quotes[symbol] = (rows[-1][1], rows[-1][0])
        lacking = [s for s in symbols if s not in quotes]
        if lacking:
            raise NoPrice(f"no price for {', '.join(lacking)}", details={"symbols": lacking})
        return quotes

    async def priced_lines(self, redis: Redis, currency: str, held: dict[str, int],
                           targets: dict[str, int]) -> list[Line]:  # fmt: skip
        """Lines of ``held`` and targeted symbols priced in the account's ``currency``: an
        instrument in another currency is converted at the ECB reference rate of its price's
        trading day (``app/fx.py``: integer rate × 10^8, half-even). Raises ``NoPrice``,
        ``FxRateUnavailable``."""
        symbols = sorted(set(held) | set(targets))
        if not symbols:
            return []
        dated = await self.dated_prices(redis, symbols)
        native = {i.symbol: i.currency for i in await market_service.list_instruments()}
        lines = []
        for s in symbols:
            price, day = dated[s]
            own = native.get(s, currency)
            if own == currency:
                lines.append(Line(s, held.get(s, 0), price, targets.get(s, 0), own, price))
                continue
            fx = await fx_rate(own, currency, day)
            lines.append(Line(s, held.get(s, 0), fx.convert(price), targets.get(s, 0), own,
                              price, fx))  # fmt: skip
        return lines

    async def holdings(self, account_id: str, user_id: str | None, redis: Redis,
                       account: AdvisoryAccount | None = None,
                       with_pending: bool = False) -> Holdings:  # fmt: skip
        """The account's positions and targets priced now in its currency (``user_id`` None:
        the platform's own check, e.g. the drift agent); ``with_pending``: as they will be
        once the trades under way are done (``pending``: open orders and runs at the vote,
        their cash set aside). Raises ``AccountNotFound``, ``NoPrice``,
        ``FxRateUnavailable``."""
        if account is None:
            if user_id is None:
                raise AccountNotFound("no such portfolio")
            account = await self.check_account(account_id, user_id)
        try:
            snap = await portfolio.snapshot(account_id, redis)
        except ClubNotFound as exc:
            raise AccountNotFound("no such portfolio") from exc
        held = {p.holding.symbol: p.holding.quantity for p in snap.positions}
        free_cash = snap.cash - snap.liabilities
        if with_pending:
            waiting = await self.pending(account_id, snap.club.created_by, redis)
            for symbol, quantity in waiting.shares.items():
                held[symbol] = max(held.get(symbol, 0) + quantity, 0)
            free_cash -= waiting.cash
        lines = await self.priced_lines(redis, snap.club.currency, held, account.targets)
        return Holdings(account, snap.club.currency, max(free_cash, 0), lines, snap.club.created_by)

    # ------------------------------------------------------------ rebalancing

    async def do_rebalance(self, account_id: str, user_id: str, force: bool,
                           redis: Redis) -> RebalanceRun:  # fmt: skip
        """Trades that bring every asset back inside its band (``force``: towards the targets
        even if none drifted), with the policy's minimum trade, the broker's fees, whole shares
        and the free cash; stored as a run (any member may ask; nothing is traded).

        Raises: AccountNotFound, NoTargets, NoPrice, NoCashToInvest (nothing held, no cash).
        """
        account = await self.check_account(account_id, user_id)
        if not account.targets:
            raise NoTargets("adopt a recommendation for this portfolio first")
        # Orders already waiting (and runs at the vote) count as done: their buys as held,
        # their cash as spent, so the same trades are never proposed twice.
        now = await self.holdings(account_id, user_id, redis, account, with_pending=True)
        if now.total <= 0:
            raise NoCashToInvest("there is no cash to invest yet: pay money in first")
        costs = BrokerCosts.of(get_settings())
        # Buys are priced at the quote plus the broker's slippage; a personal account's orders
        # are limit orders at exactly that price, so they set aside no more cash than planned.
        data = engine.RebalanceInput(
            symbols=[x.symbol for x in now.lines], prices=[x.price for x in now.lines],
            holdings=[x.quantity for x in now.lines], targets=[x.target_bps for x in now.lines],
            cash=now.cash, band_bps=account.band_bps, min_trade=account.min_trade,
            fee_bps=costs.fee_bps, fee_min=costs.fee_min,
            buy_buffer_bps=costs.slippage_bps, force=force,
        )  # fmt: skip
        plan = await asyncio.to_thread(engine.plan_rebalance, data)
        run = RebalanceRun(
            account_id=account_id, requested_by=user_id, force=force,
            trades=[{"symbol": t.symbol, "quantity": t.quantity, "price": t.price,
                     "value": t.value, "fee": t.fee} for t in plan.trades],
            cash_before=now.cash, cash_after=plan.cash_after,
            weights_before=dict(zip(data.symbols, plan.weights_before, strict=True)),
            weights_after=dict(zip(data.symbols, plan.weights_after, strict=True)),
            inside_bands=plan.inside_bands, drifted=plan.drifted,
        )  # fmt: skip
        await run.insert()
        return run

    async def rebalance(self, account_id: str, run_id: str, user_id: str) -> RebalanceRun:
        """One run of the account (any member). Raises AccountNotFound, RebalanceNotFound."""
        await self.check_account(account_id, user_id)
        run = await repository.get_rebalance(run_id)
        if run is None or run.account_id != account_id:
            raise RebalanceNotFound("no such rebalance")
        return run

    async def do_execute(self, account_id: str, run_id: str, user_id: str,
                         brokers: BrokerFor, redis: Redis,
                         voting_hours: float = 48) -> RebalanceRun:  # fmt: skip
        """Start a run's trades (owner/admin), once. A club's run becomes ONE proposal for the
        members' vote (every trade with its limit price); once approved, its treasurer sends
        it (``do_send``). A personal account's run starts at once: the sales go to the broker
        first (``selling``) and the buys only after they filled (``do_advance``).

        Raises: AccountNotFound, RoleRequired, RebalanceNotFound, NothingToTrade,
        AlreadyExecuted (409 ``rebalance_already_executed``: a second attempt), StaleRebalance
        (409 ``rebalance_stale``: another run was executed since this preview), and what
        proposals raise.
        """
        account = await self.check_account(account_id, user_id, manage=True)
        run = await self.rebalance(account_id, run_id, user_id)
        if run.status is not RunStatus.PROPOSED or run.executed_at is not None:
            raise AlreadyExecuted("this rebalance was already executed",
                                  details={"status": run.status.value})  # fmt: skip
        if not run.trades:
            raise NothingToTrade("this rebalance has no trades")
        if await repository.executed_since(account_id, run.created_at, run.id):
            raise StaleRebalance("another rebalance was executed since this preview: "
                                 "preview again")  # fmt: skip
        costs = BrokerCosts.of(get_settings())
        trades = [
            {**t, "limit": limit_price(t["quantity"], t["price"], costs.slippage_bps)}
            for t in sorted(run.trades, key=lambda t: (t["quantity"] > 0, t["symbol"]))
        ]
        now = utcnow()
        club = account.kind is AccountKind.CLUB
        claimed = await self._claim(
            run, (RunStatus.PROPOSED,), RunStatus.VOTING if club else RunStatus.SELLING,
            {"executed_by": user_id, "executed_at": now, "trades": trades, "placing_at": now},
            require={"executed_at": None})  # fmt: skip
        if claimed is None:
            raise AlreadyExecuted("this rebalance was already executed")
        if club:
            try:
                proposal = await proposal_service.do_create(account_id, user_id, ProposalCreate(
                    kind=ProposalKind.GENERAL, title=_proposal_title(trades),
                    description=_proposal_text(run_id, trades, account.band_bps,
                                               account.currency),
                    deadline=now + dt.timedelta(hours=voting_hours)))  # fmt: skip
            except Exception:
                await repository.claim_run(run.id, (RunStatus.VOTING,), RunStatus.PROPOSED,
                                           {"executed_by": None, "executed_at": None})  # fmt: skip
                raise
            await repository.set_run(run.id, {"proposal_ids": [str(proposal.id)]})
            claimed.proposal_ids = [str(proposal.id)]
            await self._tell_run(claimed)
        else:
            await self._start_trading(claimed, user_id, brokers, redis)
        return await self.rebalance(account_id, run_id, user_id)

    async def _claim(self, run: RebalanceRun, from_status: tuple[RunStatus, ...],
                     to_status: RunStatus, fields: dict[str, object] | None = None,
                     require: dict[str, object] | None = None) -> RebalanceRun | None:  # fmt: skip
        """``repository.claim_run``, and ``portfolio:rebalance`` to the account's room."""
        claimed = await repository.claim_run(run.id, from_status, to_status, fields, require)
        if claimed is not None:
            await self._tell_run(claimed)
        return claimed

    async def _tell_run(self, run: RebalanceRun) -> None:
        """``portfolio:rebalance`` in the account's room log (``club:<account_id>``, with its
        ``seq``): the run moved. Logged just after the run's single-document update, so a screen
        that was away replays it on its next join. (A process dying between the update and
        this loses the event, not the change: the page loads the run afresh.)"""
        room = club_room(run.account_id)
        await events.ensure_room(room)

        async def body(session: AsyncClientSession) -> None:
            await events.room_event(session, room, REBALANCE_UPDATED, RebalanceUpdatedEvent,
                                    club_id=run.account_id, run_id=str(run.id),
                                    status=run.status.value)  # fmt: skip

        await run_in_transaction(body)

    async def do_send(self, account_id: str, run_id: str, user_id: str, brokers: BrokerFor,
                      redis: Redis) -> RebalanceRun:  # fmt: skip
        """Send a club's approved rebalance to the broker (its treasurer, owner or admin), the
        way an approved proposal's order is submitted: sales first, buys once they filled.

        Raises: AccountNotFound, RoleRequired, RebalanceNotFound, RebalanceNotApproved."""
        await club_service.check_member(account_id, user_id, TREASURY)
        run = await self.rebalance(account_id, run_id, user_id)
        if run.status is RunStatus.VOTING:
            run = await self.do_advance(run, brokers, redis)
        claimed = await self._claim(run, (RunStatus.APPROVED,), RunStatus.SELLING,
                                    {"trader": user_id, "placing_at": utcnow()})  # fmt: skip
        if claimed is None:
            raise RebalanceNotApproved(
                "only an approved rebalance can be sent, once" if run.status is not
                RunStatus.VOTING else "the members have not approved this rebalance yet",
                details={"status": run.status.value})  # fmt: skip
        await self._start_trading(claimed, user_id, brokers, redis)
        return await self.rebalance(account_id, run_id, user_id)

    async def _place(self, run: RebalanceRun, actor: str, side: OrderSide, symbol: str,
                     quantity: int, limit: int, brokers: BrokerFor,
                     redis: Redis) -> tuple[str | None, str]:  # fmt: skip
        """Create and submit one limit order of the run, once: it is entered under the trade's
        ``origin``, so a placement resumed after a crash finds it (and submits it if it never
        reached the broker) instead of making a twin. (Its id, a note of what went wrong or
        "".)"""
        try:
            order = await order_service.do_create(run.account_id, actor, OrderCreate(
                side=side, symbol=symbol, quantity=quantity, kind=OrderKind.LIMIT,
                limit_price=format_minor(limit)), origin=_origin(run, side, symbol))  # fmt: skip
        except AppError as exc:
            return None, f"{side.value} {quantity} {symbol}: {exc.message}"
        if order.status is not OrderStatus.AWAITING_EXECUTION:
            return str(order.id), ""  # placed before this placement was resumed
        try:
            broker = await brokers(run.account_id)
            await order_service.do_submit(run.account_id, str(order.id), actor, redis, broker)
        except AppError as exc:
            # never left waiting: it would block the run (and count as pending) for ever; but
            # one that reached the broker meanwhile (another placement of the run) stays there
            with contextlib.suppress(AppError):
                now, _ = await order_service.get(run.account_id, str(order.id), actor)
                if now.status is OrderStatus.AWAITING_EXECUTION:
                    await order_service.do_cancel(run.account_id, str(order.id), actor,
                                                  await brokers(run.account_id))  # fmt: skip
            return str(order.id), f"{side.value} {quantity} {symbol}: {exc.message}"
        return str(order.id), ""

    async def _start_trading(
        self, run: RebalanceRun, actor: str, brokers: BrokerFor, redis: Redis
    ) -> None:
        """A run just claimed ``selling``: its sales go to the broker; with none, its buys."""
        await self._place_sales(run, actor, brokers, redis)
        await self.do_advance(run, brokers, redis)

    async def _place_sales(self, run: RebalanceRun, actor: str, brokers: BrokerFor,
                           redis: Redis) -> None:  # fmt: skip
        """Send the run's sales to the broker (a run this process holds in ``selling``) and
        record them: ``sales_placed``."""
        ids, notes = [], []
        for t in [t for t in run.trades if t["quantity"] < 0]:
            order_id, note = await self._place(
                run, actor, OrderSide.SELL, t["symbol"], -t["quantity"], t["limit"], brokers, redis
            )
            if order_id:
                ids.append(order_id)
            if note:
                notes.append(note)
        await repository.set_run(run.id, {"sell_order_ids": ids, "order_ids": ids,
                                          "note": "; ".join(notes), "trader": actor,
                                          "sales_placed": True})  # fmt: skip
        run.sell_order_ids, run.order_ids, run.note = ids, ids, "; ".join(notes)
        run.trader, run.sales_placed = actor, True
        await self._tell_run(run)

    async def _place_buys(self, run: RebalanceRun, brokers: BrokerFor, redis: Redis) -> None:
        """Send the run's buys to the broker (a run this process holds in ``buying``), each
        re-sized to the cash really there now (whole shares at its limit, fee included), and
        record them: ``buys_placed``. A buy placed before a resumed placement keeps its size
        (its cash is already set aside)."""
        actor = str(run.trader or run.executed_by)
        buys = [t for t in run.trades if t["quantity"] > 0]
        earlier = await order_service.placed([_origin(run, OrderSide.BUY, t["symbol"])
                                              for t in buys])  # fmt: skip
        free = await self.free_cash(run.account_id, redis)
        costs = BrokerCosts.of(get_settings())
        ids, notes = [], [run.note] if run.note else []
        for t in buys:
            limit = t["limit"]
            placed = earlier.get(_origin(run, OrderSide.BUY, t["symbol"]))
            if placed is not None:
                order_id, note = await self._place(run, actor, OrderSide.BUY, t["symbol"],
                                                   placed.quantity or 0, limit, brokers,
                                                   redis)  # fmt: skip
                ids.append(str(order_id))
                notes += [note] if note else []
                continue
            quantity = affordable(free, limit, t["quantity"], costs)
            if quantity < t["quantity"]:
                notes.append(
                    f"buy {t['symbol']} cut from {t['quantity']} to {quantity} "
                    f"shares: the cash there was {format_minor(free)}"
                )
            if quantity <= 0:
                continue
            cost = quantity * limit + costs.fee(quantity * limit)
            order_id, note = await self._place(
                run, actor, OrderSide.BUY, t["symbol"], quantity, limit, brokers, redis
            )
            if order_id:
                ids.append(order_id)
            if note:
                notes.append(note)
            else:
                free -= cost
        await repository.set_run(run.id, {"buy_order_ids": ids,
                                          "order_ids": run.sell_order_ids + ids,
                                          "note": "; ".join(notes),
                                          "buys_placed": True})  # fmt: skip
        run.buy_order_ids, run.order_ids = ids, run.sell_order_ids + ids
        run.note, run.buys_placed = "; ".join(notes), True
        await self._tell_run(run)

    async def _resume(self, run: RebalanceRun, placed: str) -> RebalanceRun | None:
        """Take over a run whose placement (``placed``: ``sales_placed`` / ``buys_placed``)
        was taken longer than ``PLACING_LEASE`` ago and never recorded (its process died
        between): the run, now this process's to place, or ``None`` (still within its lease,
        or another process took it first)."""
        if run.placing_at is not None and utcnow() - run.placing_at < PLACING_LEASE:
            return None
        resumed = await repository.claim_run(
            run.id, (run.status,), run.status, {"placing_at": utcnow()},
            require={placed: False, "placing_at": run.placing_at})  # fmt: skip
        if resumed is not None:
            log.warning("rebalance placement resumed", run_id=str(run.id),
                        status=run.status.value)  # fmt: skip
        return resumed

    async def do_advance(self, run: RebalanceRun, brokers: BrokerFor,
                         redis: Redis) -> RebalanceRun:  # fmt: skip
        """Move a run on as far as its orders allow (idempotent; the worker calls it every few
        seconds, and reading a run calls it too): a club's vote closed → ``approved`` or
        ``rejected``; every sale final → the buys (``_place_buys``) → ``buying``; every order
        final → ``executed`` (all filled in full), ``partial`` or ``failed`` (nothing filled).
        A placement of sales or buys left unfinished by a process that died is resumed once
        its ``PLACING_LEASE`` is over (``_resume``)."""
        if run.status is RunStatus.VOTING and run.proposal_ids and run.executed_by:
            proposal, _ = await proposal_service.view(run.proposal_ids[0], run.executed_by)
            if proposal.status is ProposalStatus.APPROVED:
                run = await self._claim(run, (RunStatus.VOTING,),
                                                 RunStatus.APPROVED) or run  # fmt: skip
            elif proposal.status is not ProposalStatus.OPEN:
                run = await self._claim(
                    run, (RunStatus.VOTING,), RunStatus.REJECTED,
                    {"note": f"the members' vote: {proposal.status.value}",
                     "finished_at": utcnow()}) or run  # fmt: skip
            return run
        if run.status is RunStatus.SELLING:
            if not run.sales_placed:
                resumed = await self._resume(run, "sales_placed")
                if resumed is None:
                    return run  # being placed right now (by whoever claimed it)
                run = resumed
                await self._place_sales(run, str(run.trader or run.executed_by), brokers, redis)
            sells = await self._orders(run.account_id, run.sell_order_ids)
            if any(STATUS_RANK[o.status] < FINAL for o in sells):
                return run
            claimed = await self._claim(run, (RunStatus.SELLING,), RunStatus.BUYING,
                                        {"placing_at": utcnow()},
                                        require={"sales_placed": True})  # fmt: skip
            if claimed is None:
                return await repository.get_rebalance(str(run.id)) or run
            run = claimed
            await self._place_buys(run, brokers, redis)
        elif run.status is RunStatus.BUYING and not run.buys_placed:
            resumed = await self._resume(run, "buys_placed")
            if resumed is None:
                return run
            run = resumed
            await self._place_buys(run, brokers, redis)
        if run.status is RunStatus.BUYING and run.buys_placed:
            orders = await self._orders(run.account_id, run.order_ids)
            if any(STATUS_RANK[o.status] < FINAL for o in orders):
                return run
            planned = {t["symbol"]: abs(t["quantity"]) for t in run.trades}
            done = {o.symbol: o.filled_quantity for o in orders}
            if all(done.get(s, 0) == q for s, q in planned.items()):
                status = RunStatus.EXECUTED
            elif any(o.filled_quantity > 0 for o in orders):
                status = RunStatus.PARTIAL
            else:
                status = RunStatus.FAILED
            unfilled = [f"{s} {done.get(s, 0)} of {q}" for s, q in sorted(planned.items())
                        if done.get(s, 0) != q]  # fmt: skip
            note = run.note
            if unfilled:
                note = "; ".join(x for x in (note, "filled " + ", ".join(unfilled)) if x)
            run = (
                await self._claim(
                    run,
                    (RunStatus.BUYING,),
                    status,
                    {"finished_at": utcnow(), "note": note},
                    require={"buys_placed": True},
                )
                or run
            )
        return run

    async def _orders(self, account_id: str, order_ids: list[str]) -> list[Order]:
        found = []
        club = await club_service.get(account_id)
        if club is None:
            raise AccountNotFound("no such portfolio")
        actor = club.created_by
        for order_id in order_ids:
            order, _ = await order_service.get(account_id, order_id, actor)
            found.append(order)
        return found

    async def do_advance_runs(self, brokers: BrokerFor, redis: Redis,
                              account_id: str | None = None) -> int:  # fmt: skip
        """``do_advance`` every run under way (of one account, or all); how many moved."""
        moved = 0
        for run in await repository.runs_in(
                (RunStatus.VOTING, RunStatus.SELLING, RunStatus.BUYING), account_id):  # fmt: skip
            try:
                after = await self.do_advance(run, brokers, redis)
            except AppError as exc:  # e.g. the club is gone; the others still move
                log.warning("rebalance run did not advance", run_id=str(run.id),
                            error=exc.message)  # fmt: skip
                continue
            moved += after.status is not run.status
        return moved

    async def runs(self, account_id: str, user_id: str, brokers: BrokerFor,
                   redis: Redis) -> list[RebalanceRun]:  # fmt: skip
        """The account's latest runs, newest first, moved on first (any member)."""
        await self.check_account(account_id, user_id)
        await self.do_advance_runs(brokers, redis, account_id)
        return await repository.account_runs(account_id)

    async def free_cash(self, account_id: str, redis: Redis) -> int:
        """Cash the account may spend now (minor units): its free cash less what its open
        orders and runs under way will take (``pending``), never below 0."""
        snap = await portfolio.snapshot(account_id, redis)
        waiting = await self.pending(account_id, snap.club.created_by, redis)
        return max(snap.cash - snap.liabilities - waiting.cash, 0)

    async def pending(self, account_id: str, actor: str, redis: Redis) -> Pending:
        """Trades already under way: the remaining shares of every open order (awaiting
        execution or at the broker; + bought, − sold) and the trades of runs still at the
        vote, with the cash they will take (a buy at its limit, else the price now, plus the
        fee; a sale's proceeds less its fee count back)."""
        costs = BrokerCosts.of(get_settings())
        rows: list[tuple[str, int, int | None]] = []
        extra = 0
        for o in await order_service.list_orders(account_id, actor):
            if STATUS_RANK[o.status] >= FINAL:
                continue
            left = (o.quantity or 0) - o.filled_quantity  # an amount's order: its cash below
            if o.quantity is None and o.amount and o.side is OrderSide.BUY:
                rows.append((o.symbol, 0, None))
                extra += o.amount
            elif left > 0:
                rows.append((o.symbol, left if o.side is OrderSide.BUY else -left,
                             o.limit_price))  # fmt: skip
        for run in await repository.runs_in((RunStatus.VOTING, RunStatus.APPROVED), account_id):
            rows.extend((t["symbol"], t["quantity"], t.get("limit")) for t in run.trades)
        if not rows:
            return Pending({}, extra)
        price = await self.prices(redis, sorted({s for s, _, _ in rows}))
        shares: dict[str, int] = {}
        cash = extra
        for symbol, quantity, limit in rows:
            shares[symbol] = shares.get(symbol, 0) + quantity
            value = abs(quantity) * (limit or price[symbol])
            cash += value + costs.fee(value) if quantity > 0 else -(value - costs.fee(value))
        return Pending(shares, cash)

    # ------------------------------------------------------------ performance

    async def performance(self, account_id: str, user_id: str, redis: Redis,
                          start: dt.date | None, end: dt.date | None, benchmark: str,
                          period: str | None = None) -> dict[str, object]:  # fmt: skip
        """A backtest of the account's target mix (rebalanced daily) on history against
        ``benchmark``: TWR (compounded), volatility, Sharpe, Sortino, maximum drawdown (skfolio
        measures) and beta (least-squares slope of the mix's daily returns on the benchmark's,
        scipy ``linregress``), with growth-of-100 series. ``period`` (``PERIODS``) chooses the
        window ending at ``end`` (default: the day before the replay starts); without one, from
        ``start`` (default a year before ``end``).

        Raises: AccountNotFound, NoTargets, UnknownSymbols, UnknownPeriod (not a period, or a
        period with a start), InvalidPeriod, InsufficientHistory.
        """
        account = await self.check_account(account_id, user_id)
        if not account.targets:
            raise NoTargets("adopt a recommendation for this portfolio first")
        if period is not None:
            start = await self.period_start(period, start, end or _as_of(),
                                            [*account.targets, benchmark])  # fmt: skip
        result = await self.backtest(account.targets, redis, start, end, benchmark)
        return {"account_id": account_id, "period": period, **result}

    async def period_start(self, period: str, start: dt.date | None, end: dt.date,
                           symbols: list[str]) -> dt.date:  # fmt: skip
        """The first day of ``period`` ending at ``end``: 1M, 3M, 6M or 1Y calendar months
        back (as pandas ``DateOffset``: 31 March less a month is 29 February); ``start``: the
        first day every one of ``symbols`` has history (the mix's inception in the data).

        Raises: UnknownPeriod (not one of ``PERIODS``, or given together with ``start``)."""
        if period not in PERIODS:
            raise UnknownPeriod(f"the period must be one of {', '.join(PERIODS)}",
                                details={"period": period, "allowed": list(PERIODS)})  # fmt: skip
        if start is not None:
            raise UnknownPeriod("give a period or a start date, not both",
                                details={"period": period, "allowed": list(PERIODS)})  # fmt: skip
        months = PERIODS[period]
        if months:
            return _months_before(end, months)
        firsts = {i.symbol: i.first_date for i in await market_service.list_instruments()}
        known = [firsts[s] for s in symbols if s in firsts]
        return dt.date.fromisoformat(max(known)) if known else end - dt.timedelta(days=365)

    async def backtest(self, targets: dict[str, int], redis: Redis, start: dt.date | None,
                       end: dt.date | None, benchmark: str) -> dict[str, object]:  # fmt: skip
        """The figures of ``performance`` for a fixed mix (symbol → bps), rebalanced daily,
        over ``BACKTEST_MIN_DAYS`` common trading days at least.

        Raises: UnknownSymbols, InvalidPeriod (start not before end), InsufficientHistory."""
        await market_service.check_symbols([benchmark])
        end = end or _as_of()
        start = start or end - dt.timedelta(days=365)
        if start >= end:
            raise InvalidPeriod(
                "the period must start before it ends",
                details={"start": start.isoformat(), "end": end.isoformat()},
            )
        symbols = sorted(targets)
        closes = await self.closes(redis, [*symbols, benchmark], start, end)
        try:
            returns = engine.returns_of(closes, min_days=BACKTEST_MIN_DAYS)
        except ValueError as exc:
            raise InsufficientHistory(str(exc)) from exc
        weights = [targets[s] / engine.BPS for s in symbols]
        mix = returns[symbols]
        bench = returns[[benchmark]]
        figures = engine.figures_of(mix, weights)
        bench_figures = engine.figures_of(bench, [1.0])
        mix_daily = mix.to_numpy() @ np.asarray(weights)
        bench_daily = bench.to_numpy()[:, 0]
        beta = float(stats.linregress(bench_daily, mix_daily).slope)
        growth = 100 * np.cumprod(1 + mix_daily)
        bench_growth = 100 * np.cumprod(1 + bench_daily)
        dates = [d.date().isoformat() for d in pd.DatetimeIndex(returns.index)]
        step = max(1, len(dates) // 120)  # at most ~120 points for a chart
        picks = list(range(0, len(dates), step))
        if picks[-1] != len(dates) - 1:
            picks.append(len(dates) - 1)
        return {
            "start": dates[0], "end": dates[-1],
            "benchmark": benchmark, "figures": figures, "benchmark_figures": bench_figures,
            "twr": float(growth[-1] / 100 - 1), "benchmark_twr": float(bench_growth[-1] / 100 - 1),
            "beta": beta,
            "series": [(dates[i], round(float(growth[i]), 4)) for i in picks],
            "benchmark_series": [(dates[i], round(float(bench_growth[i]), 4)) for i in picks],
        }  # fmt: skip

    # ------------------------------------------------------------ tax-loss harvesting

    async def tax_loss_opportunities(
        self, user_id: str, actor_id: str, redis: Redis
    ) -> tuple[int, list[dict[str, object]]]:
        """Positions of the person's taxable personal accounts with an unrealised loss: FIFO
        lots from the account's fills, the loss per lot at today's price, a replacement from
        the same sector with the highest correlation of daily returns over the last year (not
        one bought inside the wash-sale window), and ``blocked_until`` when the symbol itself
        was bought inside the window (a sale now would be a wash sale).

        Returns (wash-sale days, opportunities). Raises ``ForbiddenUser`` for another person.
        """
        if user_id != actor_id:
            raise ForbiddenUser("no such person")
        days = 30
        out: list[dict[str, object]] = []
        for account in await repository.accounts_of_owner(user_id):
            if account.tax_treatment is not TaxTreatment.TAXABLE:
                continue
            days = account.wash_sale_days
            out.extend(await self._harvest(account, user_id, redis))
        return days, out

    async def _harvest(self, account: AdvisoryAccount, user_id: str,
                       redis: Redis) -> list[dict[str, object]]:  # fmt: skip
        fills = []
        for order in await order_service.list_orders(account.account_id, user_id):
            _, order_fills = await order_service.get(account.account_id, str(order.id), user_id)
            fills.extend(order_fills)
        fills.sort(key=lambda f: (f.trade_date, f.applied_at))
        lots: dict[str, deque[list[object]]] = {}
        last_buy: dict[str, str] = {}
        for f in fills:
            queue = lots.setdefault(f.symbol, deque())
            if f.side is OrderSide.BUY:
                queue.append([f.trade_date, f.quantity, f.price])
                last_buy[f.symbol] = max(last_buy.get(f.symbol, ""), f.trade_date)
            else:
                left = f.quantity
                while left and queue:
                    lot = queue[0]
                    take = min(left, int(str(lot[1])))
                    lot[1] = int(str(lot[1])) - take
                    left -= take
                    if lot[1] == 0:
                        queue.popleft()
        held = [s for s, q in lots.items() if q]
        if not held:
            return []
        dated = await self.dated_prices(redis, held)
        price = {s: p for s, (p, _) in dated.items()}
        # "today" is the market's day: the prices' own newest day (a replayed market's is in its
        # past, while fills are booked no earlier than their orders); the newest fill without
        # prices
        days = [d.isoformat() for _, d in dated.values()]
        today = max(days) if days else max(f.trade_date for f in fills)
        window = dt.timedelta(days=account.wash_sale_days)
        out: list[dict[str, object]] = []
        for symbol in sorted(held):
            losing = [
                (str(d), int(str(q)), int(str(p)))
                for d, q, p in lots[symbol]
                if int(str(p)) > price[symbol]
            ]
            if not losing:
                continue
            loss = sum(q * (p - price[symbol]) for _, q, p in losing)
            sector = SECTORS.get(symbol, "Unknown")
            blocked = None
            if symbol in last_buy:
                until = dt.date.fromisoformat(last_buy[symbol]) + window
                if until >= dt.date.fromisoformat(today):
                    blocked = until.isoformat()
            replacement, corr = await self._replacement(symbol, sector, set(held), last_buy,
                                                        today, window, redis)  # fmt: skip
            out.append({
                "account_id": account.account_id, "symbol": symbol, "sector": sector,
                "quantity": sum(q for _, q, _ in losing), "harvestable_loss": loss,
                "lots": [{"symbol": symbol, "bought_on": d, "quantity": q, "cost_price": p,
                          "price": price[symbol], "loss": q * (p - price[symbol])}
                         for d, q, p in losing],
                "replacement": replacement, "correlation": corr, "blocked_until": blocked,
            })  # fmt: skip
        return out

    async def _replacement(self, symbol: str, sector: str, held: set[str],
                           last_buy: dict[str, str], today: str, window: dt.timedelta,
                           redis: Redis) -> tuple[str | None, float | None]:  # fmt: skip
        """A replacement to buy after harvesting ``symbol``'s loss: from the catalogue, never
        the symbol itself (not substantially identical), the most correlated over the last
        year among its sector's stocks, else (a sector of one) among every stock of the same
        asset class; one bought inside the wash-sale window is passed over. ``held`` is
        unused for the choice: adding to a holding of another company is a fine replacement.
        (None, None) only when the catalogue has no other stock with a year of history."""
        del held
        end = dt.date.fromisoformat(today)
        stocks = [i.symbol for i in await market_service.list_instruments()
                  if not i.is_index and i.symbol != symbol]  # fmt: skip
        same_sector = [s for s in stocks if SECTORS.get(s) == sector]
        for peers in (same_sector, [s for s in stocks if s not in same_sector]):
            if not peers:
                continue
            closes = await self.closes(redis, [symbol, *peers], end - dt.timedelta(days=365), end)
            closes = {s: rows for s, rows in closes.items() if len(rows) > 100}
            if symbol not in closes or len(closes) < 2:
                continue
            try:
                returns = engine.returns_of(closes)
            except ValueError:
                continue
            corr = returns.corr()[symbol].drop(symbol).sort_values(ascending=False)
            for peer, value in corr.items():
                bought = last_buy.get(str(peer))
                if bought and dt.date.fromisoformat(bought) + window >= end:
                    continue  # buying it back inside the window would not help
                return str(peer), float(value)
        return None, None

    # ------------------------------------------------------------ drift

    async def do_check_drift(self, redis: Redis) -> int:
        """For every account with targets: when an asset is outside its band and that drift
        was not told yet, notify the owner (a personal account) or the club's owners/admins
        (persisted, live, mailed) and append ``portfolio:drift`` to the account's room. Returns
        how many accounts were told. Idempotent: the same drift is told once."""
        told = 0
        for account in await repository.accounts_with_targets():
            try:
                now = await self.holdings(account.account_id, None, redis, account)
            except (AccountNotFound, NoPrice):
                continue
            outside = now.outside()
            key = ",".join(sorted(outside)) if outside else None
            if key == account.drift_alerted:
                continue
            if not await repository.mark_drift_alerted(account.account_id, key):
                continue
            if key is None:
                continue  # back inside: remember it, so a new drift is told again
            await self._tell_drift(account, outside, now.created_by)
            told += 1
        return told

    async def _tell_drift(self, account: AdvisoryAccount, outside: list[str],
                          created_by: str) -> None:  # fmt: skip
        if account.kind is AccountKind.PERSONAL and account.owner_id:
            people = [account.owner_id]
        else:
            people = await self._managers(account.account_id, created_by)
        room = club_room(account.account_id)
        await events.ensure_room(room)
        await notification_service.prepare(people)
        key = ",".join(sorted(outside))
        drafts = [Draft(user_id=p, kind=NotificationKind.DRIFT_ALERT,
                        title=f"{account.name or 'Your portfolio'} drifted from its targets",
                        body=f"Outside the ±{account.band_bps / 100:g}-point band: "
                             f"{', '.join(outside)}. Review the rebalance.",
                        club_id=account.account_id, ref_type="advisory_account",
                        ref_id=account.account_id,
                        dedupe_key=f"drift:{account.account_id}:{key}:{utcnow().date()}:{p}")
                  for p in people]  # fmt: skip

        async def body(session: AsyncClientSession) -> list[Notification]:
            stored = await notification_service.do_store(session, drafts)
            await events.room_event(
                session, room, PORTFOLIO_DRIFT, DriftAlertEvent, club_id=account.account_id,
                account_id=account.account_id, name=account.name, symbols=outside,
            )  # fmt: skip
            return stored

        stored = await run_in_transaction(body)
        await notification_service.deliver(stored)

    async def _managers(self, club_id: str, creator: str) -> list[str]:
        """A club's owners and admins (seen through its creator's membership, else none)."""
        try:
            members = await club_service.members(club_id, creator)
        except ClubNotFound:
            return []
        return [m.user_id for m in members if m.role in MANAGERS]


advisory_service = AdvisoryService()

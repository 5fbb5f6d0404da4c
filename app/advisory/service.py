"""Robo-advice rules (DOMAIN.md, "Robo-advice"; issue #17): the risk questionnaire, target
allocations from the optimiser (engine.py) on the market's real history, an account's holdings
against its targets, rebalancing trades and what they become (a club's proposals for the vote, a
personal account's orders), a backtest of the target mix against a benchmark, tax-loss
harvesting on FIFO lots, and the drift check the worker runs.

Accounts: ``account_id`` is a club id. A club's account (its investment policy) is opened on
first use by its owner/admin; a personal account is a one-member club the person owns, kept in
USD (the replayed instruments' currency), so it is funded, traded, valued and booked by the same
clubs, orders, paper broker and ledger services as any club. Access is the club's membership:
any member reads, an owner/admin changes the policy and executes trades.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections import deque
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
    TaxTreatment,
)
from app.advisory.errors import (
    AccountNotFound,
    AlreadyExecuted,
    InsufficientHistory,
    InvalidAnswers,
    InvalidPolicy,
    NoPrice,
    NoRiskProfile,
    NoTargets,
    NothingToTrade,
    RebalanceNotFound,
)
from app.advisory.questionnaire import POLICIES, RiskProfile, assess
from app.advisory.questionnaire import InvalidAnswers as AnswersProblem
from app.advisory.schemas import AccountCreate, DriftAlertEvent, PolicyIn, RecommendationIn
from app.advisory.sectors import SECTORS
from app.books import portfolio
from app.clubs.errors import ClubNotFound
from app.clubs.service import MANAGERS, club_service
from app.config import get_settings
from app.db import run_in_transaction
from app.errors import NotFound
from app.fx import FxRate
from app.fx import rate as fx_rate
from app.market.providers import provider_for
from app.market.service import market_service
from app.money import format_minor, parse_minor
from app.notifications.documents import Notification, NotificationKind
from app.notifications.service import Draft, notification_service
from app.orders.broker import Broker, BrokerCosts
from app.orders.documents import OrderKind, OrderSide
from app.orders.schemas import OrderCreate
from app.orders.service import order_service
from app.proposals.documents import ProposalKind
from app.proposals.schemas import ProposalCreate
from app.proposals.service import proposal_service
from app.realtime import events
from app.realtime.eventlog import utcnow
from app.realtime.rooms import club_room

PORTFOLIO_DRIFT = "portfolio:drift"


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

    async def do_set_policy(self, account_id: str, user_id: str, data: PolicyIn) -> AdvisoryAccount:
        """Set the investment policy (owner/admin). Held targets of newly excluded symbols are
        dropped and the rest re-scaled to 10,000 bps.

        Raises: AccountNotFound, RoleRequired, UnknownSymbols (an unknown excluded symbol).
        """
        account = await self.check_account(account_id, user_id, manage=True, create=True)
        if data.excluded:
            await market_service.check_symbols(data.excluded)
        targets = {s: b for s, b in account.targets.items() if s not in data.excluded}
        if targets and sum(targets.values()) != engine.BPS:
            symbols = list(targets)
            targets = dict(zip(symbols, engine.to_bps([float(targets[s]) for s in symbols]),
                               strict=True))  # fmt: skip
        updated = await repository.update_account(account_id, {
            "band_bps": data.band_bps, "min_trade": data.min_trade, "excluded": data.excluded,
            "max_weight_bps": data.max_weight_bps, "wash_sale_days": data.wash_sale_days,
            "targets": targets, "updated_at": utcnow(),
        })  # fmt: skip
        assert updated is not None
        return updated

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
        assessment = await self.current_profile(user_id)
        profile = RiskProfile(assessment.profile)
        policy = POLICIES[profile]
        account = None
        excluded: list[str] = []
        max_weight = policy.max_weight
        if data.account_id is not None:
            account = await self.check_account(data.account_id, user_id, manage=True, create=True)
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
                "targets": targets, "recommendation_id": str(recommendation.id),
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
                       account: AdvisoryAccount | None = None) -> Holdings:  # fmt: skip
        """The account's positions and targets priced now in its currency (``user_id`` None:
        the platform's own check, e.g. the drift agent). Raises ``AccountNotFound``,
        ``NoPrice``, ``FxRateUnavailable``."""
        if account is None:
            if user_id is None:
                raise AccountNotFound("no such portfolio")
            account = await self.check_account(account_id, user_id)
        try:
            snap = await portfolio.snapshot(account_id, redis)
        except ClubNotFound as exc:
            raise AccountNotFound("no such portfolio") from exc
        held = {p.holding.symbol: p.holding.quantity for p in snap.positions}
        lines = await self.priced_lines(redis, snap.club.currency, held, account.targets)
        free_cash = snap.cash - snap.liabilities
        return Holdings(account, snap.club.currency, max(free_cash, 0), lines, snap.club.created_by)

    # ------------------------------------------------------------ rebalancing

    async def do_rebalance(self, account_id: str, user_id: str, force: bool,
                           redis: Redis) -> RebalanceRun:  # fmt: skip
        """Trades that bring every asset back inside its band (``force``: towards the targets
        even if none drifted), with the policy's minimum trade, the broker's fees, whole shares
        and the free cash; stored as a run (any member may ask; nothing is traded).

        Raises: AccountNotFound, NoTargets, NoPrice.
        """
        account = await self.check_account(account_id, user_id)
        if not account.targets:
            raise NoTargets("adopt a recommendation for this portfolio first")
        now = await self.holdings(account_id, user_id, redis, account)
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
                         voting_hours: float = 48, broker: Broker | None = None,
                         redis: Redis | None = None) -> RebalanceRun:  # fmt: skip
        """Turn a run's trades into what the account decides with (owner/admin): a club's
        investment proposals (sales first), one per trade, for the members' vote — an approved
        one becomes an order for the treasurer as usual; a personal account's orders, sent to
        the ``broker`` at once when one is given (sales first, so their cash is there).

        Raises: AccountNotFound, RoleRequired, RebalanceNotFound, NothingToTrade,
        AlreadyExecuted, and what proposals/orders raise.
        """
        account = await self.check_account(account_id, user_id, manage=True)
        run = await repository.get_rebalance(run_id)
        if run is None or run.account_id != account_id:
            raise RebalanceNotFound("no such rebalance")
        if run.executed_at is not None:
            raise AlreadyExecuted("this rebalance was already executed")
        if not run.trades:
            raise NothingToTrade("this rebalance has no trades")
        if not await repository.mark_executed(run_id, user_id, [], []):
            raise AlreadyExecuted("this rebalance was already executed")
        trades = sorted(run.trades, key=lambda t: (t["quantity"] > 0, t["symbol"]))
        costs = BrokerCosts.of(get_settings())
        proposal_ids: list[str] = []
        order_ids: list[str] = []
        if account.kind is AccountKind.CLUB:
            deadline = utcnow() + dt.timedelta(hours=voting_hours)
            for t in trades:
                side = OrderSide.BUY if t["quantity"] > 0 else OrderSide.SELL
                verb = "Buy" if side is OrderSide.BUY else "Sell"
                proposal = await proposal_service.do_create(account_id, user_id, ProposalCreate(
                    kind=ProposalKind.INVESTMENT, title=f"Rebalance: {verb} {abs(t['quantity'])} "
                    f"{t['symbol']}", description=f"Part of rebalance {run_id} (bands ±"
                    f"{account.band_bps / 100:g} points).", side=side, symbol=t["symbol"],
                    quantity=abs(t["quantity"]), deadline=deadline))  # fmt: skip
                proposal_ids.append(str(proposal.id))
        else:
            for t in trades:
                side = OrderSide.BUY if t["quantity"] > 0 else OrderSide.SELL
                limit = None
                if side is OrderSide.BUY:
                    slipped = -(-t["price"] * (engine.BPS + costs.slippage_bps) // engine.BPS)
                    limit = format_minor(slipped)
                kind = OrderKind.LIMIT if limit else OrderKind.MARKET
                order = await order_service.do_create(account_id, user_id, OrderCreate(
                    side=side, symbol=t["symbol"], quantity=abs(t["quantity"]), kind=kind,
                    limit_price=limit))  # fmt: skip
                order_ids.append(str(order.id))
                if broker is not None and redis is not None:
                    await order_service.do_submit(account_id, str(order.id), user_id, redis,
                                                  broker)  # fmt: skip
        await RebalanceRun.get_pymongo_collection().update_one(
            {"_id": run.id}, {"$set": {"proposal_ids": proposal_ids, "order_ids": order_ids}}
        )
        run.proposal_ids, run.order_ids = proposal_ids, order_ids
        run.executed_by, run.executed_at = user_id, utcnow()
        return run

    # ------------------------------------------------------------ performance

    async def performance(self, account_id: str, user_id: str, redis: Redis,
                          start: dt.date | None, end: dt.date | None,
                          benchmark: str) -> dict[str, object]:  # fmt: skip
        """A backtest of the account's target mix (rebalanced daily) on history against
        ``benchmark``: TWR (compounded), volatility, Sharpe, Sortino, maximum drawdown (skfolio
        measures) and beta (least-squares slope of the mix's daily returns on the benchmark's,
        scipy ``linregress``), with growth-of-100 series.

        Raises: AccountNotFound, NoTargets, UnknownSymbols, InsufficientHistory.
        """
        account = await self.check_account(account_id, user_id)
        if not account.targets:
            raise NoTargets("adopt a recommendation for this portfolio first")
        result = await self.backtest(account.targets, redis, start, end, benchmark)
        return {"account_id": account_id, **result}

    async def backtest(self, targets: dict[str, int], redis: Redis, start: dt.date | None,
                       end: dt.date | None, benchmark: str) -> dict[str, object]:  # fmt: skip
        """The figures of ``performance`` for a fixed mix (symbol → bps), rebalanced daily.

        Raises: UnknownSymbols, InsufficientHistory."""
        await market_service.check_symbols([benchmark])
        end = end or _as_of()
        start = start or end - dt.timedelta(days=365)
        symbols = sorted(targets)
        closes = await self.closes(redis, [*symbols, benchmark], start, end)
        try:
            returns = engine.returns_of(closes)
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
        price = await self.prices(redis, held)
        today = max((f.trade_date for f in fills), default=_as_of().isoformat())
        quotes = await market_service.latest_quotes(redis, held)
        today = max([today, *(q.trade_date for q in quotes)])
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
        peers = [s for s, sec in SECTORS.items() if sec == sector and s != symbol
                 and s not in held]  # fmt: skip
        if not peers:
            return None, None
        end = dt.date.fromisoformat(today)
        closes = await self.closes(redis, [symbol, *peers], end - dt.timedelta(days=365), end)
        closes = {s: rows for s, rows in closes.items() if len(rows) > 100}
        if symbol not in closes or len(closes) < 2:
            return None, None
        returns = engine.returns_of(closes)
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

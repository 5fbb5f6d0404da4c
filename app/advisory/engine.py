"""The mathematics of robo-advice, all done by well-kept libraries (never by hand):

* target weights: skfolio's ``MeanRisk`` (mean-variance) on daily linear returns, with the
  Ledoit-Wolf shrinkage covariance (``EmpiricalPrior(covariance_estimator=LedoitWolf())``),
  weight bounds, and the objective of the risk profile; the efficient frontier is the same model
  with ``efficient_frontier_size``; the figures of a portfolio (annualised mean, volatility,
  Sharpe, Sortino, maximum drawdown) are skfolio ``Portfolio`` measures (annualisation factor
  252 trading days, risk-free rate 0, drawdowns on uncompounded cumulative returns);
* rebalancing trades: a mixed-integer linear programme solved by HiGHS through
  ``scipy.optimize.milp`` (whole shares, bands, minimum trade size, fees, cash, least turnover).

Weights and returns are ratios, so they are floats; every amount of money is an ``int`` of minor
units, and a trade's fee is the paper broker's own rule (``BrokerCosts.fee``).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix
from skfolio import RiskMeasure
from skfolio.exceptions import ConvexOptimizationError
from skfolio.moments import LedoitWolf
from skfolio.optimization import MeanRisk, ObjectiveFunction
from skfolio.portfolio import Portfolio
from skfolio.preprocessing import prices_to_returns
from skfolio.prior import EmpiricalPrior

BPS = 10_000
ANNUALISATION = 252
ESTIMATOR = "EmpiricalPrior(mu=EmpiricalMu, covariance=LedoitWolf)"
LIBRARIES = ("skfolio", "scikit-learn", "numpy", "scipy", "pandas", "cvxpy", "clarabel")


class Objective(StrEnum):
    """What the optimiser does with the risk profile: ``min_volatility`` (conservative),
    ``max_sharpe`` (moderate), ``target_return`` (aggressive)."""

    MIN_VOLATILITY = "min_volatility"
    MAX_SHARPE = "max_sharpe"
    TARGET_RETURN = "target_return"


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a recommendation depends on (for reproduction)."""
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - optional solver
            out[name] = "absent"
    return out


def returns_of(closes: dict[str, list[tuple[dt.date, int]]], min_days: int = 60) -> pd.DataFrame:
    """Daily linear returns (rows: dates, columns: symbols) of close prices in minor units,
    on the dates every symbol traded (skfolio ``prices_to_returns``, rows with a gap dropped).
    ``min_days``: the fewest returns accepted (60 for an optimisation; a backtest of a short
    period, e.g. one month, takes fewer).

    Raises:
        ValueError: fewer than 2 symbols or fewer than ``min_days`` common days.
    """
    frame = pd.DataFrame(
        {symbol: pd.Series({day: float(c) for day, c in rows}) for symbol, rows in closes.items()}
    ).sort_index()
    frame.index = pd.DatetimeIndex(frame.index)
    frame = frame.dropna()
    if frame.shape[1] < 2 or frame.shape[0] < min_days + 1:
        raise ValueError(f"need at least 2 symbols with {min_days} common trading days")
    returns = prices_to_returns(frame)
    assert isinstance(returns, pd.DataFrame)
    returns.attrs["prices_start"] = frame.index[0].date().isoformat()
    return returns


@dataclass(frozen=True, slots=True)
class Constraints:
    """Bounds on each weight (ratios in [0, 1]) and, for ``target_return``, the annualised
    return to reach (ratio; ``None``: chosen from the frontier, see ``recommend``)."""

    min_weight: float = 0.0
    max_weight: float = 0.25
    target_return: float | None = None


@dataclass(frozen=True, slots=True)
class Figures:
    """Annualised measures of a weighting over the history (ratios)."""

    annual_return: float
    volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float

    @classmethod
    def of(cls, portfolio: Portfolio) -> Figures:
        """The skfolio measures of ``portfolio``."""
        return cls(
            annual_return=float(portfolio.annualized_mean),
            volatility=float(portfolio.annualized_standard_deviation),
            sharpe=float(portfolio.annualized_sharpe_ratio),
            sortino=float(portfolio.annualized_sortino_ratio),
            max_drawdown=float(portfolio.max_drawdown),
        )


@dataclass(frozen=True, slots=True)
class Allocation:
    """An optimiser's answer: ``weights`` (ratios, one per symbol, sum 1), their figures on
    the history, the frontier (volatility, return) points, and the exact inputs used."""

    symbols: list[str]
    weights: list[float]
    figures: Figures
    frontier: list[tuple[float, float]]
    objective: Objective
    constraints: Constraints
    inputs: dict[str, Any] = field(default_factory=dict)


def mean_risk(objective: Objective, constraints: Constraints,
              frontier_size: int | None = None) -> MeanRisk:  # fmt: skip
    """The skfolio model for ``objective`` under ``constraints`` (unfitted)."""
    kind = {
        Objective.MIN_VOLATILITY: ObjectiveFunction.MINIMIZE_RISK,
        Objective.MAX_SHARPE: ObjectiveFunction.MAXIMIZE_RATIO,
        Objective.TARGET_RETURN: ObjectiveFunction.MINIMIZE_RISK,
    }[objective]
    min_return = None
    if objective is Objective.TARGET_RETURN and constraints.target_return is not None:
        min_return = constraints.target_return / ANNUALISATION  # skfolio works in daily units
    return MeanRisk(
        objective_function=kind,
        risk_measure=RiskMeasure.VARIANCE,
        prior_estimator=EmpiricalPrior(covariance_estimator=LedoitWolf()),
        min_weights=constraints.min_weight,
        max_weights=constraints.max_weight,
        min_return=min_return,
        efficient_frontier_size=frontier_size,
    )


def recommend(returns: pd.DataFrame, objective: Objective, constraints: Constraints,
              frontier_size: int = 12) -> Allocation:  # fmt: skip
    """Fit the mean-variance model on ``returns`` and describe the result.

    ``target_return`` without a target: three quarters of the way from the minimum-volatility
    portfolio's return to the highest return the bounds allow (both fitted first, so the target
    is always reachable); the target used is stored in ``constraints``.

    Raises:
        ValueError: bounds that cannot hold (``max_weight`` × assets < 1, min > max).
    """
    n = returns.shape[1]
    if constraints.max_weight * n < 1 - 1e-9 or constraints.min_weight * n > 1 + 1e-9:
        raise ValueError(f"weight bounds cannot hold for {n} assets")
    if constraints.min_weight > constraints.max_weight:
        raise ValueError("min_weight is above max_weight")
    if objective is Objective.TARGET_RETURN and constraints.target_return is None:
        low = mean_risk(Objective.MIN_VOLATILITY, constraints).fit(returns).predict(returns)
        top_model = MeanRisk(
            objective_function=ObjectiveFunction.MAXIMIZE_RETURN,
            risk_measure=RiskMeasure.VARIANCE,
            prior_estimator=EmpiricalPrior(covariance_estimator=LedoitWolf()),
            min_weights=constraints.min_weight, max_weights=constraints.max_weight,
        )  # fmt: skip
        top = top_model.fit(returns).predict(returns)
        lo, hi = float(low.annualized_mean), float(top.annualized_mean)
        target = round(lo + 0.75 * (hi - lo), 6)
        constraints = Constraints(constraints.min_weight, constraints.max_weight, target)
    try:
        model = mean_risk(objective, constraints).fit(returns)
    except ConvexOptimizationError as exc:
        raise ValueError("the optimiser found no solution for these symbols and bounds") from exc
    portfolio = model.predict(returns)
    frontier = efficient_frontier(returns, constraints, frontier_size)
    symbols = [str(c) for c in returns.columns]
    return Allocation(
        symbols=symbols,
        weights=[float(w) for w in model.weights_],
        figures=Figures.of(portfolio),
        frontier=frontier,
        objective=objective,
        constraints=constraints,
        inputs={
            "symbols": symbols,
            "prices_start": returns.attrs.get("prices_start"),
            "start": returns.index[0].date().isoformat(),
            "end": returns.index[-1].date().isoformat(),
            "observations": int(returns.shape[0]),
            "returns": "linear, daily closes (skfolio prices_to_returns)",
            "estimator": ESTIMATOR,
            "risk_measure": "variance",
            "objective": objective.value,
            "min_weight": constraints.min_weight,
            "max_weight": constraints.max_weight,
            "target_return": constraints.target_return,
            "annualisation": ANNUALISATION,
            "risk_free_rate": 0.0,
        },
    )


def efficient_frontier(returns: pd.DataFrame, constraints: Constraints,
                       size: int) -> list[tuple[float, float]]:  # fmt: skip
    """(volatility, return) points of the efficient frontier, by risk: skfolio's
    ``efficient_frontier_size``; where the solver fails at an end of it, the points are fitted
    one by one (minimum variance for returns evenly spaced between the minimum-volatility
    mix's and 99 % of the way to the highest the bounds allow) and failures skipped."""
    bounds = Constraints(constraints.min_weight, constraints.max_weight)
    try:
        population = mean_risk(Objective.MIN_VOLATILITY, bounds, size).fit(returns).predict(returns)
        points = [(float(p.annualized_standard_deviation), float(p.annualized_mean))
                  for p in population]  # fmt: skip
    except ConvexOptimizationError:
        low = mean_risk(Objective.MIN_VOLATILITY, bounds).fit(returns).predict(returns)
        top = MeanRisk(
            objective_function=ObjectiveFunction.MAXIMIZE_RETURN,
            risk_measure=RiskMeasure.VARIANCE,
            prior_estimator=EmpiricalPrior(covariance_estimator=LedoitWolf()),
            min_weights=bounds.min_weight, max_weights=bounds.max_weight,
        ).fit(returns).predict(returns)  # fmt: skip
        lo, hi = float(low.annualized_mean), float(top.annualized_mean)
        points = []
        for target in np.linspace(lo, lo + 0.99 * (hi - lo), size):
            try:
                fitted = mean_risk(Objective.TARGET_RETURN, Constraints(
                    bounds.min_weight, bounds.max_weight, float(target))).fit(returns)  # fmt: skip
            except ConvexOptimizationError:
                continue
            p = fitted.predict(returns)
            points.append((float(p.annualized_standard_deviation), float(p.annualized_mean)))
    return sorted(points)


def figures_of(returns: pd.DataFrame, weights: list[float]) -> Figures:
    """skfolio's measures of fixed ``weights`` over ``returns`` (a backtest of a static mix)."""
    portfolio = Portfolio(X=returns, weights=np.asarray(weights, dtype=float))
    return Figures.of(portfolio)


def to_bps(weights: list[float]) -> list[int]:
    """Ratios → basis points summing exactly to 10,000 (largest remainder; ties to the
    earlier asset). Negative or tiny solver noise becomes 0."""
    clean = [max(w, 0.0) for w in weights]
    total = sum(clean) or 1.0
    exact = [w / total * BPS for w in clean]
    floors = [int(x) for x in exact]
    short = BPS - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:short]:
        floors[i] += 1
    return floors


def within_policy(targets: dict[str, int], excluded: list[str],
                  max_weight_bps: int) -> dict[str, int]:  # fmt: skip
    """``targets`` (symbol → bps) under an investment policy: excluded symbols dropped, the
    rest scaled back to 10,000 bps with no symbol above ``max_weight_bps`` — what a capped
    symbol cannot take goes to the others in proportion to their weights (water-filling),
    then whole basis points by largest remainder, never above the cap. Ties: symbol order.

    Raises:
        ValueError: nothing left after the exclusions, or too few symbols for the cap
            (count × cap < 10,000): the policy cannot hold.
    """
    kept = {s: b for s, b in sorted(targets.items()) if s not in set(excluded) and b > 0}
    if not kept:
        raise ValueError("the policy excludes every symbol of the target allocation")
    if len(kept) * max_weight_bps < BPS:
        raise ValueError(f"{len(kept)} symbols at most {max_weight_bps / 100:g} % each "
                         "cannot make 100 %")  # fmt: skip
    cap = max_weight_bps / BPS
    weights = {s: b / sum(kept.values()) for s, b in kept.items()}
    fixed: dict[str, float] = {}
    while True:
        free = {s: w for s, w in weights.items() if s not in fixed}
        room = 1.0 - sum(fixed.values())
        scale = room / sum(free.values())
        over = [s for s, w in free.items() if w * scale > cap + 1e-12]
        if not over:
            fixed.update({s: w * scale for s, w in free.items()})
            break
        fixed.update(dict.fromkeys(over, cap))
    symbols = list(fixed)
    exact = [fixed[s] * BPS for s in symbols]
    floors = [min(int(x), max_weight_bps) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    short = BPS - sum(floors)
    while short > 0:
        moved = False
        for i in order:
            if short and floors[i] < max_weight_bps:
                floors[i] += 1
                short -= 1
                moved = True
        if not moved:  # pragma: no cover - excluded by the count × cap check
            raise ValueError("the policy cannot hold")
    return {s: b for s, b in zip(symbols, floors, strict=True) if b > 0}


# ---------------------------------------------------------------- rebalancing


@dataclass(frozen=True, slots=True)
class RebalanceInput:
    """One account: ``prices`` (minor units per share), ``holdings`` (whole shares) and
    ``targets`` (basis points; sum 10,000 over the target symbols, 0 for held symbols not in
    the target), the account's free ``cash`` (minor units); rules: ``band_bps`` (±, default
    500 = 5 percentage points), ``min_trade`` (minor units), the broker's ``fee_bps`` and
    ``fee_min`` per trade, ``buy_buffer_bps`` added to a buy's price for the cash it sets
    aside (slippage and the market-order buffer), ``force`` (trade towards the targets even
    when every asset is inside its band)."""

    symbols: list[str]
    prices: list[int]
    holdings: list[int]
    targets: list[int]
    cash: int
    band_bps: int = 500
    min_trade: int = 0
    fee_bps: int = 10
    fee_min: int = 0
    buy_buffer_bps: int = 0
    force: bool = False


@dataclass(frozen=True, slots=True)
class Trade:
    """Buy (``quantity`` > 0) or sell (< 0) whole shares of ``symbol`` at about ``price``;
    ``value`` = |quantity| × price and ``fee`` (the broker's rule) in minor units."""

    symbol: str
    quantity: int
    price: int
    value: int
    fee: int


@dataclass(frozen=True, slots=True)
class RebalancePlan:
    """The trades, the cash and weights (bps of the total) after them, whether every asset
    ends inside its band, and whether any was outside before (``drifted``)."""

    trades: list[Trade]
    cash_after: int
    weights_before: list[int]
    weights_after: list[int]
    inside_bands: bool
    drifted: bool
    turnover: int
    fees: int


def _fee(value: int, fee_bps: int, fee_min: int) -> int:
    if value <= 0:
        return 0
    return max(-(-value * fee_bps // BPS), fee_min)


def weights_bps(values: list[int], total: int) -> list[int]:
    """Each value's share of ``total`` in basis points, rounded half-even (0 for total ≤ 0)."""
    if total <= 0:
        return [0 for _ in values]
    return [round(v * BPS / total) for v in values]


def _inside(values: list[int], total: int, targets: list[int], band_bps: int) -> bool:
    # Exact integer test: |value × 10,000 − target × total| ≤ band × total.
    return all(
        abs(v * BPS - t * total) <= band_bps * total for v, t in zip(values, targets, strict=True)
    )


def plan_rebalance(data: RebalanceInput, time_limit: float = 10.0) -> RebalancePlan:
    """The trades that bring every asset within ``band_bps`` of its target with the least
    turnover (or, with ``force``, as close to the targets as whole shares allow), never
    spending more than ``cash`` (proceeds of sales count; each buy at its price plus
    ``buy_buffer_bps``, each trade's fee taken at ``fee_bps`` plus ``fee_min``, rounded up),
    each trade worth at least ``min_trade``, in whole shares. Where no trades can bring every
    asset inside, the band excess is minimised instead (``inside_bands`` False).

    Variables per asset (HiGHS MILP): shares bought ``b`` and sold ``s`` (integers, ``s`` ≤
    held), "buys"/"sells" switches (binary), and the band excess (continuous ≥ 0).

    Raises:
        ValueError: inconsistent lengths, non-positive prices, targets not summing to 10,000.
    """
    n = len(data.symbols)
    if not (len(data.prices) == len(data.holdings) == len(data.targets) == n) or n == 0:
        raise ValueError("symbols, prices, holdings and targets must have the same length")
    if any(p <= 0 for p in data.prices) or any(h < 0 for h in data.holdings) or data.cash < 0:
        raise ValueError("prices must be positive; holdings and cash not negative")
    if sum(data.targets) != BPS or any(t < 0 for t in data.targets):
        raise ValueError("targets must be basis points summing to 10,000")
    values = [p * h for p, h in zip(data.prices, data.holdings, strict=True)]
    total = sum(values) + data.cash
    drifted = total > 0 and not _inside(values, total, data.targets, data.band_bps)
    if total <= 0 or (not drifted and not data.force):
        before = weights_bps(values, total)
        return RebalancePlan([], data.cash, before, before, not drifted, drifted, 0, 0)

    price = np.asarray(data.prices, dtype=float)
    held = np.asarray(data.holdings, dtype=float)
    target = np.asarray(data.targets, dtype=float) / BPS
    # The programme's fees are an upper bound of the broker's (rate + minimum + a cent per
    # trade), so the exact total after trading may differ by a few cents per trade: the band
    # the solver sees is narrower by that much, and the exact check afterwards holds.
    margin = 2 * n * (data.fee_min + 1) / total + 1 / BPS
    band = max(data.band_bps / BPS - margin, data.band_bps / BPS / 2)
    fee_rate = data.fee_bps / BPS
    buy_cost = price * (1 + data.buy_buffer_bps / BPS)
    fixed = float(data.fee_min + 1)  # the fee's minimum plus a cent of rounding, per trade
    big = [float(total // p + 1) for p in data.prices]
    # Columns: b (n), s (n), zb (n), zs (n), excess (n), deviation (n, force only).
    cols = 6 * n
    B, S, _ZB, _ZS, X, D = (slice(k * n, (k + 1) * n) for k in range(6))
    rows: list[tuple[dict[int, float], float, float]] = []

    def value_after(i: int) -> dict[int, float]:
        # p·(h + b − s) − t·V' with V' = V − fees (fees linear in the trades).
        row: dict[int, float] = {i: price[i], n + i: -price[i]}
        for j in range(n):
            row[j] = row.get(j, 0.0) + target[i] * fee_rate * price[j]
            row[n + j] = row.get(n + j, 0.0) + target[i] * fee_rate * price[j]
            row[2 * n + j] = row.get(2 * n + j, 0.0) + target[i] * fixed
            row[3 * n + j] = row.get(3 * n + j, 0.0) + target[i] * fixed
        return row

    def fees_row(scale: float) -> dict[int, float]:
        row: dict[int, float] = {}
        for j in range(n):
            row[j] = scale * fee_rate * price[j]
            row[n + j] = scale * fee_rate * price[j]
            row[2 * n + j] = scale * fixed
            row[3 * n + j] = scale * fixed
        return row

    for i in range(n):
        base = price[i] * held[i] - target[i] * total  # the constant part of value_after
        # |value_after + base| ≤ band·V' + excess   →  two rows; band·V' = band·(V − fees)
        up = value_after(i)
        for k, v in fees_row(band).items():
            up[k] = up.get(k, 0.0) + v
        up[4 * n + i] = -1.0
        rows.append((up, -np.inf, band * total - base))
        down = {k: -v for k, v in value_after(i).items()}
        for k, v in fees_row(band).items():
            down[k] = down.get(k, 0.0) + v
        down[4 * n + i] = -1.0
        rows.append((down, -np.inf, band * total + base))
        if data.force:
            for sign in (1.0, -1.0):
                dev = {k: sign * v for k, v in value_after(i).items()}
                dev[5 * n + i] = -1.0
                rows.append((dev, -np.inf, -sign * base))
        # min trade size and switches: p·b ≥ m·zb, b ≤ M·zb, likewise for s (s ≤ held·zs).
        rows.append(({i: price[i], 2 * n + i: -float(data.min_trade)}, 0.0, np.inf))
        rows.append(({i: 1.0, 2 * n + i: -big[i]}, -np.inf, 0.0))
        rows.append(({n + i: price[i], 3 * n + i: -float(data.min_trade)}, 0.0, np.inf))
        rows.append(({n + i: 1.0, 3 * n + i: -held[i]}, -np.inf, 0.0))
        rows.append(({2 * n + i: 1.0, 3 * n + i: 1.0}, -np.inf, 1.0))
    # cash: Σ buy_cost·b − Σ p·s + fees ≤ cash
    cash_row = fees_row(1.0)
    for j in range(n):
        cash_row[j] += buy_cost[j]
        cash_row[n + j] -= price[j]
    rows.append((cash_row, -np.inf, float(data.cash)))

    matrix = lil_matrix((len(rows), cols))
    lower, upper = [], []
    for r, (row, lo, hi) in enumerate(rows):
        for k, v in row.items():
            matrix[r, k] = v
        lower.append(lo)
        upper.append(hi)
    turnover = np.concatenate([price, price, np.zeros(4 * n)]) / max(total, 1)
    integrality = np.concatenate([np.ones(4 * n), np.zeros(2 * n)])
    constraint = LinearConstraint(matrix.tocsr(), lower, upper)

    def solve(excess_allowed: bool, presolve: bool = True) -> Any:
        cost = turnover.copy()
        cost[X] = 1.0 if excess_allowed else 0.0
        cost[D] = 10.0 / max(total, 1) if data.force else 0.0
        ub = np.concatenate([big, held, np.ones(2 * n),
                             np.full(n, np.inf if excess_allowed else 0.0),
                             np.full(n, np.inf if data.force else 0.0)])  # fmt: skip
        return milp(
            cost, integrality=integrality, bounds=Bounds(np.zeros(cols), ub),
            constraints=constraint,
            options={"time_limit": time_limit, "mip_rel_gap": 1e-6, "presolve": presolve},
        )  # fmt: skip

    # Every asset inside its band if whole shares and cash allow it; else the least excess.
    result = solve(excess_allowed=False)
    if result.x is None:
        result = solve(excess_allowed=True)
    if result.x is None:  # HiGHS's presolve can end in a solve error on some inputs: once more
        result = solve(excess_allowed=True, presolve=False)
    if result.x is None:
        raise ValueError(f"the rebalancing programme found no solution: {result.message}")
    buys = [round(x) for x in result.x[B]]
    sells = [round(x) for x in result.x[S]]
    return _settle(data, values, total, buys, sells, drifted)


def _settle(data: RebalanceInput, values: list[int], total: int, buys: list[int],
            sells: list[int], drifted: bool) -> RebalancePlan:  # fmt: skip
    """Exact integer accounting of the solver's trades; drops buys (largest first) should the
    rounding of a solver value ever overspend the cash."""
    trades: list[Trade] = []
    cash = data.cash
    for i, symbol in enumerate(data.symbols):
        quantity = buys[i] - min(sells[i], data.holdings[i])
        if quantity == 0:
            continue
        value = abs(quantity) * data.prices[i]
        fee = _fee(value, data.fee_bps, data.fee_min)
        trades.append(Trade(symbol, quantity, data.prices[i], value, fee))

    def spend(ts: list[Trade]) -> int:
        out = 0
        for t in ts:
            if t.quantity > 0:
                out += -(-t.value * (BPS + data.buy_buffer_bps) // BPS) + t.fee
            else:
                out += -t.value + t.fee
        return out

    while trades and spend(trades) > cash:
        biggest = max((t for t in trades if t.quantity > 0), key=lambda t: t.value, default=None)
        if biggest is None:
            break
        trades.remove(biggest)
    fees = sum(t.fee for t in trades)
    after_values = list(values)
    for t in trades:
        after_values[data.symbols.index(t.symbol)] += t.quantity * t.price
    cash_after = cash - sum(t.quantity * t.price for t in trades) - fees
    total_after = sum(after_values) + cash_after
    return RebalancePlan(
        trades=trades,
        cash_after=cash_after,
        weights_before=weights_bps(values, total),
        weights_after=weights_bps(after_values, total_after),
        inside_bands=_inside(after_values, total_after, data.targets, data.band_bps),
        drifted=drifted,
        turnover=sum(t.value for t in trades),
        fees=fees,
    )

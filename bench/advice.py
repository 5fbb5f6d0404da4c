"""Benchmark: how long a recommendation takes for 20 and for 50 assets, per objective, and a
rebalancing plan for the same numbers of assets.

A recommendation is what ``POST /api/v1/advisory/recommendations`` computes after reading
prices: skfolio mean-variance (Ledoit-Wolf prior) for the profile's objective plus the
12-point efficient frontier (engine.recommend). Data: the real daily closes of the 20 S&P 500
stocks in skfolio's data set (the catalogue the market replays). 20 assets: 2009-05 → 2012-05
(the three years before the replay starts). 50 assets: the platform has 24 stocks, so the 20
stocks' real returns from three different three-year windows (2003, 2006, 2009) are set side by
side by trading day and the first 50 columns kept — real return series, 756 days each.
Rebalancing: random holdings and targets (seeded) through engine.plan_rebalance (HiGHS MILP).

Run: ``.venv/bin/python bench/advice.py [--repeat 3]``. No services needed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
from skfolio.datasets import load_sp500_dataset  # noqa: E402
from skfolio.preprocessing import prices_to_returns  # noqa: E402

from app.advisory.engine import (  # noqa: E402
    BPS,
    Constraints,
    Objective,
    RebalanceInput,
    plan_rebalance,
    recommend,
)

DAYS = 756


def universe(n: int) -> pd.DataFrame:
    """``n`` columns of real daily returns, ``DAYS`` rows (see the module docstring)."""
    prices = load_sp500_dataset()
    if n <= prices.shape[1]:
        window = prices.loc["2009-05-18":"2012-05-17"].iloc[:, :n]
        out = prices_to_returns(window)
        assert isinstance(out, pd.DataFrame)
        return out.iloc[:DAYS]
    blocks = []
    for start in ("2003-01-02", "2006-01-03", "2009-01-02"):
        block = prices_to_returns(prices.loc[start:].iloc[: DAYS + 1])
        assert isinstance(block, pd.DataFrame)
        block = block.iloc[:DAYS].reset_index(drop=True)
        block.columns = [f"{c}@{start[:4]}" for c in block.columns]
        blocks.append(block)
    frame = pd.concat(blocks, axis=1).iloc[:, :n]
    frame.index = pd.bdate_range("2020-01-01", periods=DAYS)
    return frame


def timed(fn: object, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'assets':>6} {'what':<28} {'median s':>9} {'min s':>7} {'max s':>7}")
    for n in (20, 50):
        returns = universe(n)
        max_weight = max(0.25, 1.5 / n)
        for objective in Objective:

            def run(o: Objective = objective, x: pd.DataFrame = returns,
                    w: float = max_weight) -> None:  # fmt: skip
                recommend(x, o, Constraints(0.0, w))

            times = timed(run, args.repeat)
            print(f"{n:>6} {'recommend ' + objective.value:<28} {statistics.median(times):>9.3f}"
                  f" {min(times):>7.3f} {max(times):>7.3f}")  # fmt: skip
        rng = random.Random(n)
        cuts = sorted(rng.randint(0, BPS) for _ in range(n - 1))
        data = RebalanceInput(
            symbols=[f"S{i}" for i in range(n)],
            prices=[rng.randint(1_000, 60_000) for _ in range(n)],
            holdings=[rng.randint(0, 500) for _ in range(n)],
            targets=[b - a for a, b in zip([0, *cuts], [*cuts, BPS], strict=True)],
            cash=rng.randint(0, 5_000_000), min_trade=5_000, fee_bps=10, fee_min=100,
            buy_buffer_bps=505,
        )  # fmt: skip
        times = timed(lambda d=data: plan_rebalance(d), args.repeat)
        print(f"{n:>6} {'rebalance (MILP)':<28} {statistics.median(times):>9.3f}"
              f" {min(times):>7.3f} {max(times):>7.3f}")  # fmt: skip


if __name__ == "__main__":
    main()

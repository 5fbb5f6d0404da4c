"""Recommendations on the real replayed history: the stored result equals skfolio called
directly with the stored inputs, and its volatility, Sharpe and drawdown equal numpy's."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest
from skfolio import RiskMeasure
from skfolio.moments import LedoitWolf
from skfolio.optimization import MeanRisk, ObjectiveFunction
from skfolio.preprocessing import prices_to_returns
from skfolio.prior import EmpiricalPrior

from app.advisory.errors import InsufficientHistory, NoRiskProfile
from app.advisory.schemas import RecommendationIn
from app.advisory.service import advisory_service
from app.extensions import Services
from app.market.dataset import load_catalogue
from tests.advisory.factories import BOLD, CAUTIOUS, MODERATE, profiled
from tests.clubs.factories import new_user


def real_returns(symbols: list[str], start: str, end: str) -> pd.DataFrame:
    """Daily returns straight from the installed data sets (not through the platform)."""
    catalogue = load_catalogue()
    prices = pd.DataFrame({
        s: pd.Series({pd.Timestamp(b.date): b.close / 100 for b in catalogue[s].bars
                      if start <= b.date.isoformat() <= end})
        for s in symbols
    }).sort_index().dropna()  # fmt: skip
    out = prices_to_returns(prices)
    assert isinstance(out, pd.DataFrame)
    return out


@pytest.mark.parametrize(
    ("answers", "objective", "function"),
    [(CAUTIOUS, "min_volatility", ObjectiveFunction.MINIMIZE_RISK),
     (MODERATE, "max_sharpe", ObjectiveFunction.MAXIMIZE_RATIO),
     (BOLD, "target_return", ObjectiveFunction.MINIMIZE_RISK)],
)  # fmt: skip
async def test_recommendation_equals_the_library_and_numpy(
    services: Services, answers: dict[str, str], objective: str, function: ObjectiveFunction
) -> None:
    user = await profiled(answers)
    rec = await advisory_service.do_recommend(user, RecommendationIn(), services.require_redis())
    inputs = rec.inputs
    assert rec.objective == objective and inputs["objective"] == objective
    assert inputs["estimator"].startswith("EmpiricalPrior") and "LedoitWolf" in inputs["estimator"]
    assert rec.versions["skfolio"] == "1.12.2"
    # The default universe: every stock with the whole 3-year window before the replay starts.
    assert len(rec.symbols) >= 20 and "FB" not in rec.symbols and "SP500" not in rec.symbols
    returns = real_returns(rec.symbols, inputs["prices_start"], inputs["end"])
    assert returns.shape[0] == inputs["observations"]

    min_return = None if inputs["target_return"] is None else inputs["target_return"] / 252
    model = MeanRisk(
        objective_function=function, risk_measure=RiskMeasure.VARIANCE,
        prior_estimator=EmpiricalPrior(covariance_estimator=LedoitWolf()),
        min_weights=inputs["min_weight"], max_weights=inputs["max_weight"], min_return=min_return,
    ).fit(returns)  # fmt: skip
    np.testing.assert_allclose(rec.weights, model.weights_, atol=1e-6)
    assert sum(rec.weights_bps) == 10_000
    assert max(rec.weights) <= inputs["max_weight"] + 1e-6

    # Figures against numpy: annualised (252 days), risk-free 0, uncompounded drawdown.
    daily = returns.to_numpy() @ np.asarray(rec.weights)
    vol = daily.std(ddof=1) * np.sqrt(252)
    assert rec.figures["volatility"] == pytest.approx(vol, rel=1e-9)
    assert rec.figures["annual_return"] == pytest.approx(daily.mean() * 252, rel=1e-9)
    assert rec.figures["sharpe"] == pytest.approx(daily.mean() * 252 / vol, rel=1e-9)
    wealth = np.concatenate([[0.0], np.cumsum(daily)])
    drawdown = np.max(np.maximum.accumulate(wealth) - wealth)
    assert rec.figures["max_drawdown"] == pytest.approx(drawdown, rel=1e-9)
    # The frontier: sorted by risk, the cheapest point is at most the chosen mix's volatility
    # (the chosen mix is efficient), and returns rise along it.
    frontier = rec.frontier
    assert len(frontier) >= 10
    assert frontier[0][0] <= rec.figures["volatility"] * (1 + 1e-3)  # solver tolerance
    assert all(b[1] >= a[1] - 1e-4 for a, b in itertools.pairwise(frontier))
    if objective == "min_volatility":
        assert rec.figures["volatility"] == pytest.approx(frontier[0][0], rel=1e-3)


async def test_profiles_pick_riskier_mixes(services: Services) -> None:
    redis = services.require_redis()
    figures = {}
    for name, answers in (("low", CAUTIOUS), ("mid", MODERATE), ("high", BOLD)):
        user = await profiled(answers)
        rec = await advisory_service.do_recommend(user, RecommendationIn(), redis)
        figures[name] = rec.figures
        assert rec.strategy == {"low": "income", "mid": "balanced", "high": "growth"}[name]
    assert figures["low"]["volatility"] < figures["high"]["volatility"]
    # Moderate maximises Sharpe over a set of mixes that contains the conservative one.
    assert figures["mid"]["sharpe"] >= figures["low"]["sharpe"] - 1e-6
    assert figures["high"]["annual_return"] > figures["mid"]["annual_return"] * 0.9


async def test_chosen_symbols_and_bad_requests_change_nothing(services: Services) -> None:
    redis = services.require_redis()
    with pytest.raises(NoRiskProfile):
        await advisory_service.do_recommend(new_user(), RecommendationIn(), redis)
    user = await profiled()
    rec = await advisory_service.do_recommend(
        user, RecommendationIn(symbols=["ko", "PEP", "JNJ", "PG", "WMT"], end=dt.date(2010, 12, 31),
                               years=2), redis)  # fmt: skip
    assert rec.symbols == ["KO", "PEP", "JNJ", "PG", "WMT"]
    assert rec.inputs["end"] <= "2010-12-31" and rec.inputs["start"] >= "2008-12-31"
    before = len(await advisory_service.my_recommendations(user))
    with pytest.raises(InsufficientHistory):  # FB has no history before 2012
        await advisory_service.do_recommend(
            user, RecommendationIn(symbols=["FB", "KO"], end=dt.date(2010, 12, 31)), redis
        )
    assert len(await advisory_service.my_recommendations(user)) == before

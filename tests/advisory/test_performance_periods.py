"""Performance over a chosen period (issue #17): 1M, 3M, 6M, 1Y or since the start of the
mix's history, ending the day before the replay starts. The figures of one period are checked
against numpy on the dataset's own closes (not the service's loading of them); a bad period
answers 422 ``unknown_period`` over HTTP and changes nothing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from app.advisory import repository
from app.advisory.errors import UnknownPeriod
from app.advisory.schemas import AccountCreate
from app.advisory.service import PERIODS, advisory_service
from app.config import get_settings
from app.extensions import Services
from app.market.dataset import load_catalogue
from tests.clubs.factories import new_user
from tests.identity.conftest import Api
from tests.rooms.conftest import person

TARGETS = {"KO": 6000, "PEP": 2500, "JNJ": 1500}
DAYS = 252


def numpy_figures(start: dt.date, end: dt.date) -> dict[str, float]:
    """The mix's figures from the raw dataset with numpy: daily linear returns on the days
    every symbol and the S&P 500 traded, rebalanced daily to the target weights."""
    catalogue = load_catalogue()
    symbols = sorted(TARGETS)
    closes = {
        s: {b.date: b.close for b in catalogue[s].bars if start <= b.date <= end}
        for s in [*symbols, "SP500"]
    }
    days = sorted(set.intersection(*(set(c) for c in closes.values())))
    prices = np.array([[closes[s][d] for s in [*symbols, "SP500"]] for d in days], dtype=float)
    returns = prices[1:] / prices[:-1] - 1
    weights = np.array([TARGETS[s] / 10_000 for s in symbols])
    mix, bench = returns[:, :-1] @ weights, returns[:, -1]
    vol = mix.std(ddof=1) * np.sqrt(DAYS)
    below = np.maximum(0, mix.mean() - mix)
    semi = np.sqrt((below**2).mean() * len(mix) / (len(mix) - 1))
    wealth = np.concatenate([[0.0], np.cumsum(mix)])
    return {
        "first": days[1].toordinal(), "last": days[-1].toordinal(),
        "twr": float(np.prod(1 + mix) - 1), "bench_twr": float(np.prod(1 + bench) - 1),
        "annual_return": mix.mean() * DAYS, "volatility": vol,
        "sharpe": mix.mean() * DAYS / vol, "sortino": mix.mean() / semi * np.sqrt(DAYS),
        "max_drawdown": float(np.max(np.maximum.accumulate(wealth) - wealth)),
        "beta": float(np.cov(mix, bench, ddof=1)[0, 1] / bench.var(ddof=1)),
    }  # fmt: skip


async def test_a_period_s_figures_equal_numpy(services: Services) -> None:
    user = new_user()
    account = await advisory_service.do_open_account(user, AccountCreate(name="Periods"))
    await repository.update_account(account.account_id, {"targets": TARGETS})
    redis = services.require_redis()
    end = get_settings().replay_start - dt.timedelta(days=1)
    start = (pd.Timestamp(end) - pd.DateOffset(months=6)).date()

    p = await advisory_service.performance(account.account_id, user, redis, None, None,
                                           "SP500", "6M")  # fmt: skip
    want = numpy_figures(start, end)
    assert p["period"] == "6M"
    assert dt.date.fromisoformat(str(p["start"])).toordinal() == want["first"]
    assert dt.date.fromisoformat(str(p["end"])).toordinal() == want["last"]
    figures = p["figures"]
    for name in ("annual_return", "volatility", "sharpe", "sortino", "max_drawdown"):
        assert getattr(figures, name) == pytest.approx(want[name], rel=1e-9), name
    assert p["twr"] == pytest.approx(want["twr"], rel=1e-9)
    assert p["benchmark_twr"] == pytest.approx(want["bench_twr"], rel=1e-9)
    assert p["beta"] == pytest.approx(want["beta"], rel=1e-9)

    # Each period is its own window: a month is shorter than a year, and "start" reaches back
    # to the first day all four have history.
    spans = {}
    for period in PERIODS:
        got = await advisory_service.performance(account.account_id, user, redis, None, None,
                                                 "SP500", period)  # fmt: skip
        spans[period] = dt.date.fromisoformat(str(got["start"]))
    assert spans["1M"] > spans["3M"] > spans["6M"] > spans["1Y"] > spans["start"]
    assert (end - spans["1M"]).days <= 31 and (end - spans["1Y"]).days <= 366
    catalogue = load_catalogue()
    first_common = max(catalogue[s].bars[0].date for s in [*TARGETS, "SP500"])
    assert spans["start"] <= first_common + dt.timedelta(days=7)

    with pytest.raises(UnknownPeriod):
        await advisory_service.performance(account.account_id, user, redis, None, None,
                                           "SP500", "2W")  # fmt: skip


async def test_a_bad_period_is_a_422_with_its_own_code(http: Api) -> None:
    me = await person("periods")
    opened = await http.call("POST", "/api/v1/portfolios", token=me.token, json={"name": "Mine"})
    aid = opened.body["account_id"]
    await repository.update_account(aid, {"targets": {"KO": 5000, "PEP": 5000}})
    url = f"/api/v1/portfolios/{aid}/performance"
    for query in ("?period=2W", "?period=1m", "?period=1Y&start=2011-01-01"):
        reply = await http.call("GET", url + query, token=me.token)
        assert reply.status == 422, (query, reply.body)
        assert reply.body["error"]["code"] == "unknown_period"
        assert reply.body["error"]["details"]["allowed"] == list(PERIODS)
    # Ends far in the past or future: a 422 with its own code, never a 500.
    for query, code in (("?period=1M&end=0001-01-15", "invalid_period"),
                        ("?period=1Y&end=9999-12-31", "insufficient_history"),
                        ("?period=start&end=1980-01-01", "invalid_period")):  # fmt: skip
        reply = await http.call("GET", url + query, token=me.token)
        assert reply.status == 422 and reply.body["error"]["code"] == code, (query, reply.body)
    month = await http.call("GET", url + "?period=1M", token=me.token)
    assert month.status == 200, month.body
    assert month.body["period"] == "1M" and month.body["portfolio"]["sharpe"] is not None
    assert month.body["start"] >= "2012-04-17" and month.body["end"] <= "2012-05-17"

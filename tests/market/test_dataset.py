"""The real price catalogue read from the installed data packages."""

from __future__ import annotations

import datetime as dt
import itertools

from app.market.dataset import (
    BOKEH_SOURCE,
    INDEX_SYMBOL,
    SKFOLIO_INDEX_SOURCE,
    SKFOLIO_STOCKS_SOURCE,
    load_catalogue,
)


def test_catalogue_holds_every_series_with_its_source() -> None:
    catalogue = load_catalogue()
    assert len(catalogue) == 28
    assert {"AAPL", "GOOG", "IBM", "MSFT", "FB"} <= set(catalogue)
    for symbol in ("AAPL", "GOOG", "IBM", "MSFT", "FB"):
        assert catalogue[symbol].source == BOKEH_SOURCE  # real OHLCV wins over closes only
    assert catalogue["XOM"].source == SKFOLIO_STOCKS_SOURCE
    index = catalogue[INDEX_SYMBOL]
    assert index.is_index and index.source == SKFOLIO_INDEX_SOURCE
    nse = {"HDFCBANK", "INFY", "RELIANCE", "TCS"}
    assert all(series.currency == "USD" for s, series in catalogue.items() if s not in nse)
    # The NSE series are synthetic (no registry package ships Indian prices) and say so.
    for symbol in nse:
        assert catalogue[symbol].currency == "INR" and "synthetic" in catalogue[symbol].source
    assert catalogue["INFY"].bars[0].date == dt.date(2012, 5, 18)
    assert catalogue["INFY"].bars[0].close == 247_758  # seeded: the same on every machine


def test_bars_carry_the_real_prices_in_cents() -> None:
    catalogue = load_catalogue()
    fb_first = catalogue["FB"].bars[0]
    # Facebook's listing day, 2012-05-18: open 42.05, high 45.00, low 38.00, close 38.2318
    assert fb_first.date == dt.date(2012, 5, 18)
    assert (fb_first.open, fb_first.high, fb_first.low, fb_first.close) == (4205, 4500, 3800, 3823)
    assert fb_first.volume == 573576400
    aapl_last = catalogue["AAPL"].bars[-1]
    assert aapl_last.date == dt.date(2013, 3, 1) and aapl_last.close == 43047
    sp_first = index_first = catalogue[INDEX_SYMBOL].bars[0]
    assert index_first.date == dt.date(1990, 1, 2) and sp_first.close == 35969
    assert sp_first.volume is None


def test_close_only_series_open_at_the_previous_close() -> None:
    bars = load_catalogue()["XOM"].bars
    for previous, bar in itertools.pairwise(bars):
        assert bar.open == previous.close
        assert bar.high == max(bar.open, bar.close) and bar.low == min(bar.open, bar.close)


def test_every_bar_is_consistent_and_ordered() -> None:
    for series in load_catalogue().values():
        dates = [bar.date for bar in series.bars]
        assert dates == sorted(dates) and len(set(dates)) == len(dates), series.symbol
        for bar in series.bars:
            assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high


def test_previous_close_and_window() -> None:
    fb = load_catalogue()["FB"]
    assert fb.previous_close(dt.date(2012, 5, 18)) is None
    assert fb.previous_close(dt.date(2012, 5, 21)) == 3823
    window = fb.between(dt.date(2012, 5, 18), dt.date(2012, 5, 25))
    assert [bar.date.day for bar in window] == [18, 21, 22, 23, 24, 25]

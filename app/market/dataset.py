"""The real daily price history that the embedded market feed replays.

Two public data sets that ship inside registry packages (read from the installed package, never
downloaded at run time):

* ``bokeh-sampledata`` (BSD-3-Clause) ``_data/stocks.csv.gz``: daily open, high, low, close and
  volume of AAPL, GOOG, IBM, MSFT and FB, 2000-03-01 → 2013-03-01 (FB from its 2012-05-18
  listing). Prices as traded that day (not split-adjusted).
* ``skfolio`` (BSD-3-Clause) ``datasets/data/sp500_dataset.csv.gz`` and ``sp500_index.csv.gz``:
  daily adjusted closes of 20 S&P 500 stocks and of the S&P 500 index, 1990-01-02 → 2022-12-28.
  Close only: a day's open is the previous close and its high/low the extremes of the two, and
  volume is unknown (``None``).

AAPL and MSFT are in both; the bokeh series (with real OHLCV) is used for them. Prices are
converted to integer cents, rounded half-even (app/money.py).

NSE instruments (INFY, TCS, RELIANCE, HDFCBANK, quoted in INR paise) are **synthetic**: no
registry package ships Indian price history, so each is a seeded random walk over the weekdays
of the default replay window (2012-05-18 → 2013-03-01), made the same on every machine. They
exist so an INR club can try trading through Kite Connect against the broker sandbox; their
prices are not real and their ``source`` says so. They start inside that window, so robo-advice
(which needs whole years of history) never picks them.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import importlib.util
import random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from app.money import decimal_to_minor

BOKEH_SOURCE = "bokeh-sampledata 2026.1, _data/stocks.csv.gz (BSD-3-Clause): daily OHLCV as traded"
SKFOLIO_STOCKS_SOURCE = (
    "skfolio 1.12.2, datasets/data/sp500_dataset.csv.gz (BSD-3-Clause): daily adjusted closes"
)
SKFOLIO_INDEX_SOURCE = (
    "skfolio 1.12.2, datasets/data/sp500_index.csv.gz (BSD-3-Clause): daily index closes"
)

INDEX_SYMBOL = "SP500"

NAMES: dict[str, str] = {
    "AAPL": "Apple Inc.",
    "AMD": "Advanced Micro Devices, Inc.",
    "BAC": "Bank of America Corporation",
    "BBY": "Best Buy Co., Inc.",
    "CVX": "Chevron Corporation",
    "FB": "Facebook, Inc.",
    "GE": "General Electric Company",
    "GOOG": "Google Inc.",
    "HD": "The Home Depot, Inc.",
    "IBM": "International Business Machines Corporation",
    "JNJ": "Johnson & Johnson",
    "JPM": "JPMorgan Chase & Co.",
    "KO": "The Coca-Cola Company",
    "LLY": "Eli Lilly and Company",
    "MRK": "Merck & Co., Inc.",
    "MSFT": "Microsoft Corporation",
    "PEP": "PepsiCo, Inc.",
    "PFE": "Pfizer Inc.",
    "PG": "The Procter & Gamble Company",
    "RRC": "Range Resources Corporation",
    "UNH": "UnitedHealth Group Incorporated",
    "WMT": "Walmart Inc.",
    "XOM": "Exxon Mobil Corporation",
    INDEX_SYMBOL: "S&P 500 Index",
}

SYNTHETIC_NSE_SOURCE = (
    "synthetic (sandbox only): a seeded random walk in INR, not real prices (app/market/dataset.py)"
)

NSE_SYNTHETIC: dict[str, tuple[str, int]] = {
    "HDFCBANK": ("HDFC Bank Limited (NSE, synthetic prices)", 55_000),
    "INFY": ("Infosys Limited (NSE, synthetic prices)", 245_000),
    "RELIANCE": ("Reliance Industries Limited (NSE, synthetic prices)", 71_000),
    "TCS": ("Tata Consultancy Services Limited (NSE, synthetic prices)", 122_000),
}
"""Symbol → (name, first open in paise) of the synthetic NSE series."""

NSE_FIRST_DAY, NSE_LAST_DAY = dt.date(2012, 5, 18), dt.date(2013, 3, 1)


@dataclass(frozen=True, slots=True)
class DailyBar:
    """One trading day. Prices in integer minor units (cents); ``volume`` in shares or ``None``."""

    date: dt.date
    open: int
    high: int
    low: int
    close: int
    volume: int | None


@dataclass(slots=True)
class Series:
    """The daily history of one symbol, oldest first, with where it came from."""

    symbol: str
    name: str
    currency: str
    source: str
    is_index: bool = False
    bars: list[DailyBar] = field(default_factory=list)

    def between(self, start: dt.date, end: dt.date) -> list[DailyBar]:
        """Bars with ``start <= date <= end``, oldest first."""
        return [bar for bar in self.bars if start <= bar.date <= end]

    def previous_close(self, day: dt.date) -> int | None:
        """Close of the last bar strictly before ``day`` (cents), or ``None`` if there is none."""
        prior = None
        for bar in self.bars:
            if bar.date >= day:
                break
            prior = bar.close
        return prior


def _package_dir(package: str) -> Path:
    # find_spec locates the package without importing it (skfolio's import pulls in
    # scikit-learn and takes over a second).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the data package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _read_gz_csv(package: str, *parts: str) -> list[list[str]]:
    with gzip.open(_package_dir(package).joinpath(*parts), mode="rt", newline="") as handle:
        return list(csv.reader(handle))


def _load_bokeh() -> dict[str, Series]:
    rows = _read_gz_csv("bokeh_sampledata", "_data", "stocks.csv.gz")
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    out: dict[str, Series] = {}
    for row in body:
        symbol = row[col["Ticker"]]
        series = out.setdefault(
            symbol, Series(symbol, NAMES.get(symbol, symbol), "USD", BOKEH_SOURCE)
        )
        high = decimal_to_minor(row[col["High"]])
        low = decimal_to_minor(row[col["Low"]])
        open_ = decimal_to_minor(row[col["Open"]])
        close = decimal_to_minor(row[col["Close"]])
        # The file has a few days whose close sits outside [low, high] by a rounding hair.
        series.bars.append(
            DailyBar(
                date=dt.date.fromisoformat(row[col["Date"]]),
                open=open_,
                high=max(high, open_, close),
                low=min(low, open_, close),
                close=close,
                volume=int(row[col["Volume"]]),
            )
        )
    for series in out.values():
        series.bars.sort(key=lambda bar: bar.date)
    return out


def _closes_to_bars(dates: list[dt.date], closes: list[int | None]) -> list[DailyBar]:
    bars: list[DailyBar] = []
    previous: int | None = None
    for day, close in zip(dates, closes, strict=True):
        if close is None:
            continue
        open_ = previous if previous is not None else close
        bars.append(DailyBar(day, open_, max(open_, close), min(open_, close), close, None))
        previous = close
    return bars


def _load_skfolio(filename: str, source: str, is_index: bool) -> dict[str, Series]:
    rows = _read_gz_csv("skfolio", "datasets", "data", filename)
    header, body = rows[0], rows[1:]
    dates = [dt.date.fromisoformat(row[0]) for row in body]
    out: dict[str, Series] = {}
    for index, symbol in enumerate(header[1:], start=1):
        closes = [decimal_to_minor(row[index]) if row[index] else None for row in body]
        out[symbol] = Series(
            symbol=symbol,
            name=NAMES.get(symbol, symbol),
            currency="USD",
            source=source,
            is_index=is_index,
            bars=_closes_to_bars(dates, closes),
        )
    return out


def synthetic_nse_series(symbol: str) -> Series:
    """The synthetic INR history of an NSE symbol (``NSE_SYNTHETIC``): every weekday from
    ``NSE_FIRST_DAY`` to ``NSE_LAST_DAY``; each day's close moves from the open by a normal
    step (σ 1.4 %), the open gaps from the previous close by up to 0.3 %, high and low reach
    up to 0.8 % beyond, volume 0.5–5 million shares. Seeded by the symbol, so the same on
    every machine. Prices in paise."""
    name, first = NSE_SYNTHETIC[symbol]
    rng = random.Random(f"samooh-nse-{symbol}")
    bars: list[DailyBar] = []
    close = first
    day = NSE_FIRST_DAY
    while day <= NSE_LAST_DAY:
        if day.weekday() < 5:
            open_ = max(round(close * (1 + rng.uniform(-0.003, 0.003))), 100)
            close = max(round(open_ * (1 + rng.gauss(0.0, 0.014))), 100)
            high = round(max(open_, close) * (1 + rng.uniform(0.0, 0.008)))
            low = round(min(open_, close) * (1 - rng.uniform(0.0, 0.008)))
            volume = rng.randrange(500_000, 5_000_000)
            bars.append(DailyBar(day, open_, high, low, close, volume))
        day += dt.timedelta(days=1)
    return Series(symbol, name, "INR", SYNTHETIC_NSE_SOURCE, bars=bars)


@lru_cache(maxsize=1)
def load_catalogue() -> dict[str, Series]:
    """Every replayable series by symbol (24 US stocks, the S&P 500 index, and the synthetic
    NSE stocks in INR).

    Reads ~9 MB of compressed CSV from the installed packages on first call (about a second),
    then stays cached for the life of the process.
    """
    catalogue = _load_skfolio("sp500_dataset.csv.gz", SKFOLIO_STOCKS_SOURCE, is_index=False)
    catalogue.update(_load_skfolio("sp500_index.csv.gz", SKFOLIO_INDEX_SOURCE, is_index=True))
    catalogue.update(_load_bokeh())  # real OHLCV wins for AAPL and MSFT
    catalogue.update({symbol: synthetic_nse_series(symbol) for symbol in NSE_SYNTHETIC})
    return dict(sorted(catalogue.items()))

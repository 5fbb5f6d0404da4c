"""Stored shapes of the market domain."""

from __future__ import annotations

from beanie import Document
from pymongo import ASCENDING, IndexModel


class Instrument(Document):
    """A symbol the platform knows, with the data set its prices come from."""

    symbol: str
    name: str
    currency: str
    is_index: bool = False
    source: str
    first_date: str  # ISO date of the first bar
    last_date: str  # ISO date of the last bar

    class Settings:
        name = "instruments"
        indexes = [IndexModel([("symbol", ASCENDING)], unique=True, name="symbol_unique")]


class CandleYear(Document):
    """One symbol's daily candles of one calendar year, as parallel arrays (the bucket pattern:
    ~600 documents hold 190,000 candles, so loading and range reads stay fast).

    Prices in minor units (cents); ``volume`` entries are ``None`` where the source has none.
    """

    symbol: str
    year: int
    dates: list[str]  # ISO dates, ascending
    open: list[int]
    high: list[int]
    low: list[int]
    close: list[int]
    volume: list[int | None]
    source: str

    class Settings:
        name = "candle_years"
        indexes = [
            IndexModel([("symbol", ASCENDING), ("year", ASCENDING)], unique=True,
                       name="symbol_year_unique"),
        ]  # fmt: skip

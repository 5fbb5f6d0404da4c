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

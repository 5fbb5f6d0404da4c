"""Versioned event records carried on Kafka. A breaking change is a new record (``…V2``) and a
new topic version, never an edit of a published one. Money fields are integer minor units."""

from __future__ import annotations

import faust


class MarketTickV1(faust.Record, serializer="json", namespace="samooh.market.tick.v1"):
    """One price observation of one symbol.

    Fields:
        id: unique and stable for the observation (``<symbol>:<seq>``) so consumers de-duplicate.
        seq: strictly increasing per symbol (microseconds since the epoch at emission); a
            consumer keeps the highest and ignores anything older (out-of-order or re-delivered).
        ts: emission time, ISO-8601 UTC.
        symbol: ticker, upper case.
        price, open, high, low, prev_close: integer minor units (cents/paise) of ``currency``.
        volume: shares traded so far that day, or ``None`` when the source has no volume.
        trade_date: the trading day being replayed (ISO date) — the real date of the prices.
        source: which data set and licence the series comes from.
    """

    id: str
    seq: int
    ts: str
    symbol: str
    price: int
    open: int
    high: int
    low: int
    prev_close: int
    volume: int | None
    currency: str
    trade_date: str
    source: str

"""Market payloads seen by clients (HTTP and Socket.IO). Prices are decimal strings."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, field_validator

from app.money import change_basis_points, format_basis_points, format_minor
from app.realtime.contract import ServerEvent
from streams.records import MarketTickV1

MAX_SUBSCRIBE_SYMBOLS = 50
MAX_HISTORY_DAYS = 366 * 5


class QuoteTick(BaseModel):
    """``quote:tick``: the latest quote of one symbol.

    ``price``, ``open``, ``high``, ``low``, ``prev_close``: two-place decimal strings in
    ``currency``; ``change_pct``: percent change from ``prev_close``, two places; ``volume``:
    shares so far that day or ``null``; ``ts``: emission time (ISO-8601 UTC); ``trade_date``: the
    real trading day the prices come from.
    """

    id: str
    ts: str
    symbol: str
    price: str
    open: str
    high: str
    low: str
    prev_close: str
    volume: int | None
    change_pct: str
    currency: str
    trade_date: str
    source: str

    @classmethod
    def from_tick(cls, tick: MarketTickV1) -> QuoteTick:
        """Render a tick record (integer minor units) as a client payload."""
        return cls(
            id=tick.id,
            ts=tick.ts,
            symbol=tick.symbol,
            price=format_minor(tick.price),
            open=format_minor(tick.open),
            high=format_minor(tick.high),
            low=format_minor(tick.low),
            prev_close=format_minor(tick.prev_close),
            volume=tick.volume,
            change_pct=format_basis_points(change_basis_points(tick.price, tick.prev_close)),
            currency=tick.currency,
            trade_date=tick.trade_date,
            source=tick.source,
        )


def normalise_symbols(symbols: list[str]) -> list[str]:
    """Upper-cased, de-duplicated symbols in the order given (1–16 letters, digits or dots).

    Raises:
        ValueError: for anything that cannot be a symbol (shown shortened, never whole).
    """
    cleaned: list[str] = []
    for symbol in symbols:
        value = symbol.strip().upper()
        if not value or len(value) > 16 or not value.replace(".", "").isalnum():
            raise ValueError(f"not a symbol: {symbol[:20]!r}")
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


class QuoteBatch(ServerEvent):
    """``quote:batch``: the latest quotes of a socket's symbols within one short window, in one
    packet (sockets that subscribed with ``"batch": true``; app/realtime/fanout.py)."""

    quotes: list[QuoteTick]


class QuoteSubscription(BaseModel):
    """``quote:subscribe`` / ``quote:unsubscribe`` payload: ``{"symbols": ["AAPL", …]}``;
    ``"batch": true`` on subscribe: take quotes as ``quote:batch`` (all of a window in one packet)
    instead of one ``quote:tick`` each (app/realtime/fanout.py)."""

    symbols: list[str] = Field(min_length=1, max_length=MAX_SUBSCRIBE_SYMBOLS)
    batch: bool = False

    @field_validator("symbols")
    @classmethod
    def _normalise(cls, symbols: list[str]) -> list[str]:
        return normalise_symbols(symbols)


class InstrumentOut(BaseModel):
    """One tradable instrument or index in the catalogue."""

    symbol: str
    name: str
    currency: str
    is_index: bool
    source: str
    first_date: str
    last_date: str


class InstrumentList(BaseModel):
    """``GET /api/v1/market/symbols``."""

    symbols: list[InstrumentOut]


class Candle(BaseModel):
    """One trading day: prices as two-place decimal strings, ``volume`` in shares or ``null``."""

    date: str
    open: str
    high: str
    low: str
    close: str
    volume: int | None


class HistoryQuery(BaseModel):
    """``?start=YYYY-MM-DD&end=YYYY-MM-DD`` (inclusive; at most ``MAX_HISTORY_DAYS`` apart)."""

    start: dt.date
    end: dt.date


class History(BaseModel):
    """``GET /api/v1/market/history/{symbol}``: daily candles, oldest first."""

    symbol: str
    currency: str
    source: str
    start: str
    end: str
    candles: list[Candle]


class IndexQuote(BaseModel):
    """An index and its latest quote (``null`` before its first tick)."""

    symbol: str
    name: str
    source: str
    quote: QuoteTick | None


class IndexList(BaseModel):
    """``GET /api/v1/market/indices``."""

    indices: list[IndexQuote]

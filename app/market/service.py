"""Market rules: what a tick does (cache, then broadcast) and what the catalogue holds."""

from __future__ import annotations

import datetime as dt

from redis.asyncio import Redis

from app.config import get_settings
from app.errors import NotFound
from app.extensions import services
from app.market import repository
from app.market.coalesce import QuoteCoalescer
from app.market.dataset import DailyBar, load_catalogue
from app.market.documents import Instrument
from app.market.schemas import QuoteTick
from app.realtime.rooms import club_room, symbol_room
from streams.records import MarketTickV1

QUOTE_TICK_EVENT = "quote:tick"


class UnknownSymbols(NotFound):
    """A subscription named symbols the platform does not have (404, ``unknown_symbol``)."""

    code = "unknown_symbol"


class NoQuoteYet(NotFound):
    """The symbol exists but has not ticked since the cache was last emptied (404, ``no_quote``)."""

    code = "no_quote"


class MarketService:
    """Quotes and instruments. Keeps per process only the quote coalescer."""

    def __init__(self) -> None:
        self._sink: QuoteCoalescer | None = None
        self._quotes: tuple[Redis, repository.QuoteCache] | None = None

    def _quotes_out(self) -> QuoteCoalescer:
        # One coalescer per process, created inside the running loop on first use.
        if self._sink is None:
            self._sink = QuoteCoalescer(QUOTE_TICK_EVENT, get_settings().quote_coalesce_ms)
            self._sink.start()
        return self._sink

    async def do_close(self) -> None:
        """Send what the coalescer still holds and stop it (a worker shutting down)."""
        if self._sink is not None:
            await self._sink.stop()
            self._sink = None

    async def do_record_tick(self, tick: MarketTickV1) -> list[str] | None:
        """Cache the tick as the symbol's latest quote and send ``quote:tick`` to the symbol's
        room and to the rooms of the clubs watching or holding it, coalesced per room and
        symbol (quotes are state: the latest in each window wins).

        A tick older than (or equal to) the cached one is dropped and not sent, so Kafka's
        re-deliveries never reach clients twice: returns None. A new tick returns the ids of
        the clubs watching or holding the symbol, read with the store in one Redis step, so a
        club that has just started watching or holding it gets this very tick (a cache of the
        watcher sets once missed the last tick of a burst for a club that had just bought).
        """
        return (await self.do_record_ticks([tick]))[0]

    async def do_record_ticks(self, ticks: list[MarketTickV1]) -> list[list[str] | None]:
        """``do_record_tick`` for each of ``ticks`` in order, with one Redis step for all of
        them (the tick agent takes ticks in batches): one answer per tick, in the same order.
        Raises what Redis raises (nothing is sent then)."""
        quotes = [QuoteTick.from_tick(tick) for tick in ticks]
        answers = await self._cache().store_many_if_newer(
            [(quote, tick.seq) for quote, tick in zip(quotes, ticks, strict=True)]
        )
        sink = self._quotes_out()
        for quote, clubs in zip(quotes, answers, strict=True):
            if clubs is not None:
                rooms = [symbol_room(quote.symbol), *(club_room(c) for c in clubs)]
                await sink.offer(rooms, quote.symbol, quote.model_dump())
        return answers

    def _cache(self) -> repository.QuoteCache:
        redis = services.require_redis()
        if self._quotes is None or self._quotes[0] is not redis:
            self._quotes = (redis, repository.QuoteCache(redis))
        return self._quotes[1]

    async def do_sync_club_symbols(self, club_id: str, symbols: set[str], source: str) -> None:
        """Make ``symbols`` the club's ``source`` set (``watchlist`` — kept by the clubs — or
        ``holdings`` — kept by the books); the club's room receives quotes for the union of
        both. Idempotent; call it after the change committed."""
        await repository.set_club_source_symbols(
            services.require_redis(), club_id, source, {s.upper() for s in symbols}
        )

    async def latest_quotes(self, redis: Redis, symbols: list[str]) -> list[QuoteTick]:
        """Cached latest quotes of ``symbols`` (those that have one)."""
        return await repository.QuoteCache(redis).latest(symbols)

    async def close_on_or_before(self, symbol: str, day: dt.date) -> int | None:
        """The last daily close of ``symbol`` on or before ``day`` (minor units), from the
        stored candles of that year and the one before; None when there is none."""
        best: int | None = None
        for bucket in await repository.candle_years(symbol, day.year - 1, day.year):
            for i, date in enumerate(bucket.dates):
                if date <= day.isoformat():
                    best = bucket.close[i]
        return best

    async def check_symbols(self, symbols: list[str]) -> list[str]:
        """Return ``symbols`` if all exist. Raises ``UnknownSymbols`` listing the others."""
        known = await repository.known_symbols(symbols)
        unknown = [s for s in symbols if s not in known]
        if unknown:
            raise UnknownSymbols(
                f"unknown symbols: {', '.join(unknown)}", details={"symbols": unknown}
            )
        return symbols

    async def list_instruments(self) -> list[Instrument]:
        """Every instrument, by symbol."""
        return await repository.list_instruments()

    async def do_load_candles(self) -> int:
        """Store the catalogue's daily candles in yearly buckets (``CandleYear``); idempotent.

        Returns the number of buckets inserted or changed (≈600 for the whole catalogue).
        """
        rows = []
        for series in load_catalogue().values():
            by_year: dict[int, list[DailyBar]] = {}
            for bar in series.bars:
                by_year.setdefault(bar.date.year, []).append(bar)
            for year, bars in by_year.items():
                rows.append({
                    "symbol": series.symbol, "year": year, "source": series.source,
                    "dates": [b.date.isoformat() for b in bars], "open": [b.open for b in bars],
                    "high": [b.high for b in bars], "low": [b.low for b in bars],
                    "close": [b.close for b in bars], "volume": [b.volume for b in bars],
                })  # fmt: skip
        return await repository.upsert_candle_years(rows)

    async def instrument(self, symbol: str) -> Instrument:
        """The catalogue entry of ``symbol``. Raises ``UnknownSymbols``."""
        await self.check_symbols([symbol])
        found = [i for i in await repository.list_instruments() if i.symbol == symbol]
        return found[0]

    async def index_instruments(self) -> list[Instrument]:
        """The catalogue's indices."""
        return await repository.index_instruments()

    async def do_load_instruments(self) -> int:
        """Upsert the replayable catalogue (app/market/dataset.py) into ``instruments``.

        Idempotent; returns the number of instruments inserted or changed.
        """
        rows = [
            {
                "symbol": series.symbol,
                "name": series.name,
                "currency": series.currency,
                "is_index": series.is_index,
                "source": series.source,
                "first_date": series.bars[0].date.isoformat(),
                "last_date": series.bars[-1].date.isoformat(),
            }
            for series in load_catalogue().values()
        ]
        return await repository.upsert_instruments(rows)


market_service = MarketService()

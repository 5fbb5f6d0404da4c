"""Market rules: what a tick does (cache, then broadcast) and what the catalogue holds."""

from __future__ import annotations

from redis.asyncio import Redis

from app.errors import NotFound
from app.market import repository
from app.market.coalesce import QuoteCoalescer
from app.market.dataset import DailyBar, load_catalogue
from app.market.documents import Instrument
from app.market.schemas import QuoteTick
from app.realtime.rooms import symbol_room
from streams.records import MarketTickV1

QUOTE_TICK_EVENT = "quote:tick"


class UnknownSymbols(NotFound):
    """A subscription named symbols the platform does not have (404, ``unknown_symbol``)."""

    code = "unknown_symbol"


class NoQuoteYet(NotFound):
    """The symbol exists but has not ticked since the cache was last emptied (404, ``no_quote``)."""

    code = "no_quote"


class MarketService:
    """Quotes and instruments. Stateless; takes its clients per call."""

    async def do_record_tick(
        self, redis: Redis, sink: QuoteCoalescer, tick: MarketTickV1,
        club_rooms: list[str] | None = None,
    ) -> bool:  # fmt: skip
        """Cache the tick as the symbol's latest quote and send ``quote:tick`` to the symbol's
        room and to ``club_rooms`` (the clubs watching or holding it), coalesced by ``sink``.

        A tick older than (or equal to) the cached one is dropped and not sent, so Kafka's
        re-deliveries never reach clients twice. Returns whether the tick was new.
        """
        quote = QuoteTick.from_tick(tick)
        if not await repository.QuoteCache(redis).store_if_newer(quote, tick.seq):
            return False
        rooms = [symbol_room(tick.symbol), *(club_rooms or [])]
        await sink.offer(rooms, tick.symbol, quote.model_dump())
        return True

    async def watching_clubs(self, redis: Redis, symbol: str) -> list[str]:
        """Ids of the clubs whose watch-list or holdings include ``symbol``."""
        return await repository.watchers(redis, symbol)

    async def do_sync_club_symbols(self, redis: Redis, club_id: str, symbols: set[str]) -> None:
        """Make ``symbols`` the set the club receives quotes for (watch-list ∪ holdings)."""
        await repository.set_club_symbols(redis, club_id, {s.upper() for s in symbols})

    async def latest_quotes(self, redis: Redis, symbols: list[str]) -> list[QuoteTick]:
        """Cached latest quotes of ``symbols`` (those that have one)."""
        return await repository.QuoteCache(redis).latest(symbols)

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

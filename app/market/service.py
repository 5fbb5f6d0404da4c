"""Market rules: what a tick does (cache, then broadcast) and what the catalogue holds."""

from __future__ import annotations

from redis.asyncio import Redis

from app.errors import NotFound
from app.market import repository
from app.market.dataset import load_catalogue
from app.market.documents import Instrument
from app.market.schemas import QuoteTick
from app.realtime.emitter import Emitter
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

    async def do_record_tick(self, redis: Redis, emitter: Emitter, tick: MarketTickV1) -> bool:
        """Cache the tick as the symbol's latest quote and emit ``quote:tick`` to its room.

        A tick older than (or equal to) the cached one is dropped and not emitted, so Kafka's
        re-deliveries never reach clients twice. Returns whether the tick was new.
        """
        quote = QuoteTick.from_tick(tick)
        if not await repository.QuoteCache(redis).store_if_newer(quote, tick.seq):
            return False
        await emitter.emit(QUOTE_TICK_EVENT, quote.model_dump(), room=symbol_room(tick.symbol))
        return True

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

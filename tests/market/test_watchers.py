"""Which clubs a tick reaches, against the real Redis: the quote's store answers with the
symbol's watcher set as it is at that moment, so a club that has just started watching or
holding a symbol gets the very next tick (its quote and its NAV offer), and one that stopped
does not. A re-delivered tick reaches nobody."""

from __future__ import annotations

import time
import uuid

from bson import ObjectId

from app.extensions import Services
from app.market.service import market_service
from streams.records import MarketTickV1


def tick(symbol: str, seq: int, price: int = 12_345) -> MarketTickV1:
    return MarketTickV1(id=f"{symbol}:{seq}", seq=seq, ts="2012-06-12T14:00:00Z", symbol=symbol,
                        price=price, open=price, high=price, low=price, prev_close=price,
                        volume=None, currency="USD", trade_date="2012-06-12",
                        source="test")  # fmt: skip


async def test_a_tick_reaches_exactly_the_clubs_watching_or_holding_it_then(
    services: Services,
) -> None:
    symbol = f"W{uuid.uuid4().hex[:6].upper()}"  # no other test ticks it
    watcher, holder = str(ObjectId()), str(ObjectId())
    seq = time.time_ns() // 1000

    assert await market_service.do_record_tick(tick(symbol, seq)) == []
    # Starts watching: the next tick, right after, reaches it (no cache to wait out).
    await market_service.do_sync_club_symbols(watcher, {symbol.lower()}, "watchlist")
    assert await market_service.do_record_tick(tick(symbol, seq + 1)) == [watcher]
    await market_service.do_sync_club_symbols(holder, {symbol}, "holdings")
    assert await market_service.do_record_tick(tick(symbol, seq + 2)) == sorted([watcher, holder])
    # A re-delivered or older tick is dropped: it reaches nobody and the quote stays.
    assert await market_service.do_record_tick(tick(symbol, seq + 2, price=1)) is None
    assert await market_service.do_record_tick(tick(symbol, seq, price=1)) is None
    quote = (await market_service.latest_quotes(services.require_redis(), [symbol]))[0]
    assert quote.price == "123.45"
    # Stops watching: the next tick no longer reaches it; the holder still gets it.
    await market_service.do_sync_club_symbols(watcher, set(), "watchlist")
    assert await market_service.do_record_tick(tick(symbol, seq + 3)) == [holder]

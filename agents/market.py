"""Market agent: every tick becomes the cached latest quote, sent (coalesced per room and
symbol) as ``quote:tick`` to the symbol's room and to the rooms of the clubs watching it; then
the clubs watching or holding the symbol are offered a NAV update (throttled per club).

The NAV offer follows the quote's store in the same agent on purpose: a NAV computed after the
offer reads a quote at least as new as the tick. (A separate agent on the same topic ran ahead
of this one under load and sent the NAV of the previous price as the last one.)"""

from __future__ import annotations

from typing import Any

from agents.context import worker_context
from app.books.portfolio import nav_ticker
from app.market.service import market_service
from streams.app import app, market_ticks
from streams.records import MarketTickV1


@app.agent(market_ticks)
async def record_ticks(ticks: Any) -> None:
    """Consume market ticks (keyed by symbol): each new one is cached and sent by
    ``market_service``, then offered to ``nav_ticker``."""
    await worker_context()
    tick: MarketTickV1
    try:
        async for tick in ticks:
            clubs = await market_service.do_record_tick(tick)
            if clubs:
                nav_ticker.offer_tick(clubs)
    finally:
        await market_service.do_close()

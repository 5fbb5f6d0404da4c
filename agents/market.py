"""Market agent: every tick becomes the cached latest quote, sent (coalesced per room and
symbol) as ``quote:tick`` to the symbol's room and to the rooms of the clubs watching it."""

from __future__ import annotations

from typing import Any

from agents.context import worker_context
from app.market.service import market_service
from streams.app import app, market_ticks
from streams.records import MarketTickV1


@app.agent(market_ticks)
async def record_ticks(ticks: Any) -> None:
    """Consume market ticks (keyed by symbol) and hand each to ``market_service``."""
    await worker_context()
    tick: MarketTickV1
    try:
        async for tick in ticks:
            await market_service.do_record_tick(tick)
    finally:
        await market_service.do_close()

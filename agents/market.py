"""Market agents: every tick becomes the cached latest quote, sent (coalesced per room and
symbol) as ``quote:tick`` to the symbol's room and to the rooms of the clubs watching it."""

from __future__ import annotations

import time
from typing import Any

from agents.context import worker_context
from app.config import get_settings
from app.market.coalesce import QuoteCoalescer
from app.market.service import QUOTE_TICK_EVENT, market_service
from app.realtime.rooms import club_room
from streams.app import app, market_ticks
from streams.records import MarketTickV1

WATCHERS_TTL_SECONDS = 2.0


@app.agent(market_ticks)
async def record_ticks(ticks: Any) -> None:
    """Consume market ticks (keyed by symbol) and hand each to ``market_service``."""
    context = await worker_context()
    sink = QuoteCoalescer(context.emitter, QUOTE_TICK_EVENT, get_settings().quote_coalesce_ms)  # type: ignore[arg-type]
    sink.start()
    # Which clubs watch a symbol changes rarely: ask Redis at most every couple of seconds.
    watchers: dict[str, tuple[float, list[str]]] = {}
    tick: MarketTickV1
    try:
        async for tick in ticks:
            cached = watchers.get(tick.symbol)
            if cached is None or time.monotonic() - cached[0] > WATCHERS_TTL_SECONDS:
                clubs = await market_service.watching_clubs(context.redis, tick.symbol)
                cached = watchers[tick.symbol] = (time.monotonic(), [club_room(c) for c in clubs])
            await market_service.do_record_tick(context.redis, sink, tick, cached[1])
    finally:
        await sink.stop()

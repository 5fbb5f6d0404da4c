"""The tick agent: the one consumer of the market tick topic. It takes the ticks a batch at a
time (each record decoded once) and hands each batch, in order, to each engine in turn:

1. quotes — every new tick becomes the cached latest quote (one Redis step per batch), sent
   (coalesced per room and symbol) as ``quote:tick`` to the symbol's room and to the rooms of
   the clubs watching it; then those clubs, and the ones holding the symbol, are offered a
   NAV update (throttled per club). The NAV offer follows the quote's store on purpose: a NAV
   computed after the offer reads a quote at least as new as the tick. (A separate agent on
   the same topic ran ahead of the quotes under load and sent the NAV of the previous price.)
2. price alerts (agents/alerts.py);
3. the paper broker's fills (agents/orders.py).

A batch is acknowledged after all three handled it (Kafka's at-least-once holds for each). An
engine that fails on a batch is logged and the others still get it — as when each had an
agent of its own, whose crash and restart lost only its own batch (docs/realtime-bench.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from agents.alerts import alert_ticks
from agents.context import TICK_BATCH, TICK_BATCH_SECONDS, worker_context
from agents.orders import PaperTicks
from app.books.portfolio import nav_ticker
from app.logging import get_logger
from app.market.service import market_service
from streams.app import app, market_ticks
from streams.records import MarketTickV1

log = get_logger(__name__)

Step = Callable[[list[MarketTickV1]], Awaitable[None]]


async def quote_ticks(batch: list[MarketTickV1]) -> None:
    """Cache and send each new tick of ``batch`` (``market_service.do_record_ticks``), then
    offer the NAV of the clubs watching or holding its symbol. Raises what Redis raises."""
    for clubs in await market_service.do_record_ticks(batch):
        if clubs:
            nav_ticker.offer_tick(clubs)


async def handle_tick_batch(batch: list[MarketTickV1], steps: list[tuple[str, Step]]) -> None:
    """Hand ``batch`` to each of ``steps`` in turn; a step that raises is logged and the next
    one still gets the batch."""
    for name, step in steps:
        try:
            await step(batch)
        except Exception as exc:
            log.exception("tick batch not handled", step=name, ticks=len(batch), error=str(exc))


@app.agent(market_ticks)
async def record_ticks(ticks: Any) -> None:
    """Consume market ticks (keyed by symbol), a batch at a time (``TICK_BATCH`` within
    ``TICK_BATCH_SECONDS``): quotes and NAV, price alerts, paper fills."""
    context = await worker_context()
    steps: list[tuple[str, Step]] = [
        ("quotes", quote_ticks), ("alerts", alert_ticks), ("paper", PaperTicks(context.redis)),
    ]  # fmt: skip
    batch: list[MarketTickV1]
    try:
        async for batch in ticks.take(TICK_BATCH, within=TICK_BATCH_SECONDS):
            await handle_tick_batch(batch, steps)
    finally:
        await market_service.do_close()

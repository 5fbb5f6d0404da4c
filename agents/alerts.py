"""Price-alert agent: a second consumer of the market ticks that triggers alerts."""

from __future__ import annotations

from typing import Any

from agents.context import worker_context
from app.alerts.service import AlertEngine
from app.realtime import publish
from streams.app import app, market_ticks
from streams.records import MarketTickV1


@app.agent(market_ticks)
async def trigger_alerts(ticks: Any) -> None:
    """Evaluate each tick against the symbol's active alerts; emit what fired (stored first)."""
    await worker_context()
    engine = AlertEngine()
    tick: MarketTickV1
    async for tick in ticks:
        await publish.publish(await engine.on_tick(tick))

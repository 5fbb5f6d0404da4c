"""Price-alert agent: a second consumer of the market ticks that triggers alerts."""

from __future__ import annotations

from typing import Any

from agents.context import worker_context
from app.alerts.service import alert_engine
from streams.app import app, market_ticks
from streams.records import MarketTickV1


@app.agent(market_ticks)
async def trigger_alerts(ticks: Any) -> None:
    """Hand each tick to the alert engine (what fires is stored and sent after its commit)."""
    await worker_context()
    tick: MarketTickV1
    async for tick in ticks:
        await alert_engine.do_apply_tick(tick)

"""Price-alert agent: a second consumer of the market ticks that triggers alerts."""

from __future__ import annotations

from typing import Any

from agents.context import TICK_BATCH, TICK_BATCH_SECONDS, worker_context
from app.alerts.service import alert_engine
from streams.app import app, market_ticks
from streams.records import MarketTickV1


@app.agent(market_ticks)
async def trigger_alerts(ticks: Any) -> None:
    """Hand the ticks to the alert engine, a batch at a time (what fires is stored and sent
    after its commit)."""
    await worker_context()
    batch: list[MarketTickV1]
    async for batch in ticks.take(TICK_BATCH, within=TICK_BATCH_SECONDS):
        await alert_engine.do_apply_ticks(batch)

"""Price alerts on market ticks: the alert engine's step of the tick agent (agents/market.py,
the one consumer of the tick topic)."""

from __future__ import annotations

from app.alerts.service import alert_engine
from streams.records import MarketTickV1


async def alert_ticks(batch: list[MarketTickV1]) -> None:
    """Hand a batch of ticks to the alert engine, in order (what fires is stored and sent
    after its commit). Raises what the engine raises (the database is unreachable)."""
    await alert_engine.do_apply_ticks(batch)

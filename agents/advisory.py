"""Robo-advice timer: every ``advisory_drift_check_seconds`` check every account with targets
for drift and tell the owner once per drift (app/advisory/service.py ``do_check_drift``: the
claim on ``drift_alerted`` makes a second worker's run a no-op)."""

from __future__ import annotations

import asyncio

from agents.context import worker_context
from app.advisory.advisors import advisor_service
from app.advisory.service import advisory_service
from app.brokers.service import broker_service
from app.config import get_settings
from app.logging import get_logger
from app.orders.broker import Broker
from streams.app import app
from streams.producer import EventProducer

log = get_logger(__name__)

RUNS_EVERY = 2.0  # seconds between moves of rebalance runs under way (sales → buys → done)

_producer: EventProducer | None = None
_producer_lock = asyncio.Lock()


async def _brokers(club_id: str) -> Broker:
    """The club's broker; the paper broker's commands go through this worker's producer."""
    global _producer
    async with _producer_lock:
        if _producer is None:
            producer = EventProducer(get_settings().kafka_bootstrap_servers,
                                     client_id="samooh-advisory")  # fmt: skip
            await producer.start()
            _producer = producer
    return await broker_service.broker_for(club_id, _producer)


@app.timer(interval=RUNS_EVERY)
async def advance_rebalances() -> None:
    """Move every rebalance run on: a club's vote closed, sales filled → buys sent, all final
    → executed / partial / failed (app/advisory/service.py ``do_advance``; each step is a
    claim on the run's status, so two workers never do it twice)."""
    context = await worker_context()
    try:
        moved = await advisory_service.do_advance_runs(_brokers, context.redis)
    except Exception as exc:  # a database hiccup: the next tick tries again
        log.warning("rebalance runs did not advance", error=str(exc))
        return
    if moved:
        log.info("rebalance runs moved", runs=moved)


@app.timer(interval=get_settings().advisory_drift_check_seconds)
async def check_portfolio_drift() -> None:
    """Notify owners of portfolios whose assets left their bands."""
    context = await worker_context()
    try:
        told = await advisory_service.do_check_drift(context.redis)
    except Exception as exc:  # a database hiccup: the next tick tries again
        log.warning("drift check failed", error=str(exc))
        return
    if told:
        log.info("drift alerts sent", accounts=told)


@app.timer(interval=get_settings().advisory_drift_check_seconds / 5)
async def remind_consultations() -> None:
    """Remind clients and advisors of consultations starting within a day (once each)."""
    await worker_context()
    try:
        told = await advisor_service.do_send_reminders()
    except Exception as exc:
        log.warning("consultation reminders failed", error=str(exc))
        return
    if told:
        log.info("consultation reminders sent", bookings=told)

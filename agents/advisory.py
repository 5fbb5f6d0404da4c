"""Robo-advice timer: every ``advisory_drift_check_seconds`` check every account with targets
for drift and tell the owner once per drift (app/advisory/service.py ``do_check_drift``: the
claim on ``drift_alerted`` makes a second worker's run a no-op)."""

from __future__ import annotations

from agents.context import worker_context
from app.advisory.advisors import advisor_service
from app.advisory.service import advisory_service
from app.config import get_settings
from app.logging import get_logger
from streams.app import app

log = get_logger(__name__)


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

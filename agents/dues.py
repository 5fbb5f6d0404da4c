"""Dues timer: remind members before their monthly dues fall due, tell them when dues turn
late and charge the club's late fee once. Thin: each tick calls the service, whose every step
is claimed in the database (unique notification keys, one late-fee claim per member and month),
so every worker may run it."""

from __future__ import annotations

from agents.context import worker_context
from app.dues.service import dues_service
from app.logging import get_logger
from streams.app import app

log = get_logger(__name__)

SWEEP_SECONDS = 300.0


@app.timer(interval=SWEEP_SECONDS)
async def sweep_dues() -> None:
    """One pass over the clubs with dues."""
    await worker_context()
    try:
        made = await dues_service.do_sweep()
    except Exception as exc:  # a database hiccup: the next tick tries again
        log.warning("dues sweep failed", error=str(exc))
        return
    if any(made.values()):
        log.info("dues sweep", **made)

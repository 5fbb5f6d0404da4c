"""CRM timers: deliver due follow-up reminders, recompute decayed lead scores, tell managers of
clients' KYC documents about to expire, and run the retention job. Thin: each tick calls
``crm_service``. Every worker runs them (no leader timers here, streams/app.py); that is safe
because each step is claimed in the database: a reminder moves pending → sent once (a guarded
update in the transaction that stores its notification), a KYC alert once (a unique index), a
score recompute is idempotent, an erasure happens once (``erased_at``)."""

from __future__ import annotations

import datetime as dt

from agents.context import worker_context
from app.crm.service import crm_service
from app.crm.settings import crm_settings
from app.logging import get_logger
from streams.app import app

log = get_logger(__name__)


@app.timer(interval=crm_settings().sweep_seconds)
async def crm_reminders_and_scores() -> None:
    """Fire due reminders, then recompute the scores that are due (only those: see
    ``CrmService.do_recompute_scores``)."""
    await worker_context()
    try:
        fired = await crm_service.do_fire_due_reminders()
        rescored = await crm_service.do_recompute_scores()
    except Exception as exc:  # a database hiccup: the next tick tries again
        log.warning("crm sweep failed", error=str(exc))
        return
    if fired or rescored:
        log.info("crm sweep", reminders=fired, rescored=rescored)


@app.crontab("45 3 * * *", timezone=dt.UTC)  # 09:15 IST, after the KYC expiry sweep
async def crm_daily() -> None:
    """KYC expiry alerts to clients' managers and the retention job."""
    await worker_context()
    alerts = await crm_service.do_kyc_expiry_alerts()
    erased = await crm_service.do_retention_sweep()
    log.info("crm daily", kyc_alerts=alerts, erased=erased)

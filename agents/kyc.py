"""KYC timer: once a day, the expiry sweep — alerts ahead of document expiry, expired documents
marked and their holders' status re-derived (``kyc_service.do_expiry_sweep``, idempotent, so
several workers running it, or a re-run, send nothing twice)."""

from __future__ import annotations

import datetime as dt

from agents.context import worker_context
from app.kyc.service import kyc_service
from app.logging import get_logger
from streams.app import app

log = get_logger(__name__)


# Not ``on_leader``: the app disables Faust's leader topic (streams/app.py), so leader-only
# timers never fire; the sweep is idempotent, so every worker may run it.
@app.crontab("30 3 * * *", timezone=dt.UTC)  # 09:00 IST
async def kyc_expiry_sweep() -> None:
    """Run the daily KYC expiry sweep."""
    await worker_context()
    result = await kyc_service.do_expiry_sweep()
    log.info("kyc expiry sweep", expired=len(result.expired), alerts=len(result.alerts),
             mailed=result.mailed)  # fmt: skip

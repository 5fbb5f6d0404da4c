"""Worker lifecycle signals: after each rebalance the worker records in Redis that it is
consuming, so ``make run``, tests and operators can tell a worker is ready."""

from __future__ import annotations

import datetime as dt
from typing import Any

from agents.context import worker_context
from app.config import get_settings
from app.logging import get_logger
from streams.app import app

log = get_logger(__name__)

READY_KEY = "samooh:worker:{worker_id}:ready"


def ready_key(worker_id: str) -> str:
    """Redis key holding the ISO time of the worker group's last completed rebalance."""
    return READY_KEY.format(worker_id=worker_id)


@app.on_rebalance_complete.connect
async def announce_ready(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
    """Record the time this worker finished a rebalance (partitions assigned, consuming)."""
    try:
        context = await worker_context()
        now = dt.datetime.now(dt.UTC).isoformat()
        await context.redis.set(ready_key(get_settings().worker_id), now)
    except Exception as exc:  # a Redis outage must not crash the worker's recovery
        log.warning("could not record readiness", error=str(exc))

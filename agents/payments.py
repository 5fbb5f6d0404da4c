"""Payments agent: applies verified payment events of clubs (keyed by pool) to their books.
A re-delivery applies nothing twice (the journal key and the status guard); what an applied
event shows in the club's room (``contribution:received``) is recorded with it and sent after
its commit. A timer gives up checkouts left unpaid past ``checkout_expiry_hours``."""

from __future__ import annotations

from typing import Any

from agents.context import record_span, worker_context
from app.books.service import books_service
from app.logging import get_logger
from streams.app import app, payment_events
from streams.records import PaymentEventV1

log = get_logger(__name__)

EXPIRY_SWEEP_SECONDS = 300.0


@app.agent(payment_events)
async def apply_payments(events: Any) -> None:
    """Consume payment events and hand each club payment to ``books_service``."""
    await worker_context()
    event: PaymentEventV1
    async for event in events:
        if event.pool_type != "club":
            continue
        with record_span(events, "apply payment event"):  # the contribution's trace goes on
            await books_service.do_apply_payment_event(event)


@app.timer(interval=EXPIRY_SWEEP_SECONDS)
async def expire_checkouts() -> None:
    """Give up online contributions whose checkout stayed unpaid too long (each once: a
    guarded update, so every worker may run it)."""
    await worker_context()
    try:
        expired = await books_service.do_expire_checkouts()
    except Exception as exc:  # a database hiccup: the next tick tries again
        log.warning("checkout expiry failed", error=str(exc))
        return
    if expired:
        log.info("checkouts expired", contributions=expired)

"""Payments agent: applies verified payment events (keyed by pool) to the books, then tells the
club's room. Re-deliveries apply nothing twice (the journal key and status guard) but are
announced again with the same event id, so a crash between applying and emitting loses no
announcement; clients de-duplicate by id."""

from __future__ import annotations

from typing import Any

from agents.context import worker_context
from app.clubs.accounting import accounting_service
from app.clubs.documents import ContributionStatus
from app.clubs.events import emit_contribution_received
from streams.app import app, payment_events
from streams.records import PaymentEventV1

ANNOUNCED = (ContributionStatus.RECEIVED, ContributionStatus.SETTLED)


@app.agent(payment_events)
async def apply_payments(events: Any) -> None:
    """Consume payment events and hand each to ``accounting_service``."""
    context = await worker_context()
    event: PaymentEventV1
    async for event in events:
        if event.pool_type != "club":
            continue
        outcome = await accounting_service.do_apply_payment_event(event)
        contribution = outcome.contribution
        if (
            contribution is not None
            and event.kind == "payment.captured"
            and contribution.payment_id == event.payment_id
            and contribution.status in ANNOUNCED
        ):
            await emit_contribution_received(context.emitter, event.id, contribution)  # type: ignore[arg-type]

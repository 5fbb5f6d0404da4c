"""Chit agents: apply verified payment events of ``pool_type="chit"`` (keyed by scheme id),
close due auctions and send prize payouts again. Thin: each calls one service function. Every
worker runs the timers; that is safe because an auction closes once (its SCHEDULED → CLOSED
guard in the closing transaction), a penalty is charged once (its due's claim and journal key)
and a payout is claimed with a lease and sent under its idempotency key."""

from __future__ import annotations

import datetime as dt
from typing import Any

from agents.context import record_span, worker_context
from app.chits.flows import chit_flows
from app.chits.service import chit_service
from app.logging import get_logger
from streams.app import app, payment_events
from streams.records import PaymentEventV1

log = get_logger(__name__)

SWEEP_SECONDS = 1.0
REMINDER_SECONDS = 300.0
PAYOUT_SECONDS = 5.0


@app.agent(payment_events)
async def apply_chit_payments(events: Any) -> None:
    """Consume payment events and hand the chit ones to ``chit_service``."""
    await worker_context()
    event: PaymentEventV1
    async for event in events:
        if event.pool_type != "chit":
            continue
        with record_span(events, "apply chit payment event"):  # the instalment's trace goes on
            await chit_service.do_apply_payment_event(event)


@app.timer(interval=SWEEP_SECONDS)
async def close_due_auctions() -> None:
    """Close auctions whose end passed; charge late penalties on dues past their grace."""
    await worker_context()
    try:
        closed = await chit_service.do_close_due()
        charged = await chit_service.do_charge_penalties(dt.datetime.now(dt.UTC).date())
    except Exception as exc:  # a database hiccup: the next tick tries again
        log.warning("chit sweep failed", error=str(exc))
        return
    if closed or charged:
        log.info("chit sweep", closed=closed, penalties=charged)


@app.timer(interval=REMINDER_SECONDS)
async def send_chit_reminders() -> None:
    """Payment-due and auction reminders (each once: dedupe keys)."""
    await worker_context()
    try:
        reminded = await chit_service.do_send_reminders()
    except Exception as exc:
        log.warning("chit reminders failed", error=str(exc))
        return
    if reminded:
        log.info("chit reminders", sent=reminded)


@app.timer(interval=PAYOUT_SECONDS)
async def send_prize_payouts() -> None:
    """Send again the prize payouts the provider did not answer (same idempotency key, after
    their backoff); each is claimed with a lease, so every worker may run this."""
    await worker_context()
    try:
        paid = await chit_flows.do_send_due()
    except Exception as exc:
        log.warning("chit prize payouts failed", error=str(exc))
        return
    if paid:
        log.info("chit prize payouts", paid=paid)


@app.crontab("30 0 * * *", timezone=dt.UTC)
async def nightly_chit_scores() -> None:
    """Recompute every subscriber's chit score once a day at 00:30 UTC (idempotent per day:
    a re-run or a second worker stores nothing new)."""
    await worker_context()
    try:
        stored = await chit_service.do_nightly_scores(dt.datetime.now(dt.UTC).date())
    except Exception as exc:
        log.warning("nightly chit scores failed", error=str(exc))
        return
    log.info("nightly chit scores", stored=stored)

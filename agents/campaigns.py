"""Campaigns agent and timers: applies payment events of ``pool_type == "campaign"`` (keyed by
campaign id, so one campaign's money is applied by one worker at a time), releases expired
reservations, closes campaigns at their deadline, sends payout tasks, and tells owners and
investors of overdue profit reports. Thin: each step calls
app/campaigns; every step is claimed or guarded in the database, so duplicates, several workers
and a restarted worker change nothing twice."""

from __future__ import annotations

from typing import Any

from agents.context import record_span, worker_context
from app.campaigns.flows import campaign_flows
from app.campaigns.service import campaign_service
from app.config import get_settings
from app.logging import get_logger
from streams.app import app, payment_events
from streams.records import PaymentEventV1

log = get_logger(__name__)


@app.agent(payment_events)
async def apply_campaign_payments(events: Any) -> None:
    """Hand each campaign payment event to ``campaign_flows.do_apply_payment_event``."""
    await worker_context()
    event: PaymentEventV1
    async for event in events:
        if event.pool_type != "campaign":
            continue
        with record_span(events, "apply campaign payment event"):  # the pledge's trace goes on
            await campaign_flows.do_apply_payment_event(event)


@app.timer(interval=get_settings().campaign_sweep_seconds)
async def campaign_timers() -> None:
    """Release expired reservations, close due campaigns, send due payouts, ask the provider
    about payouts whose webhook did not come."""
    await worker_context()
    try:
        released = await campaign_service.do_expire_holds()
        closed = await campaign_flows.do_close_due()
        paid = await campaign_flows.do_process_transfers()
        paid += await campaign_flows.do_reconcile_sent()
    except Exception as exc:  # a database or provider hiccup: the next tick tries again
        log.warning("campaign sweep failed", error=str(exc)[:300])
        return
    if released or closed or paid:
        log.info("campaign sweep", released=released, closed=closed, paid=paid)


@app.timer(interval=get_settings().campaign_report_check_seconds)
async def overdue_reports() -> None:
    """Tell owners and investors of profit reports that went overdue, once per report
    (``campaign_flows.do_tell_overdue_reports``: claimed in the campaign, audited, and shown
    live on the campaign's page and the dashboards)."""
    await worker_context()
    try:
        told = await campaign_flows.do_tell_overdue_reports()
    except Exception as exc:  # a database hiccup: the next tick tries again
        log.warning("overdue report sweep failed", error=str(exc)[:300])
        return
    if told:
        log.info("overdue profit reports told", reports=told)

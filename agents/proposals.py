"""Proposal timers: close proposals whose deadline passed, remind members who have not voted,
and drain the notification e-mail outbox. Thin: each tick calls the services. Every worker runs
them (the app disables Faust's leader topic); that is safe because each step is claimed in the
database: a close happens once (the proposal's status guard), a reminder once (``reminded_at``
and a unique key per notification), an e-mail once (its ``sending`` claim)."""

from __future__ import annotations

from agents.context import worker_context
from app.config import get_settings
from app.logging import get_logger
from app.notifications.service import notification_service
from app.proposals.service import proposal_service
from streams.app import app

log = get_logger(__name__)


@app.timer(interval=get_settings().proposal_sweep_seconds)
async def close_due_proposals() -> None:
    """Close due proposals, then send closing-soon reminders."""
    await worker_context()
    try:
        closed = await proposal_service.do_close_due()
        reminded = await proposal_service.do_send_reminders()
    except Exception as exc:  # a database hiccup: the next tick tries again
        log.warning("proposal sweep failed", error=str(exc))
        return
    if closed or reminded:
        log.info("proposal sweep", closed=closed, reminders=reminded)


@app.timer(interval=get_settings().proposal_sweep_seconds)
async def send_notification_emails() -> None:
    """Send the e-mails of notifications people opted into."""
    await worker_context()
    try:
        sent = await notification_service.do_send_due_emails()
    except Exception as exc:
        log.warning("notification e-mail sweep failed", error=str(exc))
        return
    if sent:
        log.info("notification e-mails sent", sent=sent)

"""SMS agent: a timer that sends the queued text messages (app/sms/service.py). Every worker
runs it; that is safe because each message is claimed with a lease before it is sent."""

from __future__ import annotations

from agents.context import worker_context
from app.logging import get_logger
from app.sms.service import sms_service
from streams.app import app

log = get_logger(__name__)

SEND_SECONDS = 2.0


@app.timer(interval=SEND_SECONDS)
async def send_text_messages() -> None:
    """Send what is due in the SMS outbox (retries included)."""
    await worker_context()
    try:
        sent = await sms_service.do_send_due()
    except Exception as exc:  # a database hiccup: the next tick tries again
        log.warning("sms sweep failed", error=str(exc))
        return
    if sent:
        log.info("sms sent", count=sent)

"""Payments HTTP: ``POST /api/v1/webhooks/{provider}``, thin over ``payment_service``; and the
outbox sweeper that runs while the web process serves."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncGenerator

from quart import Blueprint, request
from quart_schema import tag, validate_response

from app.config import get_settings
from app.extensions import services
from app.identity.guards import client_ip
from app.logging import get_logger
from app.openapi import document_errors
from app.payments.errors import WebhookTooLarge
from app.payments.schemas import WebhookAck
from app.payments.service import payment_service

log = get_logger(__name__)

blueprint = Blueprint("payments", __name__, url_prefix="/api/v1")


@blueprint.post("/webhooks/<provider>")
@tag(["payments"])
@validate_response(WebhookAck, 200)
@document_errors(400, 404, 409, 413, 503)
async def receive_webhook(provider: str) -> WebhookAck:
    """A payment provider's webhook: ``sandbox``, ``razorpay`` or ``stripe``.

    The raw body is verified first (``X-Razorpay-Signature`` with ``X-Razorpay-Event-Id``, or
    ``Stripe-Signature`` with its timestamp tolerance), the event id stored once, and each
    payment outcome published once to the payments topic. A re-delivery answers 200 and
    publishes nothing.

    Errors: 400 ``invalid_signature`` (forged, tampered, unsigned or stale; recorded as a
    security event, nothing else changes), 400 ``invalid_webhook`` (signed but unreadable),
    404 ``unknown_provider``, 409 ``webhook_in_progress`` (the same outcome is being published
    by another delivery: retry), 413 ``payload_too_large``, 503 ``service_unavailable``
    (Kafka did not acknowledge: retry).
    """
    limit = get_settings().payment_webhook_max_bytes
    if (request.content_length or 0) > limit:
        raise WebhookTooLarge("webhook body is too large", details={"max_bytes": limit})
    # A chunked body has no Content-Length: the app-wide MAX_CONTENT_LENGTH caps the read and
    # the service checks the size again.
    raw_body = await request.get_data(cache=False)
    assert isinstance(raw_body, bytes)
    return await payment_service.do_receive_webhook(
        provider,
        dict(request.headers.items()),
        raw_body,
        services.require_producer(),
        ip=client_ip(),
    )


@blueprint.while_app_serving
async def _outbox_sweeper() -> AsyncGenerator[None, None]:
    """Re-publish payment outcomes left pending by a publisher that died (see service.py)."""

    settings = get_settings()
    after = dt.timedelta(seconds=settings.payment_outbox_republish_after_seconds)

    async def sweep_forever() -> None:
        while True:
            await asyncio.sleep(settings.payment_outbox_sweep_seconds)
            try:
                sent = await payment_service.do_publish_pending(
                    services.require_producer(), older_than=after
                )
            except Exception as exc:  # the next round tries again; never kill the loop
                log.warning("payment outbox sweep failed", error=str(exc)[:200])
                continue
            if sent:
                log.info("payment outbox sweep published", count=sent)

    task = asyncio.create_task(sweep_forever())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

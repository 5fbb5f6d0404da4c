"""Stored shapes of the payments domain: the orders we created, every verified provider event
(de-duplicated by its id), and the payment outcomes waiting to be / already published."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from beanie import Document
from pymongo import ASCENDING, IndexModel

OutcomeStatus = Literal["pending", "published"]


class PaymentOrder(Document):
    """A provider order created for one contribution's checkout (``create_checkout``).

    One per (provider, contribution): asking again returns the same checkout. The webhook
    resolves a payment's pool and contribution from here by ``order_id`` (the notes a
    provider echoes back are the fallback). ``amount`` is integer paise.
    """

    provider: str
    order_id: str
    contribution_id: str
    pool_type: str
    pool_id: str
    amount: int
    currency: str
    checkout_url: str | None = None
    client_secret: str | None = None
    key_id: str | None = None
    created_at: dt.datetime
    # W3C trace context of the request that created the checkout (app/telemetry.py): its
    # webhook continues that trace, so a contribution is one trace from click to socket.
    trace_context: dict[str, str] | None = None

    class Settings:
        name = "payment_orders"
        indexes = [
            IndexModel(
                [("provider", ASCENDING), ("order_id", ASCENDING)],
                unique=True,
                name="provider_order_unique",
            ),
            IndexModel(
                [("provider", ASCENDING), ("contribution_id", ASCENDING)],
                unique=True,
                name="provider_contribution_unique",
            ),
        ]


class ProviderEvent(Document):
    """One verified webhook event, stored once per provider event id (unique index); a
    re-delivery only bumps ``deliveries`` and ``last_received_at``.

    ``payload_sha256`` is the digest of the first delivery's raw body; ``outcome_id`` the
    ``PaymentOutcome.record_id`` it led to, or ``None`` with ``ignored_reason`` set.
    """

    provider: str
    event_id: str
    event_type: str
    occurred_at: dt.datetime
    received_at: dt.datetime
    last_received_at: dt.datetime
    deliveries: int = 1
    payload_sha256: str
    outcome_id: str | None = None
    ignored_reason: str | None = None

    class Settings:
        name = "payment_provider_events"
        indexes = [
            IndexModel(
                [("provider", ASCENDING), ("event_id", ASCENDING)],
                unique=True,
                name="provider_event_unique",
            )
        ]


class PaymentOutcome(Document):
    """The outbox of the payments topic: one per (provider, payment, kind), so a capture
    reported by ``payment.captured`` and ``order.paid`` (or re-delivered) is published once.

    ``record_id`` is the published ``PaymentEventV1.id`` (``<provider>:<provider_event_id>`` of
    the first event that reported it). ``status`` goes ``pending`` → ``published``; a publisher
    holds a claim (``claim_token`` until ``claimed_until``) while it sends, so two deliveries
    never publish at once and a publisher that died is taken over when its claim expires.
    ``amount`` is integer paise (received for a capture, attempted for a failure).
    """

    record_id: str
    provider: str
    provider_event_id: str
    kind: str
    payment_id: str
    order_id: str | None = None
    pool_type: str
    pool_id: str
    contribution_id: str
    amount: int
    currency: str
    occurred_at: dt.datetime
    # The checkout's trace context (``PaymentOrder.trace_context``), continued when published.
    trace_context: dict[str, str] | None = None
    status: OutcomeStatus = "pending"
    claim_token: str | None = None
    claimed_until: dt.datetime | None = None
    publish_attempts: int = 0
    created_at: dt.datetime
    published_at: dt.datetime | None = None

    class Settings:
        name = "payment_outcomes"
        indexes = [
            IndexModel([("record_id", ASCENDING)], unique=True, name="record_id_unique"),
            IndexModel(
                [("provider", ASCENDING), ("payment_id", ASCENDING), ("kind", ASCENDING)],
                unique=True,
                name="provider_payment_kind_unique",
            ),
            IndexModel([("status", ASCENDING), ("created_at", ASCENDING)], name="status_created"),
        ]

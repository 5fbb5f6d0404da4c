"""Failures of the payments domain. Each is an ``AppError`` with its HTTP status and stable code.

They live apart from ``service.py`` because the provider adapters raise them too, and the
service imports the adapters.
"""

from __future__ import annotations

from typing import Any

from app.errors import AppError, NotFound, ServiceUnavailable


class WebhookSignatureInvalid(AppError):
    """A webhook's signature is missing, malformed, wrong, or (Stripe) outside the timestamp
    tolerance (400, ``invalid_signature``). Nothing is stored or published; the attempt is
    recorded as a security event. ``details.reason`` says which check failed."""

    status = 400
    code = "invalid_signature"


class WebhookPayloadInvalid(AppError):
    """A correctly signed webhook whose body we cannot read: not JSON, no event id, or a
    payment without an integer amount (400, ``invalid_webhook``)."""

    status = 400
    code = "invalid_webhook"


class WebhookTooLarge(AppError):
    """The webhook body is over ``payment_webhook_max_bytes`` (413, ``payload_too_large``)."""

    status = 413
    code = "payload_too_large"


class WebhookInProgress(AppError):
    """Another delivery of the same payment outcome is being published right now (409,
    ``webhook_in_progress``). Not a 2xx, so the provider delivers again later, when it is
    either published (then acknowledged) or its claim has expired (then taken over)."""

    status = 409
    code = "webhook_in_progress"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details, headers={"Retry-After": "5"})


class UnknownProvider(NotFound):
    """No webhook endpoint for this provider here: unknown name, or its webhook secret is not
    configured, or the sandbox in production without being the payment provider (404,
    ``unknown_provider``)."""

    code = "unknown_provider"


class PaymentSignatureInvalid(AppError):
    """A checkout's ``razorpay_signature`` does not match ``order_id|payment_id`` (400,
    ``invalid_signature``)."""

    status = 400
    code = "invalid_signature"


class PaymentProviderUnavailable(ServiceUnavailable):
    """The payment provider did not answer, or answered 5xx (503,
    ``payment_provider_unavailable``); ``details.provider`` names it. Safe to retry."""

    code = "payment_provider_unavailable"


class PaymentProviderRejected(AppError):
    """The payment provider refused the request (4xx), e.g. an amount below its minimum (502,
    ``payment_provider_rejected``); ``details`` carries the provider's own error."""

    status = 502
    code = "payment_provider_rejected"


class CheckoutConflict(AppError):
    """A checkout already exists for this contribution with a different amount or currency
    (409, ``checkout_conflict``)."""

    status = 409
    code = "checkout_conflict"


class InvalidCheckout(AppError):
    """``create_checkout`` arguments break a rule: amount not a positive integer of paise,
    unknown currency format, or ids too long for the provider's receipt (422,
    ``invalid_checkout``)."""

    status = 422
    code = "invalid_checkout"

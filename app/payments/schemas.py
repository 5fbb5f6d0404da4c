"""Payments payloads: the checkout handed to a payer and the webhook acknowledgement."""

from __future__ import annotations

from pydantic import BaseModel

from app.money import format_minor


class CheckoutSession(BaseModel):
    """Where the payer pays one contribution (``create_checkout``).

    Fields:
        provider: ``sandbox`` | ``razorpay`` | ``stripe``.
        order_id: the provider's order (``order_…``) or PaymentIntent (``pi_…``) id.
        contribution_id, pool_type, pool_id: ours, also in the order's notes / metadata.
        amount: integer paise; currency: ISO 4217.
        checkout_url: the sandbox's checkout page; ``None`` for Razorpay and Stripe.
        key_id: Razorpay's public key for Checkout.js (sandbox and Razorpay), else ``None``.
        client_secret: the PaymentIntent's client secret for Stripe.js, else ``None``.
    """

    provider: str
    order_id: str
    contribution_id: str
    pool_type: str
    pool_id: str
    amount: int
    currency: str
    checkout_url: str | None = None
    key_id: str | None = None
    client_secret: str | None = None

    def to_public(self) -> CheckoutOut:
        """The API shape (amount as a two-place decimal string)."""
        return CheckoutOut(
            provider=self.provider,
            order_id=self.order_id,
            amount=format_minor(self.amount),
            currency=self.currency,
            checkout_url=self.checkout_url,
            key_id=self.key_id,
            client_secret=self.client_secret,
        )


class CheckoutOut(BaseModel):
    """A checkout as clients see it: ``amount`` is a two-place decimal string (``"500.00"``);
    open ``checkout_url`` (sandbox), Checkout.js with ``key_id`` + ``order_id`` (Razorpay) or
    Stripe.js with ``client_secret`` (Stripe)."""

    provider: str
    order_id: str
    amount: str
    currency: str
    checkout_url: str | None = None
    key_id: str | None = None
    client_secret: str | None = None


class WebhookAck(BaseModel):
    """``POST /api/v1/webhooks/{provider}`` answer (200).

    ``received``: events in the delivery; ``duplicates``: of those, already received before;
    ``published``: payment events this delivery put on the payments topic (0 for a duplicate,
    an ignored event type or an outcome already published by an earlier event).
    """

    received: int
    duplicates: int
    published: int

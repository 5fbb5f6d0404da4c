"""Payment provider adapters behind one interface (``PaymentProviderAdapter``), and which one
serves a checkout or a webhook under the current settings."""

from __future__ import annotations

from app.config import Settings
from app.payments.errors import UnknownProvider
from app.payments.providers.base import (
    Order,
    PaymentFacts,
    PaymentKind,
    PaymentProviderAdapter,
    VerifiedProviderEvent,
)
from app.payments.providers.razorpay import RazorpayProvider
from app.payments.providers.stripe import StripeProvider

PROVIDERS = ("sandbox", "razorpay", "stripe")

__all__ = [
    "PROVIDERS",
    "Order",
    "PaymentFacts",
    "PaymentKind",
    "PaymentProviderAdapter",
    "RazorpayProvider",
    "StripeProvider",
    "VerifiedProviderEvent",
    "build_provider",
    "checkout_provider",
    "webhook_provider",
]


def build_provider(name: str, settings: Settings) -> PaymentProviderAdapter:
    """The adapter ``name`` configured from ``settings``. Raises ``UnknownProvider``."""
    if name == "sandbox":
        return RazorpayProvider(
            name="sandbox",
            api_url=settings.payment_sandbox_url,
            key_id=settings.payment_sandbox_key_id,
            key_secret=settings.payment_sandbox_key_secret.get_secret_value(),
            webhook_secret=settings.payment_sandbox_webhook_secret.get_secret_value(),
            checkout_url=settings.payment_sandbox_url,
        )
    if name == "razorpay":
        return RazorpayProvider(
            name="razorpay",
            api_url=settings.razorpay_api_url,
            key_id=settings.razorpay_key_id,
            key_secret=settings.razorpay_key_secret.get_secret_value(),
            webhook_secret=settings.razorpay_webhook_secret.get_secret_value(),
        )
    if name == "stripe":
        return StripeProvider(
            api_url=settings.stripe_api_url,
            secret_key=settings.stripe_secret_key.get_secret_value(),
            webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
            tolerance_seconds=settings.stripe_webhook_tolerance_seconds,
        )
    raise UnknownProvider(f"no payment provider {name!r}", details={"provider": name})


def checkout_provider(settings: Settings) -> PaymentProviderAdapter:
    """The adapter new checkouts use (``payment_provider``)."""
    return build_provider(settings.payment_provider, settings)


def webhook_provider(name: str, settings: Settings) -> PaymentProviderAdapter:
    """The adapter behind ``POST /api/v1/webhooks/{name}``.

    A provider's endpoint exists only when its webhook secret is set; in production the
    sandbox's exists only while it is the payment provider (its dev secret is public, and
    production refuses that secret for it). Raises ``UnknownProvider`` (404) otherwise.
    """
    secret = {
        "sandbox": settings.payment_sandbox_webhook_secret,
        "razorpay": settings.razorpay_webhook_secret,
        "stripe": settings.stripe_webhook_secret,
    }.get(name)
    enabled = secret is not None and bool(secret.get_secret_value().strip())
    if name == "sandbox" and settings.is_production and settings.payment_provider != "sandbox":
        enabled = False
    if not enabled:
        raise UnknownProvider(f"no webhook endpoint for {name!r}", details={"provider": name})
    return build_provider(name, settings)

"""Failures of the push domain a client can cause."""

from __future__ import annotations

from app.errors import AppError


class InvalidSubscription(AppError):
    """The push subscription is not one a browser makes (422): an endpoint that is not an
    https URL (http only to loopback outside production), or keys that are not a P-256
    public key and a 16-byte secret in base64url. ``details.field`` names the part."""

    status = 422
    code = "invalid_push_subscription"


class SubscriptionNotFound(AppError):
    """No subscription of yours has this endpoint (404)."""

    status = 404
    code = "push_subscription_not_found"

"""Stripe adapter: PaymentIntents and signed webhooks.

Sources (Stripe docs): "Create a PaymentIntent" ``POST /v1/payment_intents`` (form-encoded;
``amount`` in the smallest currency unit, lower-case ``currency``, ``metadata[…]``; bearer secret
key; ``Idempotency-Key`` header makes a retried create return the same intent); "Check the
webhook signatures": ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`` where each ``v1`` may be
HMAC-SHA256 of ``"{t}.{raw_body}"`` with the endpoint secret (one match is enough — several are
sent while a secret is rolled), and ``t`` must be within a tolerance (default 300 s) of now.
Events ``payment_intent.succeeded`` (``amount_received``) and ``payment_intent.payment_failed``
carry the PaymentIntent in ``data.object`` with our ids in ``metadata``.

The official SDK's ``WebhookSignature.verify_header`` checks the HMAC and a *stale* timestamp;
it accepts any future one, so a timestamp beyond the tolerance ahead of now is refused here too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

import stripe

from app.payments.errors import PaymentSignatureInvalid, WebhookSignatureInvalid
from app.payments.providers.base import (
    Order,
    PaymentFacts,
    PaymentKind,
    Refund,
    VerifiedProviderEvent,
    body_digest,
    check_amount,
    check_currency,
    check_event_id,
    check_text,
    from_unix,
    header,
    read_json_object,
    request_json,
    string_map,
)

SIGNATURE_HEADER = "Stripe-Signature"
DEFAULT_TOLERANCE_SECONDS = 300

OUTCOME_EVENTS: dict[str, PaymentKind] = {
    "payment_intent.succeeded": "payment.captured",
    "payment_intent.payment_failed": "payment.failed",
}

_TIMESTAMP_RE = re.compile(r"(?:^|,)\s*t=(\d{1,12})\s*(?:,|$)")


class StripeProvider:
    """Stripe PaymentIntents and webhooks.

    Args:
        api_url: ``https://api.stripe.com`` (or a test double's URL).
        secret_key: ``sk_…``; webhook_secret: the endpoint's ``whsec_…``.
        tolerance_seconds: how far ``t`` may be from now, either way.
    """

    name = "stripe"

    def __init__(
        self,
        *,
        api_url: str,
        secret_key: str,
        webhook_secret: str,
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
        timeout_seconds: float = 10.0,
    ) -> None:
        self._api_url = api_url.rstrip("/")
        self._secret_key = secret_key
        self._webhook_secret = webhook_secret
        self._tolerance = tolerance_seconds
        self._timeout = timeout_seconds

    async def create_order(
        self, amount_paise: int, currency: str, receipt: str, notes: Mapping[str, str]
    ) -> Order:
        """Create a PaymentIntent (automatic payment methods, ``metadata`` = ``notes``) and
        return its id and ``client_secret``. ``receipt`` makes the Idempotency-Key.

        Raises ``PaymentProviderUnavailable`` / ``PaymentProviderRejected``."""
        form = {
            "amount": str(amount_paise),
            "currency": currency.lower(),
            "automatic_payment_methods[enabled]": "true",
            "description": f"Samooh {receipt}",
            **{f"metadata[{key}]": value for key, value in notes.items()},
        }
        body = await request_json(
            self.name,
            "POST",
            f"{self._api_url}/v1/payment_intents",
            timeout_seconds=self._timeout,
            headers={
                "Authorization": f"Bearer {self._secret_key}",
                "Idempotency-Key": f"samooh-checkout-{receipt}",
            },
            form=form,
        )
        return Order(
            provider=self.name,
            id=check_text(body.get("id"), "payment intent id"),
            amount=check_amount(body.get("amount")),
            currency=check_currency(body.get("currency")),
            client_secret=check_text(body.get("client_secret"), "client secret"),
        )

    async def order_paid(self, order_id: str) -> bool:
        """``GET /v1/payment_intents/{id}``: paid once it ``succeeded``, or taking the money
        (``processing``, ``requires_capture``). Raises ``PaymentProviderUnavailable`` /
        ``…Rejected``."""
        body = await request_json(
            self.name,
            "GET",
            f"{self._api_url}/v1/payment_intents/{order_id}",
            timeout_seconds=self._timeout,
            headers={"Authorization": f"Bearer {self._secret_key}"},
        )
        return body.get("status") in {"succeeded", "processing", "requires_capture"}

    async def refund(
        self, payment_id: str, amount_paise: int, key: str, notes: Mapping[str, str]
    ) -> Refund:
        """``POST /v1/refunds`` for the PaymentIntent ``payment_id`` with Stripe's
        ``Idempotency-Key`` = ``key`` (a retry answers the first refund).

        Raises ``PaymentProviderUnavailable`` / ``PaymentProviderRejected``."""
        body = await request_json(
            self.name, "POST", f"{self._api_url}/v1/refunds", timeout_seconds=self._timeout,
            headers={"Authorization": f"Bearer {self._secret_key}",
                     "Idempotency-Key": f"samooh-refund-{key}"},
            form={"payment_intent": payment_id, "amount": str(amount_paise),
                  "metadata[samooh_key]": key,
                  **{f"metadata[{k}]": v for k, v in notes.items()}},
        )  # fmt: skip
        return Refund(
            provider=self.name, id=check_text(body.get("id"), "refund id"),
            payment_id=payment_id, amount=check_amount(body.get("amount")),
            status=str(body.get("status") or "pending"), receipt=key,
        )  # fmt: skip

    async def fetch_refund(self, payment_id: str, refund_id: str) -> Refund:
        """``GET /v1/refunds/{id}``: the refund as it is now (``succeeded``, ``pending``,
        ``failed``, ``canceled``), for a refund whose webhook did not come.

        Raises ``PaymentProviderUnavailable`` / ``PaymentProviderRejected``."""
        body = await request_json(
            self.name, "GET", f"{self._api_url}/v1/refunds/{refund_id}",
            timeout_seconds=self._timeout,
            headers={"Authorization": f"Bearer {self._secret_key}"},
        )  # fmt: skip
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        key = metadata.get("samooh_key") if isinstance(metadata, dict) else None
        return Refund(
            provider=self.name, id=check_text(body.get("id"), "refund id"),
            payment_id=payment_id, amount=check_amount(body.get("amount")),
            status=str(body.get("status") or "pending"),
            receipt=key if isinstance(key, str) else None,
        )  # fmt: skip

    def verify_payment_signature(self, order_id: str, payment_id: str, signature: str) -> None:
        """Stripe hands back no checkout signature: the webhook is the only proof.

        Always raises ``PaymentSignatureInvalid``."""
        raise PaymentSignatureInvalid(
            "stripe payments are confirmed by webhook only", details={"provider": self.name}
        )

    def parse_webhook(
        self, headers: Mapping[str, str], raw_body: bytes
    ) -> list[VerifiedProviderEvent]:
        """Verify ``Stripe-Signature`` (HMAC and timestamp tolerance), then read the event.

        Raises ``WebhookSignatureInvalid`` (``details.reason``: ``missing_signature``,
        ``body_not_utf8``, ``signature_mismatch``, ``timestamp_outside_tolerance``) or
        ``WebhookPayloadInvalid``."""
        signature = header(headers, SIGNATURE_HEADER)
        if not signature:
            raise WebhookSignatureInvalid(
                f"{SIGNATURE_HEADER} is missing", details={"reason": "missing_signature"}
            )
        try:
            text = raw_body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WebhookSignatureInvalid(
                "webhook body is not UTF-8", details={"reason": "body_not_utf8"}
            ) from exc
        try:
            stripe.WebhookSignature.verify_header(
                text, signature, self._webhook_secret, tolerance=self._tolerance
            )
        except stripe.SignatureVerificationError as exc:
            stale = "tolerance" in str(exc)
            raise WebhookSignatureInvalid(
                "webhook timestamp is outside the tolerance"
                if stale
                else "webhook signature does not match",
                details={
                    "reason": "timestamp_outside_tolerance" if stale else "signature_mismatch"
                },
            ) from exc
        match = _TIMESTAMP_RE.search(signature)
        if match is None or int(match.group(1)) > time.time() + self._tolerance:
            raise WebhookSignatureInvalid(
                "webhook timestamp is outside the tolerance",
                details={"reason": "timestamp_outside_tolerance"},
            )
        body = read_json_object(raw_body)
        event_type = check_text(body.get("type"), "event type")
        return [
            VerifiedProviderEvent(
                provider=self.name,
                event_id=check_event_id(body.get("id")),
                event_type=event_type,
                occurred_at=from_unix(body.get("created")),
                payload_sha256=body_digest(raw_body),
                payment=self._payment(event_type, body),
            )
        ]

    @staticmethod
    def _payment(event_type: str, body: dict[str, Any]) -> PaymentFacts | None:
        kind = OUTCOME_EVENTS.get(event_type)
        if kind is None:
            return None
        data = body.get("data")
        intent = data.get("object") if isinstance(data, dict) else None
        if not isinstance(intent, dict):
            intent = {}
        intent_id = check_text(intent.get("id"), "payment intent id")
        amount = intent.get("amount_received") if kind == "payment.captured" else None
        return PaymentFacts(
            kind=kind,
            payment_id=intent_id,
            order_id=intent_id,
            amount=check_amount(amount if amount else intent.get("amount")),
            currency=check_currency(intent.get("currency")),
            notes=string_map(intent.get("metadata")),
        )

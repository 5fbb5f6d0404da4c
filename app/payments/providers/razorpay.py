"""Razorpay adapter — also drives the local sandbox, which follows Razorpay's API shape.

Sources (Razorpay docs): Orders API ``POST /v1/orders`` (basic auth ``key_id:key_secret``;
``amount`` in paise, ``currency``, ``receipt`` ≤ 40 chars, ``notes`` ≤ 15 pairs); "Payment
verification": ``razorpay_signature`` = hex HMAC-SHA256 of ``"{order_id}|{payment_id}"`` with
the key secret; "Validate webhooks": ``X-Razorpay-Signature`` = hex HMAC-SHA256 of the raw body
with the webhook secret, ``X-Razorpay-Event-Id`` the event id repeated on every re-delivery;
events ``payment.captured`` / ``order.paid`` / ``payment.failed`` carry
``payload.payment.entity`` (``id``, ``order_id``, ``amount``, ``currency``, ``notes``,
``status``). Signatures are checked with the official SDK's ``Utility`` (constant-time compare);
HTTP goes through aiohttp because the SDK's client is synchronous.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from razorpay.errors import SignatureVerificationError
from razorpay.utility.utility import Utility

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

SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"

# The events that carry a payment outcome. ``order.paid`` repeats ``payment.captured`` for the
# same payment; the service keeps one outcome per (payment, kind).
OUTCOME_EVENTS: dict[str, PaymentKind] = {
    "payment.captured": "payment.captured",
    "order.paid": "payment.captured",
    "payment.failed": "payment.failed",
}


def _verify(message: str, signature: str, secret: str) -> bool:
    """The SDK's HMAC-SHA256 hex check; False on mismatch or a signature that is not ASCII."""
    try:
        return bool(Utility().verify_signature(message, signature, secret))
    except (SignatureVerificationError, TypeError):
        # TypeError: hmac.compare_digest refuses non-ASCII str (a garbage header).
        return False


class RazorpayProvider:
    """Razorpay (or the sandbox, with ``name="sandbox"`` and its own URL and secrets).

    Args:
        name: ``razorpay`` or ``sandbox`` — the provider recorded on orders and events.
        api_url: ``https://api.razorpay.com`` or the sandbox's URL.
        key_id, key_secret: API credentials (the secret also signs checkout payments).
        webhook_secret: the secret the webhook is signed with.
        checkout_url: base of a hosted checkout page (the sandbox's ``/checkout/{order_id}``);
            ``None`` for Razorpay, where the browser opens Checkout.js with ``key_id``.
    """

    def __init__(
        self,
        *,
        name: str,
        api_url: str,
        key_id: str,
        key_secret: str,
        webhook_secret: str,
        checkout_url: str | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.name = name
        self._api_url = api_url.rstrip("/")
        self._key_id = key_id
        self._key_secret = key_secret
        self._webhook_secret = webhook_secret
        self._checkout_url = checkout_url.rstrip("/") if checkout_url else None
        self._timeout = timeout_seconds

    async def create_order(
        self, amount_paise: int, currency: str, receipt: str, notes: Mapping[str, str]
    ) -> Order:
        """``POST /v1/orders``; returns the order with the sandbox's checkout URL (if any) and
        the public ``key_id``. Raises ``PaymentProviderUnavailable`` / ``…Rejected``."""
        body = await request_json(
            self.name,
            "POST",
            f"{self._api_url}/v1/orders",
            timeout_seconds=self._timeout,
            headers={"Authorization": aiohttp.encode_basic_auth(self._key_id, self._key_secret)},
            json_body={
                "amount": amount_paise,
                "currency": currency,
                "receipt": receipt,
                "notes": dict(notes),
            },
        )
        order_id = check_text(body.get("id"), "order id")
        return Order(
            provider=self.name,
            id=order_id,
            amount=check_amount(body.get("amount")),
            currency=check_currency(body.get("currency")),
            checkout_url=f"{self._checkout_url}/checkout/{order_id}"
            if self._checkout_url
            else None,
            key_id=self._key_id,
        )

    async def order_paid(self, order_id: str) -> bool:
        """``GET /v1/orders/{id}`` (Fetch an Order): its ``status`` is ``paid`` once a payment
        was captured for it. Raises ``PaymentProviderUnavailable`` / ``…Rejected``."""
        body = await request_json(
            self.name,
            "GET",
            f"{self._api_url}/v1/orders/{order_id}",
            timeout_seconds=self._timeout,
            headers={"Authorization": aiohttp.encode_basic_auth(self._key_id, self._key_secret)},
        )
        return body.get("status") == "paid"

    def verify_payment_signature(self, order_id: str, payment_id: str, signature: str) -> None:
        """Check Checkout's ``razorpay_signature`` for ``order_id|payment_id`` (key secret).

        Raises ``PaymentSignatureInvalid``."""
        if not _verify(f"{order_id}|{payment_id}", signature, self._key_secret):
            raise PaymentSignatureInvalid(
                "payment signature does not match", details={"provider": self.name}
            )

    async def refund(
        self, payment_id: str, amount_paise: int, key: str, notes: Mapping[str, str]
    ) -> Refund:
        """``POST /v1/payments/{id}/refund`` with ``receipt`` = ``key``, after looking for a
        refund with that receipt in ``GET /v1/payments/{id}/refunds`` (Razorpay has no
        idempotency header for refunds, so a retry after a lost answer finds the first one).

        Raises ``PaymentProviderUnavailable`` / ``PaymentProviderRejected``."""
        auth = {"Authorization": aiohttp.encode_basic_auth(self._key_id, self._key_secret)}
        listed = await request_json(
            self.name, "GET", f"{self._api_url}/v1/payments/{payment_id}/refunds",
            timeout_seconds=self._timeout, headers=auth,
        )  # fmt: skip
        items = listed.get("items") if isinstance(listed.get("items"), list) else []
        for item in items or []:
            if isinstance(item, dict) and item.get("receipt") == key:
                return _refund(self.name, item)
        body = await request_json(
            self.name, "POST", f"{self._api_url}/v1/payments/{payment_id}/refund",
            timeout_seconds=self._timeout, headers=auth,
            json_body={"amount": amount_paise, "speed": "normal", "receipt": key,
                       "notes": dict(notes)},
        )  # fmt: skip
        return _refund(self.name, body)

    async def fetch_refund(self, payment_id: str, refund_id: str) -> Refund:
        """``GET /v1/payments/{id}/refunds/{refund_id}``: the refund as it is now (Razorpay's
        "Fetch a Specific Refund for a Payment"), for a refund whose webhook did not come.

        Raises ``PaymentProviderUnavailable`` / ``PaymentProviderRejected``."""
        body = await request_json(
            self.name, "GET", f"{self._api_url}/v1/payments/{payment_id}/refunds/{refund_id}",
            timeout_seconds=self._timeout,
            headers={"Authorization": aiohttp.encode_basic_auth(self._key_id, self._key_secret)},
        )  # fmt: skip
        return _refund(self.name, body)

    def parse_webhook(
        self, headers: Mapping[str, str], raw_body: bytes
    ) -> list[VerifiedProviderEvent]:
        """Verify ``X-Razorpay-Signature`` over the raw body, then read the one event.

        Raises ``WebhookSignatureInvalid`` (``details.reason``: ``missing_signature``,
        ``body_not_utf8``, ``signature_mismatch``) or ``WebhookPayloadInvalid``."""
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
        if not self._webhook_secret or not _verify(text, signature.strip(), self._webhook_secret):
            raise WebhookSignatureInvalid(
                "webhook signature does not match", details={"reason": "signature_mismatch"}
            )
        # Signed by the provider from here on.
        event_id = check_event_id(header(headers, EVENT_ID_HEADER))
        body = read_json_object(raw_body)
        event_type = check_text(body.get("event"), "event type")
        return [
            VerifiedProviderEvent(
                provider=self.name,
                event_id=event_id,
                event_type=event_type,
                occurred_at=from_unix(body.get("created_at")),
                payload_sha256=body_digest(raw_body),
                payment=self._payment(event_type, body),
            )
        ]

    @staticmethod
    def _payment(event_type: str, body: dict[str, Any]) -> PaymentFacts | None:
        kind = OUTCOME_EVENTS.get(event_type)
        if kind is None:
            return None
        payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
        assert isinstance(payload, dict)
        entity = _entity(payload, "payment")
        order = _entity(payload, "order")
        # Payment notes are what Checkout was given; the order's notes (order.paid) fill gaps.
        notes = {**string_map(order.get("notes")), **string_map(entity.get("notes"))}
        order_id = entity.get("order_id") or order.get("id")
        return PaymentFacts(
            kind=kind,
            payment_id=check_text(entity.get("id"), "payment id"),
            order_id=order_id if isinstance(order_id, str) and order_id else None,
            amount=check_amount(entity.get("amount")),
            currency=check_currency(entity.get("currency")),
            notes=notes,
        )


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any]:
    wrapper = payload.get(name)
    entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
    return entity if isinstance(entity, dict) else {}


def _refund(provider: str, body: dict[str, Any]) -> Refund:
    receipt = body.get("receipt")
    return Refund(
        provider=provider,
        id=check_text(body.get("id"), "refund id"),
        payment_id=check_text(body.get("payment_id"), "payment id"),
        amount=check_amount(body.get("amount")),
        status=str(body.get("status") or "pending"),
        receipt=receipt if isinstance(receipt, str) else None,
    )

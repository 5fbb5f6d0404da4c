"""What every payment provider adapter offers, and the shapes it returns.

An adapter turns one provider's API into: create an order for a checkout, check a checkout's
payment signature, and verify + read a webhook. Amounts are integer minor units (paise for INR)
everywhere, as the providers themselves send them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import aiohttp

from app.errors import MalformedJSON
from app.inputs import parse_json
from app.payments.errors import (
    PaymentProviderRejected,
    PaymentProviderUnavailable,
    WebhookPayloadInvalid,
)

PaymentKind = Literal["payment.captured", "payment.failed"]

_EVENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, slots=True)
class Order:
    """A provider's order (Razorpay order, Stripe PaymentIntent) for one checkout.

    Fields:
        provider: ``sandbox`` | ``razorpay`` | ``stripe``.
        id: the provider's id (``order_…``, ``pi_…``).
        amount: integer paise to be paid; currency: ISO 4217, upper case.
        checkout_url: a page where the payer pays (the sandbox's checkout page), or ``None``.
        client_secret: Stripe's PaymentIntent client secret for Stripe.js, or ``None``.
        key_id: Razorpay's public key id for Checkout.js, or ``None``.
    """

    provider: str
    id: str
    amount: int
    currency: str
    checkout_url: str | None = None
    client_secret: str | None = None
    key_id: str | None = None


@dataclass(frozen=True, slots=True)
class Refund:
    """A provider's refund of (part of) a captured payment.

    Fields: provider; id (``rfnd_…``, ``re_…``); payment_id; amount (integer paise); status
    (the provider's word: ``processed``, ``pending``, ``succeeded``…); receipt: our key.
    """

    provider: str
    id: str
    payment_id: str
    amount: int
    status: str
    receipt: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """What a verified event says about one payment.

    Fields:
        kind: ``payment.captured`` | ``payment.failed``.
        payment_id: the provider's payment id (``pay_…``, ``pi_…``).
        order_id: the order it pays (``order_…``; the PaymentIntent id for Stripe) or ``None``.
        amount: integer paise — received for a capture, attempted for a failure.
        currency: ISO 4217, upper case.
        notes: the order's notes / PaymentIntent metadata (our ``pool_type``, ``pool_id``,
            ``contribution_id``), as strings.
    """

    kind: PaymentKind
    payment_id: str
    order_id: str | None
    amount: int
    currency: str
    notes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VerifiedProviderEvent:
    """One webhook event whose signature was checked.

    Fields:
        provider: the adapter's name; event_id: the provider's event id (unique per event,
            repeated on every re-delivery); event_type: e.g. ``payment.captured``.
        occurred_at: when the provider says the event happened (UTC).
        payload_sha256: hex digest of the raw body, stored to spot a re-delivery that differs.
        payment: the payment outcome it carries, or ``None`` for events we acknowledge but do
            not act on (``payment.authorized``, refunds, …).
    """

    provider: str
    event_id: str
    event_type: str
    occurred_at: dt.datetime
    payload_sha256: str
    payment: PaymentFacts | None


class PaymentProviderAdapter(Protocol):
    """One payment provider. ``name`` is the path segment of its webhook endpoint."""

    name: str

    async def create_order(
        self, amount_paise: int, currency: str, receipt: str, notes: Mapping[str, str]
    ) -> Order:
        """Create an order for ``amount_paise`` of ``currency``.

        Raises ``PaymentProviderUnavailable`` (no answer / 5xx) or ``PaymentProviderRejected``
        (4xx)."""
        ...

    def verify_payment_signature(self, order_id: str, payment_id: str, signature: str) -> None:
        """Check the signature a checkout hands back. Raises ``PaymentSignatureInvalid``."""
        ...

    async def order_paid(self, order_id: str) -> bool:
        """Whether the provider has taken (or is taking) the money of order ``order_id``:
        asked before an unpaid checkout is given up, so a payment whose webhook is still on
        its way is not. Raises ``PaymentProviderUnavailable`` / ``PaymentProviderRejected``."""
        ...

    async def refund(
        self, payment_id: str, amount_paise: int, key: str, notes: Mapping[str, str]
    ) -> Refund:
        """Refund ``amount_paise`` of a captured payment, exactly once per ``key`` (a retry
        with the same key answers the first refund). Raises ``PaymentProviderUnavailable`` /
        ``PaymentProviderRejected``."""
        ...

    async def fetch_refund(self, payment_id: str, refund_id: str) -> Refund:
        """The refund ``refund_id`` of ``payment_id`` as the provider has it now."""
        ...

    def parse_webhook(
        self, headers: Mapping[str, str], raw_body: bytes
    ) -> list[VerifiedProviderEvent]:
        """Verify the signature over ``raw_body`` first, then read the events.

        Raises ``WebhookSignatureInvalid`` (nothing else is looked at) or, for a correctly
        signed body we cannot read, ``WebhookPayloadInvalid``."""
        ...


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` (case-insensitive), or ``None``."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, item in headers.items():
        if key.lower() == wanted:
            return item
    return None


def body_digest(raw_body: bytes) -> str:
    """Hex SHA-256 of a raw webhook body."""
    return hashlib.sha256(raw_body).hexdigest()


def read_json_object(raw_body: bytes) -> dict[str, Any]:
    """The body as a JSON object. Raises ``WebhookPayloadInvalid``."""
    try:
        value = parse_json(raw_body)
    except MalformedJSON as exc:
        raise WebhookPayloadInvalid("webhook body is not JSON", details=exc.details) from exc
    if not isinstance(value, dict):
        raise WebhookPayloadInvalid("webhook body is not a JSON object")
    return value


def check_event_id(value: object) -> str:
    """A provider event id: 1–100 of ``[A-Za-z0-9_.:-]``. Raises ``WebhookPayloadInvalid``."""
    if not isinstance(value, str) or not _EVENT_ID_RE.match(value):
        raise WebhookPayloadInvalid("webhook has no usable event id", details={"event_id": value})
    return value


def check_amount(value: object) -> int:
    """A positive integer of minor units (never a float or bool). Raises
    ``WebhookPayloadInvalid``."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise WebhookPayloadInvalid(
            "payment amount is not a positive integer of minor units", details={"amount": value}
        )
    return value


def check_currency(value: object) -> str:
    """An ISO 4217 code, returned upper case. Raises ``WebhookPayloadInvalid``."""
    text = value.upper() if isinstance(value, str) else ""
    if not _CURRENCY_RE.match(text):
        raise WebhookPayloadInvalid("payment currency is not an ISO 4217 code")
    return text


def check_text(value: object, what: str) -> str:
    """A non-empty string id of at most 100 characters. Raises ``WebhookPayloadInvalid``."""
    if not isinstance(value, str) or not value or len(value) > 100:
        raise WebhookPayloadInvalid(f"webhook has no usable {what}")
    return value


def string_map(value: object) -> dict[str, str]:
    """Notes / metadata as ``{str: str}``. Razorpay sends empty notes as ``[]``."""
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def from_unix(value: object) -> dt.datetime:
    """A provider's Unix timestamp (seconds) as an aware UTC datetime; now if absent."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


async def request_json(
    provider: str,
    method: str,
    url: str,
    *,
    timeout_seconds: float,
    headers: Mapping[str, str] | None = None,
    json_body: Mapping[str, Any] | None = None,
    form: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One call to a provider's REST API; its JSON object answer.

    Raises:
        PaymentProviderUnavailable: no connection, timeout, or a 5xx answer.
        PaymentProviderRejected: a 4xx answer (``details.provider_error`` is its error body).
    """
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.request(method, url, headers=headers, json=json_body, data=form) as response,
        ):
            status = response.status
            text = await response.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise PaymentProviderUnavailable(
            f"{provider} did not answer", details={"provider": provider, "reason": str(exc)[:200]}
        ) from exc
    try:
        body = json.loads(text) if text else {}
    except ValueError:
        body = {"raw": text[:500]}
    if status >= 500:
        raise PaymentProviderUnavailable(
            f"{provider} answered {status}", details={"provider": provider, "status": status}
        )
    if status >= 400 or not isinstance(body, dict):
        raise PaymentProviderRejected(
            f"{provider} refused the request ({status})",
            details={"provider": provider, "status": status, "provider_error": body},
        )
    return body

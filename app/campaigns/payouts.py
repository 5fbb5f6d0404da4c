"""The campaigns domain's only door to the payout adapter (RazorpayX Payouts, or the local
sandbox that follows its shape) and the payment provider's refunds. If the adapter moves to a
shared module, only the imports of this file change.

Payout destinations (RazorpayX "Payout APIs" → "Account Validation"): ``POST /v1/contacts``
(``name``, ``type``, ``reference_id``); ``POST /v1/fund_accounts`` with ``account_type``
``vpa`` (``vpa.address``) or ``bank_account`` (``bank_account.name``, ``.ifsc``,
``.account_number``); ``POST /v1/fund_accounts/validations`` (``account_number`` of the
business, ``fund_account.id``, ``amount`` 100 paise, ``currency``) answers a
``fund_account.validation`` (``fav_…``) whose ``status`` is ``created`` → ``completed`` |
``failed`` and whose ``results.account_status`` is ``active`` or ``invalid`` with the
``registered_name``; ``GET /v1/fund_accounts/validations/{id}`` fetches it again. Payouts go to
the verified fund account: ``mode`` ``UPI`` for a UPI id, ``IMPS`` for a bank account.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.config import Settings, get_settings
from app.payments.errors import (
    PaymentProviderRejected,
    UnknownProvider,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
)
from app.payments.providers.base import (
    Refund,
    check_amount,
    check_event_id,
    check_text,
    header,
    read_json_object,
)
from app.payments.providers.razorpayx import (
    FAILED_STATES,
    IDEMPOTENCY_HEADER,
    Payout,
    RazorpayXPayouts,
    payout_provider,
)
from app.payments.transfers import fetch_refund, refund_payment

__all__ = [
    "DestinationPayouts", "Payout", "TransferWebhook", "Validation", "destination_payouts",
    "fetch_refund", "polled_payout", "polled_refund", "refund_payment",
    "verify_transfer_webhook",
]  # fmt: skip

# A refund's status in the provider's words → Razorpay's, which the webhooks use (Stripe says
# ``succeeded`` and ``canceled``).
REFUND_STATES = {"succeeded": "processed", "canceled": "cancelled"}

SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"
NOTES_TAG = "samooh_campaign_transfer"  # notes key naming our transfer on a payout or refund

_NARRATION_RE = re.compile(r"[^A-Za-z0-9 ]")
VALIDATION_POLLS = 5


@dataclass(frozen=True, slots=True)
class Validation:
    """A fund account validation: ``status`` ``created`` | ``completed`` | ``failed``;
    ``account_status`` ``active`` | ``invalid`` once completed; the bank's ``registered_name``."""

    id: str
    status: str
    account_status: str | None
    registered_name: str | None


def _validation(body: dict[str, object]) -> Validation:
    results = body.get("results")
    results = results if isinstance(results, dict) else {}
    account_status = results.get("account_status")
    name = results.get("registered_name")
    return Validation(
        id=check_text(body.get("id"), "validation id"), status=str(body.get("status") or ""),
        account_status=str(account_status) if account_status else None,
        registered_name=str(name)[:120] if name else None,
    )  # fmt: skip


class DestinationPayouts(RazorpayXPayouts):
    """The payout adapter plus contacts, fund accounts of both kinds and their validation."""

    async def contact(self, reference_id: str, name: str) -> str:
        """The contact id of ``reference_id`` (the provider answers the same one again)."""
        body = await self._call(
            "POST", "/v1/contacts",
            {"name": name[:50] or "Samooh user", "type": "customer", "reference_id": reference_id},
        )  # fmt: skip
        return check_text(body.get("id"), "contact id")

    async def vpa_account(self, contact_id: str, vpa: str) -> str:
        """A fund account for the UPI id ``vpa``."""
        body = await self._call(
            "POST", "/v1/fund_accounts",
            {"contact_id": contact_id, "account_type": "vpa", "vpa": {"address": vpa}},
        )  # fmt: skip
        return check_text(body.get("id"), "fund account id")

    async def bank_account(self, contact_id: str, holder: str, ifsc: str, number: str) -> str:
        """A fund account for a bank account (holder's name, IFSC, account number)."""
        body = await self._call(
            "POST", "/v1/fund_accounts",
            {"contact_id": contact_id, "account_type": "bank_account",
             "bank_account": {"name": holder, "ifsc": ifsc, "account_number": number}},
        )  # fmt: skip
        return check_text(body.get("id"), "fund account id")

    async def validate(self, fund_account_id: str) -> Validation:
        """Start a validation of the fund account and follow it until it completes or fails
        (at most ``VALIDATION_POLLS`` fetches, a second apart; the sandbox completes at once).
        A validation still ``created`` after that is returned as it is."""
        body = await self._call(
            "POST", "/v1/fund_accounts/validations",
            {"account_number": self._account_number, "fund_account": {"id": fund_account_id},
             "amount": 100, "currency": "INR"},
        )  # fmt: skip
        found = _validation(body)
        for _ in range(VALIDATION_POLLS):
            if found.status != "created":
                break
            await asyncio.sleep(1)
            found = _validation(
                await self._call("GET", f"/v1/fund_accounts/validations/{found.id}")
            )
        return found

    async def fetch_payout(self, payout_id: str) -> dict[str, Any]:
        """``GET /v1/payouts/{id}``: the payout as the provider has it now."""
        return await self._call("GET", f"/v1/payouts/{payout_id}")

    async def pay_to(
        self, *, key: str, fund_account_id: str, mode: str, amount_paise: int, currency: str,
        purpose: str, narration: str, notes: Mapping[str, str] | None = None,
    ) -> Payout:  # fmt: skip
        """``POST /v1/payouts`` to a verified fund account in ``mode`` (``UPI`` or ``IMPS``)
        with ``X-Payout-Idempotency: key`` (also the ``reference_id``, cut to 40 characters)
        and ``notes`` (which the payout webhooks carry back).

        Raises ``PaymentProviderUnavailable`` (retry with the same key) or
        ``PaymentProviderRejected``."""
        body = await self._call(
            "POST", "/v1/payouts",
            {"account_number": self._account_number, "fund_account_id": fund_account_id,
             "amount": amount_paise, "currency": currency, "mode": mode, "purpose": purpose,
             "queue_if_low_balance": True, "reference_id": key[:40],
             "narration": _NARRATION_RE.sub("", narration)[:30], "notes": dict(notes or {})},
            headers={IDEMPOTENCY_HEADER: key},
        )  # fmt: skip
        status = str(body.get("status") or "")
        payout = Payout(
            provider=self.name, id=check_text(body.get("id"), "payout id"),
            amount=check_amount(body.get("amount")), status=status,
            utr=str(body["utr"]) if body.get("utr") else None,
        )  # fmt: skip
        if status in FAILED_STATES:
            raise PaymentProviderRejected(
                f"{self.name} payout {payout.id} {status}",
                details={"provider": self.name, "payout_id": payout.id, "status": status},
            )
        return payout


def destination_payouts(settings: Settings | None = None) -> DestinationPayouts:
    """The adapter of the configured ``payout_provider`` (the sandbox by default)."""
    base = payout_provider(settings or get_settings())
    adapter = DestinationPayouts.__new__(DestinationPayouts)
    adapter.__dict__.update(vars(base))  # the same name, URL, key pair and account number
    return adapter


# ---- webhooks about money going out ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransferWebhook:
    """A verified webhook about a payout (``payout.processed``, ``.reversed``, ``.failed``, …)
    or a refund (``refund.processed``, ``refund.failed``): the provider's entity id
    (``pout_…`` / ``rfnd_…``), its status, our transfer's provider key (``notes`` on a
    payout, ``receipt`` on a refund) and the failure reason when there is one."""

    provider: str
    event_id: str
    event: str
    kind: Literal["payout", "refund"]
    entity_id: str
    status: str
    amount: int
    transfer_key: str | None
    failure: str | None


def _webhook_secret(provider: str, settings: Settings) -> str:
    if provider == "sandbox":
        return settings.payment_sandbox_webhook_secret.get_secret_value()
    if provider == "razorpayx":  # one RazorpayX webhook (payout.* and refund.*), same secret
        return settings.razorpay_webhook_secret.get_secret_value()
    raise UnknownProvider("no such payout provider", details={"provider": provider})


def verify_transfer_webhook(
    provider: str, headers: Mapping[str, str], raw_body: bytes, settings: Settings | None = None
) -> TransferWebhook:
    """Check ``X-Razorpay-Signature`` (hex HMAC-SHA256 of the raw body with the webhook
    secret) before reading anything, then read the one payout or refund event.

    Raises ``UnknownProvider`` (404), ``WebhookSignatureInvalid`` (400: missing or wrong
    signature, or no secret configured) and ``WebhookPayloadInvalid`` (400: signed but not a
    payout or refund event we can read)."""
    secret = _webhook_secret(provider, settings or get_settings())
    signature = (header(headers, SIGNATURE_HEADER) or "").strip()
    if not signature:
        raise WebhookSignatureInvalid(f"{SIGNATURE_HEADER} is missing",
                                      details={"reason": "missing_signature"})  # fmt: skip
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    if not secret or not hmac.compare_digest(expected, signature.encode("ascii", "replace")
                                             .decode()):  # fmt: skip
        raise WebhookSignatureInvalid("webhook signature does not match",
                                      details={"reason": "signature_mismatch"})  # fmt: skip
    # Signed by the provider from here on.
    event_id = check_event_id(header(headers, EVENT_ID_HEADER))
    body = read_json_object(raw_body)
    event = check_text(body.get("event"), "event type")
    kind = event.split(".", 1)[0]
    if kind not in ("payout", "refund"):
        raise WebhookPayloadInvalid("not a payout or refund event", details={"event": event})
    payload = body.get("payload")
    wrapper = payload.get(kind) if isinstance(payload, dict) else None
    entity: Any = wrapper.get("entity") if isinstance(wrapper, dict) else None
    if not isinstance(entity, dict):
        raise WebhookPayloadInvalid(f"the event has no {kind} entity", details={"event": event})
    notes = entity.get("notes") if isinstance(entity.get("notes"), dict) else {}
    key = notes.get(NOTES_TAG) if isinstance(notes, dict) else None
    if kind == "refund" and not key:
        key = entity.get("receipt")
    details = entity.get("status_details")
    failure = entity.get("failure_reason") or (
        details.get("description") if isinstance(details, dict) else None
    )
    if isinstance(entity.get("error"), dict) and not failure:
        failure = entity["error"].get("description")
    return TransferWebhook(
        provider=provider, event_id=event_id, event=event,
        kind="payout" if kind == "payout" else "refund",
        entity_id=check_text(entity.get("id"), f"{kind} id"),
        status=str(entity.get("status") or ""), amount=check_amount(entity.get("amount")),
        transfer_key=key if isinstance(key, str) and key else None,
        failure=str(failure)[:300] if failure else None,
    )  # fmt: skip


def polled_payout(provider: str, transfer_key: str, body: dict[str, Any]) -> TransferWebhook:
    """A payout fetched from the provider, as the webhook its status would have sent (for a
    transfer whose webhook never came); its event id names the payout and the status, so
    polling again applies nothing twice."""
    status = str(body.get("status") or "")
    details = body.get("status_details")
    failure = body.get("failure_reason") or (
        details.get("description") if isinstance(details, dict) else None
    )
    payout_id = check_text(body.get("id"), "payout id")
    return TransferWebhook(
        provider=provider, event_id=f"poll-{payout_id}-{status}", event=f"payout.{status}",
        kind="payout", entity_id=payout_id, status=status,
        amount=check_amount(body.get("amount")), transfer_key=transfer_key,
        failure=str(failure)[:300] if failure else None,
    )  # fmt: skip


def polled_refund(transfer_key: str, refund: Refund) -> TransferWebhook:
    """A refund fetched from the provider, as the webhook its status would have sent (for a
    refund whose webhook never came); its event id names the refund and the status, so
    polling again applies nothing twice."""
    status = REFUND_STATES.get(refund.status, refund.status)
    return TransferWebhook(
        provider=refund.provider, event_id=f"poll-{refund.id}-{status}",
        event=f"refund.{status}", kind="refund", entity_id=refund.id, status=status,
        amount=refund.amount, transfer_key=transfer_key,
        failure=f"the provider says the refund {status}" if status in FAILED_STATES else None,
    )  # fmt: skip

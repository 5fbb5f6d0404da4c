"""Payout adapter: RazorpayX Payouts (also drives the local sandbox, which follows its shape).

Sources (RazorpayX docs, "Payouts API"): basic auth ``key_id:key_secret``; ``POST
/v1/contacts`` (``name``, ``type``, ``reference_id``); ``POST /v1/fund_accounts``
(``contact_id``, ``account_type`` ``vpa``, ``vpa.address``); ``POST /v1/payouts`` with
``account_number`` (the business's RazorpayX account), ``fund_account_id``, ``amount`` (paise),
``currency``, ``mode`` (``UPI``), ``purpose`` (``payout`` / ``refund``), ``queue_if_low_balance``,
``reference_id`` (≤ 40 chars), ``narration`` (≤ 30 chars) and the mandatory
``X-Payout-Idempotency`` header — the same key returns the payout made the first time, so a
retry after a lost answer never pays twice. Payout ``status``: ``queued``, ``pending``,
``processing``, ``processed``, ``reversed``, ``cancelled``, ``failed``, ``rejected``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import aiohttp

from app.config import Settings
from app.payments.errors import PaymentProviderRejected
from app.payments.providers.base import check_amount, check_text, request_json

IDEMPOTENCY_HEADER = "X-Payout-Idempotency"
FAILED_STATES = ("reversed", "cancelled", "failed", "rejected")
_NARRATION_RE = re.compile(r"[^A-Za-z0-9 ]")


@dataclass(frozen=True, slots=True)
class Payout:
    """A payout: provider, id (``pout_…``), amount (paise), status, utr (bank reference)."""

    provider: str
    id: str
    amount: int
    status: str
    utr: str | None = None


class RazorpayXPayouts:
    """RazorpayX (or the sandbox with ``name="sandbox"``, its URL and key pair)."""

    def __init__(
        self, *, name: str, api_url: str, key_id: str, key_secret: str, account_number: str,
        timeout_seconds: float = 10.0,
    ) -> None:  # fmt: skip
        self.name = name
        self._api_url = api_url.rstrip("/")
        self._auth = aiohttp.encode_basic_auth(key_id, key_secret)
        self._account_number = account_number
        self._timeout = timeout_seconds

    async def _call(
        self, method: str, path: str, body: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, object]:  # fmt: skip
        return await request_json(
            self.name, method, f"{self._api_url}{path}", timeout_seconds=self._timeout,
            headers={"Authorization": self._auth, **(headers or {})}, json_body=body,
        )  # fmt: skip

    async def fund_account(self, reference_id: str, name: str, vpa: str) -> str:
        """The fund account id of a UPI id ``vpa`` for the contact ``reference_id``
        (``POST /v1/contacts`` then ``POST /v1/fund_accounts``)."""
        contact = await self._call(
            "POST", "/v1/contacts",
            {"name": name[:50] or "Samooh user", "type": "customer", "reference_id": reference_id},
        )  # fmt: skip
        account = await self._call(
            "POST", "/v1/fund_accounts",
            {"contact_id": check_text(contact.get("id"), "contact id"), "account_type": "vpa",
             "vpa": {"address": vpa}},
        )  # fmt: skip
        return check_text(account.get("id"), "fund account id")

    async def pay(
        self, *, key: str, fund_account_id: str, amount_paise: int, currency: str,
        purpose: str, reference_id: str, narration: str,
    ) -> Payout:  # fmt: skip
        """``POST /v1/payouts`` with ``X-Payout-Idempotency: key``.

        Raises ``PaymentProviderUnavailable`` (no answer / 5xx: safe to retry with the same
        key) or ``PaymentProviderRejected`` (4xx, or a payout that came back failed)."""
        body = await self._call(
            "POST", "/v1/payouts",
            {"account_number": self._account_number, "fund_account_id": fund_account_id,
             "amount": amount_paise, "currency": currency, "mode": "UPI", "purpose": purpose,
             "queue_if_low_balance": True, "reference_id": reference_id[:40],
             "narration": _NARRATION_RE.sub("", narration)[:30]},
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


def payout_provider(settings: Settings) -> RazorpayXPayouts:
    """The payout adapter of ``payout_provider``: the sandbox (default) or RazorpayX."""
    if settings.payout_provider == "razorpayx":
        return RazorpayXPayouts(
            name="razorpayx", api_url=settings.razorpay_api_url,
            key_id=settings.razorpay_key_id,
            key_secret=settings.razorpay_key_secret.get_secret_value(),
            account_number=settings.razorpayx_account_number,
        )  # fmt: skip
    return RazorpayXPayouts(
        name="sandbox", api_url=settings.payment_sandbox_url,
        key_id=settings.payment_sandbox_key_id,
        key_secret=settings.payment_sandbox_key_secret.get_secret_value(),
        account_number="7878780080316316",
    )  # fmt: skip

"""Money going out through providers: refunds of captured payments (the payment provider that
took them) and payouts (the payout adapter). Both are idempotent on the caller's key, so a
caller that retries after a crash or a lost answer never moves money twice."""

from __future__ import annotations

from collections.abc import Mapping

from app.config import Settings, get_settings
from app.metrics import PAYOUTS
from app.payments.errors import PaymentProviderRejected, PaymentProviderUnavailable
from app.payments.providers import build_provider
from app.payments.providers.base import Refund
from app.payments.providers.razorpayx import Payout, payout_provider


async def refund_payment(
    provider: str,
    payment_id: str,
    amount_paise: int,
    key: str,
    notes: Mapping[str, str] | None = None,
    *,
    settings: Settings | None = None,
) -> Refund:
    """Refund ``amount_paise`` of ``payment_id`` at ``provider`` (the one that captured it),
    once per ``key``.

    Raises:
        UnknownProvider (404), PaymentProviderUnavailable (503: retry with the same key),
        PaymentProviderRejected (502: the provider refused, e.g. already fully refunded).
    """
    adapter = build_provider(provider, settings or get_settings())
    return await adapter.refund(payment_id, amount_paise, key, notes or {})


async def fetch_refund(
    provider: str, payment_id: str, refund_id: str, *, settings: Settings | None = None
) -> Refund:
    """The refund ``refund_id`` of ``payment_id`` as ``provider`` has it now (a refund whose
    webhook was lost or late is looked up this way).

    Raises:
        UnknownProvider (404), PaymentProviderUnavailable (503), PaymentProviderRejected (502).
    """
    adapter = build_provider(provider, settings or get_settings())
    return await adapter.fetch_refund(payment_id, refund_id)


async def pay_out(
    *,
    key: str,
    payee_ref: str,
    payee_name: str,
    vpa: str,
    amount_paise: int,
    currency: str,
    purpose: str,
    narration: str,
    settings: Settings | None = None,
) -> Payout:
    """Pay ``amount_paise`` to the UPI id ``vpa`` of ``payee_ref`` through the payout adapter
    (``payout_provider``), once per ``key``.

    Counted in ``samooh_payouts_total`` by result (the status, ``rejected``, ``unavailable``).

    Raises:
        PaymentProviderUnavailable (retry with the same key), PaymentProviderRejected.
    """
    adapter = payout_provider(settings or get_settings())
    provider = adapter.name
    try:
        account = await adapter.fund_account(payee_ref, payee_name, vpa)
        payout = await adapter.pay(
            key=key, fund_account_id=account, amount_paise=amount_paise, currency=currency,
            purpose=purpose, reference_id=key, narration=narration,
        )  # fmt: skip
    except PaymentProviderRejected as exc:  # refused, or the payout failed / was reversed
        PAYOUTS.labels(provider, str(exc.details.get("status") or "rejected")).inc()
        raise
    except PaymentProviderUnavailable:
        PAYOUTS.labels(provider, "unavailable").inc()
        raise
    PAYOUTS.labels(payout.provider, payout.status).inc()
    return payout


def payee_vpa(user_id: str) -> str:
    """The UPI id payouts to ``user_id`` go to. Samooh does not collect payout UPI ids yet:
    the sandbox pays a per-person placeholder address (the same one app/campaigns uses)."""
    return f"samooh.{user_id}@upi"

"""``create_checkout`` (the contributions endpoint's entry point) against the sandbox provider
and the real database: one order per contribution, our ids in the order's notes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from bson import ObjectId

from app.config import Settings
from app.extensions import Services
from app.payments.documents import PaymentOrder
from app.payments.errors import CheckoutConflict, InvalidCheckout, PaymentProviderRejected
from app.payments.service import create_checkout, payment_service
from tests.payments.sandbox_client import SandboxClient


async def test_a_checkout_is_an_order_carrying_our_ids(
    payment_sandbox: SandboxClient, services: Services, settings: Settings
) -> None:
    contribution = str(ObjectId())
    checkout = await create_checkout(contribution, "club42", 150_075, "INR")
    assert (checkout.provider, checkout.amount, checkout.currency) == ("sandbox", 150_075, "INR")
    assert checkout.checkout_url == f"{payment_sandbox.url}/checkout/{checkout.order_id}"
    assert checkout.key_id == settings.payment_sandbox_key_id
    public = checkout.to_public()
    assert public.amount == "1500.75" and public.order_id == checkout.order_id
    _, order = await payment_sandbox.call("GET", f"/v1/orders/{checkout.order_id}")
    assert (order["amount"], order["currency"], order["receipt"]) == (150_075, "INR", contribution)
    assert order["notes"] == {
        "pool_type": "club",
        "pool_id": "club42",
        "contribution_id": contribution,
    }
    stored = await PaymentOrder.find_one({"order_id": checkout.order_id})
    assert stored is not None and stored.contribution_id == contribution


async def test_asking_again_returns_the_same_checkout(
    payment_sandbox: SandboxClient, services: Services
) -> None:
    contribution = str(ObjectId())
    first = await create_checkout(contribution, "club1", 10_000, "INR")
    again = await create_checkout(contribution, "club1", 10_000, "INR")
    assert again == first
    # Concurrent first requests for one contribution end with one stored order.
    other = str(ObjectId())
    asks = [create_checkout(other, "club1", 20_000, "INR") for _ in range(5)]
    results = await asyncio.gather(*asks)
    assert len({r.order_id for r in results}) == 1
    assert await PaymentOrder.find({"contribution_id": other}).count() == 1
    with pytest.raises(CheckoutConflict):
        await create_checkout(contribution, "club1", 10_001, "INR")
    with pytest.raises(CheckoutConflict):
        await create_checkout(contribution, "club2", 10_000, "INR")


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"amount_paise": 100.0}, "amount"),
        ({"amount_paise": True}, "amount"),
        ({"amount_paise": 0}, "amount"),
        ({"amount_paise": -100}, "amount"),
        ({"amount_paise": 10**13}, "amount"),
        ({"currency": "inr"}, "currency"),
        ({"currency": "RUPEE"}, "currency"),
        ({"contribution_id": "x" * 41}, "contribution_id"),
        ({"contribution_id": "a b"}, "contribution_id"),
        ({"pool_id": ""}, "pool_id"),
    ],
)
async def test_bad_arguments_are_refused_before_the_provider_is_called(
    services: Services, arguments: dict[str, Any], field: str
) -> None:
    values: dict[str, Any] = {
        "contribution_id": str(ObjectId()),
        "pool_id": "club1",
        "amount_paise": 10_000,
        "currency": "INR",
        **arguments,
    }
    with pytest.raises(InvalidCheckout) as refused:
        await create_checkout(**values)  # no sandbox running is needed to refuse these
    assert refused.value.details["field"] == field and refused.value.status == 422
    with pytest.raises(InvalidCheckout):
        await payment_service.create_checkout(**values, pool_type="club")
    with pytest.raises(InvalidCheckout):
        await payment_service.create_checkout(
            str(ObjectId()), "club1", 10_000, "INR", pool_type="casino"
        )


async def test_the_providers_refusal_is_passed_on(
    payment_sandbox: SandboxClient, services: Services
) -> None:
    with pytest.raises(PaymentProviderRejected) as rejected:
        await create_checkout(str(ObjectId()), "club1", 99, "INR")  # below Razorpay's ₹1
    assert rejected.value.status == 502
    assert rejected.value.details["provider_error"]["error"]["field"] == "amount"

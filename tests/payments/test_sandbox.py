"""The sandbox payment provider over real HTTP on loopback: Razorpay's API shape, the checkout
page, signed webhooks and the delivery controls (retries, duplicates, hold and shuffle)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import aiohttp
import pytest

from app.config import Settings
from app.payments.errors import PaymentProviderRejected, PaymentProviderUnavailable
from app.payments.providers import RazorpayProvider, build_provider
from tests.conftest import free_port
from tests.payments.conftest import Receiver
from tests.payments.sandbox_client import SandboxClient


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def test_orders_follow_the_razorpay_api_shape(sandbox: SandboxClient) -> None:
    order = await sandbox.create_order(123456, receipt="contrib-1", notes={"pool_id": "p1"})
    assert order["id"].startswith("order_") and len(order["id"]) == len("order_") + 14
    assert order["entity"] == "order"
    assert (order["amount"], order["amount_paid"], order["amount_due"]) == (123456, 0, 123456)
    assert (order["currency"], order["receipt"], order["status"]) == ("INR", "contrib-1", "created")
    assert order["notes"] == {"pool_id": "p1"}
    status, fetched = await sandbox.call("GET", f"/v1/orders/{order['id']}")
    assert status == 200 and fetched == order

    for body, field in [
        ({"amount": 99, "currency": "INR"}, "amount"),
        ({"amount": 1000.5, "currency": "INR"}, "amount"),
        ({"amount": "1000", "currency": "INR"}, "amount"),
        ({"amount": 1000, "currency": "RUPEES"}, "currency"),
        ({"amount": 1000, "receipt": "r" * 41}, "receipt"),
        ({"amount": 1000, "notes": {str(i): "x" for i in range(16)}}, "notes"),
    ]:
        status, error = await sandbox.call("POST", "/v1/orders", body)
        assert status == 400, body
        assert error["error"]["code"] == "BAD_REQUEST_ERROR"
        assert error["error"]["field"] == field
    status, error = await sandbox.call("GET", "/v1/orders/order_doesnotexist00")
    assert status == 400 and error["error"]["code"] == "BAD_REQUEST_ERROR"

    async with aiohttp.ClientSession() as http:
        for auth in ({}, {"Authorization": aiohttp.encode_basic_auth(sandbox.key_id, "wrong")}):
            url = f"{sandbox.url}/v1/orders"
            async with http.post(url, json={"amount": 500}, headers=auth) as response:
                assert response.status == 401
                body = await response.json()
                assert body["error"]["description"] == "Authentication failed"


async def test_the_razorpay_adapter_creates_orders_at_the_sandbox(
    sandbox: SandboxClient, settings: Settings
) -> None:
    provider = build_provider("sandbox", settings)
    notes = {"pool_type": "club", "pool_id": "p1", "contribution_id": "c1"}
    order = await provider.create_order(50000, "INR", "c1", notes)
    assert (order.provider, order.amount, order.currency) == ("sandbox", 50000, "INR")
    assert order.checkout_url == f"{sandbox.url}/checkout/{order.id}"
    assert order.key_id == settings.payment_sandbox_key_id and order.client_secret is None
    _, stored = await sandbox.call("GET", f"/v1/orders/{order.id}")
    assert stored["notes"] == notes and stored["receipt"] == "c1"

    with pytest.raises(PaymentProviderRejected) as rejected:
        await provider.create_order(50, "INR", "c2", notes)
    assert rejected.value.details["provider_error"]["error"]["field"] == "amount"
    wrong_key = RazorpayProvider(
        name="sandbox", api_url=sandbox.url, key_id="rzp_x", key_secret="x", webhook_secret="x"
    )
    with pytest.raises(PaymentProviderRejected) as rejected:
        await wrong_key.create_order(50000, "INR", "c3", notes)
    assert rejected.value.details["status"] == 401
    nowhere = RazorpayProvider(
        name="sandbox",
        api_url=f"http://127.0.0.1:{free_port()}",
        key_id="k",
        key_secret="s",
        webhook_secret="w",
        timeout_seconds=2,
    )
    with pytest.raises(PaymentProviderUnavailable) as unavailable:
        await nowhere.create_order(50000, "INR", "c4", notes)
    assert unavailable.value.status == 503 and unavailable.value.code.startswith("payment_")


async def test_a_person_pays_on_the_checkout_page(
    sandbox: SandboxClient, receiver: Receiver
) -> None:
    await sandbox.control(webhook_url=receiver.url)
    order = await sandbox.create_order(123456, receipt="contrib-9")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox.url}/checkout/{order['id']}") as response:
            page = await response.text()
        assert response.status == 200 and response.content_type == "text/html"
        assert "₹1234.56" in page and "Samooh (sandbox)" in page and "contrib-9" in page
        assert "data-testid=pay" in page and "data-testid=fail" in page
        assert "<script" not in page and "//" not in page.replace("http://", "")  # no CDN
        async with http.post(
            f"{sandbox.url}/checkout/{order['id']}", data={"outcome": "captured"}
        ) as response:
            result = await response.text()
        assert "Payment successful" in result
        payment_id = result.split("data-testid=payment-id>")[1].split("<")[0]
        # The page shows the signature Checkout hands back: HMAC(order_id|payment_id).
        expected = hmac_hex(sandbox.key_secret, f"{order['id']}|{payment_id}".encode())
        assert expected in result
        async with http.get(f"{sandbox.url}/checkout/{order['id']}") as response:
            assert "Already paid" in await response.text()
    status, paid = await sandbox.call("GET", f"/v1/orders/{order['id']}")
    assert (paid["status"], paid["amount_paid"], paid["amount_due"]) == ("paid", 123456, 0)
    status, payment = await sandbox.call("GET", f"/v1/payments/{payment_id}")
    assert (payment["status"], payment["order_id"]) == ("captured", order["id"])
    status, again = await sandbox.call("POST", f"/v1/orders/{order['id']}/pay", {})
    assert status == 400 and "already been paid" in again["error"]["description"]
    await receiver.wait_for(3)


async def test_webhooks_are_signed_like_razorpay(
    sandbox: SandboxClient, receiver: Receiver, settings: Settings
) -> None:
    await sandbox.control(webhook_url=receiver.url)
    notes = {"pool_type": "club", "pool_id": "p7", "contribution_id": "c7"}
    order = await sandbox.create_order(25000, notes=notes)
    paid = await sandbox.pay(order["id"])
    # Deliveries are staggered by a few milliseconds, and a loaded machine may still swap two:
    # the order of arrival is not promised (the app copes with any), so name them by kind.
    kinds = ["payment.authorized", "payment.captured", "order.paid"]
    received = sorted(
        await receiver.wait_for(3), key=lambda r: kinds.index(json.loads(r.body)["event"])
    )
    secret = settings.payment_sandbox_webhook_secret.get_secret_value()
    events = []
    for item in received:
        assert item.headers["X-Razorpay-Signature"] == hmac_hex(secret, item.body)
        assert item.headers["Content-Type"] == "application/json"
        events.append(json.loads(item.body))
    assert [e["event"] for e in events] == kinds
    assert len({r.headers["X-Razorpay-Event-Id"] for r in received}) == 3
    captured = events[1]["payload"]["payment"]["entity"]
    assert captured["id"] == paid["razorpay_payment_id"]
    assert (captured["order_id"], captured["amount"], captured["currency"]) == (
        order["id"],
        25000,
        "INR",
    )
    assert (captured["status"], captured["notes"]) == ("captured", notes)
    assert events[2]["payload"]["order"]["entity"]["status"] == "paid"
    # Checkout's signature: HMAC of order_id|payment_id with the key secret.
    message = f"{order['id']}|{paid['razorpay_payment_id']}".encode()
    assert paid["razorpay_signature"] == hmac_hex(sandbox.key_secret, message)
    # What our own adapter makes of them.
    adapter = build_provider("sandbox", settings)
    adapter.verify_payment_signature(
        order["id"], paid["razorpay_payment_id"], paid["razorpay_signature"]
    )
    parsed = [adapter.parse_webhook(r.headers, r.body)[0] for r in received]
    assert [p.payment.kind if p.payment else None for p in parsed] == [
        None,
        "payment.captured",
        "payment.captured",
    ]


async def test_a_failed_payment_then_a_capture_on_the_same_order(
    sandbox: SandboxClient, receiver: Receiver
) -> None:
    await sandbox.control(webhook_url=receiver.url, authorized_event=False, order_paid_event=False)
    order = await sandbox.create_order(10000)
    failed = await sandbox.pay(order["id"], "failed")
    assert failed["payment"]["status"] == "failed"
    _, attempted = await sandbox.call("GET", f"/v1/orders/{order['id']}")
    assert (attempted["status"], attempted["attempts"]) == ("attempted", 1)
    captured = await sandbox.pay(order["id"])
    assert captured["payment"]["id"] != failed["payment"]["id"]
    received = await receiver.wait_for(2)
    assert [json.loads(r.body)["event"] for r in received] == ["payment.failed", "payment.captured"]
    _, payments = await sandbox.call("GET", f"/v1/orders/{order['id']}/payments")
    assert payments["count"] == 2


async def test_deliveries_retry_with_exponential_backoff_until_a_2xx(
    sandbox: SandboxClient, receiver: Receiver
) -> None:
    await sandbox.control(
        webhook_url=receiver.url, retry_base_ms=100, authorized_event=False, order_paid_event=False
    )
    receiver.answer = lambda n, _: 500 if n <= 2 else 200
    order = await sandbox.create_order(10000)
    await sandbox.pay(order["id"])
    (delivery,) = await sandbox.wait_settled([order["id"]])
    assert delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 500, 200]
    times = [r.at for r in receiver.requests]
    assert times[1] - times[0] >= 0.09  # base
    assert times[2] - times[1] >= 0.19  # base × 2
    assert len({r.body for r in receiver.requests}) == 1  # the same event each time


async def test_deliveries_are_given_up_after_max_attempts(
    sandbox: SandboxClient, receiver: Receiver
) -> None:
    await sandbox.control(
        webhook_url=receiver.url, max_attempts=3, authorized_event=False, order_paid_event=False
    )
    receiver.answer = lambda n, _: 503
    order = await sandbox.create_order(10000)
    await sandbox.pay(order["id"], "failed")
    (delivery,) = await sandbox.wait_settled([order["id"]])
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 3
    assert len(receiver.requests) == 3


async def test_duplicates_and_lost_answers_repeat_the_same_event(
    sandbox: SandboxClient, receiver: Receiver
) -> None:
    await sandbox.control(
        webhook_url=receiver.url,
        duplicates=2,
        lose_responses=1,
        authorized_event=False,
        order_paid_event=False,
    )
    order = await sandbox.create_order(10000)
    await sandbox.pay(order["id"])
    deliveries = await sandbox.wait_settled([order["id"]])
    assert len(deliveries) == 3 and {d["state"] for d in deliveries} == {"delivered"}
    for delivery in deliveries:
        assert [a.get("lost", False) for a in delivery["attempts"]] == [True, False]
    assert len(receiver.requests) == 6  # 3 deliveries × (1 lost answer + 1 accepted)
    assert len({r.headers["X-Razorpay-Event-Id"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1


async def test_held_deliveries_are_released_shuffled(
    sandbox: SandboxClient, receiver: Receiver
) -> None:
    await sandbox.control(webhook_url=receiver.url, hold=True, stagger_ms=2)
    orders = [await sandbox.create_order(10000 + i) for i in range(6)]
    for order in orders:
        await sandbox.pay(order["id"])
    await asyncio.sleep(0.3)
    assert receiver.requests == []
    held = await sandbox.deliveries()
    created = [d["event_id"] for d in held if d["state"] == "held"]
    assert len(created) == 18
    assert await sandbox.flush(shuffle=True) == 18
    received = await receiver.wait_for(18)
    arrived = [r.headers["X-Razorpay-Event-Id"] for r in received]
    assert sorted(arrived) == sorted(created)
    assert arrived != created  # 18! orders: the same one by chance is not a real risk
    # A capture's order.paid may now arrive before its payment.captured, as Razorpay warns.
    await sandbox.wait_settled([o["id"] for o in orders])


async def test_a_payment_can_be_dated(sandbox: SandboxClient, receiver: Receiver) -> None:
    await sandbox.control(webhook_url=receiver.url, authorized_event=False, order_paid_event=False)
    order = await sandbox.create_order(10000)
    status, error = await sandbox.call(
        "POST", f"/v1/orders/{order['id']}/pay", {"paid_at": "2026-08-28T09:30:00"}
    )
    assert status == 400 and error["error"]["field"] == "paid_at"  # a time needs its zone
    paid = await sandbox.pay(order["id"], paid_at="2026-08-28T15:00:00+05:30")
    assert paid["payment"]["created_at"] == 1787909400  # 2026-08-28T09:30:00Z
    (received,) = await receiver.wait_for(1)
    event = json.loads(received.body)
    assert event["created_at"] == 1787909400
    assert event["payload"]["payment"]["entity"]["created_at"] == 1787909400

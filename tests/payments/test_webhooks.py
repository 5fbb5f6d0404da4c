"""The webhook endpoint against the running web server (``live_stack``) and the real services:
verify → store the event id → publish one ``PaymentEventV1`` per payment outcome → 2xx, read
back from the payments topic by a Kafka consumer in the test."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiokafka import AIOKafkaConsumer, TopicPartition
from bson import ObjectId
from pydantic import SecretStr

from app.config import Settings
from app.extensions import Services
from app.payments.documents import PaymentOutcome, ProviderEvent
from app.payments.repository import SECURITY_EVENTS, WEBHOOK_SIGNATURE_INVALID
from app.payments.service import create_checkout, payment_service
from streams.topics import PAYMENT_EVENTS
from tests.conftest import LiveStack, free_port
from tests.payments.sandbox_client import SandboxClient


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def published(settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    """Every record on this session's payments topic so far: (key, value)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(PAYMENT_EVENTS.name, p) for p in range(PAYMENT_EVENTS.partitions)
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        records: list[tuple[str, dict[str, Any]]] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                records.extend((m.key.decode(), json.loads(m.value)) for m in messages)
        return records
    finally:
        await consumer.stop()


async def published_for(settings: Settings, pools: set[str]) -> list[tuple[str, dict[str, Any]]]:
    return [(key, value) for key, value in await published(settings) if value["pool_id"] in pools]


def new_pool() -> str:
    return f"club{uuid.uuid4().hex[:12]}"


def sandbox_event(
    event: str,
    *,
    order_id: str | None,
    payment_id: str,
    amount: int,
    notes: dict[str, str] | None = None,
) -> bytes:
    """A webhook body in Razorpay's shape, as the sandbox sends it."""
    status = "failed" if event == "payment.failed" else "captured"
    entity = {
        "id": payment_id,
        "entity": "payment",
        "amount": amount,
        "currency": "INR",
        "status": status,
        "order_id": order_id,
        "notes": notes or [],
        "created_at": int(time.time()),
    }
    body = {
        "entity": "event",
        "event": event,
        "contains": ["payment"],
        "payload": {"payment": {"entity": entity}},
        "created_at": int(time.time()),
    }
    return json.dumps(body).encode()


class Webhooks:
    """Posts webhooks to the live web server, signed as the sandbox signs them."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = f"{url}/api/v1/webhooks"
        self.secret = settings.payment_sandbox_webhook_secret.get_secret_value()

    async def post(
        self,
        body: bytes,
        event_id: str,
        *,
        secret: str | None = None,
        provider: str = "sandbox",
        headers: dict[str, str] | None = None,
        signed_body: bytes | None = None,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        sent = {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": hmac_hex(secret or self.secret, signed_body or body),
            "X-Razorpay-Event-Id": event_id,
            **(headers or {}),
        }
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.url}/{provider}", data=body, headers=sent) as response,
        ):
            return response.status, await response.json(), dict(response.headers)


@pytest.fixture
def webhooks(live_stack: LiveStack, payment_stack: SandboxClient, settings: Settings) -> Webhooks:
    """Signed posts to the live server; the sandbox runs too (``create_checkout`` calls it)."""
    return Webhooks(live_stack.url, settings)


class FlakyProxy:
    """Sits between the sandbox and the web server. For each event id: the 1st delivery gets a
    503 without reaching the server; the 2nd reaches it but its answer is replaced by a 502 (the
    server acted, the provider thinks it failed); later ones pass through."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.seen: Counter[str] = Counter()
        self.answers: list[int] = []

    async def handle(self, request: web.Request) -> web.Response:
        event_id = request.headers.get("X-Razorpay-Event-Id", "")
        body = await request.read()
        self.seen[event_id] += 1
        nth = self.seen[event_id]
        if nth == 1:
            status = 503
        else:
            headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-")}
            headers["Content-Type"] = "application/json"
            async with (
                aiohttp.ClientSession() as http,
                http.post(self.target, data=body, headers=headers) as response,
            ):
                await response.read()
                status = 502 if nth == 2 and response.status == 200 else response.status
        self.answers.append(status)
        return web.json_response({}, status=status)


@pytest.fixture
async def flaky_proxy(live_stack: LiveStack) -> AsyncIterator[tuple[str, FlakyProxy]]:
    proxy = FlakyProxy(f"{live_stack.url}/api/v1/webhooks/sandbox")
    app = web.Application()
    app.router.add_post("/hook", proxy.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/hook", proxy
    await runner.cleanup()


async def test_each_payment_outcome_is_published_once_through_a_delivery_storm(
    payment_stack: SandboxClient,
    sandbox: SandboxClient,
    services: Services,
    settings: Settings,
    flaky_proxy: tuple[str, FlakyProxy],
) -> None:
    proxy_url, proxy = flaky_proxy
    pools = [new_pool(), new_pool()]
    checkouts = []
    for i in range(6):
        checkout = await create_checkout(str(ObjectId()), pools[i % 2], 10_000 + 137 * i, "INR")
        assert checkout.provider == "sandbox" and checkout.checkout_url is not None
        checkouts.append(checkout)
    # Every event delivered 3 times at once, all payments' events held back then released in
    # random order, and every delivery first refused (503) then accepted-but-answered-502.
    await sandbox.control(webhook_url=proxy_url, duplicates=2, hold=True)
    paid: dict[str, tuple[str, str, int]] = {}  # payment id → (kind, contribution, amount)
    for i, checkout in enumerate(checkouts):
        outcomes = ["failed", "captured"] if i == 5 else ["failed" if i == 4 else "captured"]
        for outcome in outcomes:
            payment = (await sandbox.pay(checkout.order_id, outcome))["payment"]
            kind = f"payment.{outcome}"
            paid[payment["id"]] = (kind, checkout.contribution_id, checkout.amount)
    assert await sandbox.flush(shuffle=True) == 3 * (5 * 3 + 2)  # copies × events

    deliveries = await sandbox.wait_settled([c.order_id for c in checkouts], timeout=45)
    assert {d["state"] for d in deliveries} == {"delivered"}, deliveries
    assert 503 in proxy.answers and 502 in proxy.answers

    records = await published_for(settings, set(pools))
    by_payment = Counter((value["payment_id"], value["kind"]) for _, value in records)
    assert by_payment == Counter({(pid, kind) for pid, (kind, _, _) in paid.items()})
    assert len(records) == 7 and len({value["id"] for _, value in records}) == 7
    for key, value in records:
        kind, contribution_id, amount = paid[value["payment_id"]]
        assert key == value["pool_id"]
        assert value["contribution_id"] == contribution_id
        assert value["amount"] == amount and isinstance(value["amount"], int)
        assert (value["provider"], value["currency"], value["pool_type"]) == (
            "sandbox",
            "INR",
            "club",
        )
        assert value["id"] == f"sandbox:{value['provider_event_id']}"
        assert value["occurred_at"].endswith("Z")
    # Every event id is stored once, however often it came.
    event_ids = {d["event_id"] for d in deliveries}
    stored = await ProviderEvent.find({"event_id": {"$in": list(event_ids)}}).to_list()
    assert len(stored) == len(event_ids) == 17
    assert all(event.deliveries >= 3 for event in stored)
    outcomes = await PaymentOutcome.find({"pool_id": {"$in": pools}}).to_list()
    assert len(outcomes) == 7 and {o.status for o in outcomes} == {"published"}


async def test_a_person_paying_on_the_checkout_page_is_published_once(
    payment_stack: SandboxClient, sandbox: SandboxClient, services: Services, settings: Settings
) -> None:
    pool = new_pool()
    checkout = await create_checkout(str(ObjectId()), pool, 250_000, "INR")
    assert checkout.checkout_url is not None
    async with aiohttp.ClientSession() as http:
        async with http.get(checkout.checkout_url) as response:
            assert "₹2500.00" in await response.text()
        async with http.post(checkout.checkout_url, data={"outcome": "captured"}) as response:
            assert "Payment successful" in await response.text()
    await sandbox.wait_settled([checkout.order_id])
    ((key, value),) = await published_for(settings, {pool})
    assert (key, value["kind"], value["amount"]) == (pool, "payment.captured", 250_000)
    assert value["contribution_id"] == checkout.contribution_id


async def test_a_forged_webhook_is_refused_recorded_and_changes_nothing(
    webhooks: Webhooks, services: Services, settings: Settings
) -> None:
    pool = new_pool()
    checkout = await create_checkout(str(ObjectId()), pool, 99_900, "INR")
    body = sandbox_event(
        "payment.captured", order_id=checkout.order_id, payment_id="pay_forged00001", amount=99_900
    )
    event_id = f"evt_{uuid.uuid4().hex[:14]}"
    before = await published(settings)
    tampered = body.replace(b"99900", b"99999")
    attempts = [
        await webhooks.post(body, event_id, secret="guessed-secret"),
        await webhooks.post(body, event_id, headers={"X-Razorpay-Signature": ""}),
        await webhooks.post(body, event_id, headers={"X-Razorpay-Signature": "0" * 64}),
        await webhooks.post(tampered, event_id, signed_body=body),
    ]
    for status, error, _ in attempts:
        assert status == 400
        assert error["error"]["code"] == "invalid_signature"
        assert set(error["error"]) == {"code", "message", "details"}
    assert await ProviderEvent.find_one({"event_id": event_id}) is None
    assert await PaymentOutcome.find_one({"pool_id": pool}) is None
    # The same records (partitions come back in any order).
    assert sorted(v["id"] for _, v in await published(settings)) == sorted(
        v["id"] for _, v in before
    )
    database = ProviderEvent.get_pymongo_collection().database
    digest = hashlib.sha256(body).hexdigest()
    digests = [digest, hashlib.sha256(tampered).hexdigest()]
    recorded = await (
        database[SECURITY_EVENTS].find({"details.body_sha256": {"$in": digests}}).to_list()
    )
    assert len(recorded) == 4
    assert {r["kind"] for r in recorded} == {WEBHOOK_SIGNATURE_INVALID}
    assert {r["details"]["reason"] for r in recorded} == {
        "signature_mismatch",
        "missing_signature",
    }
    assert all(r["ip"] == "127.0.0.1" and r["details"]["provider"] == "sandbox" for r in recorded)

    # The genuine delivery of the same event afterwards is accepted and published once.
    status, ack, _ = await webhooks.post(body, event_id)
    assert (status, ack) == (200, {"received": 1, "duplicates": 0, "published": 1})
    assert len(await published_for(settings, {pool})) == 1


async def test_a_repeated_delivery_is_acknowledged_and_publishes_nothing(
    webhooks: Webhooks, services: Services, settings: Settings
) -> None:
    pool = new_pool()
    checkout = await create_checkout(str(ObjectId()), pool, 12_345, "INR")
    body = sandbox_event(
        "payment.captured", order_id=checkout.order_id, payment_id="pay_repeat000001", amount=12_345
    )
    event_id = f"evt_{uuid.uuid4().hex[:14]}"
    first = await webhooks.post(body, event_id)
    second = await webhooks.post(body, event_id)
    assert first[:2] == (200, {"received": 1, "duplicates": 0, "published": 1})
    assert second[:2] == (200, {"received": 1, "duplicates": 1, "published": 0})
    # order.paid for the same payment is another event, but the same outcome.
    order_paid = body.replace(b'"payment.captured"', b'"order.paid"')
    third = await webhooks.post(order_paid, f"evt_{uuid.uuid4().hex[:14]}")
    assert third[:2] == (200, {"received": 1, "duplicates": 0, "published": 0})
    records = await published_for(settings, {pool})
    assert [value["id"] for _, value in records] == [f"sandbox:{event_id}"]
    stored = await ProviderEvent.find_one({"event_id": event_id})
    assert stored is not None and stored.deliveries == 2
    assert stored.outcome_id == f"sandbox:{event_id}"


async def test_concurrent_duplicates_publish_once(
    webhooks: Webhooks, services: Services, settings: Settings
) -> None:
    pool = new_pool()
    checkout = await create_checkout(str(ObjectId()), pool, 5_000, "INR")
    body = sandbox_event(
        "payment.failed", order_id=checkout.order_id, payment_id="pay_concurrent001", amount=5_000
    )
    event_id = f"evt_{uuid.uuid4().hex[:14]}"
    results = await asyncio.gather(*(webhooks.post(body, event_id) for _ in range(8)))
    statuses = Counter(status for status, _, _ in results)
    assert set(statuses) <= {200, 409}
    assert sum(ack.get("published", 0) for status, ack, _ in results if status == 200) == 1
    for status, ack, headers in results:
        if status == 409:  # another delivery was publishing: the provider retries later
            assert ack["error"]["code"] == "webhook_in_progress"
            assert headers["Retry-After"] == "5"
    ((_, value),) = await published_for(settings, {pool})
    assert value["kind"] == "payment.failed" and value["amount"] == 5_000


async def test_events_that_are_not_ours_or_not_outcomes_are_acknowledged_and_ignored(
    webhooks: Webhooks, services: Services, settings: Settings
) -> None:
    foreign = sandbox_event(
        "payment.captured", order_id="order_NotOurs00001", payment_id="pay_foreign0001", amount=700
    )
    event_id = f"evt_{uuid.uuid4().hex[:14]}"
    assert (await webhooks.post(foreign, event_id))[:2] == (
        200,
        {"received": 1, "duplicates": 0, "published": 0},
    )
    stored = await ProviderEvent.find_one({"event_id": event_id})
    assert stored is not None and stored.outcome_id is None
    assert stored.ignored_reason is not None and "not a Samooh checkout" in stored.ignored_reason
    # Without a stored order, complete notes are enough.
    pool = new_pool()
    contribution = str(ObjectId())
    notes = {"pool_type": "club", "pool_id": pool, "contribution_id": contribution}
    by_notes = sandbox_event(
        "payment.captured", order_id=None, payment_id="pay_bynotes000001", amount=800, notes=notes
    )
    assert (await webhooks.post(by_notes, f"evt_{uuid.uuid4().hex[:14]}"))[1]["published"] == 1
    ((_, value),) = await published_for(settings, {pool})
    assert value["contribution_id"] == contribution
    authorized = foreign.replace(b'"payment.captured"', b'"payment.authorized"')
    status, ack, _ = await webhooks.post(authorized, f"evt_{uuid.uuid4().hex[:14]}")
    assert (status, ack["published"]) == (200, 0)


async def test_endpoint_errors(webhooks: Webhooks, services: Services) -> None:
    body = sandbox_event("payment.captured", order_id=None, payment_id="pay_x", amount=100)
    for provider in ("paypal", "razorpay", "stripe"):  # unknown, or no webhook secret here
        status, error, _ = await webhooks.post(body, "evt_1", provider=provider)
        assert (status, error["error"]["code"]) == (404, "unknown_provider")
    huge = b'{"pad": "' + b"x" * (300 * 1024) + b'"}'
    status, error, _ = await webhooks.post(huge, "evt_huge")
    assert (status, error["error"]["code"]) == (413, "payload_too_large")
    status, error, _ = await webhooks.post(b"[not json", "evt_bad")
    assert (status, error["error"]["code"]) == (400, "invalid_webhook")
    float_amount = body.replace(b'"amount": 100', b'"amount": 100.0')
    status, error, _ = await webhooks.post(float_amount, "evt_float")
    assert (status, error["error"]["code"]) == (400, "invalid_webhook")


async def test_openapi_documents_the_webhook(live_stack: LiveStack) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{live_stack.url}/openapi.json") as response,
    ):
        spec = await response.json()
    operation = spec["paths"]["/api/v1/webhooks/{provider}"]["post"]
    assert {"200", "400", "404", "409", "413", "503"} <= set(operation["responses"])
    assert "invalid_signature" in operation["description"]


# -- the crash window ------------------------------------------------------------------------


async def stored_but_unpublished(
    pool: str,
    contribution_id: str,
    event_id: str,
    payment_id: str,
    claimed_until: dt.datetime,
    age: dt.timedelta = dt.timedelta(0),
) -> None:
    """The state a publisher leaves when it dies between storing and publishing. (Younger
    than ``SWEEP_AFTER``, so the live server's own sweeper leaves it to the test.)"""
    now = dt.datetime.now(dt.UTC)
    await ProviderEvent(
        provider="sandbox",
        event_id=event_id,
        event_type="payment.captured",
        occurred_at=now,
        received_at=now,
        last_received_at=now,
        payload_sha256="0" * 64,
    ).insert()
    await PaymentOutcome(
        record_id=f"sandbox:{event_id}",
        provider="sandbox",
        provider_event_id=event_id,
        kind="payment.captured",
        payment_id=payment_id,
        pool_type="club",
        pool_id=pool,
        contribution_id=contribution_id,
        amount=4_200,
        currency="INR",
        occurred_at=now,
        claim_token="dead-publisher",
        claimed_until=claimed_until,
        created_at=now - age,
    ).insert()


async def test_a_redelivery_publishes_what_a_dead_publisher_left(
    webhooks: Webhooks, services: Services, settings: Settings
) -> None:
    pool = new_pool()
    checkout = await create_checkout(str(ObjectId()), pool, 4_200, "INR")
    event_id = f"evt_{uuid.uuid4().hex[:14]}"
    body = sandbox_event(
        "payment.captured", order_id=checkout.order_id, payment_id="pay_crash0000001", amount=4_200
    )
    now = dt.datetime.now(dt.UTC)
    await stored_but_unpublished(
        pool, checkout.contribution_id, event_id, "pay_crash0000001", now + dt.timedelta(minutes=1)
    )
    # While its claim is live, a re-delivery is told to come back later and publishes nothing.
    status, error, headers = await webhooks.post(body, event_id)
    assert (status, error["error"]["code"], headers["Retry-After"]) == (
        409,
        "webhook_in_progress",
        "5",
    )
    assert await published_for(settings, {pool}) == []
    # Once the claim has expired, the next delivery takes over and publishes, once.
    await PaymentOutcome.get_pymongo_collection().update_one(
        {"record_id": f"sandbox:{event_id}"}, {"$set": {"claimed_until": now}}
    )
    status, ack, _ = await webhooks.post(body, event_id)
    assert (status, ack) == (200, {"received": 1, "duplicates": 1, "published": 1})
    assert (await webhooks.post(body, event_id))[1]["published"] == 0
    ((key, value),) = await published_for(settings, {pool})
    assert (key, value["id"], value["amount"]) == (pool, f"sandbox:{event_id}", 4_200)


async def test_the_sweeper_publishes_outcomes_left_pending(
    services: Services, settings: Settings
) -> None:
    pool = new_pool()
    event_id = f"evt_{uuid.uuid4().hex[:14]}"
    await stored_but_unpublished(
        pool,
        str(ObjectId()),
        event_id,
        "pay_sweep0000001",
        dt.datetime.now(dt.UTC),
        age=dt.timedelta(seconds=5),
    )
    producer = services.require_producer()
    recent = dt.timedelta(seconds=30)
    assert await payment_service.do_publish_pending(producer, older_than=recent) == 0
    older = dt.timedelta(seconds=2)
    assert await payment_service.do_publish_pending(producer, older_than=older) >= 1
    assert await payment_service.do_publish_pending(producer, older_than=older) == 0
    ((_, value),) = await published_for(settings, {pool})
    assert value["id"] == f"sandbox:{event_id}"
    outcome = await PaymentOutcome.find_one({"record_id": f"sandbox:{event_id}"})
    assert outcome is not None and outcome.status == "published"


# -- Stripe through the same path (in-process, real Mongo and Kafka) -------------------------


async def test_stripe_events_take_the_same_path(services: Services, settings: Settings) -> None:
    secret = "whsec_session_test"
    stripe_settings = settings.model_copy(update={"stripe_webhook_secret": SecretStr(secret)})
    pool = new_pool()
    contribution = str(ObjectId())
    body = json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex[:20]}",
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": f"pi_{uuid.uuid4().hex[:20]}",
                    "object": "payment_intent",
                    "amount": 30_000,
                    "amount_received": 30_000,
                    "currency": "inr",
                    "metadata": {
                        "pool_type": "club",
                        "pool_id": pool,
                        "contribution_id": contribution,
                    },
                }
            },
        }
    ).encode()
    t = int(time.time())
    headers = {"Stripe-Signature": f"t={t},v1={hmac_hex(secret, f'{t}.'.encode() + body)}"}
    producer = services.require_producer()
    for expected in (1, 0):
        ack = await payment_service.do_receive_webhook(
            "stripe", headers, body, producer, settings=stripe_settings
        )
        assert ack.published == expected
    ((key, value),) = await published_for(settings, {pool})
    assert (key, value["provider"], value["amount"]) == (pool, "stripe", 30_000)
    assert value["contribution_id"] == contribution and value["id"].startswith("stripe:evt_")

"""Provider adapters: signatures checked against HMACs computed here, independently, from the
providers' documented schemes (Razorpay "Validate webhooks" / "Payment verification"; Stripe
"Check the webhook signatures"), and the events read from them."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr, ValidationError

from app.config import Settings
from app.payments.errors import (
    PaymentProviderRejected,
    PaymentSignatureInvalid,
    UnknownProvider,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
)
from app.payments.providers import RazorpayProvider, StripeProvider, webhook_provider
from tests.conftest import free_port

RZP_WEBHOOK_SECRET = "whk-test-secret-☂"  # non-ASCII on purpose: UTF-8 bytes are signed
RZP_KEY_SECRET = "key-test-secret"
STRIPE_SECRET = "whsec_test_0123456789"


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def razorpay() -> RazorpayProvider:
    return RazorpayProvider(
        name="razorpay",
        api_url="http://127.0.0.1:9",
        key_id="rzp_test_x",
        key_secret=RZP_KEY_SECRET,
        webhook_secret=RZP_WEBHOOK_SECRET,
    )


def stripe_provider(tolerance: int = 300) -> StripeProvider:
    return StripeProvider(
        api_url="http://127.0.0.1:9",
        secret_key="sk_test_x",
        webhook_secret=STRIPE_SECRET,
        tolerance_seconds=tolerance,
    )


def razorpay_body(event: str = "payment.captured", **entity: Any) -> bytes:
    payment = {
        "id": "pay_ABC123",
        "entity": "payment",
        "amount": 123456,
        "currency": "INR",
        "status": "captured",
        "order_id": "order_XYZ",
        "notes": {"pool_type": "club", "pool_id": "club1", "contribution_id": "c1"},
        **entity,
    }
    body = {
        "entity": "event",
        "event": event,
        "contains": ["payment"],
        "payload": {"payment": {"entity": payment}},
        "created_at": 1767225600,  # 2026-01-01T00:00:00Z
    }
    return json.dumps(body).encode()


def rzp_headers(body: bytes, secret: str = RZP_WEBHOOK_SECRET) -> dict[str, str]:
    return {"X-Razorpay-Signature": hmac_hex(secret, body), "X-Razorpay-Event-Id": "evt_1"}


# -- Razorpay ------------------------------------------------------------------------------


def test_razorpay_webhook_signed_with_the_secret_is_read() -> None:
    body = razorpay_body()
    (event,) = razorpay().parse_webhook(rzp_headers(body), body)
    assert (event.provider, event.event_id, event.event_type) == (
        "razorpay",
        "evt_1",
        "payment.captured",
    )
    assert event.occurred_at.isoformat() == "2026-01-01T00:00:00+00:00"
    assert event.payload_sha256 == hashlib.sha256(body).hexdigest()
    assert event.payment is not None
    assert event.payment.kind == "payment.captured"
    assert (event.payment.payment_id, event.payment.order_id) == ("pay_ABC123", "order_XYZ")
    assert event.payment.amount == 123456 and isinstance(event.payment.amount, int)
    assert event.payment.notes["contribution_id"] == "c1"


def test_razorpay_headers_are_case_insensitive() -> None:
    body = razorpay_body()
    headers = {k.lower(): v for k, v in rzp_headers(body).items()}
    assert razorpay().parse_webhook(headers, body)[0].event_id == "evt_1"


def signed_as(value: str) -> Any:
    return lambda body: {**rzp_headers(body), "X-Razorpay-Signature": value}


@pytest.mark.parametrize(
    ("make_headers", "reason"),
    [
        (lambda body: rzp_headers(body, secret="wrong-secret"), "signature_mismatch"),
        (lambda body: {"X-Razorpay-Event-Id": "evt_1"}, "missing_signature"),
        (signed_as(""), "missing_signature"),
        (signed_as("zz" * 32), "signature_mismatch"),
        (signed_as("é" * 64), "signature_mismatch"),
        # SHA-256 of the body without the key is not the HMAC.
        (lambda body: signed_as(hashlib.sha256(body).hexdigest())(body), "signature_mismatch"),
    ],
)
def test_razorpay_refuses_bad_signatures(make_headers: Any, reason: str) -> None:
    body = razorpay_body()
    with pytest.raises(WebhookSignatureInvalid) as refused:
        razorpay().parse_webhook(make_headers(body), body)
    assert refused.value.code == "invalid_signature" and refused.value.status == 400
    assert refused.value.details["reason"] == reason


def test_razorpay_refuses_a_tampered_body() -> None:
    body = razorpay_body()
    headers = rzp_headers(body)
    tampered = body.replace(b"123456", b"923456")
    assert tampered != body
    with pytest.raises(WebhookSignatureInvalid):
        razorpay().parse_webhook(headers, tampered)
    # Re-serialising the same JSON differently is also a different body.
    reformatted = json.dumps(json.loads(body), indent=1).encode()
    with pytest.raises(WebhookSignatureInvalid):
        razorpay().parse_webhook(headers, reformatted)


def test_razorpay_signature_is_checked_before_the_body_is_read() -> None:
    garbage = b"\xff\xfe not json"
    with pytest.raises(WebhookSignatureInvalid):
        razorpay().parse_webhook({"X-Razorpay-Signature": "00" * 32}, garbage)
    not_json = b"not json"
    with pytest.raises(WebhookPayloadInvalid):  # signed correctly, then unreadable
        razorpay().parse_webhook(rzp_headers(not_json), not_json)


def test_razorpay_signed_event_without_an_event_id_is_refused() -> None:
    body = razorpay_body()
    headers = rzp_headers(body)
    del headers["X-Razorpay-Event-Id"]
    with pytest.raises(WebhookPayloadInvalid):
        razorpay().parse_webhook(headers, body)


@pytest.mark.parametrize("amount", [1234.56, 123456.0, "123456", True, 0, -5, None])
def test_razorpay_amount_must_be_positive_integer_paise(amount: Any) -> None:
    body = razorpay_body(amount=amount)
    with pytest.raises(WebhookPayloadInvalid):
        razorpay().parse_webhook(rzp_headers(body), body)


def test_razorpay_failed_order_paid_and_other_events() -> None:
    failed = razorpay_body("payment.failed", status="failed", notes=[])
    (event,) = razorpay().parse_webhook(rzp_headers(failed), failed)
    assert event.payment is not None and event.payment.kind == "payment.failed"
    assert event.payment.notes == {}  # Razorpay sends empty notes as []

    order_paid = json.loads(razorpay_body("order.paid", notes=[]))
    order_paid["payload"]["order"] = {
        "entity": {"id": "order_XYZ", "notes": {"pool_type": "club", "pool_id": "p9"}}
    }
    raw = json.dumps(order_paid).encode()
    (event,) = razorpay().parse_webhook(rzp_headers(raw), raw)
    assert event.payment is not None and event.payment.kind == "payment.captured"
    assert event.payment.notes == {"pool_type": "club", "pool_id": "p9"}

    authorized = razorpay_body("payment.authorized", status="authorized")
    (event,) = razorpay().parse_webhook(rzp_headers(authorized), authorized)
    assert event.event_type == "payment.authorized" and event.payment is None


def test_razorpay_checkout_payment_signature() -> None:
    provider = razorpay()
    good = hmac_hex(RZP_KEY_SECRET, b"order_XYZ|pay_ABC123")
    provider.verify_payment_signature("order_XYZ", "pay_ABC123", good)
    for order_id, payment_id, signature in [
        ("pay_ABC123", "order_XYZ", good),  # swapped
        ("order_XYZ", "pay_ABC124", good),
        ("order_XYZ", "pay_ABC123", hmac_hex("other", b"order_XYZ|pay_ABC123")),
        ("order_XYZ", "pay_ABC123", ""),
    ]:
        with pytest.raises(PaymentSignatureInvalid):
            provider.verify_payment_signature(order_id, payment_id, signature)


# -- Stripe --------------------------------------------------------------------------------


def stripe_body(event_type: str = "payment_intent.succeeded", **intent: Any) -> bytes:
    body = {
        "id": "evt_3Stripe",
        "object": "event",
        "type": event_type,
        "created": 1767225600,
        "data": {
            "object": {
                "id": "pi_3Stripe",
                "object": "payment_intent",
                "amount": 50000,
                "amount_received": 50000,
                "currency": "inr",
                "status": "succeeded",
                "metadata": {"pool_type": "club", "pool_id": "club1", "contribution_id": "c2"},
                **intent,
            }
        },
    }
    return json.dumps(body).encode()


def stripe_header(
    body: bytes, *, at: int | None = None, secret: str = STRIPE_SECRET, extra: str = ""
) -> dict[str, str]:
    t = int(time.time()) if at is None else at
    signature = hmac_hex(secret, f"{t}.".encode() + body)
    return {"Stripe-Signature": f"t={t},{extra}v1={signature}"}


def test_stripe_webhook_signed_now_is_read() -> None:
    body = stripe_body()
    (event,) = stripe_provider().parse_webhook(stripe_header(body), body)
    assert (event.provider, event.event_id, event.event_type) == (
        "stripe",
        "evt_3Stripe",
        "payment_intent.succeeded",
    )
    assert event.payment is not None
    assert event.payment.kind == "payment.captured"
    assert (event.payment.amount, event.payment.currency) == (50000, "INR")
    assert event.payment.payment_id == event.payment.order_id == "pi_3Stripe"
    assert event.payment.notes["contribution_id"] == "c2"


def test_stripe_capture_amount_is_what_was_received() -> None:
    body = stripe_body(amount=50000, amount_received=20000)
    (event,) = stripe_provider().parse_webhook(stripe_header(body), body)
    assert event.payment is not None and event.payment.amount == 20000


def test_stripe_failed_and_other_events() -> None:
    failed = stripe_body("payment_intent.payment_failed", amount_received=0, status="failed")
    (event,) = stripe_provider().parse_webhook(stripe_header(failed), failed)
    assert event.payment is not None and event.payment.kind == "payment.failed"
    assert event.payment.amount == 50000  # attempted
    other = stripe_body("charge.refunded")
    (event,) = stripe_provider().parse_webhook(stripe_header(other), other)
    assert event.payment is None


def test_stripe_one_valid_signature_among_several_is_enough() -> None:
    body = stripe_body()
    t = int(time.time())
    good = hmac_hex(STRIPE_SECRET, f"{t}.".encode() + body)
    old = hmac_hex("whsec_rolled_away", f"{t}.".encode() + body)
    header = {"Stripe-Signature": f"t={t},v1={old},v1={good},v0={'ab' * 32}"}
    assert stripe_provider().parse_webhook(header, body)[0].event_id == "evt_3Stripe"


def signed_at(offset: int) -> Any:
    return lambda body: stripe_header(body, at=int(time.time()) + offset)


def v0_only(body: bytes) -> dict[str, str]:
    return {"Stripe-Signature": stripe_header(body)["Stripe-Signature"].replace("v1=", "v0=")}


STALE = "timestamp_outside_tolerance"


@pytest.mark.parametrize(
    ("make_header", "reason"),
    [
        (lambda body: stripe_header(body, secret="whsec_wrong"), "signature_mismatch"),
        (lambda body: {}, "missing_signature"),
        (lambda body: {"Stripe-Signature": "garbage"}, "signature_mismatch"),
        (lambda body: {"Stripe-Signature": f"t={int(time.time())}"}, "signature_mismatch"),
        # Only a v0 (legacy test-mode) signature, even a correct HMAC, is not accepted.
        (v0_only, "signature_mismatch"),
        # Several v1, none valid.
        (
            lambda body: stripe_header(body, secret="whsec_a", extra=f"v1={'cd' * 32},"),
            "signature_mismatch",
        ),
        (signed_at(-301), STALE),
        (signed_at(-3600), STALE),
        (signed_at(+301), STALE),
        (signed_at(+86400), STALE),
    ],
)
def test_stripe_refuses_bad_or_untimely_signatures(make_header: Any, reason: str) -> None:
    body = stripe_body()
    with pytest.raises(WebhookSignatureInvalid) as refused:
        stripe_provider().parse_webhook(make_header(body), body)
    assert refused.value.details["reason"] == reason


def test_stripe_timestamps_within_tolerance_either_way_are_accepted() -> None:
    body = stripe_body()
    for offset in (-290, -1, 0, 1, 290):
        header = stripe_header(body, at=int(time.time()) + offset)
        assert stripe_provider().parse_webhook(header, body)[0].event_id == "evt_3Stripe"
    narrow = stripe_provider(tolerance=10)
    with pytest.raises(WebhookSignatureInvalid):
        narrow.parse_webhook(stripe_header(body, at=int(time.time()) - 60), body)


def test_stripe_refuses_a_tampered_body_and_a_replayed_timestamp() -> None:
    body = stripe_body()
    header = stripe_header(body)
    with pytest.raises(WebhookSignatureInvalid):
        stripe_provider().parse_webhook(header, body.replace(b"50000", b"90000"))
    # The same signature moved onto another timestamp does not verify.
    t, v1 = header["Stripe-Signature"].split(",")
    moved = {"Stripe-Signature": f"t={int(t[2:]) + 1},{v1}"}
    with pytest.raises(WebhookSignatureInvalid):
        stripe_provider().parse_webhook(moved, body)


def test_stripe_has_no_checkout_signature() -> None:
    with pytest.raises(PaymentSignatureInvalid):
        stripe_provider().verify_payment_signature("pi_1", "pi_1", "sig")


# -- which endpoints exist, and production settings ------------------------------------------


def production_settings(**values: Any) -> Settings:
    """Production settings with valid identity keys, so only the payment rules are tested."""
    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    return Settings(
        environment="production",
        secret_key="p" * 48,
        jwt_private_key=pem,
        **values,
    )


def test_webhook_endpoints_exist_only_for_configured_providers(settings: Settings) -> None:
    assert webhook_provider("sandbox", settings).name == "sandbox"
    for name in ("razorpay", "stripe", "paypal", "", "../sandbox"):
        with pytest.raises(UnknownProvider):
            webhook_provider(name, settings)
    configured = settings.model_copy(update={"stripe_webhook_secret": SecretStr("s")})
    assert webhook_provider("stripe", configured).name == "stripe"


def test_production_refuses_the_sandbox_dev_secrets() -> None:
    with pytest.raises(ValidationError) as refused:
        production_settings()
    assert "payment_sandbox_key_secret" in str(refused.value)
    assert "payment_sandbox_webhook_secret" in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        production_settings(payment_provider="razorpay", razorpay_key_id="rzp_live_x")
    assert "razorpay_key_secret" in str(refused.value)
    with pytest.raises(ValidationError):
        production_settings(payment_provider="stripe")


def test_production_with_real_keys_has_no_sandbox_endpoint() -> None:
    settings = production_settings(
        payment_provider="razorpay",
        razorpay_key_id="rzp_live_x",
        razorpay_key_secret="live-secret",
        razorpay_webhook_secret="live-webhook-secret",
    )
    assert webhook_provider("razorpay", settings).name == "razorpay"
    # The sandbox's dev webhook secret is public: its endpoint must not exist here.
    with pytest.raises(UnknownProvider):
        webhook_provider("sandbox", settings)
    own = production_settings(
        payment_sandbox_key_secret="k" * 20, payment_sandbox_webhook_secret="w" * 20
    )
    assert webhook_provider("sandbox", own).name == "sandbox"


# -- Stripe PaymentIntents against a stand-in of Stripe's API on loopback --------------------


@contextlib.asynccontextmanager
async def stand_in(app: web.Application) -> AsyncIterator[str]:
    """``app`` served on a free loopback port for the test's length: its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_stripe_creates_a_payment_intent_with_our_metadata() -> None:
    seen: list[tuple[dict[str, str], dict[str, str]]] = []

    async def payment_intents(request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        seen.append((dict(request.headers), form))
        if request.headers.get("Authorization") != "Bearer sk_test_x":
            return web.json_response({"error": {"type": "invalid_request_error"}}, status=401)
        if int(form["amount"]) < 50:
            return web.json_response({"error": {"code": "amount_too_small"}}, status=400)
        intent = {
            "id": "pi_3Test",
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "client_secret": "pi_3Test_secret_abc",
            "status": "requires_payment_method",
        }
        return web.json_response(intent)

    app = web.Application()
    app.router.add_post("/v1/payment_intents", payment_intents)
    async with stand_in(app) as url:
        provider = StripeProvider(api_url=url, secret_key="sk_test_x", webhook_secret="w")
        notes = {"pool_type": "club", "pool_id": "p1", "contribution_id": "c1"}
        order = await provider.create_order(123456, "INR", "c1", notes)
        assert (order.provider, order.id, order.amount, order.currency) == (
            "stripe",
            "pi_3Test",
            123456,
            "INR",
        )
        assert order.client_secret == "pi_3Test_secret_abc" and order.checkout_url is None
        headers, form = seen[0]
        assert headers["Idempotency-Key"] == "samooh-checkout-c1"
        assert form["amount"] == "123456" and form["currency"] == "inr"
        assert form["metadata[pool_id]"] == "p1" and form["metadata[contribution_id]"] == "c1"
        assert form["automatic_payment_methods[enabled]"] == "true"
        with pytest.raises(PaymentProviderRejected) as rejected:
            await provider.create_order(10, "INR", "c2", notes)
        assert rejected.value.details["provider_error"] == {"error": {"code": "amount_too_small"}}
        wrong = StripeProvider(api_url=url, secret_key="sk_other", webhook_secret="w")
        with pytest.raises(PaymentProviderRejected):
            await wrong.create_order(123456, "INR", "c3", notes)


async def test_stripe_says_whether_a_payment_intent_took_the_money() -> None:
    """``order_paid``: ``GET /v1/payment_intents/{id}`` — succeeded, processing or awaiting
    capture count as paid; anything else (awaiting a payment method, cancelled) does not."""
    statuses = {"pi_ok": "succeeded", "pi_busy": "processing", "pi_hold": "requires_capture",
                "pi_open": "requires_payment_method", "pi_gone": "canceled"}  # fmt: skip
    asked: list[str] = []

    async def intent(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer sk_test_x":
            return web.json_response({"error": {"type": "invalid_request_error"}}, status=401)
        intent_id = request.match_info["intent_id"]
        asked.append(intent_id)
        return web.json_response({"id": intent_id, "object": "payment_intent",
                                  "status": statuses[intent_id]})  # fmt: skip

    app = web.Application()
    app.router.add_get("/v1/payment_intents/{intent_id}", intent)
    async with stand_in(app) as url:
        provider = StripeProvider(api_url=url, secret_key="sk_test_x", webhook_secret="w")
        paid = {i: await provider.order_paid(i) for i in statuses}
    assert paid == {"pi_ok": True, "pi_busy": True, "pi_hold": True, "pi_open": False,
                    "pi_gone": False}  # fmt: skip
    assert asked == list(statuses)

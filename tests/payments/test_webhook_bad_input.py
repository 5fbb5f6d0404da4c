"""A correctly signed webhook whose body we cannot read answers 400 and stores nothing (issue 13:
JSON nested thousands of levels deep was a 500, a RecursionError, on the signed webhook path)."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest
from quart import Quart

from app.config import Settings
from app.extensions import Services
from app.payments.documents import PaymentOutcome, ProviderEvent
from app.payments.repository import SECURITY_EVENTS
from app.web import create_app


@pytest.fixture(scope="module")
async def app(settings: Settings, services: Services) -> Quart:
    return create_app(settings)


def _deep(levels: int) -> bytes:
    return b'{"entity": "event", "payload": ' + b'{"a": ' * levels + b"1" + b"}" * (levels + 1)


@pytest.mark.parametrize("levels", [5000, 100])
async def test_a_signed_webhook_nested_too_deep_is_400_and_stores_nothing(
    app: Quart, settings: Settings, services: Services, levels: int
) -> None:
    body = _deep(levels)
    secret = settings.payment_sandbox_webhook_secret.get_secret_value()
    event_id = f"evt_{uuid.uuid4().hex[:14]}"
    database = ProviderEvent.get_pymongo_collection().database
    digest = hashlib.sha256(body).hexdigest()
    response = await app.test_client().post(
        "/api/v1/webhooks/sandbox",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Razorpay-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "X-Razorpay-Event-Id": event_id,
        },
    )
    answer = await response.get_json()
    assert response.status_code == 400, answer
    assert answer["error"]["code"] == "invalid_webhook"
    assert answer["error"]["details"]["reason"] == "too_deep"
    assert await ProviderEvent.find_one({"event_id": event_id}) is None
    assert await PaymentOutcome.find_one({"provider_event_id": event_id}) is None
    # Signed by the provider: not a forgery, so no security event either.
    assert await database[SECURITY_EVENTS].count_documents({"details.body_sha256": digest}) == 0

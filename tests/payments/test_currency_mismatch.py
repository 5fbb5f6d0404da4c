"""A captured payment in another currency than its contribution is held as unmatched, exactly like
a payment of another amount (issue 13; docs: domain, "Payments and the ledger"): the money is
kept in ``liabilities:unmatched_payments`` (money in a foreign currency in that currency's own
pair of accounts, never added to the club's cash) and the contribution stays unpaid.

End to end: the live web server and worker, the sandbox provider for the checkouts, signed
webhooks, and the books read back through the API."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import aiohttp
import pytest

from app.config import Settings
from tests.clubs.http import Member, login
from tests.conftest import LiveStack
from tests.identity.conftest import Api, eventually
from tests.payments.sandbox_client import SandboxClient
from tests.payments.test_webhooks import Webhooks

UNMATCHED = "liabilities:unmatched_payments"


@pytest.fixture
async def api(live_stack: LiveStack) -> Any:
    async with aiohttp.ClientSession() as http:
        yield Api(live_stack.url, http)


def captured(order_id: str, payment_id: str, amount: int, currency: str) -> bytes:
    """A ``payment.captured`` webhook body in Razorpay's shape, as the sandbox sends it."""
    entity = {"id": payment_id, "entity": "payment", "amount": amount, "currency": currency,
              "status": "captured", "order_id": order_id, "notes": [],
              "created_at": int(time.time())}  # fmt: skip
    return json.dumps(
        {"entity": "event", "event": "payment.captured", "contains": ["payment"],
         "payload": {"payment": {"entity": entity}}, "created_at": int(time.time())}
    ).encode()  # fmt: skip


async def open_contribution(owner: Member, club_id: str, amount: str) -> dict[str, Any]:
    body = await owner.ok("POST", f"/api/v1/clubs/{club_id}/contributions",
                          {"amount": amount, "method": "online"}, status=201,
                          key=str(uuid.uuid4()))  # fmt: skip
    assert body["status"] == "awaiting_payment" and body["order_id"], body
    return dict(body)


async def test_a_payment_in_another_currency_is_held_as_unmatched_like_another_amount(
    api: Api, live_stack: LiveStack, payment_stack: SandboxClient, settings: Settings
) -> None:
    owner = await login(api)
    club = await owner.ok("POST", "/api/v1/clubs", {"name": "Rupee Club"}, status=201)
    assert club["currency"] == "INR"
    club_id = club["id"]
    in_dollars = await open_contribution(owner, club_id, "500.00")
    short = await open_contribution(owner, club_id, "500.00")
    right = await open_contribution(owner, club_id, "500.00")
    webhooks = Webhooks(live_stack.url, settings)
    # One pool, one partition: the worker applies them in this order.
    for contribution, amount, currency in (
        (in_dollars, 50_000, "USD"),
        (short, 40_000, "INR"),
        (right, 50_000, "INR"),
    ):
        body = captured(contribution["order_id"], f"pay_{uuid.uuid4().hex[:14]}", amount, currency)
        status, ack, _ = await webhooks.post(body, f"evt_{uuid.uuid4().hex[:14]}")
        assert (status, ack["published"]) == (200, 1), ack

    async def statuses() -> dict[str, str] | None:
        listed = await owner.ok("GET", f"/api/v1/clubs/{club_id}/contributions")
        found = {c["id"]: c["status"] for c in listed["contributions"]}
        return found if found[right["id"]] == "received" else None

    found = await eventually(statuses, timeout=30)
    assert found[in_dollars["id"]] == "awaiting_payment"  # not received: the wrong currency
    assert found[short["id"]] == "awaiting_payment"  # not received: the wrong amount
    balance = await owner.ok("GET", f"/api/v1/clubs/{club_id}/trial-balance")
    rows = {row["account"]: row for row in balance["rows"]}
    assert balance["balanced"] is True
    assert rows["assets:cash"]["debit"] == "900.00"  # every rupee kept
    assert rows[UNMATCHED]["credit"] == "400.00"  # the short payment, held for the treasurer
    assert rows["liabilities:unallocated_contributions"]["credit"] == "500.00"
    # the dollars are kept too, in accounts of their own: never added to the rupees
    assert rows["assets:foreign_cash:USD"]["debit"] == "500.00"
    assert rows[f"{UNMATCHED}:USD"]["credit"] == "500.00"
    portfolio = await owner.ok("GET", f"/api/v1/clubs/{club_id}/portfolio")
    assert (portfolio["cash"], portfolio["liabilities"]) == ("900.00", "900.00")

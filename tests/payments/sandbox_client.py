"""A test's handle on the sandbox payment provider process (fixture ``payment_sandbox``):
its API in Razorpay's shape plus the sandbox-only pay and delivery controls."""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

import aiohttp

from app.config import Settings


class SandboxClient:
    """Calls the sandbox over HTTP with the sandbox key pair (basic auth)."""

    # Fast retries so a test sees several attempts within a second.
    TEST_DEFAULTS: ClassVar[dict[str, Any]] = {
        "retry_base_ms": 50,
        "retry_max_ms": 800,
        "max_attempts": 12,
        "stagger_ms": 5,
    }

    def __init__(self, url: str, settings: Settings, log: Path) -> None:
        self.url = url
        self.log = log
        self.key_id = settings.payment_sandbox_key_id
        self.key_secret = settings.payment_sandbox_key_secret.get_secret_value()
        self.auth = {"Authorization": aiohttp.encode_basic_auth(self.key_id, self.key_secret)}

    def configure_sync(self, **options: Any) -> dict[str, Any]:
        """``POST /sandbox/control`` without an event loop (for session fixtures)."""
        token = base64.b64encode(f"{self.key_id}:{self.key_secret}".encode()).decode()
        request = urllib.request.Request(
            f"{self.url}/sandbox/control",
            data=json.dumps(options).encode(),
            headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            result: dict[str, Any] = json.loads(response.read())
        return result

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One authenticated API call; (status, JSON body)."""
        async with (
            aiohttp.ClientSession(headers=self.auth) as http,
            http.request(method, f"{self.url}{path}", json=body) as response,
        ):
            return response.status, await response.json()

    async def _ok(self, method: str, path: str, body: Any = None) -> Any:
        status, payload = await self.call(method, path, body)
        assert status == 200, (status, payload)
        return payload

    async def control(self, **options: Any) -> dict[str, Any]:
        """Change delivery options (see ``DeliveryOptions``); returns those in force."""
        result: dict[str, Any] = await self._ok("POST", "/sandbox/control", options)
        return result

    async def reset(self) -> None:
        """Default delivery options with fast retries; the webhook URL is kept."""
        await self.control(reset=True, **self.TEST_DEFAULTS)

    async def create_order(
        self, amount: int, currency: str = "INR", receipt: str | None = None, notes: Any = None
    ) -> dict[str, Any]:
        """``POST /v1/orders``."""
        body = {"amount": amount, "currency": currency, "receipt": receipt, "notes": notes or {}}
        result: dict[str, Any] = await self._ok("POST", "/v1/orders", body)
        return result

    async def pay(
        self, order_id: str, outcome: str = "captured", paid_at: str | None = None
    ) -> dict[str, Any]:
        """``POST /v1/orders/{id}/pay``: the checkout's answer (payment, signature).
        ``paid_at`` (ISO-8601 with a zone, e.g. ``2026-08-28T09:30:00Z``) dates the payment
        and its webhooks (hence ``PaymentEventV1.occurred_at``)."""
        body = {"outcome": outcome, **({"paid_at": paid_at} if paid_at else {})}
        result: dict[str, Any] = await self._ok("POST", f"/v1/orders/{order_id}/pay", body)
        return result

    async def flush(self, shuffle: bool | None = None) -> int:
        """Release held deliveries; returns how many."""
        result = await self._ok("POST", "/sandbox/flush", {"shuffle": shuffle})
        return int(result["released"])

    async def deliveries(self, order_id: str | None = None) -> list[dict[str, Any]]:
        """Every delivery (of ``order_id``) with its attempts."""
        path = "/sandbox/deliveries" + (f"?order_id={order_id}" if order_id else "")
        result = await self._ok("GET", path)
        items: list[dict[str, Any]] = result["items"]
        return items

    async def wait_settled(self, order_ids: list[str], timeout: float = 30) -> list[dict[str, Any]]:
        """Wait until no delivery of ``order_ids`` is held or pending; return them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            items = [d for d in await self.deliveries() if d["order_id"] in order_ids]
            if items and all(d["state"] in ("delivered", "failed") for d in items):
                return items
            if loop.time() > deadline:
                raise AssertionError(f"deliveries not settled: {items}")
            await asyncio.sleep(0.05)

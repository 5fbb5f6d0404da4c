"""Payments fixtures: the session's sandbox provider with its delivery options restored after
each test, and a webhook receiver on loopback standing in for a merchant's endpoint."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from tests.conftest import free_port
from tests.payments.sandbox_client import SandboxClient


@pytest.fixture
async def sandbox(payment_sandbox: SandboxClient) -> AsyncIterator[SandboxClient]:
    """The session's sandbox with default (fast-retry) delivery options; whatever a test
    changes, the webhook URL included, is put back afterwards."""
    before = await payment_sandbox.control()
    await payment_sandbox.reset()
    yield payment_sandbox
    await payment_sandbox.control(
        reset=True, webhook_url=before["webhook_url"], **SandboxClient.TEST_DEFAULTS
    )


@dataclass
class Received:
    """One webhook request as it arrived."""

    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """An HTTP endpoint that records every request; ``answer(n, received)`` picks the status
    for the n-th request (1-based) carrying that event id."""

    url: str
    requests: list[Received] = field(default_factory=list)
    answer: Callable[[int, Received], int] = lambda n, r: 200
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def of(self, event_id: str) -> list[Received]:
        return [r for r in self.requests if r.headers.get("X-Razorpay-Event-Id") == event_id]

    async def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.requests) < count:
            if loop.time() > deadline:
                raise AssertionError(f"{len(self.requests)} of {count} webhooks arrived")
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), 0.2)
        return self.requests


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A merchant webhook endpoint on a free loopback port."""
    port = free_port()
    state = Receiver(url=f"http://127.0.0.1:{port}/hook")

    async def hook(request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        item = Received(dict(request.headers), await request.read(), loop.time())
        state.requests.append(item)
        state.arrived.set()
        nth = len(state.of(item.headers.get("X-Razorpay-Event-Id", "")))
        return web.json_response({}, status=state.answer(nth, item))

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield state
    await runner.cleanup()

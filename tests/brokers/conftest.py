"""Broker fixtures: this session's broker sandbox (``python -m devtools.brokers_sandbox``) on a
free port, its postbacks and login redirects pointed at the live web server, and helpers that
link a club to it through the API."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import LiveStack, _spawn, _stop, free_port, tail
from tests.rooms.conftest import clients, http

__all__ = ["clients", "http"]

# The web server and worker of ``live_stack`` reach this session's sandbox; they poll linked
# brokers every second and re-send an order a broker did not take after a second. Set before
# settings are read by the processes that ``live_stack`` starts.
SANDBOX_URL = f"http://127.0.0.1:{free_port()}"
os.environ.update(
    {
        "SAMOOH_BROKER_SANDBOX_URL": SANDBOX_URL,
        "SAMOOH_BROKER_POLL_SECONDS": "1",
        "SAMOOH_BROKER_RESEND_SECONDS": "1",
    }
)


@dataclass
class BrokerSandbox:
    """The running sandbox: switches and registrations over its control API."""

    url: str
    app_url: str
    log: Path

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with aiohttp.ClientSession() as http, http.post(f"{self.url}{path}", json=body) as r:
            assert r.status == 200, await r.text()
            return dict(await r.json())

    async def control(self, **switches: Any) -> dict[str, Any]:
        """Set switches (drop, duplicate, delay_ms, reorder, outage, reject_next,
        expire_sessions, adjust_position, reset); the state after."""
        return await self._post("/_control", switches)

    async def kite_app(self, user_id: str | None = None) -> tuple[str, str, str]:
        """A new Kite app whose logins return to the live web server: (key, secret, user)."""
        key, secret = f"kite{uuid.uuid4().hex[:10]}", f"ks-{uuid.uuid4().hex}"
        user = user_id or f"ZX{uuid.uuid4().hex[:4].upper()}"
        await self._post(
            "/_control/kite/apps",
            {
                "api_key": key,
                "api_secret": secret,
                "user_id": user,
                "redirect_url": f"{self.app_url}/api/v1/brokers/kite/callback",
                "postback_url": f"{self.app_url}/api/v1/brokers/kite/postback",
            },
        )
        return key, secret, user

    async def alpaca_account(self) -> tuple[str, str, str]:
        """New Alpaca keys: (key id, secret, account number)."""
        key, secret = f"PK{uuid.uuid4().hex[:12].upper()}", f"as-{uuid.uuid4().hex}"
        number = f"PA{uuid.uuid4().hex[:8].upper()}"
        await self._post(
            "/_control/alpaca/accounts", {"key_id": key, "secret": secret, "account_number": number}
        )
        return key, secret, number


@pytest.fixture(scope="session")
def broker_sandbox(
    live_stack: LiveStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrokerSandbox]:
    """The sandbox at ``SAMOOH_BROKER_SANDBOX_URL``, ready, reading this session's ticks."""
    port = SANDBOX_URL.rsplit(":", 1)[1]
    log = tmp_path_factory.mktemp("brokers") / "sandbox.log"
    proc = _spawn(
        [
            sys.executable,
            "-m",
            "devtools.brokers_sandbox",
            "--port",
            port,
            "--public-url",
            live_stack.url,
        ],
        log,
        dict(os.environ),
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"broker sandbox exited with {proc.returncode}:\n{tail(log)}")
            try:
                with urllib.request.urlopen(f"{SANDBOX_URL}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"broker sandbox not ready:\n{tail(log)}")
                time.sleep(0.1)
        time.sleep(1.0)  # its tick consumer joins the topic
        yield BrokerSandbox(SANDBOX_URL, live_stack.url, log)
    finally:
        _stop(proc)


@pytest.fixture
async def sandbox(broker_sandbox: BrokerSandbox) -> Any:
    """The session's sandbox with every switch off before and after the test."""
    await broker_sandbox.control(reset=True)
    yield broker_sandbox
    await broker_sandbox.control(reset=True)


async def eventually(probe: Any, timeout: float = 20) -> Any:
    """Call ``probe`` until it returns something truthy (or the time is up: its last answer)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.2)

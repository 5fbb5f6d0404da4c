"""The session's sandbox SMS provider (``python -m devtools.sms_sandbox``, MSG91's shape) and
a small client for it. Importing this module picks the sandbox's port and puts it in
``SAMOOH_SMS_SANDBOX_URL`` before any fixture starts the web server or the worker (collection
comes first), so in-process code, the web server and the worker all send to it."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.config import get_settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if "SAMOOH_SMS_SANDBOX_URL" not in os.environ:
    os.environ["SAMOOH_SMS_SANDBOX_URL"] = f"http://127.0.0.1:{_free_port()}"
    get_settings.cache_clear()

ROOT = Path(__file__).resolve().parents[2]


class SmsSandbox:
    """The sandbox's test endpoints: the messages it accepted, outages and refusals."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def messages(self, mobiles: str | None = None) -> list[dict[str, Any]]:
        """Every message accepted (to ``mobiles``, ``91…`` without "+"), oldest first."""
        params = {"mobiles": mobiles} if mobiles else {}
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.url}/sandbox/messages", params=params) as response,
        ):
            body = await response.json()
        items: list[dict[str, Any]] = body["items"]
        return items

    async def control(self, **options: Any) -> dict[str, Any]:
        """``fail_next`` (503s), ``reject_next`` (400s), ``reset``."""
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.url}/sandbox/control", json=options) as response,
        ):
            result: dict[str, Any] = await response.json()
        return result

    async def wait_for(self, mobiles: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        """Wait until ``mobiles`` has received at least ``count`` messages; return them."""
        deadline = time.monotonic() + timeout
        while True:
            items = await self.messages(mobiles)
            if len(items) >= count or time.monotonic() > deadline:
                return items
            await asyncio.sleep(0.2)


@pytest.fixture(scope="session")
def sms_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmsSandbox]:
    """``python -m devtools.sms_sandbox`` at ``SAMOOH_SMS_SANDBOX_URL``, ready."""
    url = os.environ["SAMOOH_SMS_SANDBOX_URL"]
    log = tmp_path_factory.mktemp("sms") / "sms-sandbox.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.sms_sandbox", "--port", url.rsplit(":", 1)[1]],
        cwd=ROOT, env=dict(os.environ), stdout=log.open("wb"), stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"sms sandbox exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"sms sandbox not ready:\n{log.read_text()}")
                time.sleep(0.1)
        yield SmsSandbox(url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

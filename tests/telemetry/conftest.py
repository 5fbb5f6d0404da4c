"""Fixtures of the telemetry tests: a local OTLP receiver and a web server + worker pair of
their own exporting traces to it (the session's ``live_stack`` keeps tracing off)."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as redis_async

from agents.lifecycle import ready_key
from app.config import get_settings
from tests.conftest import _spawn, _stop, free_port, tail
from tests.payments.sandbox_client import SandboxClient
from tests.telemetry.otlp_receiver import OtlpReceiver


@dataclass
class TracedStack:
    """A web server and a worker exporting their spans to ``receiver``."""

    url: str
    receiver: OtlpReceiver
    topic_prefix: str
    worker_metrics_url: str
    web_log: Path
    worker_log: Path


@pytest.fixture(scope="module")
async def traced_stack(
    services: object, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TracedStack]:
    """``python -m app`` and ``python -m agents`` with ``SAMOOH_OTLP_ENDPOINT`` at a local
    receiver, on this session's database and Redis but topics and a consumer group of their
    own (so the session's worker never takes their records), the worker serving its metrics
    (measured every second). Ready like ``live_stack``."""
    receiver = OtlpReceiver()
    await receiver.start()
    tag = uuid.uuid4().hex[:6]
    logs = tmp_path_factory.mktemp("traced")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    topic_prefix = f"{os.environ['SAMOOH_TOPIC_PREFIX']}-traced-{tag}"
    worker_id = f"{os.environ['SAMOOH_WORKER_ID']}-traced-{tag}"
    metrics_port = free_port()
    env = {
        **os.environ,
        "SAMOOH_PUBLIC_URL": url,
        "SAMOOH_PORT": str(port),
        "SAMOOH_OTLP_ENDPOINT": receiver.url,
        "SAMOOH_TOPIC_PREFIX": topic_prefix,
        "SAMOOH_WORKER_ID": worker_id,
        "SAMOOH_WORKER_DATA_DIR": str(logs / "worker-data"),
        "SAMOOH_WORKER_METRICS_PORT": str(metrics_port),
        "SAMOOH_METRICS_INTERVAL_SECONDS": "1",
    }
    web_log, worker_log = logs / "web.log", logs / "worker.log"
    web = _spawn([sys.executable, "-m", "app", "--port", str(port)], web_log, env)
    worker = _spawn([sys.executable, "-m", "agents"], worker_log, env)
    redis = redis_async.Redis.from_url(get_settings().redis_url)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90
        web_ready = worker_ready = False
        while not (web_ready and worker_ready):
            for name, proc, log in (("web", web, web_log), ("worker", worker, worker_log)):
                if proc.poll() is not None:
                    pytest.fail(f"{name} exited with {proc.returncode}:\n{tail(log)}")
            if loop.time() > deadline:
                pytest.fail(f"traced stack not ready:\n{tail(web_log)}\n{tail(worker_log)}")
            if not web_ready:
                try:
                    async with (
                        aiohttp.ClientSession() as http,
                        http.get(f"{url}/api/ready", timeout=aiohttp.ClientTimeout(2)) as reply,
                    ):
                        web_ready = reply.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    pass
            worker_ready = worker_ready or bool(await redis.get(ready_key(worker_id)))
            await asyncio.sleep(0.2)
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        yield TracedStack(url, receiver, topic_prefix, metrics_url, web_log, worker_log)
    finally:
        await redis.aclose()
        await asyncio.to_thread(_stop, worker)
        await asyncio.to_thread(_stop, web)
        await receiver.stop()


@pytest.fixture
async def traced_sandbox(
    payment_sandbox: SandboxClient, traced_stack: TracedStack
) -> AsyncIterator[SandboxClient]:
    """The session's sandbox provider delivering webhooks to the traced web server; its
    delivery options are put back afterwards."""
    before = await payment_sandbox.control()
    await payment_sandbox.control(
        reset=True,
        webhook_url=f"{traced_stack.url}/api/v1/webhooks/sandbox",
        **SandboxClient.TEST_DEFAULTS,
    )
    yield payment_sandbox
    await payment_sandbox.control(
        reset=True, webhook_url=before["webhook_url"], **SandboxClient.TEST_DEFAULTS
    )

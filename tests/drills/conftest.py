"""Failure drills: servers of their own that a test may stop and start (never the session's
shared ones), and a platform of two web processes and a worker running on them.

The drill platform uses the session's database but a Redis (or Kafka) of its own, and its own
topic prefix and consumer group, so the session's worker never takes its records and stopping
the drill's servers touches no other test (the pattern of tests/telemetry traced_stack).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import redis
import redis.asyncio as redis_async

from agents.lifecycle import ready_key
from tests.conftest import ROOT, _spawn, _stop, free_port, tail

sys.path.insert(0, str(ROOT / "scripts"))  # the local services' own launchers (scripts/)
from localservices.kafka import probe_kafka, start_kafka
from localservices.profile import Profile


class OwnRedis:
    """A ``redis-server`` of the drill's own on a fixed port, persisting every write to its
    append-only file (as production's must: sessions live there), so it can be stopped and
    started again with the same data."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = folder / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "redis.conf").write_text(
            f'port {self.port}\nbind 127.0.0.1\ndaemonize no\ndir {folder}\nsave ""\n'
            'appendonly yes\nappendfsync always\nlogfile ""\n'
        )

    def start(self, timeout: float = 20) -> None:
        """Start it and wait until it answers PING."""
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.proc = subprocess.Popen(
            [binary, str(self.folder / "redis.conf")], cwd=self.folder,
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            while True:
                assert self.proc.poll() is None, tail(self.log)
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    pass
                assert time.monotonic() < deadline, f"redis did not start:\n{tail(self.log)}"
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """Stop it (SIGTERM: it writes its append-only file and exits) and wait for the exit."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class OwnKafka:
    """A Kafka broker of the drill's own (one KRaft node, as scripts/services.py starts them) on
    fixed ports and data, so it can be stopped and started again with its topics and offsets."""

    def __init__(self) -> None:
        self.profile = Profile("test", instance=f"drill-{uuid.uuid4().hex[:8]}")
        self.ports = {"kafka": free_port(), "kafka_controller": free_port()}
        self.bootstrap = f"127.0.0.1:{self.ports['kafka']}"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self, timeout: float = 120) -> float:
        """Start the broker and wait until it answers a metadata request; returns the seconds
        it took."""
        started = time.monotonic()
        launched = await asyncio.to_thread(start_kafka, self.profile, self.ports)
        self.proc = launched.proc
        assert self.proc is not None
        quiet = logging.getLogger("aiokafka")  # "Unable connect" until the broker listens
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            while True:
                assert self.proc.poll() is None, tail(self.profile.log_file("kafka"))
                try:
                    await probe_kafka(self.bootstrap, 2)
                    return time.monotonic() - started
                except Exception:
                    if time.monotonic() - started > timeout:
                        raise
                    await asyncio.sleep(0.3)
        finally:
            quiet.setLevel(level)

    async def stop(self) -> float:
        """Stop the broker (SIGTERM: a controlled shutdown) and wait for it; returns seconds."""
        started = time.monotonic()
        if self.proc is not None:
            await asyncio.to_thread(_stop, self.proc)
        self.proc = None
        return time.monotonic() - started

    def remove(self) -> None:
        """Delete its data folder (after ``stop``)."""
        shutil.rmtree(self.profile.datadir, ignore_errors=True)


@dataclass
class DrillPlatform:
    """Two web processes (``url_a``, ``url_b``) and a worker, on the drill's own servers."""

    url_a: str
    url_b: str
    topic_prefix: str
    worker_id: str
    env: dict[str, str]
    logs: dict[str, Path] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def alive(self) -> dict[str, int | None]:
        """Each process's exit status (None: still running)."""
        return {name: proc.poll() for name, proc in self.procs.items()}

    def log_tails(self) -> str:
        """The last lines of every process's log, for failure messages."""
        return "\n".join(f"--- {name}:\n{tail(log)}" for name, log in self.logs.items())


async def _answers(url: str) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{url}/api/ready", timeout=aiohttp.ClientTimeout(total=2)) as reply,
        ):
            return reply.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


@contextlib.asynccontextmanager
async def drill_platform(
    logs: Path, redis_url: str, extra_env: dict[str, str] | None = None
) -> AsyncIterator[DrillPlatform]:
    """Start web A, web B and a worker on ``redis_url`` (and the environment's database and
    Kafka, or ``extra_env``'s), with a topic prefix and consumer group of their own; yield
    when both web processes answer ``/api/ready`` and the worker finished its first rebalance.
    Stops them all at the end."""
    tag = uuid.uuid4().hex[:6]
    topic_prefix = f"{os.environ['SAMOOH_TOPIC_PREFIX']}-drill-{tag}"
    worker_id = f"{os.environ['SAMOOH_WORKER_ID']}-drill-{tag}"
    port_a, port_b = free_port(), free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "SAMOOH_TOPIC_PREFIX": topic_prefix,
        "SAMOOH_WORKER_ID": worker_id,
        "SAMOOH_WORKER_DATA_DIR": str(logs / "worker-data"),
        **(extra_env or {}),
    }
    env.pop("SAMOOH_REDIS_URL", None)
    platform = DrillPlatform(f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}",
                             topic_prefix, worker_id, env)  # fmt: skip
    for name, port in (("web-a", port_a), ("web-b", port_b)):
        platform.logs[name] = logs / f"{name}.log"
        platform.procs[name] = _spawn(
            [sys.executable, "-m", "app", "--port", str(port)], platform.logs[name],
            {**env, "SAMOOH_PORT": str(port), "SAMOOH_PUBLIC_URL": f"http://127.0.0.1:{port}"},
        )  # fmt: skip
    platform.logs["worker"] = logs / "worker.log"
    worker_argv = [sys.executable, "-m", "agents"]
    platform.procs["worker"] = _spawn(worker_argv, platform.logs["worker"], env)
    redis = redis_async.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 120
        ready = {"web-a": False, "web-b": False, "worker": False}
        while not all(ready.values()):
            for name, code in platform.alive().items():
                if code is not None:
                    pytest.fail(f"{name} exited with {code}:\n{platform.log_tails()}")
            if time.monotonic() > deadline:
                pytest.fail(f"drill platform not ready {ready}:\n{platform.log_tails()}")
            for name, url in (("web-a", platform.url_a), ("web-b", platform.url_b)):
                ready[name] = ready[name] or await _answers(url)
            with contextlib.suppress(Exception):
                ready["worker"] = ready["worker"] or bool(await redis.get(ready_key(worker_id)))
            await asyncio.sleep(0.2)
        yield platform
    finally:
        await redis.aclose()
        for proc in platform.procs.values():
            await asyncio.to_thread(_stop, proc)


@pytest.fixture
async def own_kafka() -> AsyncIterator[OwnKafka]:
    """A Kafka broker of this test's own, started; stopped and deleted at the end."""
    broker = OwnKafka()
    try:
        await broker.start()
        yield broker
    finally:
        await broker.stop()
        broker.remove()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A Redis of this test's own, started; stopped at the end."""
    server = OwnRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()

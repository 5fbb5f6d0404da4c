"""Fixtures that talk to the real local services started by ``make test`` (scripts/services.py).

Each pytest session gets its own database, topic prefix and consumer group, so a session never
sees another's data, even on shared servers (``MONGODB_URL`` etc. pointing elsewhere).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pymongo.errors import AutoReconnect, OperationFailure, PyMongoError, _OperationCancelled

if TYPE_CHECKING:
    from tests.payments.sandbox_client import SandboxClient

ROOT = Path(__file__).resolve().parent.parent
RUN_ID = uuid.uuid4().hex[:8]
ARTIFACTS = ROOT / "test-artifacts"


def _load_service_env() -> None:
    """Use the URLs already in the environment, else those of a running `services.py up`."""
    names = ("MONGODB_URL", "KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL", "SMTP_URL")
    if all(os.environ.get(k) for k in names):
        return
    env_file = ROOT / ".local" / "test" / "services.env"
    if not env_file.is_file():
        pytest.exit(
            "no test services: run `make test`, or `.venv/bin/python scripts/services.py up "
            "--profile test` first",
            returncode=2,
        )
    for line in env_file.read_text().splitlines():
        if line.startswith("export ") and "=" in line:
            name, _, value = line[len("export ") :].partition("=")
            os.environ.setdefault(name, shlex.split(value)[0])


_load_service_env()
os.environ.update(
    {
        "SAMOOH_ENVIRONMENT": "test",
        "SAMOOH_MONGODB_DATABASE": f"samooh_test_{RUN_ID}",
        "SAMOOH_TOPIC_PREFIX": f"samooh-test-{RUN_ID}",
        "SAMOOH_REDIS_PREFIX": f"samooh-test-{RUN_ID}",
        "SAMOOH_WORKER_ID": f"samooh-test-{RUN_ID}",
        "SAMOOH_WORKER_DATA_DIR": f"/tmp/samooh-test-{RUN_ID}/worker",
        "SAMOOH_LOG_JSON": "false",
        "SAMOOH_SERVICE_TIMEOUT_SECONDS": "8",
        # Files (web server and worker share this session's folder); 256 KiB keeps the
        # oversized-upload tests quick.
        "SAMOOH_FILES_DIR": f"/tmp/samooh-test-{RUN_ID}/files",
        "SAMOOH_FILE_MAX_BYTES": str(256 * 1024),
        # Live club rooms: proposals may close a second after they open; the worker's timer
        # looks for due proposals, reminders and e-mails twice a second.
        "SAMOOH_PROPOSAL_MIN_OPEN_SECONDS": "1",
        "SAMOOH_PROPOSAL_SWEEP_SECONDS": "0.5",
    }
)

from app.config import Settings, get_settings  # noqa: E402  (after the environment is set)

get_settings.cache_clear()


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# This session's sandbox payment provider (``payment_sandbox``) listens here. Set before any
# settings are read, so in-process code and ``live_stack``'s web server both reach it.
os.environ["SAMOOH_PAYMENT_SANDBOX_URL"] = f"http://127.0.0.1:{free_port()}"


# Identity: this session's local OpenID Connect provider (tests/identity/oidc_provider.py) listens
# here, so the web server logs in "with Google" against it through configuration only; requests
# carry X-Forwarded-For (one trusted proxy hop) so each test is its own client for rate limits.
OIDC_URL = f"http://127.0.0.1:{free_port()}"
os.environ.update(
    {
        "SAMOOH_OAUTH_GOOGLE_CLIENT_ID": "samooh-test-client",
        "SAMOOH_OAUTH_GOOGLE_CLIENT_SECRET": "samooh-test-client-secret",
        "SAMOOH_OAUTH_GOOGLE_DISCOVERY_URL": f"{OIDC_URL}/.well-known/openid-configuration",
        "SAMOOH_TRUSTED_PROXY_HOPS": "1",
    }
)


def keep_databases() -> bool:
    """Whether this run's databases are left in place rather than dropped: set by
    ``scripts/test.sh`` when the MongoDB server is the run's own and goes with it. A drop
    deletes every key under a server-wide lock, stalling every other test process meanwhile."""
    return os.environ.get("SAMOOH_TEST_KEEP_DATABASES") == "1"


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, for failure messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``SAMOOH_TEST_PART=live`` keeps the tests that run against ``live_stack`` (a web server
    and a worker on this process's database), ``quiet`` the others. ``make test`` runs the two
    parts side by side (scripts/test.sh): a quiet test drives services in-process and may
    assume no worker's timers act on its database, which holds only if no live stack ever
    started in its process."""
    part = os.environ.get("SAMOOH_TEST_PART")
    if part not in ("live", "quiet"):
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        live = "live_stack" in getattr(item, "fixturenames", ())
        (keep if live == (part == "live") else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The settings every in-process test uses (this session's database and topics)."""
    return get_settings()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for files a person may want to look at after the run (screenshots, PDFs)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
async def services(settings: Settings) -> AsyncIterator[object]:
    """This process connected to MongoDB (Beanie initialised), Redis and Kafka, with the
    instrument catalogue loaded. Drops the session's database at the end, unless the server
    goes with the run (``keep_databases``)."""
    from app.clubs.service import club_service
    from app.documents import document_models
    from app.extensions import close_services, connect_services
    from app.market.service import market_service
    from app.rooms.service import on_membership_ended

    connected = await connect_services(settings, document_models())
    # This process calls services directly, so it wires what app/web.py wires for the web
    # process: a former member's sockets leave the club's room.
    club_service.on_membership_ended(on_membership_ended)
    # Several pytest processes load the catalogue into the same server at once when the suite
    # starts (scripts/test.sh); on a busy machine a bulk write can outlast the client's
    # timeout. The loads are upserts: repeat them.
    for attempt in range(4):
        try:
            await market_service.do_load_instruments()
            await market_service.do_load_candles()
            break
        except PyMongoError:  # a timeout or a dropped connection
            if attempt == 3:
                raise
            await asyncio.sleep(2 + 3 * attempt)
    yield connected
    assert connected.mongo is not None
    if keep_databases():
        await close_services()
        return
    # A worker killed mid-transaction (the payment storm) leaves its transaction open on the
    # server for up to 60 s, and dropping the database waits behind it: retry for a while.
    deadline = asyncio.get_running_loop().time() + 90
    while True:
        try:
            await connected.mongo.drop_database(settings.mongodb_database)
            break
        except (AutoReconnect, OperationFailure, _OperationCancelled):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(2)
    await close_services()


@dataclass
class LiveStack:
    """A running web server and Faust worker for this session."""

    url: str
    web_log: Path
    worker_log: Path


def _spawn(argv: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def live_stack(services: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """Hypercorn serving ``app.asgi:application`` and ``python -m agents``, both ready.

    Ready means ``/api/ready`` answered 200 and the worker finished its first rebalance.
    """
    import redis

    from agents.lifecycle import ready_key

    logs = tmp_path_factory.mktemp("live")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SAMOOH_PUBLIC_URL": url, "SAMOOH_PORT": str(port)}
    web_log, worker_log = logs / "web.log", logs / "worker.log"
    web = _spawn([sys.executable, "-m", "app", "--port", str(port)], web_log, env)
    worker = _spawn([sys.executable, "-m", "agents"], worker_log, env)
    settings = get_settings()
    sync_redis = redis.Redis.from_url(settings.redis_url)
    try:
        deadline = time.monotonic() + 90
        web_ready = worker_ready = False
        while time.monotonic() < deadline and not (web_ready and worker_ready):
            for name, proc, log in (("web", web, web_log), ("worker", worker, worker_log)):
                if proc.poll() is not None:
                    pytest.fail(f"{name} exited with {proc.returncode}:\n{tail(log)}")
            if not web_ready:
                try:
                    with urllib.request.urlopen(f"{url}/api/ready", timeout=2) as response:
                        web_ready = response.status == 200
                except OSError:
                    pass
            worker_ready = worker_ready or bool(sync_redis.get(ready_key(settings.worker_id)))
            time.sleep(0.2)
        if not (web_ready and worker_ready):
            pytest.fail(
                f"stack not ready (web={web_ready}, worker={worker_ready}):\n"
                f"web:\n{tail(web_log)}\nworker:\n{tail(worker_log)}"
            )
        yield LiveStack(url=url, web_log=web_log, worker_log=worker_log)
    finally:
        sync_redis.close()
        _stop(worker)
        _stop(web)


@pytest.fixture(scope="session")
def payment_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxClient]:
    """``python -m devtools.payments_sandbox`` at ``SAMOOH_PAYMENT_SANDBOX_URL``, ready, with fast
    retries (50 ms base). Its webhooks go nowhere until ``payment_stack`` points them at the
    live web server."""
    from tests.payments.sandbox_client import SandboxClient

    url = os.environ["SAMOOH_PAYMENT_SANDBOX_URL"]
    port = url.rsplit(":", 1)[1]
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    dead = f"http://127.0.0.1:{free_port()}/nowhere"
    proc = _spawn(
        [sys.executable, "-m", "devtools.payments_sandbox", "--port", port, "--webhook-url", dead],
        log,
        dict(os.environ),
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"payment sandbox exited with {proc.returncode}:\n{tail(log)}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"payment sandbox not ready:\n{tail(log)}")
                time.sleep(0.1)
        client = SandboxClient(url, get_settings(), log)
        client.configure_sync(webhook_url=dead, **SandboxClient.TEST_DEFAULTS)
        yield client
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def payment_stack(live_stack: LiveStack, payment_sandbox: SandboxClient) -> SandboxClient:
    """The sandbox provider delivering its webhooks to ``live_stack``'s web server."""
    payment_sandbox.configure_sync(webhook_url=f"{live_stack.url}/api/v1/webhooks/sandbox")
    return payment_sandbox

"""Scale-out: a second web process and a second worker beside the session's ``live_stack``.

The second web process holds quotes for ``FANOUT_MS`` and sends them per socket
(app/realtime/fanout.py), as the first does with the default window. The second worker
joins the first's consumer group (same ``worker_id``, its own data folder), so the topics'
partitions are shared between them.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from agents.lifecycle import ready_key
from app.config import get_settings
from tests.conftest import LiveStack, _spawn, _stop, free_port, tail

FANOUT_MS = 50


@dataclass
class SecondPair:
    """The second web process (``url``) and worker, both ready."""

    url: str


@pytest.fixture(scope="module")
def second_pair(
    live_stack: LiveStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SecondPair]:
    """Start web B and worker B; ready when B answers ``/api/ready`` and the group finished the
    rebalance that B's joining caused (the ready key changed)."""
    logs = tmp_path_factory.mktemp("scale")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = get_settings()
    sync_redis = redis.Redis.from_url(settings.redis_url)
    before = sync_redis.get(ready_key(settings.worker_id))
    env = {**os.environ, "SAMOOH_PUBLIC_URL": url, "SAMOOH_PORT": str(port),
           "SAMOOH_QUOTE_FANOUT_MS": str(FANOUT_MS),
           "SAMOOH_WORKER_DATA_DIR": str(logs / "worker-data")}  # fmt: skip
    web_log, worker_log = logs / "web-b.log", logs / "worker-b.log"
    web = _spawn([sys.executable, "-m", "app", "--port", str(port)], web_log, env)
    worker = _spawn([sys.executable, "-m", "agents"], worker_log, env)
    try:
        deadline = time.monotonic() + 300
        web_ready = rebalanced = False
        while time.monotonic() < deadline and not (web_ready and rebalanced):
            for name, proc, log in (("web B", web, web_log), ("worker B", worker, worker_log)):
                if proc.poll() is not None:
                    pytest.fail(f"{name} exited with {proc.returncode}:\n{tail(log)}")
            if not web_ready:
                try:
                    with urllib.request.urlopen(f"{url}/api/ready", timeout=2) as response:
                        web_ready = response.status == 200
                except OSError:
                    pass
            rebalanced = sync_redis.get(ready_key(settings.worker_id)) != before
            time.sleep(0.2)
        if not (web_ready and rebalanced):
            pytest.fail(f"second pair not ready (web={web_ready}, rebalanced={rebalanced}):\n"
                        f"web:\n{tail(web_log)}\nworker:\n{tail(worker_log)}")  # fmt: skip
        yield SecondPair(url)
    finally:
        sync_redis.close()
        _stop(worker)
        _stop(web)

"""Clients a worker needs (Redis, the write-only Socket.IO emitter), opened once per worker
inside its running loop on first use."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from app.config import get_settings
from app.documents import document_models
from app.extensions import connect_mongo, connect_redis, services
from app.realtime.emitter import SOCKETIO_CHANNEL, worker_emitter
from app.realtime.publish import use_emitter
from app.telemetry import consumer_span

TICK_BATCH = 200
"""Ticks the tick agent (agents/market.py) takes at most at a time (``take``): one Redis step
for the quotes and one read of the symbols' version tokens per engine per batch instead of
one per tick. A batch is acknowledged after it was handled (Kafka's at-least-once holds)."""
TICK_BATCH_SECONDS = 0.01
"""How long a batch waits for more ticks: the most the batching adds to a tick's way (a quote
included)."""


@dataclass
class WorkerContext:
    """What agents pass to services."""

    redis: Redis
    emitter: object


_context: WorkerContext | None = None
_lock = asyncio.Lock()


async def worker_context() -> WorkerContext:
    """The worker's clients, created on first call (MongoDB with Beanie, Redis, the emitter).
    Raises ``ServiceStartupError`` if MongoDB or Redis is unreachable."""
    global _context
    async with _lock:
        if _context is None:
            settings = get_settings()
            if services.mongo is None:  # domain services use the process-wide client
                services.mongo = await connect_mongo(settings, document_models())
            redis = await connect_redis(settings)
            emitter = worker_emitter(settings.redis_url)
            assert emitter.channel == SOCKETIO_CHANNEL
            use_emitter(emitter)  # services emit room events through it (realtime/publish.py)
            if services.redis is None:  # services that keep state in Redis (presence, limits)
                services.redis = redis
            _context = WorkerContext(redis=redis, emitter=emitter)
        return _context


@contextlib.contextmanager
def record_span(stream: Any, name: str) -> Iterator[None]:
    """A CONSUMER span (app/telemetry.py) around the work an agent does for the record its
    faust ``stream`` is on, continuing the trace the record's Kafka headers carry. Open it only
    for records the agent acts on, so one record is one consumer span in its trace."""
    current = stream.current_event
    headers = current.headers if current is not None else None
    topic = current.message.topic if current is not None else ""
    with consumer_span(name, topic, headers):
        yield

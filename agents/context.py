"""Clients a worker needs (Redis, the write-only Socket.IO emitter), opened once per worker
inside its running loop on first use."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from redis.asyncio import Redis

from app.config import get_settings
from app.extensions import connect_redis
from app.realtime.emitter import worker_emitter
from app.realtime.server import SOCKETIO_CHANNEL


@dataclass
class WorkerContext:
    """What agents pass to services."""

    redis: Redis
    emitter: object


_context: WorkerContext | None = None
_lock = asyncio.Lock()


async def worker_context() -> WorkerContext:
    """The worker's clients, created on first call. Raises ``ServiceStartupError`` if Redis is
    unreachable."""
    global _context
    async with _lock:
        if _context is None:
            settings = get_settings()
            redis = await connect_redis(settings)
            emitter = worker_emitter(settings.redis_url)
            assert emitter.channel == SOCKETIO_CHANNEL
            _context = WorkerContext(redis=redis, emitter=emitter)
        return _context

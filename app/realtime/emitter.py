"""How domain services send events to rooms, from the web process or from a worker.

Both ``socketio.AsyncServer`` (web) and ``socketio.AsyncRedisManager(write_only=True)``
(workers) offer ``emit(event, data, room=…, namespace=…)``; services depend on this protocol only.
"""

from __future__ import annotations

from typing import Any, Protocol

import socketio


class Emitter(Protocol):
    """Anything that can emit a Socket.IO event to a room."""

    async def emit(
        self, event: str, data: Any = None, *, room: str | None = None, **kwargs: Any
    ) -> Any:  # pragma: no cover - protocol
        ...


SOCKETIO_CHANNEL = "samooh-socketio"
"""The Redis channel every web process's Socket.IO manager listens on."""


def worker_emitter(redis_url: str) -> socketio.AsyncRedisManager:
    """A write-only Redis manager: publishes to the web processes' rooms without joining them.

    Create it inside the worker's running event loop.
    """
    return socketio.AsyncRedisManager(redis_url, write_only=True, channel=SOCKETIO_CHANNEL)

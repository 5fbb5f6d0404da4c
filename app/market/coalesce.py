"""Quotes are state, not events: per room and symbol only the latest quote within a short
window is sent, so a burst of ticks (or a slow client) never builds a backlog — a room gets at
most one ``quote:tick`` per symbol per window (docs/architecture.md, a market tick)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from typing import Any

from app.logging import get_logger
from app.realtime import events

log = get_logger(__name__)


class QuoteCoalescer:
    """Buffers the latest payload per (room, symbol) and emits them every ``window_ms``.

    With ``window_ms == 0`` every offer is emitted at once. Create and ``start()`` it inside
    the running loop; ``stop()`` flushes what is pending.
    """

    def __init__(self, event: str, window_ms: int) -> None:
        self.event = event
        self.window = window_ms / 1000
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self.offered = 0
        self.emitted = 0

    def start(self) -> None:
        if self.window > 0 and self._task is None:
            # A fresh context: the sender must never inherit a change's event batch.
            self._task = asyncio.get_running_loop().create_task(
                self._run(), context=contextvars.Context()
            )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def offer(self, rooms: list[str], symbol: str, payload: dict[str, Any]) -> None:
        """Queue ``payload`` for each room, replacing any older one of the same symbol."""
        self.offered += len(rooms)
        if self.window <= 0:
            for room in rooms:
                await self._emit(room, payload)
            return
        for room in rooms:
            self._pending[(room, symbol)] = payload

    async def flush(self) -> None:
        """Emit everything pending now."""
        pending, self._pending = self._pending, {}
        for (room, _), payload in pending.items():
            await self._emit(room, payload)

    async def _emit(self, room: str, payload: dict[str, Any]) -> None:
        try:
            await events.send(room, self.event, payload)
            self.emitted += 1
        except Exception as exc:  # Redis away: quotes are state, the next one replaces it
            log.warning("quote not emitted", room=room, error=str(exc))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.window)
            await self.flush()

"""Emit committed events, from whichever process made the change.

The web process registers its ``socketio.AsyncServer`` and a worker its write-only Redis manager
(``use_emitter``); anything else (a script, an in-process test) falls back to a write-only
manager of its own. Every one of them reaches sockets on every web process through Redis.
Emission is at most once: the events were persisted first (eventlog, notifications) and
clients catch up from there.
"""

from __future__ import annotations

from typing import Any

from app.config import get_settings
from app.logging import get_logger
from app.realtime import control
from app.realtime.emitter import Emitter
from app.telemetry import span

log = get_logger(__name__)

_emitter: Emitter | None = None


def use_emitter(emitter: Emitter | None) -> None:
    """Make ``emitter`` this process's way to reach rooms (``None``: the fallback)."""
    global _emitter
    _emitter = emitter


async def emit(event: str, data: Any, room: str) -> None:
    """Emit one event to ``room``; a failure is logged, never raised (the change committed)."""
    try:
        with span(
            f"socket emit {event}", attributes={"socketio.event": event, "socketio.room": room}
        ):
            if _emitter is not None:
                await _emitter.emit(event, data, room=room)
            else:
                await control.emit_to_room(get_settings().redis_url, event, data, room)
    except Exception as exc:  # pragma: no cover - Redis down after the commit
        log.error("emit failed", socket_event=event, room=room, error=str(exc))


async def leave_room(sid: str, room: str) -> None:
    """Take ``sid`` out of ``room`` on whichever web process holds it."""
    try:
        await control.leave_room(get_settings().redis_url, sid, room)
    except Exception as exc:  # pragma: no cover - Redis down
        log.error("leave_room failed", room=room, error=str(exc))


async def disconnect(sids: list[str]) -> None:
    """Disconnect each of ``sids`` on whichever web process holds it."""
    try:
        await control.disconnect_sids(get_settings().redis_url, sids)
    except Exception as exc:  # pragma: no cover - Redis down
        log.error("disconnect failed", count=len(sids), error=str(exc))

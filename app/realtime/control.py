"""Act on sockets wherever they are connected: emit to a room and disconnect sids through the
Redis channel every web process listens on (a write-only manager, as workers use), so a web
process, a worker or a script reach sockets held by any web process."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from app.realtime.emitter import worker_emitter

_managers: dict[int, socketio.AsyncRedisManager] = {}


def _manager(redis_url: str) -> socketio.AsyncRedisManager:
    # One write-only manager per event loop (it holds a Redis connection bound to its loop).
    loop_id = id(asyncio.get_running_loop())
    manager = _managers.get(loop_id)
    if manager is None:
        manager = _managers[loop_id] = worker_emitter(redis_url)
    return manager


async def emit_to_room(redis_url: str, event: str, data: Any, room: str) -> None:
    """Emit ``event`` to ``room`` on every web process."""
    await _manager(redis_url).emit(event, data, room=room, namespace="/")


async def disconnect_sids(redis_url: str, sids: list[str]) -> None:
    """Ask every web process to disconnect each of ``sids`` (those it holds; others ignore it)."""
    manager = _manager(redis_url)
    for sid in sids:
        await manager.can_disconnect(sid, "/")


async def leave_room(redis_url: str, sid: str, room: str) -> None:
    """Ask every web process to take ``sid`` out of ``room`` (the one holding it does)."""
    await _manager(redis_url).leave_room(sid, "/", room)

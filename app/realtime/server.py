"""The Socket.IO server of a web process and the registration of every domain's handlers.

Rooms are shared across web processes through Redis (``AsyncRedisManager``); workers emit into
them with a write-only manager on the same channel (app/realtime/emitter.py).
"""

from __future__ import annotations

from typing import Any

import socketio

from app.config import Settings
from app.metrics import SOCKET_CONNECTIONS

SOCKETIO_CHANNEL = "samooh-socketio"


def create_socket_server(settings: Settings) -> socketio.AsyncServer:
    """Build the ASGI Socket.IO server and attach every domain's event handlers.

    Nothing connects here: the Redis manager opens its connection on first use, inside the loop.
    """
    manager = socketio.AsyncRedisManager(settings.redis_url, channel=SOCKETIO_CHANNEL)
    sio = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        cors_allowed_origins=settings.cors_origins or [settings.public_url],
        ping_interval=20,
        ping_timeout=20,
        max_http_buffer_size=64 * 1024,
    )

    from app.identity.sockets import authenticate_connection, forget_connection

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        # Refused (ConnectionRefusedError with {code, message}) without a valid token in
        # ``auth``; an account's socket joins ``user:<id>`` (app/identity/sockets.py).
        await authenticate_connection(sio, sid, auth)
        SOCKET_CONNECTIONS.inc()
        return True

    @sio.event
    async def disconnect(sid: str, reason: Any = None) -> None:
        SOCKET_CONNECTIONS.dec()
        await forget_connection(sio, sid)

    from app.market import sockets as market_sockets

    market_sockets.register(sio)
    return sio

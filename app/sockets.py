"""The Socket.IO server of a web process and the registration of every domain's handlers
(the socket side of the composition root, as app/__init__.py is for HTTP).

Rooms are shared across web processes through Redis (``AsyncRedisManager``, with quotes
coalesced per socket: app/realtime/fanout.py, and ``room:head`` after a Redis outage:
app/realtime/resume.py); workers emit into them with a write-only manager
on the same channel (app/realtime/emitter.py).
"""

from __future__ import annotations

from typing import Any

import socketio

from app.campaigns import sockets as campaign_sockets
from app.chat import sockets as chat_sockets
from app.chits import sockets as chit_sockets
from app.config import Settings
from app.crm import sockets as crm_sockets
from app.errors import error_body
from app.identity.sockets import authenticate_connection, forget_connection, socket_identity
from app.market import sockets as market_sockets
from app.metrics import SOCKET_CONNECTIONS
from app.proposals import sockets as proposal_sockets
from app.realtime.emitter import SOCKETIO_CHANNEL
from app.realtime.fanout import OrjsonCodec
from app.realtime.packets import MALFORMED_EVENT, ReadablePacket
from app.realtime.publish import use_emitter
from app.realtime.resume import ResumingRedisManager
from app.realtime.rooms import ACCOUNTS_ROOM, BROADCASTS_ROOM, person_room
from app.rooms import sockets as room_sockets

MAX_MESSAGE_BYTES = 1024 * 1024


def create_socket_server(settings: Settings) -> socketio.AsyncServer:
    """Build the ASGI Socket.IO server and attach every domain's event handlers.

    Nothing connects here: the Redis manager opens its connection on first use, inside the loop.
    """
    manager = ResumingRedisManager(
        settings.redis_url, channel=SOCKETIO_CHANNEL, window_ms=settings.quote_fanout_ms
    )
    sio = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        json=OrjsonCodec if settings.socket_json == "orjson" else None,
        cors_allowed_origins=settings.cors_origins or [settings.public_url],
        ping_interval=20,
        ping_timeout=20,
        serializer=ReadablePacket,  # unreadable JSON is answered, not dropped
        # A message up to 1 MiB reaches its handler, which refuses what is too long with an
        # answer (a chat body is at most 4,000 characters); a longer one closes the connection.
        max_http_buffer_size=MAX_MESSAGE_BYTES,
    )

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        # Refused (ConnectionRefusedError with {code, message}) without a valid token in
        # ``auth``; an account's socket joins ``user:<id>`` (app/identity/sockets.py).
        await authenticate_connection(sio, sid, auth)
        identity = await socket_identity(sio, sid)
        if identity is not None and identity.user_id is not None:
            await sio.enter_room(sid, ACCOUNTS_ROOM)  # every signed-in socket
            # The person's own log and the broadcasts to everyone: live at once; feed:join
            # replays what a reconnecting socket missed (app/rooms/sockets.py).
            await sio.enter_room(sid, person_room(identity.user_id))
            await sio.enter_room(sid, BROADCASTS_ROOM)
        SOCKET_CONNECTIONS.inc()
        return True

    @sio.on("*")
    async def unknown_event(event: str, sid: str, data: Any = None) -> dict[str, Any]:
        # Any event no handler knows: answer (a client waiting for an ack would hang).
        body = error_body("unknown_event", f"no such event: {event[:64]}", {"event": event[:64]})
        return {"ok": False, **body}

    @sio.on(MALFORMED_EVENT)
    async def malformed(sid: str, *args: Any) -> dict[str, Any]:
        # An event whose JSON could not be read (app/realtime/packets.py).
        body = error_body("malformed_message", "the message is not JSON this server can read")
        return {"ok": False, **body}

    @sio.event
    async def disconnect(sid: str, reason: Any = None) -> None:
        SOCKET_CONNECTIONS.dec()
        await room_sockets.on_disconnect(sio, sid)  # presence: left every club room
        await forget_connection(sio, sid)

    market_sockets.register(sio)
    room_sockets.register(sio)
    chat_sockets.register(sio)
    proposal_sockets.register(sio)
    chit_sockets.register(sio)
    campaign_sockets.register(sio)
    crm_sockets.register(sio)
    use_emitter(sio)  # this process's services emit through it (app/realtime/publish.py)
    return sio

"""Socket.IO handlers of chat: ``chat:send``, ``chat:edit``, ``chat:delete``, ``chat:typing``.
The same service calls as the HTTP routes; membership is checked by the service each time."""

from __future__ import annotations

import secrets
from typing import Any

import socketio

from app.chat.schemas import (
    ChatTypingEvent,
    MessageOut,
    SocketMessageDelete,
    SocketMessageEdit,
    SocketMessageSend,
    TypingRequest,
)
from app.chat.service import chat_service
from app.clubs.service import club_service
from app.identity.sockets import require_socket_user
from app.realtime.eventlog import iso, utcnow
from app.realtime.handlers import socket_handler
from app.realtime.rooms import club_room

CHAT_TYPING = "chat:typing"


def register(sio: socketio.AsyncServer) -> None:
    """Attach the chat events to ``sio``."""

    @sio.on("chat:send")
    @socket_handler(SocketMessageSend)
    async def chat_send(sid: str, request: SocketMessageSend) -> dict[str, Any]:
        identity = await require_socket_user(sio, sid)
        assert identity.user_id is not None
        message = await chat_service.do_send(
            request.club_id, identity.user_id, body=request.body, reply_to=request.reply_to,
            mentions=request.mentions, client_id=request.client_id,
        )  # fmt: skip
        return {"ok": True, "message": MessageOut.of(message).model_dump(mode="json")}

    @sio.on("chat:edit")
    @socket_handler(SocketMessageEdit)
    async def chat_edit(sid: str, request: SocketMessageEdit) -> dict[str, Any]:
        identity = await require_socket_user(sio, sid)
        assert identity.user_id is not None
        message = await chat_service.do_edit(request.message_id, identity.user_id, request.body)
        return {"ok": True, "message": MessageOut.of(message).model_dump(mode="json")}

    @sio.on("chat:delete")
    @socket_handler(SocketMessageDelete)
    async def chat_delete(sid: str, request: SocketMessageDelete) -> dict[str, Any]:
        identity = await require_socket_user(sio, sid)
        assert identity.user_id is not None
        message = await chat_service.do_delete(request.message_id, identity.user_id)
        return {"ok": True, "message": MessageOut.of(message).model_dump(mode="json")}

    @sio.on("chat:typing")
    @socket_handler(TypingRequest)
    async def chat_typing(sid: str, request: TypingRequest) -> dict[str, Any]:
        identity = await require_socket_user(sio, sid)
        assert identity.user_id is not None
        await club_service.check_member(request.club_id, identity.user_id)
        event = ChatTypingEvent(
            id=f"typing:{secrets.token_hex(8)}", ts=iso(utcnow()), club_id=request.club_id,
            user_id=identity.user_id,
        )  # fmt: skip
        await sio.emit(CHAT_TYPING, event.model_dump(mode="json"),
                       room=club_room(request.club_id), skip_sid=sid)  # fmt: skip
        return {"ok": True}

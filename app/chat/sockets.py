"""Socket.IO handlers of chat: ``chat:send``, ``chat:edit``, ``chat:delete``, ``chat:typing``.
The same service calls as the HTTP routes; membership is checked by the service each time."""

from __future__ import annotations

from typing import Any

import socketio

from app.chat.schemas import (
    MessageOut,
    SocketMessageDelete,
    SocketMessageEdit,
    SocketMessageSend,
    TypingRequest,
)
from app.chat.service import chat_service
from app.identity.sockets import require_socket_user
from app.realtime.handlers import socket_handler


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
        await chat_service.do_typing(request.club_id, identity.user_id)
        return {"ok": True}

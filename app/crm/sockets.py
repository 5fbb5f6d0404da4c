"""Socket.IO handlers of the live pipeline board: ``crm:join`` puts the socket in its own
board room — chosen on the server from the account's CRM role and team, never named by the
client — and replays what it missed after ``after_seq``; ``crm:leave`` takes it out. The same
service calls as the HTTP routes; nothing is decided here."""

from __future__ import annotations

from typing import Any

import socketio

from app.crm.schemas import BoardJoin, BoardJoined, BoardLeave, BoardLeft
from app.crm.service import crm_service
from app.identity.sockets import require_socket_user
from app.realtime.handlers import socket_handler


def _board_rooms(sio: socketio.AsyncServer, sid: str) -> list[str]:
    return [r for r in sio.rooms(sid) if isinstance(r, str) and r.startswith("crm:board:")]


def register(sio: socketio.AsyncServer) -> None:
    """Attach the CRM board events to ``sio``."""

    @sio.on("crm:join")
    @socket_handler(BoardJoin)
    async def crm_join(sid: str, request: BoardJoin) -> dict[str, Any]:
        identity = await require_socket_user(sio, sid)
        assert identity.user_id is not None
        actor = await crm_service.staff_actor(identity.user_id)
        room = crm_service.board_room(actor)
        for other in _board_rooms(sio, sid):  # a role or team changed since the last join
            if other != room:
                await sio.leave_room(sid, other)
        await sio.enter_room(sid, room)  # before reading the log: nothing falls in between
        try:
            state = await crm_service.board_join(actor, request.after_seq)
        except BaseException:
            await sio.leave_room(sid, room)
            raise
        return BoardJoined.model_validate(state).model_dump(mode="json")

    @sio.on("crm:leave")
    @socket_handler(BoardLeave)
    async def crm_leave(sid: str, request: BoardLeave) -> dict[str, Any]:
        identity = await require_socket_user(sio, sid)
        assert identity.user_id is not None
        left = _board_rooms(sio, sid)
        for room in left:
            await sio.leave_room(sid, room)
        return BoardLeft(room=left[0] if left else "").model_dump(mode="json")

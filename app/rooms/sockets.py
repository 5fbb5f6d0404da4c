"""Socket.IO handlers of club rooms: ``room:join``, ``room:sync``, ``room:leave``; and what a
disconnect does to presence. The clubs a socket joined are kept in its session. ``feed:join``
enters a person's own log (``person:<id>``) or the broadcasts to everyone and replays what the
socket missed there."""

from __future__ import annotations

from typing import Any

import socketio

from app.clubs.errors import ClubNotFound
from app.identity.sockets import require_socket_user, socket_identity
from app.realtime.handlers import socket_handler
from app.realtime.rooms import BROADCASTS_ROOM, club_room, person_room
from app.rooms.schemas import FeedJoin, RoomJoin, RoomLeave, RoomSync
from app.rooms.service import room_service

CLUBS_KEY = "clubs"


async def _joined(sio: socketio.AsyncServer, sid: str) -> list[str]:
    try:
        session = await sio.get_session(sid)
    except KeyError:
        return []
    return list(session.get(CLUBS_KEY, []))


async def _remember(sio: socketio.AsyncServer, sid: str, club_id: str, joined: bool) -> None:
    async with sio.session(sid) as session:
        clubs = [c for c in session.get(CLUBS_KEY, []) if c != club_id]
        if joined:
            clubs.append(club_id)
        session[CLUBS_KEY] = clubs


def register(sio: socketio.AsyncServer) -> None:
    """Attach the room events to ``sio``."""

    @sio.on("room:join")
    @socket_handler(RoomJoin)
    async def room_join(sid: str, request: RoomJoin) -> dict[str, Any]:
        identity = await require_socket_user(sio, sid)
        assert identity.user_id is not None
        room = club_room(request.club_id)
        await sio.enter_room(sid, room)  # before reading the log: nothing falls in between
        try:
            joined = await room_service.do_join(
                request.club_id, identity.user_id, sid, request.after_seq
            )
        except BaseException:
            await sio.leave_room(sid, room)
            raise
        await _remember(sio, sid, request.club_id, True)
        return joined.model_dump(mode="json")

    @sio.on("room:sync")
    @socket_handler(RoomSync)
    async def room_sync(sid: str, request: RoomSync) -> dict[str, Any]:
        identity = await require_socket_user(sio, sid)
        assert identity.user_id is not None
        try:
            synced = await room_service.catch_up(request.club_id, identity.user_id,
                                                 request.after_seq)  # fmt: skip
        except ClubNotFound:
            await sio.leave_room(sid, club_room(request.club_id))
            raise
        return synced.model_dump(mode="json")

    @sio.on("feed:join")
    @socket_handler(FeedJoin)
    async def feed_join(sid: str, request: FeedJoin) -> dict[str, Any]:
        identity = await require_socket_user(sio, sid)
        assert identity.user_id is not None
        room = person_room(identity.user_id) if request.feed == "person" else BROADCASTS_ROOM
        await sio.enter_room(sid, room)  # before reading the log: nothing falls in between
        joined = await room_service.feed(room, request.after_seq)
        return joined.model_dump(mode="json")

    @sio.on("room:leave")
    @socket_handler(RoomLeave)
    async def room_leave(sid: str, request: RoomLeave) -> dict[str, Any]:
        identity = await require_socket_user(sio, sid)
        assert identity.user_id is not None
        await sio.leave_room(sid, club_room(request.club_id))
        await _remember(sio, sid, request.club_id, False)
        await room_service.do_leave(request.club_id, identity.user_id, sid)
        return {"ok": True, "club_id": request.club_id}


async def on_disconnect(sio: socketio.AsyncServer, sid: str) -> None:
    """Presence: the socket left every room it had joined."""
    identity = await socket_identity(sio, sid)
    if identity is None or identity.user_id is None:
        return
    for club_id in await _joined(sio, sid):
        await room_service.do_leave(club_id, identity.user_id, sid)

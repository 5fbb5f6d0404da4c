"""Socket.IO handlers of a scheme's live room ``scheme:<id>``: ``chit:join`` (authorised on the
server: the foreman, ticket holders, admins; catch-up after ``after_seq``), ``chit:leave`` and
``chit:bid`` — the same service calls as the HTTP routes."""

from __future__ import annotations

from typing import Any

import socketio

from app.chits.schemas import BidRequest, SchemeJoin, SchemeJoined, paise
from app.chits.service import Actor, chit_service, scheme_room
from app.identity.documents import PlatformRole
from app.identity.sockets import require_socket_user
from app.money import format_minor
from app.realtime.handlers import socket_handler


async def _actor(sio: socketio.AsyncServer, sid: str) -> Actor:
    identity = await require_socket_user(sio, sid)
    assert identity.user_id is not None
    roles = tuple(PlatformRole(r) for r in identity.roles if r in PlatformRole.__members__.values())
    return Actor(identity.user_id, roles or (PlatformRole.USER,))


def register(sio: socketio.AsyncServer) -> None:
    """Attach the chit room events to ``sio``."""

    @sio.on("chit:join")
    @socket_handler(SchemeJoin)
    async def chit_join(sid: str, request: SchemeJoin) -> dict[str, Any]:
        actor = await _actor(sio, sid)
        room = scheme_room(request.scheme_id)
        await sio.enter_room(sid, room)  # before reading the log: nothing falls in between
        try:
            state = await chit_service.room_state(request.scheme_id, actor, request.after_seq)
        except BaseException:
            await sio.leave_room(sid, room)
            raise
        return SchemeJoined.model_validate(state).model_dump(mode="json")

    @sio.on("chit:leave")
    @socket_handler(SchemeJoin)
    async def chit_leave(sid: str, request: SchemeJoin) -> dict[str, Any]:
        await _actor(sio, sid)
        await sio.leave_room(sid, scheme_room(request.scheme_id))
        return {"ok": True, "scheme_id": request.scheme_id}

    @sio.on("chit:bid")
    @socket_handler(BidRequest)
    async def chit_bid(sid: str, request: BidRequest) -> dict[str, Any]:
        actor = await _actor(sio, sid)
        bid, ends_at = await chit_service.do_bid(
            request.scheme_id, actor.user_id, paise(request.discount)
        )
        return {"ok": True, "seq": bid.seq, "room_seq": bid.room_seq,
                "discount": format_minor(bid.discount), "ends_at": ends_at.isoformat()}  # fmt: skip

"""Socket.IO handlers of campaign rooms: ``campaign:join``, ``campaign:sync``,
``campaign:leave``, and of the admins' room ``campaigns:admin`` (``campaign:admin_join``,
``campaign:admin_leave``: platform admins only, joined without history). Any signed-in
person may follow a public campaign; drafts only their owner.
Joining puts the socket in the room first, then reads the log, so no event falls in between
(a duplicate is possible: clients drop a ``seq`` they already have)."""

from __future__ import annotations

from typing import Any

import socketio

from app.campaigns.events import ADMIN_ROOM, campaign_room
from app.campaigns.routes import campaign_outs
from app.campaigns.schemas import (
    AdminRoomJoin,
    AdminRoomJoined,
    AdminRoomLeft,
    CampaignJoin,
    CampaignJoined,
    CampaignLeave,
)
from app.campaigns.service import campaign_service
from app.identity.sockets import require_socket_user
from app.realtime.handlers import socket_handler


async def _joined(
    campaign_id: str, user_id: str, after_seq: int, with_events: bool = True
) -> dict[str, Any]:
    campaign, head, missed, truncated = await campaign_service.catch_up(
        campaign_id, user_id, after_seq, with_events
    )
    [shown] = await campaign_outs([campaign], user_id, pictures=10)
    return CampaignJoined(campaign=shown, seq=head, events=missed,
                          truncated=truncated).model_dump(mode="json")  # fmt: skip


def register(sio: socketio.AsyncServer) -> None:
    """Attach the campaign room events to ``sio``."""

    @sio.on("campaign:join")
    @socket_handler(CampaignJoin)
    async def campaign_join(sid: str, request: CampaignJoin) -> dict[str, Any]:
        identity = await require_socket_user(sio, sid)
        assert identity.user_id is not None
        room = campaign_room(request.campaign_id)
        await sio.enter_room(sid, room)
        try:
            return await _joined(request.campaign_id, identity.user_id, request.after_seq,
                                 request.with_events)  # fmt: skip
        except BaseException:
            await sio.leave_room(sid, room)
            raise

    @sio.on("campaign:sync")
    @socket_handler(CampaignJoin)
    async def campaign_sync(sid: str, request: CampaignJoin) -> dict[str, Any]:
        identity = await require_socket_user(sio, sid)
        assert identity.user_id is not None
        return await _joined(request.campaign_id, identity.user_id, request.after_seq,
                             request.with_events)  # fmt: skip

    @sio.on("campaign:leave")
    @socket_handler(CampaignLeave)
    async def campaign_leave(sid: str, request: CampaignLeave) -> dict[str, Any]:
        await sio.leave_room(sid, campaign_room(request.campaign_id))
        return {"ok": True, "campaign_id": request.campaign_id}

    @sio.on("campaign:admin_join")
    @socket_handler(AdminRoomJoin)
    async def campaign_admin_join(sid: str, request: AdminRoomJoin) -> dict[str, Any]:
        identity = await require_socket_user(sio, sid)
        assert identity.user_id is not None
        # Allowed first, then in the room: a refused socket never hears an admin event.
        await campaign_service.check_admin_room(identity.user_id)
        await sio.enter_room(sid, ADMIN_ROOM)  # before reading the head: nothing falls between
        try:
            room, head = await campaign_service.admin_room_head(identity.user_id)
        except BaseException:
            await sio.leave_room(sid, ADMIN_ROOM)
            raise
        return AdminRoomJoined(room=room, seq=head).model_dump(mode="json")

    @sio.on("campaign:admin_leave")
    @socket_handler(AdminRoomJoin)
    async def campaign_admin_leave(sid: str, request: AdminRoomJoin) -> dict[str, Any]:
        await sio.leave_room(sid, ADMIN_ROOM)
        return AdminRoomLeft(room=ADMIN_ROOM).model_dump(mode="json")

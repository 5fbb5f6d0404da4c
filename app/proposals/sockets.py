"""Socket.IO handler of voting: ``vote:cast`` (the same service call as the HTTP route)."""

from __future__ import annotations

from typing import Any

import socketio

from app.identity.sockets import require_socket_user
from app.proposals.schemas import SocketVoteCast, VoteOut
from app.proposals.service import proposal_service
from app.realtime.handlers import socket_handler


def register(sio: socketio.AsyncServer) -> None:
    """Attach the voting events to ``sio``."""

    @sio.on("vote:cast")
    @socket_handler(SocketVoteCast)
    async def vote_cast(sid: str, request: SocketVoteCast) -> dict[str, Any]:
        identity = await require_socket_user(sio, sid)
        assert identity.user_id is not None
        result = await proposal_service.do_cast_vote(
            request.proposal_id, identity.user_id, request.choice
        )
        return {"ok": True, "vote": VoteOut.of(result.vote, result.changed).model_dump(mode="json")}

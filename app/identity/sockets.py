"""Socket.IO authentication: the ``connect`` handler's check, and what other handlers use to
know who is on a socket.

A connection needs a token in its ``auth`` payload (``{"token": "<JWT>"}``): an account's
access token (the socket joins ``user:<id>``), or a guest token from ``POST /api/v1/auth/guest``
that allows public market data only. A missing, bad or expired token — or a suspended account —
is refused with ``ConnectionRefusedError``: the client's ``connect_error`` receives
``{"message": …, "data": {"code", "message", "details"}}`` (socket.io-client: ``err.message``,
``err.data.code``). The session keeps ``user_id`` (None for a guest), ``roles`` and
``family``. Handlers of private events call ``require_socket_user``.
"""

from __future__ import annotations

from typing import Any

import socketio
from socketio.exceptions import ConnectionRefusedError

from app.errors import AppError
from app.identity.errors import Unauthenticated
from app.identity.sessions import SocketIdentity, authenticate_socket, do_track_socket
from app.realtime.rooms import user_room

SESSION_KEY = "identity"


async def authenticate_connection(sio: socketio.AsyncServer, sid: str, auth: Any) -> None:
    """Check ``auth``, keep the identity in the socket session and join ``user:<id>``.

    Raises ``ConnectionRefusedError`` with data ``{"code", "message", "details"}`` (HTTP codes:
    ``authentication_required``, ``token_expired``, ``token_signature_invalid``, …,
    ``account_suspended``, ``session_revoked``).
    """
    try:
        identity = await authenticate_socket(auth)
    except AppError as exc:
        raise ConnectionRefusedError(
            exc.message, {"code": exc.code, "message": exc.message, "details": exc.details}
        ) from exc
    await sio.save_session(
        sid,
        {SESSION_KEY: {"user_id": identity.user_id, "roles": identity.roles,
                       "family": identity.family}},
    )  # fmt: skip
    if identity.user_id is not None:
        await sio.enter_room(sid, user_room(identity.user_id))
        await do_track_socket(identity.user_id, sid, connected=True)


async def forget_connection(sio: socketio.AsyncServer, sid: str) -> None:
    """On disconnect: forget the socket in the user's socket set."""
    identity = await socket_identity(sio, sid)
    if identity is not None and identity.user_id is not None:
        await do_track_socket(identity.user_id, sid, connected=False)


async def socket_identity(sio: socketio.AsyncServer, sid: str) -> SocketIdentity | None:
    """Who connected on ``sid`` (None if the session is gone)."""
    try:
        session = await sio.get_session(sid)
    except KeyError:
        return None
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    return SocketIdentity(user_id=data["user_id"], roles=data["roles"], family=data["family"])


async def require_socket_user(sio: socketio.AsyncServer, sid: str) -> SocketIdentity:
    """The account on ``sid``; raises ``Unauthenticated`` for guests (for handlers of club and
    user events, whose acknowledgement then carries ``authentication_required``)."""
    identity = await socket_identity(sio, sid)
    if identity is None or identity.user_id is None:
        raise Unauthenticated("this event needs an account's access token")
    return identity

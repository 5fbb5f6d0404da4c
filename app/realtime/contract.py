"""Base shapes of every server→client payload (the event contract, published as AsyncAPI at
``/asyncapi.json``): an ``id`` to de-duplicate by and a ``ts`` (ISO-8601 UTC); events of a club
room's log also carry the room's ``seq``."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ServerEvent(BaseModel):
    """Every server→client payload."""

    id: str = Field(description="unique and stable: clients de-duplicate by it")
    ts: str = Field(description="when it happened, ISO-8601 UTC with milliseconds")


class LoggedEvent(ServerEvent):
    """A sequenced event of a logged room that is not a club's: one person's own log
    ``person:<user_id>`` or the broadcasts to everyone ``broadcasts:all``. ``id`` is
    ``<room>:<seq>`` and ``seq`` increases by one per event of the room, without gaps; a client
    catches up with ``feed:join`` and ``after_seq`` (app/rooms/sockets.py)."""

    seq: int = Field(ge=1)


class RoomEvent(ServerEvent):
    """A sequenced event of ``club:<club_id>``: ``seq`` increases by one per event in the room,
    without gaps, so a client knows when it missed something (send ``room:sync``)."""

    seq: int = Field(ge=1)
    club_id: str


class SessionRevokedEvent(ServerEvent):
    """``session:revoked`` to ``user:<id>`` just before the server disconnects the account's
    sockets (``reason``: ``account_suspended``, ``password_reset``, …); app/identity sends it."""

    reason: str

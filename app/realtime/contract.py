"""Base shapes of every server→client payload (the event contract, published as AsyncAPI at
``/asyncapi.json``): an ``id`` to de-duplicate by and a ``ts`` (ISO-8601 UTC); events of a club
room's log also carry the room's ``seq``."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ServerEvent(BaseModel):
    """Every server→client payload."""

    id: str = Field(description="unique and stable: clients de-duplicate by it")
    ts: str = Field(description="when it happened, ISO-8601 UTC with milliseconds")


class RoomEvent(ServerEvent):
    """A sequenced event of ``club:<club_id>``: ``seq`` increases by one per event in the room,
    without gaps, so a client knows when it missed something (send ``room:sync``)."""

    seq: int = Field(ge=1)
    club_id: str


class SessionRevokedEvent(ServerEvent):
    """``session:revoked`` to ``user:<id>`` just before the server disconnects the account's
    sockets (``reason``: ``account_suspended``, ``password_reset``, …); app/identity sends it."""

    reason: str

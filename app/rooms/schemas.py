"""Room payloads: join/sync requests and acknowledgements, the state snapshot, presence."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.chat.schemas import MessageOut
from app.inputs import NonNegativeInt64
from app.proposals.schemas import ProposalOut
from app.realtime.contract import ServerEvent


class RoomJoin(BaseModel):
    """``room:join``: ``after_seq`` is the last seq you saw (omit on a first join, then fetch
    ``GET /api/v1/clubs/{id}/room``)."""

    club_id: str = Field(min_length=1, max_length=64)
    after_seq: NonNegativeInt64 | None = None


class RoomSync(BaseModel):
    """``room:sync``: the events after ``after_seq`` (when you notice a gap in ``seq``)."""

    club_id: str = Field(min_length=1, max_length=64)
    after_seq: NonNegativeInt64


class FeedJoin(BaseModel):
    """``feed:join``: enter one of your own logs and receive what you missed in it —
    ``person`` (``person:<id>``: KYC decisions and expiries, consultations, club broadcasts) or
    ``broadcasts`` (``broadcasts:all``: broadcasts to everyone). ``after_seq``: the last seq
    you applied (omit on a first join: you then load your screens' state yourself). Send it on
    every (re)connection; sending it again while joined is the sync."""

    feed: Literal["person", "broadcasts"]
    after_seq: NonNegativeInt64 | None = None


class FeedJoined(BaseModel):
    """The ``feed:join`` acknowledgement: ``room`` (as the events' ids spell it), its latest
    ``seq``, the events after ``after_seq`` in order (``missed``), and ``truncated`` when more
    were missed than are replayed (load the state afresh)."""

    ok: bool = True
    room: str
    seq: int
    missed: list[MissedEvent]
    truncated: bool


class RoomLeave(BaseModel):
    """``room:leave``."""

    club_id: str = Field(min_length=1, max_length=64)


class MissedEvent(BaseModel):
    """One stored room event: its name and its payload exactly as it was emitted."""

    event: str
    data: dict[str, Any]


class RoomJoined(BaseModel):
    """The ``room:join`` / ``room:sync`` acknowledgement. ``seq``: the room's latest seq;
    ``missed``: the events after ``after_seq`` in order; ``truncated``: more were missed than
    are replayed — fetch the room's state instead."""

    ok: bool = True
    club_id: str
    seq: int
    online: list[str]
    missed: list[MissedEvent]
    truncated: bool


class RoomState(BaseModel):
    """``GET /api/v1/clubs/{id}/room``: one consistent snapshot at room ``seq`` — the latest
    messages (oldest first), open and recent proposals, who is online. Apply only events with
    a greater ``seq`` to it."""

    club_id: str
    seq: int
    messages: list[MessageOut]
    proposals: list[ProposalOut]
    online: list[str]


class EventPage(BaseModel):
    """``GET /api/v1/clubs/{id}/events?after_seq=``: stored room events, oldest first."""

    events: list[MissedEvent]
    seq: int
    truncated: bool


class EventQuery(BaseModel):
    after_seq: NonNegativeInt64 = 0
    limit: int = Field(default=200, ge=1, le=1000)


class PresenceEvent(ServerEvent):
    """``presence:update`` to ``club:<id>``: someone came online or went offline in the room
    (not stored; the join acknowledgement carries the full list)."""

    club_id: str
    user_id: str
    online: bool
    online_user_ids: list[str]


class RoomRemovedEvent(ServerEvent):
    """``room:removed`` to the sockets of someone who is no longer a member: they were taken
    out of ``club:<id>`` and receive nothing more from it."""

    club_id: str
    reason: str

"""The per-room event log: every sequenced room event is stored before it is emitted, so a client
that comes back with the last ``seq`` it saw receives exactly what it missed.

How a domain change sends room events (docs/architecture.md, the one event path):

    await eventlog.ensure_room(room)                      # once, outside the transaction
    async def body(session):
        ... change documents ...
        event = await eventlog.append(session, room, "chat:message", ChatMessageEvent, ...)
        return result, [event]
    result, events = await run_in_transaction(body)
    await realtime.publish(events)                         # after the commit, at most once

``seq`` comes from one counter document per room, created up front (never an upsert race) and
moved by ``$inc`` with ``return_document=AFTER`` inside the caller's transaction (never BEFORE:
docs/local-services.md). Two transactions appending to a room both write the counter, so the second
conflicts and is retried by the driver: seqs are gapless and commit in their own order — when a
client sees ``seq`` N, every event below N is committed and readable.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeVar

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

E = TypeVar("E", bound=BaseModel)


def utcnow() -> dt.datetime:
    """Now, UTC, truncated to the millisecond MongoDB keeps."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def iso(moment: dt.datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z`` (the ``ts`` of every payload)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RoomCounter(Document):
    """The last ``seq`` given out in one room (``_id`` is the room name)."""

    id: str  # type: ignore[assignment]
    value: int = 0

    class Settings:
        name = "room_counters"


class RoomEvent(Document):
    """One sequenced event of a room, exactly as it was emitted (``data`` is the payload)."""

    room: str
    seq: int
    event: str
    data: dict[str, Any]
    at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "room_events"
        indexes = [  # noqa: RUF012  (Beanie reads it as a class attribute)
            IndexModel([("room", ASCENDING), ("seq", ASCENDING)], unique=True, name="room_seq"),
        ]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An event to emit once its transaction has committed."""

    room: str
    event: str
    data: dict[str, Any]


_known_rooms: set[str] = set()


async def ensure_room(room: str) -> None:
    """Create the room's counter if it does not exist (outside any transaction; idempotent)."""
    if room in _known_rooms:
        return
    with contextlib.suppress(DuplicateKeyError):
        await RoomCounter.get_pymongo_collection().insert_one({"_id": room, "value": 0})
    _known_rooms.add(room)


async def append(
    session: AsyncClientSession, room: str, event: str, model: type[E], **fields: Any
) -> Outgoing:
    """Give the next ``seq`` of ``room`` to a new ``event`` built as ``model(id=…, ts=…, seq=…,
    **fields)``, store it in the caller's transaction and return it for emission after commit.

    ``id`` is ``<room>:<seq>`` (unique and stable), ``ts`` the time of the change. The model
    validates the payload, so nothing leaves that does not match the published contract.

    Raises:
        RuntimeError: the room's counter was not created first (``ensure_room``).
    """
    counter = await RoomCounter.get_pymongo_collection().find_one_and_update(
        {"_id": room}, {"$inc": {"value": 1}}, return_document=ReturnDocument.AFTER,
        session=session,
    )  # fmt: skip
    if counter is None:
        raise RuntimeError(f"room {room} has no counter: call ensure_room first")
    seq = int(counter["value"])
    now = utcnow()
    payload = model(id=f"{room}:{seq}", ts=iso(now), seq=seq, **fields)
    data = payload.model_dump(mode="json")
    await RoomEvent.get_pymongo_collection().insert_one(
        {"room": room, "seq": seq, "event": event, "data": data, "at": now}, session=session
    )
    return Outgoing(room=room, event=event, data=data)


async def head(room: str, session: AsyncClientSession | None = None) -> int:
    """The last ``seq`` of ``room`` (0 when nothing happened there yet)."""
    counter = await RoomCounter.get_pymongo_collection().find_one({"_id": room}, session=session)
    return 0 if counter is None else int(counter["value"])


async def heads(rooms: list[str]) -> dict[str, int]:
    """The last ``seq`` of each of ``rooms`` that has a log (rooms without one are left out)."""
    if not rooms:
        return {}
    found = RoomCounter.get_pymongo_collection().find({"_id": {"$in": rooms}})
    return {str(c["_id"]): int(c["value"]) async for c in found}


async def since(room: str, after_seq: int, limit: int) -> list[RoomEvent]:
    """Up to ``limit`` events of ``room`` with ``seq`` above ``after_seq``, oldest first."""
    return (
        await RoomEvent.find({"room": room, "seq": {"$gt": after_seq}})
        .sort("+seq")
        .limit(limit)
        .to_list()
    )


async def next_seq(session: AsyncClientSession, room: str) -> int:
    """Give out the next ``seq`` of ``room`` without storing an event (for logs kept in their own
    collection, such as a person's notifications). Same rules as ``append``."""
    counter = await RoomCounter.get_pymongo_collection().find_one_and_update(
        {"_id": room}, {"$inc": {"value": 1}}, return_document=ReturnDocument.AFTER,
        session=session,
    )  # fmt: skip
    if counter is None:
        raise RuntimeError(f"room {room} has no counter: call ensure_room first")
    return int(counter["value"])


async def redact(session: AsyncClientSession | None, match: dict[str, Any],
                 changes: dict[str, Any]) -> int:  # fmt: skip
    """Overwrite fields of the logged events matching ``match`` (a filter on ``room``,
    ``event`` and ``data.…``): ``changes`` maps a path inside ``data`` to its new value. For
    an erasure: a replayed event must not bring back what was erased. ``seq`` and ids stay,
    so logs remain gap-free. Returns how many events changed."""
    result = await RoomEvent.get_pymongo_collection().update_many(
        match, {"$set": {f"data.{path}": value for path, value in changes.items()}},
        session=session,
    )  # fmt: skip
    return result.modified_count

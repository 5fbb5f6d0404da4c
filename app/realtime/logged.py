"""A logged room event for a change made without a transaction (a single-document update such
as a claimed rebalance run or an inserted alert): the change is stored first, then the event is
appended to its room's log in a transaction of its own and sent once that commits. A process
dying between the two loses the event (the change itself is stored, and the screens that show it
load it afresh); a change that can be made inside a transaction logs its event there instead
(``events.room_event``)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from pymongo.asynchronous.client_session import AsyncClientSession

from app.db import run_in_transaction
from app.realtime import events
from app.realtime.eventlog import Outgoing

E = TypeVar("E", bound=BaseModel)


async def record(room: str, event: str, model: type[E], **fields: Any) -> Outgoing:
    """Append ``event`` (payload ``model(id=…, ts=…, seq=…, **fields)``) to ``room``'s log now,
    in its own transaction, and send it after the commit (joined to the caller's change when one
    is being collected). Returns what was stored."""
    await events.ensure_room(room)

    async def body(session: AsyncClientSession) -> Outgoing:
        return await events.room_event(session, room, event, model, **fields)

    return await run_in_transaction(body)

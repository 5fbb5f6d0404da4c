"""MongoDB transactions: the one way several documents move together (docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from beanie import PydanticObjectId
from bson.errors import InvalidId
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from app.extensions import services
from app.realtime import events

T = TypeVar("T")


async def run_in_transaction(body: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
    """Run ``body(session)`` in a multi-document transaction and return its result.

    Snapshot reads and majority writes. Transient conflicts (two transactions touching the same
    document — e.g. the club's ledger sequence) are retried by the driver's ``with_transaction``
    for up to 120 s; an exception raised by ``body`` aborts the transaction and propagates, with
    nothing written and nothing sent.

    The events ``body`` records (``app.realtime.events``) are sent after the commit, in order;
    each retried attempt starts with an empty batch, so only the committed attempt's events go.
    """
    if services.mongo is None:
        raise RuntimeError("MongoDB is not connected in this process")
    batch = events.Batch()

    async def attempt(session: AsyncClientSession) -> T:
        batch.clear()
        with events.collecting(batch):
            return await body(session)

    async with services.mongo.start_session() as session:
        result = await session.with_transaction(
            attempt,
            read_concern=ReadConcern("snapshot"),
            write_concern=WriteConcern("majority"),
        )
    await events.dispatch(batch)
    return result


def object_id(value: str) -> PydanticObjectId | None:
    """``value`` as an ObjectId, or ``None`` when it is not one (callers answer 404)."""
    try:
        return PydanticObjectId(value)
    except (InvalidId, TypeError, ValueError):
        return None

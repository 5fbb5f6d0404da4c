"""The one path by which a change reaches open screens: events are collected while the change
runs and sent only after it has committed (zulip's send-event-on-commit).

A domain service never emits. Inside a transaction body it calls

    await events.room_event(session, room, "chat:message", ChatMessageEvent, **fields)

which stores the event in the room's log (gap-free ``seq``, so a reconnecting client catches up)
and queues it; ``app.db.run_in_transaction`` sends the queue once the commit succeeded, in order,
at most once. A retried transaction starts with an empty queue; an aborted one sends nothing.

Events that are not part of a room's history (presence, typing, report progress, a person's own
notification feed) go through ``send``: queued when a change is being collected, sent at once
otherwise. Other side effects that must wait for the commit (mail, Kafka, a room eviction) are
registered with ``after_commit``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from pymongo.asynchronous.client_session import AsyncClientSession

from app.logging import get_logger
from app.realtime import eventlog, publish
from app.realtime.eventlog import Outgoing

log = get_logger(__name__)

E = TypeVar("E", bound=BaseModel)

AfterCommit = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class Batch:
    """What one change will send once it commits, in the order it was queued."""

    items: list[Outgoing | AfterCommit] = field(default_factory=list)

    def clear(self) -> None:
        """Forget everything (a transaction attempt is being retried)."""
        self.items.clear()

    @property
    def outgoing(self) -> list[Outgoing]:
        """The socket events of the batch."""
        return [item for item in self.items if isinstance(item, Outgoing)]


_current: ContextVar[Batch | None] = ContextVar("samooh_event_batch", default=None)


@contextlib.contextmanager
def collecting(batch: Batch) -> Iterator[Batch]:
    """Queue every event and after-commit action of the block into ``batch``."""
    token = _current.set(batch)
    try:
        yield batch
    finally:
        _current.reset(token)


async def dispatch(batch: Batch) -> None:
    """Send a committed batch: socket events in order, after-commit actions in between as they
    were queued. When an outer change is still collecting, the batch joins it instead (its
    commit is the one that counts). Failures are logged, never raised: the change committed."""
    outer = _current.get()
    if outer is not None:
        outer.items.extend(batch.items)
        return
    for item in batch.items:
        if isinstance(item, Outgoing):
            await publish.emit(item.event, item.data, item.room)
            continue
        try:
            await item()
        except Exception as exc:  # pragma: no cover - the change committed; log and go on
            log.error("after-commit action failed", action=getattr(item, "__name__", "?"),
                      error=str(exc))  # fmt: skip


@contextlib.asynccontextmanager
async def change() -> AsyncIterator[Batch]:
    """Collect the events of a change made without a transaction (a single-document update)
    and send them when the block exits without an exception."""
    batch = Batch()
    with collecting(batch):
        yield batch
    await dispatch(batch)


def _batch() -> Batch:
    batch = _current.get()
    if batch is None:
        raise RuntimeError("room events are recorded inside run_in_transaction")
    return batch


async def ensure_room(room: str) -> None:
    """Create ``room``'s log counter if needed; call it before the transaction that appends."""
    await eventlog.ensure_room(room)


async def room_event(
    session: AsyncClientSession, room: str, event: str, model: type[E], **fields: Any
) -> Outgoing:
    """Append ``event`` to ``room``'s log in the caller's transaction (payload built as
    ``model(id=…, ts=…, seq=…, **fields)``) and queue it for after the commit.

    Raises:
        RuntimeError: not inside ``run_in_transaction``, or the room has no counter
            (``ensure_room`` first).
    """
    batch = _batch()
    outgoing = await eventlog.append(session, room, event, model, **fields)
    batch.items.append(outgoing)
    return outgoing


async def send(room: str, event: str, payload: BaseModel | dict[str, Any]) -> None:
    """An event outside any room's log (presence, typing, progress, a person's feed): queued
    when a change is being collected, emitted at once otherwise. At most once."""
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    outgoing = Outgoing(room=room, event=event, data=data)
    batch = _current.get()
    if batch is not None:
        batch.items.append(outgoing)
    else:
        await publish.emit(event, data, room)


async def after_commit(action: AfterCommit) -> None:
    """Run ``action`` once the change commits (at once when no change is being collected).
    For side effects that must not happen for a change that rolls back: mail, Kafka, evictions.
    """
    batch = _current.get()
    if batch is not None:
        batch.items.append(action)
    else:
        await action()


async def remove_from_room(sid: str, room: str) -> None:
    """Take socket ``sid`` out of ``room`` on whichever web process holds it (an eviction is a
    consequence of a committed change: call it after the commit)."""
    await publish.leave_room(sid, room)


async def disconnect(sids: list[str]) -> None:
    """Disconnect sockets (an account suspended, a password reset): after the change commits,
    in order with the events queued before it (``session:revoked`` first)."""
    await after_commit(functools.partial(publish.disconnect, sids))

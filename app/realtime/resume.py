"""The web process's Socket.IO manager, surviving a Redis outage (docs/drills.md).

Every event a web process or a worker emits travels through Redis pub/sub, the process's own
sockets included. While Redis is away those emits are lost (Socket.IO is at most once; the
events were stored first, eventlog). python-socketio re-subscribes by itself, but with a
back-off that grows to a minute, and nothing tells a client that sat through the outage that it
missed anything: it only notices at the next event of the room, which may never come.

``ResumingRedisManager`` re-subscribes within ``MAX_RETRY_SECONDS`` and, once subscribed
again, tells every local socket how far the log of each room it is in has gone:
``room:head {room, head}``. A client whose last ``seq`` of that room is below ``head`` asks for
the rest (``room:sync``, ``campaign:sync``…) — the same catch-up as after a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import socketio
from pydantic import Field

from app.logging import get_logger
from app.realtime import eventlog
from app.realtime.contract import ServerEvent
from app.realtime.eventlog import iso, utcnow
from app.realtime.fanout import CoalescingRedisManager

log = get_logger(__name__)

ROOM_HEAD = "room:head"
MAX_RETRY_SECONDS = 4.0
"""Longest wait between two attempts to re-subscribe (python-socketio's own is 60 s)."""
SETTLE_SECONDS = 0.5
"""Wait after re-subscribing before reading the heads, so that the SUBSCRIBE has reached Redis
before the logs are read: anything committed later is then either in the head read or
delivered live (a duplicate is dropped by ``seq``)."""


class RoomHeadEvent(ServerEvent):
    """``room:head`` to the sockets of a web process whose link to Redis came back: ``head`` is
    the last ``seq`` of ``room``'s log (``club:<id>``, ``user:<id>``, ``campaign:<id>``…).
    Events emitted during the outage never arrived: a client that has applied less than
    ``head`` asks for the rest (``room:sync`` with its last ``seq``)."""

    room: str
    head: int = Field(ge=0)


class ResumingRedisManager(CoalescingRedisManager):
    """``CoalescingRedisManager`` that re-subscribes quickly after Redis comes back and then
    sends ``room:head`` for every local room that has a log."""

    resumed = 0
    """How many times the subscription came back after a failure (read by tests, metrics)."""

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:  # pragma: no cover
        # python-socketio's loop, with a shorter back-off and the resume step.
        retry_sleep = 0.25
        failed = False
        while True:
            try:
                if self.pubsub is not None:  # the dead subscription's connection
                    with contextlib.suppress(Exception):
                        await self.pubsub.aclose()
                self._redis_connect()
                await self.pubsub.subscribe(self.channel)
                retry_sleep = 0.25
                if failed:
                    failed = False
                    self.resumed += 1
                    self.server.start_background_task(self.announce_heads)
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:
                if not failed:
                    log.error("lost the Redis subscription; retrying", error=str(exc))
                failed = True
                await asyncio.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, MAX_RETRY_SECONDS)

    async def announce_heads(self) -> None:
        """Send ``room:head`` to each local socket in a room that has a log. Never raises (a
        failure leaves clients to catch up at their next event or reconnect)."""
        try:
            await asyncio.sleep(SETTLE_SECONDS)
            namespace = "/"
            local = [r for r in self.rooms.get(namespace, {}) if isinstance(r, str) and ":" in r]
            heads = await eventlog.heads(local)
            for room, head in heads.items():
                event = RoomHeadEvent(
                    id=f"head:{room}:{head}:{secrets.token_hex(4)}", ts=iso(utcnow()),
                    room=room, head=head,
                )  # fmt: skip
                # This process's sockets only (not through Redis: every process does its own).
                await socketio.AsyncManager.emit(
                    self, ROOM_HEAD, event.model_dump(mode="json"), namespace=namespace, room=room
                )
            log.info("Redis subscription back: room heads sent", rooms=len(heads))
        except Exception as exc:
            log.error("could not send room heads after the Redis outage", error=str(exc))

"""The web process's Socket.IO manager: rooms shared through Redis, and *state* events (quotes)
coalesced per socket before they are sent (docs/realtime-bench.md has the figures).

Room events are a log and go out as they come (``app/realtime/events.py``: ordered, gap-free,
never merged). A quote is state: only the latest per symbol matters. So a ``quote:tick``
arriving from Redis for a room is held — the latest per (room, symbol) — and every
``window_ms`` each local socket in those rooms gets what is pending for its rooms in one go:

* sockets that joined ``QUOTE_BATCH_ROOM`` (``quote:subscribe`` with ``"batch": true``) get one
  ``quote:batch`` packet ``{"id", "ts", "quotes": [QuoteTick, …]}``;
* every other socket gets one ``quote:tick`` packet per symbol, as before.

Sockets with the same pending rooms get the same bytes: each packet is encoded once per such
group, not once per socket. A quote for a room with no socket on this process is dropped at
once. With ``window_ms == 0`` nothing is held (python-socketio's own room emit).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import itertools
import json
from typing import Any

import orjson
import socketio
from engineio import packet as eio_packet
from socketio import packet

from app.logging import get_logger

log = get_logger(__name__)

QUOTE_EVENT = "quote:tick"
QUOTE_BATCH_EVENT = "quote:batch"
QUOTE_BATCH_ROOM = "quote-batch"
"""Room of the sockets that take their quotes as ``quote:batch`` (one packet per window)."""

_batch_ids = itertools.count(1)


class CoalescingRedisManager(socketio.AsyncRedisManager):
    """``AsyncRedisManager`` that holds ``quote:tick`` per room and symbol for ``window_ms`` and
    sends each local socket one packet (batching sockets) or one packet per symbol (others)."""

    def __init__(self, url: str, *, channel: str, window_ms: int) -> None:
        super().__init__(url, channel=channel)
        self.window = window_ms / 1000
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self.packets_sent = 0

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        room = message.get("room")
        if (
            self.window <= 0
            or message.get("event") != QUOTE_EVENT
            or not isinstance(room, str)
            or message.get("callback")
            or message.get("skip_sid")
            or message.get("binary")
        ):
            await super()._handle_emit(message)
            return
        namespace = message.get("namespace") or "/"
        if room not in self.rooms.get(namespace, {}):
            return  # no socket of this process is in the room
        data = message["data"]
        quote = data[0] if isinstance(data, list) and len(data) == 1 else data
        if not isinstance(quote, dict):
            await super()._handle_emit(message)
            return
        self._pending.setdefault((namespace, room), {})[str(quote.get("symbol"))] = quote
        if self._flusher is None or self._flusher.done():
            # A fresh context: the sender must never inherit a change's event batch.
            self._flusher = asyncio.get_running_loop().create_task(
                self._run(), context=contextvars.Context()
            )

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.window)
            if not self._pending:
                continue
            try:
                await self.flush()
            except Exception as exc:  # pragma: no cover - a bug must not stop the quotes
                log.error("quote fan-out failed", error=str(exc))

    async def flush(self) -> None:
        """Send everything pending now: per group of sockets with the same pending rooms, one
        encoded ``quote:batch`` (batching sockets) or one encoded ``quote:tick`` per symbol."""
        pending, self._pending = self._pending, {}
        rooms_of: dict[tuple[str, str], tuple[str, list[str]]] = {}
        for (namespace, room), _ in pending.items():
            for sid, eio_sid in self.get_participants(namespace, room):
                entry = rooms_of.setdefault((namespace, sid), (eio_sid, []))
                entry[1].append(room)
        groups: dict[tuple[str, tuple[str, ...]], list[tuple[str, str]]] = {}
        for (namespace, sid), (eio_sid, sid_rooms) in rooms_of.items():
            groups.setdefault((namespace, tuple(sid_rooms)), []).append((sid, eio_sid))
        for (namespace, group_rooms), members in groups.items():
            quotes: dict[str, dict[str, Any]] = {}
            for room in group_rooms:
                for symbol, quote in pending[(namespace, room)].items():
                    held = quotes.get(symbol)
                    if held is None or str(quote.get("ts")) >= str(held.get("ts")):
                        quotes[symbol] = quote
            batching = self.rooms.get(namespace, {}).get(QUOTE_BATCH_ROOM, {})
            batch_sids = [eio for sid, eio in members if sid in batching]
            tick_sids = [eio for sid, eio in members if sid not in batching]
            if batch_sids:
                body = {
                    "id": f"qb:{next(_batch_ids)}",
                    "ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                    "quotes": list(quotes.values()),
                }
                await self._send(namespace, QUOTE_BATCH_EVENT, body, batch_sids)
            if tick_sids:
                for quote in quotes.values():
                    await self._send(namespace, QUOTE_EVENT, quote, tick_sids)

    async def _send(self, namespace: str, event: str, data: Any, eio_sids: list[str]) -> None:
        encoded = self.server.packet_class(
            packet.EVENT, namespace=namespace, data=[event, data]
        ).encode()
        parts = encoded if isinstance(encoded, list) else [encoded]
        eio_packets = [eio_packet.Packet(eio_packet.MESSAGE, part) for part in parts]
        for eio_sid in eio_sids:
            for eio_pkt in eio_packets:
                await self.server._send_eio_packet(eio_sid, eio_pkt)
        self.packets_sent += len(eio_sids)

    async def close(self) -> None:
        """Stop the window's task (the process is stopping; pending quotes are dropped)."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None


class OrjsonCodec:
    """The ``json`` module python-socketio and python-engineio encode packets with, on orjson
    (``socket_json = "orjson"``). Anything orjson refuses is left to the standard library."""

    @staticmethod
    def dumps(obj: Any, *args: Any, **kwargs: Any) -> str:
        """``json.dumps`` of compact separators; ``str``."""
        try:
            return orjson.dumps(obj).decode()
        except TypeError:
            return json.dumps(obj, separators=(",", ":"))

    @staticmethod
    def loads(text: str | bytes, *args: Any, **kwargs: Any) -> Any:
        """``json.loads``. Raises ``ValueError`` on bad JSON, as the standard library does."""
        return orjson.loads(text)

"""The client: REST with the account's access token, one Socket.IO connection that reconnects
by itself, and the rooms it follows kept in step (see the package's docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio

Handler = Callable[[str, dict[str, Any]], Awaitable[None] | None]
"""Called with ``(event, data)`` for each event of a followed room, in ``seq`` order, once."""


class SamoohError(Exception):
    """An answer in the error shape ``{"error": {"code", "message", "details"}}`` (HTTP or a
    socket acknowledgement); ``status`` is the HTTP status (0 on a socket)."""

    def __init__(self, code: str, message: str, status: int = 0,
                 details: dict[str, Any] | None = None) -> None:  # fmt: skip
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status
        self.details = details or {}

    @classmethod
    def of(cls, body: Any, status: int = 0) -> SamoohError:
        """The error an answer's body describes (a body without the shape: ``unexpected``)."""
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls("unexpected", str(body)[:200], status)
        return cls(str(error.get("code")), str(error.get("message")), status,
                   error.get("details") or {})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Room:
    """How to enter one logged room: ``name`` as the events' ids spell it (``<name>:<seq>``;
    None when only the server knows it, as for one's own log), the join event, its fixed
    fields, and the key of the missed events in its answer."""

    name: str | None
    join_event: str
    params: dict[str, Any] = field(default_factory=dict)
    missed_key: str = "missed"

    @classmethod
    def club(cls, club_id: str) -> Room:
        """A club's room ``club:<id>`` (members): chat, votes, orders, contributions…"""
        return cls(f"club:{club_id}", "room:join", {"club_id": club_id})

    @classmethod
    def campaign(cls, campaign_id: str) -> Room:
        """A crowdfunding campaign's room ``campaign:<id>``: progress and owner's updates."""
        return cls(f"campaign:{campaign_id}", "campaign:join", {"campaign_id": campaign_id},
                   "events")  # fmt: skip

    @classmethod
    def scheme(cls, scheme_id: str) -> Room:
        """A chit scheme's room ``scheme:<id>``: the live auction, payments, the scheme."""
        return cls(f"scheme:{scheme_id}", "chit:join", {"scheme_id": scheme_id})

    @classmethod
    def person(cls) -> Room:
        """The signed-in person's own log ``person:<id>``: KYC decisions and expiries,
        consultations, their clubs' broadcasts."""
        return cls(None, "feed:join", {"feed": "person"})

    @classmethod
    def broadcasts(cls) -> Room:
        """The broadcasts to everyone ``broadcasts:all``."""
        return cls("broadcasts:all", "feed:join", {"feed": "broadcasts"})


class Follower:
    """One room kept in step: ``seq`` is the last applied (None before the first join);
    ``catch_ups`` counts the joins and syncs that replayed missed events."""

    def __init__(self, client: SamoohClient, room: Room, handler: Handler,
                 on_reset: Callable[[], Awaitable[None] | None] | None) -> None:  # fmt: skip
        self.room, self.name = room, room.name
        self.seq: int | None = None
        self.catch_ups = 0
        self._client, self._handler, self._on_reset = client, handler, on_reset
        self._pending: dict[int, tuple[str, dict[str, Any]]] = {}
        self._entering = asyncio.Lock()
        self._applying = asyncio.Lock()

    async def enter(self) -> None:
        """Join (or sync) with the last applied ``seq``: on the first join the room's ``seq``
        is taken as the starting point (load your state yourself); later, the missed events
        are applied in order. ``truncated`` (more missed than replayed) calls ``on_reset``.

        Raises ``SamoohError`` when the server refuses (not a member, no such room)."""
        async with self._entering:
            payload = dict(self.room.params)
            if self.seq is not None:
                payload["after_seq"] = self.seq
            ack = await self._client.call(self.room.join_event, payload)
            if self.name is None and isinstance(ack.get("room"), str):
                self.name = ack["room"]
            if self.seq is None or ack.get("truncated"):
                if self.seq is not None and self._on_reset is not None:
                    await _maybe_await(self._on_reset())
                self.seq = max(self.seq or 0, int(ack["seq"]))
                self._pending = {k: v for k, v in self._pending.items() if k > self.seq}
            else:
                missed = ack.get(self.room.missed_key) or []
                if missed:
                    self.catch_ups += 1
                for item in missed:
                    self._buffer(str(item["event"]), dict(item["data"]))
        await self._drain()

    def _buffer(self, event: str, data: dict[str, Any]) -> None:
        seq = data.get("seq")
        if not isinstance(seq, int) or (self.seq is not None and seq <= self.seq):
            return  # applied already
        self._pending[seq] = (event, data)

    async def receive(self, event: str, data: Any) -> None:
        """A live event: this room's when its id is ``<room>:<seq>``; buffered and applied in
        order (a hole asks the server for what is missing)."""
        if not isinstance(data, dict) or self.name is None:
            return
        seq = data.get("seq")
        if not isinstance(seq, int) or data.get("id") != f"{self.name}:{seq}":
            return
        self._buffer(event, data)
        await self._drain()

    async def head(self, head: int) -> None:
        """The server says the room's log reached ``head``: ask for what is above ``seq``."""
        if self.seq is not None and head > self.seq and not self._entering.locked():
            self._client.spawn(self.enter())

    async def _drain(self) -> None:
        async with self._applying:
            while self.seq is not None and (self.seq + 1) in self._pending:
                event, data = self._pending.pop(self.seq + 1)
                self.seq += 1
                await _maybe_await(self._handler(event, data))
            hole = self.seq is not None and bool(self._pending)
        if hole and not self._entering.locked():
            self._client.spawn(self.enter())


async def _maybe_await(value: Any) -> None:
    if inspect.isawaitable(value):
        await value


class SamoohClient:
    """REST and Socket.IO for one account (see the package's docstring for an example)."""

    def __init__(self, base_url: str, *, timeout: float = 30.0,
                 reconnect_delay: float = 0.5) -> None:  # fmt: skip
        """``timeout``: seconds to wait for an acknowledgement; ``reconnect_delay``: seconds
        before the first attempt to reconnect after a cut (doubling up to 5 s)."""
        self.base_url = base_url.rstrip("/")
        self.timeout, self.reconnect_delay = timeout, reconnect_delay
        self.token: str | None = None
        self.followers: list[Follower] = []
        self._http: aiohttp.ClientSession | None = None
        self._sio: socketio.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> SamoohClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # ---- REST --------------------------------------------------------------------------

    async def api(self, method: str, path: str, *, json: Any = None,
                  params: dict[str, str] | None = None,
                  headers: dict[str, str] | None = None) -> Any:  # fmt: skip
        """``method path`` (``/api/v1/…``) with the access token; the JSON answer.

        Raises ``SamoohError`` (with the HTTP status) for an answer of 400 or more."""
        if self._http is None:
            self._http = aiohttp.ClientSession()
        sent = dict(headers or {})
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        async with self._http.request(method, f"{self.base_url}{path}", json=json,
                                      params=params, headers=sent) as reply:  # fmt: skip
            body = await reply.json(content_type=None) if reply.content_length != 0 else None
            if reply.status >= 400:
                raise SamoohError.of(body, reply.status)
            return body

    async def log_in(self, email: str, password: str, otp: str | None = None) -> dict[str, Any]:
        """Log in with e-mail and password (and a one-time code when the account has one);
        keeps the access token for REST and the socket. Returns the token pair.

        Raises ``SamoohError`` (``invalid_credentials``, ``otp_required``, …)."""
        body: dict[str, Any] = {"email": email, "password": password}
        if otp:
            body["otp"] = otp
        tokens: dict[str, Any] = await self.api("POST", "/api/v1/auth/login", json=body)
        self.token = str(tokens["access_token"])
        return tokens

    # ---- Socket.IO ---------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the socket is connected now."""
        return self._sio is not None and self._sio.connected

    async def connect(self) -> None:
        """Open the socket (it reconnects by itself after a cut, and every followed room is
        entered again with its last ``seq``). Raises ``socketio.exceptions.ConnectionError``
        when the server refuses the token."""
        sio = socketio.AsyncClient(reconnection=True, reconnection_delay=self.reconnect_delay,
                                   reconnection_delay_max=max(5, self.reconnect_delay),
                                   randomization_factor=0)  # fmt: skip
        self._sio = sio

        @sio.event
        async def connect() -> None:
            for follower in self.followers:  # not here: an ack needs this read loop
                self.spawn(follower.enter())

        @sio.on("room:head")
        async def room_head(data: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("head"), int):
                return
            for follower in self.followers:
                if follower.name == data.get("room"):
                    await follower.head(int(data["head"]))

        @sio.on("*")
        async def any_event(event: str, data: Any = None) -> None:
            for follower in self.followers:
                await follower.receive(event, data)

        await sio.connect(self.base_url, transports=["websocket"],
                          auth=lambda: {"token": self.token})  # fmt: skip

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Emit ``event`` and wait for its acknowledgement.

        Raises ``SamoohError`` for a refusal (``ok`` false), ``RuntimeError`` when not
        connected, ``socketio.exceptions.TimeoutError`` after ``timeout`` seconds."""
        if self._sio is None:  # (not ``connected``: a reconnection's joins start before it)
            raise RuntimeError("not connected: call connect() first")
        ack = await self._sio.call(event, data, timeout=self.timeout)
        if not isinstance(ack, dict) or ack.get("ok") is False:
            raise SamoohError.of(ack)
        return ack

    async def follow(self, room: Room, handler: Handler, *,
                     on_reset: Callable[[], Awaitable[None] | None] | None = None
                     ) -> Follower:  # fmt: skip
        """Follow ``room``: entered now (when connected) and on every reconnection; its events
        reach ``handler`` in ``seq`` order, once each. Raises ``SamoohError`` when refused."""
        follower = Follower(self, room, handler, on_reset)
        self.followers.append(follower)
        if self.connected:
            try:
                await follower.enter()
            except BaseException:
                self.followers.remove(follower)
                raise
        return follower

    def spawn(self, work: Awaitable[None]) -> None:
        """Run ``work`` in the background (kept until done; its failure is dropped: the next
        reconnection, hole or ``room:head`` tries again)."""

        async def run() -> None:
            with contextlib.suppress(Exception):
                await work

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Disconnect the socket and close the HTTP session."""
        if self._sio is not None:
            await self._sio.disconnect()
            self._sio = None
        for task in list(self._tasks):
            task.cancel()
        if self._http is not None:
            await self._http.close()
            self._http = None

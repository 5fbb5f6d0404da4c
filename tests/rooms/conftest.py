"""Helpers of the live-room tests: people with access tokens, clubs made of them, and a
python-socketio client that records every event it receives."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import socketio

from app.asyncapi import SERVER_PAYLOADS
from app.clubs.documents import Club
from app.clubs.service import club_service
from app.identity.documents import PlatformRole
from app.identity.login import do_login
from app.identity.signup import do_provision_user
from tests.conftest import LiveStack
from tests.identity.conftest import Api, client_session


@dataclass
class Person:
    """An ACTIVE account and a fresh access token."""

    user_id: str
    email: str
    token: str


async def person(tag: str = "member", roles: list[PlatformRole] | None = None) -> Person:
    email, password = f"{tag}-{uuid.uuid4().hex[:10]}@example.com", "Room-member-2026"
    user = await do_provision_user(
        email=email, password=password, full_name=tag.title(), roles=roles
    )
    # Each test person logs in from an address of its own: the per-IP login limit is real.
    client_ip = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
    pair = await do_login(email, password, None, client_ip)
    return Person(str(user.id), email, pair.access_token)


async def club_of(owner: Person, *members: Person, **rules: Any) -> Club:
    """A club owned by ``owner`` that ``members`` joined by invite."""
    club, _ = await club_service.do_create_club(
        owner.user_id, name=f"Room {uuid.uuid4().hex[:6]}", **rules
    )
    if members:
        _, token = await club_service.do_create_invite(
            str(club.id), owner.user_id, expires_in=dt.timedelta(hours=1), max_uses=len(members)
        )
        for m in members:
            await club_service.do_accept_invite(token, m.user_id)
    return club


@dataclass
class RoomClient:
    """A socket of one person; ``events`` is every (name, payload) received, in order."""

    url: str
    who: Person
    sio: socketio.AsyncClient = field(default_factory=lambda: socketio.AsyncClient(
        reconnection=False))  # fmt: skip
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    def __post_init__(self) -> None:
        @self.sio.on("*")
        async def _any(event: str, data: Any = None) -> None:
            model = SERVER_PAYLOADS.get(event)
            try:  # every payload matches its published model (app/asyncapi.py)
                assert model is not None, "not in the published contract"
                model.model_validate(data)
            except Exception as exc:
                self.invalid.append(f"{event}: {exc}")
            async with self._arrived:
                self.events.append((event, data))
                self._arrived.notify_all()

    async def connect(self) -> RoomClient:
        await self.sio.connect(self.url, transports=["websocket"], auth={"token": self.who.token})
        return self

    async def call(self, event: str, data: Any) -> dict[str, Any]:
        # 30 s: on a loaded 2-core CI machine a burst of calls can queue behind each other.
        return dict(await self.sio.call(event, data, timeout=30))

    async def join(self, club: Club | str, after_seq: int | None = None) -> dict[str, Any]:
        club_id = club if isinstance(club, str) else str(club.id)
        payload: dict[str, Any] = {"club_id": club_id}
        if after_seq is not None:
            payload["after_seq"] = after_seq
        return await self.call("room:join", payload)

    def of(self, *names: str) -> list[dict[str, Any]]:
        return [data for name, data in self.events if name in names]

    async def wait_for(
        self, check: Callable[[RoomClient], bool], timeout: float = 15
    ) -> RoomClient:
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: check(self)), timeout)
        return self

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


@pytest.fixture
async def clients(live_stack: LiveStack) -> AsyncIterator[Callable[[Person], Any]]:
    """``await connect(person)`` → a connected RoomClient, disconnected after the test."""
    made: list[RoomClient] = []

    async def connect(who: Person) -> RoomClient:
        client = await RoomClient(live_stack.url, who).connect()
        made.append(client)
        return client

    yield connect
    for client in made:
        await client.close()
    assert [bad for client in made for bad in client.invalid] == []


@pytest.fixture
async def http(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with client_session() as session:
        yield Api(live_stack.url, session)


def in_a_minute(seconds: float = 60) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).isoformat()

"""Drill: Redis stopped for five seconds while a vote is cast on the other web process.

Two web processes (A and B) and a worker share a Redis of their own. Four members watch a
club's room, two on each process, each keeping the room's state the way the web client does
(web/src/room.ts: a snapshot, then the room's events in ``seq`` order, ``room:sync`` on a gap
and on a ``room:head`` above what it applied). Then Redis stops:

* a member on B votes over his socket: the vote is stored (the acknowledgement says so) and
  its ``vote:tally`` reaches B's own sockets, but not A's — emits between processes travel
  through Redis;
* an HTTP request needing Redis (sign-in checks the session there) gets 503
  ``service_unavailable``, not a 500;
* a quote produced meanwhile reaches the worker, whose quote cache cannot be written.

Five seconds later Redis starts again with its data (append-only file). Without any further
event in the room, every member's state equals the database (the room's snapshot read over
HTTP): the web processes re-subscribed and sent ``room:head``, and each client caught up with
``room:sync``. The vote is stored once. The platform works on: the processes are all alive, a
vote cast over HTTP on A reaches every member live, and a new quote goes from Kafka through
the worker and Redis to a socket.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from aiokafka import AIOKafkaProducer

from app.asyncapi import SERVER_PAYLOADS
from app.clubs.service import club_service
from app.config import Settings
from app.money import format_minor
from app.proposals.documents import Vote, VoteRecord
from streams.records import MarketTickV1
from tests.drills.conftest import DrillPlatform, OwnRedis, drill_platform
from tests.identity.conftest import Api, provision

OUTAGE_SECONDS = 5.0
SYMBOL = "AAPL"

pytestmark = pytest.mark.timeout(300)


class RoomMirror:
    """One member's socket and the club room's state as a client keeps it: ``seq`` and each
    proposal's tally."""

    def __init__(self, url: str, token: str, club_id: str, name: str) -> None:
        self.url, self.token, self.club_id, self.name = url, token, club_id, name
        self.room = f"club:{club_id}"
        self.sio = socketio.AsyncClient(reconnection=False)
        self.seq: int | None = None
        self.tallies: dict[str, Any] = {}
        self.pending: dict[int, tuple[str, dict[str, Any]]] = {}
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.invalid: list[str] = []
        self.heads: list[dict[str, Any]] = []
        self.syncs = 0
        self._syncing = False
        self._tasks: set[asyncio.Task[None]] = set()

        @self.sio.on("*")
        async def _any(event: str, data: Any = None) -> None:
            model = SERVER_PAYLOADS.get(event)
            try:
                assert model is not None, "not in the published contract"
                model.model_validate(data)
            except Exception as exc:
                self.invalid.append(f"{event}: {exc}")
            self.received.append((event, data))
            if event == "room:head":
                self.heads.append(data)
                if data["room"] == self.room and self.seq is not None and data["head"] > self.seq:
                    self._spawn_sync()
            elif isinstance(data, dict) and data.get("club_id") == club_id and "seq" in data:
                self.pending[int(data["seq"])] = (event, data)
                self._drain()

    async def start(self, http: Api) -> RoomMirror:
        """Connect, join (before the snapshot, so nothing falls in between), load the snapshot."""
        await self.sio.connect(self.url, transports=["websocket"], auth={"token": self.token})
        ack = await self.sio.call("room:join", {"club_id": self.club_id}, timeout=15)
        assert ack["ok"], ack
        snapshot = await http.call("GET", f"/api/v1/clubs/{self.club_id}/room", token=self.token)
        assert snapshot.status == 200, snapshot.body
        self.seq = int(snapshot.body["seq"])
        self.tallies = {p["id"]: p["tally"] for p in snapshot.body["proposals"]}
        self._drain()
        return self

    def _apply(self, event: str, data: dict[str, Any]) -> None:
        if event == "proposal:created":
            self.tallies[data["proposal"]["id"]] = data["proposal"]["tally"]
        elif event == "vote:tally":
            self.tallies[data["proposal_id"]] = data["tally"]

    def _drain(self) -> None:
        if self.seq is None:
            return
        for seq in sorted(self.pending):
            if seq <= self.seq:
                del self.pending[seq]
        while self.seq + 1 in self.pending:
            self._apply(*self.pending.pop(self.seq + 1))
            self.seq += 1
        if self.pending:
            self._spawn_sync()

    def _spawn_sync(self) -> None:
        task = asyncio.get_running_loop().create_task(self._sync())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sync(self) -> None:
        if self._syncing or self.seq is None:
            return
        self._syncing = True
        try:
            ack = await self.sio.call(
                "room:sync", {"club_id": self.club_id, "after_seq": self.seq}, timeout=15
            )
            if ack.get("ok"):
                self.syncs += 1
                for missed in ack["missed"]:
                    self.pending[int(missed["data"]["seq"])] = (missed["event"], missed["data"])
        finally:
            self._syncing = False
        self._drain()

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


async def _database_state(http: Api, token: str, club_id: str) -> tuple[int, dict[str, Any]]:
    """The room as the database holds it: its ``seq`` and each proposal's tally."""
    reply = await http.call("GET", f"/api/v1/clubs/{club_id}/room", token=token)
    assert reply.status == 200, reply.body
    return int(reply.body["seq"]), {p["id"]: p["tally"] for p in reply.body["proposals"]}


async def _until(check: Any, what: str, timeout: float, platform: DrillPlatform) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{platform.log_tails()}")
        await asyncio.sleep(0.1)


def _tick(price: int) -> MarketTickV1:
    seq = time.time_ns() // 1000
    return MarketTickV1(
        id=f"drill:{SYMBOL}:{seq}", seq=seq, ts=dt.datetime.now(dt.UTC).isoformat(),
        symbol=SYMBOL, price=price, open=price, high=price, low=price, prev_close=price,
        volume=None, currency="USD", trade_date="2012-06-01", source="redis-drill",
    )  # fmt: skip


async def test_redis_stopped_while_a_vote_is_cast_every_client_catches_up(
    services: object, own_redis: OwnRedis, settings: Settings, tmp_path: Path
) -> None:
    started = time.monotonic()
    async with drill_platform(tmp_path, own_redis.url) as platform, aiohttp.ClientSession() as s:
        api_a, api_b = Api(platform.url_a, s), Api(platform.url_b, s)
        accounts = [await provision(tag=name) for name in ("asha", "mira", "ravi", "dev")]
        tokens = [(await api_a.tokens(a))["access_token"] for a in accounts]
        owner = accounts[0]
        club, _ = await club_service.do_create_club(owner.user_id, name="Redis drill")
        club_id = str(club.id)
        _, invite = await club_service.do_create_invite(
            club_id, owner.user_id, expires_in=dt.timedelta(hours=1), max_uses=3
        )
        for member in accounts[1:]:
            await club_service.do_accept_invite(invite, member.user_id)
        deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=6)).isoformat()
        created = await api_a.call(
            "POST", f"/api/v1/clubs/{club_id}/proposals", token=tokens[0],
            json={"kind": "general", "title": "Keep the picnic", "deadline": deadline},
        )  # fmt: skip
        assert created.status == 201, created.body
        proposal_id = created.body["id"]

        # asha and mira on A; ravi and dev on B.
        placement = [(platform.url_a, api_a), (platform.url_a, api_a),
                     (platform.url_b, api_b), (platform.url_b, api_b)]  # fmt: skip
        mirrors: list[RoomMirror] = []
        for (url, api), token, account in zip(placement, tokens, accounts, strict=True):
            mirrors.append(RoomMirror(url, token, club_id, account.email))
            await mirrors[-1].start(api)
        watcher = socketio.AsyncClient(reconnection=False)
        quotes: list[dict[str, Any]] = []
        watcher.on("quote:tick", lambda data: quotes.append(data))
        await watcher.connect(platform.url_a, transports=["websocket"],
                              auth={"token": tokens[1]})  # fmt: skip
        assert (await watcher.call("quote:subscribe", {"symbols": [SYMBOL]}, timeout=15))["ok"]
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
        await producer.start()
        ticks_topic = f"{platform.topic_prefix}.market.ticks.v1"
        try:
            head_before, tallies_before = await _database_state(api_a, tokens[0], club_id)
            for mirror in mirrors:
                assert mirror.seq == head_before and mirror.tallies == tallies_before

            # Redis goes away.
            own_redis.stop()
            stopped_at = time.monotonic()
            ravi = mirrors[2]
            ack = await ravi.sio.call("vote:cast", {"proposal_id": proposal_id, "choice": "yes"},
                                      timeout=15)  # fmt: skip
            assert ack["ok"] and ack["vote"]["changed"] is True, ack
            # A request that needs Redis (the session check) is refused cleanly.
            refused = await api_a.call("GET", f"/api/v1/clubs/{club_id}/room", token=tokens[0])
            assert refused.status == 503 and refused.code == "service_unavailable", refused.body
            await producer.send_and_wait(ticks_topic, _tick(10_000).dumps(serializer="json"),
                                         key=SYMBOL.encode())  # fmt: skip
            await asyncio.sleep(max(0.0, stopped_at + OUTAGE_SECONDS - time.monotonic()))
            # B's own sockets got the tally (a process hands its own sockets an emit before it
            # publishes it); A's did not: it went through Redis, which was away.
            assert [m.seq for m in mirrors] == [head_before] * 2 + [head_before + 1] * 2
            assert all(code is None for code in platform.alive().values()), platform.log_tails()
            own_redis.start()
            back_at = time.monotonic()

            # No further event in the room: the web processes' room:head brings everyone level.
            async def level() -> bool:
                return all(m.seq == head_before + 1 and not m.pending for m in mirrors)

            await _until(level, "every member's room to catch up", 30, platform)
            assert all(m.syncs >= 1 and m.heads for m in mirrors[:2]), [m.syncs for m in mirrors]
            caught_up_s = time.monotonic() - back_at
            head_after, tallies_after = await _database_state(api_b, tokens[2], club_id)
            assert head_after == head_before + 1
            for mirror in mirrors:
                assert mirror.seq == head_after, mirror.name
                assert mirror.tallies == tallies_after, mirror.name
            assert tallies_after[proposal_id]["yes_count"] == 1
            assert await Vote.find({"proposal_id": proposal_id}).count() == 1
            assert await VoteRecord.find({"proposal_id": proposal_id}).count() == 1

            # And it works on: a vote on A reaches everyone live, a quote reaches the watcher.
            syncs = [m.syncs for m in mirrors]
            voted = await api_a.call("POST", f"/api/v1/proposals/{proposal_id}/votes",
                                     json={"choice": "no"}, token=tokens[1])  # fmt: skip
            assert voted.status == 200, voted.body

            async def live_again() -> bool:
                return all(m.seq == head_after + 1 for m in mirrors)

            await _until(live_again, "the next vote to arrive live", 30, platform)
            assert [m.syncs for m in mirrors] == syncs  # arrived in order, nothing to sync
            final_head, final_tallies = await _database_state(api_a, tokens[3], club_id)
            assert all(m.tallies == final_tallies for m in mirrors)
            assert final_head == head_after + 1

            await producer.send_and_wait(ticks_topic, _tick(12_345).dumps(serializer="json"),
                                         key=SYMBOL.encode())  # fmt: skip

            async def quoted() -> bool:
                return any(q["price"] == format_minor(12_345) for q in quotes)

            await _until(quoted, "a quote through the worker after the outage", 60, platform)
            assert all(code is None for code in platform.alive().values()), platform.log_tails()
            assert [bad for m in mirrors for bad in m.invalid] == []
        finally:
            await producer.stop()
            await watcher.disconnect()
            for mirror in mirrors:
                await mirror.close()
    print(
        f"\n[drill] redis outage: {OUTAGE_SECONDS:.0f} s down, clients level "
        f"{caught_up_s:.1f} s after Redis returned; drill {time.monotonic() - started:.0f} s"
    )

"""Two web processes and two workers (the session's ``live_stack`` plus ``second_pair``): rooms
are shared through Redis, the tick topic's partitions through the consumer group.

* A member connected to web B sees a vote cast over HTTP on web A (and A's member sees it too).
* Quotes produced for symbols on every partition of the tick topic (so both workers handle
  some) reach a socket on each web process: as ``quote:tick`` for a plain socket and as
  ``quote:batch`` for one that asked for batches (the web processes coalesce per socket).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiokafka.partitioner import murmur2

from app.config import Settings
from app.extensions import Services
from app.market import repository as market_repository
from app.money import format_minor
from streams.producer import EventProducer
from streams.records import MarketTickV1
from streams.topics import MARKET_TICKS
from tests.conftest import LiveStack
from tests.identity.conftest import Api
from tests.rooms.conftest import RoomClient, club_of, in_a_minute, person
from tests.scale.conftest import SecondPair

# Starting a second web process and worker (and the session's first pair) is most of the time.
pytestmark = pytest.mark.timeout(600)


@pytest.fixture
async def sockets() -> AsyncIterator[Callable[..., Any]]:
    """``await connect(url, person)`` → a connected RoomClient, closed after the test."""
    made: list[RoomClient] = []

    async def connect(url: str, who: Any) -> RoomClient:
        client = await RoomClient(url, who).connect()
        made.append(client)
        return client

    yield connect
    for client in made:
        await client.close()


def partition(symbol: str) -> int:
    """The tick topic's partition of ``symbol`` (Kafka's default partitioner: murmur2)."""
    return (murmur2(symbol.encode()) & 0x7FFFFFFF) % MARKET_TICKS.partitions


async def test_a_vote_cast_on_one_web_process_reaches_a_member_on_the_other(
    live_stack: LiveStack, second_pair: SecondPair, sockets: Any
) -> None:
    asha, ravi = await person("asha"), await person("ravi")
    club = await club_of(asha, ravi)
    on_a: RoomClient = await sockets(live_stack.url, asha)
    on_b: RoomClient = await sockets(second_pair.url, ravi)
    assert (await on_a.join(club))["ok"] and (await on_b.join(club))["ok"]
    async with aiohttp.ClientSession() as session:
        http = Api(live_stack.url, session)
        body = {"kind": "general", "title": "Meet online", "deadline": in_a_minute()}
        created = await http.call("POST", f"/api/v1/clubs/{club.id}/proposals", json=body,
                                   token=asha.token)  # fmt: skip
        assert created.status == 201, created.body
        proposal_id = created.body["id"]
        voted = await http.call("POST", f"/api/v1/proposals/{proposal_id}/votes",
                                json={"choice": "yes"}, token=asha.token)  # fmt: skip
        assert voted.status == 200, voted.body
    for client in (on_b, on_a):
        await client.wait_for(lambda c: len(c.of("vote:tally")) == 1, timeout=30)
        tally = client.of("vote:tally")[0]
        assert tally["proposal_id"] == proposal_id
        assert tally["tally"]["yes_count"] == 1 and tally["tally"]["participation_count"] == 1
    # The same room log on both processes: the same events in the same order, no gap.
    logged = ("proposal:created", "vote:tally")
    seq_a = [e["seq"] for e in on_a.of(*logged)]
    assert [e["seq"] for e in on_b.of(*logged)] == seq_a
    assert seq_a == list(range(seq_a[0], seq_a[0] + len(seq_a)))


async def test_quotes_from_both_workers_reach_sockets_on_both_web_processes(
    live_stack: LiveStack,
    second_pair: SecondPair,
    sockets: Any,
    settings: Settings,
    services: Services,
) -> None:
    # Instruments of this test's own, two on each partition: ticks of real catalogue stocks
    # would re-price other tests' holdings mid-assertion (they share the quote store).
    run = uuid.uuid4().hex[:4].upper()
    symbols: list[str] = []
    for n in range(1000):
        candidate = f"SC{run}{n}"
        if sum(partition(s) == partition(candidate) for s in symbols) < 2:
            symbols.append(candidate)
        if len(symbols) == 2 * MARKET_TICKS.partitions:
            break
    assert {partition(s) for s in symbols} == set(range(MARKET_TICKS.partitions))
    await market_repository.upsert_instruments([
        {"symbol": s, "name": "Scale test stock", "currency": "USD", "is_index": False,
         "source": "test", "first_date": "2012-06-01", "last_date": "2012-06-01"}
        for s in symbols
    ])  # fmt: skip
    viewer = await person("viewer")
    on_a: RoomClient = await sockets(live_stack.url, viewer)
    plain_b: RoomClient = await sockets(second_pair.url, viewer)
    batch_b: RoomClient = await sockets(second_pair.url, viewer)
    for client, batch in ((on_a, False), (plain_b, False), (batch_b, True)):
        ack = await client.call("quote:subscribe", {"symbols": symbols, "batch": batch})
        assert ack["ok"], ack
    producer = EventProducer(settings.kafka_bootstrap_servers, client_id="samooh-scale-test")
    await producer.start()
    try:
        seq = time.time_ns() // 1000
        ticks = []
        for i, symbol in enumerate(symbols):
            price = 12_345 + i
            ticks.append((symbol, MarketTickV1(
                id=f"scale:{symbol}:{seq + i}", seq=seq + i,
                ts=dt.datetime.now(dt.UTC).isoformat(), symbol=symbol, price=price,
                open=price, high=price, low=price, prev_close=price, volume=None,
                currency="USD", trade_date="2012-06-01", source="scale-test",
            )))  # fmt: skip
        await producer.send_many(MARKET_TICKS, ticks)
    finally:
        await producer.stop()
    expected = {symbol: format_minor(12_345 + i) for i, symbol in enumerate(symbols)}

    def arrived(quotes: list[dict[str, Any]]) -> dict[str, str]:
        return {q["symbol"]: q["price"] for q in quotes if q["source"] == "scale-test"}

    def ticks_of(c: RoomClient) -> list[dict[str, Any]]:
        return c.of("quote:tick")

    def batched(c: RoomClient) -> list[dict[str, Any]]:
        return [q for batch in c.of("quote:batch") for q in batch["quotes"]]

    for client, quotes in ((on_a, ticks_of), (plain_b, ticks_of), (batch_b, batched)):
        await client.wait_for(lambda c, q=quotes: arrived(q(c)) == expected, timeout=30)
    assert batch_b.of("quote:tick") == []  # a batching socket gets its quotes only in batches
    assert plain_b.of("quote:batch") == [] and on_a.of("quote:batch") == []

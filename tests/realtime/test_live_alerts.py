"""Through the running worker (Kafka → the alerts agent, which takes ticks in batches and keeps
each symbol's alerts in memory): an alert created over HTTP fires at the next tick produced,
and an alert cancelled over HTTP does not, though a tick crosses its price."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.config import Settings
from streams.producer import EventProducer
from streams.records import MarketTickV1
from streams.topics import MARKET_TICKS
from tests.identity.conftest import Api
from tests.rooms.conftest import club_of, http, person

__all__ = ["http"]
SYMBOL = "RT19E"  # an instrument of these tests' own (conftest.py)


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[EventProducer]:
    events = EventProducer(settings.kafka_bootstrap_servers, client_id="samooh-test-alerts")
    await events.start()
    yield events
    await events.stop()


async def produce(producer: EventProducer, price: int) -> None:
    seq = time.time_ns() // 1000
    await producer.send(MARKET_TICKS, SYMBOL, MarketTickV1(
        id=f"{SYMBOL}:{seq}", seq=seq, ts="2012-06-12T14:00:00Z", symbol=SYMBOL, price=price,
        open=price, high=price, low=price, prev_close=price, volume=None, currency="USD",
        trade_date="2012-06-12", source="test"))  # fmt: skip


async def eventually(probe: Any, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


async def test_a_new_alert_fires_at_the_next_tick_and_a_cancelled_one_never(
    http: Api, producer: EventProducer
) -> None:
    owner = await person("owner")
    club = await club_of(owner, currency="USD")
    path = f"/api/v1/clubs/{club.id}/alerts"

    async def quoted(price: str) -> bool:
        reply = await http.call("GET", f"/api/v1/market/quotes/{SYMBOL}", token=owner.token)
        return reply.status == 200 and reply.body["price"] == price

    async def fired() -> dict[str, int]:
        reply = await http.call("GET", path, token=owner.token)
        return {a["id"]: a["fired_count"] for a in reply.body["alerts"]}

    async def create(price: str) -> str:
        body = {"symbol": SYMBOL, "kind": "above", "price": price}
        reply = await http.call("POST", path, token=owner.token, json=body)
        assert reply.status == 201, reply.body
        return str(reply.body["id"])

    await produce(producer, 1000)  # the worker has a quote (and the alert its side: below)
    assert await eventually(lambda: quoted("10.00"))
    first = await create("20.00")
    await produce(producer, 2100)
    assert await eventually(lambda: _fired_once(fired, first))

    cancelled = await create("30.00")
    reply = await http.call("DELETE", f"{path}/{cancelled}", token=owner.token)
    assert reply.status == 200 and reply.body["active"] is False
    marker = await create("40.00")
    await produce(producer, 3100)  # crosses the cancelled alert's price only
    await produce(producer, 4100)  # crosses the marker's: once it fired, 3100 was applied
    assert await eventually(lambda: _fired_once(fired, marker))
    assert (await fired())[cancelled] == 0
    assert (await fired())[first] == 1  # one-shot: done after its firing


async def _fired_once(fired: Any, alert_id: str) -> bool:
    return bool((await fired()).get(alert_id) == 1)

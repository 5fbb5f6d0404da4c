"""Market data in club rooms: quotes of the club's watch-list reach the room (coalesced), and
price alerts fire exactly once per crossing, live and on catch-up after a reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from app.alerts.documents import AlertFiring
from app.config import Settings
from app.market.dataset import load_catalogue
from app.money import format_minor
from devtools.replayer import Replayer, intraday_path
from streams.producer import EventProducer
from streams.records import MarketTickV1
from streams.topics import MARKET_TICKS
from tests.identity.conftest import Api
from tests.races.harness import eventually
from tests.rooms.conftest import club_of, person

TICKS = 8


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[EventProducer]:
    events = EventProducer(settings.kafka_bootstrap_servers, client_id="samooh-test-rooms")
    await events.start()
    yield events
    await events.stop()


def tick(symbol: str, price: int, seq: int) -> MarketTickV1:
    return MarketTickV1(
        id=f"{symbol}:{seq}", seq=seq, ts=dt.datetime.now(dt.UTC).isoformat(), symbol=symbol,
        price=price, open=price, high=price, low=price, prev_close=price, volume=None,
        currency="USD", trade_date="2012-06-11", source="test",
    )  # fmt: skip


async def send_prices(producer: EventProducer, symbol: str, prices: list[int]) -> None:
    """Ticks of ``symbol`` at ``prices``, in order, each after a pause (past the coalescing
    window, so the room sees each)."""
    base = dt.datetime.now(dt.UTC).timestamp()
    for i, price in enumerate(prices):
        await producer.send(MARKET_TICKS, symbol, tick(symbol, price, int(base * 1e6) + i))
        await asyncio.sleep(0.35)


async def test_the_club_watchlist_brings_quotes_into_the_room(
    clients: Any, http: Api, producer: EventProducer
) -> None:
    owner, member = await person("owner"), await person("member")
    club = await club_of(owner, member)
    reply = await http.call("PUT", f"/api/v1/clubs/{club.id}/watchlist",
                            json={"symbols": ["ibm", "GE"]}, token=owner.token)  # fmt: skip
    assert reply.status == 200 and reply.body == {"symbols": ["IBM", "GE"]}
    denied = await http.call("PUT", f"/api/v1/clubs/{club.id}/watchlist",
                             json={"symbols": ["IBM"]}, token=member.token)  # fmt: skip
    assert denied.status == 403
    room = await clients(member)
    assert (await room.join(club))["ok"] is True
    series = load_catalogue()["IBM"]
    days = iter([b for b in series.bars if b.date >= dt.date(2012, 6, 11)])

    def closed_on(bar: Any) -> Callable[[Any], bool]:
        close = format_minor(intraday_path(bar, TICKS)[-1])
        return lambda c: any(q["symbol"] == "IBM" and q["trade_date"] == bar.date.isoformat()
                             and q["price"] == close for q in c.of("quote:tick"))  # fmt: skip

    # The worker re-reads who watches a symbol every 2 s: replay a day, and the next one (newer
    # ticks) until a day's close reaches the room — a deadline, not a fixed pause.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        assert loop.time() < deadline, "the watched symbol's quotes never reached the room"
        bar = next(days)
        replayer = Replayer({"IBM": series}, bar.date, bar.date, TICKS,
                            seconds_per_day=0.0001, loop=False)  # fmt: skip
        await replayer.run(producer, asyncio.Event(), max_days=1)
        with contextlib.suppress(TimeoutError):
            await room.wait_for(closed_on(bar), timeout=3)
            break
    assert {q["symbol"] for q in room.of("quote:tick")} == {"IBM"}  # AMD etc. never came


async def test_an_alert_fires_once_per_crossing_and_is_caught_up(
    clients: Any, http: Api, producer: EventProducer
) -> None:
    owner, member = await person("owner"), await person("member")
    club = await club_of(owner, member)
    symbol = "KO"
    once = await http.call("POST", f"/api/v1/clubs/{club.id}/alerts", token=member.token,
                           json={"symbol": "ko", "kind": "above", "price": "30.00"})  # fmt: skip
    again = await http.call("POST", f"/api/v1/clubs/{club.id}/alerts", token=owner.token,
                            json={"symbol": symbol, "kind": "above", "price": "30.00",
                                  "rearm": True})  # fmt: skip
    assert once.status == again.status == 201, (once.body, again.body)
    bad = await http.call("POST", f"/api/v1/clubs/{club.id}/alerts", token=owner.token,
                          json={"symbol": symbol, "kind": "move", "price": "30.00"})  # fmt: skip
    assert bad.status == 422
    room = await clients(member)
    joined = await room.join(club)
    seen = joined["seq"]

    # Below, cross up (both fire), stay above, a re-delivered tick, down, cross up again
    # (only the re-arming one fires).
    await send_prices(producer, symbol, [2_950, 3_000, 3_050])
    await room.wait_for(lambda c: len(c.of("alert:triggered")) == 2)
    base = int(dt.datetime.now(dt.UTC).timestamp() * 1e6)
    await producer.send(MARKET_TICKS, symbol, tick(symbol, 3_100, base))
    await producer.send(MARKET_TICKS, symbol, tick(symbol, 3_100, base))  # Kafka re-delivery
    await room.close()  # the member drops off …
    await send_prices(producer, symbol, [2_900, 3_001])

    async def third_firing() -> bool:  # the re-arming alert fires on the second crossing
        return await AlertFiring.find({"club_id": str(club.id)}).count() >= 3

    await eventually(third_firing)
    firings = await AlertFiring.find({"club_id": str(club.id)}).to_list()
    assert sorted(f.alert_id for f in firings) == sorted(
        [once.body["id"], again.body["id"], again.body["id"]])  # fmt: skip

    back = await clients(member)  # … and catches up from the room log
    caught = await back.join(club, after_seq=seen)
    missed = [e for e in caught["missed"] if e["event"] == "alert:triggered"]
    assert len(missed) == 3
    last = missed[-1]["data"]
    assert (last["alert_id"], last["price"], last["fired_count"], last["still_active"]) == (
        again.body["id"], "30.01", 2, True)  # fmt: skip
    listed = await http.call("GET", f"/api/v1/clubs/{club.id}/alerts", token=owner.token)
    states = {a["id"]: (a["active"], a["fired_count"]) for a in listed.body["alerts"]}
    assert states == {once.body["id"]: (False, 1), again.body["id"]: (True, 2)}
    stranger = await person("stranger")
    peek = await http.call("GET", f"/api/v1/clubs/{club.id}/alerts", token=stranger.token)
    assert peek.status == 404

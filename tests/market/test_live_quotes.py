"""The first end-to-end path, against the running web server and worker:
replayer → Kafka → Faust agent → Redis (latest quote) + write-only Socket.IO manager →
``quote:tick`` in ``symbol:<SYMBOL>`` → a python-socketio client, and the page in Chromium."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from app.config import Settings
from app.extensions import Services
from app.market.dataset import load_catalogue
from app.market.service import market_service
from app.money import format_minor
from devtools.replayer import Replayer, intraday_path
from streams.producer import EventProducer
from streams.records import MarketTickV1
from streams.topics import MARKET_TICKS
from tests.conftest import LiveStack

TICKS = 8


class QuoteClient:
    """A python-socketio client that records every ``quote:tick`` it receives."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.ticks: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self.sio.on("quote:tick", self._on_tick)

    async def _on_tick(self, data: dict[str, Any]) -> None:
        async with self._arrived:
            self.ticks.append(data)
            self._arrived.notify_all()

    async def wait_for(self, predicate: Any, timeout: float = 20) -> list[dict[str, Any]]:
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: predicate(self.ticks)), timeout)
        return self.ticks

    def of(self, symbol: str, trade_date: str) -> list[dict[str, Any]]:
        return [t for t in self.ticks if t["symbol"] == symbol and t["trade_date"] == trade_date]


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[EventProducer]:
    events = EventProducer(settings.kafka_bootstrap_servers, client_id="samooh-test")
    await events.start()
    yield events
    await events.stop()


@pytest.fixture
async def client(live_stack: LiveStack, access_token: str) -> AsyncIterator[QuoteClient]:
    quotes = QuoteClient()
    await quotes.sio.connect(live_stack.url, transports=["websocket"], auth={"token": access_token})
    yield quotes
    await quotes.sio.disconnect()


async def replay_day(producer: EventProducer, symbol: str, day: dt.date) -> list[str]:
    """Replay one real day of ``symbol`` at full speed; return the expected prices."""
    series = load_catalogue()[symbol]
    replayer = Replayer({symbol: series}, day, day, TICKS, seconds_per_day=0.0001, loop=False)
    sent = await replayer.run(producer, asyncio.Event(), max_days=1)
    assert sent == TICKS
    bar = next(bar for bar in series.bars if bar.date == day)
    return [format_minor(price) for price in intraday_path(bar, TICKS)]


def closed_day(client: QuoteClient, symbol: str, day: str, close: str) -> Any:
    """Wait condition: the client's newest quote of ``symbol`` on ``day`` is the close."""
    return lambda _: bool(client.of(symbol, day)) and client.of(symbol, day)[-1]["price"] == close


def assert_coalesced(ticks: list[dict[str, Any]], expected: list[str]) -> None:
    """Quotes are state: within each coalescing window only the newest is sent. What arrives is
    therefore an in-order selection of the day's prices that ends with the close."""
    assert ticks and len(ticks) <= len(expected)
    seqs = [int(t["id"].split(":")[1]) for t in ticks]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    position = 0
    for tick in ticks:  # each received price is a later step of the real path
        position = expected.index(tick["price"], position) + 1
    assert ticks[-1]["price"] == expected[-1]


async def test_a_replayed_day_reaches_a_subscribed_client_in_order(
    client: QuoteClient, producer: EventProducer, services: Services, live_stack: LiveStack
) -> None:
    ack = await client.sio.call("quote:subscribe", {"symbols": ["fb"]}, timeout=10)
    assert ack == {"ok": True, "symbols": ["FB"]}

    expected = await replay_day(producer, "FB", dt.date(2012, 5, 18))
    await client.wait_for(closed_day(client, "FB", "2012-05-18", expected[-1]))
    ticks = client.of("FB", "2012-05-18")
    assert_coalesced(ticks, expected)
    last = ticks[-1]
    # The listing day of Facebook, as traded: open 42.05, high 45.00, low 38.00, close 38.23.
    assert (last["open"], last["high"], last["low"], last["price"]) == (
        "42.05",
        "45.00",
        "38.00",
        "38.23",
    )
    assert last["volume"] == 573576400
    assert last["change_pct"] == "-9.08"  # against the open, its first "previous close"
    assert all(t["ts"].endswith("Z") for t in ticks)

    # The worker cached the latest quote in Redis; HTTP serves the same.
    cached = await market_service.latest_quotes(services.require_redis(), ["FB"])
    assert cached[0].model_dump() == last
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{live_stack.url}/api/v1/market/quotes/FB") as response,
    ):
        assert response.status == 200
        assert await response.json() == last


async def test_late_joiner_gets_the_latest_quote_then_live_ticks(
    client: QuoteClient, producer: EventProducer, live_stack: LiveStack, access_token: str
) -> None:
    await client.sio.call("quote:subscribe", {"symbols": ["IBM"]}, timeout=10)
    first = await replay_day(producer, "IBM", dt.date(2012, 6, 1))
    await client.wait_for(closed_day(client, "IBM", "2012-06-01", first[-1]))

    late = QuoteClient()
    await late.sio.connect(live_stack.url, transports=["websocket"], auth={"token": access_token})
    try:
        ack = await late.sio.call("quote:subscribe", {"symbols": ["IBM"]}, timeout=10)
        assert ack["ok"] is True
        snapshot = await late.wait_for(lambda ticks: len(ticks) >= 1)
        assert snapshot[0] == client.of("IBM", "2012-06-01")[-1]
        expected = await replay_day(producer, "IBM", dt.date(2012, 6, 4))
        await late.wait_for(closed_day(late, "IBM", "2012-06-04", expected[-1]))
        assert_coalesced(late.of("IBM", "2012-06-04"), expected)
    finally:
        await late.sio.disconnect()


async def test_unsubscribed_and_unrelated_symbols_are_not_delivered(
    client: QuoteClient, producer: EventProducer, live_stack: LiveStack
) -> None:
    await client.sio.call("quote:subscribe", {"symbols": ["GOOG", "MSFT"]}, timeout=10)
    ack = await client.sio.call("quote:unsubscribe", {"symbols": ["GOOG"]}, timeout=10)
    assert ack == {"ok": True, "symbols": ["GOOG"]}
    await replay_day(producer, "GOOG", dt.date(2012, 6, 5))
    await replay_day(producer, "AMD", dt.date(2012, 6, 5))
    msft = await replay_day(producer, "MSFT", dt.date(2012, 6, 5))
    # MSFT was produced last; once its close arrived, the worker has long since handled GOOG
    # and AMD, which must not have reached this client.
    await client.wait_for(closed_day(client, "MSFT", "2012-06-05", msft[-1]))
    await asyncio.sleep(0.5)
    assert {t["symbol"] for t in client.ticks} == {"MSFT"}


async def test_redelivered_or_older_ticks_are_not_emitted_twice(
    client: QuoteClient, producer: EventProducer, live_stack: LiveStack
) -> None:
    await client.sio.call("quote:subscribe", {"symbols": ["XOM"]}, timeout=10)
    day_one = await replay_day(producer, "XOM", dt.date(2012, 6, 6))
    await client.wait_for(closed_day(client, "XOM", "2012-06-06", day_one[-1]))
    newest = client.of("XOM", "2012-06-06")[-1]
    received_before = len(client.of("XOM", "2012-06-06"))
    # Kafka delivers at least once: the same tick again, and an older one, change nothing.
    seq = int(newest["id"].split(":")[1])
    stale = MarketTickV1(
        id=f"XOM:{seq - 1}", seq=seq - 1, ts=newest["ts"], symbol="XOM", price=1, open=1,
        high=1, low=1, prev_close=1, volume=None, currency="USD", trade_date="2012-06-06",
        source="test",
    )  # fmt: skip
    duplicate = MarketTickV1(
        id=newest["id"], seq=seq, ts=newest["ts"], symbol="XOM", price=2, open=2, high=2,
        low=2, prev_close=2, volume=None, currency="USD", trade_date="2012-06-06",
        source="test",
    )  # fmt: skip
    await producer.send_many(MARKET_TICKS, [("XOM", stale), ("XOM", duplicate)])
    expected = await replay_day(producer, "XOM", dt.date(2012, 6, 7))
    await client.wait_for(closed_day(client, "XOM", "2012-06-07", expected[-1]))
    assert len(client.of("XOM", "2012-06-06")) == received_before  # nothing old came again
    assert {t["price"] for t in client.ticks} & {"0.01", "0.02"} == set()
    assert_coalesced(client.of("XOM", "2012-06-07"), expected)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"symbols": ["NOPE"]}, "unknown_symbol"),
        ({"symbols": []}, "validation_error"),
        ({"symbols": ["../etc"]}, "validation_error"),
        ({"wrong": 1}, "validation_error"),
        ("not an object", "validation_error"),
    ],
)
async def test_bad_subscriptions_get_an_error_and_join_nothing(
    client: QuoteClient, payload: Any, code: str
) -> None:
    ack = await client.sio.call("quote:subscribe", payload, timeout=10)
    assert ack["ok"] is False
    assert ack["error"]["code"] == code
    assert set(ack["error"]) == {"code", "message", "details"}


@pytest.mark.browser
async def test_the_page_shows_live_quotes_in_chromium(
    live_stack: LiveStack, producer: EventProducer, artifacts: Path
) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            await page.goto(live_stack.url)
            row = page.get_by_test_id("quote-AAPL")
            await row.wait_for(timeout=15_000)
            status = page.locator('[data-testid="connection-status"][data-state="connected"]')
            await status.wait_for(timeout=15_000)
            expected = await replay_day(producer, "AAPL", dt.date(2012, 6, 8))
            price = page.get_by_test_id("price-AAPL")
            await page.wait_for_function(
                "(want) => document.querySelector('[data-testid=price-AAPL]')?.textContent"
                "?.includes(want)",
                arg=expected[-1],
                timeout=15_000,
            )
            assert expected[-1] in (await price.text_content() or "")
            await page.screenshot(path=str(artifacts / "quotes-desktop.png"), full_page=True)
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.screenshot(path=str(artifacts / "quotes-phone.png"), full_page=True)
        finally:
            await browser.close()


async def test_unknown_events_are_answered_not_left_hanging(client: QuoteClient) -> None:
    ack = await client.sio.call("quote:bogus", {"symbols": ["AAPL"]}, timeout=10)
    assert ack["ok"] is False
    assert ack["error"]["code"] == "unknown_event"
    unsubscribe = await client.sio.call("quote:unsubscribe", {"symbols": ["NOPE"]}, timeout=10)
    assert unsubscribe["error"]["code"] == "unknown_symbol"

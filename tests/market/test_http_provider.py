"""The HTTP market data adapter against a local quote service started by the test, including
its outages: retries with backoff, timeouts, and the circuit breaker opening and closing."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from app.config import Settings
from app.market.providers import HttpQuoteProvider, MarketDataUnavailable, ProviderSymbolUnknown
from tests.conftest import free_port


@dataclass
class QuoteService:
    """A stand-in for the vendor's quote micro-service, with switches for its outages."""

    url: str = ""
    hits: int = 0
    fail_next: int = 0  # answer 503 to this many requests
    delay: float = 0.0  # seconds before answering
    quotes: dict[str, str] = field(default_factory=dict)  # raw JSON bodies by symbol

    async def quote(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.Response(status=503, text="upstream busy")
        body = self.quotes.get(request.match_info["symbol"])
        if body is None:
            return web.json_response({"error": "unknown"}, status=404)
        return web.Response(text=body, content_type="application/json")

    async def history(self, request: web.Request) -> web.Response:
        self.hits += 1
        assert request.query["from"] == "2012-05-18" and request.query["to"] == "2012-05-21"
        text = ('{"symbol": "FB", "candles": ['
                '{"date": "2012-05-18", "open": 42.05, "high": 45, "low": 38, "close": 38.2318,'
                ' "volume": 573576400},'
                '{"date": "2012-05-21", "open": "36.53", "high": 36.66, "low": 33,'
                ' "close": 34.03, "volume": null}]}')  # fmt: skip
        return web.Response(text=text, content_type="application/json")

    async def indices(self, request: web.Request) -> web.Response:
        self.hits += 1
        text = ('{"indices": [{"symbol": "SP500", "price": 1317.82, "previousClose": 1304.86,'
                ' "timestamp": 1337367600}]}')  # fmt: skip
        return web.Response(text=text, content_type="application/json")


@pytest.fixture
async def service() -> AsyncIterator[QuoteService]:
    state = QuoteService()
    state.quotes["AAPL"] = (
        '{"symbol": "AAPL", "price": 2.675, "open": 2.5, "high": 2.7, "low": 2.49,'
        ' "previousClose": 2.5, "volume": 1000, "timestamp": "2012-05-18T20:00:00Z",'
        ' "currency": "USD", "tradeDate": "2012-05-18"}'
    )
    app = web.Application()
    app.router.add_get("/quote/{symbol}", state.quote)
    app.router.add_get("/history/{symbol}", state.history)
    app.router.add_get("/indices", state.indices)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


def provider(service: QuoteService, **overrides: object) -> HttpQuoteProvider:
    settings = Settings(
        market_provider="http", market_http_base_url=service.url,
        market_http_timeout_seconds=0.3, market_http_attempts=3,
        market_http_backoff_seconds=0.01, market_breaker_failures=2,
        market_breaker_reset_seconds=0.5, **overrides,  # type: ignore[arg-type]
    )  # fmt: skip
    return HttpQuoteProvider(settings)


async def test_prices_are_read_as_decimals_never_floats(service: QuoteService) -> None:
    quote = await provider(service).quote("AAPL")
    assert quote is not None
    # 2.675 as a float is 2.67499999…; read as a decimal it rounds half-even to 2.68.
    assert (quote.price, quote.open, quote.prev_close) == ("2.68", "2.50", "2.50")
    assert quote.change_pct == "7.20" and quote.volume == 1000
    assert quote.ts == "2012-05-18T20:00:00.000Z" and quote.trade_date == "2012-05-18"


async def test_history_and_indices(service: QuoteService) -> None:
    candles = await provider(service).history("FB", dt.date(2012, 5, 18), dt.date(2012, 5, 21))
    assert [(c.date, c.open, c.high, c.close, c.volume) for c in candles] == [
        ("2012-05-18", "42.05", "45.00", "38.23", 573576400),
        ("2012-05-21", "36.53", "36.66", "34.03", None),
    ]
    indices = await provider(service).indices(["SP500"])
    assert indices["SP500"].price == "1317.82" and indices["SP500"].change_pct == "0.99"


async def test_unknown_symbols_are_404_not_outages(service: QuoteService) -> None:
    adapter = provider(service)
    for _ in range(3):  # never counted as failures by the breaker
        with pytest.raises(ProviderSymbolUnknown):
            await adapter.quote("NOPE")
    assert adapter.breaker_state == "closed"


async def test_a_brief_outage_is_ridden_out_by_retries(service: QuoteService) -> None:
    service.fail_next = 2
    quote = await provider(service).quote("AAPL")
    assert quote is not None and service.hits == 3


async def test_timeouts_are_retried_then_reported(service: QuoteService) -> None:
    service.delay = 1.0
    with pytest.raises(MarketDataUnavailable) as failure:
        await provider(service).quote("AAPL")
    assert failure.value.status == 503 and service.hits == 3


async def test_the_breaker_opens_fails_fast_and_closes_after_recovery(
    service: QuoteService,
) -> None:
    adapter = provider(service)
    service.fail_next = 1_000
    for _ in range(2):  # two failed calls (3 attempts each) open it
        with pytest.raises(MarketDataUnavailable):
            await adapter.quote("AAPL")
    assert adapter.breaker_state == "open" and service.hits == 6
    with pytest.raises(MarketDataUnavailable) as fast:
        await adapter.quote("AAPL")
    assert fast.value.details == {"breaker": "open"} and service.hits == 6  # not even tried
    service.fail_next = 0
    await asyncio.sleep(0.6)  # after the reset time one trial call goes through
    quote = await adapter.quote("AAPL")
    assert quote is not None and adapter.breaker_state == "closed" and service.hits == 7


async def test_a_dead_service_is_a_503(service: QuoteService) -> None:
    dead = QuoteService(url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(MarketDataUnavailable):
        await provider(dead).quote("AAPL")


async def test_the_api_serves_the_http_provider_and_its_outages(
    service: QuoteService, settings: Settings, services: object
) -> None:
    from app.web import create_app

    configured = settings.model_copy(update={
        "market_provider": "http", "market_http_base_url": service.url,
        "market_http_attempts": 1, "market_breaker_failures": 50,
    })  # fmt: skip
    client = create_app(configured).test_client()
    ok = await client.get("/api/v1/market/quotes/AAPL")
    assert ok.status_code == 200 and (await ok.get_json())["price"] == "2.68"
    service.fail_next = 1
    down = await client.get("/api/v1/market/quotes/AAPL")
    assert down.status_code == 503
    assert (await down.get_json())["error"]["code"] == "market_data_unavailable"

"""Market data providers behind one interface: where quotes, daily history and index levels
come from.

* ``EmbeddedProvider`` (default): the latest quote from the Redis cache the tick agent keeps,
  history from the candle buckets in MongoDB (both fed by the real-price replayer).
* ``HttpQuoteProvider``: a quote micro-service over HTTP (aiohttp), with a per-call timeout,
  retries with exponential backoff and jitter (tenacity) on timeouts, connection errors and
  5xx, and a circuit breaker (circuitbreaker) that fails fast while the service is down and
  lets one trial call through after ``market_breaker_reset_seconds``.

The HTTP service's shape (JSON; prices as decimal numbers or strings, parsed with ``Decimal``,
never as floats):

    GET {base}/quote/{symbol}   → {"symbol", "price", "open", "high", "low", "previousClose",
                                   "volume", "timestamp" (ISO-8601 or epoch seconds),
                                   "currency", "tradeDate"}
    GET {base}/history/{symbol}?from=YYYY-MM-DD&to=YYYY-MM-DD
                                → {"symbol", "currency", "candles": [{"date", "open", "high",
                                   "low", "close", "volume"}, …]}
    GET {base}/indices          → {"indices": [<quote>, …]}
    404 for an unknown symbol.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, Protocol

import aiohttp
from circuitbreaker import STATE_CLOSED, CircuitBreaker, CircuitBreakerError
from redis.asyncio import Redis
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from app.config import Settings
from app.errors import AppError
from app.market import repository
from app.market.dataset import DailyBar
from app.market.schemas import Candle, QuoteTick
from app.money import (
    AmountFormatError,
    change_basis_points,
    decimal_to_minor,
    format_basis_points,
    format_minor,
)


class MarketDataUnavailable(AppError):
    """The market data provider did not answer (503, ``market_data_unavailable``;
    ``details.breaker`` is ``open`` while the circuit breaker fails fast)."""

    status = 503
    code = "market_data_unavailable"


class ProviderSymbolUnknown(AppError):
    """The provider does not know the symbol (404, ``unknown_symbol``)."""

    status = 404
    code = "unknown_symbol"


class MarketDataProvider(Protocol):
    """What every provider offers. Prices in the payloads are decimal strings."""

    name: str

    async def quote(self, symbol: str) -> QuoteTick | None:
        """The latest quote, or ``None`` when the symbol has not traded yet."""
        ...

    async def history(self, symbol: str, start: dt.date, end: dt.date) -> list[Candle]:
        """Daily candles with ``start <= date <= end``, oldest first."""
        ...

    async def indices(self, symbols: list[str]) -> dict[str, QuoteTick]:
        """Latest quotes of the given index symbols (those that have one)."""
        ...


def candle_of(bar: DailyBar) -> Candle:
    """A client candle from a stored bar."""
    return Candle(
        date=bar.date.isoformat(), open=format_minor(bar.open), high=format_minor(bar.high),
        low=format_minor(bar.low), close=format_minor(bar.close), volume=bar.volume,
    )  # fmt: skip


class EmbeddedProvider:
    """Quotes from the Redis cache, history from MongoDB candle buckets."""

    name = "embedded"

    def __init__(self, redis: Redis) -> None:
        self._cache = repository.QuoteCache(redis)

    async def quote(self, symbol: str) -> QuoteTick | None:
        quotes = await self._cache.latest([symbol])
        return quotes[0] if quotes else None

    async def history(self, symbol: str, start: dt.date, end: dt.date) -> list[Candle]:
        out: list[Candle] = []
        for bucket in await repository.candle_years(symbol, start.year, end.year):
            lo, hi = start.isoformat(), end.isoformat()
            for i, day in enumerate(bucket.dates):
                if lo <= day <= hi:
                    bar = DailyBar(dt.date.fromisoformat(day), bucket.open[i], bucket.high[i],
                                   bucket.low[i], bucket.close[i], bucket.volume[i])  # fmt: skip
                    out.append(candle_of(bar))
        return out

    async def indices(self, symbols: list[str]) -> dict[str, QuoteTick]:
        return {q.symbol: q for q in await self._cache.latest(symbols)}


class _Retryable(Exception):
    """A failure worth retrying (timeout, connection, 5xx)."""


class HttpQuoteProvider:
    """A quote micro-service over HTTP. One instance per process (it holds the breaker)."""

    name = "http"

    def __init__(self, settings: Settings, session: aiohttp.ClientSession | None = None) -> None:
        if not settings.market_http_base_url:
            raise ValueError("SAMOOH_MARKET_HTTP_BASE_URL is not set")
        self.base = settings.market_http_base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=settings.market_http_timeout_seconds)
        self.attempts = settings.market_http_attempts
        self.backoff = settings.market_http_backoff_seconds
        self._session = session
        self.breaker = CircuitBreaker(
            failure_threshold=settings.market_breaker_failures,
            recovery_timeout=settings.market_breaker_reset_seconds,
            expected_exception=_Retryable,
            name=f"market-http:{self.base}",
        )
        self._guarded_get = self.breaker.decorate(self._get_with_retries)

    @property
    def breaker_state(self) -> str:
        """``closed`` | ``open`` | ``half_open``."""
        return str(self.breaker.state)

    async def _session_get(self, path: str, params: dict[str, str] | None) -> Any:
        session = self._session or aiohttp.ClientSession()
        try:
            async with session.get(f"{self.base}{path}", params=params,
                                   timeout=self.timeout) as response:  # fmt: skip
                if response.status == 404:
                    return None
                if response.status >= 500:
                    raise _Retryable(f"HTTP {response.status}")
                if response.status != 200:
                    raise MarketDataUnavailable(
                        f"the market data service answered HTTP {response.status}",
                        details={"status": response.status},
                    )
                text = await response.text()
                return json.loads(text, parse_float=Decimal)
        except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ServerTimeoutError) as exc:
            raise _Retryable(str(exc) or type(exc).__name__) from exc
        except (json.JSONDecodeError, aiohttp.ContentTypeError) as exc:
            raise MarketDataUnavailable("the market data service sent unreadable data") from exc
        finally:
            if self._session is None:
                await session.close()

    async def _get_with_retries(self, path: str, params: dict[str, str] | None) -> Any:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(multiplier=self.backoff, max=self.backoff * 8),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._session_get(path, params)
        return None  # pragma: no cover - AsyncRetrying either returns or raises

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            return await self._guarded_get(path, params)
        except CircuitBreakerError as exc:
            raise MarketDataUnavailable(
                "the market data service is failing; not calling it for a while",
                details={"breaker": "open"},
            ) from exc
        except _Retryable as exc:
            raise MarketDataUnavailable(
                f"the market data service did not answer: {exc}",
                details={"breaker": "closed" if self.breaker.state == STATE_CLOSED else "open"},
            ) from exc

    async def quote(self, symbol: str) -> QuoteTick | None:
        body = await self._get(f"/quote/{symbol}")
        if body is None:
            raise ProviderSymbolUnknown(f"unknown symbol {symbol}", details={"symbols": [symbol]})
        return self._quote(body)

    async def history(self, symbol: str, start: dt.date, end: dt.date) -> list[Candle]:
        body = await self._get(f"/history/{symbol}",
                               {"from": start.isoformat(), "to": end.isoformat()})  # fmt: skip
        if body is None:
            raise ProviderSymbolUnknown(f"unknown symbol {symbol}", details={"symbols": [symbol]})
        try:
            bars = [
                DailyBar(
                    dt.date.fromisoformat(str(c["date"])[:10]),
                    decimal_to_minor(c["open"]),
                    decimal_to_minor(c["high"]),
                    decimal_to_minor(c["low"]),
                    decimal_to_minor(c["close"]),
                    None if c.get("volume") is None else int(c["volume"]),
                )
                for c in body["candles"]
            ]
            return [candle_of(bar) for bar in bars]
        except (KeyError, TypeError, ValueError, AmountFormatError) as exc:
            raise MarketDataUnavailable("the market data service sent malformed candles") from exc

    async def indices(self, symbols: list[str]) -> dict[str, QuoteTick]:
        body = await self._get("/indices")
        quotes = [self._quote(item) for item in (body or {}).get("indices", [])]
        return {q.symbol: q for q in quotes if q.symbol in symbols}

    def _quote(self, body: dict[str, Any]) -> QuoteTick:
        try:
            price = decimal_to_minor(body["price"])
            prev = decimal_to_minor(body.get("previousClose", body["price"]))
            stamp = body.get("timestamp")
            if isinstance(stamp, (int, Decimal)):
                when = dt.datetime.fromtimestamp(float(stamp), dt.UTC)  # seconds, not money
            else:
                when = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
            ts = when.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            symbol = str(body["symbol"]).upper()
            return QuoteTick(
                id=f"{symbol}:{int(when.timestamp() * 1_000_000)}", ts=ts, symbol=symbol,
                price=format_minor(price),
                open=format_minor(decimal_to_minor(body.get("open", body["price"]))),
                high=format_minor(decimal_to_minor(body.get("high", body["price"]))),
                low=format_minor(decimal_to_minor(body.get("low", body["price"]))),
                prev_close=format_minor(prev),
                volume=None if body.get("volume") is None else int(body["volume"]),
                change_pct=format_basis_points(change_basis_points(price, prev)),
                currency=str(body.get("currency", "USD")),
                trade_date=str(body.get("tradeDate", ts[:10])),
                source=f"market data service {self.base}",
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, AmountFormatError) as exc:
            raise MarketDataUnavailable("the market data service sent a malformed quote") from exc


_providers: dict[str, HttpQuoteProvider] = {}


def provider_for(settings: Settings, redis: Redis) -> MarketDataProvider:
    """The configured provider (``SAMOOH_MARKET_PROVIDER``: ``embedded`` | ``http``); the HTTP
    one is created once per process so its circuit breaker remembers failures."""
    if settings.market_provider == "http":
        provider = _providers.get(settings.market_http_base_url)
        if provider is None:
            provider = _providers[settings.market_http_base_url] = HttpQuoteProvider(settings)
        return provider
    return EmbeddedProvider(redis)

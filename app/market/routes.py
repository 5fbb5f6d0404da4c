"""Market HTTP endpoints (``/api/v1/market/…``): thin, they call ``market_service`` and the
configured market data provider (app/market/providers.py). Market data is public."""

from __future__ import annotations

from pydantic import ValidationError
from quart import Blueprint, current_app
from quart_schema import tag, validate_querystring, validate_response

from app.config import Settings
from app.errors import AppError, ValidationFailed
from app.extensions import services
from app.market.providers import MarketDataProvider, provider_for
from app.market.schemas import (
    MAX_HISTORY_DAYS,
    History,
    HistoryQuery,
    IndexList,
    IndexQuote,
    InstrumentList,
    InstrumentOut,
    QuoteSubscription,
    QuoteTick,
)
from app.market.service import NoQuoteYet, market_service
from app.openapi import document_errors

blueprint = Blueprint("market", __name__, url_prefix="/api/v1/market")


class InvalidRange(AppError):
    """``start`` after ``end``, or a range longer than the API serves at once (422)."""

    status = 422
    code = "invalid_range"


def _symbol(raw: str) -> str:
    try:
        return QuoteSubscription(symbols=[raw]).symbols[0]
    except ValidationError as exc:
        raise ValidationFailed(
            "not a symbol: 1-16 letters, digits or dots", details={"length": len(raw)}
        ) from exc


def _provider() -> MarketDataProvider:
    settings: Settings = current_app.extensions["samooh_settings"]
    return provider_for(settings, services.require_redis())


@blueprint.get("/symbols")
@tag(["market"])
@validate_response(InstrumentList)
@document_errors(503)
async def list_symbols() -> InstrumentList:
    """Every instrument and index with live quotes, and the data set each comes from."""
    instruments = await market_service.list_instruments()
    return InstrumentList(
        symbols=[InstrumentOut.model_validate(item, from_attributes=True) for item in instruments]
    )


@blueprint.get("/quotes/<symbol>")
@tag(["market"])
@validate_response(QuoteTick)
@document_errors(404, 422, 503)
async def latest_quote(symbol: str) -> QuoteTick:
    """The latest quote of ``symbol``.

    Errors: 422 ``validation_error`` when it cannot be a symbol; 404 ``unknown_symbol`` when it
    does not exist; 404 ``no_quote`` when it has not ticked yet; 503 ``service_unavailable`` /
    ``market_data_unavailable``.
    """
    symbol = _symbol(symbol)
    provider = _provider()
    if provider.name == "embedded":
        await market_service.check_symbols([symbol])
    quote = await provider.quote(symbol)
    if quote is None:
        raise NoQuoteYet(f"no quote for {symbol} yet", details={"symbol": symbol})
    return quote


@blueprint.get("/history/<symbol>")
@tag(["market"])
@validate_querystring(HistoryQuery)
@validate_response(History)
@document_errors(404, 422, 503)
async def history(symbol: str, query_args: HistoryQuery) -> History:
    """Daily candles of ``symbol`` from ``start`` to ``end`` (inclusive, ISO dates, at most
    five years at once), oldest first.

    Errors: 422 ``validation_error`` / ``invalid_range``; 404 ``unknown_symbol``; 503.
    """
    symbol = _symbol(symbol)
    start, end = query_args.start, query_args.end
    if start > end or (end - start).days > MAX_HISTORY_DAYS:
        raise InvalidRange(
            f"start must not be after end, and the range at most {MAX_HISTORY_DAYS} days",
            details={"start": start.isoformat(), "end": end.isoformat()},
        )
    provider = _provider()
    currency, source = "USD", f"{provider.name} provider"
    if provider.name == "embedded":
        instrument = await market_service.instrument(symbol)
        currency, source = instrument.currency, instrument.source
    candles = await provider.history(symbol, start, end)
    return History(symbol=symbol, currency=currency, source=source, start=start.isoformat(),
                   end=end.isoformat(), candles=candles)  # fmt: skip


@blueprint.get("/indices")
@tag(["market"])
@validate_response(IndexList)
@document_errors(503)
async def indices() -> IndexList:
    """The market indices and their latest levels (``quote`` is null before the first tick)."""
    known = await market_service.index_instruments()
    quotes = await _provider().indices([i.symbol for i in known])
    return IndexList(
        indices=[IndexQuote(symbol=i.symbol, name=i.name, source=i.source,
                            quote=quotes.get(i.symbol)) for i in known]
    )  # fmt: skip

"""Market HTTP endpoints (``/api/v1/market/…``): thin, they call ``market_service``."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import tag, validate_response

from app.extensions import services
from app.market.schemas import InstrumentList, InstrumentOut, QuoteTick
from app.market.service import NoQuoteYet, market_service

blueprint = Blueprint("market", __name__, url_prefix="/api/v1/market")


@blueprint.get("/symbols")
@tag(["market"])
@validate_response(InstrumentList)
async def list_symbols() -> InstrumentList:
    """Every instrument and index with live quotes, and the data set each comes from."""
    instruments = await market_service.list_instruments()
    return InstrumentList(
        symbols=[InstrumentOut.model_validate(item, from_attributes=True) for item in instruments]
    )


@blueprint.get("/quotes/<symbol>")
@tag(["market"])
@validate_response(QuoteTick)
async def latest_quote(symbol: str) -> QuoteTick:
    """The latest cached quote of ``symbol``.

    Errors: 404 ``unknown_symbol`` when the symbol does not exist; 404 ``no_quote`` when it has
    not ticked yet.
    """
    symbol = symbol.upper()
    await market_service.check_symbols([symbol])
    quotes = await market_service.latest_quotes(services.require_redis(), [symbol])
    if not quotes:
        raise NoQuoteYet(f"no quote for {symbol} yet", details={"symbol": symbol})
    return quotes[0]

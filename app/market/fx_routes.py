"""Exchange rates over HTTP (``/api/v1/fx/…``): the ECB reference rate of a day (app/fx.py), so a
client can show what a price in one currency costs in another before anything is booked (the
proposal form of a club buying a stock quoted in another currency, issue #14). Public, like
market data; a read only — every booking converts on the server at its own money moment."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field
from quart import Blueprint, current_app
from quart_schema import tag, validate_querystring, validate_response

from app.config import Settings
from app.fx import FxRateUnavailable, rate
from app.openapi import document_errors

blueprint = Blueprint("fx", __name__, url_prefix="/api/v1/fx")

# The ECB's first reference rates (the euro's launch); no day before it has one.
ECB_FIRST_DAY = dt.date(1999, 1, 4)


class RateQuery(BaseModel):
    """``?base=USD&quote=INR&on=YYYY-MM-DD``: ISO 4217 codes (three letters, any case); ``on``
    defaults to today (UTC)."""

    base: str = Field(pattern=r"^[A-Za-z]{3}$")
    quote: str = Field(pattern=r"^[A-Za-z]{3}$")
    on: dt.date | None = None


class RateOut(BaseModel):
    """``GET /api/v1/fx/rate``: ``rate`` = units of ``quote`` per one unit of ``base``, a
    decimal string with eight places (the integer ``rate_e8`` ÷ 10^8, rounded half-even from
    the ECB's per-euro rates), published for ``rate_date`` (the day asked, ``on``, or the latest
    before it; the bundled file's last day for a later one). ``broker_fx_margin_bps``: what a
    club order's cash hold adds, in basis points, on top of a buy converted at this rate (the
    rate may move before the fill; docs/domain.md "Instruments in another currency")."""

    base: str
    quote: str
    on: str
    rate_date: str
    rate: str
    source: str
    broker_fx_margin_bps: int


@blueprint.get("/rate")
@tag(["market"])
@validate_querystring(RateQuery)
@validate_response(RateOut)
@document_errors(422)
async def fx_rate(query_args: RateQuery) -> RateOut:
    """The ECB reference rate from ``base`` to ``quote`` for the day ``on`` (default today).

    Errors: 422 ``validation_error`` (not a three-letter code, not a date); 422
    ``fx_rate_unavailable`` (a currency the ECB does not publish, or a day before it did)."""
    settings: Settings = current_app.extensions["samooh_settings"]
    on = query_args.on or dt.datetime.now(dt.UTC).date()
    base, quote = query_args.base.upper(), query_args.quote.upper()
    if on < ECB_FIRST_DAY:
        raise FxRateUnavailable(
            f"no ECB reference rate before {ECB_FIRST_DAY.isoformat()}",
            details={"base": base, "quote": quote, "on": on.isoformat()},
        )
    found = await rate(base, quote, on)
    return RateOut(
        base=base, quote=quote, on=on.isoformat(), rate_date=found.rate_date.isoformat(),
        rate=found.text(), source="ECB euro foreign exchange reference rates",
        broker_fx_margin_bps=settings.broker_fx_margin_bps,
    )  # fmt: skip

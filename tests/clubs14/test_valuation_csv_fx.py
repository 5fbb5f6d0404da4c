"""Issue #14: the valuation statement's CSV (and PDF) names each holding's currency and, for
one quoted in another currency than the club's, its price and value in that currency, the ECB
rate and the day it was published, beside the value in the club's currency. A rupee club
holding a dollar stock (and a rupee one) is rendered through the code the report worker runs,
and the whole file is compared with figures worked by hand from the ECB's published euro
rates."""

from __future__ import annotations

import csv
import datetime as dt
import io
from fractions import Fraction
from pathlib import Path

import pytest

from app.books.service import books_service
from app.reports import figures as build
from app.reports.csv_render import render_csv
from app.reports.pdf_render import group_indian, render_pdf
from tests.clubs.factories import club_with_members, paid_contribution
from tests.reports.test_reports import pdf_text, render_page

pytestmark = pytest.mark.usefixtures("services")

D1, D2 = dt.date(2026, 3, 2), dt.date(2026, 3, 9)
# The ECB's published euro rates (eurofxref-hist) of those days: (USD, INR) per euro.
EUR = {D1: (Fraction("1.1698"), Fraction("107.317")), D2: (Fraction("1.1555"), Fraction("106.65"))}


def usd_inr_e8(day: dt.date) -> int:
    """Rupees per dollar × 10^8 on ``day``, half-even: the cross rate through the euro."""
    usd, inr = EUR[day]
    return round(inr / usd * 10**8)


def to_paise(cents: int, rate_e8: int) -> int:
    """Cents → paise at ``rate_e8``, rounded half-even once."""
    return round(Fraction(cents * rate_e8, 10**8))


def two(minor: int) -> str:
    """Minor units as the API's two-place string."""
    return f"{minor // 100}.{minor % 100:02d}"


async def test_the_valuation_csv_of_a_rupee_club_holding_a_dollar_stock() -> None:
    club, (owner,) = await club_with_members(1)
    club_id = str(club.id)
    assert club.currency == "INR"
    await paid_contribution(club, owner, 10_000_000, D1 - dt.timedelta(days=3))  # ₹1,00,000
    await books_service.do_record_valuation(club_id, owner, valuation_date=D1, prices={})
    # Bought outside on D1: 10 HD at $30.00 with $1.00 of fees (booked at D1's rate), and
    # 4 INFY at ₹2,450.00 with ₹20.00 of fees.
    await books_service.do_record_trade(
        club_id, owner, side="buy", symbol="HD", quantity=10, price=3_000, fees=100,
        trade_date=D1, key="csv-hd",
    )  # fmt: skip
    await books_service.do_record_trade(
        club_id, owner, side="buy", symbol="INFY", quantity=4, price=245_000, fees=2_000,
        trade_date=D1, key="csv-infy",
    )  # fmt: skip
    # Valued on D2: HD at $32.50, INFY at ₹2,500.00.
    await books_service.do_record_valuation(
        club_id, owner, valuation_date=D2, prices={"HD": 3_250, "INFY": 250_000}
    )

    r1, r2 = usd_inr_e8(D1), usd_inr_e8(D2)
    assert (r1, r2) == (9_173_961_361, 9_229_770_662)  # 107.317 ÷ 1.1698, 106.65 ÷ 1.1555
    cash = 10_000_000 - to_paise(30_000, r1) - to_paise(100, r1) - 980_000 - 2_000
    hd = to_paise(32_500, r2)  # $325.00 at D2's rate, half-even once
    assert hd == 2_999_675  # 32,500 × 92.29770662 = 2,999,675.46… paise
    infy = 1_000_000
    nav = cash + hd + infy
    ten_thousandths = round(Fraction(nav, 10_000) * 100)  # ₹ per unit, 10,000 units

    report = await build.valuation_statement(club_id, owner, None)
    rows = list(
        csv.reader(io.StringIO(render_csv("valuation_statement", report).decode("utf-8-sig")))
    )
    h = report.header
    assert rows == [
        ["report", "valuation_statement"], ["club", club.name], ["club_id", club_id],
        ["as_of", D2.isoformat()], ["currency", "INR"],
        ["generated_at", h.generated_at.isoformat(timespec="seconds")],
        ["requested_by", h.requested_by.label],
        ["valuation_date", D2.isoformat()], ["nav", two(nav)],
        ["unit_value", f"{ten_thousandths // 10_000}.{ten_thousandths % 10_000:04d}"],
        ["units_outstanding", "10000.000000"], ["cash", two(cash)],
        ["market_value", two(hd + infy)], ["liabilities", "0.00"],
        [],
        ["symbol", "quantity", "price", "market_value", "currency", "foreign_price",
         "foreign_value", "rate", "rate_date", "value"],
        ["HD", "10", "32.50", two(hd), "USD", "32.50", "325.00", "92.29770662",
         D2.isoformat(), two(hd)],
        ["INFY", "4", "2500.00", "10000.00", "INR", "", "", "", "", "10000.00"],
        [],
        ["valuation_date", "nav", "unit_value"],
        [D1.isoformat(), "100000.00", "10.0000"],
        [D2.isoformat(), two(nav),
         f"{ten_thousandths // 10_000}.{ten_thousandths % 10_000:04d}"],
    ]  # fmt: skip

    # The PDF shows the same: the dollar price and value, the rate and its day, the rupee
    # value; the rupee holding has no rate. Rupee amounts in Indian grouping, dollars not.
    pdf = render_pdf("valuation_statement", report)
    text = pdf_text(pdf)
    render_page(pdf, "valuation-statement-fx", Path("test-artifacts"))
    assert "ECB rate (INR per unit)" in text and "Value in its currency" in text
    assert f"32.50 USD 325.00 USD 92.29770662 {D2:%d %b %Y} {group_indian(two(hd))}" in (
        " ".join(text.split())
    )
    assert "INFY 4 2,500.00 10,000.00" in " ".join(text.split())
    assert "cent" not in text and "to the paisa" in text

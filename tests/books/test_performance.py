"""Performance: the club's time-weighted return is its unit value's change, members' XIRR on
their dated cash flows, and the S&P 500 over the same dates (real closes)."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from app.books.errors import InvalidValuation
from app.books.performance import percent, performance
from app.books.service import books_service
from app.market.dataset import load_catalogue
from tests.clubs.factories import club_with_members, paid_contribution

pytestmark = pytest.mark.usefixtures("services")

PAID, V1, V2 = dt.date(2012, 6, 1), dt.date(2012, 6, 4), dt.date(2012, 12, 31)


def close_on_or_before(symbol: str, day: dt.date) -> int:
    return [b.close for b in load_catalogue()[symbol].bars if b.date <= day][-1]


async def test_twr_xirr_and_benchmark() -> None:
    # A dollar club buying a dollar stock: no conversion (tests/clubs14/test_fx_books.py).
    club, (owner, member) = await club_with_members(2, currency="USD")
    club_id = str(club.id)
    await paid_contribution(club, owner, 1_000_000, PAID)
    await paid_contribution(club, member, 500_000, PAID)
    await books_service.do_record_valuation(club_id, owner, valuation_date=V1, prices={})
    await books_service.do_record_trade(
        club_id, owner, side="buy", symbol="XOM", quantity=100, price=8_000, fees=1_000,
        trade_date=V1, key="perf",
    )  # fmt: skip
    await books_service.do_record_valuation(
        club_id, owner, valuation_date=V2, prices={"XOM": 8_600}
    )
    result = await performance(club_id, member, None, None, "SP500")

    # NAV 1,500,000 − 801,000 + 860,000 = 1,559,000 paise over 1,500 units: 10.3933…
    assert result.twr == Fraction(1_559_000, 1_500_000) - 1
    assert percent(result.twr) == "3.93"
    sp_start, sp_end = close_on_or_before("SP500", V1), close_on_or_before("SP500", V2)
    assert (result.benchmark_start, result.benchmark_end) == (sp_start, sp_end)
    assert result.benchmark_return == Fraction(sp_end, sp_start) - 1
    # Each member paid once and holds units worth value: XIRR = (value/paid)^(365/days) − 1.
    days = (V2 - PAID).days
    for user, paid in ((owner, 1_000_000), (member, 500_000)):
        value = round(Fraction(paid * 1_559_000, 1_500_000))
        expected = (value / paid) ** (365 / days) - 1
        got = next(m for m in result.members if m.user_id == user)
        assert got.flows == 2 and got.xirr is not None
        assert abs(got.xirr - expected) < 1e-9


async def test_a_period_without_valuations_is_refused() -> None:
    club, (owner,) = await club_with_members(1)
    with pytest.raises(InvalidValuation):
        await performance(str(club.id), owner, None, None, None)

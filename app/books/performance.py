"""Performance of a club and of each member (docs/domain.md, unit-value accounting: reports).

* The club's time-weighted return is the change of its unit value: units are issued and
  redeemed at the unit value of each valuation, so contributions and withdrawals do not move
  it, and chaining the sub-period returns between valuations is exactly
  ``unit value at the end ÷ unit value at the start − 1``.
* A member's money-weighted return is the XIRR (actual/365) of their dated cash flows:
  contributions paid in (out of their pocket) on their payment dates, withdrawals received
  (net of fees) on their valuation dates, and what their units are worth at the end — solved
  by ``pyxirr``. Rates are ratios, not money: they are computed in floating point and shown
  rounded to 2 places; every money figure that feeds them is exact.
* The benchmark's return is its close at the end over its close at the start (the last close
  on or before each date).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pyxirr

from app.books import repository
from app.books.documents import ContributionStatus, Valuation, WithdrawalStatus
from app.books.errors import InvalidValuation
from app.books.service import books_service
from app.clubs.documents import Club
from app.clubs.service import club_service
from app.market.service import market_service


def percent(ratio: Fraction | float | None) -> str | None:
    """A ratio as a percentage string with 2 places, half-even (0.12345 → ``"12.35"``)."""
    if ratio is None:
        return None
    value = Decimal(str(ratio)) if isinstance(ratio, float) else (
        Decimal(ratio.numerator) / Decimal(ratio.denominator))  # fmt: skip
    return str((value * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True, slots=True)
class MemberReturn:
    """One member's XIRR (``None`` when it cannot be computed, e.g. a single cash flow)."""

    user_id: str
    xirr: float | None
    flows: int


@dataclass(frozen=True, slots=True)
class Performance:
    """The club over ``[start, end]``: valuations used, TWR, benchmark return, members."""

    club: Club
    start: Valuation
    end: Valuation
    twr: Fraction
    benchmark_symbol: str | None
    benchmark_start: int | None
    benchmark_end: int | None
    benchmark_return: Fraction | None
    members: list[MemberReturn]


async def performance(club_id: str, actor_id: str, start: dt.date | None, end: dt.date | None,
                      benchmark: str | None) -> Performance:  # fmt: skip
    """Performance between the first valuation on or after ``start`` (default: the first) and
    the last one on or before ``end`` (default: the latest).

    Raises:
        ClubNotFound: not a member. InvalidValuation: fewer than one valuation in the range.
        UnknownSymbols: an unknown benchmark.
    """
    club, _ = await club_service.check_member(club_id, actor_id)
    valuations = await repository.valuations(club_id)
    in_range = [v for v in valuations
                if (start is None or v.valuation_date >= start.isoformat())
                and (end is None or v.valuation_date <= end.isoformat())]  # fmt: skip
    if not in_range:
        raise InvalidValuation("no valuation in that period", details={"reason": "no_valuation"})
    first, last = in_range[0], in_range[-1]
    # Start after the first valuation's settlements, end before the last one's: the unit value
    # is the same either side of a settlement, so this is the pure investment result.
    uv_start = books_service.unit_value(club, first.nav_after, first.units_after)
    uv_end = books_service.unit_value(club, last.nav_after, last.units_after)
    twr = uv_end.paise_per_unit / uv_start.paise_per_unit - 1

    bench_start = bench_end = None
    bench_return: Fraction | None = None
    if benchmark:
        await market_service.check_symbols([benchmark])
        first_day = dt.date.fromisoformat(first.valuation_date)
        bench_start = await market_service.close_on_or_before(benchmark, first_day)
        bench_end = await market_service.close_on_or_before(
            benchmark, dt.date.fromisoformat(last.valuation_date)
        )
        if bench_start and bench_end:
            bench_return = Fraction(bench_end, bench_start) - 1

    members = []
    positions = await books_service.member_positions(club, last)
    end_day = dt.date.fromisoformat(last.valuation_date)
    for position in positions:
        dates: list[dt.date] = []
        amounts: list[int] = []
        for c in await repository.contributions_of(club_id, position.user_id):
            settled_on = c.valuation_date if c.status == ContributionStatus.SETTLED else None
            if settled_on and settled_on <= last.valuation_date and c.payment_date:
                dates.append(dt.date.fromisoformat(c.payment_date))
                amounts.append(-c.amount)
        for w in await repository.withdrawals_of(club_id, position.user_id):
            done = w.status in (WithdrawalStatus.SETTLED, WithdrawalStatus.PAID)
            if done and w.valuation_date and w.valuation_date <= last.valuation_date and w.net:
                dates.append(dt.date.fromisoformat(w.valuation_date))
                amounts.append(w.net)
        if position.value:
            dates.append(end_day)
            amounts.append(position.value)
        rate: float | None = None
        if len(amounts) >= 2 and any(a < 0 for a in amounts) and any(a > 0 for a in amounts):
            try:
                rate = pyxirr.xirr(dates, amounts)
            except (pyxirr.InvalidPaymentsError, ValueError):
                rate = None
        members.append(MemberReturn(position.user_id, rate, len(amounts)))
    return Performance(
        club, first, last, twr, benchmark, bench_start, bench_end, bench_return, members
    )

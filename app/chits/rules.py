"""The arithmetic of a chit scheme, exact in paise (DOMAIN.md, "Chit funds"; Chit Funds Act 1982
as amended in 2019): scheme settings, a month's result (prize, commission, share of discount per
subscriber, next month's net instalment) under either commission rule, bid checks, the schedule,
and the verifiable draw by lot. Pure functions: no I/O, no clock, no floats.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum

from app.errors import AppError
from app.money import format_minor

MAX_COMMISSION_BPS = 700  # 7 % since the 2019 amendment (5 % under the 1982 Act)
MAX_DISCOUNT_BPS = 5000  # a scheme may allow at most half the chit as discount
MIN_SUBSCRIBERS = 2
MAX_SUBSCRIBERS = 120
DRAW_METHOD = (
    "sha256(auction_id|bid_id:ticket:discount|… in bid order) as a big-endian integer, "
    "modulo the number of candidates; candidates ordered by ticket ascending"
)


class CommissionSource(StrEnum):
    """Where the foreman's commission comes from (operators differ; DOMAIN.md)."""

    DISCOUNT = "discount"  # share of discount = discount − commission
    PRIZE = "prize"  # the whole discount is shared; the prize pays the commission


class InvalidScheme(AppError):
    """A scheme setting breaks a rule (422); ``details.field`` names it, ``details.rule``
    says which rule."""

    status = 422
    code = "invalid_scheme"


def _refuse(field: str, rule: str, message: str) -> InvalidScheme:
    return InvalidScheme(message, details={"field": field, "rule": rule})


@dataclass(frozen=True, slots=True)
class SchemeTerms:
    """The money terms of a scheme, all paise except ``commission_bps``.

    ``subscribers`` is also the number of months; ``instalment`` × ``subscribers`` is the chit
    amount; bids are discounts off the chit amount.
    """

    chit_amount: int
    subscribers: int
    instalment: int
    commission_bps: int
    min_bid: int
    bid_step: int
    max_discount: int
    commission_source: CommissionSource

    @property
    def commission(self) -> int:
        """The foreman's commission per month in paise: chit amount × bps / 10 000, rounded
        half-even to the paisa (exact for every whole-rupee chit amount)."""
        return round_half_even(self.chit_amount * self.commission_bps, 10_000)


def round_half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-even to an integer (both ints, denominator > 0)."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def check_terms(terms: SchemeTerms) -> SchemeTerms:
    """Validate a scheme's money terms; return them unchanged.

    Rules: 2–120 subscribers; instalment > 0 and chit amount = instalment × subscribers exactly;
    commission 0–700 bps (7 % under the 2019 amendment: 701 is refused); minimum bid at least
    the commission; bid step > 0; maximum discount at least the minimum bid, at most 50 % of
    the chit amount, and reachable from the minimum bid in whole steps; under the "prize" rule
    the prize at the maximum discount still covers the commission.

    Raises:
        InvalidScheme (422 ``invalid_scheme``; ``details.field`` and ``details.rule``).
    """
    if not MIN_SUBSCRIBERS <= terms.subscribers <= MAX_SUBSCRIBERS:
        raise _refuse("subscribers", "range", "a scheme has 2 to 120 subscribers (= months)")
    if terms.instalment <= 0:
        raise _refuse("instalment", "positive", "the monthly instalment must be positive")
    if terms.chit_amount != terms.instalment * terms.subscribers:
        raise _refuse(
            "chit_amount",
            "instalment_times_subscribers",
            "the chit amount must equal the instalment times the subscribers",
        )
    if not 0 <= terms.commission_bps <= MAX_COMMISSION_BPS:
        raise _refuse(
            "commission_bps",
            "max_7_percent",
            "the foreman's commission is at most 7 % of the chit amount",
        )
    if terms.min_bid < terms.commission:
        raise _refuse(
            "min_bid",
            "at_least_commission",
            "the minimum bid must be at least the foreman's commission",
        )
    if terms.bid_step <= 0:
        raise _refuse("bid_step", "positive", "the bid step must be positive")
    if terms.max_discount < terms.min_bid:
        raise _refuse(
            "max_discount",
            "at_least_min_bid",
            "the maximum discount must be at least the minimum bid",
        )
    if terms.max_discount * 10_000 > terms.chit_amount * MAX_DISCOUNT_BPS:
        raise _refuse(
            "max_discount", "at_most_half", "the maximum discount is at most half the chit amount"
        )
    if (terms.max_discount - terms.min_bid) % terms.bid_step:
        raise _refuse(
            "max_discount",
            "on_step",
            "the maximum discount must be the minimum bid plus whole bid steps",
        )
    return terms


def split_largest_remainder(total: int, parts: int) -> list[int]:
    """Split ``total`` paise into ``parts`` equal shares by largest remainder: every share is
    ``total // parts`` and the first ``total % parts`` shares (in the order given — tickets
    ascending) get one paisa more, so the shares always sum exactly to ``total``."""
    if parts <= 0:
        raise ValueError("parts must be positive")
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


@dataclass(frozen=True, slots=True)
class MonthResult:
    """One month's arithmetic, paise. ``shares[i]`` is ticket ``i + 1``'s share of discount;
    ``net_instalments[i]`` what that ticket owes next month. Always
    ``chit_amount == prize + commission + sum(shares)``."""

    discount: int
    prize: int
    commission: int
    shares: list[int]
    net_instalments: list[int]


def month_result(terms: SchemeTerms, discount: int, *, foreman_month: bool = False) -> MonthResult:
    """The result of a month won at ``discount`` paise.

    Commission out of the discount: commission = the scheme's commission, share pool =
    discount − commission, prize = chit amount − discount. Commission out of the prize: the
    whole discount is shared, prize = chit amount − discount − commission. The foreman's own
    month (month 1, s.21(1)(a)) has no discount and no commission: the prize is the chit amount.
    Shares are split by largest remainder over the tickets in ticket order.

    Raises:
        ValueError: a discount the rules do not allow (negative, above the chit amount, or
            below the commission under the "discount" rule).
    """
    n = terms.subscribers
    if foreman_month:
        return MonthResult(0, terms.chit_amount, 0, [0] * n, [terms.instalment] * n)
    if not 0 <= discount <= terms.chit_amount:
        raise ValueError(
            f"the discount {format_minor(discount)} must be between 0.00 and the chit amount "
            f"{format_minor(terms.chit_amount)}"
        )
    commission = terms.commission
    if terms.commission_source == CommissionSource.DISCOUNT:
        if discount < commission:
            raise ValueError(
                f"the discount {format_minor(discount)} must cover the commission of "
                f"{format_minor(commission)}"
            )
        pool = discount - commission
        prize = terms.chit_amount - discount
    else:
        pool = discount
        prize = terms.chit_amount - discount - commission
    shares = split_largest_remainder(pool, n)
    assert prize + commission + sum(shares) == terms.chit_amount
    return MonthResult(discount, prize, commission, shares, [terms.instalment - s for s in shares])


class BidRefusal(StrEnum):
    """Stable codes of a refused bid (each is also the ``code`` of the error answered)."""

    BELOW_MINIMUM = "bid_below_minimum"
    ABOVE_MAXIMUM = "bid_above_maximum"
    OFF_STEP = "bid_off_step"
    NOT_ABOVE_BEST = "bid_not_above_best"


def check_bid_amount(terms: SchemeTerms, discount: int, best: int | None) -> BidRefusal | None:
    """Why ``discount`` paise is not a valid bid when the best so far is ``best`` (``None``:
    no bid yet), or ``None`` when it is valid. A bid is at least the minimum, at most the
    maximum discount, on the step (minimum + k × step) and above the best so far — except at
    the maximum discount, which several subscribers may bid (a tie drawn by lot)."""
    if discount < terms.min_bid:
        return BidRefusal.BELOW_MINIMUM
    if discount > terms.max_discount:
        return BidRefusal.ABOVE_MAXIMUM
    if (discount - terms.min_bid) % terms.bid_step:
        return BidRefusal.OFF_STEP
    if best is not None and (
        discount < best or (discount == best and discount < terms.max_discount)
    ):
        return BidRefusal.NOT_ABOVE_BEST
    return None


def next_bid(terms: SchemeTerms, best: int | None) -> int | None:
    """The lowest valid bid when the best so far is ``best`` (paise): the minimum bid with
    no bid yet, else one step above the best — or the maximum discount itself when the best
    is already there (a tie at the maximum is drawn by lot); ``None`` past the maximum."""
    if best is None:
        return terms.min_bid
    if best >= terms.max_discount:
        return terms.max_discount
    return min(best + terms.bid_step, terms.max_discount)


def bid_refusal_message(
    terms: SchemeTerms, refusal: BidRefusal, discount: int, best: int | None
) -> str:
    """Why a bid was refused, in rupees, with what would be accepted."""
    r = format_minor
    if refusal == BidRefusal.BELOW_MINIMUM:
        return f"the bid {r(discount)} is below the minimum bid of {r(terms.min_bid)}"
    if refusal == BidRefusal.ABOVE_MAXIMUM:
        return f"the bid {r(discount)} is above the maximum discount of {r(terms.max_discount)}"
    if refusal == BidRefusal.OFF_STEP:
        return (
            f"bids move in steps of {r(terms.bid_step)} from the minimum bid of "
            f"{r(terms.min_bid)}: {r(discount)} is not on a step"
        )
    nxt = next_bid(terms, best)
    shown = "none" if best is None else r(best)
    return (
        f"the best bid is {shown} and bids move in steps of {r(terms.bid_step)}: "
        f"bid at least {r(nxt if nxt is not None else terms.max_discount)}"
    )


def draw_seed(auction_id: str, bids: list[tuple[str, int, int]]) -> str:
    """The seed of a draw by lot: SHA-256 hex of ``auction_id`` and every recorded bid
    ``(bid_id, ticket, discount)`` in bid order, joined by ``|``. Anyone holding the minutes
    can recompute it."""
    text = "|".join([auction_id, *(f"{b}:{t}:{d}" for b, t, d in bids)])
    return hashlib.sha256(text.encode()).hexdigest()


def draw(seed: str, candidates: list[int]) -> int:
    """The ticket drawn from ``candidates`` (tickets) with ``seed``: candidates sorted
    ascending, index = int(seed, 16) mod their number (``DRAW_METHOD``).

    Raises:
        ValueError: no candidates.
    """
    if not candidates:
        raise ValueError("nobody to draw from")
    ordered = sorted(candidates)
    return ordered[int(seed, 16) % len(ordered)]


def add_months(day: dt.date, months: int, day_of_month: int) -> dt.date:
    """``day_of_month`` (clamped to the month's length) of the month ``months`` after
    ``day``'s month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day_of_month, last))


def auction_date(start: dt.date, auction_day: int, month: int) -> dt.date:
    """The date of month ``month``'s auction (1-based): the scheme's auction day of the
    ``month − 1``-th month after the start date's month, moved a month on when month 1's
    would fall before the start date."""
    first = add_months(start, 0, auction_day)
    offset = 0 if first >= start else 1
    return add_months(start, offset + month - 1, auction_day)

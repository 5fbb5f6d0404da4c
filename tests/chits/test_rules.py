"""The month's arithmetic and the scheme rules, exact in paise (app/chits/rules.py)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from app.chits.rules import (
    BidRefusal,
    CommissionSource,
    InvalidScheme,
    SchemeTerms,
    auction_date,
    check_bid_amount,
    check_terms,
    draw,
    draw_seed,
    month_result,
    split_largest_remainder,
)

RUPEE = 100


def terms(**over: object) -> SchemeTerms:
    """₹5,00,000 over 50 subscribers × ₹10,000 at 5 % commission."""
    values: dict[str, object] = {
        "chit_amount": 500_000 * RUPEE, "subscribers": 50, "instalment": 10_000 * RUPEE,
        "commission_bps": 500, "min_bid": 25_000 * RUPEE, "bid_step": 1_000 * RUPEE,
        "max_discount": 150_000 * RUPEE, "commission_source": CommissionSource.DISCOUNT,
    }  # fmt: skip
    values.update(over)
    return SchemeTerms(**values)  # type: ignore[arg-type]


def test_the_issue_example_with_commission_out_of_the_discount() -> None:
    # ₹1,00,000 discount: commission ₹25,000 (5 % of ₹5,00,000) comes out of it; ₹75,000 is
    # shared by 50 → ₹1,500 each; prize ₹4,00,000; next month's net instalment ₹8,500.
    result = month_result(check_terms(terms()), 100_000 * RUPEE)
    assert result.commission == 25_000 * RUPEE
    assert result.prize == 400_000 * RUPEE
    assert result.shares == [1_500 * RUPEE] * 50
    assert result.net_instalments == [8_500 * RUPEE] * 50
    assert result.prize + result.commission + sum(result.shares) == 500_000 * RUPEE


def test_the_issue_example_with_commission_out_of_the_prize() -> None:
    # The whole ₹1,00,000 is shared → ₹2,000 each; prize ₹5,00,000 − ₹1,00,000 − ₹25,000 =
    # ₹3,75,000; net instalment ₹8,000.
    result = month_result(check_terms(terms(commission_source=CommissionSource.PRIZE)),
                          100_000 * RUPEE)  # fmt: skip
    assert result.commission == 25_000 * RUPEE
    assert result.prize == 375_000 * RUPEE
    assert result.shares == [2_000 * RUPEE] * 50
    assert result.net_instalments == [8_000 * RUPEE] * 50
    assert result.prize + result.commission + sum(result.shares) == 500_000 * RUPEE


def test_the_foreman_takes_month_one_without_discount() -> None:
    result = month_result(terms(), 0, foreman_month=True)
    assert (result.discount, result.prize, result.commission) == (0, 500_000 * RUPEE, 0)
    assert result.shares == [0] * 50 and result.net_instalments == [10_000 * RUPEE] * 50


def test_shares_split_by_largest_remainder_and_always_balance() -> None:
    assert split_largest_remainder(7, 3) == [3, 2, 2]
    assert split_largest_remainder(100, 7) == [15, 15, 14, 14, 14, 14, 14]
    # 3 subscribers, ₹3,000 chit at 7 %: commission ₹210; a ₹1,000.01 discount leaves 79001
    # paise to share in three: 26334, 26334, 26333 — the first tickets take the extra paise.
    small = check_terms(SchemeTerms(300_000, 3, 100_000, 700, 21_000, 1, 150_000,
                                    CommissionSource.DISCOUNT))  # fmt: skip
    result = month_result(small, 100_001)
    assert result.shares == [26_334, 26_334, 26_333]
    for source in CommissionSource:
        t = SchemeTerms(300_000, 3, 100_000, 700, 21_000, 1, 150_000, source)
        for discount in (21_000, 21_001, 77_777, 150_000):
            r = month_result(t, discount)
            assert r.prize + r.commission + sum(r.shares) == t.chit_amount


def test_commission_is_capped_at_seven_percent() -> None:
    assert check_terms(terms(commission_bps=700, min_bid=35_000 * RUPEE,
                             max_discount=150_000 * RUPEE))  # fmt: skip
    with pytest.raises(InvalidScheme) as refused:
        check_terms(terms(commission_bps=701, min_bid=36_000 * RUPEE))
    assert refused.value.code == "invalid_scheme"
    assert refused.value.details == {"field": "commission_bps", "rule": "max_7_percent"}


@pytest.mark.parametrize(
    ("over", "field", "rule"),
    [
        ({"min_bid": 24_999 * RUPEE}, "min_bid", "at_least_commission"),
        ({"bid_step": 0}, "bid_step", "positive"),
        ({"max_discount": 20_000 * RUPEE}, "max_discount", "at_least_min_bid"),
        ({"max_discount": 150_500 * RUPEE}, "max_discount", "on_step"),
        ({"max_discount": 251_000 * RUPEE}, "max_discount", "at_most_half"),
        ({"chit_amount": 499_999 * RUPEE}, "chit_amount", "instalment_times_subscribers"),
        ({"subscribers": 1}, "subscribers", "range"),
    ],
)
def test_scheme_settings_are_checked(over: dict[str, object], field: str, rule: str) -> None:
    with pytest.raises(InvalidScheme) as refused:
        check_terms(terms(**over))
    assert refused.value.details == {"field": field, "rule": rule}


def test_bids_are_checked_against_minimum_maximum_step_and_best() -> None:
    t = terms()
    assert check_bid_amount(t, 24_000 * RUPEE, None) == BidRefusal.BELOW_MINIMUM
    assert check_bid_amount(t, 151_000 * RUPEE, None) == BidRefusal.ABOVE_MAXIMUM
    assert check_bid_amount(t, 25_500 * RUPEE, None) == BidRefusal.OFF_STEP
    assert check_bid_amount(t, 25_000 * RUPEE, None) is None
    assert check_bid_amount(t, 30_000 * RUPEE, 30_000 * RUPEE) == BidRefusal.NOT_ABOVE_BEST
    assert check_bid_amount(t, 29_000 * RUPEE, 30_000 * RUPEE) == BidRefusal.NOT_ABOVE_BEST
    assert check_bid_amount(t, 31_000 * RUPEE, 30_000 * RUPEE) is None
    # at the maximum discount several may bid the same: a tie drawn by lot
    assert check_bid_amount(t, 150_000 * RUPEE, 150_000 * RUPEE) is None


def test_the_draw_is_reproducible_from_the_recorded_bids() -> None:
    bids = [("b1", 3, 150_000), ("b2", 7, 150_000)]
    seed = draw_seed("auction-1", bids)
    assert seed == hashlib.sha256(b"auction-1|b1:3:150000|b2:7:150000").hexdigest()
    chosen = draw(seed, [7, 3])
    assert chosen == [3, 7][int(seed, 16) % 2]
    assert draw(seed, [3, 7]) == chosen  # the order given does not matter


def test_auction_dates_follow_the_auction_day() -> None:
    start = dt.date(2026, 1, 15)
    assert auction_date(start, 20, 1) == dt.date(2026, 1, 20)
    assert auction_date(start, 10, 1) == dt.date(2026, 2, 10)  # the 10th has passed
    assert auction_date(start, 10, 12) == dt.date(2027, 1, 10)

"""The paper broker's fill rules (app/orders/broker.py ``decide_fill``), on hand-made ticks."""

from __future__ import annotations

import pytest

from app.orders.broker import BrokerCosts, decide_fill
from app.orders.documents import OrderKind, OrderSide, PaperOrder
from streams.records import MarketTickV1

# PaperOrder is a Beanie document: it needs the initialised ODM.
pytestmark = pytest.mark.usefixtures("services")

COSTS = BrokerCosts(slippage_bps=5, volume_share_bps=1_000, tick_notional_cap=1_000_000,
                    fee_bps=10, fee_min=100)  # fmt: skip


def tick(price: int, volume: int | None = None, day: str = "2012-06-12") -> MarketTickV1:
    return MarketTickV1(id=f"T:{price}", seq=10, ts="2012-06-12T00:00:00Z", symbol="T",
                        price=price, open=price, high=price, low=price, prev_close=price,
                        volume=volume, currency="USD", trade_date=day, source="test")  # fmt: skip


def book(side: OrderSide = OrderSide.BUY, kind: OrderKind = OrderKind.MARKET,
         quantity: int = 10, limit: int | None = None, reserved: int = 10**9,
         **state: object) -> PaperOrder:  # fmt: skip
    return PaperOrder(order_id="o", club_id="c", side=side, kind=kind, symbol="T",
                      quantity=quantity, limit_price=limit, reserved=reserved, after_seq=0,
                      **state)  # type: ignore[arg-type]  # fmt: skip


async def test_a_market_order_fills_at_the_tick_moved_by_the_slippage() -> None:
    buy = decide_fill(book(), tick(4008), COSTS)
    assert (buy.quantity, buy.price) == (10, 4010)  # 4008 × 1.0005 = 4010.004 → 4010
    assert buy.fee == 100  # 0.1 % of 401.00 is 40 cents: the minimum applies
    sell = decide_fill(book(OrderSide.SELL), tick(4008), COSTS)
    assert sell.price == 4006  # 4005.996 → 4006
    big = decide_fill(book(quantity=100), tick(5000), COSTS)
    assert big.price == 5002  # 5002.5: half-even
    assert big.fee == 500  # 0.1 % of 100 × 50.02 = 500.2 cents


async def test_a_limit_order_fills_only_at_its_limit_or_better_without_slippage() -> None:
    assert decide_fill(book(kind=OrderKind.LIMIT, limit=4000), tick(4001), COSTS).quantity == 0
    at = decide_fill(book(kind=OrderKind.LIMIT, limit=4000), tick(4000), COSTS)
    assert (at.quantity, at.price) == (10, 4000)
    better = decide_fill(book(kind=OrderKind.LIMIT, limit=4000), tick(3990), COSTS)
    assert better.price == 3990
    sell = book(OrderSide.SELL, OrderKind.LIMIT, limit=4000)
    assert decide_fill(sell, tick(3999), COSTS).quantity == 0
    assert decide_fill(sell, tick(4002), COSTS).price == 4002


async def test_large_orders_fill_in_parts_by_volume_or_by_the_notional_cap() -> None:
    # 10 % of the 1,000 shares traded since the last tick seen (5,000 → 6,000).
    part = decide_fill(book(quantity=500, seen_volume=5_000, seen_date="2012-06-12"),
                       tick(100, volume=6_000), COSTS)  # fmt: skip
    assert part.quantity == 100
    # A new trading day: the cumulative volume starts again from zero.
    new_day = decide_fill(book(quantity=500, seen_volume=5_000, seen_date="2012-06-11"),
                          tick(100, volume=300), COSTS)  # fmt: skip
    assert new_day.quantity == 30
    # No volume (skfolio closes): at most $10,000.00 a tick → 249 shares at 40.10.
    capped = decide_fill(book(quantity=1_000), tick(4008), COSTS)
    assert capped.quantity == 1_000_000 // 4010 == 249
    rest = decide_fill(book(quantity=1_000, filled=996), tick(4008), COSTS)
    assert rest.quantity == 4


async def test_a_buy_never_spends_more_than_its_reserved_cash() -> None:
    # 10 shares at 40.10 + the $1.00 minimum fee = 402.00; 401.99 buys 9.
    short = decide_fill(book(reserved=40_199), tick(4008), COSTS)
    assert (short.quantity, short.close_reason) == (9, "")
    assert 9 * 4010 + short.fee <= 40_199
    spent = decide_fill(book(reserved=40_199, spent=39_000, filled=9), tick(4008), COSTS)
    assert (spent.quantity, spent.close_reason) == (0, "insufficient_cash")

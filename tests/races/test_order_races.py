"""Concurrent order submits (issue #20), through ``order_service`` with the paper broker's
engine called in process: buys reserving the same cash never reserve more than the free cash,
and sells racing for the same shares never sell more than the club holds."""

from __future__ import annotations

import datetime as dt
import time

from app.books.errors import InsufficientCash, InsufficientHoldings
from app.books.service import books_service
from app.extensions import Services
from app.market.repository import QuoteCache
from app.market.schemas import QuoteTick
from app.orders.broker import PaperEngine
from app.orders.documents import OrderKind, OrderSide, OrderStatus
from app.orders.schemas import OrderCreate
from app.orders.service import order_service
from tests.clubs.factories import club_with_members, paid_contribution
from tests.orders.test_reconcile import COSTS, SYMBOL, LocalBroker, tick
from tests.races.harness import race, split


async def usd_club(services: Services) -> tuple[str, str, LocalBroker]:
    """A USD club with $1,000.00 of free cash and a PG quote of $60.00; (club, owner, broker)."""
    club, (owner, _) = await club_with_members(2, currency="USD")
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, owner, 100_000, today)
    await books_service.do_record_valuation(str(club.id), owner, valuation_date=today, prices={})
    redis = services.require_redis()
    seq = time.time_ns() // 1000
    await QuoteCache(redis).store_if_newer(QuoteTick.from_tick(tick(6000, seq)), seq)
    return str(club.id), owner, LocalBroker(PaperEngine(COSTS, redis))


async def test_buys_at_once_never_reserve_more_than_the_free_cash(services: Services) -> None:
    club_id, owner, broker = await usd_club(services)
    redis = services.require_redis()
    orders = [
        await order_service.do_create(
            club_id,
            owner,
            OrderCreate(
                side=OrderSide.BUY,
                kind=OrderKind.LIMIT,
                symbol=SYMBOL,
                quantity=6,
                limit_price="50.00",
            ),
        )
        for _ in range(4)
    ]  # each holds 6 × $50.00 + $1.00 fee = $301.00 (below the market: it rests, no fill)
    results = await race([
        (lambda oid=str(o.id): order_service.do_submit(club_id, oid, owner, redis, broker))
        for o in orders
    ])  # fmt: skip
    accepted, refused = split(results, InsufficientCash)
    assert (len(accepted), len(refused)) == (3, 1)
    assert all(o.status is OrderStatus.SUBMITTED and o.reserved == 30_100 for o in accepted)
    held = await books_service.held_cash(club_id)
    books = await books_service.books(club_id)
    assert held == 90_300 <= books.free_cash == 100_000
    assert refused[0].details["available"] == "97.00"  # type: ignore[attr-defined]


async def test_sells_at_once_never_sell_more_than_the_holding(services: Services) -> None:
    club_id, owner, broker = await usd_club(services)
    redis = services.require_redis()
    await books_service.do_record_trade(
        club_id, owner, side="buy", symbol=SYMBOL, quantity=10, price=5_000, fees=0,
        trade_date=dt.datetime.now(dt.UTC).date(), key="ten-pg",
    )  # fmt: skip
    orders = [
        await order_service.do_create(
            club_id,
            owner,
            OrderCreate(
                side=OrderSide.SELL,
                kind=OrderKind.LIMIT,
                symbol=SYMBOL,
                quantity=6,
                limit_price="70.00",
            ),
        )
        for _ in range(2)
    ]  # above the market: they rest on the book
    results = await race([
        (lambda oid=str(o.id): order_service.do_submit(club_id, oid, owner, redis, broker))
        for o in orders
    ])  # fmt: skip
    (sold,), (refused,) = split(results, InsufficientHoldings)
    assert isinstance(refused, InsufficientHoldings) and refused.code == "insufficient_holdings"
    assert refused.details == {"held": 10, "for_sale": 6}
    assert sold.status is OrderStatus.SUBMITTED

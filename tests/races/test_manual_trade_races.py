"""Manual trades against what open orders hold (issue #20, part A): a manual buy may spend only
the free cash open buy orders do not hold, a manual sell only the shares open sell orders do not
already sell — checked and written in one transaction that bumps the club's ``money_seq`` like
an order submit, so a manual trade racing a submit never over-commits either."""

from __future__ import annotations

import datetime as dt

import pytest

from app.books.errors import InsufficientCash, InsufficientHoldings
from app.books.service import books_service
from app.extensions import Services
from app.orders.documents import OrderKind, OrderSide, OrderStatus
from app.orders.schemas import OrderCreate
from app.orders.service import order_service
from tests.orders.test_reconcile import SYMBOL, LocalBroker
from tests.races.harness import race, split
from tests.races.test_order_races import usd_club

TODAY = dt.datetime.now(dt.UTC).date


async def order(club_id: str, owner: str, side: OrderSide, quantity: int, limit: str) -> str:
    """A limit order awaiting execution (PG quotes $60.00: a buy at $50 or a sell at $70
    rests on the paper book); its id."""
    created = await order_service.do_create(
        club_id, owner,
        OrderCreate(side=side, kind=OrderKind.LIMIT, symbol=SYMBOL, quantity=quantity,
                    limit_price=limit),
    )  # fmt: skip
    return str(created.id)


async def manual(
    club_id: str, owner: str, side: str, quantity: int, price: int, key: str
) -> object:
    """A manual trade of PG at ``price`` cents, no fee, dated today."""
    return await books_service.do_record_trade(
        club_id, owner, side=side, symbol=SYMBOL, quantity=quantity, price=price, fees=0,
        trade_date=TODAY(), key=key,
    )  # fmt: skip


async def submit(services: Services, club_id: str, owner: str, order_id: str,
                 broker: LocalBroker) -> object:  # fmt: skip
    """Submit the order to the in-process paper broker."""
    return await order_service.do_submit(club_id, order_id, owner, services.require_redis(), broker)


async def test_a_manual_buy_cannot_spend_cash_open_buy_orders_hold(services: Services) -> None:
    club_id, owner, broker = await usd_club(services)  # $1,000.00 of free cash
    for _ in range(3):  # each holds 6 × $50.00 + the $1.00 minimum fee = $301.00
        await submit(services, club_id, owner, await order(club_id, owner, OrderSide.BUY, 6,
                                                           "50.00"), broker)  # fmt: skip
    assert await books_service.held_cash(club_id) == 90_300  # $97.00 left free
    with pytest.raises(InsufficientCash) as refused:
        await manual(club_id, owner, "buy", 1, 9_800, "too-much")  # $98.00 > $97.00
    assert refused.value.code == "insufficient_cash"
    assert refused.value.details["free_cash"] == "97.00"
    books = await books_service.books(club_id)
    assert (books.cash, books.investments_book) == (100_000, 0)  # nothing was booked
    holding = await manual(club_id, owner, "buy", 1, 9_700, "just-fits")  # exactly what is free
    assert holding.quantity == 1  # type: ignore[attr-defined]
    books = await books_service.books(club_id)
    assert books.free_cash - await books_service.held_cash(club_id) == 0


async def test_a_manual_sell_cannot_sell_shares_an_open_sell_order_sells(
    services: Services,
) -> None:
    club_id, owner, broker = await usd_club(services)
    await manual(club_id, owner, "buy", 10, 5_000, "ten-pg")
    await submit(services, club_id, owner, await order(club_id, owner, OrderSide.SELL, 10,
                                                       "70.00"), broker)  # fmt: skip
    with pytest.raises(InsufficientHoldings) as refused:
        await manual(club_id, owner, "sell", 5, 6_000, "sell-five")
    assert refused.value.code == "insufficient_holdings"
    assert refused.value.details == {"held": 10, "for_sale": 10}
    holding = await books_service.holding(club_id, SYMBOL)
    assert holding is not None and holding.quantity == 10  # nothing was sold


async def test_a_manual_buy_racing_a_buy_submit_never_overcommits_the_cash(
    services: Services,
) -> None:
    club_id, owner, broker = await usd_club(services)  # $1,000.00 free
    buy = await order(club_id, owner, OrderSide.BUY, 16, "50.00")  # holds $801.00
    # a manual buy of 5 × $50.00 = $250.00: either fits alone, both do not ($1,051.00)
    results = await race([
        lambda: submit(services, club_id, owner, buy, broker),
        lambda: manual(club_id, owner, "buy", 5, 5_000, "racing-buy"),
    ])  # fmt: skip
    accepted, refused = split(results, InsufficientCash)
    assert (len(accepted), len(refused)) == (1, 1)
    books = await books_service.books(club_id)
    held = await books_service.held_cash(club_id)
    assert held + books.investments_book <= 100_000  # never more committed than was free
    assert books.free_cash - held >= 0
    submitted = await order_service.order(buy)
    assert submitted is not None
    if submitted.status is OrderStatus.SUBMITTED:
        assert (held, books.investments_book) == (80_100, 0)
    else:
        assert (held, books.investments_book) == (0, 25_000)


async def test_a_manual_sell_racing_a_sell_submit_never_sells_more_than_held(
    services: Services,
) -> None:
    club_id, owner, broker = await usd_club(services)
    await manual(club_id, owner, "buy", 10, 5_000, "ten-pg")
    sell = await order(club_id, owner, OrderSide.SELL, 6, "70.00")
    results = await race([
        lambda: submit(services, club_id, owner, sell, broker),
        lambda: manual(club_id, owner, "sell", 6, 6_000, "racing-sell"),
    ])  # fmt: skip
    accepted, refused = split(results, InsufficientHoldings)
    assert (len(accepted), len(refused)) == (1, 1)
    holding = await books_service.holding(club_id, SYMBOL)
    assert holding is not None
    for_sale = await books_service.shares_for_sale(club_id, SYMBOL)
    assert holding.quantity - for_sale >= 0
    assert (holding.quantity, for_sale) in {(10, 6), (4, 0)}

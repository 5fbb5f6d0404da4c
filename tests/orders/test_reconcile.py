"""Orders against the real MongoDB and Redis, in process: submission rules, the paper broker's
book, and reconciliation of repeated and out-of-order broker updates (nothing double-counted,
statuses only move forward)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from app.books.errors import InsufficientCash
from app.books.service import books_service
from app.clubs.documents import Club
from app.extensions import Services
from app.ledger.service import ledger_service
from app.market.repository import QuoteCache
from app.market.schemas import QuoteTick
from app.orders import repository as paper_repository
from app.orders.broker import BrokerCosts, PaperEngine
from app.orders.documents import Fill, Order, OrderKind, OrderSide, OrderStatus, PaperOrder
from app.orders.errors import OrderStateError
from app.orders.schemas import OrderCreate
from app.orders.service import booking_day, order_service, price_day
from app.realtime import eventlog
from app.realtime.rooms import club_room
from streams.records import BrokerUpdateV1, MarketTickV1, OrderCommandV1
from tests.clubs.factories import club_with_members, paid_contribution

SYMBOL = "PG"
# $100.00 of notional per tick: at ~$60 a share, one share a tick.
COSTS = BrokerCosts(slippage_bps=0, volume_share_bps=1_000, tick_notional_cap=10_000,
                    fee_bps=10, fee_min=100)  # fmt: skip


def tick(price: int, seq: int) -> MarketTickV1:
    return MarketTickV1(id=f"{SYMBOL}:{seq}", seq=seq, ts="2012-06-12T14:00:00Z", symbol=SYMBOL,
                        price=price, open=price, high=price, low=price, prev_close=price,
                        volume=None, currency="USD", trade_date="2012-06-12",
                        source="test")  # fmt: skip


class LocalBroker:
    """The paper broker's engine called directly (no Kafka): its answers are kept."""

    name = "paper"

    def __init__(self, engine: PaperEngine) -> None:
        self.engine = engine
        self.updates: list[BrokerUpdateV1] = []

    async def send(self, command: OrderCommandV1) -> None:
        self.updates.extend(await self.engine.on_command(command))


@pytest.fixture
async def setup(services: Services) -> tuple[Club, str, LocalBroker]:
    club, (owner, _) = await club_with_members(2, currency="USD")
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, owner, 100_000, today)  # $1,000.00
    await books_service.do_record_valuation(str(club.id), owner, valuation_date=today,
                                                 prices={})  # fmt: skip
    redis = services.require_redis()
    seq = time.time_ns() // 1000
    await QuoteCache(redis).store_if_newer(QuoteTick.from_tick(tick(6000, seq)), seq)
    return club, owner, LocalBroker(PaperEngine(COSTS, redis))


async def cash_of(club_id: str) -> int:
    return (await ledger_service.balances(club_id)).get("assets:cash", 0)


async def test_repeated_and_out_of_order_updates_never_double_count(
    setup: tuple[Club, str, LocalBroker], services: Services
) -> None:
    club, owner, broker = setup
    club_id = str(club.id)
    order = await order_service.do_create(
        club_id, owner, OrderCreate(side=OrderSide.BUY, symbol=SYMBOL, quantity=3)
    )
    submitted = await order_service.do_submit(club_id, str(order.id), owner,
                                              services.require_redis(), broker)  # fmt: skip
    # Reserved: 3 × ⌈60.00 × (1 + 5 bps slippage + 500 bps buffer)⌉ + the $1.00 minimum fee.
    assert submitted.reserved == 3 * 6303 + 100
    [accepted] = broker.updates
    assert accepted.status == "accepted"
    base = time.time_ns() // 1000 + 1
    fills = []
    for i, price in enumerate((6000, 6010, 5990)):  # one share a tick ($100.00 cap)
        fills += await broker.engine.on_tick(tick(price, base + i))
    assert [(f.status, f.fill_quantity, f.cumulative_quantity) for f in fills] == [
        ("partially_filled", 1, 1), ("partially_filled", 1, 2), ("filled", 1, 3)]  # fmt: skip
    # A re-delivered tick re-sends the same fill; after the last fill nothing more fills.
    again = await broker.engine.on_tick(tick(6010, base + 1))
    assert [u.fill_id for u in again] == [fills[1].fill_id]
    assert await broker.engine.on_tick(tick(6000, base + 9)) == []

    before = await cash_of(club_id)
    stream = [fills[2], fills[0], accepted, fills[2], again[0], fills[1], accepted, fills[0]]
    applied = [await order_service.do_apply_broker_update(u) for u in stream]
    assert [a.order is not None for a in applied] == [True, True, False, False, True, False,
                                                      False, False]  # fmt: skip
    spent = sum(f.fill_quantity * f.fill_price + f.fee for f in fills)
    assert await cash_of(club_id) == before - spent
    assert await Fill.find({"order_id": str(order.id)}).count() == 3
    final, booked = await order_service.get(club_id, str(order.id), owner)
    assert (final.status, final.filled_quantity, final.fees) == (OrderStatus.FILLED, 3, 300)
    assert final.filled_value == 6000 + 6010 + 5990 and len(booked) == 3
    # The room log holds one order:updated per applied change, in order.
    events = await eventlog.since(club_room(club_id), 0, 100)
    statuses = [e.data["order"]["status"] for e in events if e.event == "order:updated"]
    # The status follows the shares booked, whatever order the reports came in.
    assert statuses == ["awaiting_execution", "submitted", "partially_filled",
                        "partially_filled", "filled"]  # fmt: skip
    trial = await ledger_service.trial_balance(club_id)
    assert sum(row.balance for row in trial) == 0


async def test_cancel_limit_orders_and_a_fill_that_overtakes_the_cancel(
    setup: tuple[Club, str, LocalBroker], services: Services
) -> None:
    club, owner, broker = setup
    club_id, redis = str(club.id), services.require_redis()
    waiting = await order_service.do_create(
        club_id, owner, OrderCreate(side=OrderSide.BUY, symbol=SYMBOL, quantity=1)
    )
    cancelled = await order_service.do_cancel(club_id, str(waiting.id), owner, broker)
    assert cancelled.status is OrderStatus.CANCELLED and broker.updates == []
    with pytest.raises(OrderStateError):
        await order_service.do_submit(club_id, str(waiting.id), owner, redis, broker)

    limit = await order_service.do_create(club_id, owner, OrderCreate(
        side=OrderSide.BUY, kind=OrderKind.LIMIT, symbol=SYMBOL, quantity=5,
        limit_price="59.00"))  # fmt: skip
    submitted = await order_service.do_submit(club_id, str(limit.id), owner, redis, broker)
    assert submitted.reserved == 5 * 5900 + 100
    base = time.time_ns() // 1000 + 1
    assert await broker.engine.on_tick(tick(5950, base)) == []  # above the limit
    [fill] = await broker.engine.on_tick(tick(5880, base + 1))  # at 58.80: 1 share ≤ $100
    assert (fill.fill_quantity, fill.fill_price, fill.status) == (1, 5880, "partially_filled")
    await order_service.do_cancel(club_id, str(limit.id), owner, broker)
    [accepted, done] = broker.updates
    assert (done.status, done.cumulative_quantity) == ("cancelled", 1)
    assert await broker.engine.on_tick(tick(5800, base + 2)) == []  # off the book
    # The cancel reaches us before the fill it followed: both count, the status stays final.
    # The hold stays until that fill is booked (its cash must still be there for it).
    held = await books_service.held_cash(club_id)
    await order_service.do_apply_broker_update(done)
    early, _ = await order_service.get(club_id, str(limit.id), owner)
    assert (early.status, early.final_quantity) == (OrderStatus.CANCELLED, 1)
    assert held > 0 and await books_service.held_cash(club_id) == held
    for update in (accepted, fill, fill):
        await order_service.do_apply_broker_update(update)
    assert await books_service.held_cash(club_id) == 0
    final, fills = await order_service.get(club_id, str(limit.id), owner)
    assert (final.status, final.filled_quantity, len(fills)) == (OrderStatus.CANCELLED, 1, 1)
    positions = {h.symbol: h for h in (await books_service.books(club_id)).holdings}
    assert (positions[SYMBOL].quantity, positions[SYMBOL].cost) == (1, 5880)


async def test_a_cancel_racing_a_fill_in_full_cancels_nothing(
    setup: tuple[Club, str, LocalBroker], services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    club, owner, broker = setup
    club_id, redis = str(club.id), services.require_redis()
    order = await order_service.do_create(club_id, owner, OrderCreate(
        side=OrderSide.BUY, kind=OrderKind.LIMIT, symbol=SYMBOL, quantity=1,
        limit_price="59.00"))  # fmt: skip
    await order_service.do_submit(club_id, str(order.id), owner, redis, broker)
    base = time.time_ns() // 1000 + 1
    fills: list[BrokerUpdateV1] = []
    close = paper_repository.close_paper_order

    async def filled_first(book: PaperOrder) -> bool:
        # The tick is handled while the cancel command is between its read and its close.
        fills.extend(await broker.engine.on_tick(tick(5880, base)))
        return await close(book)

    monkeypatch.setattr(paper_repository, "close_paper_order", filled_first)
    await order_service.do_cancel(club_id, str(order.id), owner, broker)
    assert [f.status for f in fills] == ["filled"]
    assert [u.status for u in broker.updates] == ["accepted"]  # no cancel of a filled order
    for update in (*broker.updates, *fills):
        await order_service.do_apply_broker_update(update)
    final, booked = await order_service.get(club_id, str(order.id), owner)
    assert (final.status, final.filled_quantity, len(booked)) == (OrderStatus.FILLED, 1, 1)
    assert await books_service.held_cash(club_id) == 0


async def test_a_buy_the_cash_cannot_cover_is_refused_and_currencies_never_mix(
    setup: tuple[Club, str, LocalBroker], services: Services
) -> None:
    club, owner, broker = setup
    club_id, redis = str(club.id), services.require_redis()
    first = await order_service.do_create(club_id, owner, OrderCreate(
        side=OrderSide.BUY, kind=OrderKind.LIMIT, symbol=SYMBOL, quantity=10,
        limit_price="60.00"))  # fmt: skip
    await order_service.do_submit(club_id, str(first.id), owner, redis, broker)  # $601.00 set aside
    second = await order_service.do_create(
        club_id, owner, OrderCreate(side=OrderSide.BUY, symbol=SYMBOL, quantity=7)
    )
    with pytest.raises(InsufficientCash) as refused:  # 7 × 63.03 + 1.00 > 1000 − 601
        await order_service.do_submit(club_id, str(second.id), owner, redis, broker)
    assert refused.value.details["available"] == "399.00"  # 1000.00 − 601.00 set aside
    still, _ = await order_service.get(club_id, str(second.id), owner)
    assert still.status is OrderStatus.AWAITING_EXECUTION

    # A rupee club may order a dollar stock (issue #14): the order is in the instrument's
    # currency and its cash is held in rupees (tests/clubs14/test_fx_books.py).
    rupee_club, (rupee_owner,) = await club_with_members(1)  # INR by default
    foreign = await order_service.do_create(str(rupee_club.id), rupee_owner, OrderCreate(
        side=OrderSide.BUY, symbol=SYMBOL, quantity=1))  # fmt: skip
    assert foreign.currency == "USD"


def test_a_fill_is_booked_no_earlier_than_its_order_went_to_the_broker() -> None:
    sent = dt.datetime(2026, 12, 5, 23, 50, tzinfo=dt.UTC)
    order = Order(club_id="c", symbol=SYMBOL, side=OrderSide.BUY, kind=OrderKind.MARKET,
                  quantity=1, submitted_by="u", created_at=sent - dt.timedelta(days=1),
                  submitted_at=sent)  # fmt: skip
    assert booking_day(order, "2012-06-12") == dt.date(2026, 12, 5)  # a replayed day
    assert booking_day(order, "2026-12-07") == dt.date(2026, 12, 7)  # a later settlement
    assert booking_day(order, "") >= dt.date(2026, 12, 5)  # no date from the broker: today
    never_sent = order.model_copy(update={"submitted_at": None})
    assert booking_day(never_sent, "2012-06-12") == dt.date(2026, 12, 4)
    # Its exchange rate stays the one of the price's day.
    assert price_day("2012-06-12", dt.date(2026, 12, 5)) == dt.date(2012, 6, 12)
    assert price_day("", dt.date(2026, 12, 5)) == dt.date(2026, 12, 5)

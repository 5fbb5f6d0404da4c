"""The worker's tick path reads no database per tick (issue #19): the price alerts and the
paper broker's open orders of a symbol are kept in memory (app/symbolcache.py) and loaded again
only when a change wrote a new version token in Redis. Correctness first: a new order or alert
is seen by the very next tick, a cancelled one by none, a re-delivered tick re-sends what it
did, and a copy gone stale (another worker had the partition) never fills twice.

Real MongoDB and Redis, in process. As in the worker, the engine taking commands and the one
matching ticks are separate objects (they may be in different processes)."""

from __future__ import annotations

import time
import uuid

from app.alerts.documents import AlertFiring, PriceAlert
from app.alerts.schemas import AlertCreate
from app.alerts.service import AlertEngine, alert_service
from app.extensions import Services
from app.orders.broker import BrokerCosts, PaperEngine
from app.orders.documents import PaperOrder
from app.realtime import eventlog
from app.realtime.rooms import club_room
from streams.records import MarketTickV1, OrderCommandV1
from tests.clubs.factories import club_with_members

COSTS = BrokerCosts(slippage_bps=0, volume_share_bps=1_000, tick_notional_cap=1_000_000,
                    fee_bps=10, fee_min=100)  # fmt: skip


def new_id(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}"


def now_us() -> int:
    return time.time_ns() // 1000


def tick(symbol: str, price: int, seq: int) -> MarketTickV1:
    return MarketTickV1(id=f"{symbol}:{seq}", seq=seq, ts="2012-06-12T14:00:00Z", symbol=symbol,
                        price=price, open=price, high=price, low=price, prev_close=price,
                        volume=None, currency="USD", trade_date="2012-06-12",
                        source="test")  # fmt: skip


def command(order_id: str, symbol: str, action: str = "submit", kind: str = "market",
            limit: int | None = None, quantity: int = 5) -> OrderCommandV1:  # fmt: skip
    return OrderCommandV1(id=f"{order_id}:{action}", action=action, order_id=order_id,
                          club_id="club-ticks", side="buy", kind=kind, symbol=symbol,
                          quantity=quantity, limit_price=limit, currency="USD",
                          reserved=10**9, issued_at="2012-06-12T14:00:00Z")  # fmt: skip


async def test_a_new_order_fills_at_the_next_tick_and_ticks_read_no_database(
    services: Services,
) -> None:
    redis = services.require_redis()
    broker, matcher = PaperEngine(COSTS, redis), PaperEngine(COSTS, redis)
    symbol = "RT19A"
    seq = now_us()
    assert await matcher.on_tick(tick(symbol, 2000, seq)) == []
    loads = matcher.loads
    for i in range(1, 20):  # ticks with nothing changed: the book comes from memory
        assert await matcher.on_tick(tick(symbol, 2000 + i, seq + i)) == []
    # A batch (as the agent takes them): one read of the tokens, each tick in order.
    assert await matcher.on_ticks([tick(symbol, 2100 + i, seq + 20 + i) for i in range(50)]) == []
    assert matcher.loads == loads

    order_id = new_id("market")
    [accepted] = await broker.on_command(command(order_id, symbol))
    assert accepted.status == "accepted"
    [fill] = await matcher.on_tick(tick(symbol, 2050, now_us() + 1))  # the very next tick
    assert (fill.status, fill.fill_quantity, fill.fill_price) == ("filled", 5, 2050)
    stored = await PaperOrder.find_one({"order_id": order_id})
    assert stored is not None and not stored.open and stored.filled == 5
    assert matcher.loads == loads + 1  # the order's token made it load the symbol once
    assert await matcher.on_tick(tick(symbol, 2040, now_us() + 2)) == []  # filled: off the book


async def test_a_cancelled_order_is_not_filled_by_the_next_tick(services: Services) -> None:
    redis = services.require_redis()
    broker, matcher = PaperEngine(COSTS, redis), PaperEngine(COSTS, redis)
    symbol = "RT19B"
    order_id = new_id("limit")
    await broker.on_command(command(order_id, symbol, kind="limit", limit=1000))
    seq = now_us() + 1
    assert await matcher.on_tick(tick(symbol, 1100, seq)) == []  # above the limit
    assert await matcher.on_tick(tick(symbol, 1050, seq + 1)) == []
    # No fill, the same volume seen: the resting order is not written on every tick.
    stored = await PaperOrder.find_one({"order_id": order_id})
    assert stored is not None and stored.open and stored.filled == 0
    assert stored.last_tick_seq == seq
    [cancelled] = await broker.on_command(command(order_id, symbol, action="cancel"))
    assert cancelled.status == "cancelled"
    assert await matcher.on_tick(tick(symbol, 900, now_us() + 1)) == []  # would have filled
    stored = await PaperOrder.find_one({"order_id": order_id})
    assert stored is not None and not stored.open and stored.fills == []


async def test_a_redelivered_tick_resends_its_fill_and_a_stale_copy_never_fills_twice(
    services: Services,
) -> None:
    redis = services.require_redis()
    broker = PaperEngine(COSTS, redis)
    first, second = PaperEngine(COSTS, redis), PaperEngine(COSTS, redis)
    symbol = "RT19C"
    # Both matchers hold the book with a resting limit order (two workers across a rebalance).
    order_id = new_id("two")
    await broker.on_command(command(order_id, symbol, kind="limit", limit=1500, quantity=3))
    base = now_us() + 1
    assert await first.on_tick(tick(symbol, 1600, base)) == []
    assert await second.on_tick(tick(symbol, 1600, base + 1)) == []
    # The second fills at a tick; the first, whose copy is now behind, gets the same tick.
    [fill] = await second.on_tick(tick(symbol, 1500, base + 2))
    assert (fill.status, fill.fill_quantity) == ("filled", 3)
    again = await first.on_tick(tick(symbol, 1500, base + 2))
    assert [u.fill_id for u in again] == [fill.fill_id]  # re-sent, not filled again
    # A worker started afresh gets the tick re-delivered: the closed order's fill is re-sent.
    restarted = PaperEngine(COSTS, redis)
    assert [u.fill_id for u in await restarted.on_tick(tick(symbol, 1500, base + 2))] == [
        fill.fill_id
    ]
    stored = await PaperOrder.find_one({"order_id": order_id})
    assert stored is not None and stored.filled == 3 and len(stored.fills) == 1
    assert await first.on_tick(tick(symbol, 1400, base + 3)) == []


async def test_a_new_alert_fires_at_the_next_tick_and_a_cancelled_one_does_not(
    services: Services,
) -> None:
    redis = services.require_redis()
    club, (owner, _) = await club_with_members(2, currency="USD")
    club_id = str(club.id)
    engine = AlertEngine()
    symbol = "RT19D"
    seq = now_us()
    assert await engine.do_apply_tick(tick(symbol, 900, seq)) == 0
    loads = engine.loads

    alert = await alert_service.do_create(club_id, owner, AlertCreate.model_validate(
        {"symbol": symbol, "kind": "above", "price": "10.00", "rearm": True}), redis)  # fmt: skip
    assert await engine.do_apply_tick(tick(symbol, 950, seq + 1)) == 0  # below: learns its side
    assert engine.loads == loads + 1
    for i in range(2, 12):  # below, nothing moves: neither read nor written per tick
        assert await engine.do_apply_tick(tick(symbol, 950 + i, seq + i)) == 0
    assert await engine.do_apply_ticks([tick(symbol, 960, seq + 12 + i) for i in range(5)]) == 0
    assert engine.loads == loads + 1
    stored = await PriceAlert.get(alert.id)
    assert stored is not None and stored.side == "below" and stored.last_seq == seq + 1

    # A batch: crosses (fires), the same tick re-delivered (nothing), still above (nothing).
    crossing = tick(symbol, 1001, seq + 20)
    assert await engine.do_apply_ticks([crossing, crossing, tick(symbol, 1010, seq + 21)]) == 1
    firings = await AlertFiring.find({"alert_id": str(alert.id)}).to_list()
    assert [(f.price, f.tick_seq) for f in firings] == [(1001, seq + 20)]
    logged = await eventlog.since(club_room(club_id), 0, 100)
    assert [e.data["alert_id"] for e in logged if e.event == "alert:triggered"] == [str(alert.id)]

    # Back below, then cancelled: the next crossing fires nothing.
    assert await engine.do_apply_tick(tick(symbol, 900, seq + 22)) == 0
    await alert_service.do_cancel(club_id, str(alert.id), owner)
    assert await engine.do_apply_tick(tick(symbol, 1100, seq + 23)) == 0
    assert await AlertFiring.find({"alert_id": str(alert.id)}).count() == 1


async def test_a_modified_order_fills_on_its_new_terms_only(services: Services) -> None:
    redis = services.require_redis()
    broker, matcher = PaperEngine(COSTS, redis), PaperEngine(COSTS, redis)
    symbol = "RT19A"
    order_id = new_id("modify")
    await broker.on_command(command(order_id, symbol, kind="limit", limit=1000))
    seq = now_us() + 1
    assert await matcher.on_tick(tick(symbol, 1050, seq)) == []  # above the limit
    await broker.on_command(command(order_id, symbol, action="modify", kind="limit", limit=1100))
    [fill] = await matcher.on_tick(tick(symbol, 1080, seq + 1))  # under the new limit
    assert (fill.fill_price, fill.fill_quantity) == (1080, 5)

    # The terms changed with no token written (lost with Redis): the copy's guard fails and
    # the order is looked at as stored, so it never fills on its old terms.
    lowered = new_id("lowered")
    await broker.on_command(command(lowered, symbol, kind="limit", limit=1000))
    assert await matcher.on_tick(tick(symbol, 1050, now_us() + 1)) == []
    await PaperOrder.find_one({"order_id": lowered}).update({"$set": {"limit_price": 900}})
    assert await matcher.on_tick(tick(symbol, 950, now_us() + 1)) == []  # 950 > 900
    stored = await PaperOrder.find_one({"order_id": lowered})
    assert stored is not None and stored.open and stored.filled == 0
    [fill] = await matcher.on_tick(tick(symbol, 890, now_us() + 1))
    assert fill.fill_price == 890

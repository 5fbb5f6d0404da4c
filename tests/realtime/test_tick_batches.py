"""The worker's one tick agent (issue #19, agents/market.py) takes the ticks a batch at a time and
hands each batch to each engine in turn — quotes (one Redis step for the batch), price alerts,
the paper broker. A batch holds several symbols interleaved and, when Kafka re-delivers, ticks
seen already: each engine must decide every tick as if it had come alone, in order per symbol,
and one engine failing on a batch must not keep it from the others.

Real MongoDB and Redis, in process, with the agent's own batch handler
(``handle_tick_batch``); the live worker's path is covered by tests/market/test_live_quotes.py,
tests/realtime/test_live_alerts.py and tests/orders/test_live_order.py."""

from __future__ import annotations

import time
import uuid

import pytest
from bson import ObjectId

from agents.market import handle_tick_batch, quote_ticks
from app.alerts.documents import AlertFiring
from app.alerts.schemas import AlertCreate
from app.alerts.service import AlertEngine, alert_service
from app.extensions import Services
from app.market import repository
from app.market.service import market_service
from app.orders.broker import BrokerCosts, PaperEngine
from app.orders.documents import PaperOrder
from streams.records import BrokerUpdateV1, MarketTickV1, OrderCommandV1
from tests.clubs.factories import club_with_members

COSTS = BrokerCosts(slippage_bps=0, volume_share_bps=1_000, tick_notional_cap=1_000_000,
                    fee_bps=10, fee_min=100)  # fmt: skip
ALERTED, FILLED = "RT19G", "RT19H"  # these tests' own instruments


@pytest.fixture(autouse=True)
async def own_instruments(services: Services) -> None:
    await repository.upsert_instruments([
        {"symbol": s, "name": f"Batch test {s}", "currency": "USD", "is_index": False,
         "source": "test", "first_date": "2012-06-01", "last_date": "2012-06-01"}
        for s in (ALERTED, FILLED)
    ])  # fmt: skip


def now_us() -> int:
    return time.time_ns() // 1000


def tick(symbol: str, price: int, seq: int) -> MarketTickV1:
    return MarketTickV1(id=f"{symbol}:{seq}", seq=seq, ts="2012-06-12T14:00:00Z", symbol=symbol,
                        price=price, open=price, high=price, low=price, prev_close=price,
                        volume=None, currency="USD", trade_date="2012-06-12",
                        source="test")  # fmt: skip


async def test_a_batch_stores_each_new_quote_in_order_and_drops_what_was_seen(
    services: Services,
) -> None:
    a, b = (f"Q{uuid.uuid4().hex[:6].upper()}" for _ in range(2))  # no other test ticks them
    watcher = str(ObjectId())
    await market_service.do_sync_club_symbols(watcher, {a}, "watchlist")
    seq = now_us()
    batch = [
        tick(a, 1000, seq), tick(b, 2000, seq + 1), tick(a, 1001, seq + 2),
        tick(a, 1, seq),  # a re-delivered tick of a, after a newer one
        tick(b, 2, seq - 5),  # an older tick of b
        tick(b, 2002, seq + 3), tick(a, 1, seq + 2),  # the newest of a, re-delivered
    ]  # fmt: skip
    answers = await market_service.do_record_ticks(batch)
    assert answers == [[watcher], [], [watcher], None, None, [], None]
    quotes = await market_service.latest_quotes(services.require_redis(), [a, b])
    assert [(q.symbol, q.price) for q in quotes] == [(a, "10.01"), (b, "20.02")]
    # The whole batch again (Kafka re-delivers it after a restart): nothing is stored or sent.
    assert await market_service.do_record_ticks(batch) == [None] * len(batch)
    # The agent's quote step does the same.
    await market_service.do_sync_club_symbols(watcher, set(), "watchlist")
    await quote_ticks([tick(a, 1002, seq + 4), tick(b, 2003, seq + 5)])
    quotes = await market_service.latest_quotes(services.require_redis(), [a, b])
    assert [q.price for q in quotes] == ["10.02", "20.03"]


async def test_each_engine_gets_every_tick_of_a_batch_once_in_order_even_if_one_fails(
    services: Services,
) -> None:
    redis = services.require_redis()
    club, (owner, _) = await club_with_members(2, currency="USD")
    club_id = str(club.id)
    alert = await alert_service.do_create(club_id, owner, AlertCreate.model_validate(
        {"symbol": ALERTED, "kind": "above", "price": "10.00", "rearm": True}), redis)  # fmt: skip
    broker = PaperEngine(COSTS, redis)
    order_id = f"batch-{uuid.uuid4().hex[:10]}"
    await broker.on_command(OrderCommandV1(
        id=f"{order_id}:submit", action="submit", order_id=order_id, club_id=club_id,
        side="buy", kind="limit", symbol=FILLED, quantity=4, limit_price=1500, currency="USD",
        reserved=10**9, issued_at="2012-06-12T14:00:00Z"))  # fmt: skip

    alerts, matcher = AlertEngine(), PaperEngine(COSTS, redis)
    updates: list[BrokerUpdateV1] = []
    seen: list[list[str]] = []

    async def paper(batch: list[MarketTickV1]) -> None:
        updates.extend(await matcher.on_ticks(batch))

    async def failing(batch: list[MarketTickV1]) -> None:
        seen.append([t.id for t in batch])
        raise RuntimeError("an engine failing on this batch")

    fired: list[int] = []

    async def alerting(batch: list[MarketTickV1]) -> None:
        fired.append(await alerts.do_apply_ticks(batch))

    steps = [("quotes", quote_ticks), ("failing", failing), ("alerts", alerting), ("paper", paper)]
    seq = now_us() + 1
    crossing, fill = tick(ALERTED, 1001, seq + 2), tick(FILLED, 1490, seq + 3)
    await handle_tick_batch([
        tick(ALERTED, 900, seq), tick(FILLED, 1600, seq + 1),  # below; above the limit
        crossing, fill,  # the alert fires, the order fills
        crossing, fill,  # both re-delivered inside the batch
        tick(ALERTED, 1010, seq + 4), tick(FILLED, 1400, seq + 5),  # still above; filled
    ], steps)  # fmt: skip
    assert len(seen) == 1 and len(seen[0]) == 8  # the failing step had the batch, then the rest
    assert fired == [1]

    firings = await AlertFiring.find({"alert_id": str(alert.id)}).to_list()
    assert [(f.price, f.tick_seq) for f in firings] == [(1001, crossing.seq)]
    # The fill is made once; its re-delivered tick sends it again under the same id (the
    # reconciler applies an update id once).
    fill_id = f"{order_id}:fill:{fill.seq}"
    assert [(u.status, u.fill_id) for u in updates] == [("filled", fill_id)] * 2
    stored = await PaperOrder.find_one({"order_id": order_id})
    assert stored is not None and stored.filled == 4 and len(stored.fills) == 1
    assert stored.fills[0].price == 1490
    quotes = await market_service.latest_quotes(redis, [ALERTED, FILLED])
    assert [q.price for q in quotes] == ["10.10", "14.00"]

    # The same batch re-delivered whole (a restart): nothing fires, the fill is re-sent only.
    updates.clear()
    await handle_tick_batch([tick(ALERTED, 900, seq), crossing, fill], steps)
    assert fired == [1, 0]
    assert await AlertFiring.find({"alert_id": str(alert.id)}).count() == 1
    assert [u.fill_id for u in updates] == [fill_id]

"""A real broker's own charges on each fill (issue #21), with hand-worked figures: Zerodha's
published equity-delivery rates on a Kite trade (STT, exchange, SEBI, stamp duty, GST; no
brokerage) and Alpaca's regulatory fees on a sale (SEC fee, FINRA TAF). The adapters report
them by name; the reconciler keeps them on the fill (the fill's currency, minor units), books
their sum as the fill's fee (trading costs in the ledger) and the order's detail shows them. A
buy through a linked broker sets aside its charges when they exceed the club's fee schedule.
In process against the real MongoDB and Redis (tests/orders/test_reconcile.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.books.service import books_service
from app.brokers.alpaca import fill_update
from app.brokers.kite import kite_updates
from app.extensions import Services
from app.ledger.service import ledger_service
from app.orders.broker import BrokerCosts, PaperEngine
from app.orders.charges import alpaca_charges, kite_charges
from app.orders.documents import OrderKind, OrderSide, OrderStatus
from app.orders.schemas import FillOut, OrderCreate
from app.orders.service import order_service
from tests.clubs.factories import club_with_members, paid_contribution
from tests.orders.test_reconcile import COSTS, LocalBroker

NSE = "HDFCBANK"  # synthetic INR series (app/market/dataset.py)
US = "BAC"  # no in-process test ticks it: the paper book's leftovers never fill


def test_zerodha_delivery_charges_by_hand() -> None:
    # Buy ₹15,000.00: STT 0.1 % = ₹15 (to the rupee); NSE 0.00297 % = 44.55 paise → 45;
    # SEBI ₹10/crore = 1.5 paise → 2 (half-even); stamp 0.015 % = ₹2.25; GST 18 % of
    # (0 + 45 + 2) = 8.46 paise → 8. ₹17.80 in all.
    buy = kite_charges("buy", 1_500_000)
    assert buy == {"brokerage": 0, "stt": 1_500, "exchange": 45, "sebi": 2,
                   "stamp_duty": 225, "gst": 8}  # fmt: skip
    assert sum(buy.values()) == 1_780
    # Sell ₹16,000.00: STT ₹16; NSE 47.52 → 48 paise; SEBI 1.6 → 2; no stamp duty; GST 18 %
    # of 50 = 9 paise. ₹16.59.
    sell = kite_charges("sell", 1_600_000)
    assert sell == {"brokerage": 0, "stt": 1_600, "exchange": 48, "sebi": 2,
                    "stamp_duty": 0, "gst": 9}  # fmt: skip
    # BSE's rate: ₹15,000.00 × 0.00375 % = 56.25 paise → 56; GST 18 % of 58 = 10.44 → 10
    assert kite_charges("buy", 1_500_000, "BSE")["exchange"] == 56
    assert kite_charges("buy", 1_500_000, "BSE")["gst"] == 10
    # STT to the rupee: ₹1,234.56 × 0.1 % = ₹1.23456 → ₹1
    assert kite_charges("sell", 123_456)["stt"] == 100


def test_alpaca_regulatory_fees_by_hand() -> None:
    # Sell 100 at $150.00 = $15,000.00: SEC $27.80/million = $0.417 → $0.42 (up);
    # FINRA TAF 100 × $0.000166 = $0.0166 → $0.02 (up).
    assert alpaca_charges("sell", 100, 1_500_000) == {"sec_fee": 42, "finra_taf": 2}
    # Sell 60,000 at $10.00: SEC exactly $16.68; TAF $9.96 capped at $8.30.
    assert alpaca_charges("sell", 60_000, 60_000_000) == {"sec_fee": 1_668, "finra_taf": 830}
    assert alpaca_charges("buy", 100, 1_500_000) == {}


class KiteNamed(LocalBroker):
    """The paper engine answering under Kite's name: what a club sets aside follows Kite's
    charges; the fills below are Kite's own shapes (its order state and trades)."""

    name = "kite"


def kite_trade(trade_id: str, quantity: int, price: float, side: str,
               order_id: str = "K1") -> dict[str, Any]:  # fmt: skip
    return {"trade_id": trade_id, "order_id": order_id, "quantity": quantity,
            "average_price": price,
            "exchange": "NSE", "transaction_type": side.upper(),
            "fill_timestamp": "2012-06-12 10:00:00"}  # fmt: skip


async def test_kite_charges_are_kept_on_the_fill_booked_and_shown(services: Services) -> None:
    club, (owner,) = await club_with_members(1, currency="INR")
    club_id = str(club.id)
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, owner, 10_000_000, today)  # ₹1,00,000.00
    await books_service.do_record_valuation(club_id, owner, valuation_date=today, prices={})
    broker = KiteNamed(PaperEngine(COSTS, services.require_redis()))
    redis = services.require_redis()
    buy = await order_service.do_create(club_id, owner, OrderCreate(
        side=OrderSide.BUY, kind=OrderKind.LIMIT, symbol=NSE, quantity=10,
        limit_price="1500.00"))  # fmt: skip
    sent = await order_service.do_submit(club_id, str(buy.id), owner, redis, broker)
    # set aside: ₹15,000.00 + Kite's ₹17.80 (more than the fee schedule's 10 bps = ₹15.00)
    assert sent.reserved == 1_500_000 + 1_780
    settings_costs = BrokerCosts(5, 1_000, 10_000_000, 10, 100)
    state = {"status": "COMPLETE", "order_id": "K1"}
    updates = kite_updates(sent, state, [kite_trade("T1", 10, 1500.0, "buy")], settings_costs)
    for update in updates:
        await order_service.do_apply_broker_update(update)
    order, fills = await order_service.get(club_id, str(buy.id), owner)
    assert (order.status, order.fees) == (OrderStatus.FILLED, 1_780)
    [fill] = fills
    assert fill.fee == 1_780 and fill.charges["stt"] == 1_500
    shown = FillOut.of(fill)
    assert [(c.name, c.amount) for c in shown.charges] == [
        ("brokerage", "0.00"), ("stt", "15.00"), ("exchange", "0.45"), ("sebi", "0.02"),
        ("stamp_duty", "2.25"), ("gst", "0.08")]  # fmt: skip
    balances = await ledger_service.balances(club_id)
    assert balances["expenses:trading_costs"] == 1_780
    assert balances["assets:cash"] == 10_000_000 - 1_500_000 - 1_780

    sell = await order_service.do_create(club_id, owner, OrderCreate(
        side=OrderSide.SELL, kind=OrderKind.LIMIT, symbol=NSE, quantity=10,
        limit_price="1600.00"))  # fmt: skip
    sent = await order_service.do_submit(club_id, str(sell.id), owner, redis, broker)
    # The exchange numbers trades per day: another order's trade may carry the same number.
    trade = kite_trade("T1", 10, 1600.0, "sell", order_id="K2")
    updates = kite_updates(sent, {**state, "order_id": "K2"}, [trade], settings_costs)
    # A report whose charges do not add up to its fee is not booked.
    bad = kite_updates(sent, state, [trade], settings_costs)[-1]
    bad.fee += 1
    assert (await order_service.do_apply_broker_update(bad)).order is None
    for update in updates:
        await order_service.do_apply_broker_update(update)
    order, [fill] = await order_service.get(club_id, str(sell.id), owner)
    assert (order.status, fill.fee) == (OrderStatus.FILLED, 1_659)
    balances = await ledger_service.balances(club_id)
    assert balances["expenses:trading_costs"] == 1_780 + 1_659
    # ₹1,00,000 − 15,017.80 + 16,000 − 16.59
    assert balances["assets:cash"] == 10_000_000 - 1_501_780 + 1_600_000 - 1_659


async def test_alpaca_fees_on_a_sale_only(services: Services) -> None:
    club, (owner,) = await club_with_members(1, currency="USD")
    club_id = str(club.id)
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, owner, 2_000_000, today)  # $20,000.00
    await books_service.do_record_valuation(club_id, owner, valuation_date=today, prices={})
    broker = LocalBroker(PaperEngine(COSTS, services.require_redis()))
    redis = services.require_redis()
    costs = BrokerCosts(5, 1_000, 10_000_000, 10, 100)
    ids = {}
    for side, price in (("buy", "150.00"), ("sell", "150.00")):
        made = await order_service.do_create(club_id, owner, OrderCreate(
            side=OrderSide(side), kind=OrderKind.LIMIT, symbol=US, quantity=100,
            limit_price=price))  # fmt: skip
        sent = await order_service.do_submit(club_id, str(made.id), owner, redis, broker)
        update = fill_update(sent, f"E-{side}", "100", "150.00", "2012-06-12T14:30:00Z", 100,
                             costs)  # fmt: skip
        await order_service.do_apply_broker_update(update)
        ids[side] = str(made.id)
    _, [bought] = await order_service.get(club_id, ids["buy"], owner)
    _, [sold] = await order_service.get(club_id, ids["sell"], owner)
    assert (bought.fee, bought.charges) == (0, {})
    assert (sold.fee, sold.charges) == (44, {"sec_fee": 42, "finra_taf": 2})
    balances = await ledger_service.balances(club_id)
    assert balances["expenses:trading_costs"] == 44

"""The issue's acceptance test: clubs with the same money approve the same investment; an
INR club trades an NSE instrument through a Kite account and a USD club a US stock through an
Alpaca account, both linked to the sandbox, each beside a club of its currency trading with
the paper broker. On the same replayed ticks, with the sandbox losing one update and sending
every other one twice, the poll recovers the lost one and each fill is booked once: each
broker's club equals its paper-broker twin to the minor unit (portfolio and ledger) but for
the fees — the paper broker's fee schedule against the broker's own charges (Zerodha's
published rates; Alpaca charges nothing on a buy), which the broker's fill records by name.
INFY's INR prices are synthetic (app/market/dataset.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.config import Settings
from app.ledger.service import ledger_service
from app.money import parse_minor
from app.orders.charges import kite_charges
from app.orders.documents import Fill
from streams.producer import EventProducer
from tests.brokers.conftest import BrokerSandbox, eventually
from tests.brokers.flows import (
    approved_order,
    funded_club,
    link_alpaca,
    link_kite,
    order_of,
    replay,
    submit,
)
from tests.identity.conftest import Api

SYMBOL = "MRK"  # a skfolio series no other test replays
DAY_BEFORE, TRADE_DAY = dt.date(2011, 3, 14), dt.date(2011, 3, 15)
NSE_SYMBOL = "INFY"  # synthetic INR series no other test replays
NSE_DAY_BEFORE, NSE_TRADE_DAY = dt.date(2012, 6, 14), dt.date(2012, 6, 15)
INR_FUNDS = (6_000_000, 4_000_000)  # ₹60,000 and ₹40,000 in paise
# club → (currency, symbol, amount to invest, the broker its club is compared with)
PLAN = {
    "paper-usd": ("USD", SYMBOL, "5000.00", "paper-usd"),
    "alpaca": ("USD", SYMBOL, "5000.00", "paper-usd"),
    "paper-inr": ("INR", NSE_SYMBOL, "50000.00", "paper-inr"),
    "kite": ("INR", NSE_SYMBOL, "50000.00", "paper-inr"),
}


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[EventProducer]:
    events = EventProducer(settings.kafka_bootstrap_servers, client_id="samooh-test-brokers")
    await events.start()
    yield events
    await events.stop()


async def test_kite_and_alpaca_clubs_end_equal_to_the_paper_broker_club(
    http: Api, sandbox: BrokerSandbox, producer: EventProducer
) -> None:
    clubs: dict[str, Any] = {}
    for name, (currency, _, _, _) in PLAN.items():
        funds = INR_FUNDS if currency == "INR" else (600_000, 400_000)
        clubs[name] = await funded_club(funds, currency=currency)
    kite_club, kite_owner, _ = clubs["kite"]
    alpaca_club, alpaca_owner, _ = clubs["alpaca"]
    await link_kite(http, sandbox, str(kite_club.id), kite_owner)
    await link_alpaca(http, sandbox, str(alpaca_club.id), alpaca_owner)

    before = {
        SYMBOL: await replay(producer, SYMBOL, DAY_BEFORE),
        NSE_SYMBOL: await replay(producer, NSE_SYMBOL, NSE_DAY_BEFORE),
    }
    _, viewer, _ = clubs["paper-usd"]

    async def quoted() -> bool:
        for symbol, day in ((SYMBOL, DAY_BEFORE), (NSE_SYMBOL, NSE_DAY_BEFORE)):
            got = await http.call("GET", f"/api/v1/market/quotes/{symbol}", token=viewer.token)
            if got.status != 200 or got.body["trade_date"] != day.isoformat():
                return False
        return True

    assert await eventually(quoted)

    orders: dict[str, str] = {}
    for name, (club, owner, member) in clubs.items():
        _, symbol, amount, _ = PLAN[name]
        orders[name] = await approved_order(http, str(club.id), owner, member, symbol, amount)
        sent = await submit(http, str(club.id), orders[name], owner)
        assert sent.status == 202, sent.body
        assert sent.body["quantity"] == int(amount.replace(".", "")) // before[symbol][-1]
        broker = name.split("-")[0]
        assert sent.body["broker"] == broker
        assert (sent.body["broker_order_id"] is None) == (broker == "paper")

    async def all_in(status: str) -> bool:
        for name, (club, owner, _) in clubs.items():
            got = await order_of(http, str(club.id), orders[name], owner)
            if got["order"]["status"] != status:
                return False
        return True

    assert await eventually(lambda: all_in("accepted"))

    # The sandbox now loses the next update and sends every other one twice.
    await sandbox.control(drop=1, duplicate=True)
    await replay(producer, SYMBOL, TRADE_DAY)
    await replay(producer, NSE_SYMBOL, NSE_TRADE_DAY)

    assert await eventually(lambda: all_in("filled"), timeout=30)
    state = await sandbox.control()
    delivered = [d for d in state["delivered"] if not d["dropped"]]
    dropped = [d for d in state["delivered"] if d["dropped"]]
    assert len(dropped) == 1  # one fill update lost: recovered by the poll
    fill_reports = [
        d
        for d in delivered
        if d["payload"].get("event") in ("fill", "partial_fill")
        or d["payload"].get("status") == "COMPLETE"
    ]
    assert len(fill_reports) == 2  # the other one arrived twice

    # Each execution booked once; each broker's club equal to its paper twin.
    portfolios, balances, fees, executed = {}, {}, {}, {}
    for name, (club, owner, _) in clubs.items():
        fills = await Fill.find({"order_id": orders[name]}).to_list()
        assert len(fills) == 1, (name, fills)
        [fill] = fills
        fees[name], executed[name] = fill.fee, (fill.quantity, fill.price, fill.trade_date)
        if name == "kite":  # Zerodha's delivery charges on the buy, by name
            assert fill.charges == kite_charges("buy", fill.quantity * fill.price)
            assert fill.fee == sum(fill.charges.values()) > 0
        elif name == "alpaca":  # no commission, and regulators' fees only on sales
            assert (fill.fee, fill.charges) == (0, {})
        else:
            assert fill.charges == {} and fill.fee > 0
        got = await http.call("GET", f"/api/v1/clubs/{club.id}/portfolio", token=owner.token)
        assert got.status == 200, got.body
        body = got.body
        portfolios[name] = (
            body["cash"],
            body["nav"],
            body["unit_value"],
            body["units"],
            [
                (p["symbol"], p["quantity"], p["cost"], p["average_price"])
                for p in body["positions"]
            ],
        )
        trial = await ledger_service.trial_balance(str(club.id))
        assert sum(row.balance for row in trial) == 0
        # Members' capital accounts are named by member: compared as the list of amounts.
        capital = "equity:capital:"
        balances[name] = {r.account: r.balance for r in trial if not r.account.startswith(capital)}
        balances[name]["capital"] = sorted(
            r.balance for r in trial if r.account.startswith(capital)
        )
    for name, (_, symbol, amount, twin) in PLAN.items():
        assert executed[name] == executed[twin], name
        fee, twin_fee = fees[name], fees[twin]
        cash, nav, _, units, positions = portfolios[name]
        twin_cash, twin_nav, _, twin_units, twin_positions = portfolios[twin]
        assert (units, positions) == (twin_units, twin_positions), name
        assert parse_minor(cash) + fee == parse_minor(twin_cash) + twin_fee, name
        assert parse_minor(nav) + fee == parse_minor(twin_nav) + twin_fee, name
        ours, theirs = dict(balances[name]), dict(balances[twin])
        assert ours.pop("assets:cash") + fee == theirs.pop("assets:cash") + twin_fee, name
        assert ours.pop("expenses:trading_costs", 0) == fee, name
        assert theirs.pop("expenses:trading_costs", 0) == twin_fee, name
        assert ours == theirs, name
        held = portfolios[name][4][0]
        assert held[0] == symbol and held[1] == int(amount.replace(".", "")) // before[symbol][-1]

    # The broker's order id is stored and shown; Kite was sent NSE:INFY.
    for broker in ("kite", "alpaca"):
        club, owner, _ = clubs[broker]
        got = await order_of(http, str(club.id), orders[broker], owner)
        assert got["order"]["broker_order_id"] and got["order"]["broker"] == broker
        assert [f["fill_id"].split(":")[0] for f in got["fills"]] == [broker]
    kite_reports = [d["payload"] for d in delivered if d["target"].startswith("kite:")]
    assert kite_reports and {(p["exchange"], p["tradingsymbol"]) for p in kite_reports} == {
        ("NSE", NSE_SYMBOL)
    }

"""Issue #14, multi-currency clubs: a rupee club holds US stocks. Every money moment converts
at the ECB reference rate of its date (app/fx.py, rates × 10^8 half-even; each amount converted
once, half-even) — an outside trade, a valuation, an order's hold (with the FX margin) and a
broker fill — and the books stay in rupees with a zero trial balance. The expected figures are
worked by hand from the ECB's published euro rates of each day."""

from __future__ import annotations

import datetime as dt
import time
from fractions import Fraction

import pytest
from pymongo.asynchronous.client_session import AsyncClientSession

from app.books.errors import InsufficientCash, NotTradable
from app.books.service import books_service
from app.config import get_settings
from app.db import run_in_transaction
from app.extensions import Services
from app.fx import FxRateUnavailable
from app.ledger import accounts
from app.ledger.service import ledger_service
from app.market.repository import QuoteCache
from app.market.schemas import QuoteTick
from app.market.service import UnknownSymbols
from app.orders.broker import BrokerCosts, PaperEngine
from app.orders.documents import Fill, Order, OrderSide
from app.orders.schemas import OrderCreate
from app.orders.service import order_service
from app.realtime import eventlog
from app.realtime.rooms import club_room
from streams.records import BrokerUpdateV1, MarketTickV1, OrderCommandV1
from tests.clubs.factories import club_with_members, paid_contribution

pytestmark = pytest.mark.usefixtures("services")

D1, D2 = dt.date(2026, 3, 2), dt.date(2026, 3, 9)
# The ECB's published euro rates (eurofxref-hist) of those days.
EUR = {D1: (Fraction("1.1698"), Fraction("107.317")), D2: (Fraction("1.1555"), Fraction("106.65")),
       dt.date(2012, 6, 12): (Fraction("1.2492"), Fraction("69.712"))}  # fmt: skip


def usd_inr_e8(day: dt.date) -> int:
    """Rupees per dollar × 10^8 on ``day``, half-even: the cross rate through the euro."""
    usd, inr = EUR[day]
    return round(inr / usd * 10**8)


def to_paise(cents: int, rate_e8: int) -> int:
    """Cents → paise at ``rate_e8``, rounded half-even once."""
    return round(Fraction(cents * rate_e8, 10**8))


async def test_an_inr_club_buys_values_and_sells_a_usd_stock_exact_to_the_paisa() -> None:
    club, (owner, member) = await club_with_members(2)
    club_id = str(club.id)
    assert club.currency == "INR"
    await paid_contribution(club, owner, 6_000_000, D1 - dt.timedelta(days=3))  # ₹60,000
    await paid_contribution(club, member, 4_000_000, D1 - dt.timedelta(days=3))  # ₹40,000
    await books_service.do_record_valuation(club_id, owner, valuation_date=D1, prices={})

    # Bought outside: 10 HD at $30.00 with $1.00 of costs, booked at the rate of D1.
    r1 = usd_inr_e8(D1)
    holding = await books_service.do_record_trade(
        club_id, owner, side="buy", symbol="hd", quantity=10, price=3_000, fees=100,
        trade_date=D1, key="buy-hd",
    )  # fmt: skip
    gross, fees = to_paise(30_000, r1), to_paise(100, r1)
    assert (holding.currency, holding.cost, holding.cost_foreign) == ("USD", gross, 30_000)
    books = await books_service.books(club_id)
    assert books.cash == 10_000_000 - gross - fees
    entry = await ledger_service.find_entry(f"trade:{club_id}:{owner}:buy-hd")
    assert entry is not None and entry.fx is not None
    assert (entry.fx.currency, entry.fx.amount, entry.fx.fees, entry.fx.rate_e8,
            entry.fx.rate_date) == ("USD", 30_000, 100, r1, D1.isoformat())  # fmt: skip
    assert {line.account: line.amount for line in entry.lines} == {
        accounts.INVESTMENTS: gross, accounts.TRADING_COSTS: fees,
        accounts.CASH: -(gross + fees)}  # fmt: skip

    # Valued a week later at $32.00 a share: the holding at the rate of that day.
    r2 = usd_inr_e8(D2)
    preview = await books_service.do_record_valuation(
        club_id, owner, valuation_date=D2, prices={"HD": 3_200}, preview=True
    )
    [position] = preview.positions
    market = to_paise(32_000, r2)
    assert (position.currency, position.price, position.foreign_value, position.rate_e8,
            position.rate_date, position.market_value) == (
        "USD", 3_200, 32_000, r2, D2.isoformat(), market)  # fmt: skip
    valuation = await books_service.do_record_valuation(
        club_id, owner, valuation_date=D2, prices={"HD": 3_200}
    )
    assert valuation.nav == books.cash + market
    assert sum((await ledger_service.balances(club_id)).values()) == 0

    # A sale of 4 at $33.00 ($0.50 costs) realises the gain in rupees against average cost,
    # the rupee's move included.
    await books_service.do_record_trade(
        club_id, owner, side="sell", symbol="HD", quantity=4, price=3_300, fees=50,
        trade_date=D2, key="sell-hd",
    )  # fmt: skip
    after = await books_service.holding(club_id, "HD")
    assert after is not None
    cost_out = round(Fraction(gross * 4, 10))
    assert after.realised == to_paise(13_200, r2) - cost_out
    assert (after.quantity, after.cost, after.cost_foreign) == (6, gross - cost_out, 18_000)
    balances = await ledger_service.balances(club_id)
    assert sum(balances.values()) == 0
    assert balances[accounts.CASH] == books.cash + to_paise(13_200, r2) - to_paise(50, r2)


async def test_an_outside_trade_needs_a_real_tradable_symbol_with_a_rate() -> None:
    club, (owner,) = await club_with_members(1)
    club_id = str(club.id)
    await paid_contribution(club, owner, 1_000_000, D1)
    common = {"side": "buy", "quantity": 1, "price": 1_00, "fees": 0, "trade_date": D1}
    with pytest.raises(UnknownSymbols):
        await books_service.do_record_trade(club_id, owner, symbol="NOPE", key="a", **common)  # type: ignore[arg-type]
    with pytest.raises(NotTradable):
        await books_service.do_record_trade(club_id, owner, symbol="SP500", key="b", **common)  # type: ignore[arg-type]
    # A day long before the ECB published rupee rates has no rate: refused, nothing booked.
    with pytest.raises(FxRateUnavailable):
        await books_service.do_record_trade(club_id, owner, symbol="HD", key="c",
                                            **{**common, "trade_date": dt.date(1995, 1, 2)})  # type: ignore[arg-type]  # fmt: skip
    assert (await books_service.books(club_id)).cash == 1_000_000


COSTS = BrokerCosts(slippage_bps=0, volume_share_bps=1_000, tick_notional_cap=1_000_000,
                    fee_bps=10, fee_min=100)  # fmt: skip
REPLAY_DAY = dt.date(2012, 6, 12)


def tick(price: int, seq: int) -> MarketTickV1:
    return MarketTickV1(id=f"KO:{seq}", seq=seq, ts="2012-06-12T14:00:00Z", symbol="KO",
                        price=price, open=price, high=price, low=price, prev_close=price,
                        volume=None, currency="USD", trade_date=REPLAY_DAY.isoformat(),
                        source="test")  # fmt: skip


class LocalBroker:
    """The paper broker's engine called directly (no Kafka)."""

    name = "paper"

    def __init__(self, engine: PaperEngine) -> None:
        self.engine = engine
        self.updates: list[BrokerUpdateV1] = []

    async def send(self, command: OrderCommandV1) -> None:
        self.updates.extend(await self.engine.on_command(command))


async def test_a_foreign_buy_holds_rupees_with_the_margin_and_books_fills_at_their_rate(
    services: Services,
) -> None:
    club, (owner,) = await club_with_members(1)
    club_id = str(club.id)
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, owner, 5_000_000, today)  # ₹50,000
    await books_service.do_record_valuation(club_id, owner, valuation_date=today, prices={})
    redis = services.require_redis()
    seq = time.time_ns() // 1000
    await QuoteCache(redis).store_if_newer(QuoteTick.from_tick(tick(7000, seq)), seq)
    broker = LocalBroker(PaperEngine(COSTS, redis))

    order = await order_service.do_create(
        club_id, owner, OrderCreate(side=OrderSide.BUY, kind="limit", symbol="KO", quantity=5,
                                    limit_price="71.00"))  # type: ignore[arg-type]  # fmt: skip
    assert order.currency == "USD"
    submitted = await order_service.do_submit(club_id, str(order.id), owner, redis, broker)
    # Reserved in dollars: 5 × $71.00 + the $1.00 minimum fee; held in rupees at the replay
    # day's rate, half-even, plus the FX margin rounded up.
    rate = usd_inr_e8(REPLAY_DAY)
    reserved = 5 * 7100 + 100
    margin = 10_000 + get_settings().broker_fx_margin_bps
    held = -(-to_paise(reserved, rate) * margin // 10_000)
    assert (submitted.reserved, submitted.held, submitted.hold_rate_e8) == (reserved, held, rate)
    assert await books_service.held_cash(club_id) == held

    # A too large second order is refused on rupees: the hold already took its share.
    big = await order_service.do_create(
        club_id, owner, OrderCreate(side=OrderSide.BUY, kind="limit", symbol="KO",
                                    quantity=1_000, limit_price="71.00"))  # type: ignore[arg-type]  # fmt: skip
    with pytest.raises(InsufficientCash):
        await order_service.do_submit(club_id, str(big.id), owner, redis, broker)

    cash_before = (await books_service.books(club_id)).cash
    fills = await broker.engine.on_tick(tick(7000, time.time_ns() // 1000 + 1))
    assert [f.fill_quantity for f in fills] == [5]
    applied = await order_service.do_apply_broker_update(fills[0])
    assert applied.fill is not None
    cents, fee = 5 * 7000, fills[0].fee
    booked = to_paise(cents, rate) + to_paise(fee, rate)
    assert (applied.fill.booked, applied.fill.rate_e8) == (booked, rate)
    assert (await books_service.books(club_id)).cash == cash_before - booked
    assert await books_service.held_cash(club_id) == 0  # filled: the hold is closed
    stored = await Fill.find_one({"fill_id": fills[0].fill_id})
    assert stored is not None and stored.booked == booked
    entry = await ledger_service.find_entry(f"fill:{fills[0].fill_id}")
    assert entry is not None and entry.fx is not None
    assert (entry.fx.amount, entry.fx.fees, entry.fx.rate_e8) == (cents, fee, rate)
    assert sum((await ledger_service.balances(club_id)).values()) == 0
    # The replayed tick is of 2012; the order went to the broker today: booked today (the
    # cash was not the club's in 2012), at the rate of the price's day, the one held at.
    assert entry.effective_date == today.isoformat()
    assert (stored.trade_date, stored.reported_trade_date) == (today.isoformat(), "2012-06-12")


async def test_an_amount_in_rupees_buys_whole_dollar_shares_at_the_rate(
    services: Services,
) -> None:
    club, (owner,) = await club_with_members(1)
    club_id = str(club.id)
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, owner, 5_000_000, today)
    await books_service.do_record_valuation(club_id, owner, valuation_date=today, prices={})
    redis = services.require_redis()
    seq = time.time_ns() // 1000
    await QuoteCache(redis).store_if_newer(QuoteTick.from_tick(tick(7000, seq)), seq)
    await eventlog.ensure_room(club_room(club_id))

    async def voted(session: AsyncClientSession) -> Order:  # what an approved proposal opens
        return await order_service.do_open_for_proposal(
            session, club_id, f"proposal-{seq}", side=OrderSide.BUY, symbol="KO",
            quantity=None, amount=1_000_000, limit_price=7_100,
        )  # fmt: skip

    order = await run_in_transaction(voted)
    broker = LocalBroker(PaperEngine(COSTS, redis))
    sent = await order_service.do_submit(club_id, str(order.id), owner, redis, broker)
    # ₹10,000.00 at $71.00 a share and the replay day's rate: floor(amount × 10^8 ÷
    # (price × rate)) whole shares, exact integers.
    rate = usd_inr_e8(REPLAY_DAY)
    assert sent.quantity == 1_000_000 * 10**8 // (7_100 * rate)
    assert sent.currency == "USD" and sent.quantity and sent.quantity > 0

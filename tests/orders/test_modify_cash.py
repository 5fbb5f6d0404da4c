"""Changing an open buy order holds cash by the rule of placing it (issue #21): a larger
quantity or a higher limit needs the extra from the club's free cash, else 422
``change_exceeds_cash`` and nothing changes (order, hold, broker's book); an accepted change
moves the order's ``reserved``/``held`` and the books' hold together; two changes at once that
together exceed the cash: exactly one wins. In process against the real MongoDB and Redis,
with the paper broker's engine as the broker (tests/orders/test_reconcile.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from app.audit.documents import AuditRecord
from app.books.errors import InsufficientCash
from app.books.service import books_service
from app.clubs.documents import Club
from app.errors import ServiceUnavailable
from app.extensions import Services
from app.market.repository import QuoteCache
from app.market.schemas import QuoteTick
from app.orders.broker import BrokerRejected, BrokerUnavailable, PaperEngine
from app.orders.documents import Order, OrderKind, OrderSide, OrderStatus, PaperOrder
from app.orders.errors import ChangeExceedsCash, OrderStateError
from app.orders.schemas import OrderCreate, OrderModify
from app.orders.service import order_service
from streams.records import OrderCommandV1
from tests.clubs.factories import club_with_members, paid_contribution
from tests.orders.test_reconcile import COSTS, SYMBOL, LocalBroker, tick


async def funded(services: Services, currency: str, amount: int) -> tuple[Club, str, LocalBroker]:
    """A club of ``currency`` with ``amount`` minor units paid in and valued; PG quoted at
    $60.00 on 2012-06-12; the paper broker's engine in process."""
    club, (owner, _) = await club_with_members(2, currency=currency)
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, owner, amount, today)
    await books_service.do_record_valuation(str(club.id), owner, valuation_date=today, prices={})
    redis = services.require_redis()
    seq = time.time_ns() // 1000
    await QuoteCache(redis).store_if_newer(QuoteTick.from_tick(tick(6000, seq)), seq)
    return club, owner, LocalBroker(PaperEngine(COSTS, redis))


async def working_buy(
    services: Services, club: Club, owner: str, broker: LocalBroker, quantity: int, limit: str
) -> Order:
    """A limit buy submitted to the engine and accepted (the engine's answer reconciled)."""
    club_id = str(club.id)
    order = await order_service.do_create(club_id, owner, OrderCreate(
        side=OrderSide.BUY, kind=OrderKind.LIMIT, symbol=SYMBOL, quantity=quantity,
        limit_price=limit))  # fmt: skip
    await order_service.do_submit(club_id, str(order.id), owner, services.require_redis(), broker)
    accepted = [u for u in broker.updates if u.order_id == str(order.id)]
    assert [u.status for u in accepted] == ["accepted"]
    applied = await order_service.do_apply_broker_update(accepted[0])
    assert applied.order is not None and applied.order.status is OrderStatus.ACCEPTED
    return applied.order


async def book_of(order_id: str) -> PaperOrder:
    found = await PaperOrder.find_one({"order_id": order_id})
    assert found is not None
    return found


async def test_a_larger_buy_holds_the_extra_only_if_the_club_has_it(services: Services) -> None:
    club, owner, broker = await funded(services, "USD", 100_000)  # $1,000.00
    club_id = str(club.id)
    order = await working_buy(services, club, owner, broker, 5, "50.00")
    oid = str(order.id)
    # 5 × $50.00 + the $1.00 minimum fee (10 bps of $250.00 is $0.25)
    assert (order.reserved, order.held) == (25_100, 25_100)
    assert await books_service.held_cash(club_id) == 25_100

    # 20 shares: 20 × $50.00 + $1.00 = $1,001.00, $750.00 more; $1,000.00 − $251.00 = $749.00
    with pytest.raises(ChangeExceedsCash) as refused:
        await order_service.do_modify(club_id, oid, owner, OrderModify(quantity=20), broker)
    assert (refused.value.status, refused.value.code) == (422, "change_exceeds_cash")
    assert refused.value.details is not None
    assert (refused.value.details["available"], refused.value.details["needed"]) == (
        "749.00", "750.00")  # fmt: skip
    # A higher limit alone is the same rule: 5 × $210.00 + $1.05 = $1,051.05
    with pytest.raises(ChangeExceedsCash):
        await order_service.do_modify(
            club_id, oid, owner, OrderModify(limit_price="210.00"), broker
        )
    # Nothing changed: the order, its hold, the broker's book (no command reached it).
    same, _ = await order_service.get(club_id, oid, owner)
    assert (same.quantity, same.limit_price, same.reserved, same.held) == (5, 5000, 25_100, 25_100)
    assert same.modifying_at is None
    assert await books_service.held_cash(club_id) == 25_100
    book = await book_of(oid)
    assert (book.quantity, book.limit_price, book.reserved) == (5, 5000, 25_100)

    # 19 shares at $52.50: 19 × 52.50 = $997.50 + $1.00 (10 bps is $0.9975 → $1.00) = $998.50,
    # $747.50 more: it fits, and order, hold and the broker's book move together.
    grown = await order_service.do_modify(
        club_id, oid, owner, OrderModify(quantity=19, limit_price="52.50"), broker
    )
    assert (grown.quantity, grown.limit_price, grown.reserved, grown.held) == (
        19, 5250, 99_850, 99_850)  # fmt: skip
    assert grown.modifying_at is None
    assert await books_service.held_cash(club_id) == 99_850
    book = await book_of(oid)
    assert (book.quantity, book.limit_price, book.reserved) == (19, 5250, 99_850)
    audit = await AuditRecord.find({"target_id": oid, "action": "order.modified"}).to_list()
    assert [a.details["held"] for a in audit] == [{"before": 25_100, "after": 99_850}]

    # A second buy finds only $1.50 free: $1,000.00 − $998.50.
    second = await order_service.do_create(club_id, owner, OrderCreate(
        side=OrderSide.BUY, kind=OrderKind.LIMIT, symbol=SYMBOL, quantity=1,
        limit_price="1.00"))  # fmt: skip
    with pytest.raises(InsufficientCash):
        await order_service.do_submit(club_id, str(second.id), owner,
                                      services.require_redis(), broker)  # fmt: skip

    # Smaller again: 4 shares at $52.50 = $210.00 + $1.00; the rest is free at once.
    shrunk = await order_service.do_modify(club_id, oid, owner, OrderModify(quantity=4), broker)
    assert (shrunk.reserved, shrunk.held) == (21_100, 21_100)
    assert await books_service.held_cash(club_id) == 21_100
    assert (await book_of(oid)).reserved == 21_100

    # A fill, then a change: what filled counts at its own price and fee.
    base = time.time_ns() // 1000 + 1
    ticked = await broker.engine.on_tick(tick(5000, base))  # 2 shares fit the $100.00 cap
    [fill] = [u for u in ticked if u.order_id == oid]
    assert (fill.fill_quantity, fill.fill_price, fill.fee) == (2, 5000, 100)
    await order_service.do_apply_broker_update(fill)
    # 2 filled ($100.00 + $1.00 fee) + 8 more × $52.50 = $420.00 + $1.00 → $522.00 in all
    again = await order_service.do_modify(club_id, oid, owner, OrderModify(quantity=10), broker)
    assert (again.status, again.reserved, again.held) == (OrderStatus.PARTIALLY_FILLED,
                                                          52_200, 52_200)  # fmt: skip
    # the hold counts what the fill spent: $522.00 − $101.00 still set aside
    assert await books_service.held_cash(club_id) == 52_200 - 10_100


async def test_two_changes_at_once_that_together_exceed_the_cash_one_wins(
    services: Services,
) -> None:
    for _ in range(3):  # each round a fresh club; the winner may be either order
        club, owner, broker = await funded(services, "USD", 100_000)
        club_id = str(club.id)
        a = await working_buy(services, club, owner, broker, 5, "50.00")
        b = await working_buy(services, club, owner, broker, 5, "50.00")
        assert await books_service.held_cash(club_id) == 50_200  # $497.80 free
        # each to 12 shares: $601.00, $350.00 more each — one fits, both do not
        results = await asyncio.gather(
            *(order_service.do_modify(club_id, str(o.id), owner, OrderModify(quantity=12), broker)
              for o in (a, b)),
            return_exceptions=True,
        )  # fmt: skip
        won = [r for r in results if isinstance(r, Order)]
        lost = [r for r in results if isinstance(r, ChangeExceedsCash)]
        assert (len(won), len(lost)) == (1, 1), results
        assert await books_service.held_cash(club_id) == 60_100 + 25_100
        loser = b if won[0].id == a.id else a
        same, _ = await order_service.get(club_id, str(loser.id), owner)
        assert (same.quantity, same.reserved, same.held) == (5, 25_100, 25_100)
        assert same.modifying_at is None
        assert (await book_of(str(loser.id))).quantity == 5
        assert (await book_of(str(won[0].id))).quantity == 12


async def test_one_order_changed_twice_at_once_goes_through_one_change_at_a_time(
    services: Services,
) -> None:
    club, owner, broker = await funded(services, "USD", 100_000)
    club_id = str(club.id)
    order = await working_buy(services, club, owner, broker, 5, "50.00")
    results = await asyncio.gather(
        order_service.do_modify(club_id, str(order.id), owner, OrderModify(quantity=8), broker),
        order_service.do_modify(club_id, str(order.id), owner, OrderModify(quantity=9), broker),
        return_exceptions=True,
    )
    done = [r for r in results if isinstance(r, Order)]
    busy = [r for r in results if isinstance(r, OrderStateError)]
    assert len(done) + len(busy) == 2 and done, results
    final, _ = await order_service.get(club_id, str(order.id), owner)
    # whatever went last, the order, its hold and the broker's book agree
    expected = final.quantity * 5000 + 100  # (fee 10 bps of ≤ $450.00 is under $1.00)
    assert (final.reserved, final.held, final.modifying_at) == (expected, expected, None)
    assert await books_service.held_cash(club_id) == expected
    book = await book_of(str(order.id))
    assert (book.quantity, book.reserved) == (final.quantity, expected)


async def test_a_foreign_buy_holds_the_change_in_the_clubs_currency(services: Services) -> None:
    # A rupee club buying a dollar stock: the hold is the dollars converted at the order's own
    # hold rate (the quote day's ECB rate), half-even, plus the 3 % FX margin rounded up.
    club, owner, broker = await funded(services, "INR", 10_000_000)  # ₹100,000.00
    club_id = str(club.id)
    order = await working_buy(services, club, owner, broker, 5, "50.00")
    assert order.hold_rate_date is not None and order.hold_rate_e8 is not None
    rate = order.hold_rate_e8

    def held(reserved_cents: int) -> int:
        paise = (reserved_cents * rate * 2 + 10**8) // (2 * 10**8)  # half-up is half-even here
        return -(-paise * 10_300 // 10_000)

    assert order.held == held(25_100)
    # 30 shares: 30 × $50.00 + $1.50 fee = $1,501.50
    grown = await order_service.do_modify(club_id, str(order.id), owner, OrderModify(quantity=30),
                                          broker)  # fmt: skip
    assert (grown.reserved, grown.held) == (150_150, held(150_150))
    assert await books_service.held_cash(club_id) == held(150_150)
    # 2,000 shares would need about ₹57 lakh: refused, in rupees
    with pytest.raises(ChangeExceedsCash) as refused:
        await order_service.do_modify(club_id, str(order.id), owner,
                                      OrderModify(quantity=2_000), broker)  # fmt: skip
    assert refused.value.details is not None
    rupees = held(10_000_000 + 10_000)
    assert refused.value.details["held_after"] == f"{rupees // 100}.{rupees % 100:02d}"
    assert await books_service.held_cash(club_id) == held(150_150)


class Refusing(LocalBroker):
    """The engine, but the broker refuses (or cannot be reached for) every change."""

    def __init__(self, engine: PaperEngine, error: Exception) -> None:
        super().__init__(engine)
        self.error = error
        self.held_when_asked: int | None = None

    async def send(self, command: OrderCommandV1) -> None:
        if command.action == "modify":
            self.held_when_asked = await books_service.held_cash(command.club_id)
            raise self.error
        await super().send(command)


async def test_a_change_the_broker_refuses_gives_the_larger_hold_back(
    services: Services,
) -> None:
    club, owner, engine_broker = await funded(services, "USD", 100_000)
    club_id = str(club.id)
    for error, refused in ((BrokerRejected("price band"), OrderStateError),
                           (BrokerUnavailable("down"), ServiceUnavailable)):  # fmt: skip
        broker = Refusing(engine_broker.engine, error)
        order = await working_buy(services, club, owner, broker, 5, "50.00")
        oid = str(order.id)
        before = await books_service.held_cash(club_id)
        with pytest.raises(refused):
            await order_service.do_modify(
                club_id, oid, owner, OrderModify(quantity=15, limit_price="52.00"), broker
            )
        # while the broker was asked, the larger hold was taken: 15 × $52.00 + $1.00 = $781.00,
        # $530.00 more than the $251.00 held
        assert broker.held_when_asked == before + 53_000
        same, _ = await order_service.get(club_id, oid, owner)
        assert (same.quantity, same.limit_price, same.reserved, same.held) == (
            5, 5000, 25_100, 25_100)  # fmt: skip
        assert same.modifying_at is None
        assert await books_service.held_cash(club_id) == before
        # and the next change goes through at once (no change is left in progress)
        done = await order_service.do_modify(
            club_id, oid, owner, OrderModify(quantity=4), engine_broker
        )
        assert (done.quantity, done.reserved) == (4, 20_100)

"""What a new user's trial of robo-advice found (issue #17), each pinned on the real services:
a rebalance counts the orders already waiting; a run is a state machine (sales first, buys
re-sized to the cash the sales really brought, honest partial/failed, executed once, a stale
preview refused); a club's rebalance is one proposal with limit prices whose approved orders
its treasurer sends from the advice page; an empty account says there is no cash to invest."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from app.advisory import repository
from app.advisory.documents import AdvisoryAccount, RunStatus
from app.advisory.errors import (
    AlreadyExecuted,
    NoCashToInvest,
    RebalanceNotApproved,
    StaleRebalance,
)
from app.advisory.schemas import PolicyIn
from app.advisory.service import advisory_service
from app.books.service import books_service
from app.clubs.errors import RoleRequired
from app.config import get_settings
from app.extensions import Services
from app.orders.broker import Broker, BrokerCosts
from app.orders.documents import Order, OrderKind, OrderSide, OrderStatus
from app.orders.service import order_service
from app.proposals.documents import CloseReason, ProposalKind, ProposalStatus
from app.proposals.service import proposal_service
from app.proposals.tally import Choice
from streams.records import BrokerUpdateV1
from tests.advisory.factories import MODERATE, NullBroker, filled, funded_account, profiled
from tests.clubs.factories import club_with_members, paid_contribution

BROKER = NullBroker()


async def brokers(_club_id: str) -> Broker:
    return BROKER  # type: ignore[return-value]


async def report(order: Order, status: str, quantity: int = 0, price: int = 0) -> None:
    """The broker's report about ``order``: a fill of ``quantity`` at ``price`` (the whole
    order's cumulative), or a bare ``rejected``/``cancelled``."""
    fill_id = f"fill-{uuid.uuid4().hex[:10]}" if quantity else None
    fee = BrokerCosts.of(get_settings()).fee(quantity * price) if quantity else 0
    await order_service.do_apply_broker_update(BrokerUpdateV1(
        id=f"{order.id}:{fill_id or status}", order_id=str(order.id), club_id=order.club_id,
        status=status, fill_id=fill_id, fill_quantity=quantity, fill_price=price, fee=fee,
        cumulative_quantity=order.filled_quantity + quantity, reason="" if quantity else status,
        trade_date="2012-06-01" if quantity else "", tick_seq=1,
        occurred_at="2012-06-01T15:00:00+00:00"))  # fmt: skip


async def orders_of(account_id: str, user: str, ids: list[str]) -> list[Order]:
    return [(await order_service.get(account_id, i, user))[0] for i in ids]


async def with_targets(account_id: str, targets: dict[str, int]) -> None:
    await repository.update_account(account_id, {"targets": targets})


async def test_a_preview_counts_the_orders_already_waiting(services: Services) -> None:
    redis = services.require_redis()
    user = await profiled(MODERATE)
    account = await funded_account(user, 1_000_000)
    await with_targets(account.account_id, {"KO": 5_000, "PEP": 5_000})
    first = await advisory_service.do_rebalance(account.account_id, user, False, redis)
    assert {t["symbol"] for t in first.trades} == {"KO", "PEP"}
    await advisory_service.do_execute(account.account_id, str(first.id), user, brokers, redis)
    orders = await order_service.list_orders(account.account_id, user)
    assert {o.status for o in orders} == {OrderStatus.SUBMITTED}  # at the broker, unfilled

    # Nothing filled yet: the same buys are not proposed again (their cash is set aside).
    again = await advisory_service.do_rebalance(account.account_id, user, False, redis)
    assert again.trades == [] and not again.drifted
    assert again.cash_before < 1_000_000

    # One buy is rejected by the broker: only that one is proposed again.
    ko = next(o for o in orders if o.symbol == "KO")
    await report(ko, "rejected")
    third = await advisory_service.do_rebalance(account.account_id, user, False, redis)
    assert [t["symbol"] for t in third.trades] == ["KO"] and third.trades[0]["quantity"] > 0


async def test_a_club_preview_counts_the_rebalance_at_the_vote(services: Services) -> None:
    redis = services.require_redis()
    club, (owner, member) = await club_with_members(2, currency="USD")
    club_id = str(club.id)
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, owner, 500_000, today)
    await books_service.do_record_valuation(club_id, owner, valuation_date=today, prices={})
    await advisory_service.do_set_policy(club_id, owner, PolicyIn())
    await with_targets(club_id, {"KO": 5_000, "PEP": 5_000})
    run = await advisory_service.do_rebalance(club_id, owner, False, redis)
    executed = await advisory_service.do_execute(club_id, str(run.id), owner, brokers, redis, 1)
    assert executed.status is RunStatus.VOTING
    again = await advisory_service.do_rebalance(club_id, member, False, redis)
    assert again.trades == []


async def test_sales_settle_before_the_buys_which_fit_the_cash_really_there(
    services: Services,
) -> None:
    redis = services.require_redis()
    user = await profiled(MODERATE)
    account = await funded_account(user, 600_000)
    aid = account.account_id
    await filled(aid, user, OrderSide.BUY, "JNJ", 80, 6_000, "2012-05-01", redis)
    cash = (await advisory_service.holdings(aid, user, redis)).cash
    assert cash < 150_000  # the buys need the sale's cash
    await with_targets(aid, {"KO": 5_000, "PEP": 5_000})
    run = await advisory_service.do_rebalance(aid, user, False, redis)
    stale = await advisory_service.do_rebalance(aid, user, False, redis)
    sells = [t for t in run.trades if t["quantity"] < 0]
    buys = [t for t in run.trades if t["quantity"] > 0]
    assert [t["symbol"] for t in sells] == ["JNJ"] and {t["symbol"] for t in buys} == {"KO", "PEP"}

    started = await advisory_service.do_execute(aid, str(run.id), user, brokers, redis)
    assert started.status is RunStatus.SELLING and len(started.sell_order_ids) == 1
    assert started.buy_order_ids == []  # no buy is checked against cash not yet there
    [sale] = await orders_of(aid, user, started.sell_order_ids)
    assert sale.kind is OrderKind.LIMIT and sale.limit_price is not None
    assert sale.limit_price <= sells[0]["price"]

    # Executed once; a stale preview from before is refused too.
    with pytest.raises(AlreadyExecuted) as twice:
        await advisory_service.do_execute(aid, str(run.id), user, brokers, redis)
    assert twice.value.code == "rebalance_already_executed"
    with pytest.raises(StaleRebalance) as old:
        await advisory_service.do_execute(aid, str(stale.id), user, brokers, redis)
    assert old.value.code == "rebalance_stale"

    # Not filled yet: nothing moves.
    same = await advisory_service.do_advance(started, brokers, redis)
    assert same.status is RunStatus.SELLING
    # The sale fills at half the planned price: less cash than planned, so the buys shrink.
    low = sells[0]["price"] // 2
    await report(sale, "filled", -sells[0]["quantity"], low)
    moved = await advisory_service.do_advance(same, brokers, redis)
    assert moved.status is RunStatus.BUYING and len(moved.buy_order_ids) == 2
    bought = await orders_of(aid, user, moved.buy_order_ids)
    costs = BrokerCosts.of(get_settings())
    spend = sum(o.quantity * o.limit_price + costs.fee(o.quantity * o.limit_price)  # type: ignore[operator]
                for o in bought)  # fmt: skip
    there = (await advisory_service.holdings(aid, user, redis)).cash
    assert spend <= there
    planned = {t["symbol"]: t["quantity"] for t in buys}
    assert sum(o.quantity or 0 for o in bought) < sum(planned.values())
    assert "cut" in moved.note

    # One buy fills, the other is rejected: partial, said so.
    await report(bought[0], "filled", bought[0].quantity or 0, bought[0].limit_price or 0)
    await report(bought[1], "rejected")
    done = await advisory_service.do_advance(moved, brokers, redis)
    assert done.status is RunStatus.PARTIAL and done.finished_at is not None
    assert bought[1].symbol in done.note


async def test_a_run_where_nothing_fills_is_failed(services: Services) -> None:
    redis = services.require_redis()
    user = await profiled(MODERATE)
    account = await funded_account(user, 500_000)
    await with_targets(account.account_id, {"KO": 5_000, "PEP": 5_000})
    run = await advisory_service.do_rebalance(account.account_id, user, False, redis)
    started = await advisory_service.do_execute(account.account_id, str(run.id), user,
                                                brokers, redis)  # fmt: skip
    assert started.status is RunStatus.BUYING and len(started.buy_order_ids) == 2
    for order in await orders_of(account.account_id, user, started.buy_order_ids):
        await report(order, "rejected")
    await advisory_service.do_advance_runs(brokers, redis, account.account_id)
    [latest, *_] = await repository.account_runs(account.account_id)
    assert latest.status is RunStatus.FAILED


async def test_a_club_rebalance_is_one_proposal_that_its_treasurer_sends(
    services: Services,
) -> None:
    redis = services.require_redis()
    club, (owner, member) = await club_with_members(2, currency="USD")
    club_id = str(club.id)
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, owner, 500_000, today)
    await books_service.do_record_valuation(club_id, owner, valuation_date=today, prices={})
    await advisory_service.do_set_policy(club_id, owner, PolicyIn())
    await with_targets(club_id, {"KO": 4_000, "PEP": 3_000, "PG": 3_000})
    run = await advisory_service.do_rebalance(club_id, owner, False, redis)
    assert len(run.trades) == 3
    voting = await advisory_service.do_execute(club_id, str(run.id), owner, brokers, redis, 1)
    assert voting.status is RunStatus.VOTING and len(voting.proposal_ids) == 1
    proposal, _ = await proposal_service.view(voting.proposal_ids[0], member)
    assert proposal.kind is ProposalKind.GENERAL
    for t in run.trades:
        assert f"Buy {t['quantity']} {t['symbol']} at a limit of" in proposal.description
    with pytest.raises(RebalanceNotApproved):  # not before the vote
        await advisory_service.do_send(club_id, str(run.id), owner, brokers, redis)

    for user in (owner, member):
        await proposal_service.do_cast_vote(str(proposal.id), user, Choice.YES)
    closed = await proposal_service.do_close(str(proposal.id), owner, CloseReason.EARLY)
    assert closed.status is ProposalStatus.APPROVED and closed.order_id is None
    await advisory_service.do_advance_runs(brokers, redis, club_id)
    approved = await advisory_service.rebalance(club_id, str(run.id), member)
    assert approved.status is RunStatus.APPROVED

    with pytest.raises(RoleRequired):
        await advisory_service.do_send(club_id, str(run.id), member, brokers, redis)
    sent = await advisory_service.do_send(club_id, str(run.id), owner, brokers, redis)
    assert sent.status is RunStatus.BUYING and len(sent.buy_order_ids) == 3
    orders = await orders_of(club_id, owner, sent.buy_order_ids)
    assert all(o.kind is OrderKind.LIMIT and o.status is OrderStatus.SUBMITTED for o in orders)
    limits = {t["symbol"]: t["price"] * 10_005 // 10_000 for t in run.trades}
    assert all((o.limit_price or 0) >= limits[o.symbol] for o in orders)
    with pytest.raises(RebalanceNotApproved):
        await advisory_service.do_send(club_id, str(run.id), owner, brokers, redis)
    for o in orders:
        await report(o, "filled", o.quantity or 0, o.limit_price or 0)
    await advisory_service.do_advance_runs(brokers, redis, club_id)
    done = await advisory_service.rebalance(club_id, str(run.id), member)
    assert done.status is RunStatus.EXECUTED and done.note == ""


async def test_an_unfunded_account_has_no_cash_to_invest(services: Services) -> None:
    redis = services.require_redis()
    club, (owner,) = await club_with_members(1, currency="USD")
    club_id = str(club.id)
    await advisory_service.do_set_policy(club_id, owner, PolicyIn())
    await with_targets(club_id, {"KO": 5_000, "PEP": 5_000})
    with pytest.raises(NoCashToInvest) as empty:
        await advisory_service.do_rebalance(club_id, owner, False, redis)
    assert empty.value.code == "no_cash_to_invest"
    assert await AdvisoryAccount.find({"account_id": club_id}).count() == 1


async def test_tax_loss_replacement_even_for_a_sector_of_one_or_all_peers_held(
    services: Services,
) -> None:
    redis = services.require_redis()
    user = await profiled(MODERATE)
    account = await funded_account(user, 5_000_000)
    aid = account.account_id
    # GE is alone in its sector; every consumer-staples stock is held: both lose money.
    await filled(aid, user, OrderSide.BUY, "GE", 10, 90_000, "2012-01-03", redis)
    for symbol in ("KO", "PEP", "PG", "WMT"):
        await filled(aid, user, OrderSide.BUY, symbol, 5, 90_000, "2012-01-03", redis)
    _, found = await advisory_service.tax_loss_opportunities(user, user, redis)
    by_symbol = {str(o["symbol"]): o for o in found}
    assert set(by_symbol) == {"GE", "KO", "PEP", "PG", "WMT"}
    for symbol, o in by_symbol.items():
        assert o["replacement"] not in (None, symbol), o
    assert by_symbol["KO"]["replacement"] in {"PEP", "PG", "WMT"}  # the same sector first
    assert by_symbol["GE"]["correlation"] is not None

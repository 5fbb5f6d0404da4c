"""Accounts end to end in process, on the real services: a personal account's recommendation,
holdings, rebalance and orders; a club's policy, rebalance, proposals and the orders its vote
creates; the drift check; tax-loss harvesting on FIFO lots."""

from __future__ import annotations

import datetime as dt

import pytest

from app.advisory.documents import RebalanceRun, RunStatus
from app.advisory.errors import AccountNotFound, AlreadyExecuted, NoTargets
from app.advisory.schemas import PolicyIn, RecommendationIn
from app.advisory.service import advisory_service
from app.books.service import books_service
from app.clubs.errors import RoleRequired
from app.errors import NotFound
from app.extensions import Services
from app.notifications.documents import Notification
from app.orders.documents import OrderSide, OrderStatus
from app.orders.service import order_service
from app.proposals.documents import CloseReason, ProposalStatus
from app.proposals.service import proposal_service
from app.proposals.tally import Choice
from app.realtime import eventlog
from app.realtime.rooms import club_room
from tests.advisory.factories import MODERATE, filled, funded_account, profiled
from tests.advisory.test_trial17 import brokers
from tests.clubs.factories import club_with_members, new_user, paid_contribution

STAPLES = ["KO", "PEP", "JNJ", "PG", "WMT"]


async def test_personal_account_recommend_rebalance_and_orders(services: Services) -> None:
    redis = services.require_redis()
    user = await profiled(MODERATE)
    account = await funded_account(user, 1_000_000)  # $10,000.00
    with pytest.raises(NoTargets):
        await advisory_service.do_rebalance(account.account_id, user, False, redis)
    rec = await advisory_service.do_recommend(
        user, RecommendationIn(account_id=account.account_id, symbols=STAPLES), redis
    )
    current = await advisory_service.check_account(account.account_id, user)
    assert current.recommendation_id == str(rec.id) and sum(current.targets.values()) == 10_000

    held = await advisory_service.holdings(account.account_id, user, redis)
    assert held.cash == 1_000_000 and all(x.quantity == 0 for x in held.lines)
    # All cash: every target more than the band (5 points) away is missed.
    assert set(held.outside()) == {s for s, bps in current.targets.items() if bps > 500}

    run = await advisory_service.do_rebalance(account.account_id, user, False, redis)
    assert run.drifted and run.inside_bands and run.trades
    assert all(t["quantity"] > 0 for t in run.trades)  # cash only: buys
    assert run.cash_after >= 0
    assert sum(t["value"] + t["fee"] for t in run.trades) <= 1_000_000

    executed = await advisory_service.do_execute(account.account_id, str(run.id), user,
                                                 brokers, redis)  # fmt: skip
    assert len(executed.order_ids) == len(run.trades) and not executed.proposal_ids
    assert executed.status is RunStatus.BUYING  # no sales: the buys go at once
    orders = await order_service.list_orders(account.account_id, user)
    assert {(o.symbol, o.quantity, o.side) for o in orders} == {
        (t["symbol"], t["quantity"], OrderSide.BUY) for t in run.trades}  # fmt: skip
    assert all(o.status is OrderStatus.SUBMITTED for o in orders)
    # Limit orders at the planned price plus the broker's slippage (5 bps), rounded up.
    planned = {t["symbol"]: t["price"] for t in run.trades}
    assert all(o.limit_price == -(-planned[o.symbol] * 10_005 // 10_000) for o in orders)
    with pytest.raises(AlreadyExecuted):
        await advisory_service.do_execute(account.account_id, str(run.id), user, brokers, redis)
    stored = await RebalanceRun.get(run.id)
    assert stored is not None and stored.order_ids == executed.order_ids

    stranger = new_user()
    with pytest.raises(AccountNotFound):
        await advisory_service.holdings(account.account_id, stranger, redis)


async def test_club_rebalance_becomes_proposals_and_the_vote_makes_orders(
    services: Services,
) -> None:
    redis = services.require_redis()
    club, (owner, member) = await club_with_members(2, currency="USD")
    club_id = str(club.id)
    for user in (owner, member):
        await advisory_service.do_take_questionnaire(user, MODERATE)
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, owner, 500_000, today)
    await books_service.do_record_valuation(club_id, owner, valuation_date=today, prices={})
    with pytest.raises(RoleRequired):
        await advisory_service.do_set_policy(club_id, member, PolicyIn())
    policy = await advisory_service.do_set_policy(
        club_id, owner, PolicyIn(band_bps=400, excluded=["wmt"], max_weight_bps=4000)
    )
    assert policy.excluded == ["WMT"] and policy.band_bps == 400
    with pytest.raises(RoleRequired):
        await advisory_service.do_recommend(
            member, RecommendationIn(account_id=club_id, symbols=STAPLES), redis
        )
    rec = await advisory_service.do_recommend(
        owner, RecommendationIn(account_id=club_id, symbols=STAPLES), redis
    )
    assert "WMT" not in rec.symbols and max(rec.weights) <= 0.4 + 1e-6

    run = await advisory_service.do_rebalance(club_id, member, False, redis)  # any member asks
    assert run.trades and run.inside_bands
    with pytest.raises(RoleRequired):
        await advisory_service.do_execute(club_id, str(run.id), member, brokers, redis)
    executed = await advisory_service.do_execute(club_id, str(run.id), owner, brokers, redis, 1)
    assert len(executed.proposal_ids) == 1 and not executed.order_ids  # one vote for it all
    [p] = await proposal_service.list_of_club(club_id, member, None, 50)
    for user in (owner, member):
        await proposal_service.do_cast_vote(str(p.id), user, Choice.YES)
    closed = await proposal_service.do_close(str(p.id), owner, CloseReason.EARLY)
    assert closed.status is ProposalStatus.APPROVED
    sent = await advisory_service.do_send(club_id, str(run.id), owner, brokers, redis)
    orders = await order_service.list_orders(club_id, owner)
    assert sorted((o.symbol, o.quantity) for o in orders) == sorted(
        (t["symbol"], abs(t["quantity"])) for t in run.trades
        if t["quantity"] < 0 or sent.status is RunStatus.BUYING)  # fmt: skip


async def test_drift_check_tells_once_with_a_notification_and_a_room_event(
    services: Services,
) -> None:
    redis = services.require_redis()
    user = await profiled(MODERATE)
    account = await funded_account(user, 400_000)
    await advisory_service.do_recommend(
        user, RecommendationIn(account_id=account.account_id, symbols=STAPLES), redis
    )
    await advisory_service.do_check_drift(redis)
    notes = await Notification.find({"user_id": user, "kind": "drift_alert"}).to_list()
    assert len(notes) == 1 and notes[0].ref_id == account.account_id
    room = await eventlog.since(club_room(account.account_id), 0, 100)
    drift = [e for e in room if e.event == "portfolio:drift"]
    targets = (await advisory_service.check_account(account.account_id, user)).targets
    assert len(drift) == 1
    assert set(drift[0].data["symbols"]) == {s for s, bps in targets.items() if bps > 500}
    await advisory_service.do_check_drift(redis)  # the same drift: told once
    assert await Notification.find({"user_id": user, "kind": "drift_alert"}).count() == 1


async def test_tax_loss_opportunities_on_fifo_lots(services: Services) -> None:
    redis = services.require_redis()
    user = await profiled(MODERATE)
    account = await funded_account(user, 2_000_000)
    aid = account.account_id
    # KO closes near $35 (adjusted) before the replay starts: lots bought at $90 and $80 lose,
    # the lot at $1 gains; a sale of 5 takes them first-in first-out.
    await filled(aid, user, OrderSide.BUY, "KO", 10, 9_000, "2012-03-01", redis)
    await filled(aid, user, OrderSide.BUY, "KO", 4, 8_000, "2012-05-10", redis)
    await filled(aid, user, OrderSide.BUY, "KO", 3, 100, "2012-05-11", redis)
    await filled(aid, user, OrderSide.SELL, "KO", 5, 3_500, "2012-05-14", redis)
    price = (await advisory_service.prices(redis, ["KO"]))["KO"]
    assert price < 8_000
    days, found = await advisory_service.tax_loss_opportunities(user, user, redis)
    assert days == 30
    [ko] = found
    lots = ko["lots"]
    assert isinstance(lots, list)
    assert [(lot["bought_on"], lot["quantity"]) for lot in lots] == [
        ("2012-03-01", 5), ("2012-05-10", 4)]  # fmt: skip
    assert ko["harvestable_loss"] == 5 * (9_000 - price) + 4 * (8_000 - price)
    assert ko["sector"] == "Consumer Staples" and ko["replacement"] in {"PEP", "PG", "WMT"}
    assert ko["correlation"] is not None and float(str(ko["correlation"])) > 0.3
    # Bought again on 2012-05-11: a sale now falls inside 30 days of that buy.
    assert ko["blocked_until"] == "2012-06-10"
    with pytest.raises(NotFound):  # another person's: not found
        await advisory_service.tax_loss_opportunities(user, new_user(), redis)


async def test_a_placement_cut_short_by_a_dead_process_is_resumed_without_twin_orders(
    services: Services,
) -> None:
    """The process placing a run's buys dies after its first order reached the broker and its
    second was entered but never submitted: the run stays ``buying`` with nothing recorded.
    Within the lease nobody touches it; after, the next advance finds both orders by their
    origin, submits the one left waiting, places the rest, and the run has one order per
    trade."""
    redis = services.require_redis()
    user = await profiled(MODERATE)
    account = await funded_account(user, 1_000_000)
    await advisory_service.do_recommend(
        user, RecommendationIn(account_id=account.account_id, symbols=STAPLES), redis
    )
    run = await advisory_service.do_rebalance(account.account_id, user, False, redis)
    assert len(run.trades) >= 3 and all(t["quantity"] > 0 for t in run.trades)
    calls = 0

    async def dying(club_id: str) -> object:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionResetError("the worker died mid-placement")
        return await brokers(club_id)

    with pytest.raises(ConnectionResetError):
        await advisory_service.do_execute(account.account_id, str(run.id), user,
                                          dying, redis)  # type: ignore[arg-type]  # fmt: skip
    stuck = await RebalanceRun.get(run.id)
    assert stuck is not None and stuck.status is RunStatus.BUYING and not stuck.buys_placed
    before = await order_service.list_orders(account.account_id, user)
    assert sorted(o.status for o in before) == [OrderStatus.AWAITING_EXECUTION,
                                                OrderStatus.SUBMITTED]  # fmt: skip

    # Within the lease the placement may still be under way elsewhere: left alone.
    same = await advisory_service.do_advance(stuck, brokers, redis)
    assert not same.buys_placed
    assert len(await order_service.list_orders(account.account_id, user)) == 2

    old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=60)
    runs = RebalanceRun.get_pymongo_collection()
    await runs.update_one({"_id": run.id}, {"$set": {"placing_at": old}})
    stale = await RebalanceRun.get(run.id)
    assert stale is not None
    resumed = await advisory_service.do_advance(stale, brokers, redis)
    assert resumed.buys_placed and resumed.status is RunStatus.BUYING
    orders = await order_service.list_orders(account.account_id, user)
    assert sorted(o.symbol for o in orders) == sorted(t["symbol"] for t in run.trades)
    assert all(o.status is OrderStatus.SUBMITTED for o in orders)
    assert sorted(resumed.order_ids) == sorted(str(o.id) for o in orders)
    assert {o.id for o in before} <= {o.id for o in orders}  # the first two kept, no twins
    # A second process resuming at the same moment finds it placed: nothing more.
    again = await advisory_service.do_advance(stale, brokers, redis)
    assert again.status is RunStatus.BUYING
    assert len(await order_service.list_orders(account.account_id, user)) == len(run.trades)

"""Schemes, subscriptions, instalments and auctions at the service level, against the real
database and the sandbox payment provider; the trial balance is checked after every step."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest

from app.audit.documents import AuditRecord
from app.chits.documents import AuctionStatus, PaymentStatus, SchemeStatus
from app.chits.errors import (
    AuctionClosed,
    AuctionNotOpen,
    BidRefused,
    ChitForbidden,
    InvalidScheme,
    KycRequiredForChit,
    NotEligible,
    NothingDue,
    PrizeAlreadyPaid,
    SchemeFull,
    SchemeStateError,
)
from app.chits.rules import draw, draw_seed
from app.chits.service import CASH, COMMISSION, chit_service, prize_payable, receivable
from app.identity.documents import PlatformRole
from app.ledger.service import ledger_service
from tests.chits.factories import (
    active_scheme,
    admin,
    approved_scheme,
    captured,
    foreman,
    pay,
    person,
    settings,
)

pytestmark = pytest.mark.usefixtures("sandbox")

R = 100  # paise per rupee


def at(month: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """Month ``month``'s auction day (the 10th from January 2031, in the future so that a live
    worker's timer never closes it) at 10:``minute``."""
    return dt.datetime(2031, month, 10, 10, minute, second, tzinfo=dt.UTC)


async def close(scheme_id: str, now: dt.datetime) -> bool:
    """Close the scheme's current auction if it is due at ``now``; whether this call did."""
    current = await chit_service.current_auction(await chit_service.get_scheme(scheme_id))
    assert current is not None
    return await chit_service.do_close_auction(str(current.id), now) is not None


async def zero_trial_balance(scheme_id: str) -> dict[str, int]:
    rows = await ledger_service.trial_balance(scheme_id)
    assert sum(r.balance for r in rows) == 0
    return {r.account: r.balance for r in rows}


async def test_scheme_lifecycle_approval_and_filling_up() -> None:
    boss, root, plain = await foreman(), await admin(), await person()
    with pytest.raises(ChitForbidden):
        await chit_service.do_create_scheme(plain, settings())
    unverified = await person("foreman", PlatformRole.USER, PlatformRole.FOREMAN, kyc=False)
    with pytest.raises(KycRequiredForChit) as no_kyc:
        await chit_service.do_create_scheme(unverified, settings())
    assert no_kyc.value.code == "kyc_required"
    with pytest.raises(InvalidScheme) as too_much:
        await chit_service.do_create_scheme(boss, settings(commission_bps=701))
    assert too_much.value.details["rule"] == "max_7_percent"

    three = settings(subscribers=3, chit_amount="30000.00", max_discount="9000.00")
    scheme = await chit_service.do_create_scheme(boss, three)
    sid = str(scheme.id)
    assert scheme.status == SchemeStatus.DRAFT and scheme.filled == 1
    from app.chits.schemas import SchemeFields

    patched = await chit_service.do_update_scheme(sid, boss, SchemeFields(name="Renamed chit"))
    assert patched.name == "Renamed chit"
    with pytest.raises(InvalidScheme):
        await chit_service.do_update_scheme(sid, boss, SchemeFields(commission_bps=800))
    joiner = await person()
    with pytest.raises(SchemeStateError):
        await chit_service.do_subscribe(sid, joiner)
    await chit_service.do_submit(sid, boss)
    with pytest.raises(ChitForbidden):  # not an admin
        await chit_service.do_decide(sid, boss, True, "")
    approved = await chit_service.do_decide(sid, root, True, "looks right")
    assert approved.status == SchemeStatus.APPROVED and approved.approved_by == root.user_id
    audit = await AuditRecord.find({"target_id": sid, "action": "scheme.approved"}).to_list()
    assert {a.chain for a in audit} == {"platform", f"scheme:{sid}"}

    with pytest.raises(KycRequiredForChit):
        await chit_service.do_subscribe(sid, await person(kyc=False))
    first = await chit_service.do_subscribe(sid, joiner)
    assert first.ticket == 2 and re.fullmatch(r"UCFSIN-\d{4}-\d{6}", first.member_id or "")
    from app.chits.errors import AlreadySubscribed

    with pytest.raises(AlreadySubscribed):
        await chit_service.do_subscribe(sid, joiner)
    last = await chit_service.do_subscribe(sid, await person())
    assert last.ticket == 3
    active = await chit_service.get_scheme(sid)
    assert active.status == SchemeStatus.ACTIVE and active.current_month == 1
    with pytest.raises(SchemeStateError):
        await chit_service.do_subscribe(sid, await person())
    books = await zero_trial_balance(sid)
    assert books["liabilities:chit_pot"] == -30_000 * R  # month 1's instalments called
    assert books[receivable(str(first.id))] == 10_000 * R


async def test_concurrent_joins_never_overfill_a_scheme() -> None:
    scheme, _, _ = await approved_scheme(subscribers=3, chit_amount="30000.00",
                                         max_discount="9000.00")  # fmt: skip
    people = [await person() for _ in range(5)]
    results = await asyncio.gather(
        *(chit_service.do_subscribe(str(scheme.id), p) for p in people), return_exceptions=True
    )
    joined = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(joined) == 2 and sorted(s.ticket for s in joined) == [2, 3]  # type: ignore[union-attr]
    assert all(isinstance(r, SchemeFull | SchemeStateError) for r in refused), refused


async def test_a_month_payments_auction_bids_and_prize() -> None:
    scheme, boss, people, subs = await active_scheme()
    sid = str(scheme.id)
    # month 1: everyone pays ₹10,000 through the sandbox checkout
    for sub, who in zip(subs, people, strict=True):
        outcome = await pay(sub, who, at(1) - dt.timedelta(days=2))
        assert outcome.payment is not None and outcome.payment.status == PaymentStatus.COMPLETED
        assert not outcome.payment.late
    with pytest.raises(NothingDue):
        await chit_service.do_open_instalment(str(subs[1].id), people[1])
    # a re-delivered event applies nothing
    payments = await chit_service.payments_of(people[1], subscription_id=str(subs[1].id))
    again = await chit_service.do_apply_payment_event(
        captured(payments[0], at(1), event_id="dup-never-seen")
    )
    assert not again.applied
    books = await zero_trial_balance(sid)
    assert books[CASH] == 50_000 * R + payments[0].amount  # the second payment is kept, unmatched
    assert books["liabilities:unmatched_payments"] == -payments[0].amount

    # month 1 is the foreman's, without discount
    with pytest.raises(AuctionNotOpen):
        await chit_service.do_bid(sid, people[1].user_id, 2_500 * R, at(1))
    assert (
        await chit_service.do_close_auction(
            str((await chit_service.current_auction(scheme)).id),
            at(1) - dt.timedelta(seconds=1),  # type: ignore[union-attr]
        )
        is None
    )  # not due yet
    assert await close(sid, at(1))
    month1 = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert month1 is not None and month1.month == 2
    first = (await chit_service.auctions(sid, boss))[0]
    assert (first.method, first.winner_ticket, first.prize, first.commission, first.discount) == (
        "foreman", 1, 50_000 * R, 0, 0)  # fmt: skip
    paid = await chit_service.do_pay_prize(str(first.id), boss, "NEFT-1", at(1))
    assert paid.amount == 50_000 * R  # the foreman's security is on record
    with pytest.raises(PrizeAlreadyPaid):
        await chit_service.do_pay_prize(str(first.id), boss, "NEFT-1", at(1))
    books = await zero_trial_balance(sid)
    assert books.get(prize_payable(str(subs[0].id)), 0) == 0

    # month 2: dues ₹10,000 (no discount last month); ticket 5 does not pay
    for sub, who in list(zip(subs, people, strict=True))[:4]:
        await pay(sub, who, at(2) - dt.timedelta(days=1))
    with pytest.raises(AuctionNotOpen):
        await chit_service.do_bid(
            sid, people[1].user_id, 5_000 * R, at(2) - dt.timedelta(minutes=1)
        )
    codes = {}
    for who, amount in ((people[1], 2_000 * R), (people[1], 15_500 * R), (people[1], 2_700 * R)):
        with pytest.raises(BidRefused) as refused:
            await chit_service.do_bid(sid, who.user_id, amount, at(2, 1))
        codes[amount] = refused.value.code
    assert codes == {2_000 * R: "bid_below_minimum", 15_500 * R: "bid_above_maximum",
                     2_700 * R: "bid_off_step"}  # fmt: skip
    for who, reason in ((people[0], "already_prized"), (people[4], "not_paid_up")):
        with pytest.raises(NotEligible) as not_eligible:
            await chit_service.do_bid(sid, who.user_id, 5_000 * R, at(2, 1))
        assert not_eligible.value.details["reason"] == reason
    with pytest.raises(NotEligible):
        await chit_service.do_bid(sid, (await person()).user_id, 5_000 * R, at(2, 1))
    await chit_service.do_bid(sid, people[1].user_id, 4_000 * R, at(2, 1))
    await chit_service.do_bid(sid, people[2].user_id, 5_000 * R, at(2, 2))
    with pytest.raises(BidRefused) as not_best:
        await chit_service.do_bid(sid, people[1].user_id, 5_000 * R, at(2, 3))
    assert not_best.value.code == "bid_not_above_best" and not_best.value.status == 409
    # a bid in the last 30 seconds moves the end 30 seconds past it
    _, ends = await chit_service.do_bid(sid, people[3].user_id, 6_000 * R, at(2, 14, 50))
    assert ends == at(2, 15, 20)
    assert not await close(sid, at(2, 15, 5))  # extended
    with pytest.raises(AuctionClosed):
        await chit_service.do_bid(sid, people[1].user_id, 7_000 * R, at(2, 15, 20))
    month2_id = str((await chit_service.auctions(sid, boss))[1].id)
    assert await close(sid, at(2, 15, 20))
    assert await chit_service.do_close_auction(month2_id, at(2, 16)) is None  # never twice
    month2 = (await chit_service.auctions(sid, boss))[1]
    assert month2.status == AuctionStatus.CLOSED and month2.method == "highest_bid"
    # ₹6,000 discount: commission ₹2,500, ₹3,500 shared by 5 = ₹700; prize ₹44,000
    assert (month2.winner_ticket, month2.discount, month2.prize, month2.commission) == (
        4, 6_000 * R, 44_000 * R, 2_500 * R)  # fmt: skip
    assert month2.shares == [700 * R] * 5 and month2.net_instalments == [9_300 * R] * 5
    books = await zero_trial_balance(sid)
    assert books[COMMISSION] == -2_500 * R
    assert books[receivable(str(subs[1].id))] == 9_300 * R  # month 3 called, net of the share
    assert books[receivable(str(subs[4].id))] == 10_000 * R + 9_300 * R  # ticket 5 still owes

    # no security from ticket 4: the instalments to come are withheld from the prize
    with pytest.raises(ChitForbidden):
        await chit_service.do_pay_prize(str(month2.id), people[1], "x", at(2, 20))
    prize = await chit_service.do_pay_prize(str(month2.id), boss, "NEFT-2", at(2, 20))
    # owed now ₹9,300 (month 3) + 2 months not yet called × ₹10,000
    assert prize.amount == 44_000 * R - 29_300 * R
    books = await zero_trial_balance(sid)
    assert books[receivable(str(subs[3].id))] == -20_000 * R  # a credit against months 4 and 5


async def test_a_tie_at_the_maximum_is_drawn_by_lot_and_no_bid_is_a_lot_at_the_minimum() -> None:
    scheme, boss, people, subs = await active_scheme()
    sid = str(scheme.id)
    for sub, who in zip(subs, people, strict=True):
        await pay(sub, who, at(1) - dt.timedelta(days=1))
    await close(sid, at(1))
    for sub, who in zip(subs, people, strict=True):
        await pay(sub, who, at(2) - dt.timedelta(days=1))
    await chit_service.do_bid(sid, people[2].user_id, 15_000 * R, at(2, 1))
    await chit_service.do_bid(sid, people[4].user_id, 15_000 * R, at(2, 2))
    await chit_service.do_bid(sid, people[1].user_id, 15_000 * R, at(2, 3))
    with pytest.raises(BidRefused):  # the same bidder once at the top is enough
        await chit_service.do_bid(sid, people[1].user_id, 15_000 * R, at(2, 4))
    await close(sid, at(2, 16))
    auction, bids = await chit_service.auction(
        str((await chit_service.auctions(sid, boss))[1].id), people[1]
    )
    assert auction.method == "tie_lot" and auction.draw is not None
    seed = draw_seed(str(auction.id), [(str(b.id), b.ticket, b.discount) for b in bids])
    assert auction.draw.seed == seed and auction.draw.candidates == [2, 3, 5]
    assert auction.winner_ticket == auction.draw.chosen == draw(seed, [2, 3, 5])
    # ₹15,000 discount: ₹12,500 shared = ₹2,500 each; prize ₹35,000
    assert (auction.prize, auction.shares) == (35_000 * R, [2_500 * R] * 5)
    await zero_trial_balance(sid)

    # month 3: nobody bids; a lot among the eligible (paid up, not prized) at the minimum bid
    for sub, who in zip(subs, people, strict=True):
        if sub.ticket != 4:
            await pay(sub, who, at(3) - dt.timedelta(days=1))
    await close(sid, at(3, 16))
    third = (await chit_service.auctions(sid, boss))[2]
    eligible = sorted({2, 3, 5} - {auction.winner_ticket})  # 1 and the last winner are prized
    assert third.method == "no_bid_lot" and third.draw is not None
    assert third.draw.candidates == eligible and third.eligible_tickets == eligible
    assert third.winner_ticket == draw(draw_seed(str(third.id), []), eligible)
    assert (third.discount, third.prize, third.shares) == (2_500 * R, 47_500 * R, [0] * 5)
    await zero_trial_balance(sid)


async def test_notifications_approval_receipt_and_reminders() -> None:
    from app.notifications.documents import Notification, NotificationKind

    scheme, boss, people, subs = await active_scheme()
    sid = str(scheme.id)

    async def kinds(user_id: str) -> list[str]:
        found = await Notification.find({"user_id": user_id, "ref_id": {"$ne": None}}).to_list()
        return sorted(n.kind.value for n in found)

    assert NotificationKind.SCHEME_APPROVED.value in await kinds(boss.user_id)
    await pay(subs[1], people[1], at(1) - dt.timedelta(days=1))
    assert NotificationKind.PAYMENT_RECEIVED.value in await kinds(people[1].user_id)
    await close(sid, at(1))  # the foreman's month (no reminder: nobody bids)
    await pay(subs[1], people[1], at(2) - dt.timedelta(days=1))  # ticket 2 pays month 2 early
    # 20 hours before month 2's auction: ticket 3 owes, ticket 2 has paid
    sent = await chit_service.do_send_reminders(at(2) - dt.timedelta(hours=20))
    assert sent >= 9
    assert await kinds(people[2].user_id) == ["auction_reminder", "payment_due"]
    assert await kinds(people[1].user_id) == ["auction_reminder", "payment_received",
                                              "payment_received"]  # fmt: skip
    await chit_service.do_send_reminders(at(2) - dt.timedelta(hours=19))  # nothing twice
    assert await kinds(people[2].user_id) == ["auction_reminder", "payment_due"]
    assert sid

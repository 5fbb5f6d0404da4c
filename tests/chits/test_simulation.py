"""A whole 20-month scheme with a controlled clock: every month's dues, instalments through the
sandbox checkout, the auction (bids, the foreman's first month, a lot when nobody bids), prizes
with and without security (withheld instalments), a late penalty, a default with a substitute
who pays the catch-up amount, the final settlement — and the books checked against an
independent model after every month: each subscriber's balance, the cash, the commission, and
a zero trial balance throughout."""

from __future__ import annotations

import datetime as dt

import pytest

from app.chits.documents import PaymentKind, PaymentStatus, SchemeStatus, SubscriptionStatus
from app.chits.errors import NothingDue
from app.chits.rules import auction_date
from app.chits.service import (
    CASH,
    COMMISSION,
    PENALTIES,
    Actor,
    chit_service,
    defaulter_refund,
    receivable,
)
from app.ledger.service import ledger_service
from tests.chits.factories import active_scheme, captured, person

pytestmark = [pytest.mark.usefixtures("sandbox"), pytest.mark.timeout(900)]

R = 100
N = 20
INSTALMENT = 5_000 * R
CHIT = N * INSTALMENT
COMMISSION_AMOUNT = 5_000 * R  # 5 % of ₹1,00,000
PENALTY = 100 * R
DEFAULTER_TICKET = 7


def at(month: int, minute: int = 0) -> dt.datetime:
    day = auction_date(dt.date(2031, 1, 1), 10, month)
    return dt.datetime.combine(day, dt.time(10, minute), dt.UTC)


def discount_of(month: int) -> int:
    """The winning discount of month 2..19: ₹30,000 falling by ₹1,000 a month."""
    return (30_000 - 1_000 * (month - 2)) * R


async def test_twenty_months_with_a_default_and_a_substitute() -> None:
    scheme, boss, people, subs = await active_scheme(
        subscribers=N, chit_amount="100000.00", instalment="5000.00", min_bid="5000.00",
        bid_step="500.00", max_discount="30000.00", late_penalty="100.00", grace_days=3,
    )  # fmt: skip
    sid = str(scheme.id)
    holder = {s.ticket: s for s in subs}
    actor = {s.ticket: p for s, p in zip(subs, people, strict=True)}
    # the independent model, paise
    owed = dict.fromkeys(holder, INSTALMENT)  # month 1 called on activation
    paid_in: dict[str, int] = {}  # by subscription id
    paid_out: dict[str, int] = {}
    cash = commission = penalties = 0
    defaulter_id = str(holder[DEFAULTER_TICKET].id)
    defaulter_refund_due = 0

    async def pay_up(month: int, skip: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        nonlocal cash
        for ticket, sub in holder.items():
            if ticket in skip:
                continue
            if owed[ticket] <= 0:
                with pytest.raises(NothingDue):
                    await chit_service.do_open_instalment(str(sub.id), actor[ticket])
                continue
            payment = await chit_service.do_open_instalment(str(sub.id), actor[ticket])
            assert payment.amount == owed[ticket], (month, ticket)
            outcome = await chit_service.do_apply_payment_event(
                captured(payment, at(month) - dt.timedelta(days=1)))  # fmt: skip
            assert outcome.applied
            paid_in[str(sub.id)] = paid_in.get(str(sub.id), 0) + payment.amount
            cash += payment.amount
            owed[ticket] = 0

    async def check_books(month: int) -> None:
        rows = await ledger_service.trial_balance(sid)
        assert sum(r.balance for r in rows) == 0, month
        books = {r.account: r.balance for r in rows}
        for ticket, sub in holder.items():
            assert books.get(receivable(str(sub.id)), 0) == owed[ticket], (month, ticket)
        assert books.get(CASH, 0) == cash, month
        assert books.get(COMMISSION, 0) == -commission, month
        assert books.get(PENALTIES, 0) == -penalties, month

    for month in range(1, N + 1):
        skip = {DEFAULTER_TICKET} if month in (4, 5) else set()
        await pay_up(month, skip)
        if month == 4:  # ticket 7 misses month 4: the penalty after the grace days
            await chit_service.do_charge_penalties((at(4) + dt.timedelta(days=4)).date())
            owed[DEFAULTER_TICKET] += PENALTY
            penalties += PENALTY
            await check_books(month)
        if month == 5:  # still unpaid: removed, and a substitute takes the ticket
            await chit_service.do_mark_default(defaulter_id, boss, "two months unpaid", now=at(5))
            substitute = await person("substitute")
            catch_up = await chit_service.catch_up_amount(defaulter_id)
            new = await chit_service.do_substitute(defaulter_id, boss, substitute.user_id)
            assert new.ticket == DEFAULTER_TICKET and new.catch_up == catch_up
            # the net instalments of months 1–5 of the ticket
            expected_catch_up = sum(
                INSTALMENT - ((discount_of(m - 1) - COMMISSION_AMOUNT) // N if m > 2 else 0)
                for m in range(1, 6)
            )
            assert catch_up == expected_catch_up
            arrears = owed[DEFAULTER_TICKET]
            defaulter_refund_due = catch_up - arrears  # what the defaulter paid, less the penalty
            assert defaulter_refund_due == paid_in[defaulter_id] - PENALTY
            holder[DEFAULTER_TICKET], actor[DEFAULTER_TICKET] = new, substitute
            owed[DEFAULTER_TICKET] = catch_up
            await pay_up(month)
        await check_books(month)

        # the auction
        if 2 <= month < N:
            d = discount_of(month)
            if month + 1 <= N:
                await chit_service.do_bid(sid, actor[month + 1].user_id, d - 500 * R, at(month, 1))
            await chit_service.do_bid(sid, actor[month].user_id, d, at(month, 2))
        current = await chit_service.current_auction(await chit_service.get_scheme(sid))
        assert current is not None and current.month == month
        closed = await chit_service.do_close_auction(str(current.id), at(month, 16))
        assert closed is not None and closed.winner_ticket == (1 if month == 1 else month)
        d = 0 if month == 1 else discount_of(month) if month < N else 5_000 * R
        assert closed.method == {1: "foreman", N: "no_bid_lot"}.get(month, "highest_bid")
        share = 0 if month == 1 else (d - COMMISSION_AMOUNT) // N
        prize = CHIT - d
        assert (closed.discount, closed.prize, closed.shares) == (d, prize, [share] * N)
        assert closed.prize + closed.commission + sum(closed.shares) == CHIT  # type: ignore[operator]
        commission += 0 if month == 1 else COMMISSION_AMOUNT
        for ticket in owed:
            owed[ticket] -= share
            if month < N:
                owed[ticket] += INSTALMENT  # the next month is called at once
        await check_books(month)

        # the prize: security recorded in even months; otherwise instalments to come withheld
        winner = holder[closed.winner_ticket]  # type: ignore[index]
        if month % 2 == 0:
            await chit_service.do_record_surety(str(winner.id), boss, "guarantor", "a guarantor")
        withheld = 0
        if month % 2 == 1 and month > 1:
            withheld = min(prize, max(0, owed[winner.ticket]) + INSTALMENT * (N - month - 1))
        prize_payment = await chit_service.do_pay_prize(str(closed.id), boss, f"NEFT-{month}",
                                                        at(month, 30))  # fmt: skip
        assert prize_payment.amount == prize - withheld
        owed[winner.ticket] -= withheld
        cash -= prize - withheld
        paid_out[str(winner.id)] = paid_out.get(str(winner.id), 0) + prize - withheld
        await check_books(month)

    # the end: credits paid back as dividends, the defaulter refunded, the scheme completed
    done = await chit_service.do_settle(sid, boss, at(N, 45))
    assert done.status == SchemeStatus.COMPLETED
    payments = await chit_service.payments_of(boss, scheme_id=sid)
    for p in payments:
        if p.kind in (PaymentKind.DIVIDEND, PaymentKind.REFUND):
            assert p.status == PaymentStatus.COMPLETED
            paid_out[p.subscription_id] = paid_out.get(p.subscription_id, 0) + p.amount
            cash -= p.amount
    refunds = [p for p in payments if p.kind == PaymentKind.REFUND]
    assert [(p.subscription_id, p.amount) for p in refunds] == [(defaulter_id,
                                                                 defaulter_refund_due)]  # fmt: skip
    for ticket in owed:
        owed[ticket] = 0
    await check_books(N)
    books = await ledger_service.balances(sid)
    assert books.get(defaulter_refund(defaulter_id), 0) == 0
    # the foreman keeps the commission of months 2–20 and the penalty: ₹95,100
    assert cash == 19 * COMMISSION_AMOUNT + PENALTY == 9_510_000

    # every subscriber's result, exactly: the prize less the discounts shared back, … in paise
    total_shares = sum((discount_of(m) - COMMISSION_AMOUNT) // N for m in range(2, N))
    for sub in await chit_service.subscribers(sid, boss):
        sub_id = str(sub.id)
        net = paid_out.get(sub_id, 0) - paid_in.get(sub_id, 0)
        if sub_id == defaulter_id:
            assert sub.status == SubscriptionStatus.DEFAULTED
            assert net == -PENALTY  # got back all they paid but the penalty
            continue
        assert sub.status == SubscriptionStatus.COMPLETED
        won = 0 if sub.ticket == 1 else discount_of(sub.ticket) if sub.ticket < N else 5_000 * R
        if sub.ticket == DEFAULTER_TICKET:  # the substitute paid the catch-up, then as everyone
            assert net == total_shares - won - PENALTY + PENALTY
        else:
            assert net == total_shares - won, sub.ticket
    foreman_actor = Actor(boss.user_id, boss.roles)
    passbook = await chit_service.passbook(str(holder[2].id), foreman_actor)
    assert [r["month"] for r in passbook["rows"]] == list(range(1, N + 1))
    assert passbook["balance"] == 0
    assert passbook["total_paid"] == paid_in[str(holder[2].id)]

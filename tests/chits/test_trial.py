"""What a new user's trial of chit funds found (issue #15): arrears withheld from every prize,
the foreman's too, so a later winner is never short; default only with instalments overdue
beyond the grace days; substitutes checked through the KYC service; start dates not in the
past; auction status and bid sentences; PATCH checks state first; the empty-history score."""

from __future__ import annotations

import datetime as dt

import pytest

from app.chits.documents import PaymentStatus
from app.chits.errors import NothingOverdue
from app.chits.flows import chit_flows
from app.chits.service import CASH, chit_service, receivable
from app.ledger.service import ledger_service
from tests.chits.factories import active_scheme, pay

pytestmark = pytest.mark.usefixtures("sandbox")

R = 100


def at(month: int, day: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2031, month, day, 10, minute, tzinfo=dt.UTC)


async def books(scheme_id: str) -> dict[str, int]:
    rows = await ledger_service.trial_balance(scheme_id)
    assert sum(r.balance for r in rows) == 0
    return {r.account: r.balance for r in rows}


async def test_the_foremans_prize_withholds_his_arrears_and_the_next_winner_is_paid() -> None:
    scheme, boss, people, subs = await active_scheme()
    sid = str(scheme.id)
    # month 1: everyone but the foreman pays; the foreman's month closes
    for sub, who in zip(subs[1:], people[1:], strict=True):
        await pay(sub, who, at(1, 9))
    first = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert first is not None
    await chit_service.do_close_auction(str(first.id), at(1, 10, 1))
    # month 2's dues are called; the others pay them before the foreman takes his prize
    for sub, who in zip(subs[1:], people[1:], strict=True):
        await pay(sub, who, at(2, 9))
    assert (await books(sid))[receivable(str(subs[0].id))] == 20_000 * R

    paid = await chit_flows.do_request_prize_payout(str(first.id), boss, at(2, 10, 0))
    # on 10 February the foreman owes months 1 and 2, both due: withheld from his ₹50,000
    # even with his security
    assert paid.status == PaymentStatus.COMPLETED
    assert paid.details["withheld"] == 20_000 * R and paid.amount == 30_000 * R
    after = await books(sid)
    assert after.get(receivable(str(subs[0].id)), 0) == 0
    assert after[CASH] == 80_000 * R - 30_000 * R

    # month 2's winner is paid from what was collected
    await chit_service.do_bid(sid, people[2].user_id, 5_000 * R, at(2, 10, 1))
    second = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert second is not None
    await chit_service.do_close_auction(str(second.id), at(2, 10, 16))
    await chit_service.do_record_surety(str(subs[2].id), boss, "guarantor", "A. Guarantor")
    prize = await chit_flows.do_request_prize_payout(str(second.id), boss, at(2, 10, 20))
    assert prize.status == PaymentStatus.COMPLETED and prize.amount == 45_000 * R
    assert (await books(sid))[CASH] == 5_000 * R  # the commission and month 2's shares


async def test_a_prize_recorded_by_hand_withholds_arrears_too() -> None:
    scheme, boss, people, subs = await active_scheme()
    sid = str(scheme.id)
    for sub, who in zip(subs[1:], people[1:], strict=True):
        await pay(sub, who, at(1, 9))
    first = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert first is not None
    await chit_service.do_close_auction(str(first.id), at(1, 10, 1))
    paid = await chit_service.do_pay_prize(str(first.id), boss, "NEFT-1", at(1, 10, 5))
    # month 1 is withheld; month 2, called at the close, is not due until 10 February
    assert paid.details["withheld"] == 10_000 * R and paid.amount == 40_000 * R
    assert (await books(sid)).get(CASH, 0) == 0


async def test_default_needs_an_instalment_overdue_beyond_the_grace_days() -> None:
    _, boss, people, subs = await active_scheme()
    late = str(subs[2].id)
    # month 1 is called, due on 10 January with 3 days' grace: owing is not yet overdue
    with pytest.raises(NothingOverdue) as early:
        await chit_service.do_mark_default(late, boss, "unpaid", now=at(1, 9))
    assert early.value.code == "nothing_overdue" and early.value.status == 409
    with pytest.raises(NothingOverdue):
        await chit_service.do_mark_default(late, boss, "unpaid", now=at(1, 13))
    # a paid-up subscriber is never overdue
    await pay(subs[3], people[3], at(1, 9))
    with pytest.raises(NothingOverdue):
        await chit_service.do_mark_default(str(subs[3].id), boss, "unpaid", now=at(1, 20))
    done = await chit_service.do_mark_default(late, boss, "unpaid", now=at(1, 14))
    assert done.status.value == "DEFAULTED"

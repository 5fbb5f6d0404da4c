"""What a new user's trial of chit funds found (issue #15): arrears withheld from every prize,
the foreman's too, so a later winner is never short; default only with instalments overdue
beyond the grace days; substitutes checked through the KYC service; start dates not in the
past; auction status and bid sentences; PATCH checks state first; the empty-history score."""

from __future__ import annotations

import datetime as dt

import pytest

from app.chits.documents import PaymentStatus, SchemeStatus
from app.chits.errors import (
    BidRefused,
    InvalidScheme,
    KycRequiredForChit,
    NothingOverdue,
    SchemeStateError,
)
from app.chits.flows import chit_flows
from app.chits.rules import month_result
from app.chits.schemas import SchemeFields
from app.chits.service import CASH, chit_service, receivable, scheme_room, shown_status
from app.identity import directory
from app.identity.documents import KycStatus
from app.identity.errors import UserNotFound
from app.kyc.service import kyc_service
from app.ledger.service import ledger_service
from app.realtime import eventlog
from tests.chits.factories import (
    active_scheme,
    admin,
    captured,
    foreman,
    pay,
    person,
    settings,
)

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


async def test_a_substitute_is_a_known_person_whose_kyc_the_kyc_service_verified() -> None:
    _, boss, _, subs = await active_scheme()
    gone = str(subs[2].id)
    await chit_service.do_mark_default(gone, boss, "unpaid", now=at(1, 14))
    for unknown in ("0123456789abcdef01234567", "nobody"):
        with pytest.raises(UserNotFound) as missing:
            await chit_service.do_substitute(gone, boss, unknown)
        assert (missing.value.status, missing.value.code) == (404, "user_not_found")
    fresh = await person("fresh", kyc=False)
    with pytest.raises(KycRequiredForChit) as refused:
        await chit_service.do_substitute(gone, boss, fresh.user_id)
    assert refused.value.details["kyc_status"] == "not_started"
    # a verified person: the account (what /me shows) and the KYC service agree
    ready = await person("ready")
    account = await directory.user(ready.user_id)
    assert account is not None and account.kyc_status == KycStatus.VERIFIED
    assert (await kyc_service.summary(ready.user_id)).status == KycStatus.VERIFIED
    taken = await chit_service.do_substitute(gone, boss, ready.user_id)
    assert taken.ticket == 3 and taken.catch_up == 10_000 * R


async def test_a_start_date_in_the_past_is_refused_at_create_patch_and_approval() -> None:
    boss, root = await foreman(), await admin()
    with pytest.raises(InvalidScheme) as create:
        await chit_service.do_create_scheme(boss, settings(), today=dt.date(2031, 1, 2))
    assert create.value.details == {
        "field": "start_date", "rule": "not_in_past", "today": "2031-01-02"}  # fmt: skip
    scheme = await chit_service.do_create_scheme(boss, settings(), today=dt.date(2031, 1, 1))
    sid = str(scheme.id)
    with pytest.raises(InvalidScheme) as patch:
        await chit_service.do_update_scheme(
            sid, boss, SchemeFields(start_date=dt.date(2030, 12, 31)), today=dt.date(2031, 1, 1)
        )
    assert patch.value.details["field"] == "start_date"
    await chit_service.do_submit(sid, boss)
    with pytest.raises(InvalidScheme) as approval:
        await chit_service.do_decide(sid, root, True, "", today=dt.date(2031, 1, 5))
    assert approval.value.details["rule"] == "not_in_past"
    assert (await chit_service.get_scheme(sid)).status == SchemeStatus.PENDING_APPROVAL
    # a pending scheme is no longer changed, whatever the patch holds: the state comes first
    with pytest.raises(SchemeStateError):
        await chit_service.do_update_scheme(sid, boss, SchemeFields(commission_bps=900))
    sent_back = await chit_service.do_decide(sid, root, False, "start later")
    assert sent_back.status == SchemeStatus.DRAFT


async def test_owing_now_counts_only_what_has_fallen_due() -> None:
    scheme, _, people, subs = await active_scheme()
    sid = str(scheme.id)
    for sub, who in zip(subs, people, strict=True):
        await pay(sub, who, at(1, 9))
    first = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert first is not None
    await chit_service.do_close_auction(str(first.id), at(1, 10, 1))
    # month 2 is called at month 1's close but falls due on 10 February
    split = await chit_service.owed_now_of(subs, dt.date(2031, 1, 10))
    assert split[str(subs[1].id)] == (0, 10_000 * R, "2031-02-10")
    on_the_day = await chit_service.owed_now_of(subs, dt.date(2031, 2, 10))
    assert on_the_day[str(subs[1].id)] == (10_000 * R, 0, None)


async def test_auction_status_bid_sentences_preview_in_rupees_and_an_empty_score() -> None:
    scheme, boss, people, subs = await active_scheme()
    sid = str(scheme.id)
    for sub, who in zip(subs, people, strict=True):
        await pay(sub, who, at(1, 9))
    first = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert first is not None
    assert shown_status(first, at(1, 9)) == "SCHEDULED"
    assert shown_status(first, at(1, 10)) == "OPEN"
    await chit_service.do_close_auction(str(first.id), at(1, 10, 1))
    for sub, who in zip(subs, people, strict=True):
        await pay(sub, who, at(2, 9))
    second = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert second is not None and shown_status(second, at(2, 10, 5)) == "OPEN"
    await chit_service.do_bid(sid, people[2].user_id, 4_000 * R, at(2, 10, 1))
    with pytest.raises(BidRefused) as low:
        await chit_service.do_bid(sid, people[3].user_id, 4_000 * R, at(2, 10, 2))
    assert low.value.code == "bid_not_above_best"
    assert "best bid is 4000.00" in low.value.message and "500.00" in low.value.message
    assert low.value.details["next_bid"] == "4500.00"
    await chit_service.do_close_auction(str(second.id), at(2, 10, 16))
    closed = await chit_service.auction(str(second.id), boss)
    assert shown_status(closed[0]) == "CLOSED"
    with pytest.raises(ValueError, match=r"2000\.00 must cover the commission of 2500\.00"):
        month_result(scheme.terms, 2_000 * R)
    newcomer = await person("newcomer")
    score = await chit_service.chit_score(newcomer.user_id, newcomer)
    assert score["has_history"] is False
    mine = await chit_service.chit_score(people[2].user_id, people[2])
    assert mine["has_history"] is True


async def test_a_failed_instalment_records_why_and_tells_the_room() -> None:
    _, _, people, subs = await active_scheme()
    payment = await chit_service.do_open_instalment(str(subs[1].id), people[1])
    before = await eventlog.head(scheme_room(payment.scheme_id))
    outcome = await chit_service.do_apply_payment_event(
        captured(payment, at(1, 9), kind="payment.failed")
    )
    assert outcome.applied and outcome.payment is not None
    assert outcome.payment.status == PaymentStatus.FAILED
    assert outcome.payment.last_error and "declined by sandbox" in outcome.payment.last_error
    told = await eventlog.since(scheme_room(payment.scheme_id), before, 10)
    assert [(e.event, e.data["status"], e.data["ticket"]) for e in told] == [
        ("chit:payment", "FAILED", 2)]  # fmt: skip
    assert "declined" in told[0].data["reason"]
    # a second delivery of the same failure changes nothing
    again = await chit_service.do_apply_payment_event(
        captured(payment, at(1, 9), kind="payment.failed")
    )
    assert not again.applied

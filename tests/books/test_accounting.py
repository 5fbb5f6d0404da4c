"""Unit-value accounting end to end at the service level, against the real database
(docs/domain.md, unit-value accounting; every figure exact to the paisa and the micro-unit)."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from app.audit.service import audit_service, club_chain
from app.books import repository
from app.books.documents import ContributionStatus, WithdrawalStatus
from app.books.errors import (
    BackdatedEntry,
    InsufficientCash,
    InvalidValuation,
    PriceMissing,
    WithdrawalRefused,
)
from app.books.portfolio import portfolio_out, snapshot
from app.books.service import books_service
from app.clubs import repository as clubs_repository
from app.clubs.errors import ClubNotFound, RoleRequired
from app.clubs.service import club_service
from app.extensions import Services
from app.ledger import accounts
from app.ledger.service import ledger_service
from tests.clubs.factories import captured, club_with_members, new_user, paid_contribution

pytestmark = pytest.mark.usefixtures("services")

D1, D2, D3, D4 = (dt.date(2026, 1, 5), dt.date(2026, 2, 2), dt.date(2026, 3, 2),
                  dt.date(2026, 4, 6))  # fmt: skip


def half_even(value: Fraction) -> int:
    return round(value)


async def test_the_club_story_is_exact_to_the_paisa(services: Services) -> None:
    # A dollar club trading a dollar stock: no conversion (tests/clubs14/test_fx_books.py).
    club, (alice, bob) = await club_with_members(2, withdrawal_fee_bps=100, currency="USD")
    club_id = str(club.id)

    # Two members pay in; money received is a liability until units are issued.
    await paid_contribution(club, alice, 1_000_000, D1 - dt.timedelta(days=3))
    await paid_contribution(club, bob, 500_000, D1 - dt.timedelta(days=2))
    books = await books_service.books(club_id)
    assert (books.cash, books.liabilities, books.units) == (1_500_000, 1_500_000, 0)

    # First valuation: no units yet, so the starting unit value (₹10) applies.
    first = await books_service.do_record_valuation(club_id, alice, valuation_date=D1,
                                                         prices={})  # fmt: skip
    assert (first.nav, first.units, first.unit_value) == (0, 0, "10.0000")
    assert first.units_after == 1_500_000_000 and first.nav_after == 1_500_000
    alice_m = await clubs_repository.get_membership(club_id, alice)
    bob_m = await clubs_repository.get_membership(club_id, bob)
    assert alice_m is not None and bob_m is not None
    assert (alice_m.units, alice_m.paid_in) == (1_000_000_000, 1_000_000)
    assert (bob_m.units, bob_m.paid_in) == (500_000_000, 500_000)

    # The treasurer buys 10 shares at ₹1,000.00 with ₹20.00 costs; a valuation at ₹1,200.00.
    await books_service.do_record_trade(
        club_id, alice, side="buy", symbol="hd", quantity=10, price=100_000, fees=2_000,
        trade_date=D1 + dt.timedelta(days=1), key="t1",
    )  # fmt: skip
    second = await books_service.do_record_valuation(
        club_id, alice, valuation_date=D2, prices={"HD": 120_000}
    )
    assert second.cash == 498_000 and second.market_value == 1_200_000
    assert (second.nav, second.units, second.unit_value) == (1_698_000, 1_500_000_000, "11.3200")

    # A third member joins and buys in at the new unit value (11.32), not the old one.
    _, token = await club_service.do_create_invite(
        club_id, alice, expires_in=dt.timedelta(hours=1), max_uses=1
    )
    carol = new_user()
    await club_service.do_accept_invite(token, carol)
    await paid_contribution(club, carol, 300_000, D2 + dt.timedelta(days=8))
    third = await books_service.do_record_valuation(
        club_id, alice, valuation_date=D3, prices={"HD": 120_000}
    )
    assert third.nav == 1_698_000 and third.unit_value == "11.3200"  # receipts do not move it
    carol_units = half_even(Fraction(300_000 * 10**6, 1132))
    assert carol_units == 265_017_668
    assert third.settlements[0].units == carol_units
    assert third.units_after == 1_500_000_000 + carol_units
    assert third.nav_after == 1_998_000

    # Bob withdraws ₹2,000.00 gross at the next valuation (price ₹1,300.00), 1 % fee.
    withdrawal = await books_service.do_request_withdrawal(club_id, bob, amount=200_000, full=False)
    fourth = await books_service.do_record_valuation(
        club_id, alice, valuation_date=D4, prices={"HD": 130_000}
    )
    units_out = 1_500_000_000 + carol_units
    nav = 798_000 + 1_300_000
    assert (fourth.nav, fourth.units) == (nav, units_out)
    per_micro = Fraction(nav, units_out)  # paise per micro-unit, exact
    bob_redeemed = half_even(Fraction(200_000) / per_micro)
    gross = half_even(bob_redeemed * per_micro)
    fee = half_even(Fraction(gross, 100))
    settled = await repository.get_withdrawal(str(withdrawal.id))
    assert settled is not None and settled.status == WithdrawalStatus.SETTLED
    assert (settled.units, settled.gross, settled.fee, settled.net) == (
        bob_redeemed, gross, fee, gross - fee)  # fmt: skip
    assert abs(gross - 200_000) <= 1  # within one paisa of what was asked

    # The fee stays in the club; pay the net out of cash.
    await books_service.do_pay_withdrawal(club_id, str(withdrawal.id), alice)
    _, statement = await books_service.valuation_at(club_id, alice, None)
    positions = {p.user_id: p for p in await books_service.member_positions(club, statement)}
    assert positions[alice].units == 1_000_000_000
    assert positions[bob].units == 500_000_000 - bob_redeemed
    assert positions[bob].withdrawn == gross - fee
    assert positions[carol].paid_in == 300_000
    uv = Fraction(fourth.nav_after * 10**6, fourth.units_after)
    assert positions[alice].value == half_even(Fraction(1_000_000_000) * uv / 10**6)
    total_value = sum(p.value for p in positions.values())
    assert abs(total_value - fourth.nav_after) <= len(positions)  # only per-member rounding

    # The books: trial balance sums to zero, cash is exactly what moved.
    rows = await ledger_service.trial_balance(club_id)
    assert sum(row.balance for row in rows) == 0
    balances = {row.account: row.balance for row in rows}
    assert balances[accounts.CASH] == 1_800_000 - 1_002_000 - (gross - fee)
    assert balances[accounts.INVESTMENTS] == 1_300_000
    assert balances[accounts.WITHDRAWAL_FEES] == -fee
    assert balances[accounts.member_capital(carol)] == -300_000
    assert accounts.UNALLOCATED_CONTRIBUTIONS not in balances
    assert (await audit_service.verify(club_chain(club_id))).ok


async def test_a_payment_event_applies_once(services: Services) -> None:
    club, (owner,) = await club_with_members(1)
    contribution = await books_service.do_open_contribution(
        str(club.id), owner, amount=250_000, method="online"
    )
    event = captured(contribution, D1)
    outcomes = [await books_service.do_apply_payment_event(event) for _ in range(3)]
    assert [o.applied for o in outcomes] == [True, False, False]
    # The same payment announced under another event id (order.paid after payment.captured)
    # is not received twice.
    same = captured(contribution, D1)
    same.payment_id = event.payment_id
    assert (await books_service.do_apply_payment_event(same)).applied is False
    # A second, different payment for the same contribution is real money: it is kept, in
    # unmatched payments (a liability), never dropped, and never received twice.
    second = captured(contribution, D1)
    for _ in range(2):
        assert (await books_service.do_apply_payment_event(second)).applied is False
    balances = await ledger_service.balances(str(club.id))
    assert balances[accounts.CASH] == 500_000
    assert balances[accounts.UNALLOCATED_CONTRIBUTIONS] == -250_000
    assert balances[accounts.UNMATCHED_PAYMENTS] == -250_000
    books = await books_service.books(str(club.id))
    assert books.liabilities == 500_000 and books.free_cash == 0
    stored = await repository.get_contribution(str(contribution.id))
    assert stored is not None and stored.status == ContributionStatus.RECEIVED
    assert stored.payment_date == D1.isoformat()


async def test_a_failed_payment_never_undoes_a_receipt(services: Services) -> None:
    club, (owner,) = await club_with_members(1)
    contribution = await books_service.do_open_contribution(
        str(club.id), owner, amount=10_000, method="online"
    )
    await books_service.do_apply_payment_event(captured(contribution, D1))
    failed = captured(contribution, D1).__class__(
        **{**captured(contribution, D1).asdict(), "kind": "payment.failed"}
    )
    assert (await books_service.do_apply_payment_event(failed)).applied is False
    stored = await repository.get_contribution(str(contribution.id))
    assert stored is not None and stored.status == ContributionStatus.RECEIVED


async def test_valuation_rules(services: Services) -> None:
    club, (owner, member) = await club_with_members(2, currency="USD")
    club_id = str(club.id)
    await paid_contribution(club, owner, 500_000, D1)
    with pytest.raises(RoleRequired):
        await books_service.do_record_valuation(club_id, member, valuation_date=D1,
                                                     prices={})  # fmt: skip
    with pytest.raises(ClubNotFound):
        await books_service.do_record_valuation(club_id, new_user(), valuation_date=D1,
                                                     prices={})  # fmt: skip
    with pytest.raises(InvalidValuation):
        await books_service.do_record_valuation(
            club_id, owner, valuation_date=dt.date.today() + dt.timedelta(days=2), prices={}
        )
    await books_service.do_record_valuation(club_id, owner, valuation_date=D1, prices={})
    with pytest.raises(InvalidValuation):  # not after the last one
        await books_service.do_record_valuation(club_id, owner, valuation_date=D1,
                                                     prices={})  # fmt: skip
    await books_service.do_record_trade(
        club_id, owner, side="buy", symbol="KO", quantity=2, price=100_000, fees=0,
        trade_date=D1, key="x",
    )  # fmt: skip
    with pytest.raises(PriceMissing) as missing:
        await books_service.do_record_valuation(club_id, owner, valuation_date=D2,
                                                     prices={})  # fmt: skip
    assert missing.value.details == {"symbols": ["KO"]}
    with pytest.raises(InvalidValuation):
        await books_service.do_record_valuation(
            club_id, owner, valuation_date=D2, prices={"KO": 100_000, "WMT": 1}
        )
    with pytest.raises(InsufficientCash):
        await books_service.do_record_trade(
            club_id, owner, side="buy", symbol="KO", quantity=4, price=100_000, fees=0,
            trade_date=D1, key="too-much",
        )  # fmt: skip
    # Nothing above changed the books: 5,000.00 in, 2,000.00 spent.
    assert (await ledger_service.balances(club_id))[accounts.CASH] == 300_000


async def test_withdrawal_rules(services: Services) -> None:
    club, (owner, member) = await club_with_members(2)
    club_id = str(club.id)
    with pytest.raises(WithdrawalRefused) as none_held:
        await books_service.do_request_withdrawal(club_id, member, amount=None, full=True)
    assert none_held.value.details["reason"] == "no_units"
    await paid_contribution(club, member, 100_000, D1)
    await books_service.do_record_valuation(club_id, owner, valuation_date=D1, prices={})
    with pytest.raises(WithdrawalRefused) as too_much:
        await books_service.do_request_withdrawal(club_id, member, amount=100_001,
                                                       full=False)  # fmt: skip
    assert too_much.value.details == {"reason": "exceeds_value", "value": 100_000}
    full = await books_service.do_request_withdrawal(club_id, member, amount=None, full=True)
    with pytest.raises(WithdrawalRefused):
        await books_service.do_request_withdrawal(club_id, member, amount=1, full=False)
    with pytest.raises(WithdrawalRefused):  # not settled yet
        await books_service.do_pay_withdrawal(club_id, str(full.id), owner)
    await books_service.do_record_valuation(club_id, owner, valuation_date=D2, prices={})
    settled = await repository.get_withdrawal(str(full.id))
    assert settled is not None
    assert (settled.units, settled.gross, settled.fee, settled.net) == (
        100_000_000, 100_000, 0, 100_000)  # fmt: skip
    membership = await clubs_repository.get_membership(club_id, member)
    assert membership is not None and membership.units == 0
    paid = await books_service.do_pay_withdrawal(club_id, str(full.id), owner)
    assert paid.status == WithdrawalStatus.PAID
    with pytest.raises(WithdrawalRefused):  # paid once only
        await books_service.do_pay_withdrawal(club_id, str(full.id), owner)
    assert (await ledger_service.balances(club_id))[accounts.CASH] == 0


async def test_a_payment_of_another_amount_is_kept_apart(services: Services) -> None:
    club, (owner,) = await club_with_members(1)
    contribution = await books_service.do_open_contribution(
        str(club.id), owner, amount=1_000_000, method="online"
    )
    short = captured(contribution, D1, amount=100)
    assert (await books_service.do_apply_payment_event(short)).applied is False
    stored = await repository.get_contribution(str(contribution.id))
    assert stored is not None
    assert (stored.status, stored.amount) == (ContributionStatus.AWAITING_PAYMENT, 1_000_000)
    balances = await ledger_service.balances(str(club.id))
    assert (balances[accounts.CASH], balances[accounts.UNMATCHED_PAYMENTS]) == (100, -100)
    # The right amount still lands normally afterwards.
    assert (await books_service.do_apply_payment_event(captured(contribution, D1))).applied


async def test_money_not_yet_in_units_cannot_be_invested_or_backdated(
    services: Services,
) -> None:
    club, (owner, member) = await club_with_members(2)
    club_id = str(club.id)
    await paid_contribution(club, owner, 500_000, D1)
    await books_service.do_record_valuation(club_id, owner, valuation_date=D1, prices={})
    await paid_contribution(club, member, 400_000, D2)  # received, no units yet
    with pytest.raises(InsufficientCash) as refused:  # only the owner's 5,000.00 is free
        await books_service.do_record_trade(
            club_id, owner, side="buy", symbol="HD", quantity=6, price=100_000, fees=0,
            trade_date=D2, key="newcomer-money",
        )  # fmt: skip
    assert refused.value.details["free_cash"] == "5000.00"
    with pytest.raises(BackdatedEntry):
        await books_service.do_record_trade(
            club_id, owner, side="buy", symbol="HD", quantity=1, price=100_000, fees=0,
            trade_date=D1 - dt.timedelta(days=1), key="old",
        )  # fmt: skip
    with pytest.raises(InvalidValuation) as early:  # the books hold a payment dated D2
        await books_service.do_record_valuation(
            club_id, owner, valuation_date=D2 - dt.timedelta(days=1), prices={}
        )
    assert early.value.details == {"latest_entry_date": D2.isoformat()}
    with pytest.raises(InvalidValuation):  # a new contribution cannot aim at the past
        await books_service.do_open_contribution(
            club_id, member, amount=1_000, method="online", valuation_date=D1
        )


async def test_the_portfolio_keeps_the_gain_of_a_position_sold_in_full(services: Services) -> None:
    club, (owner,) = await club_with_members(1, currency="USD")
    club_id = str(club.id)
    await paid_contribution(club, owner, 500_000, D1)
    await books_service.do_record_valuation(club_id, owner, valuation_date=D1, prices={})
    for side, price, key in (("buy", 100_000, "in"), ("sell", 110_000, "out")):
        await books_service.do_record_trade(
            club_id, owner, side=side, symbol="KO", quantity=2, price=price, fees=0,
            trade_date=D2, key=key,
        )  # fmt: skip
    shown = portfolio_out(await snapshot(club_id, services.require_redis()))
    assert shown.positions == []  # nothing held any more …
    assert shown.realised == "200.00"  # … but its gain was made: 2 × (1,100.00 − 1,000.00)
    assert (await ledger_service.balances(club_id))[accounts.REALISED_GAINS] == -20_000

"""Withdrawals and charges settle in the order they were made (issue #20, part A;
docs/domain.md, "Redemptions settle in the order they were made"): a charge made before a
withdrawal is paid in full, and the withdrawal gets what is left. Worked by hand below."""

from __future__ import annotations

import datetime as dt

import pytest

from app.books.documents import ChargeStatus, MemberCharge, Withdrawal, WithdrawalStatus
from app.books.service import books_service
from app.clubs.service import club_service
from app.ledger.service import ledger_service
from tests.clubs.factories import club_with_members, paid_contribution

pytestmark = pytest.mark.usefixtures("services")

D1, D2, D3 = dt.date(2026, 1, 5), dt.date(2026, 2, 2), dt.date(2026, 3, 2)


async def test_a_charge_made_before_a_withdrawal_settles_first_in_full() -> None:
    club, (owner, m5) = await club_with_members(2, withdrawal_fee_bps=0, currency="USD")
    club_id = str(club.id)
    # The owner pays in 1,000.00 at the starting 10.00: 100 units; all of it buys 10 HD @ 100.
    await paid_contribution(club, owner, 100_000, D1 - dt.timedelta(days=2))
    await books_service.do_record_valuation(club_id, owner, valuation_date=D1, prices={})
    await books_service.do_record_trade(
        club_id, owner, side="buy", symbol="HD", quantity=10, price=10_000, fees=0,
        trade_date=D1 + dt.timedelta(days=1), key="ten-hd",
    )  # fmt: skip
    # HD at 105.00: NAV 1,050.00 over 100 units = 10.50. m5's 1,094.00 buys
    # 1,094 ÷ 10.50 = 104.1904761… → 104.190476 units (half-even to the micro-unit).
    await paid_contribution(club, m5, 109_400, D1 + dt.timedelta(days=2))
    await books_service.do_record_valuation(
        club_id, owner, valuation_date=D2, prices={"HD": 10_500}
    )
    member = await club_service.membership(club_id, m5)
    assert member is not None and member.units == 104_190_476
    # First a charge of 300.00, then a withdrawal of 900.00 (more than is left after it).
    charge = await books_service.do_charge_member(
        club_id, owner, user_id=m5, amount=30_000, reason="share of the audit fee"
    )
    withdrawal = await books_service.do_request_withdrawal(club_id, m5, amount=90_000, full=False)
    valuation = await books_service.do_record_valuation(
        club_id, owner, valuation_date=D3, prices={"HD": 10_500}
    )
    # At D3: NAV = 1,094.00 cash + 1,050.00 HD = 2,144.00 over 204.190476 units.
    assert (valuation.nav, valuation.units) == (214_400, 204_190_476)
    # The charge first: 300 × 204.190476 ÷ 2,144 = 28.5714285… → 28.571429 units, worth
    # 28.571429 × 2,144 ÷ 204.190476 = 300.0000… → 300.00: paid in full.
    # The withdrawal then gets the rest: 104.190476 − 28.571429 = 75.619047 units, worth
    # 75.619047 × 2,144 ÷ 204.190476 = 793.99999… → 794.00 (it asked for 900.00 = 85.714286).
    settled_charge = await MemberCharge.get(charge.id)
    assert settled_charge is not None and settled_charge.status is ChargeStatus.SETTLED
    assert (settled_charge.units, settled_charge.charged) == (28_571_429, 30_000)
    settled = await Withdrawal.get(withdrawal.id)
    assert settled is not None and settled.status is WithdrawalStatus.SETTLED
    assert (settled.units, settled.gross, settled.fee, settled.net) == (
        75_619_047, 79_400, 0, 79_400)  # fmt: skip
    assert [(s.kind, s.units, s.amount) for s in valuation.settlements] == [
        ("charge", -28_571_429, 30_000), ("withdrawal", -75_619_047, 79_400)]  # fmt: skip
    member = await club_service.membership(club_id, m5)
    assert member is not None and member.units == 0
    assert sum((await ledger_service.balances(club_id)).values()) == 0


async def test_a_withdrawal_made_before_a_charge_settles_first() -> None:
    club, (owner, m5) = await club_with_members(2, withdrawal_fee_bps=0)
    club_id = str(club.id)
    await paid_contribution(club, m5, 100_000, D1 - dt.timedelta(days=2))
    await books_service.do_record_valuation(club_id, owner, valuation_date=D1, prices={})
    # 100 units at 10.00: a full withdrawal first takes all of them; the later charge finds
    # nothing left and is cancelled.
    withdrawal = await books_service.do_request_withdrawal(club_id, m5, amount=None, full=True)
    charge = await books_service.do_charge_member(
        club_id, owner, user_id=m5, amount=5_000, reason="late fee"
    )
    await books_service.do_record_valuation(club_id, owner, valuation_date=D2, prices={})
    settled = await Withdrawal.get(withdrawal.id)
    assert settled is not None and (settled.units, settled.gross) == (100_000_000, 100_000)
    cancelled = await MemberCharge.get(charge.id)
    assert cancelled is not None and cancelled.status is ChargeStatus.CANCELLED

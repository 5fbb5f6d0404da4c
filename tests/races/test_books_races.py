"""Money races of the books, through ``books_service`` against the real database (issue #20):
payouts beyond the club's cash, one payout twice, and the KYC yearly limit."""

from __future__ import annotations

import datetime as dt

import pytest

from app.books.documents import Withdrawal, WithdrawalStatus
from app.books.errors import InsufficientCash, WithdrawalRefused
from app.books.service import books_service
from app.clubs.documents import Club
from app.config import get_settings
from app.kyc.errors import KycRequired
from app.kyc.service import kyc_service
from app.ledger.documents import JournalEntry
from app.ledger.service import ledger_service
from tests.clubs.factories import club_with_members, paid_contribution
from tests.races.harness import race, split

pytestmark = pytest.mark.usefixtures("services")

D1, D2 = dt.date(2026, 1, 5), dt.date(2026, 2, 2)


async def club_with_payables(*withdrawals: int) -> tuple[Club, str, list[Withdrawal]]:
    """A club with ₹1,000.00 of free cash (₹4,000 paid in, ₹3,000 invested in 10 INFY at
    ₹300) and one settled, unpaid withdrawal of each gross amount (paise; no fee), one per
    member. Returns the club, its owner (who pays out) and the settled withdrawals."""
    club, users = await club_with_members(
        len(withdrawals) + 1, withdrawal_fee_bps=0, currency="USD"
    )  # a dollar stock, no conversion
    club_id, owner = str(club.id), users[0]
    paying = users[1:]
    each = 400_000 // len(paying)
    for user in paying:
        await paid_contribution(club, user, each, D1 - dt.timedelta(days=2))
    await books_service.do_record_valuation(club_id, owner, valuation_date=D1, prices={})
    await books_service.do_record_trade(
        club_id, owner, side="buy", symbol="HD", quantity=10, price=30_000, fees=0,
        trade_date=D1 + dt.timedelta(days=1), key="buy-infy",
    )  # fmt: skip
    requested = [
        await books_service.do_request_withdrawal(club_id, user, amount=amount, full=False)
        for user, amount in zip(paying, withdrawals, strict=True)
    ]
    await books_service.do_record_valuation(
        club_id, owner, valuation_date=D2, prices={"HD": 30_000}
    )
    settled = [await Withdrawal.get(w.id) for w in requested]
    assert all(w is not None and w.status is WithdrawalStatus.SETTLED for w in settled)
    books = await books_service.books(club_id)
    assert (books.cash, books.payable) == (100_000, sum(withdrawals))
    return club, owner, [w for w in settled if w is not None]


async def assert_balanced(club_id: str) -> None:
    """Every entry's lines and the whole trial balance sum to zero."""
    assert sum((await ledger_service.balances(club_id)).values()) == 0
    for entry in await JournalEntry.find({"pool_id": club_id}).to_list():
        assert sum(line.amount for line in entry.lines) == 0, entry.idempotency_key


async def payouts(club_id: str) -> list[JournalEntry]:
    return await JournalEntry.find({"pool_id": club_id, "kind": "withdrawal_paid"}).to_list()


async def test_two_payouts_beyond_the_cash_pay_one_and_refuse_the_other() -> None:
    # Each payout reads the club's cash from its journal (snapshot reads) and inserts a new
    # entry: on its own that is write skew, both would pass. What makes the second one conflict
    # and retry (seeing ₹300) is a write both transactions make to one document: the club's
    # money sequence (``do_bump_money_seq``), and the club's audit-chain head as well. Shown
    # once (2026-12-05) by removing both writes: 4 runs out of 4 paid both (cash −₹400).
    # Removing only the bump still passes: the audit head alone serialises them.
    club, owner, (first, second) = await club_with_payables(70_000, 70_000)
    club_id = str(club.id)
    assert (first.net, second.net) == (70_000, 70_000)

    results = await race([
        lambda: books_service.do_pay_withdrawal(club_id, str(first.id), owner),
        lambda: books_service.do_pay_withdrawal(club_id, str(second.id), owner),
    ])  # fmt: skip
    (paid,), (refused,) = split(results, InsufficientCash)
    assert isinstance(refused, InsufficientCash) and refused.code == "insufficient_cash"
    assert refused.status == 409
    assert refused.details["free"] == "300.00" and refused.details["needed"] == "700.00"
    assert paid.status is WithdrawalStatus.PAID

    books = await books_service.books(club_id)
    assert books.cash == 30_000  # ₹300.00
    assert books.payable == 70_000  # the refused one is still owed
    entries = await payouts(club_id)
    assert [e.idempotency_key for e in entries] == [f"withdrawal-paid:{paid.id}"]
    unpaid = await Withdrawal.get(second.id if paid.id == first.id else first.id)
    assert unpaid is not None and unpaid.status is WithdrawalStatus.SETTLED
    await assert_balanced(club_id)


async def test_the_same_payout_twice_at_once_pays_once() -> None:
    club, owner, (withdrawal,) = await club_with_payables(70_000)
    club_id = str(club.id)

    results = await race(
        [lambda: books_service.do_pay_withdrawal(club_id, str(withdrawal.id), owner)] * 2
    )
    (paid,), (refused,) = split(results, WithdrawalRefused)
    assert isinstance(refused, WithdrawalRefused)
    assert refused.details == {"reason": "already_paid", "status": "paid"}
    assert paid.status is WithdrawalStatus.PAID
    assert (await books_service.books(club_id)).cash == 30_000
    assert len(await payouts(club_id)) == 1
    await assert_balanced(club_id)


async def test_the_kyc_yearly_limit_holds_under_two_contributions_at_once() -> None:
    limit = get_settings().kyc_contribution_limit
    assert limit == 5_000_000  # ₹50,000.00
    club, (owner, member) = await club_with_members(2)
    club_id = str(club.id)
    await books_service.do_contribute(club_id, member, amount=4_500_000, method="manual")

    results = await race([
        lambda: books_service.do_contribute(club_id, member, amount=400_000, method="manual"),
        lambda: books_service.do_contribute(club_id, member, amount=400_000, method="manual"),
    ])  # fmt: skip
    (accepted,), (refused,) = split(results, KycRequired)
    assert isinstance(refused, KycRequired) and refused.code == "kyc_required"
    assert refused.details["contributed"] == "49000.00"
    assert accepted.amount == 400_000

    since = kyc_service.limit_period_start()
    total = await books_service.contributed_since(member, since)
    assert total == 4_900_000 <= limit
    # The owner (another person) has a limit of their own.
    await books_service.do_contribute(club_id, owner, amount=limit, method="manual")


async def test_many_contributions_at_once_never_pass_the_limit() -> None:
    club, (_, member) = await club_with_members(2)
    club_id = str(club.id)
    results = await race(
        [lambda: books_service.do_contribute(club_id, member, amount=700_000, method="manual")] * 10
    )
    accepted, refused = split(results, KycRequired)
    assert (len(accepted), len(refused)) == (7, 3)  # 7 × ₹7,000 = ₹49,000; an 8th is too many
    total = await books_service.contributed_since(member, kyc_service.limit_period_start())
    assert total == 4_900_000

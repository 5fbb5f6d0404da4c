"""The KYC yearly limit against money that arrives late or in dollars (issue #20): a capture
for a failed checkout takes its allowance again (or its money waits as unmatched for a
refund), and dollars count as rupees at the ECB rate, not one for one."""

from __future__ import annotations

import datetime as dt
import uuid
from fractions import Fraction

import pytest

from app.books.documents import Contribution, ContributionStatus
from app.books.service import books_service
from app.fx import rate_on
from app.kyc.documents import KycAllowance
from app.kyc.errors import KycRequired
from app.kyc.service import financial_year_start, kyc_service
from app.ledger.documents import JournalEntry
from streams.records import PaymentEventV1
from tests.clubs.factories import captured, club_with_members

pytestmark = pytest.mark.usefixtures("services")

TODAY = dt.datetime.now(dt.UTC).date()


def failed(contribution: Contribution) -> PaymentEventV1:
    """The event of a provider's ``payment.failed`` for the contribution's checkout."""
    event = f"evt_{uuid.uuid4().hex[:10]}"
    return PaymentEventV1(
        id=f"sandbox:{event}", provider="sandbox", provider_event_id=event,
        kind="payment.failed", pool_type="club", pool_id=contribution.club_id,
        contribution_id=str(contribution.id), payment_id=f"pay_{uuid.uuid4().hex[:10]}",
        amount=contribution.amount, currency=contribution.currency,
        occurred_at=f"{TODAY.isoformat()}T09:00:00+00:00",
    )  # fmt: skip


async def counted(user: str) -> int:
    return await books_service.contributed_since(user, kyc_service.limit_period_start())


async def reserved(user: str) -> int:
    year = financial_year_start(TODAY).isoformat()
    allowance = await KycAllowance.find_one({"user_id": user, "year_start": year})
    return 0 if allowance is None else allowance.reserved


async def test_a_capture_after_a_failed_checkout_cannot_pass_the_limit() -> None:
    club, (_, member) = await club_with_members(2)
    club_id = str(club.id)
    # ₹8,000 online; the checkout fails, so it no longer counts toward the limit.
    late = await books_service.do_open_contribution(
        club_id, member, amount=800_000, method="online"
    )
    assert (await books_service.do_apply_payment_event(failed(late))).applied
    # ₹45,000 paid by hand meanwhile (accepted: the failed ₹8,000 is not counted).
    await books_service.do_contribute(club_id, member, amount=4_500_000, method="manual")
    assert await counted(member) == 4_500_000

    # The sandbox captures the failed order after all: ₹53,000 would break ₹50,000.
    outcome = await books_service.do_apply_payment_event(captured(late, TODAY))
    assert not outcome.applied
    again = await Contribution.get(late.id)
    assert again is not None and again.status is ContributionStatus.FAILED
    assert await counted(member) == 4_500_000
    # The money is kept, as unmatched, for the treasurer to refund: Dr cash / Cr unmatched.
    [entry] = await JournalEntry.find({"pool_id": club_id}).to_list()
    assert entry.kind == "payment_unmatched"
    assert sorted((x.account, x.amount) for x in entry.lines) == [
        ("assets:cash", 800_000), ("liabilities:unmatched_payments", -800_000),
    ]  # fmt: skip


async def test_a_capture_after_a_failed_checkout_within_the_limit_is_received() -> None:
    club, (_, member) = await club_with_members(2)
    club_id = str(club.id)
    late = await books_service.do_open_contribution(
        club_id, member, amount=800_000, method="online"
    )
    assert (await books_service.do_apply_payment_event(failed(late))).applied
    await books_service.do_contribute(club_id, member, amount=4_000_000, method="manual")
    before = await reserved(member)

    outcome = await books_service.do_apply_payment_event(captured(late, TODAY))
    assert outcome.applied and outcome.contribution is not None
    assert outcome.contribution.status is ContributionStatus.RECEIVED
    assert await counted(member) == 4_800_000  # ₹48,000 ≤ ₹50,000
    assert await reserved(member) == before + 800_000  # the allowance taken again


async def test_dollars_count_toward_the_rupee_limit_at_the_ecb_rate() -> None:
    # Worked by hand: the ECB published 1 EUR = 1.1172 USD = 106.084 INR on 2026-10-30 (the
    # bundled file's last day, used for any later day); USD→INR = 106.084 / 1.1172 =
    # 94.955245256…, × 10^8 rounded half-even = 9 495 524 526.
    fx = rate_on("USD", "INR", TODAY)
    assert fx.rate_date == dt.date(2026, 10, 30)
    assert fx.rate_e8 == round(Fraction("106.084") / Fraction("1.1172") * 10**8) == 9_495_524_526
    club, (_, member) = await club_with_members(2, currency="USD")
    club_id = str(club.id)

    # $500.00 = 50 000 cents × 94.95524526 = 4 747 762.263 → ₹47,477.62 (not ₹500.00).
    first = await books_service.do_contribute(club_id, member, amount=50_000, method="manual")
    assert await counted(member) == 4_747_762
    assert first.kyc_inr == 4_747_762
    assert await reserved(member) == 4_747_762
    # $30.00 = 284 865.7358 → ₹2,848.66: ₹50,326.28 in all, over the limit.
    with pytest.raises(KycRequired) as refused:
        await books_service.do_contribute(club_id, member, amount=3_000, method="manual")
    assert (refused.value.details["contributed"], refused.value.details["amount"]) == (
        "47477.62", "2848.66",
    )  # fmt: skip
    assert await reserved(member) == 4_747_762  # a refusal takes nothing
    # $25.00 = 237 388.113 → ₹2,373.88: ₹49,851.50 in all, accepted.
    await books_service.do_contribute(club_id, member, amount=2_500, method="manual")
    assert await counted(member) == 4_747_762 + 237_388
    # The old one-for-one count would have accepted $40,000 as "₹40,000": now refused.
    with pytest.raises(KycRequired):
        await books_service.do_contribute(club_id, member, amount=4_000_000, method="manual")

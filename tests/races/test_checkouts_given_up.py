"""Money in flight that nobody will pay (issue #20): an online checkout left unpaid kept its
member from leaving and counted toward the KYC allowance for ever. The contributor (or the
treasury) gives it up, or it expires after ``checkout_expiry_hours``; money the provider
captures for it afterwards is still booked, for the member while they belong, else as unmatched
money to refund. A manual approval commits together with the payment outcome it publishes."""

from __future__ import annotations

import datetime as dt

import pytest

from app.books.documents import Contribution, ContributionStatus
from app.books.errors import ContributionNotFound, ContributionStateError
from app.books.service import books_service
from app.clubs.errors import PendingMoney
from app.clubs.service import club_service
from app.config import get_settings
from app.errors import ServiceUnavailable
from app.extensions import Services
from app.ledger.documents import JournalEntry
from app.payments.documents import PaymentOutcome
from app.payments.service import payment_service
from app.realtime import eventlog
from app.realtime.rooms import club_room
from tests.clubs.factories import captured, club_with_members
from tests.payments.sandbox_client import SandboxClient

pytestmark = pytest.mark.usefixtures("services")
TODAY = dt.datetime.now(dt.UTC).date()


async def test_a_member_gives_up_an_unpaid_checkout_and_may_then_leave() -> None:
    club, (owner, alice, bob) = await club_with_members(3)
    club_id = str(club.id)
    head = await eventlog.head(club_room(club_id))
    open_ = await books_service.do_open_contribution(club_id, alice, amount=50_000,
                                                     method="online")  # fmt: skip
    with pytest.raises(PendingMoney):
        await club_service.do_leave(club_id, alice)
    with pytest.raises(ContributionNotFound):  # another member cannot, nor even see it
        await books_service.do_cancel_checkout(club_id, str(open_.id), bob)
    cancelled = await books_service.do_cancel_checkout(club_id, str(open_.id), alice)
    assert cancelled.status is ContributionStatus.FAILED
    stored = await Contribution.get(open_.id)
    assert stored is not None and stored.status is ContributionStatus.FAILED
    assert (stored.decision_reason, stored.decided_by) == ("checkout_cancelled", alice)
    with pytest.raises(ContributionStateError) as twice:
        await books_service.do_cancel_checkout(club_id, str(open_.id), alice)
    assert twice.value.code == "contribution_state"
    told = [(e.data["status"], e.data["reason"])
            for e in await eventlog.since(club_room(club_id), head, 50)
            if e.event == "contribution:changed"]  # fmt: skip
    assert told == [("awaiting_payment", None), ("failed", "checkout_cancelled")]
    await club_service.do_leave(club_id, alice)  # nothing in flight any more

    # The treasury may give up a member's checkout too; a paid one cannot be given up.
    other = await books_service.do_open_contribution(club_id, bob, amount=20_000,
                                                     method="online")  # fmt: skip
    assert (await books_service.do_apply_payment_event(captured(other, TODAY))).applied
    with pytest.raises(ContributionStateError):
        await books_service.do_cancel_checkout(club_id, str(other.id), owner)
    unpaid = await books_service.do_open_contribution(club_id, bob, amount=30_000,
                                                      method="online")  # fmt: skip
    await books_service.do_cancel_checkout(club_id, str(unpaid.id), owner)


async def test_money_captured_after_giving_up_is_the_members_or_waits_for_a_refund() -> None:
    club, (_, alice, bob) = await club_with_members(3)
    club_id = str(club.id)
    stays = await books_service.do_open_contribution(club_id, alice, amount=40_000,
                                                     method="online")  # fmt: skip
    leaves = await books_service.do_open_contribution(club_id, bob, amount=60_000,
                                                      method="online")  # fmt: skip
    for contribution, who in ((stays, alice), (leaves, bob)):
        await books_service.do_cancel_checkout(club_id, str(contribution.id), who)
    await club_service.do_leave(club_id, bob)

    # Alice paid in the other tab after all: still a member, so it is her contribution.
    assert (await books_service.do_apply_payment_event(captured(stays, TODAY))).applied
    got = await Contribution.get(stays.id)
    assert got is not None and got.status is ContributionStatus.RECEIVED
    assert got.decision_reason == "paid_after_cancel"  # the record says what happened
    # Bob's money arrives after he left: no units for anyone, kept as unmatched to refund.
    outcome = await books_service.do_apply_payment_event(captured(leaves, TODAY))
    assert not outcome.applied
    kept = await Contribution.get(leaves.id)
    assert kept is not None and kept.status is ContributionStatus.FAILED
    entries = await JournalEntry.find({"pool_id": club_id}).to_list()
    assert sorted(e.kind for e in entries) == ["contribution_received", "payment_unmatched"]
    [unmatched] = [e for e in entries if e.kind == "payment_unmatched"]
    assert sorted((x.account, x.amount) for x in unmatched.lines) == [
        ("assets:cash", 60_000), ("liabilities:unmatched_payments", -60_000)]  # fmt: skip


async def test_checkouts_unpaid_past_their_lifetime_expire_once() -> None:
    club, (_, alice) = await club_with_members(2)
    club_id = str(club.id)
    old = await books_service.do_open_contribution(club_id, alice, amount=10_000, method="online")
    fresh = await books_service.do_open_contribution(club_id, alice, amount=20_000,
                                                     method="online")  # fmt: skip
    hours = get_settings().checkout_expiry_hours
    opened = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours, minutes=1)
    await Contribution.get_pymongo_collection().update_one(
        {"_id": old.id}, {"$set": {"created_at": opened}})  # fmt: skip
    assert await books_service.do_expire_checkouts() >= 1
    expired, kept = await Contribution.get(old.id), await Contribution.get(fresh.id)
    assert expired is not None and expired.status is ContributionStatus.FAILED
    assert expired.decision_reason == "checkout_expired" and expired.decided_by is None
    assert kept is not None and kept.status is ContributionStatus.AWAITING_PAYMENT
    # A second sweep (another worker) finds nothing more of this club's to expire.
    await books_service.do_expire_checkouts()
    again = await Contribution.get(old.id)
    assert again is not None and again.updated_at == expired.updated_at


async def test_an_approval_commits_with_its_outcome_in_the_outbox(
    monkeypatch: pytest.MonkeyPatch, services: Services
) -> None:
    """The process dies (here: Kafka refuses) right after the approval commits: the outcome
    to publish is already in the outbox, for the sweep; the member cannot leave meanwhile."""
    club, (owner, alice) = await club_with_members(2)
    club_id = str(club.id)
    pending = await books_service.do_open_contribution(club_id, alice, amount=70_000,
                                                       method="manual", note="NEFT")  # fmt: skip

    async def refused(*_: object) -> bool:
        raise ServiceUnavailable("the payments topic did not acknowledge")

    monkeypatch.setattr(payment_service, "publish_outcome", refused)
    with pytest.raises(ServiceUnavailable):
        await books_service.do_approve_manual(club_id, str(pending.id), owner, TODAY)
    approved = await Contribution.get(pending.id)
    assert approved is not None and approved.status is ContributionStatus.APPROVED
    outcome = await PaymentOutcome.find_one({"record_id": f"manual:{pending.id}"})
    assert outcome is not None and outcome.status == "pending"
    assert (outcome.amount, outcome.contribution_id) == (70_000, str(pending.id))
    with pytest.raises(PendingMoney):  # approved money is on its way: no leaving
        await club_service.do_leave(club_id, alice)

    # The outbox sweep publishes it (and leaves no pending outcome behind for other tests).
    monkeypatch.undo()
    assert (
        await payment_service.do_publish_pending(
            services.require_producer(), older_than=dt.timedelta(0)
        )
        >= 1
    )
    sent = await PaymentOutcome.find_one({"record_id": f"manual:{pending.id}"})
    assert sent is not None and sent.status == "published"


async def test_a_checkout_the_provider_already_took_is_not_given_up(
    payment_sandbox: SandboxClient,
) -> None:
    """Paid at the provider a moment ago, its webhook not here yet (the sandbox delivers
    nowhere in this test): cancelling answers 409 ``paid_at_provider`` and the expiry sweep
    leaves it; an unpaid checkout opened the same way is given up."""
    club, (_, alice) = await club_with_members(2)
    club_id = str(club.id)
    paid = await books_service.do_contribute(club_id, alice, amount=10_000, method="online")
    unpaid = await books_service.do_contribute(club_id, alice, amount=20_000, method="online")
    assert paid.order_id and unpaid.order_id
    await payment_sandbox.pay(paid.order_id)
    with pytest.raises(ContributionStateError) as refused:
        await books_service.do_cancel_checkout(club_id, str(paid.id), alice)
    assert refused.value.details == {"reason": "paid_at_provider"}
    await books_service.do_cancel_checkout(club_id, str(unpaid.id), alice)

    opened = dt.datetime.now(dt.UTC) - dt.timedelta(hours=get_settings().checkout_expiry_hours + 1)
    await Contribution.get_pymongo_collection().update_one(
        {"_id": paid.id}, {"$set": {"created_at": opened}})  # fmt: skip
    await books_service.do_expire_checkouts()
    kept = await Contribution.get(paid.id)
    assert kept is not None and kept.status is ContributionStatus.AWAITING_PAYMENT

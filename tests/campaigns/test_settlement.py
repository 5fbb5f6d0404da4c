"""The deadline: an all-or-nothing campaign below its goal refunds every investor exactly once
through the provider (duplicate events, a worker killed mid-way); a funded one is released to
its owner through the payout adapter; retries and failures; the ledger balances throughout."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest

from app.campaigns import repository
from app.campaigns.documents import Campaign, InvestmentStatus, TransferStatus
from app.campaigns.flows import LEASE, campaign_flows
from app.campaigns.service import campaign_service
from app.ledger.service import ledger_service
from app.notifications.documents import Notification
from app.payments.transfers import refund_payment
from tests.campaigns.factories import (
    admin_account,
    captured,
    kyc_owner,
    live_campaign,
    with_destination,
)
from tests.payments.sandbox_client import SandboxClient

pytestmark = pytest.mark.usefixtures("services")

FAR = dt.timedelta(days=400)  # past every deadline and backoff of these tests


async def pay(sandbox: SandboxClient, campaign_id: str, rupees: int) -> tuple[str, str]:
    """Invest through the sandbox checkout; apply the captured event twice (a duplicate).
    Returns (investment id, payment id)."""
    investor = await kyc_owner("investor")
    investment = await campaign_service.do_invest(investor.user_id, campaign_id, rupees * 100)
    assert investment.order_id
    paid = await sandbox.pay(investment.order_id)
    payment_id = paid["razorpay_payment_id"]
    event = captured(investment, payment_id=payment_id)
    assert await campaign_flows.do_apply_payment_event(event)
    assert not await campaign_flows.do_apply_payment_event(event)
    return str(investment.id), payment_id


async def past_deadline(campaign: Campaign) -> None:
    await repository.update_campaign(
        str(campaign.id), {"ends_at": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}
    )


async def ledger_ok(campaign_id: str) -> dict[str, int]:
    balances = await ledger_service.balances(campaign_id)
    assert sum(balances.values()) == 0
    return balances


async def test_a_failed_campaign_refunds_everyone_exactly_once(
    payment_sandbox: SandboxClient,
) -> None:
    campaign = await live_campaign(goal="15000.00")
    cid = str(campaign.id)
    paid = [await pay(payment_sandbox, cid, rupees) for rupees in (2_000, 3_500, 1_250)]
    unpaid = await campaign_service.do_reserve((await kyc_owner()).user_id, cid, 100_000)
    assert (await ledger_ok(cid))["assets:escrow"] == 675_000

    await past_deadline(campaign)
    assert await campaign_flows.do_close_due() >= 1
    assert await campaign_flows.do_close_due() == 0  # closed once
    closed = await campaign_service.get(cid)
    assert (closed.status, closed.reserved, closed.raised) == ("failed", 0, 675_000)
    gone = await repository.get_investment(str(unpaid.id))
    assert gone is not None and gone.status == InvestmentStatus.EXPIRED
    transfers = await repository.transfers(campaign_id=cid, kind="refund")
    assert sorted(t.amount for t in transfers) == [125_000, 200_000, 350_000]

    # A worker refunds the first investor at the provider and is killed before recording it:
    first = transfers[0]
    assert first.payment_id and first.provider
    await refund_payment(first.provider, first.payment_id, first.amount, first.key)
    # ... and another holds the second one's claim when it dies (the lease must run out).
    token = secrets.token_hex(4)
    claimed = await repository.claim_due_transfer(dt.datetime.now(dt.UTC), LEASE, token)
    assert claimed is not None

    await campaign_flows.do_process_transfers(dt.datetime.now(dt.UTC) + FAR, limit=200)
    await campaign_flows.do_process_transfers(dt.datetime.now(dt.UTC) + FAR, limit=200)
    for investment_id, payment_id in paid:
        status, refunds = await payment_sandbox.call("GET", f"/v1/payments/{payment_id}/refunds")
        assert status == 200 and refunds["count"] == 1, refunds  # exactly once each
        stored = await repository.get_investment(investment_id)
        assert stored is not None and stored.status == InvestmentStatus.REFUNDED
        assert refunds["items"][0]["amount"] == stored.amount
    after = await repository.transfers(campaign_id=cid, kind="refund")
    assert {t.status for t in after} == {TransferStatus.PAID}
    balances = await ledger_ok(cid)
    assert all(v == 0 for v in balances.values()), balances  # escrow emptied, all owed repaid
    # A duplicate of an old payment event after the refunds changes nothing.
    investment = await repository.get_investment(paid[0][0])
    assert investment is not None
    assert (
        not await campaign_flows.do_apply_payment_event(
            captured(investment, payment_id=paid[0][1], event_id="late-duplicate")
        )
        or (await campaign_service.get(cid)).raised == 675_000
    )


async def test_a_funded_campaign_is_released_to_its_owner_with_retries(
    payment_sandbox: SandboxClient,
) -> None:
    campaign = await live_campaign(goal="5000.00", max_investment="5000.00")
    cid = str(campaign.id)
    await with_destination(campaign.owner_id)
    await pay(payment_sandbox, cid, 3_000)
    await pay(payment_sandbox, cid, 2_000)
    funded = await campaign_service.get(cid)
    assert funded.status == "funded" and funded.raised == 500_000

    await payment_sandbox.call("POST", "/sandbox/payouts/control", {"fail_next": 2})
    now = dt.datetime.now(dt.UTC)
    assert await campaign_flows.do_process_transfers(now + FAR) == 0  # provider down: retry
    [release] = await repository.transfers(campaign_id=cid, kind="release")
    assert release.status == TransferStatus.PENDING and release.attempts == 1
    assert release.last_error
    await campaign_flows.do_process_transfers(now + 2 * FAR)
    await campaign_flows.do_process_transfers(now + 3 * FAR)
    [release] = await repository.transfers(campaign_id=cid, kind="release")
    assert release.status == TransferStatus.PAID and release.provider_ref
    _, payouts = await payment_sandbox.call("GET", "/v1/payouts")
    mine = [p for p in payouts["items"] if p["reference_id"] == f"release:{cid}"]
    assert [p["amount"] for p in mine] == [500_000]
    assert all(v == 0 for v in (await ledger_ok(cid)).values())


async def test_a_payout_that_keeps_failing_is_surfaced_to_admins_and_can_be_retried(
    payment_sandbox: SandboxClient,
) -> None:
    admin = await admin_account()
    campaign = await live_campaign(goal="2000.00", max_investment="2000.00")
    cid = str(campaign.id)
    await with_destination(campaign.owner_id)
    await pay(payment_sandbox, cid, 2_000)
    await payment_sandbox.call("POST", "/sandbox/payouts/control", {"reject_next": 50})
    now = dt.datetime.now(dt.UTC)
    for step in range(1, 7):
        await campaign_flows.do_process_transfers(now + step * FAR)
    [release] = await repository.transfers(campaign_id=cid, kind="release")
    assert release.status == TransferStatus.FAILED and "balance" in (release.last_error or "")
    told = await Notification.find({"user_id": admin.user_id, "ref_id": cid}).to_list()
    assert told and "Payout failed" in told[0].title
    await payment_sandbox.call("POST", "/sandbox/payouts/control", {"reject_next": 0})
    await campaign_flows.do_retry_transfer(admin.user_id, str(release.id))
    await campaign_flows.do_process_transfers(now + 8 * FAR)
    [release] = await repository.transfers(campaign_id=cid, kind="release")
    assert release.status == TransferStatus.PAID

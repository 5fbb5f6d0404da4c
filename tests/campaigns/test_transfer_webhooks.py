"""Payout and refund webhooks from the provider, end to end: the sandbox answers payouts
"processing" and sends signed ``payout.*`` / ``refund.*`` webhooks (with duplicates) to the
live web server; the signature is checked before anything is read; each event applies once and
statuses only move forward; a payout reversed after it was paid undoes its journal entry, shows
as failed to admins and the payee, and an admin's retry pays it again under a new key."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.campaigns import repository
from app.campaigns.documents import InvestmentStatus, Transfer, TransferStatus
from app.campaigns.flows import campaign_flows
from app.campaigns.payouts import NOTES_TAG
from app.campaigns.service import campaign_service
from app.config import get_settings
from app.ledger.service import ledger_service
from app.notifications.documents import Notification
from tests.campaigns.factories import (
    admin_account,
    captured,
    kyc_owner,
    live_campaign,
    with_destination,
)
from tests.identity.conftest import Api, eventually
from tests.payments.sandbox_client import SandboxClient
from tests.rooms.conftest import person

pytestmark = pytest.mark.usefixtures("services")

HOOK = "/api/v1/webhooks/campaign-transfers/sandbox"


@pytest.fixture
async def hooks(api: Api, payment_sandbox: SandboxClient) -> AsyncIterator[SandboxClient]:
    """The sandbox sending payout/refund webhooks (each twice more) to the live server,
    payouts answered "processing"; everything back to the defaults afterwards."""
    await payment_sandbox.call("POST", "/sandbox/payouts/control", {
        "webhook_url": f"{api.base}{HOOK}", "webhook_duplicates": 2, "payout_async": True,
    })  # fmt: skip
    try:
        yield payment_sandbox
    finally:
        await payment_sandbox.call("POST", "/sandbox/payouts/control", {
            "webhook_url": None, "webhook_duplicates": 0, "payout_async": False,
            "reverse_next": 0, "refund_fail_next": 0,
        })  # fmt: skip


def signed(body: dict[str, Any], secret: str | None = None) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    key = secret or get_settings().payment_sandbox_webhook_secret.get_secret_value()
    return raw, {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": hmac.new(key.encode(), raw, hashlib.sha256).hexdigest(),
        "X-Razorpay-Event-Id": f"evt_{uuid.uuid4().hex[:14]}",
    }


def payout_event(name: str, transfer: Transfer, status: str, payout_id: str) -> dict[str, Any]:
    entity = {"id": payout_id, "entity": "payout", "amount": transfer.amount, "status": status,
              "notes": {NOTES_TAG: transfer.provider_key()}}  # fmt: skip
    return {"entity": "event", "event": name, "contains": ["payout"],
            "payload": {"payout": {"entity": entity}}, "created_at": 1}  # fmt: skip


async def post(api: Api, raw: bytes, headers: dict[str, str], path: str = HOOK) -> Any:
    async with api.http.post(f"{api.base}{path}", data=raw, headers=headers) as response:
        return response.status, await response.json()


async def funded(sandbox: SandboxClient, rupees: int = 2_000) -> str:
    """A funded campaign whose owner has a verified UPI id; the release is queued."""
    campaign = await live_campaign(goal=f"{rupees}.00", max_investment=f"{rupees}.00")
    cid = str(campaign.id)
    await with_destination(campaign.owner_id)
    investor = await kyc_owner("investor")
    investment = await campaign_service.do_invest(investor.user_id, cid, rupees * 100)
    assert investment.order_id
    paid = await sandbox.pay(investment.order_id)
    event = captured(investment, payment_id=paid["razorpay_payment_id"])
    # The sandbox's webhook also reaches the live stack's worker, which may apply it first:
    # either way it is applied once, and the campaign is funded.
    await campaign_flows.do_apply_payment_event(event)

    async def is_funded() -> bool:
        return (await campaign_service.get(cid)).status == "funded"

    assert await eventually(is_funded)
    return cid


async def release_of(cid: str) -> Transfer:
    [release] = await repository.transfers(campaign_id=cid, kind="release")
    return release


async def status_is(cid: str, status: TransferStatus, round_: int = 0) -> Transfer | None:
    release = await release_of(cid)
    return release if (release.status, release.round) == (status, round_) else None


async def test_unsigned_forged_or_unreadable_webhooks_change_nothing(
    api: Api, payment_sandbox: SandboxClient
) -> None:
    cid = await funded(payment_sandbox)
    await campaign_flows.do_process_transfers()  # paid at once (the synchronous sandbox)
    release = await eventually(lambda: status_is(cid, TransferStatus.PAID), timeout=20)
    assert release.provider_ref
    reversed_ = payout_event("payout.reversed", release, "reversed", release.provider_ref)
    raw, headers = signed(reversed_)

    unsigned = {k: v for k, v in headers.items() if k != "X-Razorpay-Signature"}
    status, body = await post(api, raw, unsigned)
    assert (status, body["error"]["code"]) == (400, "invalid_signature")
    forged = {**headers, "X-Razorpay-Signature": signed(reversed_, "not-the-secret")[1][
        "X-Razorpay-Signature"]}  # fmt: skip
    assert (await post(api, raw, forged))[0] == 400
    tampered = raw.replace(b'"reversed"', b'"rejected"', 1)
    assert (await post(api, tampered, headers))[0] == 400
    status, body = await post(api, raw, headers, "/api/v1/webhooks/campaign-transfers/paypal")
    assert (status, body["error"]["code"]) == (404, "unknown_provider")
    other = {**reversed_, "event": "payment.captured"}
    raw_other, headers_other = signed(other)
    status, body = await post(api, raw_other, headers_other)
    assert (status, body["error"]["code"]) == (400, "invalid_webhook")
    stranger = payout_event("payout.reversed", release, "reversed", release.provider_ref)
    stranger["payload"]["payout"]["entity"]["notes"] = {}
    status, body = await post(api, *signed(stranger))
    assert (status, body["result"]) == (200, "ignored")  # not a transfer of ours
    after = await release_of(cid)
    assert after.status == TransferStatus.PAID and after.last_error is None
    balances = await ledger_service.balances(cid)
    assert balances["assets:escrow"] == 0 and sum(balances.values()) == 0


async def test_a_payout_ends_by_webhook_a_reversal_undoes_it_and_a_retry_pays_again(
    api: Api, hooks: SandboxClient
) -> None:
    admin = await person("admin", ["admin"])  # type: ignore[list-item]
    cid = await funded(hooks)
    await campaign_flows.do_process_transfers()
    sent = await eventually(lambda: status_is(cid, TransferStatus.PAID), timeout=20)
    # The worker or this call sent it "processing"; only the webhook made it paid.
    assert sent.sent_at is not None and sent.provider_ref
    balances = await ledger_service.balances(cid)
    assert balances["assets:escrow"] == 0 and sum(balances.values()) == 0

    async def delivered() -> list[dict[str, Any]] | None:
        _, events = await hooks.call("GET", "/sandbox/transfer-webhooks")
        mine = [e for e in events["items"] if e["id"] == sent.provider_ref]
        return mine if mine and len(mine[0]["answers"]) >= 3 else None

    mine = await eventually(delivered, timeout=20)
    assert [e["event"] for e in mine] == ["payout.processed"]
    # three copies of the one event, each answered 2xx (applied once, then duplicates)
    assert mine[0]["answers"] == [200, 200, 200]
    audit = await repository.transfers(campaign_id=cid, kind="release")
    assert len(audit) == 1

    # The bank returns it: payout.reversed → failed, the journal entry reversed.
    status, _ = await hooks.call("POST", f"/sandbox/payouts/{sent.provider_ref}/reverse")
    assert status == 200
    failed = await eventually(lambda: status_is(cid, TransferStatus.FAILED), timeout=20)
    assert "Account closed" in (failed.last_error or "")
    balances = await ledger_service.balances(cid)
    assert balances["assets:escrow"] == 200_000 and sum(balances.values()) == 0
    board = await api.call("GET", "/api/v1/admin/campaigns/dashboard", token=admin.token)
    assert str(failed.id) in [t["id"] for t in board.body["failed_transfers"]]

    async def payee_told() -> bool:
        told = await Notification.find({"user_id": failed.user_id, "ref_id": cid}).to_list()
        return any("did not go through" in n.title for n in told)

    await eventually(payee_told, timeout=20)  # told after the change committed

    # A late "processed" of the same round cannot move it back.
    late = payout_event("payout.processed", failed, "processed", failed.provider_ref or "")
    status, body = await post(api, *signed(late))
    assert (status, body["result"]) == (200, "duplicate")
    assert (await release_of(cid)).status == TransferStatus.FAILED

    # The admin retries: a new round, a new idempotency key, a new payout, paid by webhook.
    await campaign_flows.do_retry_transfer(admin.user_id, str(failed.id))
    await campaign_flows.do_process_transfers()
    again = await eventually(lambda: status_is(cid, TransferStatus.PAID, 1), timeout=20)
    assert again.provider_ref != failed.provider_ref
    _, payout = await hooks.call("GET", f"/v1/payouts/{again.provider_ref}")
    assert payout["notes"][NOTES_TAG] == f"release:{cid}#r1"
    balances = await ledger_service.balances(cid)
    assert balances["assets:escrow"] == 0 and sum(balances.values()) == 0
    # The old round's reversal, delivered again, is ignored.
    old = payout_event("payout.reversed", failed, "reversed", failed.provider_ref or "")
    status, body = await post(api, *signed(old))
    assert (status, body["result"]) == (200, "ignored")
    assert (await release_of(cid)).status == TransferStatus.PAID


async def test_a_bounced_refund_fails_then_is_retried_and_the_investment_is_refunded_once(
    api: Api, hooks: SandboxClient
) -> None:
    campaign = await live_campaign(goal="9000.00", max_investment="9000.00")
    cid = str(campaign.id)
    investor = await kyc_owner("investor")
    investment = await campaign_service.do_invest(investor.user_id, cid, 300_000)
    assert investment.order_id
    paid = await hooks.pay(investment.order_id)
    assert await campaign_flows.do_apply_payment_event(
        captured(investment, payment_id=paid["razorpay_payment_id"])
    )
    await repository.update_campaign(cid, {"ends_at": dt.datetime.now(dt.UTC)})
    await hooks.call("POST", "/sandbox/payouts/control", {"refund_fail_next": 1})
    await campaign_flows.do_close_due()
    await campaign_flows.do_process_transfers()

    async def refund_in(status: TransferStatus, round_: int) -> Transfer | None:
        [refund] = await repository.transfers(campaign_id=cid, kind="refund")
        return refund if (refund.status, refund.round) == (status, round_) else None

    failed = await eventually(lambda: refund_in(TransferStatus.FAILED, 0), timeout=20)
    stored = await repository.get_investment(str(investment.id))
    assert stored is not None and stored.status == InvestmentStatus.REFUND_PENDING
    admin = await admin_account()
    await campaign_flows.do_retry_transfer(admin.user_id, str(failed.id))
    await campaign_flows.do_process_transfers()
    await eventually(lambda: refund_in(TransferStatus.PAID, 1), timeout=20)
    stored = await repository.get_investment(str(investment.id))
    assert stored is not None and stored.status == InvestmentStatus.REFUNDED
    _, refunds = await hooks.call("GET", f"/v1/payments/{paid['razorpay_payment_id']}/refunds")
    assert sorted(r["status"] for r in refunds["items"]) == ["failed", "processed"]
    balances = await ledger_service.balances(cid)
    assert balances["assets:escrow"] == 0 and sum(balances.values()) == 0


async def test_a_payout_whose_webhook_never_comes_is_asked_for_and_settled_once(
    api: Api, payment_sandbox: SandboxClient
) -> None:
    # Payouts answered "processing" and no webhook at all (lost): the timer asks.
    control = "/sandbox/payouts/control"
    await payment_sandbox.call("POST", control, {"payout_async": True, "webhook_url": None})
    try:
        cid = await funded(payment_sandbox)
        await campaign_flows.do_process_transfers()
        sent = await eventually(lambda: status_is(cid, TransferStatus.SENT), timeout=20)
        assert sent.provider_ref
        assert await campaign_flows.do_reconcile_sent() == 0  # not stale yet
        later = dt.datetime.now(dt.UTC)
        for _ in range(10):  # each look is ten minutes after the last (the provider may lag)
            later += dt.timedelta(minutes=11)
            await campaign_flows.do_reconcile_sent(later)
            paid = await release_of(cid)
            if paid.status != TransferStatus.SENT:
                break
            await asyncio.sleep(0.5)
        assert paid.status == TransferStatus.PAID and paid.provider_ref == sent.provider_ref
        assert paid.checked_at is not None
        assert await campaign_flows.do_reconcile_sent(later + dt.timedelta(minutes=11)) == 0
        balances = await ledger_service.balances(cid)
        assert balances["assets:escrow"] == 0 and sum(balances.values()) == 0
    finally:
        await payment_sandbox.call("POST", control, {"payout_async": False})

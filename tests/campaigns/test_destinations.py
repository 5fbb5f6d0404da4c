"""Payout destinations over HTTP and at the payout sandbox: a UPI id or a bank account (IFSC
checked) is verified through the provider's fund account validation before it is stored;
refusals store nothing; a release whose owner has none waits (not counted as an attempt) and
is paid to the bank account, by IMPS, once it is registered; a new destination replaces the
old one for later payouts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.campaigns import repository
from app.campaigns.documents import PayoutDestination, TransferStatus
from app.campaigns.flows import campaign_flows
from app.campaigns.service import campaign_service
from app.notifications.documents import Notification
from tests.campaigns.factories import captured, kyc_owner, live_campaign, verify_kyc
from tests.identity.conftest import Api
from tests.payments.sandbox_client import SandboxClient
from tests.rooms.conftest import Person, person

pytestmark = pytest.mark.usefixtures("services")

PATH = "/api/v1/me/payout-destination"
FAR = dt.timedelta(days=400)


def bank(**overrides: str) -> dict[str, str]:
    data = {"kind": "bank_account", "account_holder": "Meena Kulkarni", "ifsc": "HDFC0001234",
            "account_number": "50100234567891"}  # fmt: skip
    data.update(overrides)
    return data


async def put(api: Api, who: Person, body: dict[str, Any]) -> tuple[int, Any]:
    reply = await api.call("PUT", PATH, json=body, token=who.token)
    return reply.status, reply.body


async def test_bad_details_are_refused_and_store_nothing(
    api: Api, payment_sandbox: SandboxClient
) -> None:
    who = await person("payee")
    format_errors = [
        bank(ifsc="HDFC1001234"),  # the fifth character must be 0
        bank(ifsc="HDF00012345"),
        bank(account_number="12ab5678901"),
        bank(account_number="12345678"),  # too short
        {"kind": "bank_account", "ifsc": "HDFC0001234", "account_number": "50100234567891"},
        {"kind": "vpa", "vpa": "no-at-sign"},
        {"kind": "vpa", "vpa": "meena@okaxis", "ifsc": "HDFC0001234"},
        {"kind": "upi", "vpa": "meena@okaxis"},
    ]
    for body in format_errors:
        status, answer = await put(api, who, body)
        assert (status, answer["error"]["code"]) == (422, "validation_error"), body
    # Well-formed, but the provider's bank does not know the bank code / the account.
    status, answer = await put(api, who, bank(ifsc="ZZZZ0001234"))
    assert (status, answer["error"]["code"]) == (422, "payout_destination_invalid")
    assert answer["error"]["details"]["reason"] == "refused"
    assert "IFSC" in answer["error"]["message"]
    status, answer = await put(api, who, bank(account_number="501002345670000"))
    assert (status, answer["error"]["code"]) == (422, "payout_destination_invalid")
    assert answer["error"]["details"]["reason"] == "invalid"
    status, answer = await put(api, who, {"kind": "vpa", "vpa": "invalid.meena@okaxis"})
    assert answer["error"]["details"]["reason"] == "invalid"
    assert await PayoutDestination.find({"user_id": who.user_id}).count() == 0
    state = (await api.call("GET", PATH, token=who.token)).body
    assert state == {"destination": None, "waiting_payouts": 0}


async def test_a_release_waits_for_a_verified_bank_account_then_goes_there_by_imps(
    api: Api, payment_sandbox: SandboxClient
) -> None:
    owner = await person("owner")
    await verify_kyc(owner.user_id)
    campaign = await live_campaign(owner.user_id, goal="3000.00", max_investment="3000.00")
    cid = str(campaign.id)
    investor = await kyc_owner("investor")
    investment = await campaign_service.do_invest(investor.user_id, cid, 300_000)
    assert investment.order_id
    paid = await payment_sandbox.pay(investment.order_id)
    event = captured(investment, payment_id=paid["razorpay_payment_id"])
    assert await campaign_flows.do_apply_payment_event(event)
    assert (await campaign_service.get(cid)).status == "funded"

    # No destination: the release is parked, not failed, and the attempt is not counted.
    now = dt.datetime.now(dt.UTC)
    for step in (1, 2):
        assert await campaign_flows.do_process_transfers(now + step * FAR) == 0
    [release] = await repository.transfers(campaign_id=cid, kind="release")
    assert release.status == TransferStatus.PENDING and release.waiting_for_destination
    assert release.attempts == 0 and release.next_attempt_at > now + 2 * FAR
    told = await Notification.find({"user_id": owner.user_id, "ref_id": cid}).to_list()
    assert sum("Add where we should pay you" in n.title for n in told) == 1  # told once
    state = (await api.call("GET", PATH, token=owner.token)).body
    assert state["waiting_payouts"] == 1

    # The validation answers "created" first: the adapter follows it until it completes.
    await payment_sandbox.call("POST", "/sandbox/payouts/control", {"validation_delay": 1})
    status, answer = await put(api, owner, bank(ifsc="hdfc0001234"))  # case is forgiven
    assert status == 200, answer
    shown = answer["destination"]
    assert (shown["kind"], shown["ifsc"], shown["account_last4"]) == (
        "bank_account", "HDFC0001234", "7891")  # fmt: skip
    assert shown["registered_name"] == "Meena Kulkarni"
    assert "50100234567891" not in str(answer)  # the full number is never shown
    assert answer["waiting_payouts"] == 0  # woken
    [release] = await repository.transfers(campaign_id=cid, kind="release")
    assert not release.waiting_for_destination and release.next_attempt_at <= dt.datetime.now(
        dt.UTC
    )

    assert await campaign_flows.do_process_transfers() == 1
    [release] = await repository.transfers(campaign_id=cid, kind="release")
    assert release.status == TransferStatus.PAID
    stored = await repository.active_destination(owner.user_id)
    assert stored is not None
    _, payout = await payment_sandbox.call("GET", f"/v1/payouts/{release.provider_ref}")
    assert (payout["fund_account_id"], payout["mode"], payout["amount"]) == (
        stored.fund_account_id, "IMPS", 300_000)  # fmt: skip
    _, validation = await payment_sandbox.call(
        "GET", f"/v1/fund_accounts/validations/{stored.validation_id}"
    )
    assert validation["results"]["account_status"] == "active"
    assert validation["fund_account"]["bank_account"]["ifsc"] == "HDFC0001234"

    # A UPI id replaces the bank account for later payouts; the old one is kept, inactive.
    status, answer = await put(api, owner, {"kind": "vpa", "vpa": "meena.bakes@okicici"})
    assert status == 200 and answer["destination"]["vpa"] == "meena.bakes@okicici"
    kept = await PayoutDestination.find({"user_id": owner.user_id}).to_list()
    assert sorted(d.active for d in kept) == [False, True]
    active = await repository.active_destination(owner.user_id)
    assert (
        active is not None
        and active.kind == "vpa"
        and active.fund_account_id != (stored.fund_account_id)
    )

"""Builders for the campaigns tests: KYC-verified owners, live campaigns, payment events."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from app.campaigns.destinations import destination_service
from app.campaigns.documents import Campaign, Investment, PayoutDestination
from app.campaigns.flows import campaign_flows
from app.campaigns.schemas import CampaignFields, DestinationCreate
from app.campaigns.service import campaign_service
from app.identity.documents import PlatformRole
from app.kyc.documents import DocumentKind, DocumentStatus, KycDocument
from streams.records import PaymentEventV1
from tests.identity.conftest import Account, provision


async def verify_kyc(user_id: str) -> None:
    """Give the person a verified PAN and proof of address (full KYC); nothing when they have
    them already."""
    for kind in (DocumentKind.PAN, DocumentKind.AADHAAR):
        if await KycDocument.find_one({"user_id": user_id, "kind": kind.value,
                                       "status": DocumentStatus.VERIFIED.value}):  # fmt: skip
            continue
        await KycDocument(user_id=user_id, kind=kind, status=DocumentStatus.VERIFIED,
                          file_id="f", number_last4="1234").insert()  # fmt: skip


async def kyc_owner(tag: str = "owner") -> Account:
    """A provisioned, KYC-verified account."""
    account = await provision(tag=tag)
    await verify_kyc(account.user_id)
    return account


async def admin_account() -> Account:
    """A platform admin."""
    return await provision([PlatformRole.ADMIN], tag="admin")


def fields(**overrides: Any) -> CampaignFields:
    """Valid campaign fields (goal ₹15,000, pledges ₹100–₹15,000, 20 % of profit)."""
    now = dt.datetime.now(dt.UTC)
    data: dict[str, Any] = {
        "title": "A second oven for Meena's bakery",
        "story": "We bake 400 loaves a day and turn customers away every morning.",
        "category": "food", "city": "Pune", "goal": "15000.00", "min_investment": "100.00",
        "max_investment": "15000.00", "profit_share_bps": 2000, "profit_period_months": 3,
        "starts_on": now.date().isoformat(),
        "ends_at": (now + dt.timedelta(days=30)).isoformat(),
        "funding_model": "all_or_nothing", "pledge_policy": "part_fill",
    }  # fmt: skip
    data.update(overrides)
    return CampaignFields.model_validate(data)


async def live_campaign(owner_id: str | None = None, **overrides: Any) -> Campaign:
    """A verified (live) campaign of a KYC-verified owner."""
    if owner_id is None:
        owner_id = (await kyc_owner()).user_id
    admin = await admin_account()
    campaign = await campaign_service.do_create(owner_id, fields(**overrides))
    await campaign_service.do_submit(owner_id, str(campaign.id))
    return await campaign_service.do_review(admin.user_id, str(campaign.id), "verify", "looks good")


def captured(
    investment: Investment,
    *,
    amount: int | None = None,
    payment_id: str | None = None,
    event_id: str | None = None,
) -> PaymentEventV1:
    """The payment event the payments service would publish for paying ``investment``."""
    event_id = event_id or uuid.uuid4().hex[:14]
    return PaymentEventV1(
        id=f"sandbox:{event_id}", provider="sandbox", provider_event_id=event_id,
        kind="payment.captured", pool_type="campaign", pool_id=investment.campaign_id,
        contribution_id=str(investment.id), payment_id=payment_id or f"pay_{uuid.uuid4().hex[:14]}",
        amount=investment.amount if amount is None else amount, currency="INR",
        occurred_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )  # fmt: skip


async def with_destination(user_id: str) -> PayoutDestination:
    """Register (and verify at the payment sandbox) a UPI id as the person's payout
    destination. Needs the ``payment_sandbox`` fixture."""
    data = DestinationCreate(kind="vpa", vpa=f"p{user_id[-8:]}@okaxis")
    return await destination_service.do_register(user_id, data)


async def funded_days_ago(
    owner_id: str, investments: list[tuple[str, int]], days: int, **overrides: Any
) -> Campaign:
    """A campaign of ``owner_id`` (goal ₹15,000, quarterly reports) funded by ``investments``
    (user id, paise; they must add up to the goal), paid in, then moved back in time so that
    it opened and was funded ``days`` days ago."""
    campaign = await live_campaign(owner_id, **overrides)
    for user_id, amount in investments:
        investment = await campaign_service.do_reserve(user_id, str(campaign.id), amount)
        await campaign_flows.do_apply_payment_event(captured(investment))
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    await Campaign.get_pymongo_collection().update_one(
        {"_id": campaign.id},
        {"$set": {"closed_at": then, "live_at": then, "starts_on": then.date().isoformat()}},
    )
    moved = await campaign_service.get(str(campaign.id))
    assert moved.status == "funded", moved.status
    return moved

"""The campaign lifecycle and the feed: owner KYC, validation, review with notes (audited),
cancellation rules, visibility, filters, sort, search and pagination; the demo data."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from app.audit.service import audit_service
from app.campaigns.documents import Campaign, InvestmentStatus
from app.campaigns.errors import (
    CampaignNotFound,
    CampaignState,
    InvalidCampaign,
    NotCampaignOwner,
    OwnerKycRequired,
)
from app.campaigns.flows import campaign_flows
from app.campaigns.schemas import FeedQuery
from app.campaigns.service import campaign_chain, campaign_service
from app.notifications.documents import Notification
from devtools.demo_campaigns import load_demo_campaigns
from tests.campaigns.factories import admin_account, fields, kyc_owner, live_campaign
from tests.identity.conftest import provision

pytestmark = pytest.mark.usefixtures("services")


async def test_only_a_kyc_verified_owner_creates_and_every_field_rule_holds() -> None:
    nobody = await provision(tag="nokyc")
    with pytest.raises(OwnerKycRequired):
        await campaign_service.do_create(nobody.user_id, fields())
    owner = await kyc_owner()
    now = dt.datetime.now(dt.UTC)
    bad = {
        "goal": fields(goal="999.99"),
        "min_investment": fields(min_investment="99.00"),
        "max_investment": fields(max_investment="20000.00"),
        "ends_at": fields(ends_at=(now - dt.timedelta(hours=1)).isoformat()),
    }
    for field, data in bad.items():
        with pytest.raises(InvalidCampaign) as refused:
            await campaign_service.do_create(owner.user_id, data)
        assert refused.value.details["field"] == field
    far = fields(ends_at=(now + dt.timedelta(days=400)).isoformat())
    with pytest.raises(InvalidCampaign):
        await campaign_service.do_create(owner.user_id, far)
    assert await Campaign.find({"owner_id": owner.user_id}).count() == 0  # nothing stored


async def test_review_sends_back_with_notes_then_verifies_and_every_step_is_audited() -> None:
    owner = await kyc_owner()
    admin = await admin_account()
    draft = await campaign_service.do_create(owner.user_id, fields())
    cid = str(draft.id)
    stranger = await provision(tag="stranger")
    with pytest.raises(CampaignNotFound):  # a draft is private
        await campaign_service.check_visible(cid, stranger.user_id, False)
    with pytest.raises(CampaignState):  # not in review yet
        await campaign_service.do_review(admin.user_id, cid, "verify", "ok")
    await campaign_service.do_submit(owner.user_id, cid)
    with pytest.raises(CampaignState):  # only drafts are edited
        await campaign_service.do_edit(owner.user_id, cid, fields(title="Another title"))
    back = await campaign_service.do_review(admin.user_id, cid, "send_back", "Add the lease")
    assert back.status == "draft" and back.reviews[-1].notes == "Add the lease"
    with pytest.raises(CampaignNotFound):  # a draft again: still private
        await campaign_service.check_owner(cid, stranger.user_id)
    await campaign_service.do_edit(owner.user_id, cid, fields(title="A second oven, lease added"))
    await campaign_service.do_submit(owner.user_id, cid)
    live = await campaign_service.do_review(admin.user_id, cid, "verify", "Lease checked")
    assert live.status == "live" and live.title == "A second oven, lease added"
    assert await campaign_service.check_visible(cid, stranger.user_id, False)
    with pytest.raises(NotCampaignOwner):
        await campaign_service.check_owner(cid, stranger.user_id)
    report = await audit_service.verify(campaign_chain(cid))
    assert report.ok and report.checked == 5  # created, submitted, sent back, submitted, verified


async def test_cancel_only_while_nothing_is_raised_or_reserved() -> None:
    campaign = await live_campaign()
    cid = str(campaign.id)
    other = await kyc_owner()
    with pytest.raises(NotCampaignOwner):
        await campaign_service.do_cancel(other.user_id, False, cid, "not mine")
    pledge = await campaign_service.do_reserve(other.user_id, cid, 100_000)
    with pytest.raises(CampaignState):
        await campaign_service.do_cancel(campaign.owner_id, False, cid, "changed my mind")
    await campaign_service.do_release(pledge, InvestmentStatus.EXPIRED)
    cancelled = await campaign_service.do_cancel(campaign.owner_id, False, cid, "changed my mind")
    assert cancelled.status == "cancelled" and cancelled.cancel_reason == "changed my mind"


async def test_feed_filters_sorts_searches_and_pages() -> None:
    tag = uuid.uuid4().hex[:8]
    owner = await kyc_owner()
    made = []
    for i, (city, category, days) in enumerate(
        [("Nashik", "food", 3), ("Nashik", "crafts", 20), ("Surat", "food", 40)]
    ):
        made.append(await live_campaign(
            owner.user_id, title=f"Feed test {tag} number {i}", city=city, category=category,
            ends_at=(dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat()))  # fmt: skip
    viewer = (await provision(tag="viewer")).user_id

    async def ids(**query: object) -> list[str]:
        found, _ = await campaign_service.feed(
            viewer, FeedQuery.model_validate({"q": tag, **query})
        )
        return [str(c.id) for c in found]

    all_three = [str(c.id) for c in made]
    assert sorted(await ids()) == sorted(all_three)
    assert await ids(city="nashik", category="food") == [all_three[0]]
    assert await ids(closing_within_days=7) == [all_three[0]]
    assert await ids(sort="closing_soon") == all_three
    assert await ids(q=f"{tag} surat") == [all_three[2]]  # every word, any field
    assert await ids(q=f"CRAFTS {tag} nashik") == [all_three[1]]
    assert await ids(q="(.*") == []  # a literal search, never a pattern
    page1, total = await campaign_service.feed(
        viewer, FeedQuery(q=tag, limit=2, sort="closing_soon")
    )
    page2, _ = await campaign_service.feed(
        viewer, FeedQuery(q=tag, limit=2, offset=2, sort="closing_soon"))  # fmt: skip
    assert total == 3 and [str(c.id) for c in page1 + page2] == all_three
    assert await ids(status="draft") == []  # drafts never appear in the public feed
    investor = await kyc_owner()
    await campaign_service.do_reserve(investor.user_id, all_three[1], 1_000_000)
    assert await ids(min_funded_pct=50) == []  # reserved is not raised


async def test_demo_campaigns_load_once() -> None:
    member = await provision(tag="demo-member")
    admin = await admin_account()
    first = await load_demo_campaigns(member.email, admin.email)
    again = await load_demo_campaigns(member.email, admin.email)
    assert (first, again) == (4, 0)
    owned = await Campaign.find({"status": {"$in": ["live", "in_review"]}}).to_list()
    bakery = [c for c in owned if c.title == "Meena's bakery: a second oven"]
    assert bakery and bakery[0].raised == 4_000_000
    assert [u.title for u in await campaign_service.updates(str(bakery[0].id))] == [
        "The oven is ordered"]  # fmt: skip
    # The dairy was funded 150 days ago: its first quarterly report is overdue.
    dairy = await Campaign.find_one({"owner_id": bakery[0].owner_id, "status": "funded"})
    assert dairy is not None and dairy.raised == 500_000
    due = campaign_service.report_due(dairy, await campaign_service.reports(str(dairy.id)))
    assert due is not None and (due.number, due.state) == (1, "overdue")
    # The worker's overdue sweep (every campaign_report_check_seconds in `make run`) tells
    # the dairy's owner and the demo member once.
    await campaign_flows.do_tell_overdue_reports()
    await campaign_flows.do_tell_overdue_reports()
    told = await Campaign.get(dairy.id)
    assert told is not None and told.overdue_told == [due.period_start.isoformat()]
    notes = await Notification.find({"ref_id": str(dairy.id)}).to_list()
    late = sorted((n.user_id, n.kind) for n in notes if "overdue" in n.title)
    assert late == sorted([(dairy.owner_id, "campaign_report_overdue"),
                           (member.user_id, "campaign")])  # fmt: skip

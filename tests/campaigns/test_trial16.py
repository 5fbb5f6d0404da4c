"""What a new user's trial of crowdfunding found (issue #16), over HTTP where a person meets it:
admin decisions need the admin's own notes; profit periods neither overlap nor start before
the campaign opened; ``mine`` pages count only the caller's campaigns; amounts follow the
documented pattern exactly; a campaign whose start day has not come says when it opens; the
last rupees reserved by others are not "the goal reached"; several search words all count;
a reservation changes what everyone sees remaining; a refund whose webhook never comes is
asked for at the provider and settled once."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from app.campaigns import repository
from app.campaigns.documents import Dispute, InvestmentStatus, TransferStatus
from app.campaigns.errors import InvalidCampaign, InvalidProfitReport, InvestmentRefused
from app.campaigns.events import campaign_room
from app.campaigns.flows import campaign_flows
from app.campaigns.schemas import ProfitReportCreate
from app.campaigns.service import campaign_service
from app.files.documents import FilePurpose
from app.files.service import files_service
from app.identity.documents import PlatformRole
from app.ledger.service import ledger_service
from app.notifications.documents import Notification
from app.realtime import eventlog
from tests.campaigns.factories import (
    captured,
    fields,
    kyc_owner,
    live_campaign,
    verify_kyc,
)
from tests.identity.conftest import Api
from tests.payments.sandbox_client import SandboxClient
from tests.rooms.conftest import person

pytestmark = pytest.mark.usefixtures("services")

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BASE = "/api/v1/campaigns"
ADMIN = "/api/v1/admin/campaigns"


async def test_admin_decisions_need_notes_the_admin_wrote(api: Api) -> None:
    owner = await person("owner")
    await verify_kyc(owner.user_id)
    admin = await person("admin", roles=[PlatformRole.ADMIN])
    draft = await campaign_service.do_create(owner.user_id, fields())
    cid = str(draft.id)
    await campaign_service.do_submit(owner.user_id, cid)
    for notes in ("", "   ", " \n\t "):
        for decision in ("send_back", "verify"):
            reply = await api.call("POST", f"{ADMIN}/{cid}/review", token=admin.token,
                                   json={"decision": decision, "notes": notes})  # fmt: skip
            assert reply.status == 422, reply.body
            assert reply.body["error"]["code"] == "validation_error"
    still = await campaign_service.get(cid)
    assert still.status == "in_review" and still.reviews == []
    reply = await api.call(
        "POST",
        f"{ADMIN}/{cid}/review",
        token=admin.token,
        json={"decision": "send_back", "notes": "  Add the oven quote  "},
    )
    assert reply.status == 200, reply.body
    assert [r.notes for r in (await campaign_service.get(cid)).reviews] == ["Add the oven quote"]
    # The campaign's audit chain is readable by admins (the platform log holds only its own).
    trail = await api.call("GET", f"{ADMIN}/{cid}/audit", token=admin.token)
    assert trail.status == 200 and trail.body["chain_ok"] is True
    actions = [r["action"] for r in trail.body["records"]]
    assert actions == ["campaign.sent_back", "campaign.submitted", "campaign.created"]
    assert trail.body["records"][0]["details"]["notes"] == "Add the oven quote"
    assert (await api.call("GET", f"{ADMIN}/{cid}/audit", token=owner.token)).status == 403

    # A profit report and a dispute: no decision without notes either.
    funded = await live_campaign(owner.user_id, goal="2000.00", max_investment="2000.00")
    fid = str(funded.id)
    investor = await kyc_owner("investor")
    investment = await campaign_service.do_reserve(investor.user_id, fid, 200_000)
    assert await campaign_flows.do_apply_payment_event(captured(investment))
    document = await files_service.do_upload(owner.user_id, data=PDF, filename="p.pdf",
                                             purpose=FilePurpose.CAMPAIGN)  # fmt: skip
    today = dt.datetime.now(dt.UTC).date()
    report = await campaign_flows.do_report_profit(owner.user_id, fid, ProfitReportCreate(
        period_start=today, period_end=today, profit="1000.00",
        document_file_id=str(document.id)))  # fmt: skip
    dispute = await repository.insert_dispute(
        Dispute(campaign_id=fid, user_id=investor.user_id, reason="The oven is another one")
    )
    for notes in ("", "  "):
        for approve in (True, False):
            reply = await api.call(
                "POST", f"{ADMIN}/profit-reports/{report.id}/decision", token=admin.token,
                json={"approve": approve, "notes": notes},
            )  # fmt: skip
            assert (reply.status, reply.body["error"]["code"]) == (422, "validation_error")
        reply = await api.call("POST", f"{ADMIN}/disputes/{dispute.id}/resolve",
                               token=admin.token, json={"resolution": notes})  # fmt: skip
        assert (reply.status, reply.body["error"]["code"]) == (422, "validation_error")
    assert (await repository.get_report(str(report.id))).status == "submitted"  # type: ignore[union-attr]
    assert (await repository.get_dispute(str(dispute.id))).status == "open"  # type: ignore[union-attr]


async def test_profit_periods_never_overlap_nor_start_before_the_campaign_opened() -> None:
    owner = await kyc_owner()
    campaign = await live_campaign(owner.user_id, goal="2000.00", max_investment="2000.00")
    cid = str(campaign.id)
    investor = await kyc_owner("investor")
    investment = await campaign_service.do_reserve(investor.user_id, cid, 200_000)
    assert await campaign_flows.do_apply_payment_event(captured(investment))
    # The campaign opened 40 days ago (moved back in time for the test).
    opened = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    await repository.update_campaign(
        cid, {"live_at": opened, "starts_on": opened.date().isoformat()}
    )
    document = await files_service.do_upload(owner.user_id, data=PDF, filename="p.pdf",
                                             purpose=FilePurpose.CAMPAIGN)  # fmt: skip
    today = dt.datetime.now(dt.UTC).date()

    def period(start_days_ago: int, end_days_ago: int) -> ProfitReportCreate:
        return ProfitReportCreate(
            period_start=today - dt.timedelta(days=start_days_ago),
            period_end=today - dt.timedelta(days=end_days_ago), profit="1000.00",
            document_file_id=str(document.id),
        )  # fmt: skip

    with pytest.raises(InvalidProfitReport) as early:
        await campaign_flows.do_report_profit(owner.user_id, cid, period(45, 30))
    assert early.value.details["field"] == "period_start"
    first = await campaign_flows.do_report_profit(owner.user_id, cid, period(30, 20))
    for start, end in ((28, 22), (25, 10), (32, 30), (20, 15), (31, 19)):
        with pytest.raises(InvalidProfitReport) as overlap:
            await campaign_flows.do_report_profit(owner.user_id, cid, period(start, end))
        assert overlap.value.details["report_id"] == str(first.id), (start, end)
    # Two overlapping reports sent at once: exactly one is stored.
    results = await asyncio.gather(
        campaign_flows.do_report_profit(owner.user_id, cid, period(19, 12)),
        campaign_flows.do_report_profit(owner.user_id, cid, period(15, 5)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1, results
    # The next period, right after: accepted.
    reports = await campaign_service.reports(cid)
    last_end = max(r.period_end for r in reports)
    next_start = (dt.date.fromisoformat(last_end) - today).days + 1
    assert await campaign_flows.do_report_profit(owner.user_id, cid, period(-next_start, 0))
    assert len(await campaign_service.reports(cid)) == 3


async def test_mine_pages_count_only_the_callers_campaigns(api: Api) -> None:
    await live_campaign()  # someone else's, public
    owner = await person("owner")
    await verify_kyc(owner.user_id)
    for _ in range(3):
        await campaign_service.do_create(owner.user_id, fields())
    stranger = await person("stranger")
    reply = await api.call("GET", f"{BASE}?mine=true", token=stranger.token)
    assert reply.status == 200
    assert (reply.body["total"], reply.body["campaigns"], reply.body["next_offset"]) == (
        0,
        [],
        None,
    )
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        reply = await api.call("GET", f"{BASE}?mine=true&limit=2&offset={offset}",
                               token=owner.token)  # fmt: skip
        assert reply.body["total"] == 3
        seen += [c["id"] for c in reply.body["campaigns"]]
        offset = reply.body["next_offset"]
        assert len(seen) <= 3
    assert len(set(seen)) == 3


async def test_amounts_follow_the_documented_pattern_exactly(
    api: Api, payment_sandbox: SandboxClient
) -> None:
    campaign = await live_campaign(min_investment="100.00")
    cid = str(campaign.id)
    investor = await person("investor")
    await verify_kyc(investor.user_id)
    for amount in ("-1", "  500", "500 ", "+500", "5e2", "500.001", "-0.00"):
        reply = await api.call("POST", f"{BASE}/{cid}/invest", token=investor.token,
                               json={"amount": amount},
                               headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
        assert (reply.status, reply.body["error"]["code"]) == (422, "validation_error"), amount
        quote = await api.call("GET", f"{BASE}/{cid}/quote", token=investor.token,
                               params={"amount": amount})  # fmt: skip
        assert quote.status == 422, amount
    assert (await campaign_service.get(cid)).reserved == 0
    reply = await api.call("POST", f"{BASE}/{cid}/invest", token=investor.token,
                           json={"amount": "500.00"},
                           headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert reply.status == 201, reply.body
    assert reply.body["campaign_title"] == campaign.title


async def test_a_campaign_not_open_yet_says_when_it_opens(api: Api) -> None:
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    campaign = await live_campaign(starts_on=tomorrow.isoformat())
    cid = str(campaign.id)
    investor = await person("investor")
    await verify_kyc(investor.user_id)
    quote = await api.call("GET", f"{BASE}/{cid}/quote", token=investor.token,
                           params={"amount": "500.00"})  # fmt: skip
    assert quote.status == 200
    assert (quote.body["outcome"], quote.body["reason"], quote.body["opens_on"]) == (
        "refuse",
        "not_open_yet",
        tomorrow.isoformat(),
    )
    reply = await api.call("POST", f"{BASE}/{cid}/invest", token=investor.token,
                           json={"amount": "500.00"},
                           headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert reply.status == 409
    assert reply.body["error"]["details"]["reason"] == "not_open_yet"
    assert reply.body["error"]["details"]["opens_on"] == tomorrow.isoformat()


async def test_the_last_rupees_reserved_by_others_are_not_the_goal_reached() -> None:
    campaign = await live_campaign(goal="2000.00", max_investment="2000.00")
    cid = str(campaign.id)
    first, second = await kyc_owner("first"), await kyc_owner("second")
    await campaign_service.do_reserve(first.user_id, cid, 200_000)
    with pytest.raises(InvestmentRefused) as refused:
        await campaign_service.do_reserve(second.user_id, cid, 100_000)
    assert refused.value.details["reason"] == "all_reserved"
    assert "reserved" in str(refused.value) and "free" in str(refused.value)


async def test_search_words_match_in_any_order_and_field(api: Api) -> None:
    tag = uuid.uuid4().hex[:8]
    campaign = await live_campaign(
        title=f"IDLI steamer for Lakshmi {tag}",
        story="A bigger idli steamer for the morning rush at the bus stand.",
        city="Madurai",
    )
    viewer = await person("viewer")
    for q in (f"idli {tag}", f"{tag} STEAMER", f"steamer madurai {tag}", f"{tag} rush bus"):
        reply = await api.call("GET", BASE, token=viewer.token, params={"q": q})
        assert [c["id"] for c in reply.body["campaigns"]] == [str(campaign.id)], q
        assert reply.body["total"] == 1
    reply = await api.call("GET", BASE, token=viewer.token, params={"q": f"{tag} bakery"})
    assert reply.body["total"] == 0


async def test_a_reservation_and_its_release_change_what_the_room_shows_remaining() -> None:
    campaign = await live_campaign(goal="10000.00", max_investment="10000.00")
    cid = str(campaign.id)
    room = campaign_room(cid)
    verified = await kyc_owner("verified")
    unverified = await person("nokyc")
    head = await eventlog.head(room)
    first = await campaign_service.do_reserve(verified.user_id, cid, 300_000)
    await campaign_service.do_reserve(unverified.user_id, cid, 200_000)
    events = await eventlog.since(room, head, 10)
    assert [(e.event, e.data["reserved"], e.data["remaining"]) for e in events] == [
        ("campaign:progress", "3000.00", "7000.00"),
        ("campaign:progress", "5000.00", "5000.00"),
    ]
    await campaign_service.do_release(first, InvestmentStatus.EXPIRED)
    last = (await eventlog.since(room, head + 2, 10))[-1]
    assert (last.data["reserved"], last.data["remaining"]) == ("2000.00", "8000.00")


async def test_a_refund_whose_webhook_never_comes_is_asked_for_and_settled_once(
    payment_sandbox: SandboxClient,
) -> None:
    control = "/sandbox/payouts/control"
    await payment_sandbox.call("POST", control, {"refund_async": True, "webhook_url": None})
    try:
        campaign = await live_campaign(goal="9000.00", max_investment="9000.00")
        cid = str(campaign.id)
        investor = await kyc_owner("investor")
        investment = await campaign_service.do_invest(investor.user_id, cid, 300_000)
        assert investment.order_id
        paid = await payment_sandbox.pay(investment.order_id)
        assert await campaign_flows.do_apply_payment_event(
            captured(investment, payment_id=paid["razorpay_payment_id"])
        )
        await repository.update_campaign(cid, {"ends_at": dt.datetime.now(dt.UTC)})
        await campaign_flows.do_close_due()
        await campaign_flows.do_process_transfers()
        [sent] = await repository.transfers(campaign_id=cid, kind="refund")
        assert sent.status == TransferStatus.SENT and sent.provider_ref
        assert await campaign_flows.do_reconcile_sent() == 0  # not stale yet
        later = dt.datetime.now(dt.UTC)
        for _ in range(10):
            later += dt.timedelta(minutes=11)
            await campaign_flows.do_reconcile_sent(later)
            [refund] = await repository.transfers(campaign_id=cid, kind="refund")
            if refund.status != TransferStatus.SENT:
                break
            await asyncio.sleep(0.3)
        assert refund.status == TransferStatus.PAID and refund.provider_ref == sent.provider_ref
        assert await campaign_flows.do_reconcile_sent(later + dt.timedelta(minutes=11)) == 0
        stored = await repository.get_investment(str(investment.id))
        assert stored is not None and stored.status == InvestmentStatus.REFUNDED
        _, refunds = await payment_sandbox.call(
            "GET", f"/v1/payments/{paid['razorpay_payment_id']}/refunds"
        )
        assert [r["status"] for r in refunds["items"]] == ["processed"]  # one refund only
        balances = await ledger_service.balances(cid)
        assert balances["assets:escrow"] == 0 and sum(balances.values()) == 0
    finally:
        await payment_sandbox.call("POST", control, {"refund_async": False})


async def test_a_double_click_makes_one_reservation_listed_for_its_investor(
    api: Api, payment_sandbox: SandboxClient
) -> None:
    campaign = await live_campaign()
    cid = str(campaign.id)
    investor = await person("investor")
    await verify_kyc(investor.user_id)
    key = uuid.uuid4().hex
    replies = await asyncio.gather(
        *[
            api.call(
                "POST",
                f"{BASE}/{cid}/invest",
                token=investor.token,
                json={"amount": "500.00"},
                headers={"Idempotency-Key": key},
            )
            for _ in range(2)
        ]
    )  # fmt: skip  (a double click sends the same key)
    assert {r.status for r in replies} <= {201, 409}
    mine = await api.call("GET", f"{BASE}/{cid}/investments", token=investor.token)
    pending = [i for i in mine.body["investments"] if i["status"] == "pending"]
    assert len(pending) == 1 and pending[0]["checkout_url"]
    assert (await campaign_service.get(cid)).reserved == 50_000


async def test_investors_hear_their_payment_landed_and_the_campaign_funded() -> None:
    campaign = await live_campaign(goal="5000.00", max_investment="5000.00")
    cid = str(campaign.id)
    first, second = await kyc_owner("first"), await kyc_owner("second")
    one = await campaign_service.do_reserve(first.user_id, cid, 200_000)
    two = await campaign_service.do_reserve(second.user_id, cid, 300_000)
    assert await campaign_flows.do_apply_payment_event(captured(one))
    assert await campaign_flows.do_apply_payment_event(captured(two))
    assert (await campaign_service.get(cid)).status == "funded"

    async def titles(user_id: str) -> list[str]:
        found = await Notification.find({"user_id": user_id, "ref_id": cid}).to_list()
        return sorted(n.title for n in found)

    title = campaign.title
    assert await titles(first.user_id) == [f"{title}: funded", f"{title}: your payment is in"]
    assert await titles(second.user_id) == [f"{title}: funded", f"{title}: your payment is in"]
    funded = await Notification.find_one({"user_id": first.user_id, "title": f"{title}: funded"})
    assert funded is not None and "₹5,000.00 raised of ₹5,000.00" in funded.body
    assert f"{title}: funded" in await titles(campaign.owner_id)


async def test_a_start_day_in_the_past_is_named_as_the_start_day() -> None:
    owner = await kyc_owner()
    past = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=300)
    with pytest.raises(InvalidCampaign) as refused:
        await campaign_service.do_create(owner.user_id, fields(starts_on=past.isoformat()))
    assert refused.value.details["field"] == "starts_on"

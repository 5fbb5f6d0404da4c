"""The crowdfunding dashboards over HTTP (issue #16, "Dashboards and compliance"): the owner's
next profit report due per funded campaign with its overdue mark (docs/domain.md, "Reporting
schedule"), the owner's updates with their dates, the investor's news from the campaigns they
back, and dispute rows that name their campaign for the investor and the admin; a dashboard
joins a campaign room without its history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from app.campaigns.documents import Campaign
from app.campaigns.flows import campaign_flows
from app.campaigns.schedule import add_months
from app.campaigns.schemas import ProfitReportCreate
from app.campaigns.service import campaign_service
from app.files.documents import FilePurpose
from app.files.service import files_service
from tests.campaigns.factories import captured, kyc_owner, live_campaign
from tests.identity.conftest import Account, Api
from tests.rooms.conftest import Person, person

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BOARD = "/api/v1/me/campaigns/dashboard"


async def get(api: Api, token: str, path: str) -> Any:
    reply = await api.call("GET", path, token=token)
    assert reply.status == 200, (path, reply.status, reply.body)
    return reply.body


async def funded_long_ago(owner: Account, investor_id: str, days: int) -> Campaign:
    """A quarterly campaign of ``owner`` funded by ``investor_id`` (₹15,000), moved back in
    time so that it opened and was funded ``days`` days ago."""
    campaign = await live_campaign(owner.user_id, title="Meena's bakery: a second oven")
    investment = await campaign_service.do_reserve(investor_id, str(campaign.id), 1_500_000)
    await campaign_flows.do_apply_payment_event(captured(investment))
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    await Campaign.get_pymongo_collection().update_one(
        {"_id": campaign.id},
        {"$set": {"closed_at": then, "live_at": then, "starts_on": then.date().isoformat()}},
    )
    moved = await campaign_service.get(str(campaign.id))
    assert moved.status == "funded" and moved.profit_period_months == 3
    return moved


async def test_the_owner_sees_each_next_report_due_overdue_marked_and_their_updates(
    api: Api,
) -> None:
    owner, investor = await kyc_owner("owner"), await kyc_owner("investor")
    owner_token = (await api.tokens(owner))["access_token"]
    investor_token = (await api.tokens(investor))["access_token"]
    today = dt.datetime.now(dt.UTC).date()
    old = await funded_long_ago(owner, investor.user_id, 200)
    other = await live_campaign(owner.user_id, title="Tailor Ravi's second shop")
    funded = today - dt.timedelta(days=200)
    first_end = add_months(funded, 3) - dt.timedelta(days=1)

    # Nothing reported 200 days after funding: the first quarter is overdue.
    board = await get(api, owner_token, BOARD)
    [due] = board["owner_reports_due"]  # the live campaign owes nothing yet
    assert due == {
        "campaign_id": str(old.id), "campaign_title": old.title, "number": 1,
        "period_start": funded.isoformat(), "period_end": first_end.isoformat(),
        "due_on": (first_end + dt.timedelta(days=45)).isoformat(), "state": "overdue",
        "overdue": True, "days_overdue": (today - first_end - dt.timedelta(days=45)).days,
        "overdue_since": (first_end + dt.timedelta(days=46)).isoformat(),
    }  # fmt: skip
    assert {c["id"] for c in board["owned"]} == {str(old.id), str(other.id)}

    # The first quarter reported (awaiting the admin): the second is next, due, not overdue.
    statement = await files_service.do_upload(
        owner.user_id, data=PDF, filename="q1.pdf", purpose=FilePurpose.CAMPAIGN
    )
    await campaign_flows.do_report_profit(
        owner.user_id, str(old.id),
        ProfitReportCreate(period_start=funded, period_end=first_end, profit="40000.00",
                           document_file_id=str(statement.id)),
    )  # fmt: skip
    second_end = add_months(funded, 6) - dt.timedelta(days=1)
    [due] = (await get(api, owner_token, BOARD))["owner_reports_due"]
    assert (due["number"], due["period_start"], due["period_end"]) == (
        2, (first_end + dt.timedelta(days=1)).isoformat(), second_end.isoformat())  # fmt: skip
    assert (due["state"], due["overdue"], due["days_overdue"]) == ("due", False, 0)
    assert due["due_on"] == (second_end + dt.timedelta(days=45)).isoformat()

    # The owner's updates, newest first, with their dates; the investor reads them too.
    for title in ("Oven ordered", "Oven installed"):
        await campaign_service.do_post_update(owner.user_id, str(old.id), title, "It works.")
    await campaign_service.do_post_update(owner.user_id, str(other.id), "Shop found", "On MG Rd")
    board = await get(api, owner_token, BOARD)
    updates = board["owner_updates"]
    assert [u["title"] for u in updates] == ["Shop found", "Oven installed", "Oven ordered"]
    assert [u["campaign_title"] for u in updates] == [other.title, old.title, old.title]
    stamps = [dt.datetime.fromisoformat(u["created_at"]) for u in updates]
    assert stamps == sorted(stamps, reverse=True)
    assert all(abs(dt.datetime.now(dt.UTC) - s) < dt.timedelta(minutes=5) for s in stamps)
    mine = await get(api, investor_token, BOARD)
    assert [(u["title"], u["campaign_title"]) for u in mine["investor_updates"]] == [
        ("Oven installed", old.title), ("Oven ordered", old.title)]  # fmt: skip
    assert mine["owner_reports_due"] == [] and mine["owner_updates"] == []


async def test_dispute_rows_name_their_campaign_for_the_investor_and_the_admin(
    api: Api,
) -> None:
    owner, investor = await kyc_owner("owner"), await kyc_owner("investor")
    admin = await person("admin", ["admin"])  # type: ignore[list-item]
    investor_token = (await api.tokens(investor))["access_token"]
    campaign = await funded_long_ago(owner, investor.user_id, 10)
    reply = await api.call(
        "POST", f"/api/v1/campaigns/{campaign.id}/disputes", token=investor_token,
        json={"reason": "The oven in the photos is another one."},
    )  # fmt: skip
    assert reply.status == 201 and reply.body["campaign_title"] == campaign.title, reply.body
    [row] = (await get(api, investor_token, BOARD))["disputes"]
    assert (row["campaign_id"], row["campaign_title"], row["status"]) == (
        str(campaign.id), campaign.title, "open")  # fmt: skip
    queue = await get(api, admin.token, "/api/v1/admin/campaigns/dashboard")
    [ours] = [d for d in queue["open_disputes"] if d["id"] == row["id"]]
    assert ours["campaign_title"] == campaign.title
    resolved = await api.call(
        "POST", f"/api/v1/admin/campaigns/disputes/{row['id']}/resolve", token=admin.token,
        json={"resolution": "Owner showed the oven invoice"},
    )  # fmt: skip
    assert resolved.status == 200 and resolved.body["campaign_title"] == campaign.title
    [row] = (await get(api, investor_token, BOARD))["disputes"]
    assert (row["status"], row["resolution"]) == ("resolved", "Owner showed the oven invoice")


async def test_a_dashboard_joins_a_campaign_room_without_its_history(
    clients: Callable[[Person], Any],
) -> None:
    campaign = await live_campaign()
    cid = str(campaign.id)
    investor = await person("investor")
    await campaign_service.do_reserve(investor.user_id, cid, 200_000)
    screen = await clients(await person("viewer"))
    page = await screen.call("campaign:join", {"campaign_id": cid, "after_seq": 0})
    assert page["seq"] >= 1 and len(page["events"]) == page["seq"]
    quiet = {"campaign_id": cid, "after_seq": 0, "with_events": False}
    board = await screen.call("campaign:join", quiet)
    assert board["ok"] and board["seq"] == page["seq"] and board["events"] == []
    assert board["campaign"]["reserved"] == "2000.00"

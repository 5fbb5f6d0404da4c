"""The crowdfunding dashboards in Chromium, live (issue #16, "Dashboards and compliance"): the
owner watches their dashboard while an investor on a phone reserves and pays — reserved, then
raised and investors move without a reload; the funded campaign shows its next profit report
due, an older one its overdue mark; the owner's update and the investor's profit share appear on
the investor's dashboard without a reload; dispute rows name their campaign for the investor and
the admin. Screenshots (desktop and phone) go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.campaigns.flows import campaign_flows
from app.campaigns.schemas import ProfitReportCreate
from app.files.documents import FilePurpose
from app.files.service import files_service
from app.identity.documents import PlatformRole
from tests.campaigns.factories import kyc_owner, live_campaign, verify_kyc, with_destination
from tests.campaigns.test_dashboards import funded_long_ago
from tests.identity.conftest import Api, provision
from tests.payments.sandbox_client import SandboxClient
from tests.web.conftest import PHONE, NewContext, person, sign_in

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LANDED = {"timeout": 45_000}  # webhook → Kafka → the campaigns agent → the room


async def shot(page: Page, artifacts: Path, name: str) -> None:
    await page.screenshot(path=str(artifacts / f"campaign-dashboards-{name}.png"), full_page=True)


async def mark(page: Page) -> None:
    """Leave a mark in the page's window: it is gone if the page reloads."""
    await page.evaluate("window.__notReloaded = true")


async def not_reloaded(page: Page) -> None:
    assert await page.evaluate("window.__notReloaded === true"), "the page was reloaded"


async def fits(page: Page) -> None:
    """Nothing is wider than the phone (no sideways scrolling)."""
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= PHONE["width"], f"the page is {scroll} px wide on a phone"


@pytest.mark.timeout(420)
async def test_dashboards_change_live_for_the_owner_and_the_investor(
    http: Api, new_context: NewContext, payment_stack: SandboxClient, artifacts: Path
) -> None:
    owner = await person(http, new_context, "meena")
    await verify_kyc(owner.id)
    investor = await person(http, new_context, "asha", viewport=PHONE)
    await with_destination(investor.id)
    campaign = await live_campaign(
        owner.id, title="Lakshmi's idli steamer", goal="10000.00", min_investment="500.00",
        max_investment="10000.00", profit_period_months=3,
    )  # fmt: skip
    cid = str(campaign.id)
    # An older campaign of hers, funded 200 days ago and never reported on: overdue.
    late = await funded_long_ago(owner.account, (await kyc_owner("early")).user_id, 200)

    page = owner.page
    await page.goto("/campaigns/dashboard")
    row = page.locator(f'[data-testid="board-owned"][data-id="{cid}"]')
    await expect(row.get_by_test_id("board-owned-raised")).to_have_text("₹0.00")
    await expect(row.get_by_test_id("board-owned-investors")).to_have_text("0 investors")
    overdue = page.locator(f'[data-testid="board-owned"][data-id="{late.id}"]')
    due_late = overdue.get_by_test_id("board-report-due")
    await expect(due_late).to_have_attribute("data-state", "overdue")
    await expect(due_late.get_by_test_id("report-due-state")).to_contain_text("Overdue by")
    await expect(row.get_by_test_id("board-report-due")).to_have_count(0)  # not funded yet
    await mark(page)

    # The investor reserves on her phone: the owner's dashboard shows the money being paid.
    phone = investor.page
    await phone.goto(f"/campaigns/{cid}")
    await phone.get_by_test_id("invest-amount").fill("10000")
    await expect(phone.get_by_test_id("invest-quote")).to_contain_text("₹10,000.00 will be")
    await phone.get_by_test_id("invest-submit").click()
    await expect(phone.get_by_test_id("invest-checkout")).to_contain_text("₹10,000.00")
    await expect(row.get_by_test_id("board-owned-reserved")).to_contain_text("₹10,000.00")
    await shot(page, artifacts, "owner-reserved-desktop")

    # She pays at the sandbox checkout: raised and investors move, it funds, a report is owed.
    await phone.get_by_test_id("invest-pay").click()
    await phone.wait_for_url(f"{payment_stack.url}/checkout/**")
    await phone.get_by_test_id("pay").click()
    await expect(phone.get_by_test_id("status")).to_be_visible()
    await expect(row.get_by_test_id("board-owned-raised")).to_have_text("₹10,000.00", **LANDED)
    await expect(row.get_by_test_id("board-owned-investors")).to_have_text("1 investor")
    await expect(row).to_contain_text("Funded")
    await expect(row.get_by_test_id("board-owned-reserved")).to_have_count(0)
    today = dt.datetime.now(dt.UTC).date()
    due = row.get_by_test_id("board-report-due")
    await expect(due).to_have_attribute("data-state", "upcoming")
    await expect(due).to_contain_text("Period running")
    await not_reloaded(page)

    # She finds something wrong and opens a dispute; her dashboard names the campaign.
    await phone.goto(f"/campaigns/{cid}")
    await phone.get_by_test_id("dispute-reason").fill("The steamer in the photo is smaller.")
    await phone.get_by_test_id("dispute-submit").click()
    await expect(phone.get_by_test_id("dispute-sent")).to_be_visible()
    await phone.goto("/campaigns/dashboard")
    dispute = phone.get_by_test_id("board-dispute")
    await expect(dispute.get_by_test_id("dispute-campaign")).to_have_text(campaign.title)
    await expect(dispute.get_by_test_id("dispute-campaign")).to_have_attribute(
        "href", f"/campaigns/{cid}"
    )
    await expect(phone.get_by_test_id("board-investment")).to_contain_text("Completed")
    await mark(phone)

    # The owner posts an update: it appears on her dashboard and on the owner's, no reload.
    reply = await http.call(
        "POST", f"/api/v1/campaigns/{cid}/updates", token=owner.token,
        json={"title": "Steamer delivered", "body": "300 plates a morning from Monday."},
    )  # fmt: skip
    assert reply.status == 201, reply.body
    news = phone.get_by_test_id("board-investor-update")
    await expect(news).to_contain_text("Steamer delivered", **LANDED)
    await expect(news).to_contain_text(campaign.title)
    await expect(news.get_by_test_id("board-investor-update-date")).not_to_have_text("—")
    mine = page.get_by_test_id("board-owner-update")
    await expect(mine).to_contain_text("Steamer delivered")
    await expect(mine.get_by_test_id("board-owner-update-date")).not_to_have_text("—")

    # Profit is reported, approved and paid in; her share lands on her dashboard, no reload.
    statement = await files_service.do_upload(
        owner.id, data=PDF, filename="q1.pdf", purpose=FilePurpose.CAMPAIGN
    )
    report = await campaign_flows.do_report_profit(
        owner.id, cid,
        ProfitReportCreate(period_start=today, period_end=today, profit="20000.00",
                           document_file_id=str(statement.id)),
    )  # fmt: skip
    admin = await provision([PlatformRole.ADMIN], tag="admin")
    approved = await campaign_flows.do_decide_report(
        admin.user_id, str(report.id), True, "Statement matches"
    )
    assert approved.order_id
    await payment_stack.pay(approved.order_id)
    payout = phone.get_by_test_id("board-payout")
    await expect(payout).to_contain_text("₹4,000.00", **LANDED)  # 20 % of ₹20,000
    await expect(payout).to_have_attribute("data-status", "paid", **LANDED)
    await expect(phone.get_by_test_id("board-received")).to_have_text("₹4,000.00")
    await not_reloaded(phone)
    await fits(phone)
    await shot(phone, artifacts, "investor-phone")
    # The owner's board: the report covers today, so the next one starts tomorrow.
    await expect(due).to_contain_text("Period running")
    await expect(page.get_by_test_id("board-owner-report")).to_have_count(1)
    await not_reloaded(page)
    await shot(page, artifacts, "owner-desktop")

    # The admin's dispute queue names the campaign with a link to it.
    admin_page = await (await new_context()).new_page()
    await sign_in(admin_page, admin)
    await admin_page.goto("/campaigns/admin")
    item = admin_page.locator(f'[data-testid="dispute-item"][data-campaign="{cid}"]')
    await expect(item.get_by_test_id("dispute-campaign")).to_have_text(campaign.title)
    await expect(item.get_by_test_id("dispute-campaign")).to_have_attribute(
        "href", f"/campaigns/{cid}"
    )
    await expect(item).to_contain_text("The steamer in the photo is smaller.")
    await shot(admin_page, artifacts, "admin-disputes-desktop")

    # The owner's dashboard on a phone fits and shows the overdue mark.
    owner_phone = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(owner_phone, owner.account)
    await owner_phone.goto("/campaigns/dashboard")
    late_due = owner_phone.locator('[data-testid="board-report-due"][data-state="overdue"]')
    await expect(late_due).to_contain_text("Overdue by")
    await fits(owner_phone)
    await shot(owner_phone, artifacts, "owner-phone")

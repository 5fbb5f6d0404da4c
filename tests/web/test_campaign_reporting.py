"""What investors are owed, in Chromium (issue #16, profit sharing and dashboards): an investor
follows a funded campaign's page on a desktop while another follows their dashboard on a phone;
the report the owner owes turns overdue (the worker's sweep tells it once) and both screens show
"overdue since" without a reload; the owner files the report from the campaign's page and both
screens show it at once, with the next period owed. An admin watches the crowdfunding dashboard
while an investor pledges and pays, a campaign closes funded, an owner submits a campaign and
files a report, and an investor opens a dispute: each shows up without a reload. Screenshots
(desktop and phone) go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.campaigns.documents import Campaign
from app.campaigns.flows import campaign_flows
from app.campaigns.schedule import add_months
from app.campaigns.schemas import ProfitReportCreate
from app.campaigns.service import campaign_service
from app.files.documents import FilePurpose
from app.files.service import files_service
from app.identity.documents import PlatformRole
from tests.campaigns.factories import captured, fields, funded_days_ago, live_campaign, verify_kyc
from tests.identity.conftest import Api, provision
from tests.web.conftest import PHONE, NewContext, person, sign_in

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LIVE = {"timeout": 20_000}


async def shot(page: Page, artifacts: Path, name: str) -> None:
    await page.screenshot(path=str(artifacts / f"campaign-reporting-{name}.png"), full_page=True)


async def mark(page: Page) -> None:
    """Leave a mark in the page's window: it is gone if the page reloads."""
    await page.evaluate("window.__notReloaded = true")


async def not_reloaded(page: Page) -> None:
    assert await page.evaluate("window.__notReloaded === true"), "the page was reloaded"


async def fits(page: Page) -> None:
    """Nothing is wider than the phone (no sideways scrolling)."""
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= PHONE["width"], f"the page is {scroll} px wide on a phone"


async def words(page: Page, day: dt.date) -> str:
    """A day as the screens write it, by the browser's own en-IN format ("5 Jun 2026")."""
    return str(await page.evaluate(
        """(iso) => new Date(`${iso}T00:00:00Z`).toLocaleDateString("en-IN",
             { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" })""",
        day.isoformat(),
    ))  # fmt: skip


@pytest.mark.timeout(300)
async def test_investors_see_the_report_owed_go_overdue_and_get_filed_live(
    http: Api, new_context: NewContext, artifacts: Path, tmp_path: Path
) -> None:
    owner = await person(http, new_context, "anand")
    asha = await person(http, new_context, "asha")
    ravi = await person(http, new_context, "ravi", viewport=PHONE)
    for someone in (owner, asha, ravi):
        await verify_kyc(someone.account.user_id)
    # Funded 100 days ago, quarterly: the first quarter ended ten days ago, its report is due.
    campaign = await funded_days_ago(
        owner.account.user_id,
        [(asha.account.user_id, 1_000_000), (ravi.account.user_id, 500_000)], 100,
        title="Anand's dairy: a bulk milk chiller",
    )  # fmt: skip
    cid = str(campaign.id)

    page = asha.page
    await page.goto(f"/campaigns/{cid}")
    due = page.get_by_test_id("campaign-report-due")
    await expect(due).to_have_attribute("data-state", "due")
    await expect(due.get_by_test_id("report-due-state")).to_have_text("Due now")
    await expect(page.get_by_test_id("campaign-reporting")).to_contain_text(
        "No profit report filed yet."
    )
    phone = ravi.page
    await phone.goto("/campaigns/dashboard")
    owed = phone.locator(f'[data-testid="board-investor-due"][data-campaign="{cid}"]')
    await expect(owed).to_have_attribute("data-state", "due")
    await mark(page)
    await mark(phone)

    # Time passes (the campaign was funded 200 days ago after all): the first quarter's report
    # is overdue, the sweep tells it, and both screens show since when — no reload.
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=200)
    await Campaign.get_pymongo_collection().update_one(
        {"_id": campaign.id},
        {"$set": {"closed_at": then, "live_at": then, "starts_on": then.date().isoformat()}},
    )
    funded = then.date()
    first_end = add_months(funded, 3) - dt.timedelta(days=1)
    since = first_end + dt.timedelta(days=46)
    await campaign_flows.do_tell_overdue_reports()
    await expect(due).to_have_attribute("data-state", "overdue", **LIVE)
    late_since = f"since {await words(page, since)}"
    await expect(due.get_by_test_id("report-due-state")).to_contain_text(late_since)
    period = f"{await words(page, funded)} to {await words(page, first_end)}"
    await expect(due).to_contain_text(period)
    await expect(owed).to_have_attribute("data-state", "overdue", **LIVE)
    await expect(owed).to_contain_text(late_since)
    await not_reloaded(page)
    await not_reloaded(phone)
    await shot(page, artifacts, "investor-overdue-desktop")
    await fits(phone)
    await shot(phone, artifacts, "investor-overdue-phone")

    # The owner files the first quarter from the campaign's page.
    owner_page = owner.page
    await owner_page.goto(f"/campaigns/{cid}")
    await expect(owner_page.get_by_test_id("owner-report-due")).to_have_attribute(
        "data-state", "overdue"
    )
    statement = tmp_path / "q1.pdf"
    statement.write_bytes(PDF)
    await owner_page.get_by_test_id("profit-start").fill(funded.isoformat())
    await owner_page.get_by_test_id("profit-end").fill(first_end.isoformat())
    await owner_page.get_by_test_id("profit-amount").fill("40000")
    await owner_page.get_by_test_id("profit-file").set_input_files(str(statement))
    await owner_page.get_by_test_id("profit-submit").click()
    await expect(owner_page.get_by_test_id("profit-report")).to_have_attribute(
        "data-status", "submitted"
    )
    await expect(owner_page.get_by_test_id("owner-report-due")).to_have_attribute(
        "data-state", "due"
    )
    await shot(owner_page, artifacts, "owner-filed-desktop")

    # Both investors' screens show the report filed and the next quarter owed — no reload.
    filed = page.get_by_test_id("campaign-report")
    await expect(filed).to_have_attribute("data-status", "submitted", **LIVE)
    await expect(filed).to_contain_text("₹40,000.00")
    await expect(filed).to_contain_text("Awaiting review")
    await expect(filed.get_by_test_id("campaign-report-statement")).to_be_visible()
    await expect(due).to_have_attribute("data-state", "due")
    await expect(due).to_contain_text("(period 2)")
    row = phone.get_by_test_id("board-investor-report")
    await expect(row).to_have_attribute("data-status", "submitted", **LIVE)
    await expect(row).to_contain_text(campaign.title)
    await expect(owed).to_have_attribute("data-state", "due")
    await not_reloaded(page)
    await not_reloaded(phone)
    await fits(phone)
    await shot(page, artifacts, "investor-filed-desktop")
    await shot(phone, artifacts, "investor-filed-phone")


@pytest.mark.timeout(300)
async def test_the_admin_dashboard_changes_live_as_owners_and_investors_act(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    admin = await provision([PlatformRole.ADMIN], tag="admin")
    owner = await provision(tag="tailor")
    investor = await provision(tag="investor")
    backer = await provision(tag="backer")
    for someone in (owner, investor, backer):
        await verify_kyc(someone.user_id)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)  # among the first live ones listed
    shop = await live_campaign(owner.user_id, title="Ravi's second tailoring shop",
                               ends_at=soon.isoformat())  # fmt: skip
    sid = str(shop.id)
    dairy = await funded_days_ago(owner.user_id, [(backer.user_id, 1_500_000)], 30,
                                  title="Ravi's bulk cloth order")  # fmt: skip
    did = str(dairy.id)

    page = await (await new_context()).new_page()
    await sign_in(page, admin)
    await page.goto("/campaigns/admin")
    item = page.locator(f'[data-testid="live-item"][data-id="{sid}"]')
    await expect(item.get_by_test_id("live-raised")).to_have_text("₹0.00")
    await expect(item.get_by_test_id("live-investors")).to_have_text("0 investors")
    await mark(page)

    # An investor pledges: the reservation shows; the payment lands: raised and investors move.
    pledge = await campaign_service.do_reserve(investor.user_id, sid, 1_000_000)
    await expect(item.get_by_test_id("live-reserved")).to_contain_text("₹10,000.00", **LIVE)
    await campaign_flows.do_apply_payment_event(captured(pledge))
    await expect(item.get_by_test_id("live-raised")).to_have_text("₹10,000.00", **LIVE)
    await expect(item.get_by_test_id("live-investors")).to_have_text("1 investor")
    await expect(item.get_by_test_id("live-reserved")).to_have_count(0)
    await shot(page, artifacts, "admin-pledges-desktop")

    # Another takes the rest and pays: the campaign is funded and leaves the live list.
    rest = await campaign_service.do_reserve(backer.user_id, sid, 500_000)
    await campaign_flows.do_apply_payment_event(captured(rest))
    await expect(item).to_have_count(0, **LIVE)
    assert (await campaign_service.get(sid)).status == "funded"

    # The owner submits a new campaign: it waits for verification.
    draft = await campaign_service.do_create(owner.user_id, fields(title="Ravi's embroidery unit"))
    await campaign_service.do_submit(owner.user_id, str(draft.id))
    waiting = page.locator(f'[data-testid="verify-item"][data-id="{draft.id}"]')
    await expect(waiting).to_contain_text("Ravi's embroidery unit", **LIVE)

    # The owner files a profit report on the funded one: it waits for a decision.
    statement = await files_service.do_upload(
        owner.user_id, data=PDF, filename="month.pdf", purpose=FilePurpose.CAMPAIGN
    )
    today = dt.datetime.now(dt.UTC).date()
    await campaign_flows.do_report_profit(
        owner.user_id, did,
        ProfitReportCreate(period_start=today - dt.timedelta(days=20), period_end=today,
                           profit="30000.00", document_file_id=str(statement.id)),
    )  # fmt: skip
    report = page.get_by_test_id("report-item").filter(has_text="Ravi's bulk cloth order")
    await expect(report).to_contain_text("₹30,000.00", **LIVE)

    # An investor opens a dispute: it is in the admin's queue.
    await campaign_flows.do_open_dispute(backer.user_id, did, "The cloth was never ordered.")
    dispute = page.locator(f'[data-testid="dispute-item"][data-campaign="{did}"]')
    await expect(dispute).to_contain_text("The cloth was never ordered.", **LIVE)
    await not_reloaded(page)
    await shot(page, artifacts, "admin-desktop")

    phone = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(phone, admin)
    await phone.goto("/campaigns/admin")
    await expect(
        phone.locator(f'[data-testid="dispute-item"][data-campaign="{did}"]')
    ).to_be_visible()
    await fits(phone)
    await shot(phone, artifacts, "admin-phone")

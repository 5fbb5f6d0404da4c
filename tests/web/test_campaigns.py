"""Crowdfunding in Chromium: an owner's campaign is created in the editor and verified by an
admin; two investors (desktop and phone) invest live through the sandbox checkout and each sees
the other's money land; it funds; profit is reported, approved, paid in and paid out.
Screenshots (desktop and phone) go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.identity.documents import PlatformRole
from tests.campaigns.factories import verify_kyc
from tests.campaigns.test_files import png
from tests.identity.conftest import Api, provision
from tests.payments.sandbox_client import SandboxClient
from tests.web.conftest import PHONE, NewContext, person, sign_in

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def pay_at_checkout(page: Page, sandbox: SandboxClient, amount: str) -> None:
    """Follow the page's checkout link to the sandbox and pay there."""
    await page.wait_for_url(f"{sandbox.url}/checkout/**")
    await expect(page.get_by_test_id("amount")).to_contain_text(amount)
    await page.get_by_test_id("pay").click()
    await expect(page.get_by_test_id("status")).to_be_visible()


async def shot(page: Page, artifacts: Path, name: str) -> None:
    await page.screenshot(path=str(artifacts / f"campaigns-{name}.png"), full_page=True)


async def add_upi(page: Page, vpa: str) -> None:
    """Register a UPI id as the payout destination on the dashboard."""
    await page.goto("/campaigns/dashboard")
    box = page.get_by_test_id("payout-destination")
    await box.get_by_test_id("destination-edit").click()
    await box.get_by_test_id("destination-vpa").fill(vpa)
    await box.get_by_test_id("destination-save").click()
    await expect(box.get_by_test_id("destination-current")).to_contain_text(vpa)


@pytest.mark.timeout(480)  # a whole story in four browsers, with the stack's start-up
async def test_campaign_verified_invested_live_funded_and_profit_paid(
    http: Api, new_context: NewContext, payment_stack: SandboxClient, artifacts: Path
) -> None:
    owner = await person(http, new_context, "meena")
    await verify_kyc(owner.id)
    admin_account = await provision([PlatformRole.ADMIN], tag="admin")
    admin_page = await (await new_context()).new_page()
    await sign_in(admin_page, admin_account)
    asha = await person(http, new_context, "asha")
    ravi = await person(http, new_context, "ravi", viewport=PHONE)

    # The owner writes the campaign in the editor and sends it for review.
    page = owner.page
    await page.goto("/campaigns/new")
    await page.get_by_test_id("cf-title").fill("Meena's bakery: a second oven")
    await page.get_by_test_id("cf-story").fill(
        "We bake 400 loaves a day and turn people away by nine. A second oven doubles that."
    )
    await page.get_by_test_id("cf-city").fill("Pune")
    await page.get_by_test_id("cf-goal").fill("10000")
    await page.get_by_test_id("cf-min").fill("500")
    await page.get_by_test_id("cf-max").fill("6000")
    await page.get_by_test_id("cf-max").fill("abc")
    await page.get_by_test_id("cf-save").click()  # a sentence, not a code
    await expect(page.get_by_test_id("cf-error")).to_contain_text("Amounts are written like")
    await page.get_by_test_id("cf-max").fill("6000")
    # Pictures: a PDF is refused in words; two real images are uploaded and shown.
    picker = page.get_by_test_id("cf-picture-input")
    await picker.set_input_files(
        files=[{"name": "menu.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    await expect(page.get_by_test_id("cf-picture-error")).to_contain_text("not a PNG or JPEG")
    await picker.set_input_files(files=[
        {"name": "oven.png", "mimeType": "image/png", "buffer": png(96, 64, (210, 120, 40))},
        {"name": "shop.png", "mimeType": "image/png", "buffer": png(96, 64, (40, 110, 200))},
    ])  # fmt: skip
    await expect(page.get_by_test_id("cf-picture")).to_have_count(2)
    await page.get_by_test_id("cf-picture-remove").nth(1).click()
    await expect(page.get_by_test_id("cf-picture")).to_have_count(1)
    await shot(page, artifacts, "editor-desktop")
    await page.get_by_test_id("cf-save").click()
    await expect(page.get_by_test_id("campaign-page")).to_be_visible()
    await expect(page.get_by_test_id("campaign-picture")).to_have_count(1)
    campaign_id = await page.get_by_test_id("campaign-page").get_attribute("data-id")
    await page.get_by_test_id("submit-campaign").click()
    await expect(page.get_by_test_id("in-review")).to_be_visible()

    # The admin verifies it with a note.
    await admin_page.goto("/campaigns/admin")
    item = admin_page.locator(f'[data-testid="verify-item"][data-id="{campaign_id}"]')
    await item.get_by_test_id("decision-notes").fill("Oven quote and shop lease checked")
    await shot(admin_page, artifacts, "admin-verify-desktop")
    await item.get_by_test_id("verify-approve").click()
    await item.get_by_test_id("decision-confirm").click()
    await expect(item).to_have_count(0)

    # Where the money goes: the owner's bank account (IFSC checked here and by the provider's
    # validation), the investors' UPI ids (Ravi on his phone).
    await page.goto("/campaigns/dashboard")
    box = page.get_by_test_id("payout-destination")
    await box.get_by_test_id("destination-edit").click()
    await box.get_by_test_id("destination-kind").select_option("bank_account")
    await box.get_by_test_id("destination-holder").fill("Meena Kulkarni")
    await box.get_by_test_id("destination-ifsc").fill("HDFC1234567")
    await box.get_by_test_id("destination-number").fill("50100234567891")
    await box.get_by_test_id("destination-save").click()
    await expect(box.get_by_test_id("destination-error")).to_contain_text("An IFSC is 4 letters")
    await box.get_by_test_id("destination-ifsc").fill("ZZZZ0001234")  # no such bank
    await box.get_by_test_id("destination-save").click()
    await expect(box.get_by_test_id("destination-error")).to_contain_text("refused")
    await box.get_by_test_id("destination-ifsc").fill("HDFC0001234")
    await box.get_by_test_id("destination-save").click()
    await expect(box.get_by_test_id("destination-current")).to_contain_text("••••7891")
    await expect(box.get_by_test_id("destination-current")).to_contain_text("Meena Kulkarni")
    await shot(page, artifacts, "destination-desktop")
    await add_upi(asha.page, "asha.rao@okaxis")
    await add_upi(ravi.page, "ravi.k@okicici")
    await shot(ravi.page, artifacts, "destination-phone")

    # Two investors find it in the feed and open it.
    for investor in (asha, ravi):
        await investor.page.goto("/campaigns")
        await investor.page.get_by_test_id("feed-search").fill("second oven")
        card = investor.page.locator(f'[data-testid="campaign-card"][data-id="{campaign_id}"]')
        cover = card.get_by_test_id("campaign-cover")
        await expect(cover).to_be_visible()
        await expect(cover).to_have_js_property("naturalWidth", 96)  # the real image loaded
        await card.click()
        shown = investor.page.get_by_test_id("campaign-picture")
        await expect(shown.first).to_have_js_property("naturalWidth", 96)
        await expect(investor.page.get_by_test_id("campaign-raised")).to_have_text("₹0.00")
    await page.goto(f"/campaigns/{campaign_id}")
    await expect(page.get_by_test_id("campaign-status")).to_have_text("Live")

    # Asha invests ₹6,000 through the sandbox checkout; Ravi's phone shows it land.
    await asha.page.get_by_test_id("invest-amount").fill("6000")
    await expect(asha.page.get_by_test_id("invest-quote")).to_contain_text("₹6,000.00 will be")
    await asha.page.get_by_test_id("invest-submit").click()
    await asha.page.get_by_test_id("invest-pay").click()
    await pay_at_checkout(asha.page, payment_stack, "6000.00")
    # (webhook → Kafka → the campaigns agent → the room: slow on a loaded machine)
    landed = {"timeout": 45_000}
    await expect(ravi.page.get_by_test_id("campaign-raised")).to_have_text("₹6,000.00", **landed)
    await expect(ravi.page.get_by_test_id("campaign-investors")).to_have_text("1")
    await expect(page.get_by_test_id("campaign-raised")).to_have_text("₹6,000.00")
    await shot(ravi.page, artifacts, "page-phone")

    # Ravi asks for ₹5,000; only ₹4,000 remains: the part-fill is shown before paying.
    await ravi.page.get_by_test_id("invest-amount").fill("5000")
    await expect(ravi.page.get_by_test_id("invest-quote")).to_contain_text(
        "part-filled at ₹4,000.00"
    )
    await ravi.page.get_by_test_id("invest-submit").click()
    await expect(ravi.page.get_by_test_id("invest-checkout")).to_contain_text("₹4,000.00")
    await ravi.page.get_by_test_id("invest-pay").click()
    await pay_at_checkout(ravi.page, payment_stack, "4000.00")
    await expect(page.get_by_test_id("campaign-raised")).to_have_text("₹10,000.00", **landed)
    await expect(page.get_by_test_id("campaign-status")).to_have_text("Funded")
    await expect(page.get_by_test_id("campaign-pct")).to_have_text("100%")
    await asha.page.goto(f"/campaigns/{campaign_id}")
    await expect(asha.page.get_by_test_id("campaign-investors")).to_have_text("2")
    await asha.page.get_by_test_id("dispute-reason").fill("The oven in the photos is another one.")
    await asha.page.get_by_test_id("dispute-submit").click()
    await expect(asha.page.get_by_test_id("dispute-sent")).to_be_visible()
    await shot(asha.page, artifacts, "page-desktop")

    # The owner reports profit with a statement; the admin approves; the owner pays the pool.
    today = dt.datetime.now(dt.UTC).date()
    await page.reload()
    await page.get_by_test_id("profit-start").fill(today.isoformat())  # it opened today
    await page.get_by_test_id("profit-end").fill(today.isoformat())
    await page.get_by_test_id("profit-amount").fill("20000")
    await page.get_by_test_id("profit-file").set_input_files(
        files=[{"name": "q1-profit.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    await page.get_by_test_id("profit-submit").click()
    report = page.get_by_test_id("profit-report")
    await expect(report).to_contain_text("₹4,000.00")  # 20 % of ₹20,000
    await admin_page.goto("/campaigns/admin")
    # The queue is the platform's: other campaigns' reports may wait in it too.
    ours = (
        admin_page.get_by_test_id("reports-to-decide")
        .get_by_test_id("report-item")
        .filter(has=admin_page.locator(f'a[href="/campaigns/{campaign_id}"]'))
    )  # by its link: the demo's bakery campaign has the same title
    decide = ours.first
    await decide.get_by_test_id("decision-notes").fill("Statement matches the bank entries")
    await decide.get_by_test_id("report-approve").click()
    await decide.get_by_test_id("decision-confirm").click()
    await expect(ours).to_have_count(0)
    # The disputes are the platform's too: act on ours, and see it leave the list.
    dispute = (
        admin_page.get_by_test_id("open-disputes")
        .get_by_test_id("dispute-item")
        .filter(has_text="The oven in the photos is another one.")
    )
    await expect(dispute).to_have_count(1)
    await dispute.get_by_test_id("decision-notes").fill("Owner showed the oven invoice")
    await dispute.get_by_test_id("dispute-resolve").click()
    await dispute.get_by_test_id("decision-confirm").click()
    await expect(dispute).to_have_count(0)
    await page.reload()
    await page.get_by_test_id("pool-pay").click()
    await pay_at_checkout(page, payment_stack, "4000.00")

    # Each investor's share is paid out (largest remainder: ₹2,400.00 and ₹1,600.00).
    for investor, share in ((asha, "₹2,400.00"), (ravi, "₹1,600.00")):
        await investor.page.goto("/campaigns/dashboard")
        payout = investor.page.get_by_test_id("board-payout")
        # The dashboard follows the campaign live: the payout turns "Paid" with no reload.
        await expect(payout.first).to_contain_text("Paid", timeout=45_000)
        await expect(payout.first).to_contain_text(share)
        await expect(investor.page.get_by_test_id("board-received")).to_have_text(share)
    await shot(ravi.page, artifacts, "dashboard-phone")
    await shot(asha.page, artifacts, "dashboard-desktop")
    await page.goto("/campaigns/dashboard")
    await expect(page.get_by_test_id("board-release")).to_contain_text("₹10,000.00")

    # Statements from the dashboard: Asha's as a PDF, the campaign's (owner) as a CSV.
    await asha.page.get_by_test_id("investor-statement-pdf").click()
    link = asha.page.get_by_test_id("investor-statement-download")
    await expect(link).to_be_visible(timeout=60_000)
    pdf = await http.call("GET", str(await link.get_attribute("href")))
    assert pdf.status == 200 and bytes(pdf.body).startswith(b"%PDF-")
    await page.get_by_test_id("campaign-statement-csv").first.click()
    link = page.get_by_test_id("campaign-statement-download").first
    await expect(link).to_be_visible(timeout=60_000)
    sheet = await http.call("GET", str(await link.get_attribute("href")))
    text = bytes(sheet.body).decode("utf-8-sig")
    assert "campaign_statement" in text and "release,owner,paid,10000.00" in text
    await shot(page, artifacts, "statements-desktop")
    for investor, size in ((asha, "desktop"), (ravi, "phone")):
        await investor.page.goto("/campaigns")
        mine = investor.page.locator(f'[data-testid="campaign-card"][data-id="{campaign_id}"]')
        await expect(mine.get_by_test_id("campaign-cover")).to_have_js_property("naturalWidth", 96)
        await shot(investor.page, artifacts, f"feed-{size}")

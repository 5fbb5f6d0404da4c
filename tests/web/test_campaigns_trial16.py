"""Crowdfunding in Chromium, what a new user's trial found (issue #16): the admin writes the
notes of every decision and confirms it (nothing is filled in for them); documents go up in the
editor and show on the campaign page and to the admin; every picture can be seen; the editor
fits a 390 px phone; what remains changes live on another investor's screen when money is
reserved; a double click makes one reservation, still offered after a reload; a campaign whose
start day has not come says when it opens. Screenshots (desktop and phone) go to
test-artifacts/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.campaigns.service import campaign_service
from app.identity.documents import PlatformRole
from tests.campaigns.factories import live_campaign, verify_kyc
from tests.campaigns.test_files import png
from tests.identity.conftest import Api, provision
from tests.payments.sandbox_client import SandboxClient
from tests.web.conftest import PHONE, NewContext, person, sign_in

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def shot(page: Page, artifacts: Path, name: str) -> None:
    await page.screenshot(path=str(artifacts / f"campaigns16-{name}.png"), full_page=True)


async def fits(page: Page, width: int = PHONE["width"]) -> None:
    """Nothing on the page is wider than the phone (no sideways scrolling)."""
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide on a {width} px phone"


@pytest.mark.timeout(300)
async def test_admin_notes_documents_gallery_and_the_phone_editor(
    http: Api, new_context: NewContext, payment_stack: SandboxClient, artifacts: Path
) -> None:
    owner = await person(http, new_context, "meena")
    await verify_kyc(owner.id)
    admin_account = await provision([PlatformRole.ADMIN], tag="admin")
    admin_page = await (await new_context()).new_page()
    await sign_in(admin_page, admin_account)
    phone = await person(http, new_context, "ravi", viewport=PHONE)

    # The editor fits a phone (the "Closes at" field used to stick out).
    await phone.page.goto("/campaigns/new")
    await expect(phone.page.get_by_test_id("cf-end")).to_be_visible()
    await fits(phone.page)
    await shot(phone.page, artifacts, "editor-phone")

    # The owner writes the campaign with two pictures and a document (a quote for the oven).
    page = owner.page
    await page.goto("/campaigns/new")
    await page.get_by_test_id("cf-title").fill("Idli steamer for Lakshmi's stall")
    await page.get_by_test_id("cf-story").fill(
        "A bigger idli steamer for the morning rush at the bus stand: 300 plates instead of 120."
    )
    await page.get_by_test_id("cf-city").fill("Madurai")
    await page.get_by_test_id("cf-goal").fill("10000")
    await page.get_by_test_id("cf-min").fill("500")
    await page.get_by_test_id("cf-max").fill("8000")
    await page.get_by_test_id("cf-picture-input").set_input_files(files=[
        {"name": "steamer.png", "mimeType": "image/png", "buffer": png(96, 64, (230, 200, 60))},
        {"name": "stall.png", "mimeType": "image/png", "buffer": png(80, 64, (40, 110, 200))},
    ])  # fmt: skip
    await expect(page.get_by_test_id("cf-picture")).to_have_count(2)
    await page.get_by_test_id("cf-document-input").set_input_files(
        files=[{"name": "steamer-quote.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    await expect(page.get_by_test_id("cf-document")).to_contain_text("steamer-quote.pdf")
    await shot(page, artifacts, "editor-desktop")
    await page.get_by_test_id("cf-save").click()
    await expect(page.get_by_test_id("campaign-page")).to_be_visible()
    campaign_id = str(await page.get_by_test_id("campaign-page").get_attribute("data-id"))
    # Both pictures can be seen: thumbnails, and a click shows the second one large.
    thumbs = page.get_by_test_id("campaign-picture")
    await expect(thumbs).to_have_count(2)
    main = page.get_by_test_id("campaign-picture-main")
    await expect(main).to_have_js_property("naturalWidth", 96)
    await thumbs.nth(1).click()
    await expect(main).to_have_js_property("naturalWidth", 80)
    document = page.get_by_test_id("campaign-document")
    await expect(document).to_have_text("steamer-quote.pdf")
    served = await http.call("GET", str(await document.get_attribute("href")))
    assert served.status == 200 and bytes(served.body).startswith(b"%PDF-")
    await page.get_by_test_id("submit-campaign").click()
    await expect(page.get_by_test_id("in-review")).to_be_visible()

    # The admin sees the document; a decision needs the admin's own notes and a confirmation.
    await admin_page.goto("/campaigns/admin")
    item = admin_page.locator(f'[data-testid="verify-item"][data-id="{campaign_id}"]')
    await expect(item).to_contain_text("steamer-quote.pdf")
    await item.get_by_test_id("verify-send-back").click()
    await expect(item.get_by_test_id("decision-notes-missing")).to_be_visible()
    await expect(item.get_by_test_id("decision-confirm")).to_have_count(0)
    await item.get_by_test_id("decision-notes").fill("Add the stall's licence, please")
    await item.get_by_test_id("verify-send-back").click()
    await expect(item.get_by_test_id("decision-confirm-box")).to_contain_text("back to its owner")
    await shot(admin_page, artifacts, "admin-confirm-desktop")
    await item.get_by_test_id("decision-cancel").click()  # changed their mind: nothing sent
    assert (await campaign_service.get(campaign_id)).status == "in_review"
    await item.get_by_test_id("verify-send-back").click()
    await item.get_by_test_id("decision-confirm").click()
    await expect(item).to_have_count(0)
    stored = await campaign_service.get(campaign_id)
    assert stored.status == "draft"
    assert [r.notes for r in stored.reviews] == ["Add the stall's licence, please"]
    await page.reload()
    await expect(page.get_by_test_id("campaign-page")).to_contain_text(
        "Add the stall's licence, please"
    )
    # The admin reads the campaign's audit trail on its page, verified.
    await admin_page.goto(f"/campaigns/{campaign_id}")
    await admin_page.get_by_test_id("audit-show").click()
    await expect(admin_page.get_by_test_id("audit-verified")).to_contain_text("All 3 records")
    await expect(admin_page.get_by_test_id("audit-record").first).to_contain_text(
        "Add the stall's licence, please"
    )
    await shot(admin_page, artifacts, "audit-desktop")


@pytest.mark.timeout(300)
async def test_remaining_moves_live_one_reservation_per_click_and_opening_day(
    http: Api, new_context: NewContext, payment_stack: SandboxClient, artifacts: Path
) -> None:
    campaign = await live_campaign(goal="10000.00", max_investment="8000.00",
                                   min_investment="500.00")  # fmt: skip
    cid = str(campaign.id)
    asha = await person(http, new_context, "asha")
    ravi = await person(http, new_context, "ravi", viewport=PHONE)
    for investor in (asha, ravi):
        await verify_kyc(investor.id)
        await investor.page.goto(f"/campaigns/{cid}")
        await expect(investor.page.get_by_test_id("invest-remaining")).to_have_text(
            "₹10,000.00 remains"
        )

    # Asha reserves ₹3,000 with a double click: one reservation; Ravi's phone shows it at once.
    await asha.page.get_by_test_id("invest-amount").fill("3000")
    await expect(asha.page.get_by_test_id("invest-quote")).to_contain_text("₹3,000.00 will be")
    await asha.page.get_by_test_id("invest-submit").dblclick()
    await expect(asha.page.get_by_test_id("invest-checkout")).to_contain_text("₹3,000.00")
    await expect(ravi.page.get_by_test_id("invest-remaining")).to_have_text(
        "₹7,000.00 remains", timeout=15_000
    )
    await expect(asha.page.get_by_test_id("invest-remaining")).to_have_text("₹7,000.00 remains")
    await shot(ravi.page, artifacts, "remaining-phone")
    pending = [i for i in await campaign_service.investments_of(asha.id) if i.status == "pending"]
    assert len(pending) == 1 and pending[0].amount == 300_000
    # After a reload the reservation and its checkout link are still offered.
    await asha.page.reload()
    waiting = asha.page.get_by_test_id("invest-waiting-item")
    await expect(waiting).to_have_count(1)
    await expect(waiting).to_contain_text("₹3,000.00")
    await expect(waiting.get_by_role("link")).to_have_attribute(
        "href", str(pending[0].checkout_url)
    )
    await shot(asha.page, artifacts, "waiting-desktop")

    # A verified campaign whose start day is tomorrow says when it opens, not "not now".
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    later = await live_campaign(starts_on=tomorrow.isoformat())
    await ravi.page.goto(f"/campaigns/{later.id}")
    await expect(ravi.page.get_by_test_id("campaign-status")).to_contain_text("Opens")
    await expect(ravi.page.get_by_test_id("campaign-countdown")).to_have_count(0)
    await ravi.page.get_by_test_id("invest-amount").fill("1000")
    quote = ravi.page.get_by_test_id("invest-quote")
    await expect(quote).to_contain_text("opens on")
    await expect(quote).to_contain_text(str(tomorrow.year))
    await expect(ravi.page.get_by_test_id("invest-submit")).to_be_disabled()
    await fits(ravi.page)
    await shot(ravi.page, artifacts, "opens-phone")

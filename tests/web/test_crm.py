"""The CRM in Chromium, with three people: a visitor leaves their details on the public contact
form; the agent it is assigned to works the lead across the pipeline board (dragging the card on
a desktop, picking the status on a 390 px phone), logs a call and converts it to a client; their
manager sees it in the dashboard. Screenshots (desktop and phone) go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.crm.documents import CrmStaff
from tests.crm.conftest import Staff, phone, team
from tests.identity.conftest import Account, Api
from tests.web.conftest import PHONE, NewContext, sign_in

pytestmark = pytest.mark.browser


async def signed_in(new_context: NewContext, who: Staff, **context: object) -> Page:
    page = await (await new_context(**context)).new_page()
    await sign_in(page, Account(who.email, who.password, who.user_id))
    return page


async def test_web_form_lead_worked_to_a_client_seen_by_the_manager(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    # Only this test's agent takes new leads in turn.
    await CrmStaff.get_pymongo_collection().update_many({}, {"$set": {"active": False}})
    manager, (agent,) = await team(1, active=True)
    name = f"Ananya Iyer {uuid.uuid4().hex[:4]}"

    visitor = await (await new_context()).new_page()
    await visitor.goto("/contact")
    await visitor.get_by_test_id("contact-name").fill(name)
    await visitor.get_by_test_id("contact-email").fill("not-an-address")
    await visitor.get_by_test_id("contact-submit").click()
    # The browser's own check stops a malformed address; a server refusal reads as a sentence.
    await expect(visitor.get_by_test_id("contact-sent")).to_have_count(0)
    await visitor.get_by_test_id("contact-email").fill(f"ananya.{uuid.uuid4().hex[:6]}@example.com")
    number = phone()
    await visitor.get_by_test_id("contact-phone").fill(number)
    await visitor.get_by_test_id("contact-message").fill("I would like to start a monthly SIP.")
    await visitor.screenshot(path=str(artifacts / "crm-contact-desktop.png"), full_page=True)
    await visitor.get_by_test_id("contact-submit").click()
    await expect(visitor.get_by_test_id("contact-sent")).to_be_visible()

    desk = await signed_in(new_context, agent)
    await desk.get_by_test_id("nav-crm").click()
    card = desk.locator(f'[data-testid^="card-"][data-name="{name}"]')
    await expect(desk.get_by_test_id("column-new").locator(card)).to_be_visible()
    card_id = str(await card.get_attribute("data-testid"))
    lead_id = card_id.removeprefix("card-")
    await card.drag_to(desk.get_by_test_id("column-contacted"))
    await expect(desk.get_by_test_id("column-contacted").get_by_test_id(card_id)).to_be_visible()
    await desk.screenshot(path=str(artifacts / "crm-board-desktop.png"), full_page=True)

    mobile = await signed_in(new_context, agent, viewport=PHONE)
    await mobile.goto("/crm")
    await mobile.get_by_test_id(f"move-{lead_id}").select_option("qualified")
    await expect(mobile.get_by_test_id("column-qualified").get_by_test_id(card_id)).to_be_visible()
    await mobile.screenshot(path=str(artifacts / "crm-board-phone.png"), full_page=True)
    # In the field: a follow-up due now, delivered live to "My reminders" on the phone.
    await mobile.goto(f"/crm/leads/{lead_id}")
    await mobile.get_by_test_id("reminder-text").fill("Send the SIP form")
    due = dt.datetime.now().replace(second=0, microsecond=0)  # the browser's local time
    await mobile.get_by_test_id("reminder-due").fill(due.strftime("%Y-%m-%dT%H:%M"))
    await mobile.get_by_test_id("reminder-save").click()
    await expect(mobile.get_by_test_id("timeline")).to_contain_text("Send the SIP form")
    await mobile.screenshot(path=str(artifacts / "crm-lead-phone.png"), full_page=True)
    await mobile.get_by_test_id("crm-tab-reminders").click()
    row = mobile.locator('[data-testid^="reminder-"][data-status]').filter(
        has_text="Send the SIP form"
    )
    await expect(row).to_have_attribute("data-status", "sent")
    await mobile.screenshot(path=str(artifacts / "crm-reminders-phone.png"), full_page=True)

    await desk.goto(f"/crm/leads/{lead_id}")
    await expect(desk.get_by_test_id("lead-status")).to_have_text("Qualified")
    await desk.get_by_test_id("activity-kind").select_option("call")
    await desk.get_by_test_id("activity-text").fill("Called: wants ₹10,000 a month in index funds")
    await desk.get_by_test_id("activity-save").click()
    await expect(desk.get_by_test_id("timeline")).to_contain_text("index funds")
    e164 = "+91" + number.replace(" ", "")[1:]
    await expect(desk.get_by_test_id("lead-phone-shown")).to_have_text(e164)
    await desk.screenshot(path=str(artifacts / "crm-lead-desktop.png"), full_page=True)
    await desk.get_by_test_id("to-converted").click()
    await desk.get_by_test_id("convert-confirm").click()  # the options, then Convert
    await expect(desk.get_by_test_id("client-page")).to_be_visible()
    await expect(desk.get_by_test_id("client-title")).to_have_text(name)
    # The client keeps the lead's history: the web form, the moves and the call.
    history = desk.get_by_test_id("timeline")
    await expect(history).to_contain_text("index funds")
    await expect(history).to_contain_text("Became a client")
    await expect(history).to_contain_text("monthly SIP")
    await desk.screenshot(path=str(artifacts / "crm-client-desktop.png"), full_page=True)

    boss = await signed_in(new_context, manager)
    await boss.goto("/crm/dashboard")
    await expect(boss.get_by_test_id("kpi-leads")).to_have_text("1")
    await expect(boss.get_by_test_id("kpi-converted")).to_have_text("1")
    await expect(boss.get_by_test_id("kpi-rate")).to_have_text("100%")
    await expect(boss.get_by_test_id("funnel-converted")).to_have_attribute("data-count", "1")
    await expect(boss.get_by_test_id("by-source")).to_contain_text("Web form")
    await boss.screenshot(path=str(artifacts / "crm-dashboard-desktop.png"), full_page=True)
    boss_phone = await signed_in(new_context, manager, viewport=PHONE)
    await boss_phone.goto("/crm/dashboard")
    await expect(boss_phone.get_by_test_id("kpi-converted")).to_have_text("1")
    await boss_phone.screenshot(path=str(artifacts / "crm-dashboard-phone.png"), full_page=True)
    await boss.goto("/crm")
    await expect(boss.get_by_test_id("column-converted").get_by_test_id(card_id)).to_be_visible()

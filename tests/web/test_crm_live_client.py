"""An agent's open client page (on a 390 px phone) follows what their manager does to the
client on the desktop — profile and status, an activity, a follow-up, a KYC document — without
a reload, says so when the client is handed to someone outside their book, and the manager's
page shows the erasure another person made; the reminders screen shows a follow-up falling due
from the board room's log. Screenshots (desktop and phone) go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.crm.documents import ActivityKind
from app.crm.schemas import ClientCreate, ClientPatch, ReminderCreate
from app.crm.service import crm_service
from app.identity.documents import PlatformRole
from tests.crm.conftest import Staff, email, staff, team
from tests.crm.test_clients_direct import upload_kyc
from tests.crm.test_http import person
from tests.files.samples import png
from tests.identity.conftest import Account, Api
from tests.kyc.test_workflow_http import new_pan
from tests.web.conftest import PHONE, NewContext, sign_in

pytestmark = pytest.mark.browser


async def signed_in(new_context: NewContext, who: Staff, **context: object) -> Page:
    page = await (await new_context(**context)).new_page()
    await sign_in(page, Account(who.email, who.password, who.user_id))
    return page


async def test_an_open_client_page_follows_another_persons_changes(
    new_context: NewContext, artifacts: Path, http: Api
) -> None:
    tag = uuid.uuid4().hex[:4]
    manager, (agent,) = await team(1)
    other = await staff(PlatformRole.CRM_AGENT, manager, name=f"Dev Other {tag}")
    manager.actor = await crm_service.actor(manager.user_id, ["crm_manager"])
    made, _ = await crm_service.do_create_client(agent.actor, ClientCreate(
        full_name=f"Kavya Iyer {tag}", email=email("kavya"), invite=True))  # fmt: skip
    client_id = str(made.id)
    field = await signed_in(new_context, agent, viewport=PHONE)
    await field.goto(f"/crm/clients/{client_id}")
    await expect(field.get_by_test_id("client-page")).to_have_attribute("data-live", "joined")
    await expect(field.get_by_test_id("client-status")).to_have_text("Active")
    desk = await signed_in(new_context, manager)
    await desk.goto(f"/crm/clients/{client_id}")
    await expect(desk.get_by_test_id("client-page")).to_have_attribute("data-live", "joined")

    # The manager edits the profile and the standing on the desktop; the agent's phone follows.
    await desk.get_by_test_id("client-edit-open").click()
    await desk.get_by_test_id("edit-goals").fill("Retirement, Daughter's college")
    await desk.get_by_test_id("edit-status").select_option("inactive")
    await desk.get_by_test_id("edit-save").click()
    await expect(field.get_by_test_id("client-status")).to_have_text("Inactive")
    await expect(field.get_by_test_id("client-goals")).to_have_text(
        "Retirement, Daughter's college"
    )
    # An activity logged on the desktop reaches the phone's history.
    await desk.get_by_test_id("client-activity-text").fill("Met her at the branch: wants SIPs")
    await desk.get_by_test_id("client-activity-save").click()
    history = field.get_by_test_id("timeline")
    await expect(history).to_contain_text("Met her at the branch: wants SIPs")
    # A follow-up set by the manager, and a KYC scan the manager uploaded for review.
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    await crm_service.do_create_reminder(manager.actor, ReminderCreate(
        client_id=client_id, text="Bring the PAN original", due_at=due,
        assignee_id=manager.user_id))  # fmt: skip
    await expect(history).to_contain_text("Bring the PAN original")
    boss = await person(http, manager)
    uploaded = await upload_kyc(boss, client_id, png(seed=11), "pan.png", kind="pan",
                                number=new_pan())  # fmt: skip
    assert uploaded.status == 201, uploaded.body
    documents = field.get_by_test_id("kyc-documents")
    await expect(documents.locator('[data-kind="pan"]')).to_have_attribute("data-status", "pending")
    await expect(history).to_contain_text("KYC pan uploaded for review")
    width = await field.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    await field.screenshot(path=str(artifacts / "crm-live-client-phone.png"), full_page=True)
    await desk.screenshot(path=str(artifacts / "crm-live-client-desktop.png"), full_page=True)

    # Handed to the other agent: it leaves this agent's book, and the page says so; the
    # manager's page stays, with the new manager named.
    await crm_service.do_put_staff(manager.actor, other.user_id, manager.user_id, True)
    try:
        await crm_service.do_update_client(manager.actor, client_id,
                                           ClientPatch(owner_id=other.user_id))  # fmt: skip
    finally:
        await crm_service.do_put_staff(manager.actor, other.user_id, manager.user_id, False)
    gone = field.get_by_test_id("client-gone")
    await expect(gone).to_contain_text("no longer in your book")
    await expect(field.get_by_test_id("client-activity-save")).to_have_count(0)
    await expect(desk.get_by_test_id("client-page")).to_contain_text(f"manager Dev Other {tag}")
    await field.screenshot(path=str(artifacts / "crm-live-client-gone-phone.png"),
                           full_page=True)  # fmt: skip

    # An admin erases the person on their request: the manager's open page shows it.
    admin = await staff(PlatformRole.ADMIN)
    await crm_service.do_erase(admin.actor, made.lead_id)
    await expect(desk.get_by_test_id("client-title")).to_have_text("(erased)")
    await expect(desk.get_by_test_id("client-account")).to_contain_text("Kept")
    await expect(desk.get_by_test_id("client-work")).to_have_count(0)
    await desk.screenshot(path=str(artifacts / "crm-live-client-erased-desktop.png"),
                          full_page=True)  # fmt: skip


async def test_the_reminders_screen_shows_a_follow_up_falling_due(
    new_context: NewContext, artifacts: Path
) -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    made, _ = await crm_service.do_create_client(agent.actor, ClientCreate(
        full_name="Rohan Due", email=email("rohan")))  # fmt: skip
    await crm_service.do_log_client_activity(agent.actor, str(made.id), ActivityKind.NOTE, "hi")
    page = await signed_in(new_context, agent, viewport=PHONE)
    await page.goto("/crm/reminders")
    await expect(page.get_by_test_id("reminders-live")).to_have_attribute("data-live", "joined")
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    reminder = await crm_service.do_create_reminder(agent.actor, ReminderCreate(
        client_id=str(made.id), text="Call Rohan about the top-up", due_at=due))  # fmt: skip
    # The session's worker fires it; the screen hears it through the board room's log.
    await expect(page.get_by_test_id("reminder-fell-due")).to_contain_text(
        "Call Rohan about the top-up", timeout=30_000
    )
    await expect(page.get_by_test_id(f"reminder-{reminder.id}")).to_have_attribute(
        "data-status", "sent"
    )
    await page.screenshot(path=str(artifacts / "crm-reminder-due-phone.png"), full_page=True)

"""What the new-user trial of #18 left open, in Chromium: an agent's open lead page (on a 390 px
phone) follows what their manager does to the lead on the desktop — a status, a note, a
follow-up, a merge — without a reload, and says so when the lead is handed to someone else;
an admin edits the score's rules on the Team screen (problems said as sentences) and a lead's
score follows; an erasure says on screen whether the platform account went too, or what keeps
it and why. Screenshots (desktop and phone) go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.clubs.service import club_service
from app.crm.documents import CrmScoreRules, LeadSource
from app.crm.schemas import ClientCreate, LeadCreate, ReminderCreate
from app.crm.service import crm_service
from app.identity import directory
from app.identity.documents import PlatformRole, UserStatus
from tests.crm.conftest import Staff, email, staff, team
from tests.identity.conftest import Account
from tests.web.conftest import PHONE, NewContext, sign_in

pytestmark = pytest.mark.browser


async def signed_in(new_context: NewContext, who: Staff, **context: object) -> Page:
    page = await (await new_context(**context)).new_page()
    await sign_in(page, Account(who.email, who.password, who.user_id))
    return page


async def fits(page: Page) -> None:
    """Nothing on the page is wider than the phone (no sideways scroll)."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width


@pytest.fixture
async def fresh_rules() -> AsyncIterator[None]:
    """The configured score rules before and after (one document for everyone)."""
    await CrmScoreRules.get_pymongo_collection().delete_many({})
    yield
    await CrmScoreRules.get_pymongo_collection().delete_many({})


async def test_an_open_lead_page_follows_another_persons_changes(
    new_context: NewContext, artifacts: Path, fresh_rules: None
) -> None:
    tag = uuid.uuid4().hex[:4]
    manager, (agent, other) = await team(2)
    lead, _ = await crm_service.do_create_lead(
        agent.actor, LeadCreate(full_name=f"Lakshmi Menon {tag}", email=email("lakshmi"))
    )
    lead_id = str(lead.id)
    field = await signed_in(new_context, agent, viewport=PHONE)
    await field.goto(f"/crm/leads/{lead_id}")
    page = field.get_by_test_id("lead-page")
    await expect(page).to_have_attribute("data-live", "joined")
    await expect(field.get_by_test_id("lead-status")).to_have_text("New")

    # The manager works the same lead on the desktop; the agent's phone follows.
    desk = await signed_in(new_context, manager)
    await desk.goto(f"/crm/leads/{lead_id}")
    await expect(desk.get_by_test_id("lead-page")).to_have_attribute("data-live", "joined")
    await desk.get_by_test_id("to-contacted").click()
    await expect(field.get_by_test_id("lead-status")).to_have_text("Contacted")
    await desk.get_by_test_id("activity-text").fill("Spoke to her: wants a plan for her son")
    await desk.get_by_test_id("activity-save").click()
    timeline = field.get_by_test_id("timeline")
    await expect(timeline).to_contain_text("Spoke to her: wants a plan for her son")
    await expect(field.get_by_test_id("score")).to_contain_text("Engagement5")
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    await crm_service.do_create_reminder(manager.actor, ReminderCreate(
        lead_id=lead_id, text="Send the SIP brochure", due_at=due,
        assignee_id=manager.user_id))  # fmt: skip
    await expect(timeline).to_contain_text("Send the SIP brochure")
    twin, _ = await crm_service.do_create_lead(
        agent.actor, LeadCreate(full_name=f"Lakshmi Menon {tag} (2)", email=email("lakshmi2"))
    )
    await crm_service.do_merge(manager.actor, lead_id, str(twin.id))
    await expect(timeline).to_contain_text(f"Lakshmi Menon {tag} (2) was merged into this one")
    await fits(field)
    await field.screenshot(path=str(artifacts / "crm-live-lead-phone.png"), full_page=True)
    await desk.screenshot(path=str(artifacts / "crm-live-lead-desktop.png"), full_page=True)

    # Handed to the other agent: it leaves this agent's book, and the page says so.
    await crm_service.do_put_staff(manager.actor, other.user_id, manager.user_id, True)
    try:
        await crm_service.do_assign(manager.actor, lead_id, other.user_id, False)
    finally:
        await crm_service.do_put_staff(manager.actor, other.user_id, manager.user_id, False)
    gone = field.get_by_test_id("lead-gone")
    await expect(gone).to_contain_text("it is no longer in your book")
    await expect(field.get_by_test_id("activity-save")).to_have_count(0)
    # The manager's page still shows it, now with its new owner.
    await expect(desk.get_by_test_id("lead-owner")).to_have_value(other.user_id)
    await field.screenshot(path=str(artifacts / "crm-live-lead-gone-phone.png"), full_page=True)


async def test_an_admin_edits_the_score_rules_and_scores_follow(
    new_context: NewContext, artifacts: Path, fresh_rules: None
) -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    admin = await staff(PlatformRole.ADMIN)
    lead, _ = await crm_service.do_create_lead(agent.actor, LeadCreate(
        full_name="Event Visitor", email=email("event"), city="Kochi",
        source=LeadSource.EVENT))  # fmt: skip
    chief = await signed_in(new_context, admin)
    await chief.goto("/crm/team")
    form = chief.get_by_test_id("rules-form")
    await expect(form).to_be_visible()
    await expect(chief.get_by_test_id("rules-version")).to_contain_text("configured defaults")
    sources = await chief.locator('[data-testid^="rules-source-key-"]').count()
    keys = [await chief.get_by_test_id(f"rules-source-key-{i}").input_value()
            for i in range(sources)]  # fmt: skip
    event_row = keys.index("event")

    # Mistakes are told as sentences, and nothing is saved.
    await chief.get_by_test_id(f"rules-source-points-{event_row}").fill("lots")
    await chief.get_by_test_id("rules-save").click()
    problems = chief.get_by_test_id("rules-problems")
    await expect(problems).to_contain_text(
        f"Write the points of source row {event_row + 1} as a whole number."
    )
    await chief.get_by_test_id(f"rules-source-points-{event_row}").fill("150")
    await chief.get_by_test_id("rules-source-add").click()  # every source is listed: a blank row
    await chief.get_by_test_id("rules-engagement-days").fill("0")
    await chief.get_by_test_id("rules-save").click()
    await expect(problems).to_contain_text(
        "The source event must get a whole number of points from 0 to 100, not 150."
    )
    await expect(problems).to_contain_text(f"Pick a source for row {sources + 1}")
    await expect(problems).to_contain_text("Activities count for 1 to 365 days, not 0.")
    await chief.screenshot(path=str(artifacts / "crm-score-rules-problems-desktop.png"),
                           full_page=True)  # fmt: skip
    await expect(chief.get_by_test_id("rules-version")).to_contain_text("configured defaults")

    # Fixed: event 45, the blank row removed, the city row removed, 30 days again.
    await chief.get_by_test_id(f"rules-source-points-{event_row}").fill("45")
    await chief.get_by_test_id(f"rules-source-remove-{sources}").click()
    fields = [await chief.get_by_test_id(f"rules-field-key-{i}").input_value() for i in range(5)]
    await chief.get_by_test_id(f"rules-field-remove-{fields.index('city')}").click()
    await chief.get_by_test_id("rules-engagement-days").fill("30")
    await chief.get_by_test_id("rules-save").click()
    await expect(chief.get_by_test_id("rules-saved")).to_contain_text("version 1")
    await expect(chief.get_by_test_id("rules-shown-source")).to_contain_text("Event 45")
    await expect(chief.get_by_test_id("rules-shown-fields")).not_to_contain_text("City")
    # A field is added back with a new weight.
    await chief.get_by_test_id("rules-field-add").click()
    await expect(chief.get_by_test_id("rules-field-key-4")).to_have_value("city")
    await chief.get_by_test_id("rules-field-points-4").fill("9")
    await chief.get_by_test_id("rules-save").click()
    await expect(chief.get_by_test_id("rules-saved")).to_contain_text("version 2")
    await expect(chief.get_by_test_id("rules-shown-fields")).to_contain_text("City 9")
    await expect(chief.get_by_test_id("rules-version")).to_contain_text("Version 2, set by Admin")
    await chief.screenshot(path=str(artifacts / "crm-score-rules-desktop.png"), full_page=True)

    # The lead's score follows (the worker's sweep; run here too so the test need not wait).
    await crm_service.do_recompute_scores()
    desk = await signed_in(new_context, agent, viewport=PHONE)
    await desk.goto(f"/crm/leads/{lead.id}")
    score = desk.get_by_test_id("score")
    await expect(score).to_contain_text("Source45")
    await expect(score).to_contain_text("Completeness19")  # e-mail 10 + city 9
    # An agent reads the rules but has no form.
    await desk.goto("/crm/team")
    await expect(desk.get_by_test_id("rules-shown-source")).to_contain_text("Event 45")
    await expect(desk.get_by_test_id("rules-form")).to_have_count(0)
    await fits(desk)
    await desk.screenshot(path=str(artifacts / "crm-score-rules-phone.png"), full_page=True)
    phone = await signed_in(new_context, admin, viewport=PHONE)
    await phone.goto("/crm/team")
    await expect(phone.get_by_test_id("rules-form")).to_be_visible()
    await fits(phone)
    await phone.screenshot(path=str(artifacts / "crm-score-rules-admin-phone.png"),
                           full_page=True)  # fmt: skip


async def test_an_erasure_says_what_happened_to_the_platform_account(
    new_context: NewContext, artifacts: Path
) -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    admin = await staff(PlatformRole.ADMIN)
    gone, _ = await crm_service.do_create_client(agent.actor, ClientCreate(
        full_name="Nothing Held", email=email("nh"), invite=True))  # fmt: skip
    member, _ = await crm_service.do_create_client(agent.actor, ClientCreate(
        full_name="Club Saver", email=email("cs"), invite=True))  # fmt: skip
    assert gone.user_id and member.user_id
    await club_service.do_create_club(member.user_id, name=f"Savers {uuid.uuid4().hex[:6]}")

    chief = await signed_in(new_context, admin)
    await chief.goto(f"/crm/clients/{gone.id}")
    await chief.get_by_test_id("erasure-open").click()
    await expect(chief.get_by_test_id("erasure-confirm")).to_contain_text("removed for good")
    await expect(chief.get_by_test_id("client-title")).to_have_text("Nothing Held")  # not yet
    await chief.get_by_test_id("erasure-yes").click()
    done = chief.get_by_test_id("erasure-done")
    await expect(done).to_have_attribute("data-account", "erased")
    await expect(done).to_contain_text("was erased too")
    await expect(chief.get_by_test_id("client-title")).to_have_text("(erased)")
    await expect(chief.get_by_test_id("client-account")).to_have_text("Erased with the person")
    await expect(chief.get_by_test_id("client-edit-open")).to_have_count(0)
    account = await directory.user(gone.user_id)
    assert account is not None and account.status is UserStatus.ERASED
    await chief.screenshot(path=str(artifacts / "crm-erasure-account-desktop.png"),
                           full_page=True)  # fmt: skip

    phone = await signed_in(new_context, admin, viewport=PHONE)
    await phone.goto(f"/crm/leads/{member.lead_id}")
    await expect(phone.get_by_test_id("lead-page")).to_have_attribute("data-live", "joined")
    await phone.get_by_test_id("erasure-open").click()
    await expect(phone.get_by_test_id("erasure-confirm")).to_contain_text("removed for good")
    await phone.get_by_test_id("erasure-yes").click()
    kept = phone.get_by_test_id("erasure-done")
    await expect(kept).to_have_attribute("data-account", "kept")
    await expect(kept).to_contain_text("Their platform account stays")
    await expect(phone.get_by_test_id("erasure-retained")).to_contain_text("A member of 1 club")
    await expect(phone.get_by_test_id("lead-title")).to_have_text("(erased)")
    await fits(phone)
    await phone.screenshot(path=str(artifacts / "crm-erasure-kept-phone.png"), full_page=True)
    await expect(phone.get_by_test_id("activity-save")).to_have_count(0)
    await phone.goto(f"/crm/clients/{member.id}")
    await expect(phone.get_by_test_id("client-account")).to_contain_text("Kept: a member of 1 club")
    still = await directory.user(member.user_id)
    assert still is not None and still.status is UserStatus.ACTIVE

"""What the new-user trial of the CRM (issue #18) found, fixed where a person sees it, in
Chromium: a merge asks first and is undone from the timeline after a reload; the merged-away
lead offers no work; the lead page fits a 390 px phone; "Converted" on the board opens the
conversion's options instead of converting; a client's details and status (suspended) are
edited and work is logged on the client; text search over leads; an existing member links
their account only by accepting, signed in; the admin reads the CRM audit trail. Screenshots
(desktop and phone) go to test-artifacts/."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.crm.documents import LeadStatus
from app.crm.schemas import ClientCreate, LeadCreate
from app.crm.service import crm_service
from app.identity.documents import PlatformRole
from app.identity.signup import do_provision_user
from tests.crm.conftest import Staff, email, staff
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


async def _two_leads(agent: Staff, tag: str):  # type: ignore[no-untyped-def]
    base = f"ravi.kumar.{tag}"
    winner, _ = await crm_service.do_create_lead(agent.actor, LeadCreate(
        full_name=f"Ravi Kumar {tag}", email=f"{base}@example.com",
        message="Wants a long-term plan for his daughter's education fund"))  # fmt: skip
    loser, _ = await crm_service.do_create_lead(agent.actor, LeadCreate(
        full_name=f"Ravi Kumaar {tag}", email=f"{base}1@example.com"))  # fmt: skip
    return winner, loser


async def test_a_merge_asks_first_and_is_undone_from_the_timeline(
    new_context: NewContext, artifacts: Path
) -> None:
    tag = uuid.uuid4().hex[:4]
    agent = await staff(PlatformRole.CRM_AGENT, name=f"Agent {tag}")
    winner, loser = await _two_leads(agent, tag)

    # A merge asks first, names the lead it takes, and is undone from the timeline.
    desk = await signed_in(new_context, agent)
    await desk.goto(f"/crm/leads/{winner.id}")
    await desk.get_by_test_id(f"merge-{loser.id}").click()
    confirm = desk.get_by_test_id("merge-confirm")
    await expect(confirm).to_contain_text(f"Ravi Kumaar {tag}")
    await expect(desk.get_by_test_id("lead-status")).to_have_text("New")  # nothing merged yet
    await desk.get_by_test_id("merge-confirm-yes").click()
    await expect(desk.get_by_test_id("merged")).to_be_visible()
    await desk.reload()
    timeline = desk.get_by_test_id("timeline")
    await expect(timeline).to_contain_text(f"Ravi Kumaar {tag} was merged into this one")
    undo = desk.locator('[data-testid^="undo-merge-"]')
    await expect(undo).to_have_count(1)
    # The merged-away lead takes no new work: it points at the one it was merged into.
    other = await (await new_context()).new_page()
    await sign_in(other, Account(agent.email, agent.password, agent.user_id))
    await other.goto(f"/crm/leads/{loser.id}")
    await expect(other.get_by_test_id("merged-away")).to_be_visible()
    await expect(other.get_by_test_id("activity-save")).to_have_count(0)
    await expect(other.get_by_test_id("reminder-save")).to_have_count(0)
    await desk.screenshot(path=str(artifacts / "crm-merge-timeline-desktop.png"), full_page=True)
    await undo.click()
    await expect(timeline).to_contain_text(f"The merge of Ravi Kumaar {tag} was undone")
    await expect(desk.locator('[data-testid^="undo-merge-"]')).to_have_count(0)

    # The lead page with its duplicates fits a phone.
    phone = await signed_in(new_context, agent, viewport=PHONE)
    await phone.goto(f"/crm/leads/{winner.id}")
    await expect(phone.get_by_test_id("duplicates")).to_be_visible()
    await fits(phone)
    await phone.screenshot(path=str(artifacts / "crm-lead-duplicates-phone.png"), full_page=True)

    # Text search over names, e-mails and notes.
    await desk.goto("/crm")
    await desk.get_by_test_id("lead-search-input").fill("education fund")
    await desk.get_by_test_id("lead-search-go").click()
    results = desk.get_by_test_id("lead-search-results")
    await expect(results).to_contain_text(f"Ravi Kumar {tag}")
    await expect(results).not_to_contain_text(f"Ravi Kumaar {tag}")


async def test_converting_asks_for_its_options_and_the_client_is_edited(
    new_context: NewContext, artifacts: Path
) -> None:
    tag = uuid.uuid4().hex[:4]
    agent = await staff(PlatformRole.CRM_AGENT, name=f"Agent {tag}")
    winner, _ = await _two_leads(agent, tag)
    desk = await signed_in(new_context, agent)
    phone = await signed_in(new_context, agent, viewport=PHONE)
    await desk.goto("/crm")
    # "Converted" on the board opens the conversion's options; nothing is converted before.
    for status in (LeadStatus.CONTACTED, LeadStatus.QUALIFIED):
        await crm_service.do_change_status(agent.actor, str(winner.id), status, None)
    await desk.reload()
    await desk.get_by_test_id(f"move-{winner.id}").select_option("converted")
    form = desk.get_by_test_id("convert-form")
    await expect(form).to_be_visible()
    await expect(desk.get_by_test_id("lead-status")).to_have_text("Qualified")
    await desk.get_by_test_id("convert-capacity").fill("30,00,000")
    await desk.get_by_test_id("convert-risk").select_option("moderate")
    await desk.get_by_test_id("convert-invite").uncheck()
    await desk.screenshot(path=str(artifacts / "crm-convert-form-desktop.png"), full_page=True)
    await desk.get_by_test_id("convert-confirm").click()
    await expect(desk.get_by_test_id("client-title")).to_have_text(f"Ravi Kumar {tag}")
    await expect(desk.get_by_test_id("client-segment")).to_have_text("Affluent")
    await expect(desk.get_by_test_id("client-risk")).to_contain_text("agent's note")

    # The client's details and standing are edited; work is logged on the client.
    await desk.get_by_test_id("client-edit-open").click()
    await desk.get_by_test_id("edit-city").fill("Pune")
    await desk.get_by_test_id("edit-status").select_option("suspended")
    await desk.get_by_test_id("edit-goals").fill("education, retirement")
    await desk.get_by_test_id("edit-save").click()
    await expect(desk.get_by_test_id("client-status")).to_have_text("Suspended")
    await expect(desk.get_by_test_id("client-goals")).to_have_text("education, retirement")
    await desk.get_by_test_id("client-activity-kind").select_option("meeting")
    await desk.get_by_test_id("client-activity-text").fill("Met at the branch about the suspension")
    await desk.get_by_test_id("client-activity-save").click()
    await expect(desk.get_by_test_id("timeline")).to_contain_text("Met at the branch")
    await desk.screenshot(path=str(artifacts / "crm-client-edit-desktop.png"), full_page=True)
    client_url = desk.url
    await phone.goto(client_url)
    await expect(phone.get_by_test_id("client-status")).to_have_text("Suspended")
    await fits(phone)
    await phone.screenshot(path=str(artifacts / "crm-client-phone.png"), full_page=True)


async def test_a_member_accepts_the_link_and_the_admin_reads_the_trail(
    new_context: NewContext, artifacts: Path
) -> None:
    tag = uuid.uuid4().hex[:4]
    agent = await staff(PlatformRole.CRM_AGENT, name=f"Agent {tag}")
    admin = await staff(PlatformRole.ADMIN)
    winner, loser = await _two_leads(agent, tag)
    merge = await crm_service.do_merge(agent.actor, str(winner.id), str(loser.id))
    await crm_service.do_undo_merge(agent.actor, str(merge.id))
    desk = await signed_in(new_context, agent)
    # An existing member is only asked; they accept, signed in, on their phone.
    address, password = email("member"), "Member-pass-2026!"
    member = await do_provision_user(email=address, password=password, full_name="Meena Iyer")
    linked, _ = await crm_service.do_create_client(agent.actor, ClientCreate(
        full_name="Meena Iyer", email=address, invite=True))  # fmt: skip
    await desk.goto(f"/crm/clients/{linked.id}")
    await expect(desk.get_by_test_id("client-account")).to_contain_text("waiting for them")
    mine = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(mine, Account(address, password, str(member.id)))
    await mine.goto("/crm/consent")
    await expect(mine.get_by_test_id(f"consent-{linked.id}")).to_contain_text("Meena Iyer")
    await fits(mine)
    await mine.screenshot(path=str(artifacts / "crm-consent-phone.png"), full_page=True)
    await mine.get_by_test_id(f"consent-accept-{linked.id}").click()
    await expect(mine.get_by_test_id("consent-done")).to_be_visible()
    await expect(mine.get_by_test_id("consent-none")).to_be_visible()
    await desk.reload()
    await expect(desk.get_by_test_id("client-account")).to_have_text("Linked")

    # The admin reads the CRM's audit trail: the merge and its undo are there.
    chief = await signed_in(new_context, admin)
    await chief.goto("/crm/audit")
    await chief.get_by_test_id("audit-filter").select_option("crm.lead.merge")
    trail = chief.get_by_test_id("crm-audit")
    await expect(trail.locator('[data-action="crm.lead.merge_undo"]').first).to_be_visible()
    await expect(trail.locator('[data-action="crm.lead.merge"]').first).to_be_visible()
    await expect(chief.get_by_test_id("audit-chain")).to_contain_text("The chain verifies")
    await chief.screenshot(path=str(artifacts / "crm-audit-desktop.png"), full_page=True)
    audit_phone = await signed_in(new_context, admin, viewport=PHONE)
    await audit_phone.goto("/crm/audit")
    await expect(audit_phone.get_by_test_id("audit-chain")).to_be_visible()
    await fits(audit_phone)
    await audit_phone.screenshot(path=str(artifacts / "crm-audit-phone.png"), full_page=True)
    # The team and the score's rules; the KYC documents lapsing soon.
    await chief.goto("/crm/team")
    await expect(chief.get_by_test_id("score-rules")).to_contain_text("halves every")
    await expect(chief.get_by_test_id(f"staff-{agent.user_id}")).to_be_visible()
    await chief.screenshot(path=str(artifacts / "crm-team-desktop.png"), full_page=True)
    await audit_phone.goto("/crm/kyc")
    await expect(audit_phone.get_by_test_id("crm-kyc-expiring")).to_be_visible()
    await audit_phone.wait_for_load_state("networkidle")  # both lists answered
    await fits(audit_phone)
    await audit_phone.screenshot(path=str(artifacts / "crm-kyc-phone.png"), full_page=True)

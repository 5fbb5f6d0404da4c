"""The live pipeline board in Chromium with two people on it: an agent (on a 390 px phone) and
their manager (desktop). A lead the agent adds appears on the manager's board, a move the
manager makes appears on the agent's, a lead the manager assigns to the agent arrives on the
agent's board, a conversion moves the card — all without a reload; the agent's phone, cut off
the network while the manager works, catches up when it is back. Screenshots (desktop, phone)
go to test-artifacts/."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect

from app.crm.documents import CrmStaff, LeadStatus
from app.crm.schemas import LeadCreate
from app.crm.service import crm_service
from tests.crm.conftest import Staff, email, team
from tests.identity.conftest import Account
from tests.web.conftest import PHONE, NewContext, sign_in

pytestmark = pytest.mark.browser


async def on_board(new_context: NewContext, who: Staff, **context: object) -> Page:
    page = await (await new_context(**context)).new_page()
    await sign_in(page, Account(who.email, who.password, who.user_id))
    await page.goto("/crm")
    await expect(page.get_by_test_id("crm-board")).to_have_attribute("data-live", "joined")
    return page


def card(page: Page, column: str, name: str) -> Locator:
    return page.get_by_test_id(f"column-{column}").locator(f'[data-name="{name}"]')


async def test_two_people_see_each_others_changes_live(
    new_context: NewContext, artifacts: Path
) -> None:
    # Only this test's staff take leads in turn (assignment needs active staff).
    await CrmStaff.get_pymongo_collection().update_many({}, {"$set": {"active": False}})
    manager, (agent, other) = await team(2, active=True)
    tag = uuid.uuid4().hex[:4]
    boss = await on_board(new_context, manager)
    field = await on_board(new_context, agent, viewport=PHONE)

    # The agent adds a lead on the phone: it appears on the manager's board.
    name = f"Meera Nair {tag}"
    await field.get_by_test_id("new-lead-open").click()
    await field.get_by_test_id("lead-name").fill(name)
    await field.get_by_test_id("lead-email").fill(email("meera"))
    await field.get_by_test_id("lead-save").click()
    await expect(card(field, "new", name)).to_be_visible()
    await expect(card(boss, "new", name)).to_be_visible()

    # The manager moves it: the agent's card moves.
    lead_id = str(await card(boss, "new", name).get_attribute("data-testid")).removeprefix("card-")
    await boss.get_by_test_id(f"move-{lead_id}").select_option("contacted")
    await expect(card(field, "contacted", name)).to_be_visible()
    await expect(card(field, "new", name)).to_have_count(0)

    # A lead of the other agent is not on this agent's board until the manager hands it over.
    handed = f"Kabir Das {tag}"
    theirs, _ = await crm_service.do_create_lead(
        other.actor, LeadCreate(full_name=handed, email=email("kabir"))
    )
    await expect(card(boss, "new", handed)).to_be_visible()
    await expect(field.locator(f'[data-name="{handed}"]')).to_have_count(0)
    desk = await (await new_context()).new_page()  # the manager's second window
    await sign_in(desk, Account(manager.email, manager.password, manager.user_id))
    await desk.goto(f"/crm/leads/{theirs.id}")
    await desk.get_by_test_id("lead-owner").select_option(agent.user_id)
    await expect(card(field, "new", handed)).to_be_visible()

    # The manager qualifies and converts the first lead on its page: the agent's card follows.
    await desk.goto(f"/crm/leads/{lead_id}")
    await desk.get_by_test_id("to-qualified").click()
    await expect(card(field, "qualified", name)).to_be_visible()
    await desk.get_by_test_id("to-converted").click()
    await desk.get_by_test_id("convert-confirm").click()  # the options, then Convert
    await expect(desk.get_by_test_id("client-page")).to_be_visible()
    await expect(card(field, "converted", name)).to_be_visible()
    await expect(card(boss, "converted", name)).to_be_visible()
    await boss.screenshot(path=str(artifacts / "crm-live-board-desktop.png"), full_page=True)
    await field.screenshot(path=str(artifacts / "crm-live-board-phone.png"), full_page=True)

    # The phone loses the network; meanwhile the handed-over lead is marked lost and a new
    # lead of the agent's is entered. Back online, the board catches up from its last seq.
    await field.context.set_offline(True)
    await field.evaluate("window.__sockets.forEach((ws) => ws.close())")
    await crm_service.do_change_status(manager.actor, str(theirs.id), LeadStatus.LOST, "later")
    late = f"Late Lead {tag}"
    await crm_service.do_create_lead(agent.actor, LeadCreate(full_name=late, email=email()))
    await expect(card(boss, "lost", handed)).to_be_visible()
    await expect(card(field, "new", handed)).to_be_visible()  # the phone has not heard yet
    await field.context.set_offline(False)
    await expect(card(field, "lost", handed)).to_be_visible()
    await expect(card(field, "new", late)).to_be_visible()
    await expect(field.get_by_test_id("crm-board")).to_have_attribute("data-live", "joined")
    await field.screenshot(path=str(artifacts / "crm-live-board-caught-up-phone.png"),
                           full_page=True)  # fmt: skip

"""The advisor's desk and the public strategy page, in Chromium. A verified advisor offers two
consultation times on screen, drafts a model strategy (only they see it), corrects its
allocation (a weight total that is not 100 % is refused in words), publishes it; a member (on a
phone) books one of the times from Advice; the advisor sees who booked, withdraws the free time
and cancels the consultation. Anyone, signed in or not, opens the strategy's public page at its
readable address: allocation, backtest against the S&P 500, disclaimer. Screenshots, desktop
and phone, go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.advisory.advisors import advisor_service
from app.advisory.documents import AdvisorSlot, ModelStrategy
from app.identity import directory
from app.identity.documents import PlatformRole
from app.identity.signup import do_provision_user
from tests.identity.conftest import Api, provision
from tests.web.conftest import PHONE, NewContext, Person, person, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]


async def an_advisor(http: Api, new_context: NewContext) -> Person:
    account = await provision(roles=[PlatformRole.ADVISOR], tag="adviser")
    await directory.do_set_kyc_status(account.user_id, "verified")
    tokens = await http.tokens(account)
    page = await (await new_context()).new_page()
    await sign_in(page, account)
    return Person(account, tokens["access_token"], page)


def local_input(days: int, hour: int) -> tuple[str, dt.datetime]:
    """A datetime-local value (the browser's zone is the machine's, UTC here) and its moment."""
    moment = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )
    return moment.strftime("%Y-%m-%dT%H:%M"), moment


async def allocation(page: Page, rows: list[tuple[str, str]]) -> None:
    for i, (symbol, percent) in enumerate(rows):
        if await page.get_by_test_id(f"strategy-row-{i}").count() == 0:
            await page.get_by_test_id("strategy-row-add").click()
        await page.get_by_test_id(f"strategy-symbol-{i}").fill(symbol)
        await page.get_by_test_id(f"strategy-percent-{i}").fill(percent)


async def test_an_advisor_manages_times_and_strategies_and_a_member_books(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    adv = await an_advisor(http, new_context)
    meera = await person(http, new_context, "meera", viewport=PHONE)
    desk = adv.page
    await desk.get_by_test_id("nav-advisor").click()
    await expect(desk.get_by_test_id("advisor-desk")).to_be_visible()
    await expect(desk.get_by_test_id("no-my-slots")).to_be_visible()
    await expect(meera.page.get_by_test_id("nav-advisor")).to_have_count(0)

    # Two consultation times, offered on screen.
    first_text, first = local_input(3, 10)
    second_text, second = local_input(4, 11)
    for text in (first_text, second_text):
        await desk.get_by_test_id("slot-start").fill(text)
        await desk.get_by_test_id("slot-add").click()
        await expect(desk.get_by_test_id("slot-start")).to_have_value("")
    slots = desk.locator('[data-testid="my-slots"] li')
    await expect(slots).to_have_count(2)
    stored = await AdvisorSlot.find({"advisor_id": adv.id}).sort("+start").to_list()
    assert [s.start.replace(tzinfo=dt.UTC) for s in stored] == [first, second]
    first_id, second_id = str(stored[0].id), str(stored[1].id)

    # A strategy drafted: only the advisor sees it.
    await desk.get_by_test_id("strategy-new").click()
    await desk.get_by_test_id("strategy-name").fill("Steady Staples")
    await desk.get_by_test_id("strategy-description").fill("Household names that pay dividends.")
    await allocation(desk, [("KO", "60"), ("PG", "40")])
    await expect(desk.get_by_test_id("strategy-total")).to_have_text("Total 100%")
    await desk.get_by_test_id("strategy-save-draft").click()
    await expect(desk.get_by_test_id("strategy-done")).to_contain_text("draft")
    drafts = await ModelStrategy.find({"advisor_id": adv.id}).to_list()
    assert len(drafts) == 1 and not drafts[0].published
    sid = str(drafts[0].id)
    row = desk.get_by_test_id(f"my-strategy-{sid}")
    await expect(row).to_have_attribute("data-published", "false")
    await meera.page.get_by_test_id("nav-advice").click()
    await expect(meera.page.get_by_test_id("strategies-panel")).to_be_visible()
    await expect(meera.page.get_by_test_id(f"strategy-{sid}")).to_have_count(0)

    # Edited: a third holding; a total of 90 % is refused in words, 100 % is saved.
    await desk.get_by_test_id(f"strategy-edit-{sid}").click()
    await allocation(desk, [("KO", "40"), ("PG", "30.5"), ("PEP", "19.5")])
    await desk.get_by_test_id("strategy-save").click()
    await expect(desk.get_by_test_id("strategy-error")).to_contain_text("add up to 90%")
    await desk.get_by_test_id("strategy-percent-2").fill("29.5")
    await desk.get_by_test_id("strategy-save").click()
    await expect(desk.get_by_test_id(f"my-strategy-targets-{sid}")).to_have_text(
        "KO 40.00% · PEP 29.50% · PG 30.50%"
    )
    await expect(row).to_contain_text("version 2")
    edited = await ModelStrategy.get(sid)
    assert edited is not None and edited.targets == {"KO": 4000, "PEP": 2950, "PG": 3050}

    await desk.get_by_test_id(f"strategy-publish-{sid}").click()
    await expect(row).to_have_attribute("data-published", "true")
    await expect(desk.get_by_test_id(f"strategy-page-{sid}")).to_have_attribute(
        "href", f"/strategies/steady-staples-{sid}"
    )

    # Meera books the first time from Advice, on her phone.
    await meera.page.reload()
    await meera.page.get_by_test_id(f"slots-{sid}").click()
    await meera.page.locator('[data-testid="slots"] button').first.click()
    await expect(meera.page.get_by_test_id("advisor-done")).to_contain_text("Booked")
    await expect(meera.page.locator('[data-testid="my-bookings"] li')).to_have_count(1)

    # The advisor sees who booked; withdraws the free time; cancels the consultation.
    await desk.reload()
    booked = desk.get_by_test_id(f"my-slot-{first_id}")
    await expect(booked).to_have_attribute("data-booked", "true")
    await expect(desk.get_by_test_id(f"slot-client-{first_id}")).to_have_text("Booked by Meera")
    await expect(desk.get_by_test_id(f"slot-remove-{first_id}")).to_have_count(0)
    await expect(desk.get_by_test_id("slots-summary")).to_have_text("2 upcoming times · 1 booked")
    await desk.screenshot(path=str(artifacts / "advisor-desk-desktop.png"), full_page=True)
    await desk.get_by_test_id(f"slot-remove-{second_id}").click()
    await expect(slots).to_have_count(1)
    assert await AdvisorSlot.find({"advisor_id": adv.id}).count() == 1
    await desk.get_by_test_id(f"slot-cancel-{first_id}").click()
    await expect(booked).to_have_attribute("data-booked", "false")
    await meera.page.reload()
    await expect(meera.page.get_by_test_id("strategies-panel")).to_be_visible()
    await expect(meera.page.locator('[data-testid="my-bookings"] li')).to_have_count(0)

    # The desk on a phone: nothing wider than the screen.
    phone = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(phone, adv.account)
    await phone.goto("/advisor")
    await expect(phone.locator('[data-testid="my-slots"] li')).to_have_count(1)
    await phone.get_by_test_id(f"strategy-edit-{sid}").click()
    await expect(phone.get_by_test_id("strategy-form")).to_be_visible()
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the desk scrolls sideways on a phone ({width}px)"
    await phone.screenshot(path=str(artifacts / "advisor-desk-phone.png"), full_page=True)


async def test_the_public_strategy_page_needs_no_sign_in(
    new_context: NewContext, artifacts: Path
) -> None:
    user = await do_provision_user(email=f"adv-{uuid.uuid4().hex[:8]}@example.com",
                                   password="Advisor-pass-2026", full_name="Priya Rao",
                                   roles=[PlatformRole.ADVISOR])  # fmt: skip
    await directory.do_set_kyc_status(str(user.id), "verified")
    made = await advisor_service.do_publish_strategy(
        str(user.id),
        "Income & Health 2026",
        "Dividends and drug makers, held long.",
        {"JNJ": 3000, "PFE": 2500, "MRK": 2500, "PG": 2000},
    )
    draft = await advisor_service.do_publish_strategy(
        str(user.id), "Unpublished idea", "", {"KO": 10_000}, publish=False
    )
    path = f"/strategies/income-health-2026-{made.id}"

    page = await (await new_context()).new_page()  # nobody signed in
    await page.goto(f"/strategies/{made.id}")  # the bare id works and becomes the readable one
    await expect(page.get_by_test_id("strategy-title")).to_have_text("Income & Health 2026")
    await expect(page).to_have_url(f"{page.url.split('/strategies/')[0]}{path}")
    await expect(page).to_have_title("Income & Health 2026 — model strategy · Samooh")
    await expect(page.get_by_test_id("strategy-page")).to_contain_text("by Priya Rao")
    await expect(page.get_by_test_id("strategy-weight-JNJ")).to_contain_text("30.00%")
    await expect(page.locator('[data-testid="strategy-allocation"] tbody tr')).to_have_count(4)
    await expect(page.get_by_test_id("strategy-figures")).to_be_visible(timeout=30_000)
    twr = await page.get_by_test_id("strategy-twr").inner_text()
    assert twr.endswith("%") and twr != "—%"
    await expect(page.get_by_test_id("strategy-disclaimer")).to_contain_text(
        "Past performance does not guarantee future results"
    )
    description = await page.locator('meta[name="description"]').get_attribute("content")
    assert description and description.startswith("Income & Health 2026: JNJ 30.00%")
    await page.screenshot(path=str(artifacts / "strategy-public-desktop.png"), full_page=True)

    phone = await (await new_context(viewport=PHONE)).new_page()
    await phone.goto(path)
    await expect(phone.get_by_test_id("strategy-figures")).to_be_visible(timeout=30_000)
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width}px)"
    await phone.screenshot(path=str(artifacts / "strategy-public-phone.png"), full_page=True)

    # A draft has no public page.
    await phone.goto(f"/strategies/unpublished-idea-{draft.id}")
    await expect(phone.get_by_test_id("error")).to_be_visible()
    await expect(phone.get_by_test_id("strategy-title")).to_have_count(0)

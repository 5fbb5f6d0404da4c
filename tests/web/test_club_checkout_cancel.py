"""An unpaid checkout given up on screen (issue #20): a member on a phone opens an online
contribution and leaves its checkout unpaid; the owner's desktop shows it waiting without a
reload; the member cancels it (with a confirmation), both screens show it given up, and the
member may then leave the club, which the unpaid checkout had blocked. Screenshots go to
test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.identity.conftest import Api
from tests.payments.sandbox_client import SandboxClient
from tests.web.conftest import PHONE, NewContext, create_club, invite_url, join, open_room, person

pytestmark = pytest.mark.browser


async def test_a_member_cancels_an_unpaid_checkout_and_the_owner_sees_it_live(
    http: Api, new_context: NewContext, payment_stack: SandboxClient, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")  # the owner
    ravi = await person(http, new_context, "ravi", viewport=PHONE)
    club = await create_club(http, asha, "Tamarind Circle")
    club_id = club["id"]
    await join(http, ravi, await invite_url(http, asha, club_id))
    await open_room(asha.page, club_id)
    await open_room(ravi.page, club_id)

    member, owner = ravi.page, asha.page
    await member.get_by_test_id("contribute-amount").fill("750")
    async with member.context.expect_page() as tab:  # the checkout opens in a new tab
        await member.get_by_test_id("contribute-submit").click()
    checkout = await tab.value
    await checkout.wait_for_url(f"{payment_stack.url}/checkout/**")
    await checkout.close()  # and is left unpaid
    mine = member.locator('[data-testid="contributions"] [data-status="awaiting_payment"]')
    await expect(mine).to_contain_text("₹750.00")
    contribution_id = (await mine.get_attribute("data-testid") or "").removeprefix("contribution-")
    leave = await http.call("POST", f"/api/v1/clubs/{club_id}/leave", token=ravi.token)
    assert (leave.status, leave.code) == (409, "member_has_pending_money"), leave.body

    # The owner's screen shows it waiting, live (no reload).
    marker = await owner.evaluate("window.__marker = Math.random()")
    row = owner.locator(f'[data-testid="contribution-{contribution_id}"]')
    await expect(row).to_have_attribute("data-status", "awaiting_payment", timeout=20_000)

    # Asked first; "Keep it" changes nothing.
    await member.get_by_test_id(f"contribution-cancel-{contribution_id}").click()
    ask = member.get_by_test_id(f"contribution-cancel-ask-{contribution_id}")
    await expect(ask).to_contain_text("Cancel your unpaid checkout of ₹750.00?")
    await member.screenshot(path=str(artifacts / "checkout-cancel-ask-phone.png"), full_page=True)
    await member.get_by_test_id(f"contribution-cancel-no-{contribution_id}").click()
    await expect(ask).to_have_count(0)
    await member.get_by_test_id(f"contribution-cancel-{contribution_id}").click()
    await member.get_by_test_id(f"contribution-cancel-yes-{contribution_id}").click()

    gone = member.locator(f'[data-testid="contribution-{contribution_id}"][data-status="failed"]')
    await expect(gone).to_contain_text("checkout cancelled")
    await expect(member.get_by_test_id(f"contribution-status-{contribution_id}")).to_have_text(
        "Cancelled"
    )
    await expect(member.get_by_test_id(f"contribution-cancel-{contribution_id}")).to_have_count(0)
    await expect(row).to_have_attribute("data-status", "failed", timeout=20_000)
    await expect(owner.get_by_test_id(f"contribution-reason-{contribution_id}")).to_have_text(
        "checkout cancelled"
    )
    assert await owner.evaluate("window.__marker") == marker  # the same page all along
    await owner.get_by_test_id("capital-panel").scroll_into_view_if_needed()
    await owner.get_by_test_id("capital-panel").screenshot(
        path=str(artifacts / "checkout-cancelled-owner.png")
    )

    # Nothing in flight any more: the member may leave.
    leave = await http.call("POST", f"/api/v1/clubs/{club_id}/leave", token=ravi.token)
    assert leave.status == 200, leave.body

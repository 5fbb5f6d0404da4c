"""What the first real users tripped on, pinned in Chromium (issue #14): the home page's Sign up
button; a rate limit says when to try again, in words; the invite page names the club, who
invited you and its rules; a new club's next steps; "Close now" asks first; a long chat message
shows a counter; a manual contribution reaches the treasurer's inbox live with the member's
note, and rejecting it without a reason says why nothing happened; a refused Pay in opens no
tab. No raw error code is ever shown."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.identity.conftest import Api, new_email
from tests.web.conftest import PHONE, NewContext, create_club, invite_url, open_room, person

pytestmark = pytest.mark.browser


async def test_signing_up_and_a_rate_limit_in_words(http: Api, new_context: NewContext) -> None:
    page = await (await new_context()).new_page()
    await page.goto("/")
    await page.get_by_test_id("nav-signup").click()
    await expect(page.get_by_test_id("signup")).to_be_visible()

    # One address tried five times already (from anywhere): the sixth is told when to retry.
    email = new_email("eager")
    for _ in range(5):
        body = {"email": email, "password": "short", "full_name": "E"}
        reply = await http.call("POST", "/api/v1/auth/signup", json=body)
        assert reply.status == 422, reply.body
    await page.get_by_test_id("signup-name").fill("Eager Member")
    await page.get_by_test_id("signup-email").fill(email)
    await page.get_by_test_id("signup-password").fill("Tamarind-Grove-2031")
    await page.get_by_test_id("signup-submit").click()
    error = page.get_by_test_id("error")
    await expect(error).to_have_attribute("data-code", "rate_limited")
    await expect(error).to_contain_text("Too many tries for now. Try again in")
    await expect(error).not_to_contain_text("rate_limited")
    await expect(page.locator(".error-code")).to_have_count(0)


async def test_the_trial_fixes_in_the_club_room(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    ravi = await person(http, new_context, "ravi")
    club = await create_club(http, asha, "Jamun Circle")
    club_id = club["id"]
    rules = await http.call("PATCH", f"/api/v1/clubs/{club_id}/rules",
                            json={"approval_threshold_bps": 7500}, token=asha.token)  # fmt: skip
    assert rules.status == 200, rules.body

    # A new club shows its owner the next steps.
    await open_room(asha.page, club_id)
    await expect(asha.page.get_by_test_id("next-steps")).to_be_visible()
    await expect(asha.page.get_by_test_id("next-step-invite")).to_have_attribute(
        "data-done", "false"
    )

    # The invite page names the club, who invited and the rules, before joining.
    await ravi.page.goto(await invite_url(http, asha, club_id))
    await expect(ravi.page.get_by_test_id("join-club-name")).to_have_text(
        "Asha invites you to Jamun Circle"
    )
    await expect(ravi.page.get_by_test_id("join-rules")).to_contain_text("75%")
    await expect(ravi.page.get_by_test_id("join-rules")).to_contain_text("One member, one vote")
    await ravi.page.get_by_test_id("join-accept").click()
    await expect(ravi.page.locator('[data-testid="club-room"][data-phase="live"]')).to_be_visible()
    member = ravi.page
    await expect(member.get_by_test_id("desk-panel")).to_have_count(0)

    # A long chat message shows a counter, and one too long says by how much.
    await member.get_by_test_id("chat-input").fill("a" * 3_990)
    await expect(member.get_by_test_id("chat-counter")).to_have_text("3,990 / 4,000 characters")
    await member.get_by_test_id("chat-input").fill("a" * 4_010)
    await expect(member.get_by_test_id("chat-counter")).to_contain_text("10 characters too long")
    await expect(member.get_by_test_id("chat-send")).to_be_disabled()
    await member.get_by_test_id("chat-input").fill("")

    # "Close now" asks first; keeping it open changes nothing.
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    made = await http.call("POST", f"/api/v1/clubs/{club_id}/proposals",
                           json={"kind": "general", "title": "Meet on Sundays",
                                 "deadline": deadline}, token=ravi.token)  # fmt: skip
    assert made.status == 201, made.body
    proposal_id = made.body["id"]
    owner = asha.page
    await owner.get_by_test_id(f"close-{proposal_id}").click()
    await expect(owner.get_by_test_id(f"confirm-{proposal_id}")).to_contain_text(
        "Close the vote now?"
    )
    await owner.get_by_test_id(f"confirm-back-{proposal_id}").click()
    await expect(owner.get_by_test_id(f"proposal-{proposal_id}")).to_have_attribute(
        "data-status", "open"
    )
    await owner.get_by_test_id(f"close-{proposal_id}").click()
    await owner.get_by_test_id(f"close-confirm-{proposal_id}").click()
    await expect(member.get_by_test_id(f"outcome-{proposal_id}")).to_be_visible()

    # Money paid outside reaches the treasurer's inbox live, with the member's note.
    recorded = await http.call(
        "POST", f"/api/v1/clubs/{club_id}/contributions",
        json={"amount": "1500.00", "method": "manual", "note": "Cash at the March meeting"},
        token=ravi.token, headers={"Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert recorded.status == 201, recorded.body
    contribution_id = recorded.body["id"]
    await expect(owner.get_by_test_id(f"pending-{contribution_id}")).to_contain_text("₹1,500.00")
    await expect(owner.get_by_test_id(f"pending-note-{contribution_id}")).to_contain_text(
        "Cash at the March meeting"
    )
    await expect(owner.get_by_test_id("desk-inbox-count")).to_contain_text("1 waiting")
    # Rejecting without a reason says, right there, that nothing happened and why.
    await owner.get_by_test_id(f"reject-{contribution_id}").click()
    await owner.get_by_test_id(f"reject-confirm-{contribution_id}").click()
    await expect(owner.get_by_test_id(f"reject-error-{contribution_id}")).to_contain_text(
        "Nothing was rejected yet"
    )
    await expect(owner.get_by_test_id(f"pending-{contribution_id}")).to_be_visible()

    # A Pay in the club refuses (above the KYC limit) opens no tab and says why.
    pages_before = len(member.context.pages)
    await member.get_by_test_id("contribute-amount").fill("60000")
    await member.get_by_test_id("contribute-submit").click()
    await expect(member.get_by_test_id("contribute-error")).to_contain_text("verified KYC")
    await member.wait_for_timeout(500)
    assert len(member.context.pages) == pages_before
    await expect(member.locator(".error-code")).to_have_count(0)

    await owner.get_by_test_id("desk-panel").scroll_into_view_if_needed()
    await owner.get_by_test_id("desk-panel").screenshot(path=str(artifacts / "desk-inbox.png"))
    await owner.set_viewport_size(PHONE)  # type: ignore[arg-type]
    await owner.wait_for_timeout(300)
    width = await owner.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    await owner.evaluate("window.scrollTo(0, 0)")
    await owner.screenshot(path=str(artifacts / "room-phone-tabs.png"))

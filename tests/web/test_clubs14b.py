"""Issue #14, what was still missing, in Chromium with two members:

* a rules proposal: the owner hands the rules to the members' vote from the desk, a member
  proposes a lower threshold from the Votes panel, both vote, and when it passes both open
  screens show the club's new rules at once (``club:rules_changed``);
* a proposal's own discussion: comments appear live on the other screen, one cut off the
  network catches up on those it missed, in order, once; a long comment shows what is left;
* a link opened in a second tab of the same browser stays signed in, and the first tab too;
* withdrawals and charges show their units with one sign.
Screenshots, desktop and phone, in test-artifacts/."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.identity.conftest import Api, eventually
from tests.web.conftest import (
    PHONE,
    NewContext,
    create_club,
    invite_url,
    join,
    open_room,
    person,
)

pytestmark = pytest.mark.browser


async def comment(page: Page, proposal_id: str, text: str) -> None:
    await page.get_by_test_id(f"comment-input-{proposal_id}").fill(text)
    await page.get_by_test_id(f"comment-send-{proposal_id}").click()
    await expect(page.get_by_test_id(f"comment-input-{proposal_id}")).to_have_value("")


async def test_rules_by_vote_and_a_discussion_live(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    ravi = await person(http, new_context, "ravi")
    club = await create_club(http, asha, "Neem Partners")
    club_id = club["id"]
    await join(http, ravi, await invite_url(http, asha, club_id))
    owner, member = asha.page, ravi.page
    await open_room(owner, club_id)
    await open_room(member, club_id)
    await expect(member.get_by_test_id("club-rules")).to_contain_text("passes at 60% yes")

    # The owner hands the rules to the members' vote (desk → rules).
    await owner.get_by_test_id("desk-tab-rules").click()
    await owner.get_by_test_id("rules-by").select_option("vote")
    await owner.get_by_test_id("rules-save").click()
    await expect(owner.get_by_test_id("desk-rules-by-vote")).to_be_visible()
    await expect(member.get_by_test_id("club-rules")).to_contain_text("rules changed by vote")

    # Ravi proposes a lower threshold and a quorum from the Votes panel.
    await member.get_by_test_id("propose").click()
    await member.get_by_test_id("proposal-kind").select_option("rules")
    await member.get_by_test_id("proposal-title").fill("Pass at half, with a quorum")
    await member.get_by_test_id("proposal-rules-threshold").fill("50")
    await member.get_by_test_id("proposal-rules-quorum").fill("50")
    await member.get_by_test_id("proposal-submit").click()
    card = owner.locator('[data-testid^="proposal-"][data-title="Pass at half, with a quorum"]')
    await expect(card).to_be_visible()
    proposal_id = str(await card.get_attribute("data-testid")).removeprefix("proposal-")
    await expect(owner.get_by_test_id(f"proposal-rules-{proposal_id}")).to_contain_text(
        "passes at 50% · quorum 50%"
    )

    # Its own discussion: live on the other screen.
    await owner.get_by_test_id(f"discuss-{proposal_id}").click()
    await member.get_by_test_id(f"discuss-{proposal_id}").click()
    await expect(owner.get_by_test_id(f"discussion-empty-{proposal_id}")).to_be_visible()
    await comment(member, proposal_id, "Half is enough if half of us take part.")
    thread = owner.get_by_test_id(f"comments-{proposal_id}")
    await expect(thread).to_contain_text("Half is enough if half of us take part.")
    await member.get_by_test_id(f"comment-input-{proposal_id}").fill("a" * 1950)
    await expect(member.get_by_test_id(f"comment-left-{proposal_id}")).to_have_text(
        "50 characters left"
    )
    await member.get_by_test_id(f"comment-input-{proposal_id}").fill("")

    # Ravi drops off the network; Asha comments meanwhile; he catches up in order, once.
    context = member.context
    await context.set_offline(True)
    await member.evaluate("window.__sockets.forEach((ws) => ws.close())")
    await expect(member.get_by_test_id("room-status")).not_to_have_attribute("data-state", "live")
    for n in (1, 2):
        await comment(owner, proposal_id, f"While you were away {n}")
    await context.set_offline(False)
    await expect(member.get_by_test_id("room-status")).to_have_attribute(
        "data-state", "live", timeout=20_000
    )
    mine = member.get_by_test_id(f"comments-{proposal_id}").locator("li")
    await expect(mine).to_have_count(3)
    await expect(mine.nth(2)).to_contain_text("While you were away 2")
    seqs = await mine.evaluate_all("(items) => items.map((item) => Number(item.dataset.seq))")
    assert seqs == sorted(seqs) and len(set(seqs)) == 3, seqs

    # Both vote yes; the owner closes; both screens show the new rules at once.
    await member.get_by_test_id(f"vote-yes-{proposal_id}").click()
    await owner.get_by_test_id(f"vote-yes-{proposal_id}").click()
    await expect(owner.get_by_test_id(f"tally-yes-{proposal_id}")).to_have_attribute(
        "data-count", "2"
    )
    await owner.get_by_test_id(f"close-{proposal_id}").click()
    await owner.get_by_test_id(f"close-confirm-{proposal_id}").click()
    for page in (owner, member):
        await expect(page.get_by_test_id(f"outcome-{proposal_id}")).to_have_text("Approved")
        await expect(page.get_by_test_id("club-rules")).to_contain_text(
            "passes at 50% yes · quorum 50%"
        )
        await expect(page.get_by_test_id(f"rules-applied-{proposal_id}")).to_be_visible()
    fetched = await http.call("GET", f"/api/v1/clubs/{club_id}", token=ravi.token)
    assert (fetched.body["approval_threshold_bps"], fetched.body["quorum_bps"]) == (5000, 5000)
    await expect(owner.locator(".error-code")).to_have_count(0)

    await owner.get_by_test_id(f"proposal-{proposal_id}").scroll_into_view_if_needed()
    await owner.get_by_test_id("proposals-panel").screenshot(
        path=str(artifacts / "clubs14b-rules-discussion-desktop.png")
    )
    await member.set_viewport_size(PHONE)  # type: ignore[arg-type]
    await member.wait_for_timeout(300)
    width = await member.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    await expect(member.get_by_test_id(f"discussion-{proposal_id}")).to_be_visible()
    await member.get_by_test_id(f"discussion-{proposal_id}").scroll_into_view_if_needed()
    await member.screenshot(path=str(artifacts / "clubs14b-rules-discussion-phone.png"))


async def test_a_link_in_a_second_tab_stays_signed_in(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    club = await create_club(http, asha, "Peepal Savers")
    first = asha.page
    await open_room(first, club["id"])

    # A link to the club opened in a new tab of the same browser.
    second = await first.context.new_page()
    await second.goto(f"/clubs/{club['id']}")
    await expect(second.locator('[data-testid="club-room"][data-phase="live"]')).to_be_visible()
    await expect(second.get_by_test_id("club-name")).to_have_text("Peepal Savers")

    # Both tabs keep working on their own sessions: each reloads and stays signed in, and a
    # third tab opened after that is signed in too.
    for page in (first, second):
        await page.reload()
        await expect(page.locator('[data-testid="club-room"][data-phase="live"]')).to_be_visible()
    third = await first.context.new_page()
    await third.goto("/clubs")
    await expect(third.get_by_test_id("my-clubs")).to_be_visible()
    await expect(third.get_by_test_id("login-email")).to_have_count(0)

    # A browser with no signed-in tab still starts signed out.
    stranger = await (await new_context()).new_page()
    await stranger.goto(f"/clubs/{club['id']}")
    await expect(stranger.get_by_test_id("login-email")).to_be_visible()
    await second.screenshot(path=str(artifacts / "clubs14b-second-tab.png"))


async def test_withdrawal_and_charge_units_show_one_sign(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    ravi = await person(http, new_context, "ravi")
    club = await create_club(http, asha, "Sal Circle")
    club_id = club["id"]
    await join(http, ravi, await invite_url(http, asha, club_id))
    today = dt.datetime.now(dt.UTC).date()
    for who, amount in ((ravi, "1000.00"),):  # the owner approves, so not her own
        made = await http.call(
            "POST", f"/api/v1/clubs/{club_id}/contributions",
            json={"amount": amount, "method": "manual", "note": "cash"},
            token=who.token, headers={"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        assert made.status == 201, made.body
        approved = await http.call(
            "POST", f"/api/v1/clubs/{club_id}/contributions/{made.body['id']}/decision",
            json={"approve": True, "paid_on": (today - dt.timedelta(days=3)).isoformat()},
            token=asha.token, headers={"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        assert approved.status == 200, approved.body

        async def arrived(contribution_id: str = made.body["id"]) -> bool:
            listed = await http.call("GET", f"/api/v1/clubs/{club_id}/contributions",
                                     token=asha.token)  # fmt: skip
            return any(c["id"] == contribution_id and c["status"] == "received"
                       for c in listed.body["contributions"])  # fmt: skip

        await eventually(arrived, timeout=30)

    async def value(day: dt.date) -> None:
        reply = await http.call(
            "POST", f"/api/v1/clubs/{club_id}/valuations",
            json={"valuation_date": day.isoformat(), "prices": {}},
            token=asha.token, headers={"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        assert reply.status == 201, reply.body

    await value(today - dt.timedelta(days=2))
    withdrawal = await http.call(
        "POST", f"/api/v1/clubs/{club_id}/withdrawals", json={"amount": "100.00"},
        token=ravi.token, headers={"Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert withdrawal.status == 201, withdrawal.body
    charge = await http.call(
        "POST", f"/api/v1/clubs/{club_id}/charges",
        json={"user_id": ravi.id, "amount": "10.00", "reason": "Late fee"},
        token=asha.token, headers={"Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert charge.status == 201, charge.body

    owner = asha.page
    await open_room(owner, club_id)
    await owner.get_by_test_id("desk-tab-value").click()
    await owner.get_by_test_id("valuation-date").fill((today - dt.timedelta(days=1)).isoformat())
    await owner.get_by_test_id("valuation-preview").click()
    row = owner.get_by_test_id(f"preview-settlement-{ravi.id}")
    await expect(row.first).to_be_visible()
    shown = await owner.get_by_test_id("preview-settlement-units").all_inner_texts()
    assert sorted(t.strip() for t in shown) == ["-1.000000 units", "-10.000000 units"], shown
    await owner.get_by_test_id("desk-panel").screenshot(
        path=str(artifacts / "clubs14b-units-preview.png")
    )
    await value(today - dt.timedelta(days=1))

    await open_room(ravi.page, club_id)
    await expect(ravi.page.get_by_test_id("withdrawal-units")).to_contain_text("-10.000000 units")
    await owner.get_by_test_id("desk-tab-charge").click()
    await expect(owner.get_by_test_id(f"charge-{charge.body['id']}")).to_contain_text(
        "-1.000000 units"
    )
    # Ravi's capital account keeps the charge apart from what he withdrew, with its reason.
    await expect(ravi.page.get_by_test_id("my-charged")).to_contain_text("₹10.00")
    await expect(ravi.page.get_by_test_id(f"my-charge-{charge.body['id']}")).to_contain_text(
        "Late fee · paid from my units on"
    )
    # A charge not yet settled can be cancelled on the desk, after a confirmation.
    second = await http.call(
        "POST", f"/api/v1/clubs/{club_id}/charges",
        json={"user_id": ravi.id, "amount": "5.00", "reason": "Courier for the papers"},
        token=asha.token, headers={"Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert second.status == 201, second.body
    await owner.reload()
    await owner.get_by_test_id("desk-tab-charge").click()
    await owner.get_by_test_id(f"charge-cancel-{second.body['id']}").click()
    await owner.get_by_test_id(f"charge-cancel-yes-{second.body['id']}").click()
    await expect(owner.get_by_test_id(f"charge-status-{second.body['id']}")).to_have_text(
        "Cancelled"
    )
    await ravi.page.reload()
    await expect(ravi.page.get_by_test_id(f"my-charge-{second.body['id']}")).to_have_attribute(
        "data-status", "cancelled"
    )
    await ravi.page.get_by_test_id("my-charges").screenshot(
        path=str(artifacts / "clubs14b-my-charges.png")
    )


async def test_dues_on_the_desk_and_the_members_page(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    ravi = await person(http, new_context, "ravi")
    club = await create_club(http, asha, "Amla Savers")
    club_id = club["id"]
    await join(http, ravi, await invite_url(http, asha, club_id))
    owner, member = asha.page, ravi.page
    await open_room(owner, club_id)
    await open_room(member, club_id)
    month = dt.datetime.now(dt.UTC).date().strftime("%Y-%m")

    # The owner sets monthly dues from the desk.
    await owner.get_by_test_id("desk-tab-rules").click()
    await owner.get_by_test_id("rules-dues").fill("500")
    await owner.get_by_test_id("rules-dues-day").fill("28")
    await owner.get_by_test_id("rules-dues-grace").fill("3")
    await owner.get_by_test_id("rules-dues-late-fee").fill("25")
    await owner.get_by_test_id("rules-save").click()
    await expect(owner.get_by_test_id("rules-saved")).to_be_visible()

    # Ravi sees this month's dues and records that he paid them.
    await member.reload()
    mine = member.get_by_test_id(f"my-dues-{month}")
    await expect(mine).to_have_attribute("data-status", "pending")
    await expect(mine).to_contain_text("₹500.00")
    await member.get_by_test_id(f"my-dues-pay-{month}").click()
    await expect(member.get_by_test_id(f"my-dues-sent-{month}")).to_be_visible()

    # It waits in the owner's inbox (live); approved, it is paid on both screens.
    pending = owner.locator('[data-testid^="pending-note-"]', has_text="Dues for")
    await owner.get_by_test_id("desk-tab-inbox").click()
    await expect(pending).to_be_visible()
    contribution_id = str(await pending.get_attribute("data-testid")).removeprefix("pending-note-")
    await owner.get_by_test_id(f"approve-{contribution_id}").click()
    await expect(mine).to_have_attribute("data-status", "paid", timeout=30_000)
    await owner.get_by_test_id("desk-tab-dues").click()
    await expect(owner.get_by_test_id(f"dues-{ravi.id}-{month}")).to_have_attribute(
        "data-status", "paid", timeout=30_000
    )

    # The owner's own month is waived with a reason.
    await owner.get_by_test_id(f"dues-waive-{asha.id}-{month}").click()
    await owner.get_by_test_id("dues-waive-reason").fill("Hosts the meetings")
    await owner.get_by_test_id("dues-waive-confirm").click()
    await expect(owner.get_by_test_id(f"dues-{asha.id}-{month}")).to_have_attribute(
        "data-status", "waived"
    )
    await expect(owner.locator(".error-code")).to_have_count(0)
    await owner.get_by_test_id("desk-panel").screenshot(
        path=str(artifacts / "clubs14b-dues-desk-desktop.png")
    )
    await owner.set_viewport_size(PHONE)  # type: ignore[arg-type]
    await owner.wait_for_timeout(300)
    width = await owner.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    await owner.get_by_test_id("dues-desk").scroll_into_view_if_needed()
    await owner.screenshot(path=str(artifacts / "clubs14b-dues-desk-phone.png"))
    await member.set_viewport_size(PHONE)  # type: ignore[arg-type]
    await member.get_by_test_id("my-dues").scroll_into_view_if_needed()
    await member.screenshot(path=str(artifacts / "clubs14b-my-dues-phone.png"))

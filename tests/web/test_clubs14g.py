"""Issue #14, what the outside trial found in the club's browser screens (Chromium):

* a form answered with a refusal keeps working: the corrected request is a new one (a new
  Idempotency-Key), not "already sent with other details" until a reload;
* an owner's own manual contribution is not offered for their own approval: it says who
  decides it, and the API's refusal reads as its real sentence;
* the create-club form states the threshold rule the server applies (exactly at the threshold
  passes) and asks about ties only where the tie rule can matter;
* an invite opened signed out shows the club, the inviter and the rules, and sign-up,
  verification and sign-in carry the person back to the join step;
* order reasons, prices, invite addresses and refusals read as sentences;
* a valuation moves the NAV in the Orders header on both screens at once;
* the dues grid opens at the current month on a phone; positions fit a desktop panel;
* a rules proposal can change the withdrawal fee and the dues' day, grace and late fee, checked
  with the Rules tab's sentences.
Screenshots (desktop and phone) in test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import datetime as dt

import pytest
from playwright.async_api import expect

from tests.files.samples import png
from tests.identity.conftest import Api, new_email, new_password
from tests.payments.sandbox_client import SandboxClient
from tests.web.conftest import PHONE, NewContext, create_club, invite_url, join, open_room, person
from tests.web.test_desk import pay_in

pytestmark = pytest.mark.browser


async def test_a_corrected_order_after_a_refusal_is_placed_without_a_reload(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    club = await create_club(http, asha, "Second Try Savers")
    page = asha.page
    await open_room(page, club["id"])
    await page.get_by_test_id("desk-tab-orders").click()
    await page.get_by_test_id("order-new").click()
    await page.get_by_test_id("order-symbol").fill("ZZZZQ")
    await page.get_by_test_id("order-quantity").fill("1")
    await page.get_by_test_id("order-kind").select_option("limit")
    await page.get_by_test_id("order-limit").fill("100")
    await page.get_by_test_id("order-submit").click()
    error = page.get_by_test_id("order-error")
    await expect(error).to_contain_text("We do not know the symbol ZZZZQ")

    # The corrected order is a new request: placed, not "already sent with other details".
    await page.get_by_test_id("order-symbol").fill("TCS")
    await page.get_by_test_id("order-submit").click()
    await expect(page.get_by_test_id("order-form")).to_have_count(0)
    await expect(page.get_by_text("already sent")).to_have_count(0)
    listed = await http.call("GET", f"/api/v1/clubs/{club['id']}/orders", token=asha.token)
    assert [o["symbol"] for o in listed.body["orders"]] == ["TCS"], listed.body

    # The same for a second refusal and correction in a row, without a reload.
    await page.get_by_test_id("order-new").click()
    for symbol in ("ZZZZQ", "ZZZZR"):
        await page.get_by_test_id("order-symbol").fill(symbol)
        await page.get_by_test_id("order-quantity").fill("2")
        await page.get_by_test_id("order-kind").select_option("limit")
        await page.get_by_test_id("order-limit").fill("100")
        await page.get_by_test_id("order-submit").click()
        await expect(error).to_contain_text(f"We do not know the symbol {symbol}")
    await page.get_by_test_id("order-symbol").fill("INFY")
    await page.get_by_test_id("order-submit").click()
    await expect(page.get_by_test_id("order-form")).to_have_count(0)
    listed = await http.call("GET", f"/api/v1/clubs/{club['id']}/orders", token=asha.token)
    assert sorted(o["symbol"] for o in listed.body["orders"]) == ["INFY", "TCS"], listed.body


async def test_an_owners_own_manual_contribution_waits_for_someone_else(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    club = await create_club(http, asha, "Lone Owner Club")
    page = asha.page
    await open_room(page, club["id"])
    await page.get_by_test_id("manual-open").click()
    await page.get_by_test_id("manual-amount").fill("500")
    await page.get_by_test_id("manual-receipt").set_input_files(
        {"name": "receipt.png", "mimeType": "image/png", "buffer": png(40, 24, seed=5)}
    )
    await page.get_by_test_id("manual-submit").click()
    await expect(page.get_by_test_id("manual-recorded")).to_contain_text("₹500.00")
    listed = await http.call("GET", f"/api/v1/clubs/{club['id']}/contributions", token=asha.token)
    (mine,) = [c for c in listed.body["contributions"] if c["status"] == "pending_approval"]

    # The inbox shows it apart, without Approve/Reject, saying who decides it.
    await page.reload()
    await page.get_by_test_id("desk-tab-inbox").click()
    own = page.get_by_test_id(f"pending-own-{mine['id']}")
    await expect(own).to_contain_text("₹500.00")
    who = page.get_by_test_id(f"pending-own-who-{mine['id']}")
    await expect(who).to_contain_text("You cannot approve your own contribution")
    await expect(who).to_contain_text("a treasurer, an admin or another owner")
    await expect(who).to_contain_text("Nobody else in the club can approve it yet")
    await expect(page.get_by_test_id(f"approve-{mine['id']}")).to_have_count(0)
    await expect(page.get_by_test_id(f"reject-{mine['id']}")).to_have_count(0)
    await expect(page.get_by_test_id("desk-inbox-count")).to_have_count(0)
    await page.get_by_test_id("desk-inbox").screenshot(
        path=str(artifacts / "clubs14g-own-contribution-desktop.png")
    )
    await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    await page.get_by_test_id("desk-inbox").scroll_into_view_if_needed()
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(artifacts / "clubs14g-own-contribution-phone.png"))

    # The API refuses the contributor with a reason the screen can name.
    refused = await http.call(
        "POST", f"/api/v1/clubs/{club['id']}/contributions/{mine['id']}/decision",
        json={"approve": True}, token=asha.token, headers={"Idempotency-Key": "own-approve-1"},
    )  # fmt: skip
    assert refused.status == 409, refused.body
    assert refused.body["error"]["code"] == "contribution_state"
    assert refused.body["error"]["details"]["reason"] == "own_contribution"


async def test_the_create_club_form_states_the_threshold_rule_the_server_applies(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    page = asha.page
    await page.goto("/clubs/new")
    await page.get_by_test_id("club-name").fill("Seventy Five")
    await page.get_by_test_id("club-threshold").fill("75")
    rule = page.get_by_test_id("club-threshold-rule")
    await expect(rule).to_contain_text("exactly 75% is enough")
    await expect(rule).to_contain_text("three yes against one no pass")
    await expect(page.get_by_test_id("club-tie")).to_have_count(0)
    await expect(page.get_by_text("exactly at the threshold")).to_have_count(0)
    await page.get_by_test_id("create-club").screenshot(
        path=str(artifacts / "clubs14g-create-club-desktop.png")
    )

    # At 50 % or less a tie reaches the threshold: only then is the tie rule asked.
    await page.get_by_test_id("club-threshold").fill("50")
    await expect(page.get_by_test_id("club-tie")).to_be_visible()
    await expect(rule).to_contain_text("the club decides what a tie does")
    await page.get_by_test_id("club-tie").select_option("approve")
    await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(artifacts / "clubs14g-create-club-phone.png"), full_page=True)
    await page.get_by_test_id("club-create").click()
    await expect(page.locator('[data-testid="club-room"]')).to_be_visible()
    club_id = page.url.rsplit("/", 1)[1]
    made = await http.call("GET", f"/api/v1/clubs/{club_id}", token=asha.token)
    assert made.body["approval_threshold_bps"] == 5000
    assert made.body["tie_rule"] == "approve"


async def test_an_invite_opened_signed_out_leads_through_sign_up_to_the_join_step(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    club = await create_club(http, asha, "Banyan Invitees")
    url = await invite_url(http, asha, club["id"])
    path = "/join/" + url.rsplit("/join/", 1)[1]
    page = await (await new_context(viewport=PHONE)).new_page()

    # Signed out, the invite itself is shown: the club, who invited, the rules.
    await page.goto(path)
    name = page.get_by_test_id("join-club-name")
    await expect(name).to_contain_text("invites you to Banyan Invitees")
    await expect(name).to_contain_text("Asha")
    await expect(page.get_by_test_id("join-rules")).to_contain_text("passes with 60%")
    await expect(page.get_by_test_id("join-accept")).to_have_count(0)
    await page.screenshot(path=str(artifacts / "clubs14g-invite-signed-out-phone.png"))

    # Sign-up names the club and keeps the way back through verification and sign-in.
    await page.get_by_test_id("join-signup").click()
    await expect(page.get_by_test_id("signup")).to_contain_text("invites you to Banyan Invitees")
    email, password = new_email("invitee"), new_password()
    await page.get_by_test_id("signup-name").fill("Ivan Invitee")
    await page.get_by_test_id("signup-email").fill(email)
    await page.get_by_test_id("signup-password").fill(password)
    await page.get_by_test_id("signup-submit").click()
    await expect(page.get_by_test_id("verify")).to_be_visible()
    await page.get_by_test_id("verify-code").fill(await http.latest_code(email, "verification"))
    await page.get_by_test_id("verify-submit").click()
    await page.get_by_test_id("verified-login").click()
    await expect(page.get_by_test_id("login")).to_contain_text("invites you to Banyan Invitees")
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()

    # Signed in, back at the join step (not "You are not in a club yet").
    await expect(page.get_by_test_id("join-accept")).to_be_visible()
    await expect(page.get_by_test_id("no-clubs")).to_have_count(0)
    await page.get_by_test_id("join-accept").click()
    await expect(page.locator('[data-testid="club-room"]')).to_be_visible()
    assert f"/clubs/{club['id']}" in page.url

    # The public read shows what the invite page shows, nothing more.
    seen = await http.call("GET", f"/api/v1/invites/{path.rsplit('/', 1)[1]}")
    assert seen.status == 200, seen.body
    assert set(seen.body) <= {
        "club_id", "club_name", "description", "currency", "invited_by", "members",
        "voting_mode", "approval_threshold_bps", "quorum_bps", "tie_rule",
        "withdrawal_fee_bps", "starting_unit_value", "expires_at",
    }  # fmt: skip


async def test_order_reasons_prices_invite_addresses_and_refusals_read_as_sentences(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    club = await create_club(http, asha, "Plain Words Club")  # INR
    page = asha.page
    await open_room(page, club["id"])

    # A dollar stock's limit in a rupee club is in dollars on the members' table, as on the desk.
    await page.get_by_test_id("desk-tab-orders").click()
    await page.get_by_test_id("order-new").click()
    await page.get_by_test_id("order-symbol").fill("AAPL")
    await page.get_by_test_id("order-quantity").fill("1")
    await page.get_by_test_id("order-kind").select_option("limit")
    await page.get_by_test_id("order-limit").fill("100")
    await page.get_by_test_id("order-submit").click()
    await expect(page.get_by_test_id("order-form")).to_have_count(0)
    listed = await http.call("GET", f"/api/v1/clubs/{club['id']}/orders", token=asha.token)
    (order,) = listed.body["orders"]
    await page.reload()
    row = page.get_by_test_id(f"order-{order['id']}")
    await expect(row).to_contain_text("limit $100.00")
    await expect(row).not_to_contain_text("₹100.00")

    # Cancelled: the reason is a sentence on the desk and in the members' table.
    await page.get_by_test_id("desk-tab-orders").click()
    await page.get_by_test_id(f"desk-order-cancel-{order['id']}").click()
    await page.get_by_test_id(f"desk-order-cancel-confirm-{order['id']}").click()
    await expect(page.get_by_test_id(f"desk-order-reason-{order['id']}")).to_have_text(
        "Cancelled by the club."
    )
    await page.reload()
    await expect(page.get_by_test_id(f"order-reason-{order['id']}")).to_have_text(
        "Cancelled by the club."
    )
    await expect(page.get_by_text("cancelled_by_user")).to_have_count(0)
    await page.get_by_test_id("orders-panel").screenshot(
        path=str(artifacts / "clubs14g-orders-reason-desktop.png")
    )

    # An address the server would refuse is named.
    await page.get_by_test_id("invite-create").click()
    await page.get_by_test_id("invite-emails").fill("ravi@example.com, bala.example.com")
    await page.get_by_test_id("invite-mail").click()
    await expect(page.get_by_test_id("invite-mail-error")).to_contain_text(
        "“bala.example.com” is not an e-mail address"
    )

    # A refusal on the proposal form goes once the symbol is changed.
    await page.get_by_test_id("propose").click()
    await page.get_by_test_id("proposal-title").fill("Buy something unknown")
    await page.get_by_test_id("proposal-symbol").fill("ZZZZQ")
    await page.get_by_test_id("proposal-quantity").fill("1")
    await page.get_by_test_id("proposal-submit").click()
    form = page.get_by_test_id("new-proposal")
    await expect(form.get_by_test_id("error")).to_contain_text("ZZZZQ")
    await page.get_by_test_id("proposal-symbol").fill("TCS")
    await expect(form.get_by_test_id("error")).to_have_count(0)


async def test_a_valuation_moves_the_orders_header_nav_live_on_both_screens(
    http: Api, new_context: NewContext, payment_stack: SandboxClient, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    ravi = await person(http, new_context, "ravi", viewport=PHONE)
    club = await create_club(http, asha, "Live Header Club")  # INR
    club_id = club["id"]
    await join(http, ravi, await invite_url(http, asha, club_id))
    paid_on = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
    await pay_in(http, asha, club_id, "5000.00", payment_stack, paid_on)
    await open_room(asha.page, club_id)
    await open_room(ravi.page, club_id)
    for page in (asha.page, ravi.page):
        await expect(page.get_by_test_id("live-nav-value")).to_have_text("₹0.00")

    # The treasurer values the club: ₹5,000 buys 500 units at ₹10; no reload anywhere.
    await asha.page.get_by_test_id("desk-tab-value").click()
    yesterday = paid_on + dt.timedelta(days=1)
    await asha.page.get_by_test_id("valuation-date").fill(yesterday.isoformat())
    await asha.page.get_by_test_id("valuation-preview").click()
    await asha.page.get_by_test_id("valuation-confirm").click()
    await expect(asha.page.get_by_test_id("valuation-done")).to_contain_text("₹5,000.00")
    for page in (asha.page, ravi.page):
        header = page.get_by_test_id("orders-panel").locator(".live-nav")
        await expect(page.get_by_test_id("live-nav-value")).to_have_text("₹5,000.00")
        await expect(header).to_contain_text("unit ₹10.0000")

    # A dollar stock bought outside: the message says the price in dollars, and the positions
    # table fits its panel on a desktop.
    owner = asha.page
    await owner.get_by_test_id("desk-tab-trade").click()
    await owner.get_by_test_id("trade-symbol").fill("AAPL")
    await owner.get_by_test_id("trade-quantity").fill("2")
    await owner.get_by_test_id("trade-price").fill("1.00")
    await owner.get_by_test_id("trade-submit").click()
    await expect(owner.get_by_test_id("trade-done")).to_have_text(
        "Recorded: bought 2 AAPL at $1.00 a share."
    )
    await owner.get_by_test_id("desk-tab-value").click()
    # The holding is listed (its portfolio loaded) before the preview is asked for.
    await expect(owner.get_by_test_id("valuation-price-AAPL")).to_be_visible()
    await owner.get_by_test_id("valuation-price-AAPL").fill("1.00")
    await owner.get_by_test_id("valuation-preview").click()
    await expect(owner.get_by_test_id("preview-nav")).to_be_visible()
    await owner.get_by_test_id("valuation-confirm").click()
    await expect(owner.get_by_test_id("valuation-done")).to_be_visible()
    await owner.reload()
    table = owner.get_by_test_id("positions")
    await expect(owner.get_by_test_id("position-AAPL")).to_be_visible()
    wrap = table.locator("xpath=..")
    assert await wrap.evaluate("(el) => el.scrollWidth <= el.clientWidth"), "positions clipped"
    await owner.get_by_test_id("portfolio-panel").screenshot(
        path=str(artifacts / "clubs14g-positions-desktop.png")
    )
    await ravi.page.get_by_test_id("orders-panel").scroll_into_view_if_needed()
    await ravi.page.wait_for_timeout(300)
    await ravi.page.screenshot(
        path=str(artifacts / "clubs14g-orders-nav-after-valuation-phone.png")
    )


async def test_the_dues_grid_opens_at_the_current_month_on_a_phone(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha", viewport=PHONE)
    ravi = await person(http, new_context, "ravi")
    club = await create_club(http, asha, "Amla Phone Savers")
    await join(http, ravi, await invite_url(http, asha, club["id"]))
    page = asha.page
    await open_room(page, club["id"])
    await page.get_by_test_id("desk-tab-rules").click()
    await page.get_by_test_id("rules-dues").fill("500")
    await page.get_by_test_id("rules-dues-day").fill("10")
    await page.get_by_test_id("rules-dues-grace").fill("3")
    await page.get_by_test_id("rules-save").click()
    await expect(page.get_by_test_id("rules-saved")).to_be_visible()
    await page.get_by_test_id("desk-tab-dues").click()
    month = dt.datetime.now(dt.UTC).date().strftime("%Y-%m")
    head = page.locator(f'[data-testid="dues-grid"] th[data-month="{month}"]')
    await expect(head).to_be_visible()
    box = page.get_by_test_id("dues-grid-scroll")
    assert await box.evaluate("(el) => el.scrollWidth > el.clientWidth"), "the grid fits anyway"
    await page.wait_for_timeout(200)
    inside = await head.evaluate(
        """(th) => {
            const box = th.closest('[data-testid="dues-grid-scroll"]').getBoundingClientRect();
            const r = th.getBoundingClientRect();
            return r.left >= box.left - 1 && r.right <= box.right + 1;
        }"""
    )
    assert inside, "the current month is scrolled out of view"
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.get_by_test_id("dues-desk").scroll_into_view_if_needed()
    await page.wait_for_timeout(200)
    await page.screenshot(path=str(artifacts / "clubs14g-dues-grid-phone.png"))


async def test_a_rules_proposal_carries_the_fee_and_the_dues_terms(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    club = await create_club(http, asha, "Vote The Fees")
    page = asha.page
    await open_room(page, club["id"])
    await page.get_by_test_id("desk-tab-rules").click()
    await page.get_by_test_id("rules-by").select_option("vote")
    await page.get_by_test_id("rules-save").click()
    await expect(page.get_by_test_id("desk-rules-by-vote")).to_be_visible()

    await page.get_by_test_id("propose").click()
    await page.get_by_test_id("proposal-kind").select_option("rules")
    await page.get_by_test_id("proposal-title").fill("Fees and dues")
    await page.get_by_test_id("proposal-rules-fee").fill("25")
    await page.get_by_test_id("proposal-submit").click()
    form = page.get_by_test_id("new-proposal")
    await expect(form.get_by_test_id("error")).to_contain_text(
        "The withdrawal fee is a percentage between 0 and 20."
    )
    await page.get_by_test_id("proposal-rules-fee").fill("1.5")
    await page.get_by_test_id("proposal-rules-dues").fill("five hundred")
    await page.get_by_test_id("proposal-submit").click()
    await expect(form.get_by_test_id("error")).to_contain_text(
        "Enter the dues and the late fee like 500.00 (0 for none)."
    )
    await page.get_by_test_id("proposal-rules-dues").fill("500")
    await page.get_by_test_id("proposal-rules-dues-day").fill("10")
    await page.get_by_test_id("proposal-rules-dues-grace").fill("4")
    await page.get_by_test_id("proposal-rules-dues-late-fee").fill("25")
    await form.screenshot(path=str(artifacts / "clubs14g-rules-proposal-desktop.png"))
    await page.get_by_test_id("proposal-submit").click()
    card = page.locator('[data-testid^="proposal-"][data-title="Fees and dues"]')
    await expect(card).to_be_visible()
    listed = await http.call("GET", f"/api/v1/clubs/{club['id']}/proposals", token=asha.token)
    (proposal,) = [p for p in listed.body["proposals"] if p["title"] == "Fees and dues"]
    assert proposal["rules"] == {
        "withdrawal_fee_bps": 150, "dues_amount": "500.00", "dues_day": 10,
        "dues_grace_days": 4, "dues_late_fee": "25.00",
    }, proposal["rules"]  # fmt: skip

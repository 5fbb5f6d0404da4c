"""Robo-advice in Chromium: a member takes the risk questionnaire and gets a recommendation
with its efficient frontier (desktop and phone); a club's owner sets the club's targets, previews
the rebalance and turns it into proposals, a member votes on screen, the approved proposals
become orders, and a drift alert arrives live on the portfolio page. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.advisory.advisors import advisor_service
from app.advisory.service import advisory_service
from app.books.service import books_service
from app.clubs.service import club_service
from app.extensions import Services
from app.identity import directory
from app.identity.documents import PlatformRole
from app.identity.signup import do_provision_user
from tests.advisory.factories import MODERATE
from tests.clubs.factories import paid_contribution
from tests.identity.conftest import Api
from tests.web.conftest import PHONE, NewContext, invite_url, join, open_room, person, sign_in

pytestmark = pytest.mark.browser


async def answer(page: Page, answers: dict[str, str]) -> None:
    for question, option in answers.items():
        await page.get_by_test_id(f"answer-{question}-{option}").check()


async def test_a_member_takes_the_questionnaire_and_gets_a_recommendation(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    page = asha.page
    await page.get_by_test_id("nav-advice").click()
    await expect(page.get_by_test_id("questionnaire")).to_be_visible()
    submit = page.get_by_test_id("questionnaire-submit")
    await expect(submit).to_be_disabled()
    await answer(page, {k: v for k, v in MODERATE.items() if k != "goal"})
    await expect(submit).to_have_text("Answer 1 more")
    await answer(page, {"goal": MODERATE["goal"]})
    await submit.click()
    await expect(page.get_by_test_id("profile")).to_have_attribute("data-profile", "moderate")
    await expect(page.get_by_test_id("profile-name")).to_have_text("Moderate")
    # A retake can be cancelled; the radios sit beside their labels on a desktop.
    await page.get_by_test_id("retake").click()
    radio = page.get_by_test_id(f"answer-goal-{MODERATE['goal']}")
    box = await radio.bounding_box()
    assert box is not None and box["width"] < 40, f"a radio {box} as wide as a text field"
    await page.get_by_test_id("retake-cancel").click()
    await expect(page.get_by_test_id("profile")).to_have_attribute("data-profile", "moderate")
    await expect(page.get_by_test_id("questionnaire")).to_have_count(0)

    await page.get_by_test_id("recommend").click()
    recommendation = page.get_by_test_id("recommendation")
    await expect(recommendation).to_have_attribute("data-objective", "max_sharpe", timeout=60_000)
    await expect(page.get_by_test_id("recommendation-strategy")).to_have_text("Balanced")
    points = await page.get_by_test_id("frontier-chart").get_attribute("data-points")
    assert points is not None and int(points) >= 10
    rows = page.locator('[data-testid="recommendation-weights"] tbody tr')
    assert await rows.count() >= 4
    # Weights are the API's percentages; at most 25 % in one holding for a moderate profile.
    shown = [float((await rows.nth(i).locator("td").inner_text()).rstrip("%"))
             for i in range(await rows.count())]  # fmt: skip
    assert max(shown) <= 25.0 and abs(sum(shown) - 100) < 0.05
    await page.screenshot(path=str(artifacts / "advisory-recommendation-desktop.png"),
                          full_page=True)  # fmt: skip

    # A verified advisor publishes a strategy and offers a time: Asha books it on screen.
    adviser = await do_provision_user(email=f"adviser-{uuid.uuid4().hex[:8]}@example.com",
                                      password="Adviser-pass-2026", full_name="Adviser",
                                      roles=[PlatformRole.ADVISOR])  # fmt: skip
    await directory.do_set_kyc_status(str(adviser.id), "verified")
    strategy = await advisor_service.do_publish_strategy(
        str(adviser.id),
        "Staples income",
        "Steady dividends from companies people buy from "
        "every week, held for the long run and rebalanced when they drift.",
        {"KO": 5_000, "PEP": 5_000},
    )
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    far = start + dt.timedelta(days=400)  # next year: shown with its year
    await advisor_service.do_offer_slots(str(adviser.id), [start, start + dt.timedelta(hours=1),
                                                           far])  # fmt: skip
    # Her own account, allowed 50 % in one holding, follows the strategy on screen.
    opened = await http.call("POST", "/api/v1/portfolios", token=asha.token,
                             json={"name": "Asha's own"})  # fmt: skip
    own = opened.body["account_id"]
    r = await http.call("PATCH", f"/api/v1/portfolios/{own}/policy", token=asha.token,
                        json={"max_weight_bps": 5000})  # fmt: skip
    assert r.status == 200, r.body
    await page.reload()
    await page.get_by_test_id(f"slots-{strategy.id}").click()
    await page.locator('[data-testid="slots"] button').first.click()
    await expect(page.get_by_test_id("advisor-done")).to_contain_text("Booked")
    await expect(page.locator('[data-testid="my-bookings"] li')).to_have_count(1)
    await page.get_by_test_id(f"follow-{strategy.id}-{own}").click()
    await expect(page.get_by_test_id(f"following-{strategy.id}-{own}")).to_be_visible()
    await expect(page.get_by_test_id(f"followers-{strategy.id}")).to_have_text("1 following")
    await page.get_by_test_id("strategies-panel").screenshot(
        path=str(artifacts / "advisory-advisor-booking-desktop.png")
    )

    # The same person on a phone: the profile and the recommendation are kept.
    phone = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(phone, asha.account)
    await phone.goto("/advice")
    await expect(phone.get_by_test_id("recommendation")).to_be_visible()
    await expect(phone.get_by_test_id("profile-name")).to_have_text("Moderate")
    # The strategy reads as text on a phone (not a letter per line); its times fit the screen
    # and a far one shows its year.
    await expect(phone.get_by_test_id(f"following-{strategy.id}-{own}")).to_be_visible()
    described = phone.get_by_test_id(f"strategy-{strategy.id}").get_by_text("Steady dividends")
    dbox = await described.bounding_box()
    assert dbox is not None and dbox["width"] > 250 and dbox["height"] < 120, dbox
    await phone.get_by_test_id(f"slots-{strategy.id}").click()
    buttons = phone.locator('[data-testid="slots"] button')
    await expect(buttons).to_have_count(2)
    await expect(buttons.last).to_contain_text(str(far.year))
    for i in range(2):
        b = await buttons.nth(i).bounding_box()
        assert b is not None and b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"], b
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width}px)"
    await phone.screenshot(path=str(artifacts / "advisory-recommendation-phone.png"),
                           full_page=True)  # fmt: skip


async def test_a_club_turns_a_rebalance_into_one_proposal_and_sends_it_after_the_vote(
    http: Api, new_context: NewContext, services: Services, artifacts: Path
) -> None:
    ravi = await person(http, new_context, "ravi")
    meera = await person(http, new_context, "meera", viewport=PHONE)
    body = {"name": "Banyan Advice Club", "description": "US blue chips", "currency": "USD"}
    reply = await http.call("POST", "/api/v1/clubs", token=ravi.token, json=body)
    assert reply.status == 201, reply.body
    club_id = str(reply.body["id"])
    await join(http, meera, await invite_url(http, ravi, club_id))
    reply = await http.call("POST", "/api/v1/advisory/risk-profile", token=ravi.token,
                            json={"answers": MODERATE})  # fmt: skip
    assert reply.status == 201, reply.body

    # The owner sets the club's policy on screen: at most 30 % in one holding, never WMT.
    page = ravi.page
    await page.goto(f"/advice/{club_id}")
    await expect(page.get_by_test_id("no-targets")).to_be_visible()
    await page.get_by_test_id("policy-max-weight").fill("30")
    await page.get_by_test_id("policy-excluded").fill("wmt")
    await page.get_by_test_id("policy-profile").select_option("moderate")
    await page.get_by_test_id("policy-save").click()
    await expect(page.get_by_test_id("policy-saved")).to_be_visible()
    policy = await http.call("GET", f"/api/v1/portfolios/{club_id}", token=meera.token)
    assert policy.body["max_weight_pct"] == "30.00" and policy.body["excluded"] == ["WMT"]
    assert policy.body["band_pct"] == "5.00"  # untouched fields stay
    # A member sees no policy controls.
    await meera.page.goto(f"/advice/{club_id}")
    await expect(meera.page.get_by_test_id("portfolio")).to_be_visible()
    await expect(meera.page.get_by_test_id("policy-panel")).to_have_count(0)

    # Nothing paid in yet: no "On target", no trades — there is no cash to invest.
    await page.get_by_test_id("adopt").click()
    await expect(page.get_by_test_id("recommendation")).to_be_visible(timeout=60_000)
    await expect(page.get_by_test_id("no-cash")).to_have_text("No cash to invest yet")
    await expect(page.get_by_test_id("on-target")).to_have_count(0)
    await page.get_by_test_id("rebalance-preview").click()
    await expect(page.get_by_test_id("rebalance-panel")).to_contain_text("no cash to invest")
    targets = (await http.call("GET", f"/api/v1/portfolios/{club_id}",
                               token=ravi.token)).body["targets"]  # fmt: skip
    assert "WMT" not in targets and max(float(v) for v in targets.values()) <= 30.0

    club, _ = await club_service.check_member(club_id, ravi.id)
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, ravi.id, 500_000, today)  # $5,000.00
    await books_service.do_record_valuation(club_id, ravi.id, valuation_date=today,
                                            prices={})  # fmt: skip
    await page.reload()
    await expect(page.get_by_test_id("drifted")).to_be_visible()  # all cash: off target
    await expect(page.get_by_test_id("drift-now")).to_be_visible()

    # The drift check (the worker's timer, run here at once) reaches the open page live.
    told = await advisory_service.do_check_drift(services.require_redis())
    assert told >= 1
    await expect(page.get_by_test_id("drift-alert")).to_contain_text("Drift alert")

    await page.get_by_test_id("rebalance-preview").click()
    trades = page.locator('[data-testid="trades"] tbody tr')
    await expect(trades.first).to_be_visible(timeout=30_000)
    count = await trades.count()
    assert count >= 3
    assert await page.locator('[data-testid="trades"] tr[data-side="sell"]').count() == 0
    await page.get_by_test_id("rebalance-execute").click()
    await expect(page.get_by_test_id("run-state")).to_have_attribute("data-status", "voting")
    await expect(page.get_by_test_id("rebalance-proposed")).to_be_visible()
    await expect(page.get_by_test_id("rebalance-execute")).to_have_count(0)  # once
    await page.screenshot(path=str(artifacts / "advisory-club-rebalance-desktop.png"),
                          full_page=True)  # fmt: skip

    # Meera (on a phone) sees ONE proposal for the whole rebalance and votes on screen.
    await open_room(meera.page, club_id)
    proposals = meera.page.locator(
        '[data-testid^="proposal-"][data-title^="Rebalance the portfolio"]')  # fmt: skip
    await expect(proposals).to_have_count(1, timeout=20_000)
    listed = await http.call("GET", f"/api/v1/clubs/{club_id}/proposals", token=ravi.token)
    [proposal] = listed.body["proposals"]
    pid = proposal["id"]
    assert proposal["description"].count("at a limit of") == count
    await meera.page.get_by_test_id(f"vote-yes-{pid}").click()
    await expect(meera.page.get_by_test_id(f"my-vote-{pid}")).to_contain_text("yes", timeout=30_000)
    r = await http.call("POST", f"/api/v1/proposals/{pid}/votes", token=ravi.token,
                        json={"choice": "yes"})  # fmt: skip
    assert r.status in (200, 201), r.body
    r = await http.call("POST", f"/api/v1/proposals/{pid}/close", token=ravi.token)
    assert r.status == 200 and r.body["status"] == "approved", r.body
    await expect(meera.page.get_by_test_id(f"outcome-{pid}")).to_have_text("Approved")
    await meera.page.screenshot(path=str(artifacts / "advisory-club-vote-phone.png"),
                                full_page=True)  # fmt: skip

    # The advice page learns of the vote live; the owner sends the orders from there.
    await expect(page.get_by_test_id("run-state")).to_have_attribute(
        "data-status", "approved", timeout=20_000)  # fmt: skip
    await page.get_by_test_id("rebalance-send").click()
    await expect(page.get_by_test_id("run-state")).to_have_attribute("data-status", "buying")
    # The buys may be placed by whichever process advanced the run first (the worker's timer,
    # a read of the runs); one that died meanwhile leaves them to the next after its lease.
    await expect(page.get_by_test_id("rebalance-ordered")).to_contain_text(
        f"{count} orders", timeout=45_000)  # fmt: skip
    rows = page.locator('[data-testid="orders"] tbody tr')
    await expect(rows).to_have_count(count)
    orders = await http.call("GET", f"/api/v1/clubs/{club_id}/orders", token=meera.token)
    assert len(orders.body["orders"]) == count
    assert {o["kind"] for o in orders.body["orders"]} == {"limit"}
    assert {o["status"] for o in orders.body["orders"]} <= {"submitted", "accepted"}
    again = await http.call("POST", f"/api/v1/portfolios/{club_id}/rebalance",
                            token=ravi.token, json={})  # fmt: skip
    assert again.status == 201 and again.body["trades"] == []  # the waiting orders count
    await page.screenshot(path=str(artifacts / "advisory-club-sent-desktop.png"),
                          full_page=True)  # fmt: skip

    await page.set_viewport_size(PHONE)
    await page.reload()
    await expect(page.get_by_test_id("holdings")).to_be_visible()
    await expect(page.get_by_test_id("run-state")).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width}px)"
    await page.screenshot(path=str(artifacts / "advisory-club-portfolio-phone.png"),
                          full_page=True)  # fmt: skip

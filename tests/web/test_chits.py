"""A chit auction in Chromium: an admin approves the scheme, a subscriber joins from the open
list, then the foreman opens month 2's auction and two subscribers bid live from two browsers
(one phone-sized); a refused bid reads as a sentence; everyone sees the bids in order and the
same result with its arithmetic. Screenshots (desktop and phone) go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.chits.service import Actor, chit_service
from app.identity.documents import PlatformRole
from tests.chits.factories import kyc_verified, pay, settings
from tests.identity.conftest import Api, provision
from tests.payments.sandbox_client import SandboxClient
from tests.web.conftest import DESKTOP, PHONE, NewContext, Person, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]


async def chit_person(http: Api, new_context: NewContext, tag: str, *roles: PlatformRole,
                      viewport: dict[str, int] | None = None) -> tuple[Person, Actor]:  # fmt: skip
    account = await provision(list(roles) or None, tag=tag)
    await kyc_verified(account.user_id)
    tokens = await http.tokens(account)
    page = await (await new_context(viewport=viewport or DESKTOP)).new_page()
    await sign_in(page, account)
    return Person(account, tokens["access_token"], page), Actor(
        account.user_id, tuple(roles) or (PlatformRole.USER,))  # fmt: skip


async def bid(page: Page, amount: str) -> None:
    await page.get_by_test_id("bid-input").fill(amount)
    await page.get_by_test_id("bid-submit").click()


async def test_foreman_and_two_subscribers_run_an_auction(
    http: Api, new_context: NewContext, payment_sandbox: SandboxClient, artifacts: Path
) -> None:
    boss, boss_actor = await chit_person(http, new_context, "foreman", PlatformRole.USER,
                                         PlatformRole.FOREMAN)  # fmt: skip
    root, _ = await chit_person(http, new_context, "admin", PlatformRole.USER, PlatformRole.ADMIN)
    asha, asha_actor = await chit_person(http, new_context, "asha")
    ravi, ravi_actor = await chit_person(http, new_context, "ravi", viewport=PHONE)
    # ₹30,000 over 3 × ₹10,000; commission 5 % = ₹1,500 = the minimum bid; step ₹500.
    scheme = await chit_service.do_create_scheme(boss_actor, settings(
        name="Mango Grove Chit", subscribers=3, chit_amount="30000.00", min_bid="1500.00",
        max_discount="9000.00", start_date="2030-01-01", extension_seconds=5, auction_minutes=1,
    ))  # fmt: skip
    sid = str(scheme.id)
    await chit_service.do_submit(sid, boss_actor)

    # the admin approves it in the browser
    await root.page.goto("/chits")
    await root.page.get_by_test_id(f"approve-{sid}").click()
    await expect(root.page.get_by_test_id(f"pending-{sid}")).to_have_count(0)
    # Asha joins from the list of open schemes; Ravi through the API
    await asha.page.goto("/chits")
    await asha.page.get_by_test_id(f"join-{sid}").click()
    await expect(asha.page.get_by_test_id("scheme-screen")).to_be_visible()
    reply = await http.call("POST", "/api/v1/subscriptions", json={"scheme_id": sid},
                            token=ravi.token)  # fmt: skip
    assert reply.status == 201, reply.body
    subs = await chit_service.subscribers(sid, boss_actor)
    actors = {1: boss_actor, 2: asha_actor, 3: ravi_actor}
    # month 1 (the foreman's) paid and closed; month 2's dues paid (sandbox checkouts)
    import datetime as dt

    for sub in subs:
        await pay(sub, actors[sub.ticket], dt.datetime(2030, 1, 9, tzinfo=dt.UTC))
    first = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert first is not None
    await chit_service.do_close_auction(str(first.id), first.ends_at)
    for sub in subs:
        await pay(sub, actors[sub.ticket], dt.datetime(2030, 2, 9, tzinfo=dt.UTC))

    for who in (boss, asha, ravi):
        await who.page.goto(f"/chits/{sid}")
        await expect(who.page.get_by_test_id("auction-room")).to_be_visible()
    await expect(boss.page.get_by_test_id("foreman-console")).to_be_visible()
    await expect(asha.page.get_by_test_id("my-eligibility")).to_have_attribute("data-eligible",
                                                                               "true")  # fmt: skip
    await boss.page.get_by_test_id("start-auction").click()
    for who in (asha, ravi):
        await expect(who.page.locator('[data-testid="auction-live"][data-open="true"]')
                     ).to_be_visible()  # fmt: skip

    # a refused bid reads as a sentence
    await bid(asha.page, "1200")
    await expect(asha.page.get_by_test_id("bid-error")).to_contain_text("below the minimum bid")
    await expect(asha.page.get_by_test_id("bid-error")).to_have_attribute(
        "data-code", "bid_below_minimum")  # fmt: skip
    await bid(asha.page, "2000")
    await expect(ravi.page.get_by_test_id("bid-row")).to_have_count(1)
    await expect(ravi.page.get_by_test_id("best-bid")).to_contain_text("₹2,000.00")
    await bid(ravi.page, "3500")
    await expect(asha.page.get_by_test_id("bid-row")).to_have_count(2)
    await bid(asha.page, "3500")
    await expect(asha.page.get_by_test_id("bid-error")).to_contain_text(
        "The best bid is ₹3,500.00 and bids move in steps of ₹500.00: bid at least ₹4,000.00"
    )
    await expect(boss.page.get_by_test_id("bid-row")).to_have_count(2)
    rows = [await r.inner_text() for r in await boss.page.get_by_test_id("bid-row").all()]
    assert "ticket 2" in rows[0] and "₹2,000.00" in rows[0]
    assert "ticket 3" in rows[1] and "₹3,500.00" in rows[1]
    await asha.page.screenshot(
        path=str(artifacts / "chits-auction-live-desktop.png"), full_page=True
    )
    await ravi.page.screenshot(path=str(artifacts / "chits-auction-live-phone.png"), full_page=True)

    # the worker closes it at its end (a minute after it opened); everyone sees the result
    for who in (boss, asha, ravi):
        await expect(who.page.get_by_test_id("auction-result")).to_have_attribute(
            "data-winner", "3", timeout=120_000)  # fmt: skip
    # ₹3,500 discount: commission ₹1,500, ₹2,000 shared by 3 → ₹666.67, ₹666.67, ₹666.66
    # (largest remainder, tickets in order); Ravi holds ticket 3
    await expect(ravi.page.get_by_test_id("result-prize")).to_have_text("₹26,500.00")
    await expect(ravi.page.get_by_test_id("result-share")).to_have_text("₹666.66")
    await expect(ravi.page.get_by_test_id("result-net")).to_have_text("₹9,333.34")
    await expect(asha.page.get_by_test_id("result-share")).to_have_text("₹666.67")
    await expect(ravi.page.get_by_test_id("my-balance")).to_contain_text("₹9,333.34")
    await expect(boss.page.get_by_test_id("commission-earned")).to_contain_text("₹1,500.00")
    await boss.page.screenshot(path=str(artifacts / "chits-foreman-console-desktop.png"),
                               full_page=True)  # fmt: skip
    await ravi.page.screenshot(path=str(artifacts / "chits-result-phone.png"), full_page=True)
    await asha.page.goto("/chits")
    await expect(asha.page.get_by_test_id("chit-score-value")).to_be_visible()
    await asha.page.screenshot(path=str(artifacts / "chits-home-desktop.png"), full_page=True)

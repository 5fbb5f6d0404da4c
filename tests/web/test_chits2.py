"""Chit screens in Chromium beyond the auction (tests/web/test_chits.py): a subscriber's
passbook shows every column on a desktop and reads as cards on a phone, without sideways
scrolling; the foreman pays a prize through the payout provider (refused once, then retried)
and downloads the auction minutes as PDF; a subscriber verifies a mobile number for SMS
reminders with the code the SMS sandbox received. Screenshots (desktop and phone) go to
test-artifacts/."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.chits.service import Actor, chit_service
from app.identity.documents import PlatformRole
from tests.chits.factories import kyc_verified, pay, settings
from tests.chits.sms import SmsSandbox, sms_sandbox
from tests.identity.conftest import Api, provision
from tests.payments.sandbox_client import SandboxClient
from tests.web.conftest import DESKTOP, PHONE, NewContext, Person, sign_in

__all__ = ["sms_sandbox"]

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

COLUMNS = ["Month", "Due", "Paid", "Dividend", "Penalty", "Prize", "Balance"]


async def chit_person(http: Api, new_context: NewContext, tag: str, *roles: PlatformRole,
                      viewport: dict[str, int] | None = None) -> tuple[Person, Actor]:  # fmt: skip
    account = await provision(list(roles) or None, tag=tag)
    await kyc_verified(account.user_id)
    tokens = await http.tokens(account)
    page = await (await new_context(viewport=viewport or DESKTOP)).new_page()
    await sign_in(page, account)
    return Person(account, tokens["access_token"], page), Actor(
        account.user_id, tuple(roles) or (PlatformRole.USER,))  # fmt: skip


async def overflows(page: Page, test_id: str) -> bool:
    """Whether the element scrolls sideways (its content is wider than its box)."""
    return bool(await page.get_by_test_id(test_id).evaluate(
        "el => el.scrollWidth > el.clientWidth + 1"))  # fmt: skip


async def test_passbook_fits_on_desktop_and_phone(
    http: Api, new_context: NewContext, payment_sandbox: SandboxClient, artifacts: Path
) -> None:
    boss, boss_actor = await chit_person(http, new_context, "foreman", PlatformRole.USER,
                                         PlatformRole.FOREMAN)  # fmt: skip
    root = Actor((await provision([PlatformRole.USER, PlatformRole.ADMIN], tag="admin")).user_id,
                 (PlatformRole.USER, PlatformRole.ADMIN))  # fmt: skip
    asha, asha_actor = await chit_person(http, new_context, "asha")
    ravi, ravi_actor = await chit_person(http, new_context, "ravi", viewport=PHONE)
    scheme = await chit_service.do_create_scheme(boss_actor, settings(
        name="Passbook Chit", subscribers=3, chit_amount="30000.00", min_bid="1500.00",
        max_discount="9000.00", start_date="2030-01-01",
    ))  # fmt: skip
    sid = str(scheme.id)
    await chit_service.do_submit(sid, boss_actor)
    await chit_service.do_decide(sid, root, True, "")
    await chit_service.do_subscribe(sid, asha_actor)
    await chit_service.do_subscribe(sid, ravi_actor)
    subs = await chit_service.subscribers(sid, boss_actor)
    actors = {1: boss_actor, 2: asha_actor, 3: ravi_actor}
    for sub in subs:
        await pay(sub, actors[sub.ticket], dt.datetime(2030, 1, 9, tzinfo=dt.UTC))
    first = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert first is not None
    await chit_service.do_close_auction(str(first.id), first.ends_at)

    for who in (asha, ravi):
        await who.page.goto(f"/chits/{sid}")
        await expect(who.page.get_by_test_id("passbook-row")).to_have_count(2)
    # desktop: all seven headers visible, nothing scrolls sideways
    for title in COLUMNS:
        await expect(asha.page.get_by_test_id("passbook").get_by_role(
            "columnheader", name=title, exact=True)).to_be_visible()  # fmt: skip
    assert not await overflows(asha.page, "passbook-wrap")
    month1 = asha.page.locator('[data-testid="passbook-row"][data-month="1"]')
    await expect(month1.get_by_test_id("passbook-balance")).to_be_visible()
    await expect(month1.get_by_test_id("passbook-paid")).to_have_text("₹10,000.00")
    await asha.page.screenshot(path=str(artifacts / "chits-passbook-desktop.png"), full_page=True)
    # phone: each month a card of labelled amounts, no sideways scrolling either
    assert not await overflows(ravi.page, "passbook-wrap")
    row = ravi.page.locator('[data-testid="passbook-row"][data-month="2"]')
    await expect(row.get_by_test_id("passbook-balance")).to_be_visible()
    await expect(row.get_by_test_id("passbook-due")).to_have_text("₹10,000.00")
    await ravi.page.get_by_test_id("passbook-panel").scroll_into_view_if_needed()
    await ravi.page.screenshot(path=str(artifacts / "chits-passbook-phone.png"), full_page=True)
    await boss.page.close()


async def test_prize_payout_minutes_pdf_and_sms_phone(
    http: Api, new_context: NewContext, payment_sandbox: SandboxClient, sms_sandbox: SmsSandbox,
    artifacts: Path,
) -> None:  # fmt: skip
    boss, boss_actor = await chit_person(http, new_context, "foreman", PlatformRole.USER,
                                         PlatformRole.FOREMAN)  # fmt: skip
    root = Actor((await provision([PlatformRole.USER, PlatformRole.ADMIN], tag="admin")).user_id,
                 (PlatformRole.USER, PlatformRole.ADMIN))  # fmt: skip
    asha, asha_actor = await chit_person(http, new_context, "asha", viewport=PHONE)
    ravi_actor = Actor((await provision(tag="ravi")).user_id)
    await kyc_verified(ravi_actor.user_id)
    scheme = await chit_service.do_create_scheme(boss_actor, settings(
        name="Payout Chit", subscribers=3, chit_amount="30000.00", min_bid="1500.00",
        max_discount="9000.00", start_date="2030-01-01",
    ))  # fmt: skip
    sid = str(scheme.id)
    await chit_service.do_submit(sid, boss_actor)
    await chit_service.do_decide(sid, root, True, "")
    await chit_service.do_subscribe(sid, asha_actor)
    await chit_service.do_subscribe(sid, ravi_actor)
    subs = await chit_service.subscribers(sid, boss_actor)
    actors = {1: boss_actor, 2: asha_actor, 3: ravi_actor}
    for sub in subs:
        await pay(sub, actors[sub.ticket], dt.datetime(2030, 1, 9, tzinfo=dt.UTC))
    first = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert first is not None
    await chit_service.do_close_auction(str(first.id), first.ends_at)

    # the payout provider refuses the first payout: FAILED with its reason, then a retry pays
    await payment_sandbox.call("POST", "/sandbox/payouts/control", {"reject_next": 1})
    page = boss.page
    await page.goto(f"/chits/{sid}")
    await page.get_by_test_id("payout-1").click()
    await expect(page.get_by_test_id("prize-1")).to_have_attribute("data-status", "FAILED")
    await expect(page.get_by_test_id("payout-error-1")).to_contain_text("balance")
    await page.get_by_test_id("payout-retry-1").click()
    await expect(page.get_by_test_id("prize-1")).to_have_attribute("data-status", "COMPLETED")
    await expect(page.get_by_test_id("payout-status-1")).to_contain_text("₹30,000.00")
    await expect(page.get_by_test_id("payout-status-1")).to_contain_text("pout_")
    # the month's minutes as PDF, built by the report agent
    await page.get_by_test_id("report-ask-chit_auction_minutes-1").click()
    link = page.get_by_test_id("report-link-chit_auction_minutes-1")
    await expect(link).to_be_visible(timeout=60_000)
    reply = await http.call("GET", str(await link.get_attribute("href")))
    assert reply.status == 200 and bytes(reply.body).startswith(b"%PDF")
    await page.get_by_test_id("foreman-console").scroll_into_view_if_needed()
    await page.screenshot(path=str(artifacts / "chits-prize-payout-desktop.png"), full_page=True)

    # Asha (on a phone) verifies her mobile number with the code sent by SMS
    await asha.page.goto("/chits")
    await asha.page.get_by_test_id("phone-input").fill("12345")
    await asha.page.get_by_test_id("phone-send").click()
    await expect(asha.page.get_by_test_id("phone-error")).to_contain_text("Indian mobile number")
    mobile = f"98{random.randrange(10**8):08d}"
    await asha.page.get_by_test_id("phone-input").fill(f"{mobile[:5]} {mobile[5:]}")
    await asha.page.get_by_test_id("phone-send").click()
    sent = await sms_sandbox.wait_for(f"91{mobile}", 1)
    assert sent, "no code was sent"
    await asha.page.get_by_test_id("code-input").fill(sent[-1]["variables"]["VAR1"])
    await asha.page.get_by_test_id("code-confirm").click()
    await expect(asha.page.get_by_test_id("phone-status")).to_have_attribute("data-verified",
                                                                             "true")  # fmt: skip
    await expect(asha.page.get_by_test_id("phone-status")).to_contain_text(f"+91{mobile}")
    await asha.page.screenshot(path=str(artifacts / "chits-sms-phone.png"), full_page=True)

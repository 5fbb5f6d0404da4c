"""A personal advisory account's room, in Chromium (issue #17): a club of one shows none of a
club's panels (chat, votes, members, invites, the treasurer's desk, dues, next steps) but a
portfolio card — holdings and cash valued at the live quotes, the return on what was paid in,
the link to the account's advice page, and its orders. Desktop and phone (390 px); screenshots
in test-artifacts/. On its advice page, the performance panel's period choice (1M … since start)
shows the API's figures for that period."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.advisory import repository
from app.books.service import books_service
from app.clubs.service import club_service
from app.extensions import Services
from app.money import parse_minor
from app.orders.documents import OrderSide
from streams.producer import EventProducer
from tests.advisory.factories import filled
from tests.clubs.factories import paid_contribution
from tests.identity.conftest import Api
from tests.web.conftest import PHONE, NewContext, person, replay, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SYMBOL = "PG"  # no other browser test replays it before 2012-06-18 (this file sorts first)
SHARES = 20
COST = 6_500  # cents a share
FEE = 100  # the crafted fill's fee (tests/advisory/factories.py)
PAID_IN = 1_000_000
CLUB_ONLY = ["chat-panel", "proposals-panel", "members-panel", "invite-create", "desk-panel",
             "capital-panel", "next-steps", "quotes-panel", "alerts-panel"]  # fmt: skip


async def no_club_panels(page: Page) -> None:
    for test_id in CLUB_ONLY:
        await expect(page.get_by_test_id(test_id)).to_have_count(0)


async def total_minor(page: Page) -> int:
    return int(await page.get_by_test_id("personal-total").get_attribute("data-minor") or "-1")


async def test_a_personal_account_room_is_a_portfolio_card(
    http: Api, new_context: NewContext, producer: EventProducer, services: Services,
    artifacts: Path,
) -> None:  # fmt: skip
    asha = await person(http, new_context, "asha")
    opened = await http.call("POST", "/api/v1/portfolios", token=asha.token,
                             json={"name": "Asha's own"})  # fmt: skip
    assert opened.status == 201, opened.body
    account_id = str(opened.body["account_id"])
    club, _ = await club_service.check_member(account_id, asha.id)
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, asha.id, PAID_IN, today)
    await books_service.do_record_valuation(account_id, asha.id, valuation_date=today, prices={})
    await filled(account_id, asha.id, OrderSide.BUY, SYMBOL, SHARES, COST, "2012-05-18",
                 services.require_redis())  # fmt: skip
    cash = PAID_IN - SHARES * COST - FEE

    page = asha.page
    await page.goto(f"/clubs/{account_id}")
    room = page.locator('[data-testid="club-room"][data-personal="true"][data-phase="live"]')
    await expect(room).to_be_visible()
    # The top bar says where this is: Advice, not Clubs.
    await expect(page.get_by_test_id("nav-advice")).to_have_class(re.compile(r"\bactive\b"))
    await expect(page.get_by_test_id("nav-clubs")).not_to_have_class(re.compile(r"\bactive\b"))
    await expect(page.get_by_test_id("personal-card")).to_be_visible()
    await no_club_panels(page)
    link = page.get_by_test_id("personal-advice-link")
    await expect(link).to_have_attribute("href", f"/advice/{account_id}")
    await expect(page.get_by_test_id(f"personal-holding-{SYMBOL}")).to_contain_text(
        f"{SHARES} shares")  # fmt: skip
    # Its orders: the one buy, filled.
    await expect(
        page.locator(f'[data-testid="order-{SYMBOL}"][data-status="filled"]')
    ).to_be_visible()

    # Valued as the server values it until a tick arrives: cash + shares × price.
    held = await http.call("GET", f"/api/v1/portfolios/{account_id}/holdings", token=asha.token)
    assert held.status == 200, held.body
    assert parse_minor(held.body["cash"]) == cash
    await expect(page.get_by_test_id("personal-total")).to_have_attribute(
        "data-minor", str(parse_minor(held.body["total"])))  # fmt: skip

    # The market moves: the card values the shares at the live quote, and the return with it.
    last = parse_minor(await replay(producer, SYMBOL, dt.date(2012, 5, 21), 3))
    await expect(page.get_by_test_id(f"personal-holding-{SYMBOL}")).to_have_attribute(
        "data-live", "true", timeout=20_000)  # fmt: skip
    expected = cash + SHARES * last
    await expect(page.get_by_test_id("personal-total")).to_have_attribute(
        "data-minor", str(expected), timeout=20_000)  # fmt: skip
    gain = expected - PAID_IN
    sign = "-" if gain < 0 else ""
    await expect(page.get_by_test_id("personal-return")).to_have_attribute(
        "data-gain", f"{sign}{abs(gain) // 100}.{abs(gain) % 100:02d}")  # fmt: skip
    pct = await page.get_by_test_id("personal-return-pct").inner_text()
    assert abs(float(pct.rstrip("%")) - gain / PAID_IN * 100) < 0.006, pct
    await page.screenshot(path=str(artifacts / "advisory-personal-room-desktop.png"),
                          full_page=True)  # fmt: skip

    # The advice page's link opens the account's advice, where the performance of its target
    # mix is shown for the period chosen (a year first), figures as the API gives them.
    await repository.update_account(account_id, {"targets": {"KO": 5000, "PEP": 5000}})
    await link.click()
    await expect(page.get_by_test_id("portfolio")).to_have_attribute("data-account", account_id)
    shown = page.get_by_test_id("performance-period")
    await expect(shown).to_have_attribute("data-period", "1Y", timeout=30_000)
    for period in ("3M", "start", "1M"):
        await page.get_by_test_id(f"period-{period}").click()
        await expect(shown).to_have_attribute("data-period", period, timeout=30_000)
        want = await http.call("GET", f"/api/v1/portfolios/{account_id}/performance"
                               f"?benchmark=SP500&period={period}", token=asha.token)  # fmt: skip
        assert want.status == 200, want.body
        await expect(shown).to_have_attribute("data-start", want.body["start"])
        await expect(page.get_by_test_id("perf-twr")).to_have_text(f"{want.body['twr_pct']}%")
        await expect(page.get_by_test_id("perf-sortino")).to_have_text(
            want.body["portfolio"]["sortino"])  # fmt: skip
        await expect(page.get_by_test_id("perf-beta")).to_have_text(want.body["beta"])
    await expect(page.get_by_test_id("period-1M")).to_have_attribute("aria-pressed", "true")
    await page.get_by_test_id("performance-panel").screenshot(
        path=str(artifacts / "advisory-performance-1m-desktop.png"))  # fmt: skip

    # On a phone: the same card, nothing of a club's, no sideways scrolling.
    phone = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(phone, asha.account)
    await phone.goto(f"/clubs/{account_id}")
    await expect(phone.get_by_test_id("personal-card")).to_be_visible()
    await expect(phone.get_by_test_id(f"personal-holding-{SYMBOL}")).to_be_visible()
    await no_club_panels(phone)
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width}px)"
    await phone.screenshot(path=str(artifacts / "advisory-personal-room-phone.png"),
                           full_page=True)  # fmt: skip
    # The period choice fits a phone too.
    await phone.goto(f"/advice/{account_id}")
    await phone.get_by_test_id("period-6M").click()
    await expect(phone.get_by_test_id("performance-period")).to_have_attribute(
        "data-period", "6M", timeout=30_000)  # fmt: skip
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the advice page scrolls sideways ({width}px)"
    await phone.get_by_test_id("performance-panel").screenshot(
        path=str(artifacts / "advisory-performance-6m-phone.png"))  # fmt: skip


async def test_a_club_room_keeps_its_club_panels(http: Api, new_context: NewContext) -> None:
    """The control: a real club's room still has its chat, votes, members and invites."""
    olu = await person(http, new_context, "olu")
    reply = await http.call("POST", "/api/v1/clubs", token=olu.token,
                            json={"name": "Olu's circle", "currency": "USD"})  # fmt: skip
    assert reply.status == 201, reply.body
    await olu.page.goto(f"/clubs/{reply.body['id']}")
    await expect(olu.page.get_by_test_id("chat-panel")).to_be_visible()
    for test_id in ("proposals-panel", "members-panel", "invite-create"):
        await expect(olu.page.get_by_test_id(test_id)).to_be_visible()
    await expect(olu.page.get_by_test_id("personal-card")).to_have_count(0)
